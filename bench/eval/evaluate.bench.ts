/**
 * Evaluating the example pipeline's model (the logistic regression its writer, examples/pipeline/
 * onnxModel.js, exports; fixed coefficients, so a fresh clone needs no pipeline run) on a
 * 1,000,000-row CSV written to a temporary folder, beside the anchor: a bare onnxruntime-node run over the same
 * rows as prebuilt float32 tensors in the same batches (8192 rows). Goal: the whole evaluation
 * (reading, hashing the file, inference, metrics) within 1.5× of the bare run. Also the CSV reader
 * alone (every column as numbers), in MB/s (goal: ≥ 100), beside a plain byte loop over the same
 * file (counting commas) as the machine's yardstick, the file's md5 and sha256 alone, the lower
 * bound they set for any evaluation on two threads, the binary metrics alone on 1M rows, and the
 * bare run plus those metrics batch by batch (all the evaluation does but read the file).
 *
 * Fair comparison: both sides start from a model file and pay the same things, measured the same
 * way, in one process where onnxruntime-node is already loaded: the bare run times
 * `InferenceSession.create` + every `run` + `release` (evaluateModel creates and releases its
 * session too). Loading onnxruntime-node (`require`) is inherent to both and measured apart, in a
 * fresh Node process. Interleaved, median of 5 rounds each.
 *
 * The evaluation reads a file this size in its worker thread (core/dataset/datasetThread.ts), kept
 * for the process as in a long-lived host (the extension, `runwise serve`): the first evaluation,
 * printed apart, starts it and compiles its parser; the rounds use it warm.
 *
 * `--core DIR` evaluates with the core/evaluation of another tree (e.g. `git archive` of an older
 * commit, its node_modules linked) for a before/after in the same session.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import type * as Ort from 'onnxruntime-node';
import type * as Dataset from '../../core/dataset/dataset';
import type * as Evaluate from '../../core/evaluation/evaluate';
import type * as Metrics from '../../core/evaluation/metrics';
import { onnxRuntime } from '../../core/evaluation/onnxModel';
import { fmt, median } from '../stats';

const coreFlag = process.argv.indexOf('--core');
const coreRoot = coreFlag >= 0 ? path.resolve(process.argv[coreFlag + 1]!) : path.join(__dirname, '../..');
const { openDataset } = require(path.join(coreRoot, 'core/dataset/dataset')) as typeof Dataset;
const { evaluateModel } = require(path.join(coreRoot, 'core/evaluation/evaluate')) as typeof Evaluate;
const { BinaryCounts, CurveArrays, binaryMetrics, FLOAT32_EPS } = require(path.join(coreRoot, 'core/evaluation/metrics')) as typeof Metrics;
const ROWS = 1_000_000;
const BATCH = 8192;
const ROUNDS = 5;
const dir = mkdtempSync(path.join(tmpdir(), 'runwise-bench-eval-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const MODEL = path.join(dir, 'model.onnx');
const { logisticRegressionOnnx } = require('../../examples/pipeline/onnxModel.js') as {
  logisticRegressionOnnx(model: { coef: number[]; intercept: number }, o: { features: string[]; target: string }): Uint8Array;
};
const FEATURES = ['tenure_months', 'monthly_spend', 'support_calls', 'usage_hours'];
writeFileSync(MODEL, logisticRegressionOnnx({ coef: [-0.05, 0.02, 0.4, -0.03], intercept: -0.5 }, { features: FEATURES, target: 'churned' }));
const file = path.join(dir, 'rows.csv');

// Rows like the example's churn data (a fixed linear congruential generator: the same file each run).
let seed = 1;
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const features = new Float32Array(ROWS * 4);
const labels = new Uint8Array(ROWS);
const lines = [`${FEATURES.join(',')},churned`];
for (let i = 0; i < ROWS; i++) {
  const row = [Math.floor(random() * 72), (20 + random() * 100).toFixed(2), Math.floor(random() * 6), (random() * 40).toFixed(1)];
  row.forEach((v, c) => (features[i * 4 + c] = Number(v)));
  labels[i] = random() < 0.3 ? 1 : 0;
  lines.push(`${row.join(',')},${labels[i]}`);
}
writeFileSync(file, `${lines.join('\n')}\n`);
const megabytes = statSync(file).size / 1e6;

async function bare(ort: typeof Ort): Promise<number> {
  const tensors: Ort.Tensor[] = [];
  for (let s = 0; s < ROWS; s += BATCH) {
    const n = Math.min(BATCH, ROWS - s);
    tensors.push(new ort.Tensor('float32', features.subarray(s * 4, (s + n) * 4), [n, 4]));
  }
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(MODEL);
  for (const t of tensors) await session.run({ features: t });
  await session.release();
  return performance.now() - t0;
}

/**
 * The evaluation's work that no file is needed for: the bare run (the same tensors, create + run +
 * release) plus what the evaluation does with each batch's probabilities for the binary metrics
 * (P(class 1) and P(class 0) copied out, the confusion and log-loss pass, the curve's sort keys) and
 * the metrics after the last batch, on one thread as the evaluation does them. What the goal would
 * leave for reading, parsing and hashing the file is 1.5× the bare run less this.
 */
async function withoutFile(ort: typeof Ort): Promise<number> {
  const positive = new Float32Array(ROWS);
  const negative = new Float32Array(ROWS);
  const cut = Math.fround(0.5);
  const counts = new BinaryCounts(cut, FLOAT32_EPS);
  const arrays = new CurveArrays(ROWS);
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(MODEL);
  let at = 0;
  for (let s = 0; s < ROWS; s += BATCH) {
    const n = Math.min(BATCH, ROWS - s);
    const result = await session.run({ features: new ort.Tensor('float32', features.subarray(s * 4, (s + n) * 4), [n, 4]) });
    const p = result[session.outputNames.find((name) => result[name]!.dims[1] === 2)!]!.data as Float32Array;
    for (let i = 0; i < n; i++) {
      negative[at + i] = p[2 * i]!;
      positive[at + i] = p[2 * i + 1]!;
    }
    counts.add(labels, positive, at, at + n, undefined, negative);
    arrays.prepare(labels, positive, at, n);
    at += n;
  }
  binaryMetrics(labels, positive, cut, FLOAT32_EPS, arrays, counts, negative);
  await session.release();
  return performance.now() - t0;
}

/** require('onnxruntime-node') in a fresh Node process, in ms (paid alike by any program that runs the model). */
function ortLoad(): number {
  const out = execFileSync(process.execPath, ['-e', "const t = performance.now(); require('onnxruntime-node'); console.log(performance.now() - t)"], { cwd: path.join(__dirname, '../..') });
  return Number(out.toString().trim());
}

const scores = new Float64Array(ROWS);
const truth = new Float64Array(ROWS);
for (let i = 0; i < ROWS; i++) {
  scores[i] = Math.fround(random());
  truth[i] = random() < 0.3 ? 1 : 0;
}
function metricsOnly(): number {
  const t0 = performance.now();
  binaryMetrics(truth, scores, 0.5, FLOAT32_EPS);
  return performance.now() - t0;
}

/** Milliseconds of garbage collection pauses since the last call (PerformanceObserver 'gc' entries). */
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });
const gcWait = () => new Promise((resolve) => setImmediate(resolve));

/** One evaluation: wall time, garbage collection pauses, and CPU time of every thread of the process (the reader's worker, onnxruntime's). */
async function full(): Promise<{ ms: number; gc: number; cpu: number }> {
  await gcWait();
  gcMs = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const report = await evaluateModel({ model: MODEL, data: file, target: 'churned', workspace: dir, batchSize: BATCH });
  if (report.rows !== ROWS) throw new Error(`evaluated ${report.rows} rows, expected ${ROWS}`);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  await gcWait();
  return { ms, gc: gcMs, cpu: (cpu.user + cpu.system) / 1000 };
}

async function csvOnly(): Promise<number> {
  const t0 = performance.now();
  const reader = await openDataset(file);
  let rows = 0;
  for await (const b of reader.batches(reader.columns.map((name) => ({ name })), BATCH)) rows += b.rows;
  if (rows !== ROWS) throw new Error(`read ${rows} rows`);
  return performance.now() - t0;
}

/** The md5 and the sha256 of the file (in memory), one after the other, as the evaluation records both: ms each. */
function digestsOnly(): { md5: number; sha256: number } {
  const bytes = readFileSync(file);
  const t0 = performance.now();
  createHash('md5').update(bytes).digest();
  const t1 = performance.now();
  createHash('sha256').update(bytes).digest();
  return { md5: t1 - t0, sha256: performance.now() - t1 };
}

/** Commas in a buffer: the tightest loop over every byte (the length read once, the bytes as a Uint8Array). */
function countCommas(bytes: Uint8Array): number {
  const n = bytes.length;
  let commas = 0;
  for (let i = 0; i < n; i++) if (bytes[i] === 44) commas++;
  return commas;
}

function byteLoop(): number {
  const bytes = readFileSync(file);
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  const t0 = performance.now();
  const commas = countCommas(view);
  const ms = performance.now() - t0;
  if (commas !== (ROWS + 1) * 4) throw new Error('comma count');
  return ms;
}

async function mainBench(): Promise<void> {
  const ort = onnxRuntime();
  const times = { bare: [] as number[], noFile: [] as number[], full: [] as number[], gc: [] as number[], cpu: [] as number[], csv: [] as number[], bytes: [] as number[], md5: [] as number[], sha256: [] as number[], metrics: [] as number[], load: [] as number[] };
  const first = await full(); // warm-up: onnxruntime loaded, file in the page cache, the reader's worker started
  for (let r = 0; r < ROUNDS; r++) {
    times.bare.push(await bare(ort));
    times.noFile.push(await withoutFile(ort));
    const evaluation = await full();
    times.full.push(evaluation.ms);
    times.gc.push(evaluation.gc);
    times.cpu.push(evaluation.cpu);
    times.csv.push(await csvOnly());
    times.bytes.push(byteLoop());
    const digests = digestsOnly();
    times.md5.push(digests.md5);
    times.sha256.push(digests.sha256);
    times.metrics.push(metricsOnly());
    times.load.push(ortLoad());
  }
  const [b, f, c, y] = [median(times.bare), median(times.full), median(times.csv), median(times.bytes)];
  console.log(`core/evaluation from ${coreRoot}`);
  console.log(`${ROWS} rows, ${fmt(megabytes)} MB CSV, batches of ${BATCH}, median of ${ROUNDS}`);
  console.log(`require('onnxruntime-node') in a fresh process (both sides pay it; not in the times below): ${fmt(median(times.load), 0)} ms`);
  console.log(`bare InferenceSession.create + run over prebuilt tensors + release: ${fmt(b, 0)} ms`);
  console.log(`first evaluation in this process (onnxruntime's first session; the reader's worker started, under tsx its source bundled in memory, and compiled): ${fmt(first.ms, 0)} ms`);
  console.log(`runwise evaluation (read + hash + infer + metrics): ${fmt(f, 0)} ms  (${fmt(f / b, 2)}× the bare run; goal ≤ 1.5×), of which garbage collection pauses ${fmt(median(times.gc), 0)} ms; CPU time ${fmt(median(times.cpu), 0)} ms (all threads)`);
  console.log(`CSV reader alone, every column: ${fmt(c, 0)} ms = ${fmt(megabytes / (c / 1000), 0)} MB/s (goal ≥ 100)`);
  console.log(`yardstick, a byte loop counting commas: ${fmt(y, 0)} ms = ${fmt(megabytes / (y / 1000), 0)} MB/s (the reader at ${fmt((y / c) * 100, 0)} % of it)`);
  const [md5, sha256] = [median(times.md5), median(times.sha256)];
  console.log(`the file's md5 alone: ${fmt(md5, 0)} ms, its sha256: ${fmt(sha256, 0)} ms (the evaluation records both)`);
  // Any evaluation hashes the file, reads every byte and runs the model. On two threads with perfect
  // overlap the three can at best be shared evenly (the md5 on one thread, the inference on the
  // other, the bytes split), and no less than the inference alone: a lower bound, not a target.
  const floor = Math.max(b, (md5 + b + y) / 2);
  console.log(`lower bound on two threads, max(bare run, (md5 + bare run + byte loop) / 2), with free parsing, sha256 and metrics: ${fmt(floor, 0)} ms = ${fmt(floor / b, 2)}× the bare run`);
  const noFile = median(times.noFile);
  console.log(`without the file: the bare run plus the binary metrics batch by batch over its outputs: ${fmt(noFile, 0)} ms = ${fmt(noFile / b, 2)}× the bare run, leaving ${fmt(1.5 * b - noFile, 0)} ms of the goal for reading, parsing and hashing ${fmt(megabytes)} MB`);
  console.log(`binary metrics alone on ${ROWS} rows (ROC/PR curve, log loss, confusion): ${fmt(median(times.metrics), 0)} ms`);
}

void mainBench();
