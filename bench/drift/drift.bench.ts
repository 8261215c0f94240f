/**
 * The drift report on two large CSVs (default 1,000,000 rows each × 20 numerical + 5 categorical
 * columns, about 550 MB together), beside scipy. Goals (issue 11): the whole `runwise drift --json`
 * report under 6 s and under 2 GB; CSV reading ≥ 200 MB/s; KS + Wasserstein ≥ 10× scipy's.
 *
 * - Whole report: the built CLI (`bin/runwise.js drift REF CUR --json`, run `npm run build` first)
 *   in its own process under /usr/bin/time, wall time and peak RSS (what a user sees, Node's start
 *   included).
 * - CSV reading alone: both files through core/dataset's reader, with the request the engine makes
 *   (numeric columns as numbers, categorical as coded text), no hashing; MB/s over both files, one
 *   after the other in this thread, and both at once in two worker threads (bench/drift/readWorker.ts,
 *   one file each, as the engine reads the two sides: both cores working).
 * - Statistics: for each of the 20 numeric columns, statistics.ts's sortFloat64 (the distribution
 *   sort) on both sides, one sortedPass (KS D and Wasserstein) and ksPValue, from in-memory
 *   Float64Arrays (sorting included); also with radixSortFloat64 (the sort before, now the
 *   distribution sort's fallback) and with `TypedArray.prototype.sort`, for comparison. The anchor:
 *   /usr/bin/python3 (Debian's python3-scipy) loads the same columns with np.loadtxt (not timed) and
 *   times `ks_2samp` + `wasserstein_distance` on them (bench/drift/scipyAnchor.py); the values are
 *   checked to agree with ours. Ours also with the two cores as the engine uses them (one side
 *   sorted in a worker thread, bench/drift/sortWorker.ts), and both sides' times in CPU time
 *   (scipy's thread, our process), which a loaded machine disturbs less than wall time.
 *
 * Flags: `--rows N`, `--rounds N` (default 3; medians), `--keep DIR` (write the CSVs there and leave
 * them; with `--reuse` too, use the CSVs already there), `--cpu-prof DIR` (the CLI run writes a V8 CPU profile into DIR).
 */
import { spawn, spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { buildSync } from 'esbuild';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { openDataset, type ColumnRequest } from '../../core/dataset/dataset';
import { seededRandom as seeded } from '../../core/drift/driftEngine';
import type { DriftReport } from '../../core/drift/driftReport';
import { ksPValue, radixSortFloat64, sortedPass, sortFloat64 } from '../../core/drift/statistics';
import { fmt, median } from '../stats';

function flagValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
function positiveInt(name: string, fallback: number): number {
  const text = flagValue(name);
  if (text === undefined) return fallback;
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} takes a whole number ≥ 1 (got '${text}')`);
    process.exit(2);
  }
  return n;
}

const ROWS = positiveInt('--rows', 1_000_000);
const ROUNDS = positiveInt('--rounds', 3);
const keep = flagValue('--keep');
const cpuProf = flagValue('--cpu-prof');
const ROOT = path.join(__dirname, '../..');
const NUMERIC = 20;
const CATEGORICAL = 5;
const dir = keep ? path.resolve(keep) : mkdtempSync(path.join(tmpdir(), 'runwise-bench-drift-'));
if (keep) mkdirSync(dir, { recursive: true });
else process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const refFile = path.join(dir, 'reference.csv');
const curFile = path.join(dir, 'current.csv');

// ---------------------------------------------------------------------------------------------
// Data: seeded, written in chunks of rows straight as bytes.


/** Which columns the current side shifts: num_0–num_2 by +0.25 std, num_3–num_5 scaled 1.2×, cat_0 uniform instead of Zipf-like. */
const SHIFTED = ['num_0', 'num_1', 'num_2', 'num_3', 'num_4', 'num_5', 'cat_0'];

function generate(file: string, seed: number, shifted: boolean): void {
  const random = seeded(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const header = [...Array.from({ length: NUMERIC }, (_, c) => `num_${c}`), ...Array.from({ length: CATEGORICAL }, (_, c) => `cat_${c}`)].join(',') + '\n';
  const labels = Array.from({ length: CATEGORICAL }, (_, k) => Array.from({ length: 4 + 5 * k }, (_, j) => Buffer.from(`${String.fromCharCode(97 + k)}${j}`)));
  // Zipf-like weights as cumulative shares; cat_0 on the shifted side flattens them.
  const cumulative = labels.map((ls, k) => {
    const w = ls.map((_, j) => (shifted && k === 0 ? 1 : 1 / (j + 1)));
    const total = w.reduce((s, x) => s + x, 0);
    let run = 0;
    return w.map((x) => (run += x / total));
  });
  const fd = openSync(file, 'w');
  writeSync(fd, header);
  const CHUNK_ROWS = 20_000;
  const buf = Buffer.allocUnsafe(CHUNK_ROWS * 400);
  let at = 0;
  const digits = (n: number) => {
    // n: a non-negative integer below 2^53.
    const start = at;
    do {
      buf[at++] = 48 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
    buf.subarray(start, at).reverse();
  };
  const number = (v: number) => {
    // Nine decimals, as `-12.345678901`.
    const scaled = Math.round(Math.abs(v) * 1e9);
    if (v < 0 && scaled !== 0) buf[at++] = 45;
    const whole = Math.floor(scaled / 1e9);
    let frac = scaled - whole * 1e9;
    digits(whole);
    buf[at++] = 46;
    for (let p = 1e8; p >= 1; p = p / 10) {
      const d = Math.floor(frac / p);
      buf[at++] = 48 + d;
      frac -= d * p;
    }
  };
  for (let row = 0; row < ROWS; row++) {
    for (let c = 0; c < NUMERIC; c++) {
      let v: number;
      switch (c % 4) {
        case 0:
          v = c + (1 + c / 10) * gaussian();
          break;
        case 1:
          v = 100 * random();
          break;
        case 2:
          v = -5 * Math.log(1 - random());
          break;
        default:
          v = Math.exp(1 + 0.5 * gaussian());
      }
      if (shifted && c < 3) v += 0.25 * (c % 4 === 0 ? 1 + c / 10 : c % 4 === 1 ? 28.9 : 5);
      else if (shifted && c < 6) v *= 1.2;
      number(v);
      buf[at++] = 44;
    }
    for (let k = 0; k < CATEGORICAL; k++) {
      const u = random();
      const cum = cumulative[k]!;
      let j = 0;
      while (j < cum.length - 1 && cum[j]! < u) j++;
      const label = labels[k]![j]!;
      label.copy(buf, at);
      at += label.length;
      buf[at++] = k === CATEGORICAL - 1 ? 10 : 44;
    }
    if ((row + 1) % CHUNK_ROWS === 0 || row === ROWS - 1) {
      writeSync(fd, buf, 0, at);
      at = 0;
    }
  }
  closeSync(fd);
}

// ---------------------------------------------------------------------------------------------
// Measurements

interface ReportRun {
  ms: number;
  maxRssMb: number;
  /** User + system CPU seconds of the CLI process (all its threads). */
  cpuS: number;
  report: DriftReport;
}

/** `runwise drift REF CUR --json` from the built CLI in its own process: wall time and peak RSS. */
function reportRun(profile?: string): ReportRun {
  const node = [...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : []), path.join(ROOT, 'bin/runwise.js'), 'drift', refFile, curFile, '--json'];
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'maxrss_kb=%M cpu_s=%U+%S', process.execPath, ...node], { cwd: dir, maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`runwise drift exited ${r.status}: ${r.stderr.toString()}`);
  const rss = /maxrss_kb=(\d+)/.exec(r.stderr.toString());
  if (!rss) throw new Error(`no peak RSS from /usr/bin/time: ${r.stderr.toString()}`);
  const cpu = /cpu_s=([\d.]+)\+([\d.]+)/.exec(r.stderr.toString());
  return { ms, maxRssMb: Number(rss[1]) / 1024, cpuS: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN, report: JSON.parse(r.stdout.toString()) as DriftReport };
}

const numericNames = Array.from({ length: NUMERIC }, (_, c) => `num_${c}`);
const engineRequest: ColumnRequest[] = [...numericNames.map((name) => ({ name, missing: true })), ...Array.from({ length: CATEGORICAL }, (_, k) => ({ name: `cat_${k}`, text: true, coded: true }))];
const BATCH = 65536; // the engine's batch size

/** Both files through the reader as the engine asks for them; the numeric columns kept when `keepColumns`. */
async function readBoth(keepColumns: boolean): Promise<{ ms: number; columns: Float64Array[][] }> {
  const t0 = performance.now();
  const columns: Float64Array[][] = [];
  for (const file of [refFile, curFile]) {
    const reader = await openDataset(file);
    const kept = keepColumns ? numericNames.map(() => new Float64Array(ROWS)) : [];
    let rows = 0;
    for await (const batch of reader.batches(engineRequest, BATCH)) {
      if (keepColumns) batch.numbers.forEach((a, k) => kept[k]!.set(a.subarray(0, batch.rows), rows));
      rows += batch.rows;
    }
    if (rows !== ROWS) throw new Error(`${file}: read ${rows} rows, expected ${ROWS}`);
    columns.push(kept);
  }
  return { ms: performance.now() - t0, columns };
}

const workerCode = new Map<string, string>();
/** `file` bundled from its TypeScript source with esbuild, once (outside any timing). */
function bundled(file: string): string {
  let code = workerCode.get(file);
  if (code === undefined) {
    code = buildSync({ entryPoints: [path.join(__dirname, file)], bundle: true, platform: 'node', target: 'node20', format: 'cjs', write: false, logLevel: 'silent' }).outputFiles[0]!.text;
    workerCode.set(file, code);
  }
  return code;
}

/** A worker thread running `file`. */
function bundledWorker(file: string, workerData?: unknown): Worker {
  return new Worker(bundled(file), { eval: true, workerData });
}

/** Both files at once, one worker thread each (the reader's code bundled from bench/drift/readWorker.ts): wall time. */
async function readBothThreads(): Promise<number> {
  bundled('readWorker.ts');
  const t0 = performance.now();
  const read = (file: string) =>
    new Promise<void>((resolve, reject) => {
      const worker = bundledWorker('readWorker.ts', { file, request: engineRequest, batch: BATCH });
      worker.once('message', (m: { rows: number }) => (m.rows === ROWS ? resolve() : reject(new Error(`${file}: read ${m.rows} rows, expected ${ROWS}`))));
      worker.once('error', reject);
    });
  await Promise.all([read(refFile), read(curFile)]);
  return performance.now() - t0;
}

interface OurStats {
  ms: number;
  /** CPU time of this process (user + system) over the same span: every thread's, so an upper bound. */
  cpuMs: number;
  sortMs: number;
  results: { ks: number; p: number; wasserstein: number }[];
}

/** KS (D and p) and Wasserstein on every numeric column, sorting included, with the given sort. */
function ourStatistics(ref: Float64Array[], cur: Float64Array[], sort: (x: Float64Array) => Float64Array): OurStats {
  let sortMs = 0;
  const results: OurStats['results'] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let c = 0; c < ref.length; c++) {
    const s0 = performance.now();
    const a = sort(ref[c]!);
    const b = sort(cur[c]!);
    sortMs += performance.now() - s0;
    const pass = sortedPass(a, b);
    results.push({ ks: pass.ks, p: ksPValue(pass.ks, a.length, b.length).p, wasserstein: pass.wasserstein });
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, sortMs, results };
}

/**
 * The same statistics as the engine spreads them over the two cores: this thread sorts the
 * reference's columns while a worker thread (bench/drift/sortWorker.ts) sorts the current's, and
 * each column's merge pass runs here as soon as both of its sides are sorted. The current's columns
 * are copied into the worker before the clock starts. Wall time.
 */
async function ourStatisticsTwoThreads(ref: Float64Array[], cur: Float64Array[]): Promise<{ ms: number; results: OurStats['results'] }> {
  const worker = bundledWorker('sortWorker.ts');
  const sortedCur: Float64Array[] = [];
  let arrived: () => void = () => undefined;
  worker.on('message', (m: { ready?: true; column?: number; sorted?: Float64Array }) => {
    if (m.column !== undefined) sortedCur[m.column] = m.sorted!;
    arrived();
  });
  const next = () => new Promise<void>((resolve) => (arrived = resolve));
  const ready = next();
  worker.postMessage({ columns: cur });
  await ready;
  const results: OurStats['results'] = [];
  const sortedRef: Float64Array[] = [];
  const passDone = (c: number) => {
    const a = sortedRef[c]!;
    const b = sortedCur[c]!;
    const pass = sortedPass(a, b);
    results[c] = { ks: pass.ks, p: ksPValue(pass.ks, a.length, b.length).p, wasserstein: pass.wasserstein };
  };
  const t0 = performance.now();
  worker.postMessage({ go: true });
  let merged = 0;
  for (let c = 0; c < ref.length; c++) {
    sortedRef[c] = sortFloat64(ref[c]!);
    // Let the worker's messages in, then merge every column whose two sides are sorted.
    await new Promise((resolve) => setImmediate(resolve));
    while (merged <= c && sortedCur[merged]) passDone(merged++);
  }
  while (merged < ref.length) {
    if (!sortedCur[merged]) await next();
    while (merged < ref.length && sortedCur[merged]) passDone(merged++);
  }
  const ms = performance.now() - t0;
  await worker.terminate();
  return { ms, results };
}

interface ScipyRound {
  ks_ms: number;
  wasserstein_ms: number;
  /** The anchor thread's CPU time for both. */
  cpu_ms: number;
  columns: { ks: number; p: number; wasserstein: number }[];
}

interface ScipyAnchor {
  versions: { scipy: string; numpy: string; load_ms: number };
  /** One round of scipy's statistics over every column, run while this process waits. */
  round(): Promise<ScipyRound>;
  close(): void;
}

/** scipyAnchor.py started and its columns loaded, or why it cannot run. */
async function startScipy(): Promise<ScipyAnchor | string> {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return `${python} is missing`;
  const probe = spawnSync(python, ['-c', 'import scipy.stats, numpy']);
  if (probe.status !== 0) return `scipy/numpy do not import (apt-get install python3-scipy): ${probe.stderr.toString().trim().split('\n').pop()}`;
  const indexes = numericNames.map((_, c) => c).join(',');
  const child = spawn(python, [path.join(__dirname, 'scipyAnchor.py'), refFile, curFile, indexes], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async <T>(): Promise<T> => {
    const line = await lines.next();
    if (line.done) throw new Error(`scipyAnchor.py ended early (exit ${child.exitCode})`);
    return JSON.parse(line.value) as T;
  };
  const versions = await next<ScipyAnchor['versions']>();
  return {
    versions,
    round: () => {
      child.stdin.write('round\n');
      return next<ScipyRound>();
    },
    close: () => child.stdin.end(),
  };
}

function relativeGap(x: number, y: number): number {
  return x === y ? 0 : Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y));
}

async function mainBench(): Promise<void> {
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  const t0 = performance.now();
  if (!(keep && existsSync(refFile) && existsSync(curFile) && process.argv.includes('--reuse'))) {
    generate(refFile, 1, false);
    generate(curFile, 2, true);
  }
  const genMs = performance.now() - t0;
  const megabytes = (statSync(refFile).size + statSync(curFile).size) / 1e6;
  console.log(`${ROWS.toLocaleString('en-US')} vs ${ROWS.toLocaleString('en-US')} rows × ${NUMERIC} numerical + ${CATEGORICAL} categorical columns: ${fmt(megabytes)} MB of CSV in ${dir} (written in ${fmt(genMs / 1000, 1)} s); load average at start ${load}; medians of ${ROUNDS}`);

  if (!existsSync(path.join(ROOT, 'dist/cli.js'))) throw new Error('dist/cli.js is missing: run `npm run build` first');
  const runs: ReportRun[] = [];
  for (let r = 0; r < ROUNDS; r++) runs.push(reportRun());
  const report = runs[0]!.report;
  const drifted = report.columns.filter((c) => c.drifted).map((c) => c.name);
  const expected = [...SHIFTED].sort().join(',');
  if ([...drifted].sort().join(',') !== expected) console.log(`!! drifted columns ${drifted.join(', ')}; the shifted ones are ${SHIFTED.join(', ')}`);
  const reportMs = median(runs.map((r) => r.ms));
  const rss = Math.max(...runs.map((r) => r.maxRssMb));
  console.log(`whole report, \`runwise drift --json\` in its own process: ${fmt(reportMs / 1000, 2)} s (runs ${runs.map((r) => fmt(r.ms / 1000, 2)).join(' / ')}), peak RSS ${fmt(rss, 0)} MB, CPU ${runs.map((r) => fmt(r.cpuS, 1)).join(' / ')} s (all threads) — goal < 6 s and < 2,048 MB; ${report.n_drifted}/${report.n_columns} columns drifted (${drifted.join(', ')}); load average now ${loadavg()[0]!.toFixed(2)}`);
  if (cpuProf) {
    mkdirSync(path.resolve(cpuProf), { recursive: true });
    reportRun(path.resolve(cpuProf));
    console.log(`CPU profile of one more run written into ${path.resolve(cpuProf)}`);
  }

  const reads: number[] = [];
  for (let r = 0; r < ROUNDS; r++) reads.push((await readBoth(false)).ms);
  const readMs = median(reads);
  console.log(`CSV reading alone (both files, the engine's request, no hashing), one after the other in one thread: ${fmt(readMs, 0)} ms = ${fmt(megabytes / (readMs / 1000), 0)} MB/s`);
  const threadReads: number[] = [];
  for (let r = 0; r < ROUNDS; r++) threadReads.push(await readBothThreads());
  const threadMs = median(threadReads);
  console.log(`  both at once, one worker thread per file (as the engine reads): ${fmt(threadMs, 0)} ms = ${fmt(megabytes / (threadMs / 1000), 0)} MB/s (rounds ${threadReads.map((t) => fmt(megabytes / (t / 1000), 0)).join(' / ')}) — goal ≥ 200 MB/s`);

  const { columns } = await readBoth(true);
  const [ref, cur] = columns as [Float64Array[], Float64Array[]];
  const anchor = await startScipy();
  const distribution: OurStats[] = [];
  const radix: OurStats[] = [];
  const twoThreads: { ms: number; results: OurStats['results'] }[] = [];
  const builtin: OurStats[] = [];
  const scipy: ScipyRound[] = [];
  // Interleaved rounds: the machine's load changes alike for both sides.
  for (let r = 0; r < ROUNDS; r++) {
    distribution.push(ourStatistics(ref, cur, sortFloat64));
    twoThreads.push(await ourStatisticsTwoThreads(ref, cur));
    radix.push(ourStatistics(ref, cur, radixSortFloat64));
    builtin.push(ourStatistics(ref, cur, (x) => Float64Array.from(x).sort()));
    if (typeof anchor !== 'string') scipy.push(await anchor.round());
  }
  const ours = median(distribution.map((s) => s.ms));
  console.log(`our KS (D, p) + Wasserstein on ${NUMERIC} columns, sortFloat64: ${fmt(ours, 0)} ms (sorting ${fmt(median(distribution.map((s) => s.sortMs)), 0)} ms; rounds ${distribution.map((s) => fmt(s.ms, 0)).join(' / ')}; CPU ${fmt(median(distribution.map((s) => s.cpuMs)), 0)} ms)`);
  console.log(`  the same with radixSortFloat64: ${fmt(median(radix.map((s) => s.ms)), 0)} ms (sorting ${fmt(median(radix.map((s) => s.sortMs)), 0)} ms; CPU ${fmt(median(radix.map((s) => s.cpuMs)), 0)} ms)`);
  console.log(`  the same with Float64Array.prototype.sort: ${fmt(median(builtin.map((s) => s.ms)), 0)} ms (sorting ${fmt(median(builtin.map((s) => s.sortMs)), 0)} ms)`);
  if (typeof anchor === 'string') {
    console.log('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
    console.log(`!! THE SCIPY ANCHOR IS SKIPPED: ${anchor}`);
    console.log('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
    return;
  }
  anchor.close();
  const totals = scipy.map((s) => s.ks_ms + s.wasserstein_ms);
  const theirs = median(totals);
  const v = anchor.versions;
  console.log(
    `scipy ${v.scipy} (numpy ${v.numpy}) ks_2samp + wasserstein_distance on the same columns: ${fmt(theirs, 0)} ms (ks_2samp ${fmt(median(scipy.map((s) => s.ks_ms)), 0)} ms, wasserstein_distance ${fmt(median(scipy.map((s) => s.wasserstein_ms)), 0)} ms; rounds ${totals.map((t) => fmt(t, 0)).join(' / ')}; np.loadtxt of both files, not timed: ${fmt(v.load_ms / 1000, 1)} s)`,
  );
  console.log(`statistics: ${fmt(theirs / ours, 1)}× scipy (per round: ${distribution.map((s, r) => fmt(totals[r]! / s.ms, 1)).join(' / ')}) — goal ≥ 10×`);
  const ourCpu = median(distribution.map((s) => s.cpuMs));
  const theirCpu = median(scipy.map((s) => s.cpu_ms));
  const two = median(twoThreads.map((s) => s.ms));
  const sameResults = [...twoThreads, ...radix].every((t) => JSON.stringify(t.results) === JSON.stringify(distribution[0]!.results));
  console.log(`  with the two cores as the engine uses them (reference sorted here, current in a worker thread, merge passes here): ${fmt(two, 0)} ms, ${fmt(theirs / two, 1)}× scipy (per round: ${twoThreads.map((s, r) => fmt(totals[r]! / s.ms, 1)).join(' / ')})${sameResults ? '' : ' !! RESULTS DIFFER between the sorts or threads'}`);
  console.log(`  in CPU time (steadier under load): ours ${fmt(ourCpu, 0)} ms, scipy ${fmt(theirCpu, 0)} ms: ${fmt(theirCpu / ourCpu, 1)}× (per round: ${distribution.map((s, r) => fmt(scipy[r]!.cpu_ms / s.cpuMs, 1)).join(' / ')})`);
  const results = distribution[0]!.results;
  let dGap = 0;
  let pGap = 0;
  let wGap = 0;
  scipy[0]!.columns.forEach((s, c) => {
    dGap = Math.max(dGap, Math.abs(s.ks - results[c]!.ks));
    pGap = Math.max(pGap, Math.abs(s.p - results[c]!.p));
    wGap = Math.max(wGap, relativeGap(s.wasserstein, results[c]!.wasserstein));
  });
  const agree = dGap === 0 && pGap <= 1e-9 && wGap <= 1e-9;
  console.log(`${agree ? 'values agree' : '!! VALUES DIFFER'} with scipy: largest |ΔD| ${dGap.toExponential(1)}, |Δp| ${pGap.toExponential(1)}, relative ΔWasserstein ${wGap.toExponential(1)}`);
}

mainBench().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
