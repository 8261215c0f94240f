/**
 * Reading a dataset in the worker thread (core/dataset/datasetThread.ts) gives the batches a reader
 * gives in this thread (numbers, texts, coded texts and their labels) and the file's digests, passes
 * a reader's DatasetError through, and keeps its one shared worker usable: after a read stopped
 * early, and beside a second read at the same time. An evaluation read in the thread reports what
 * the same evaluation read here reports, from the sources and from the built CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DatasetError, fileDigests, openDataset, type ColumnRequest, type DatasetBatch } from '../../../core/dataset/dataset';
import { readInThread } from '../../../core/dataset/datasetThread';
import { THREAD_ABOVE_BYTES, evaluateModel, type EvaluationReport } from '../../../core/evaluation/evaluate';
import { tempWorkspace } from '../../support/tempWorkspace';
import { dataset, probabilitiesOnly, regression, zipMap, type LinearClassifier } from './onnxTestModels';

/** Every batch as plain values: its rows, numbers, texts, and each coded cell as its label. */
async function collect(batches: AsyncIterable<DatasetBatch>) {
  const out: { rows: number; numbers: number[][]; texts: string[][]; coded: (string[] | undefined)[] }[] = [];
  for await (const b of batches) {
    out.push({
      rows: b.rows,
      numbers: b.numbers.map((a) => Array.from(a.subarray(0, b.rows))),
      texts: b.texts.map((t, k) => (b.codes?.[k] ? [] : t.slice(0, b.rows))),
      coded: (b.codes ?? []).map((c, k) => (c ? Array.from(c.subarray(0, b.rows), (code) => b.labels![k]![code]!) : undefined)),
    });
  }
  return out;
}

/** A CSV and a JSON Lines file of `rows` rows: numbers, a text column, a label column with quoted and unicode values. */
function writeFiles(dir: string, rows: number): { csv: string; jsonl: string } {
  const csv = ['x,y,name,label'];
  const jsonl: string[] = [];
  for (let i = 0; i < rows; i++) {
    const label = ['yes', 'no', '"maybe, later"', 'über'][i % 4]!;
    csv.push(`${(i * 0.37).toFixed(3)},${i % 11},n${i % 5},${label}`);
    jsonl.push(JSON.stringify({ x: Number((i * 0.37).toFixed(3)), y: i % 11, name: `n${i % 5}`, label: label.replace(/"/g, '') }));
  }
  const files = { csv: path.join(dir, 'data.csv'), jsonl: path.join(dir, 'data.jsonl') };
  writeFileSync(files.csv, `${csv.join('\n')}\n`);
  writeFileSync(files.jsonl, `${jsonl.join('\n')}\n`);
  return files;
}

const REQUEST: ColumnRequest[] = [{ name: 'x' }, { name: 'y' }, { name: 'name', text: true }, { name: 'label', text: true, coded: true }];

test('the thread gives the same batches and the file digests (CSV across 4 MiB reads, JSON Lines)', async () => {
  const dir = tempWorkspace('dataset-thread');
  const files = writeFiles(dir, 200_000);
  for (const file of [files.csv, files.jsonl]) {
    const reader = await openDataset(file, path.basename(file));
    const here = await collect(reader.batches(REQUEST, 4096));
    const thread = readInThread(file, path.basename(file), REQUEST, 4096, true);
    const there = await collect(thread.batches);
    assert.equal(there.length, Math.ceil(200_000 / 4096));
    assert.deepEqual(there, here);
    assert.deepEqual(thread.digests(), await fileDigests(file), `${path.basename(file)}: the digests of every byte`);
    const unhashed = readInThread(file, path.basename(file), REQUEST, 4096, false);
    await collect(unhashed.batches);
    assert.equal(unhashed.digests(), undefined, 'no digests when not asked for');
  }
});

test("a reader's error in the thread is a DatasetError with the reader's message, after the batches before it", async () => {
  const dir = tempWorkspace('dataset-thread-error');
  const file = path.join(dir, 'data.csv');
  const lines = ['a,b', ...Array.from({ length: 20_000 }, (_, i) => `${i},${i % 3}`)];
  lines[15_000] = '7,oops';
  writeFileSync(file, `${lines.join('\n')}\n`);
  const request = [{ name: 'a' }, { name: 'b' }];
  const reader = await openDataset(file, 'data.csv');
  const inline = await collect(reader.batches(request, 1000)).then(
    () => assert.fail('the reader accepts the bad row'),
    (e: Error) => e,
  );
  let rows = 0;
  await assert.rejects(
    (async () => {
      for await (const b of readInThread(file, 'data.csv', request, 1000, true).batches) rows += b.rows;
    })(),
    (e: unknown) => {
      assert.ok(e instanceof DatasetError, String(e));
      assert.equal(e.message, inline.message);
      assert.match(e.message, /data\.csv:15001: column 'b' is not a number: 'oops'/);
      return true;
    },
  );
  assert.equal(rows, 14_000, 'the batches before the bad row arrived');
});

test('a read stopped early frees the worker; two reads at once each get their own batches', async () => {
  const dir = tempWorkspace('dataset-thread-reuse');
  const files = writeFiles(dir, 40_000);
  const reader = await openDataset(files.csv, 'data.csv');
  const expected = await collect(reader.batches(REQUEST, 1000));
  for (let round = 0; round < 3; round++) {
    let seen = 0;
    for await (const b of readInThread(files.csv, 'data.csv', REQUEST, 1000, true).batches) {
      assert.equal(b.rows, 1000);
      if (++seen === 2) break;
    }
    // The next read (on the same worker once the stopped one ended) sees none of the stopped read's batches.
    assert.deepEqual(await collect(readInThread(files.csv, 'data.csv', REQUEST, 1000, true).batches), expected);
  }
  const [a, b] = await Promise.all([collect(readInThread(files.csv, 'data.csv', REQUEST, 1000, true).batches), collect(readInThread(files.jsonl, 'data.jsonl', REQUEST, 1000, true).batches)]);
  assert.deepEqual(a, expected);
  assert.deepEqual(b, await collect((await openDataset(files.jsonl, 'data.jsonl')).batches(REQUEST, 1000)));
});

test('a read left after its last batch was read ahead frees the worker, and the process still exits', async () => {
  // The worker reads up to 4 batches ahead: by the time the caller leaves after the first, the
  // read's end is already queued here. A child process does that, then reads again and must exit.
  const dir = tempWorkspace('dataset-thread-exit');
  const file = path.join(dir, 'small.csv');
  writeFileSync(file, 'a,b\n1,x\n2,y\n');
  const script = path.join(dir, 'leave.ts');
  const thread = path.join(__dirname, '../../../core/dataset/datasetThread');
  writeFileSync(
    script,
    `import { readInThread } from ${JSON.stringify(thread)};
(async () => {
  for await (const b of readInThread(${JSON.stringify(file)}, 'small.csv', [{ name: 'a' }], 1, true).batches) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    break;
  }
  let rows = 0;
  for await (const b of readInThread(${JSON.stringify(file)}, 'small.csv', [{ name: 'a' }], 1, true).batches) rows += b.rows;
  console.log(rows);
})();
`,
  );
  const run = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: path.join(__dirname, '../../..'), timeout: 30_000 });
  assert.equal(run.signal, null, 'the process exits by itself (it was killed after 30 s)');
  assert.equal(run.status, 0, run.stderr.toString());
  assert.equal(run.stdout.toString().trim(), '2');
});

const BINARY: LinearClassifier = { weights: [-1, 1, -0.5, 0.5], bias: [0.1, -0.1], features: 2, classes: 2 };
const MULTI: LinearClassifier = { weights: [-1, 0, 1, -0.5, 0, 0.5], bias: [0, 0.3, 0], features: 2, classes: 3 };

/** The report without what depends on timing. */
function timeless(r: EvaluationReport) {
  return { ...r, latency_ms: undefined, rows_per_second: undefined };
}

test('an evaluation read in the thread reports what it reports read here (binary with slices, ZipMap multiclass, regression)', async () => {
  const ws = tempWorkspace('dataset-thread-eval');
  const rows = 30_000;
  const { x, y } = dataset(rows, 3);
  const binaryY = y.map((v) => (v === 0 ? 0 : 1));
  writeFileSync(path.join(ws, 'binary.onnx'), probabilitiesOnly(BINARY));
  writeFileSync(path.join(ws, 'multi.onnx'), zipMap(MULTI, [0, 1, 2]));
  writeFileSync(path.join(ws, 'regression.onnx'), regression([0.5, -2], 1));
  const lines = (target: number[]) => ['a,b,group,y', ...x.map((r, i) => `${r[0]},${r[1]},${i % 3 === 0 ? 'north' : 'south'},${target[i]}`)].join('\n');
  writeFileSync(path.join(ws, 'binary.csv'), `${lines(binaryY)}\n`);
  writeFileSync(path.join(ws, 'multi.csv'), `${lines(y)}\n`);
  writeFileSync(path.join(ws, 'regression.csv'), `${lines(x.map((r) => r[0]! * 0.4 - r[1]! * 2 + 0.9))}\n`);
  const cases = [
    { model: 'binary.onnx', data: 'binary.csv', sliceBy: 'group' },
    { model: 'multi.onnx', data: 'multi.csv' },
    { model: 'regression.onnx', data: 'regression.csv', sliceBy: 'group' },
  ];
  for (const c of cases) {
    const options = { model: path.join(ws, c.model), data: path.join(ws, c.data), target: 'y', features: ['a', 'b'], workspace: ws, batchSize: 1000, ...(c.sliceBy ? { sliceBy: c.sliceBy } : {}) };
    const here = await evaluateModel({ ...options, readInThread: false });
    const there = await evaluateModel({ ...options, readInThread: true });
    assert.equal(there.rows, rows);
    assert.deepEqual(timeless(there), timeless(here), c.model);
    assert.deepEqual(there.dataset, { ...here.dataset, ...(await fileDigests(options.data)) });
  }
});

test('the built CLI evaluates a large file through its worker (dist/datasetWorker.js), reports as read here, and exits', async (t) => {
  const root = path.join(__dirname, '../../..');
  const worker = path.join(root, 'dist/datasetWorker.js');
  if (!existsSync(path.join(root, 'dist/cli-evaluate.js')) || !existsSync(worker)) {
    assert.fail('dist/cli-evaluate.js or dist/datasetWorker.js is missing: run `npm run build` first');
  }
  t.diagnostic(`worker bundle ${worker}`);
  const ws = tempWorkspace('dataset-thread-cli');
  // Above THREAD_ABOVE_BYTES, so the CLI takes the threaded path by itself.
  const rows = 220_000;
  const { x, y } = dataset(rows, 2);
  const lines = ['a,b,y', ...x.map((r, i) => `${r[0]!.toFixed(6)},${r[1]!.toFixed(6)},${y[i]}`)];
  const data = path.join(ws, 'data.csv');
  writeFileSync(data, `${lines.join('\n')}\n`);
  assert.ok(statSync(data).size >= THREAD_ABOVE_BYTES, 'the file is large enough for the thread');
  const model = path.join(ws, 'model.onnx');
  writeFileSync(model, probabilitiesOnly(BINARY));
  const started = Date.now();
  const run = spawnSync(process.execPath, [path.join(root, 'bin/runwise.js'), 'evaluate', 'model.onnx', '--data', 'data.csv', '--target', 'y', '--json'], { cwd: ws, maxBuffer: 16 << 20, timeout: 120_000 });
  assert.equal(run.status, 0, `${run.stderr}${run.error ?? ''}`);
  t.diagnostic(`the CLI took ${Date.now() - started} ms`);
  const fromCli = JSON.parse(run.stdout.toString()) as EvaluationReport;
  const here = await evaluateModel({ model, data, target: 'y', workspace: ws, readInThread: false });
  assert.equal(fromCli.rows, rows);
  assert.deepEqual(JSON.parse(JSON.stringify({ ...timeless(fromCli), run_id: null })), JSON.parse(JSON.stringify({ ...timeless(here), run_id: null })));
});
