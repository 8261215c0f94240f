/**
 * Evaluating the example pipeline's model (examples/pipeline/models/model.onnx) on a 1,000,000-row
 * CSV written to a temporary folder, beside the anchor: a bare `InferenceSession.run` over the same
 * rows as prebuilt float32 tensors in the same batches (8192 rows). Goal: the whole evaluation
 * (reading, hashing the file, inference, metrics) within 1.5× of the bare run. Also the CSV reader
 * alone (every column as numbers), in MB/s (goal: ≥ 100), beside a plain byte loop over the same
 * file (counting commas) as the machine's yardstick. Interleaved, median of 3 rounds each.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { openDataset } from '../../core/evaluation/dataset';
import { evaluateModel } from '../../core/evaluation/evaluate';
import { onnxRuntime } from '../../core/evaluation/onnxModel';
import { fmt, median } from '../stats';

const ROWS = 1_000_000;
const BATCH = 8192;
const ROUNDS = 3;
const MODEL = path.join(__dirname, '../../examples/pipeline/models/model.onnx');
const dir = mkdtempSync(path.join(tmpdir(), 'runwise-bench-eval-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'rows.csv');

// Rows like the example's churn data (a fixed linear congruential generator: the same file each run).
let seed = 1;
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const features = new Float32Array(ROWS * 4);
const lines = ['tenure_months,monthly_spend,support_calls,usage_hours,churned'];
for (let i = 0; i < ROWS; i++) {
  const row = [Math.floor(random() * 72), (20 + random() * 100).toFixed(2), Math.floor(random() * 6), (random() * 40).toFixed(1)];
  row.forEach((v, c) => (features[i * 4 + c] = Number(v)));
  lines.push(`${row.join(',')},${random() < 0.3 ? 1 : 0}`);
}
writeFileSync(file, `${lines.join('\n')}\n`);
const megabytes = statSync(file).size / 1e6;

async function bare(ort: typeof Ort): Promise<number> {
  const session = await ort.InferenceSession.create(MODEL);
  const tensors: Ort.Tensor[] = [];
  for (let s = 0; s < ROWS; s += BATCH) {
    const n = Math.min(BATCH, ROWS - s);
    tensors.push(new ort.Tensor('float32', features.subarray(s * 4, (s + n) * 4), [n, 4]));
  }
  const t0 = performance.now();
  for (const t of tensors) await session.run({ features: t });
  const ms = performance.now() - t0;
  await session.release();
  return ms;
}

async function full(): Promise<number> {
  const t0 = performance.now();
  const report = await evaluateModel({ model: MODEL, data: file, target: 'churned', workspace: dir, batchSize: BATCH });
  if (report.rows !== ROWS) throw new Error(`evaluated ${report.rows} rows, expected ${ROWS}`);
  return performance.now() - t0;
}

async function csvOnly(): Promise<number> {
  const t0 = performance.now();
  const reader = await openDataset(file);
  let rows = 0;
  for await (const b of reader.batches(reader.columns.map((name) => ({ name })), BATCH)) rows += b.rows;
  if (rows !== ROWS) throw new Error(`read ${rows} rows`);
  return performance.now() - t0;
}

function byteLoop(): number {
  const bytes = readFileSync(file);
  const t0 = performance.now();
  let commas = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 44) commas++;
  if (commas !== (ROWS + 1) * 4) throw new Error('comma count');
  return performance.now() - t0;
}

async function mainBench(): Promise<void> {
  const ort = onnxRuntime();
  const times = { bare: [] as number[], full: [] as number[], csv: [] as number[], bytes: [] as number[] };
  await full(); // warm-up: onnxruntime loaded, file in the page cache
  for (let r = 0; r < ROUNDS; r++) {
    times.bare.push(await bare(ort));
    times.full.push(await full());
    times.csv.push(await csvOnly());
    times.bytes.push(byteLoop());
  }
  const [b, f, c, y] = [median(times.bare), median(times.full), median(times.csv), median(times.bytes)];
  console.log(`${ROWS} rows, ${fmt(megabytes)} MB CSV, batches of ${BATCH}, median of ${ROUNDS}`);
  console.log(`bare InferenceSession.run over prebuilt tensors: ${fmt(b, 0)} ms`);
  console.log(`runwise evaluation (read + hash + infer + metrics): ${fmt(f, 0)} ms  (${fmt(f / b, 2)}× the bare run; goal ≤ 1.5×)`);
  console.log(`CSV reader alone, every column: ${fmt(c, 0)} ms = ${fmt(megabytes / (c / 1000), 0)} MB/s (goal ≥ 100)`);
  console.log(`yardstick, a byte loop counting commas: ${fmt(y, 0)} ms = ${fmt(megabytes / (y / 1000), 0)} MB/s`);
}

void mainBench();
