/**
 * Hashing a 1 GB file (in the page cache) as `runwise status` hashes a changed dependency: md5 in
 * process (core/pipeline/fileHash.ts), beside `md5sum` and `sha256sum` on the same file in the same
 * run, interleaved, median of 3 rounds each. Goal: within 1.2× of md5sum (md5 is the hash DVC's
 * lock files use, so the fastest tool for it is the anchor).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { hashFileSync } from '../../core/pipeline/fileHash';
import { fmt, median, timeMs } from '../stats';

const SIZE = 1 << 30;
const ROUNDS = 3;
const dir = mkdtempSync(path.join(tmpdir(), 'runwise-bench-hash-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'big.bin');

const fd = openSync(file, 'w');
const block = Buffer.allocUnsafe(16 << 20);
for (let written = 0; written < SIZE; written += block.length) writeSync(fd, randomFillSync(block));
closeSync(fd);

function tool(cmd: string): { ms: number; hex: string } | undefined {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, [file], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, hex: r.stdout.split(' ')[0]! };
}

// Warm the page cache (and check the tools run at all).
spawnSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'] });
const ours: number[] = [];
const md5sum: number[] = [];
const sha256sum: number[] = [];
let hex = '';
for (let r = 0; r < ROUNDS; r++) {
  ours.push(timeMs(() => (hex = hashFileSync(file))));
  const m = tool('md5sum');
  if (m) {
    md5sum.push(m.ms);
    if (m.hex !== hex) throw new Error(`md5 differs from md5sum: ${hex} vs ${m.hex}`);
  }
  const s = tool('sha256sum');
  if (s) sha256sum.push(s.ms);
}
const mbps = (ms: number) => fmt(SIZE / (1 << 20) / (ms / 1000), 0);
const o = median(ours);
console.log(`1 GiB file, median of ${ROUNDS}:`);
console.log(`  runwise md5 (in process): ${fmt(o, 0)} ms (${mbps(o)} MiB/s)`);
if (md5sum.length) console.log(`  md5sum: ${fmt(median(md5sum), 0)} ms (${mbps(median(md5sum))} MiB/s); runwise / md5sum = ${fmt(o / median(md5sum), 2)}× (goal ≤ 1.2×)`);
else console.log('  md5sum: not installed');
if (sha256sum.length) console.log(`  sha256sum: ${fmt(median(sha256sum), 0)} ms (${mbps(median(sha256sum))} MiB/s)`);
