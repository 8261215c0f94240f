/**
 * `runwise status` on 200 stages over 20,000 unchanged dependency files, as a cold process (the
 * built CLI, dist/cli.js, spawned each time) with the hash cache warm: every stage is answered from
 * runwise.lock and one stat per file. Anchors in the same run: a bare `node` start, and
 * `find -printf` stating the same files (the least work any status check must do).
 * Also measured: the first status with no hash cache (every file read and hashed).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { HashCache, hashCachePath } from '../../core/pipeline/hashCache';
import { stageLockEntry, writeLockEntry } from '../../core/pipeline/lockFile';
import { loadPipeline } from '../../core/pipeline/loadPipeline';
import { fmt, median, timeMs } from '../stats';

const STAGES = 200;
const DIR_FILES = 95;
const SINGLE_FILES = 5;
const ROUNDS = 7;

const cli = path.join(__dirname, '../../dist/cli.js');
if (!existsSync(cli)) {
  console.error('dist/cli.js is missing: run `npm run build` first');
  process.exit(1);
}

const ws = mkdtempSync(path.join(tmpdir(), 'runwise-bench-status-'));
process.on('exit', () => rmSync(ws, { recursive: true, force: true }));

// The workspace: stage i reads a directory of 95 files, 5 single files, and (in chains of 10) the
// previous stage's output.
const old = new Date(Date.now() - 3_600_000);
const stageLines: string[] = ['stages:'];
for (let i = 0; i < STAGES; i++) {
  const dir = path.join(ws, 'data', `s${i}`);
  mkdirSync(dir, { recursive: true });
  for (let f = 0; f < DIR_FILES; f++) writeFileSync(path.join(dir, `part-${f}.csv`), `stage ${i} file ${f}\n`.repeat(20));
  const singles = Array.from({ length: SINGLE_FILES }, (_, f) => `data/single-${i}-${f}.txt`);
  for (const s of singles) writeFileSync(path.join(ws, s), `${s}\n`);
  mkdirSync(path.join(ws, 'out'), { recursive: true });
  writeFileSync(path.join(ws, 'out', `s${i}.txt`), `output ${i}\n`);
  const deps = [`data/s${i}`, ...singles, ...(i % 10 ? [`out/s${i - 1}.txt`] : [])];
  stageLines.push(`  s${i}:`, `    cmd: python step.py ${i}`, '    deps:', ...deps.map((d) => `      - ${d}`), '    outs:', `      - out/s${i}.txt`);
}
writeFileSync(path.join(ws, 'dvc.yaml'), `${stageLines.join('\n')}\n`);
// Old mtimes: nothing is "just written", so the cache keeps every file.
spawnSync('find', [ws, '-type', 'f', '-exec', 'touch', '-d', old.toISOString(), '{}', '+']);
utimesSync(ws, old, old);

// Every stage has run: its lock entry is written (hashing everything once).
const setupMs = timeMs(() => {
  const g = loadPipeline(ws);
  const hashes = new HashCache(ws);
  for (const s of g.stages) writeLockEntry(g, s, stageLockEntry(g, s, hashes));
  hashes.save();
});

function spawnMs(cmd: string, args: string[]): { ms: number; stdout: string; stderr: string; status: number | null } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, stdout: r.stdout, stderr: r.stderr, status: r.status };
}

// First status without a hash cache: every dependency and output read.
rmSync(hashCachePath(ws), { force: true });
const first = spawnMs(process.execPath, [cli, 'status', '-w', ws]);
if (first.status !== 0 || !/0 of 200 stages would run/.test(first.stderr)) {
  console.error(`unexpected status output:\n${first.stdout.slice(0, 2000)}\n${first.stderr}`);
  process.exit(1);
}

const statusMs: number[] = [];
const nodeMs: number[] = [];
const findMs: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const s = spawnMs(process.execPath, [cli, 'status', '-w', ws]);
  if (!/0 of 200 stages would run/.test(s.stderr)) throw new Error(`status changed its answer: ${s.stderr}`);
  statusMs.push(s.ms);
  nodeMs.push(spawnMs(process.execPath, ['-e', '']).ms);
  findMs.push(spawnMs('find', [path.join(ws, 'data'), path.join(ws, 'out'), '-type', 'f', '-printf', '%s %T@ %i\n']).ms);
}

const files = STAGES * (DIR_FILES + SINGLE_FILES);
console.log(`workspace: ${STAGES} stages, ${files.toLocaleString('en-US')} dependency files (+${STAGES} outputs); setup (hash all + write lock) ${fmt(setupMs, 0)} ms`);
console.log(`runwise status, no hash cache (reads every file): ${fmt(first.ms, 0)} ms`);
console.log(`runwise status, warm hash cache, median of ${ROUNDS}: ${fmt(median(statusMs), 0)} ms (goal < 300 ms)`);
console.log(`  anchor: node -e '' ${fmt(median(nodeMs), 0)} ms; find -printf over the same files ${fmt(median(findMs), 0)} ms`);
