/**
 * The example pipeline's model (examples/pipeline): a logistic regression trained in JavaScript and
 * written as ONNX with protobufjs must load in onnxruntime-node and give the JavaScript model's
 * probabilities on every row, through the input and output names the evaluate step will read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { tempWorkspace } from '../../support/tempWorkspace';

type Row = number[];
interface Model {
  coef: number[];
  intercept: number;
}
interface DatasetModule {
  FEATURES: string[];
  TARGET: string;
  makeDataset(p: { rows: number; seed: number; shift: number }): { train: Row[]; test: Row[]; live: Row[] };
  writeCsv(file: string, rows: Row[]): void;
  readCsv(file: string): { x: Row[]; y: number[] };
}
interface RegressionModule {
  fit(x: Row[], y: number[], p: { lr: number; epochs: number; l2: number; seed: number }, onEpoch?: (epoch: number, m: Model) => void): Model;
  evaluate(m: Model, x: Row[], y: number[]): { loss: number; accuracy: number };
  predictProbability(m: Model, row: Row): number;
  predictLabel(m: Model, row: Row): number;
}
interface OnnxModule {
  logisticRegressionOnnx(m: Model, o: { features: string[]; target: string; docString?: string }): Uint8Array;
  readOnnxModel(bytes: Uint8Array): {
    irVersion: number;
    opsetImport: { domain?: string; version: number }[];
    metadataProps: { key: string; value: string }[];
    graph: { input: { name: string }[]; output: { name: string }[]; node: { opType: string }[] };
  };
  IR_VERSION: number;
  OPSET_VERSION: number;
}

const example = path.resolve(__dirname, '../../../examples/pipeline');
const dataset = require(path.join(example, 'dataset.js')) as DatasetModule;
const regression = require(path.join(example, 'logisticRegression.js')) as RegressionModule;
const onnx = require(path.join(example, 'onnxModel.js')) as OnnxModule;

/** A tiny version of the example's data: 60 customers (48 train, 12 test) and 15 shifted live ones. */
function tinyModel(): { model: Model; rows: Row[]; trainX: Row[]; trainY: number[] } {
  const { train, test: held, live } = dataset.makeDataset({ rows: 60, seed: 3, shift: 1 });
  const trainX = train.map((r) => r.slice(0, -1));
  const trainY = train.map((r) => r[r.length - 1]!);
  const model = regression.fit(trainX, trainY, { lr: 0.5, epochs: 40, l2: 0.001, seed: 7 });
  return { model, rows: [...train, ...held, ...live].map((r) => r.slice(0, -1)), trainX, trainY };
}

test('the ONNX model gives the JavaScript model’s probabilities and labels on every row, in onnxruntime-node', async () => {
  const { model, rows } = tinyModel();
  const file = path.join(tempWorkspace('onnx'), 'model.onnx');
  writeFileSync(file, onnx.logisticRegressionOnnx(model, { features: dataset.FEATURES, target: dataset.TARGET }));

  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(file);
  assert.deepEqual(session.inputNames, ['features']);
  assert.deepEqual(session.outputNames, ['label', 'probabilities']);

  const width = dataset.FEATURES.length;
  const input = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, width]);
  const out = await session.run({ features: input });
  const probabilities = out.probabilities!;
  const label = out.label!;
  assert.equal(probabilities.type, 'float32');
  assert.deepEqual(probabilities.dims, [rows.length, 2]);
  assert.equal(label.type, 'int64');
  assert.deepEqual(label.dims, [rows.length]);

  const p = probabilities.data as Float32Array;
  const labels = label.data as BigInt64Array;
  const bothClasses = new Set<number>();
  rows.forEach((row, i) => {
    const expected = regression.predictProbability(model, row);
    assert.ok(Math.abs(p[2 * i + 1]! - expected) <= 1e-6, `row ${i}: P(1) ${p[2 * i + 1]} from ONNX, ${expected} in JavaScript`);
    assert.ok(Math.abs(p[2 * i]! - (1 - expected)) <= 1e-6, `row ${i}: P(0) ${p[2 * i]} from ONNX, ${1 - expected} in JavaScript`);
    // A probability within rounding of one half may tip either way in float32.
    if (Math.abs(expected - 0.5) > 1e-6) assert.equal(Number(labels[i]), regression.predictLabel(model, row), `row ${i}: label`);
    bothClasses.add(Number(labels[i]));
  });
  // The comparison means something only if the model separates the rows at all.
  assert.deepEqual([...bothClasses].sort(), [0, 1]);
});

test('the model file records its IR version, operator set, columns and label, and the graph skl2onnx gives a logistic regression', () => {
  const { model } = tinyModel();
  const read = onnx.readOnnxModel(onnx.logisticRegressionOnnx(model, { features: dataset.FEATURES, target: dataset.TARGET, docString: 'tiny' }));
  assert.equal(read.irVersion, onnx.IR_VERSION);
  assert.deepEqual(read.opsetImport, [{ domain: '', version: onnx.OPSET_VERSION }]);
  assert.deepEqual(Object.fromEntries(read.metadataProps.map((e) => [e.key, e.value])), {
    features: 'tenure_months,monthly_spend,support_calls,usage_hours',
    target: 'churned',
    classes: '0,1',
  });
  assert.deepEqual(read.graph.input.map((v) => v.name), ['features']);
  assert.deepEqual(read.graph.output.map((v) => v.name), ['label', 'probabilities']);
  assert.deepEqual(read.graph.node.map((n) => n.opType), ['MatMul', 'Add', 'Sigmoid', 'Sub', 'Concat', 'ArgMax']);
});

test('training on the example data reaches the accuracy the pipeline gates on, and improves on the start', () => {
  // The example's own params (params.yaml), on its full data: the gate in runwise.yaml asks for 0.8.
  const { train, test: held } = dataset.makeDataset({ rows: 2000, seed: 42, shift: 0.5 });
  const x = train.map((r) => r.slice(0, -1));
  const y = train.map((r) => r[r.length - 1]!);
  const losses: number[] = [];
  const model = regression.fit(x, y, { lr: 0.5, epochs: 100, l2: 0.001, seed: 7 }, (_epoch, m) => losses.push(regression.evaluate(m, x, y).loss));
  const onTest = regression.evaluate(
    model,
    held.map((r) => r.slice(0, -1)),
    held.map((r) => r[r.length - 1]!),
  );
  assert.equal(losses.length, 100);
  assert.ok(losses[99]! < losses[0]! - 0.1, `training loss went from ${losses[0]} to ${losses[99]}`);
  assert.ok(onTest.accuracy >= 0.8 && onTest.accuracy <= 0.95, `test accuracy ${onTest.accuracy}`);
});

test('the data round-trips through CSV, and a malformed table is refused naming the file, line and column', () => {
  const dir = tempWorkspace('csv');
  const { train } = dataset.makeDataset({ rows: 20, seed: 1, shift: 0 });
  const file = path.join(dir, 'data', 'train.csv');
  dataset.writeCsv(file, train);
  const read = dataset.readCsv(file);
  assert.deepEqual(read.x, train.map((r) => r.slice(0, -1)));
  assert.deepEqual(read.y, train.map((r) => r[r.length - 1]));

  const bad = path.join(dir, 'bad.csv');
  writeFileSync(bad, 'tenure_months,monthly_spend,support_calls,usage_hours,churned\n3,50.5,1,20,0\n4,oops,1,20,1\n');
  assert.throws(() => dataset.readCsv(bad), { message: `${bad}:3: 'monthly_spend' is not a number: 'oops'` });
  writeFileSync(bad, 'tenure_months,monthly_spend,usage_hours,churned\n3,50.5,20,0\n');
  assert.throws(() => dataset.readCsv(bad), /bad\.csv:1: no column 'support_calls'/);
  writeFileSync(bad, 'tenure_months,monthly_spend,support_calls,usage_hours,churned\n3,50.5,1,20,2\n');
  assert.throws(() => dataset.readCsv(bad), /bad\.csv:2: 'churned' must be 0 or 1, got 2/);
});

test('a model that does not fit its columns, or holds a non-finite coefficient, is refused before anything is written', () => {
  assert.throws(() => onnx.logisticRegressionOnnx({ coef: [1, 2], intercept: 0 }, { features: ['a'], target: 'y' }), /one feature name per coefficient, got 1 names for 2/);
  assert.throws(() => onnx.logisticRegressionOnnx({ coef: [1, Number.NaN], intercept: 0 }, { features: ['a', 'b'], target: 'y' }), /not a finite number/);
});

/** Whether loading `modules` (then nothing else) brings onnxruntime-node into the process. */
function loadsOnnxRuntime(modules: string[]): boolean {
  const script = `${modules.map((m) => `require(${JSON.stringify(m)});`).join('')}process.stdout.write(String(Object.keys(require.cache).some((k) => k.includes('onnxruntime'))));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: path.resolve(__dirname, '../../..'), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout === 'true';
}

test('the CLI starts without loading onnxruntime-node (it loads on first use)', () => {
  const cli = path.resolve(__dirname, '../../../core/cli/main.ts');
  assert.equal(loadsOnnxRuntime([cli]), false);
  // The probe sees the runtime when something does load it.
  assert.equal(loadsOnnxRuntime([cli, 'onnxruntime-node']), true);
});

test('the example pipeline copied outside the repository runs whole with the CLI: its scripts find runwise/client and protobufjs through Runwise', async () => {
  const { main } = await import('../../../core/cli/main');
  const { Tracker } = await import('../../../core/tracker/tracker');
  const { copyFileSync, readdirSync } = await import('node:fs');
  const ws = tempWorkspace('example-copy');
  assert.ok(!path.resolve(ws).startsWith(path.resolve(__dirname, '../../..')), 'outside the repository');
  for (const f of readdirSync(example)) if (/\.(js|proto|yaml)$/.test(f)) copyFileSync(path.join(example, f), path.join(ws, f));
  let out = '';
  const code = await main(['run', '--workspace', ws], { out: (t) => (out += t), err: (t) => (out += t) });
  assert.equal(code, 0, out);
  const tracker = Tracker.open(ws);
  try {
    assert.equal(tracker.registry.getVersionByAlias('churn', 'champion').version, '1');
  } finally {
    tracker.close();
  }
});
