/**
 * `runwise status` on 200 stages over 20,000 unchanged dependency files, as a cold process (the
 * built CLI, dist/cli.js, spawned each time) with the hash cache warm: every stage is answered from
 * runwise.lock and one stat per file. Anchors in the same run: a bare `node` start, and
 * `find -printf` stating the same files (the least work any status check must do).
 * Also measured: the first status with no hash cache (every file read and hashed), the CPU time of
 * each (GNU time), and the phases in process (statusPhases.ts).
 * `--keep DIR`: the workspace is made in DIR and left there, e.g. for
 * `node --cpu-prof dist/cli.js status -w DIR`.
 * `--against OLD/cli.js`: another build of the CLI (e.g. the previous commit's dist/ copied aside)
 * run in the same rounds, alternating with this one, on a copy of the workspace (each build keeps
 * its own load record: the record is keyed on the code that made it).
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
const againstAt = process.argv.indexOf('--against');
const against = againstAt >= 0 && process.argv[againstAt + 1] ? path.resolve(process.argv[againstAt + 1]!) : undefined;
if (against && !existsSync(against)) {
  console.error(`--against: ${against} does not exist`);
  process.exit(1);
}
if (!existsSync(cli)) {
  console.error('dist/cli.js is missing: run `npm run build` first');
  process.exit(1);
}

// `--keep DIR`: generate the workspace in DIR and leave it there (for profiling `runwise status -w DIR`).
const keepAt = process.argv.indexOf('--keep');
const ws = keepAt >= 0 && process.argv[keepAt + 1] ? path.resolve(process.argv[keepAt + 1]!) : mkdtempSync(path.join(tmpdir(), 'runwise-bench-status-'));
if (keepAt >= 0) {
  rmSync(ws, { recursive: true, force: true });
  mkdirSync(ws, { recursive: true });
} else process.on('exit', () => rmSync(ws, { recursive: true, force: true }));

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
// Old mtimes: nothing is "just written", so the caches keep every file and folder.
spawnSync('find', [ws, '-exec', 'touch', '-d', old.toISOString(), '{}', '+']);
utimesSync(ws, old, old);

// Every stage has run: its lock entry is written (hashing everything once).
const setupMs = timeMs(() => {
  const g = loadPipeline(ws);
  const hashes = new HashCache(ws);
  for (const s of g.stages) writeLockEntry(g, s, stageLockEntry(g, s, hashes));
  hashes.save();
});

/** GNU time, for the CPU time (user + system) of a spawned process: wall time alone says little on a shared machine. */
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function spawnMs(cmd: string, args: string[]): { ms: number; cpuMs: number | undefined; stdout: string; stderr: string; status: number | null } {
  const t0 = process.hrtime.bigint();
  const r = gnuTime
    ? spawnSync(gnuTime, ['-f', 'cpu %U %S', cmd, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 })
    : spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const m = gnuTime ? /cpu (\d+\.\d+) (\d+\.\d+)\s*$/.exec(r.stderr) : null;
  const stderr = m ? r.stderr.slice(0, m.index) : r.stderr;
  return { ms, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : undefined, stdout: r.stdout, stderr, status: r.status };
}

const cpuText = (xs: (number | undefined)[]) => (xs.every((x) => x !== undefined) ? `, CPU ${fmt(median(xs as number[]), 0)} ms` : '');

// First status without a hash cache: every dependency and output read.
rmSync(hashCachePath(ws), { force: true });
const first = spawnMs(process.execPath, [cli, 'status', '-w', ws]);
if (first.status !== 0 || !/0 of 200 stages would run/.test(first.stderr)) {
  console.error(`unexpected status output:\n${first.stdout.slice(0, 2000)}\n${first.stderr}`);
  process.exit(1);
}

// The other build's workspace: the same files, its own caches.
const againstWs = `${ws}-against`;
if (against) {
  rmSync(againstWs, { recursive: true, force: true });
  spawnSync('cp', ['-a', ws, againstWs]);
  process.on('exit', () => rmSync(againstWs, { recursive: true, force: true }));
  spawnMs(process.execPath, [against, 'status', '-w', againstWs]);
}

type Sample = ReturnType<typeof spawnMs>;
const status: Sample[] = [];
const statusAgainst: Sample[] = [];
const bare: Sample[] = [];
const requireOnly: Sample[] = [];
/** The status command's bundle (it requires the loader's and the others it needs); the single bundle of an older build. */
const statusBundle = existsSync(path.join(path.dirname(cli), 'cli-status.js')) ? path.join(path.dirname(cli), 'cli-status.js') : cli;
const find: Sample[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const s = spawnMs(process.execPath, [cli, 'status', '-w', ws]);
  if (!/0 of 200 stages would run/.test(s.stderr)) throw new Error(`status changed its answer: ${s.stderr}`);
  status.push(s);
  if (against) {
    const o = spawnMs(process.execPath, [against, 'status', '-w', againstWs]);
    if (!/0 of 200 stages would run/.test(o.stderr)) throw new Error(`${against} status: ${o.stderr}`);
    statusAgainst.push(o);
  }
  bare.push(spawnMs(process.execPath, ['-e', '']));
  requireOnly.push(spawnMs(process.execPath, ['-e', `require(${JSON.stringify(cli)}); require(${JSON.stringify(statusBundle)})`]));
  find.push(spawnMs('find', [path.join(ws, 'data'), path.join(ws, 'out'), '-type', 'f', '-printf', '%s %T@ %i\n']));
}

// Phase by phase, each round in a fresh process (statusPhases.ts; its first run records the load for its own code).
const phasesScript = path.join(__dirname, 'statusPhases.ts');
const runPhases = () => {
  const r = spawnSync(process.execPath, ['--no-warnings', '--import', 'tsx', phasesScript, ws], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`statusPhases.ts failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<'load' | 'cache' | 'plan', { wall: number; cpu: number }> & { running: number; listedDirs: number; hashedFiles: number };
};
runPhases();
const phases = Array.from({ length: ROUNDS }, runPhases);

const files = STAGES * (DIR_FILES + SINGLE_FILES);
console.log(`workspace: ${STAGES} stages, ${files.toLocaleString('en-US')} dependency files (+${STAGES} outputs); setup (hash all + write lock) ${fmt(setupMs, 0)} ms`);
console.log(`runwise status, no hash cache (reads every file): ${fmt(first.ms, 0)} ms`);
const wall = (xs: Sample[]) => `${fmt(median(xs.map((x) => x.ms)), 0)} ms${cpuText(xs.map((x) => x.cpuMs))}`;
console.log(`runwise status, warm hash cache, median of ${ROUNDS}: ${wall(status)} (goal < 300 ms)`);
if (against) console.log(`  ${against} in the same rounds: ${wall(statusAgainst)}`);
console.log(`  anchors: node -e '' ${wall(bare)}; node requiring dist/cli.js and dist/cli-status.js and nothing else ${wall(requireOnly)}; find -printf over the same files ${wall(find)}`);
const phase = (k: 'load' | 'cache' | 'plan') => `${fmt(median(phases.map((p) => p[k].wall)), 0)} ms (CPU ${fmt(median(phases.map((p) => p[k].cpu)), 0)} ms)`;
console.log(`  in process, median of ${ROUNDS}: load the pipelines ${phase('load')}, load the hash cache ${phase('cache')}, plan (stats) ${phase('plan')}`);
console.log(`  folders listed ${phases.map((p) => p.listedDirs).join('/')}, files read ${phases.map((p) => p.hashedFiles).join('/')} (0 when answered from the caches)`);
