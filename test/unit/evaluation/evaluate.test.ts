/**
 * Evaluation end to end on small ONNX models (onnxTestModels.ts) run by onnxruntime-node: each
 * output shape, the metrics against the same metrics computed from the model's arithmetic in
 * JavaScript, the tracker run it leaves, and bad input as clear errors that leave no half-written
 * run. The CLI with --json on the example pipeline's model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { main } from '../../../core/cli/main';
import { reportText } from '../../../core/cli/commands/evaluate';
import { DatasetError, headerLooksLikeData } from '../../../core/dataset/dataset';
import { evaluateModel } from '../../../core/evaluation/evaluate';
import { EVALUATION_REPORT_ARTIFACT, MODEL_SHA256_TAG } from '../../../core/tracker/model';
import { modelLineage } from '../../../core/tracker/modelRegistry';
import { FLOAT32_EPS, binaryMetrics, multiclassMetrics, regressionMetrics } from '../../../core/evaluation/metrics';
import { ModelError } from '../../../core/evaluation/onnxModel';
import { FAILURE_REASON_TAG, Tracker } from '../../../core/tracker/tracker';
import { tempWorkspace } from '../../support/tempWorkspace';
import { dataset, doubleCastProbabilities, labelAndProbabilities, passThrough, probabilitiesOnly, regression, softmaxRows, zipMap, type LinearClassifier } from './onnxTestModels';

const EXAMPLE = path.join(__dirname, '../../../examples/pipeline');

function writeCsv(file: string, header: string[], rows: (string | number)[][]): void {
  writeFileSync(file, `${header.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`);
}

/**
 * Within `tolerance` (relative beyond 1). The ranking metrics get 1e-3: onnxruntime's float32
 * softmax and this one can order two nearly equal scores differently.
 */
function assertMetricsClose(actual: Record<string, number>, expected: Record<string, number>, tolerance: number): void {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
  for (const [k, v] of Object.entries(expected)) {
    const allowed = (k === 'roc_auc' || k === 'average_precision' ? 1e-3 : tolerance) * Math.max(1, Math.abs(v));
    assert.ok(Math.abs(actual[k]! - v) <= allowed, `${k}: expected ${v}, got ${actual[k]}`);
  }
}

const BINARY: LinearClassifier = { weights: [-1, 1, -0.5, 0.5], bias: [0.1, -0.1], features: 2, classes: 2 };
const MULTI: LinearClassifier = { weights: [-1, 0, 1, -0.5, 0, 0.5], bias: [0, 0.3, 0], features: 2, classes: 3 };

async function setup(model: Uint8Array, classes: number, rows = 300) {
  const ws = tempWorkspace('eval');
  const { x, y } = dataset(rows, classes);
  writeFileSync(path.join(ws, 'model.onnx'), model);
  writeCsv(path.join(ws, 'data.csv'), ['a', 'b', 'group', 'y'], x.map((r, i) => [r[0]!, r[1]!, i % 3 === 0 ? 'north' : 'south', y[i]!]));
  return { ws, x, y, model: path.join(ws, 'model.onnx'), data: path.join(ws, 'data.csv') };
}

test('a probability tensor [N, 2]: binary inferred, metrics as computed from the probabilities', async () => {
  const s = await setup(probabilitiesOnly(BINARY), 2);
  const r = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], workspace: s.ws, batchSize: 64 });
  assert.equal(r.task, 'binary');
  assert.equal(r.task_inferred, true);
  assert.equal(r.rows, 300);
  assert.equal(r.batches, 5);
  const p = softmaxRows(BINARY, s.x);
  const expected = binaryMetrics(s.y, Float64Array.from(s.y, (_, i) => p[2 * i + 1]!), 0.5, FLOAT32_EPS);
  assertMetricsClose(r.metrics, expected.metrics, 1e-5);
  assert.deepEqual(r.confusion_matrix, expected.confusionMatrix);
  assert.equal(r.run_id, null);
});

test('a label tensor plus probabilities [N, 3]: multiclass inferred', async () => {
  const s = await setup(labelAndProbabilities(MULTI), 3);
  const r = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], workspace: s.ws });
  assert.equal(r.task, 'multiclass');
  const expected = multiclassMetrics(s.y, softmaxRows(MULTI, s.x), 3, FLOAT32_EPS);
  assertMetricsClose(r.metrics, expected.metrics, 1e-5);
  assert.deepEqual(r.confusion_matrix, expected.confusionMatrix);
  assert.ok('f1_macro' in r.metrics && 'precision_weighted' in r.metrics && 'roc_auc' in r.metrics);
  assert.deepEqual(r.warnings, []);
  // A threshold given to a multiclass evaluation changes nothing, and says so.
  const thresholded = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], threshold: 0.3, workspace: s.ws });
  assert.deepEqual(thresholded.metrics, r.metrics);
  assert.deepEqual(thresholded.warnings, ['the threshold 0.3 was not used: it decides P(class 1) > threshold for a binary classifier, and this evaluation\'s task is multiclass (each row predicted as its most probable class)']);
});

test("scikit-learn-onnx's label + ZipMap: probabilities read through the ZipMap's input, classes from its labels", async () => {
  const s = await setup(zipMap(MULTI, [10, 20, 30]), 3);
  const csv = readFileSync(s.data, 'utf8').replace(/,(\d)$/gm, (_, d: string) => `,${(Number(d) + 1) * 10}`);
  writeFileSync(s.data, csv);
  const r = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], workspace: s.ws });
  assert.equal(r.task, 'multiclass');
  assert.deepEqual(r.classes, [10, 20, 30]);
  const expected = multiclassMetrics(s.y, softmaxRows(MULTI, s.x), 3, FLOAT32_EPS);
  assertMetricsClose(r.metrics, expected.metrics, 1e-5);
  assert.ok(r.model.outputs.some((o) => o.type === 'sequence or map'));
});

for (const flat of [false, true]) {
  test(`a regression tensor ${flat ? '[N]' : '[N, 1]'} (MatMul + Add): regression inferred`, async () => {
    const s = await setup(regression([2, -1], 0.5, flat), 2);
    const target = s.x.map((r, i) => 2 * r[0]! - r[1]! + 0.5 + ((i % 5) - 2) / 4);
    writeCsv(s.data, ['a', 'b', 'y'], s.x.map((r, i) => [r[0]!, r[1]!, target[i]!]));
    const r = await evaluateModel({ model: s.model, data: s.data, target: 'y', workspace: s.ws, batchSize: 100 });
    assert.equal(r.task, 'regression');
    assert.deepEqual(r.dataset.features, ['a', 'b'], 'every column except the target, in file order');
    const expected = regressionMetrics(target, s.x.map((row) => 2 * row[0]! - row[1]! + 0.5));
    assertMetricsClose(r.metrics, expected.metrics, 1e-4);
    assert.equal(r.confusion_matrix, null);
  });
}

test('a one-value model read as a regressor against a 0/1 or True/False target is warned to be evaluated as binary', async () => {
  const s = await setup(regression([2, -1], 0.5), 2);
  writeCsv(s.data, ['a', 'b', 'y'], s.x.map((r, i) => [r[0]!, r[1]!, s.y[i] ? 'True' : 'False']));
  const r = await evaluateModel({ model: s.model, data: s.data, target: 'y', workspace: s.ws });
  assert.equal(r.task, 'regression');
  assert.ok(r.warnings.some((w) => /'y' holds no value but 0 and 1 .*--task binary/.test(w)), r.warnings.join('; '));
  const asked = await evaluateModel({ model: s.model, data: s.data, target: 'y', task: 'regression', workspace: s.ws });
  assert.ok(!asked.warnings.some((w) => w.includes('holds no value but 0 and 1')), 'not when regression was asked for');
});

test('a task that does not fit the model is refused', async () => {
  const s = await setup(probabilitiesOnly(MULTI), 3);
  await assert.rejects(evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], task: 'binary', workspace: s.ws }), /3 classes: task 'binary' does not fit/);
});

test('slices: metrics per value and the largest accuracy gap', async () => {
  const s = await setup(probabilitiesOnly(BINARY), 2);
  const r = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], sliceBy: 'group', workspace: s.ws });
  assert.deepEqual(r.slices!.values.map((v) => [v.value, v.rows]), [['north', 100], ['south', 200]]);
  const acc = r.slices!.values.map((v) => v.metrics.accuracy!);
  assert.equal(r.slices!.largest_gap!.metric, 'accuracy');
  assert.ok(Math.abs(r.slices!.largest_gap!.gap - Math.abs(acc[0]! - acc[1]!)) < 1e-12);
  const weighted = (acc[0]! * 100 + acc[1]! * 200) / 300;
  assert.ok(Math.abs(weighted - r.metrics.accuracy!) < 1e-12, 'the slices partition the rows');
});

test("a header written with spaces after its commas: the names pandas gives (' y', ' group') find the columns", async () => {
  const s = await setup(probabilitiesOnly(BINARY), 2);
  const text = readFileSync(s.data, 'utf8').replace(/^a,b,group,y/, 'a, b, group, y');
  writeFileSync(s.data, text);
  const r = await evaluateModel({ model: s.model, data: s.data, target: ' y', features: ['a', ' b'], sliceBy: ' group', workspace: s.ws });
  assert.equal(r.rows, 300);
  assert.equal(r.dataset.target, 'y');
  assert.deepEqual(r.dataset.features, ['a', 'b']);
  assert.deepEqual(r.slices!.values.map((v) => v.value), ['north', 'south']);
});

test('slices of fewer than 30 rows are left out of the gaps when two larger ones have the metric, and said; else the gap they set is warned of', async () => {
  const s = await setup(probabilitiesOnly(BINARY), 2);
  const big = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], sliceBy: 'group', workspace: s.ws });
  assert.ok(!big.warnings.some((w) => /fewer than 30 rows/.test(w)), 'slices of 100 and 200 rows: no warning');
  // One row in a slice of its own.
  const lines = readFileSync(s.data, 'utf8').split('\n');
  lines[1] = lines[1]!.replace(/,(north|south),/, ',rare,');
  writeFileSync(s.data, lines.join('\n'));
  const r = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], sliceBy: 'group', workspace: s.ws });
  // A one-row slice is at 0 or 1 accuracy: left out of the gaps, which are those of north and south.
  const gap = r.slices!.largest_gap!;
  assert.deepEqual([gap.lowest, gap.highest].sort(), ['north', 'south'], JSON.stringify(gap));
  assert.deepEqual(r.slices!.values.map((v) => v.value).sort(), ['north', 'rare', 'south'], 'its metrics are listed');
  assert.ok(r.warnings.some((w) => /leave out those of fewer than 30 rows \('rare' \(1 row\)\)/.test(w)), r.warnings.join('\n'));
  // Only one slice of 30 rows or more: the gap is between all of them, the small one warned of.
  const few = lines.map((l, i) => (i >= 1 && i <= 280 ? l.replace(/,(north|south),/, ',north,') : i > 280 && l ? l.replace(/,(north|south),/, ',south,') : l));
  writeFileSync(s.data, few.join('\n'));
  const r2 = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], sliceBy: 'group', workspace: s.ws });
  const small = r2.slices!.values.filter((v) => v.rows < 30).map((v) => v.value);
  assert.ok(small.length >= 1 && r2.slices!.values.filter((v) => v.rows >= 30).length === 1, JSON.stringify(r2.slices!.values.map((v) => [v.value, v.rows])));
  assert.ok(r2.warnings.some((w) => /gap between 'group' slices involves .*fewer than 30 rows/.test(w)), r2.warnings.join('\n'));
});

test('a regression target of 0 makes mape astronomical (scikit-learn divides by max(|y|, eps)): said, with mae and rmse to read', async () => {
  const ws = tempWorkspace('eval-mape');
  const model = path.join(ws, 'model.onnx');
  writeFileSync(model, regression([1, 1], 0));
  const data = path.join(ws, 'data.csv');
  writeFileSync(data, 'a,b,y\n1,1,2\n1,2,3.5\n0,0.5,0\n');
  const r = await evaluateModel({ model, data, target: 'y', workspace: ws });
  assert.ok(r.metrics.mape! > 1e14, String(r.metrics.mape));
  assert.ok(r.warnings.some((w) => /^1 row of 'y' is 0: mape divides each error by max\(\|y\|, 2\.2e-16\), as scikit-learn does, so it dominates it \(\d/.test(w)), r.warnings.join('\n'));
  writeFileSync(data, 'a,b,y\n1,1,2\n1,2,3.5\n0,0.5,0.4\n');
  assert.ok(!(await evaluateModel({ model, data, target: 'y', workspace: ws })).warnings.some((w) => /mape/.test(w)));
});

test('slices by a numeric column group numbers (1, 1.0, +1 one slice, in numeric order), booleans as True/False, missing cells as one slice; many slices warn', async () => {
  const s = await setup(probabilitiesOnly(BINARY), 2);
  const spellings = ['1', '1.0', ' +1', '10', '2.', '', 'NA', 'nan'];
  writeCsv(s.data, ['a', 'b', 'n', 'flag', 'id', 'y'], s.x.map((r, i) => [r[0]!, r[1]!, spellings[i % 8]!, ['True', 'true', 'FALSE'][i % 3]!, String(i), s.y[i]!]));
  const byNumber = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], sliceBy: 'n', workspace: s.ws });
  assert.deepEqual(byNumber.slices!.values.map((v) => [v.value, v.rows]), [['1', 114], ['2', 37], ['10', 38], ['(missing)', 111]]);
  const byFlag = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], sliceBy: 'flag', workspace: s.ws });
  assert.deepEqual(byFlag.slices!.values.map((v) => [v.value, v.rows]), [['False', 100], ['True', 200]]);
  assert.ok(!byFlag.warnings.some((w) => w.includes('distinct values')));
  writeCsv(s.data, ['a', 'b', 'n', 'label', 'y'], s.x.map((r, i) => [r[0]!, r[1]!, ['1', '1.0', 'inf'][i % 3]!, ['(missing)', '', 'x'][i % 3]!, s.y[i]!]));
  const withInf = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], sliceBy: 'n', workspace: s.ws });
  assert.deepEqual(withInf.slices!.values.map((v) => [v.value, v.rows]), [['1', 200], ['Infinity', 100]]);
  const literal = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], sliceBy: 'label', workspace: s.ws });
  assert.deepEqual(literal.slices!.values.map((v) => [v.value, v.rows]), [['(missing)', 100], ['x', 100], ['(missing) cells', 100]]);
  writeCsv(s.data, ['a', 'b', 'id', 'y'], s.x.map((r, i) => [r[0]!, r[1]!, String(i), s.y[i]!]));
  const byId = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], sliceBy: 'id', workspace: s.ws });
  assert.ok(byId.warnings.some((w) => w.includes("'id' has 300 distinct values")), byId.warnings.join('; '));
});

test('slices as pandas groups them: a CSV cell of spaces or \' NA\' is text; int64 and uint64 ids exactly (float64 beside a missing cell); in JSON Lines only null is missing', async () => {
  const s = await setup(probabilitiesOnly(BINARY), 2);
  const rows = (g: (i: number) => string) => s.x.map((r, i) => [r[0]!, r[1]!, g(i), s.y[i]!]);
  // read_csv trims no missing word: ' ' and ' NA' make the column text (1 and 1.0 then two slices); 'NA' is missing.
  writeCsv(s.data, ['a', 'b', 'g', 'y'], rows((i) => ['1', '1.0', ' ', ' NA', 'NA'][i % 5]!));
  const text = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], sliceBy: 'g', workspace: s.ws });
  assert.deepEqual(text.slices!.values.map((v) => [v.value, v.rows]), [[' ', 60], [' NA', 60], ['1', 60], ['1.0', 60], ['(missing)', 60]]);
  // Ids past 2^53 are int64 to pandas: 9007199254740993 is not 9007199254740992.
  writeCsv(s.data, ['a', 'b', 'g', 'y'], rows((i) => ['9007199254740993', '9007199254740992', '-9223372036854775808', '007'][i % 4]!));
  const ids = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], sliceBy: 'g', workspace: s.ws });
  assert.deepEqual(ids.slices!.values.map((v) => [v.value, v.rows]), [['-9223372036854775808', 75], ['7', 75], ['9007199254740992', 75], ['9007199254740993', 75]]);
  // Past int64 and none negative: uint64 to pandas, still exact.
  writeCsv(s.data, ['a', 'b', 'g', 'y'], rows((i) => ['9223372036854775808', '9223372036854775809', '18446744073709551615'][i % 3]!));
  const unsigned = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], sliceBy: 'g', workspace: s.ws });
  assert.deepEqual(unsigned.slices!.values.map((v) => [v.value, v.rows]), [['9223372036854775808', 100], ['9223372036854775809', 100], ['18446744073709551615', 100]]);
  // With a missing cell pandas reads the column as float64: ids past 2^53 that are one double are one slice.
  writeCsv(s.data, ['a', 'b', 'g', 'y'], rows((i) => ['9007199254740993', '9007199254740992', 'NA'][i % 3]!));
  const floats = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], sliceBy: 'g', workspace: s.ws });
  assert.deepEqual(floats.slices!.values.map((v) => [v.value, v.rows]), [['9007199254740992', 200], ['(missing)', 100]]);
  // JSON Lines: the strings NA, None, '' are values; null and an absent key are the missing slice.
  const jsonl = path.join(s.ws, 'data.jsonl');
  writeFileSync(jsonl, s.x.map((r, i) => JSON.stringify({ a: r[0], b: r[1], y: s.y[i], ...(i % 5 === 4 ? {} : { g: ['NA', 'None', '', null][i % 5] }) })).join('\n') + '\n');
  const json = await evaluateModel({ model: s.model, data: jsonl, target: 'y', features: ['a', 'b'], sliceBy: 'g', workspace: s.ws });
  assert.deepEqual(json.slices!.values.map((v) => [v.value, v.rows]), [['', 60], ['NA', 60], ['None', 60], ['(missing)', 120]]);
});

test("pandas' index column (a first column with no name) is not a feature when none are named", async () => {
  const s = await setup(probabilitiesOnly(BINARY), 2);
  writeCsv(s.data, ['', 'a', 'b', 'y'], s.x.map((r, i) => [i, r[0]!, r[1]!, s.y[i]!]));
  const r = await evaluateModel({ model: s.model, data: s.data, target: 'y', workspace: s.ws });
  assert.deepEqual(r.dataset.features, ['a', 'b']);
  const named = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], workspace: s.ws });
  assert.deepEqual(r.metrics, named.metrics);
  // Trailing unnamed columns (a spreadsheet's) are not data either.
  writeCsv(s.data, ['a', 'b', 'y', '', ''], s.x.map((r, i) => [r[0]!, r[1]!, s.y[i]!, '', '']));
  assert.deepEqual((await evaluateModel({ model: s.model, data: s.data, target: 'y', workspace: s.ws })).metrics, named.metrics);
  // One between named columns would shift every feature after it if left out: refused, with what to do.
  writeCsv(s.data, ['a', '', 'b', 'y'], s.x.map((r, i) => [r[0]!, 7, r[1]!, s.y[i]!]));
  await assert.rejects(evaluateModel({ model: s.model, data: s.data, target: 'y', workspace: s.ws }), /data\.csv: column 2 has no name \(between 'a' and 'b'\), and the features are every column but the target, in file order: name it in the header, or list the features with --features/);
  assert.deepEqual((await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], workspace: s.ws })).metrics, named.metrics);
  writeCsv(s.data, ['a', '', '', 'b', 'y'], s.x.map((r, i) => [r[0]!, 7, 8, r[1]!, s.y[i]!]));
  await assert.rejects(evaluateModel({ model: s.model, data: s.data, target: 'y', workspace: s.ws }), /column 2 has no name \(between 'a' and 'b'\)/);
});

test('a registered version of the evaluated model lists the evaluation in its lineage', async () => {
  const s = await setup(probabilitiesOnly(BINARY), 2);
  const tracker = Tracker.open(s.ws);
  try {
    const r = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], workspace: s.ws, tracker });
    const version = await tracker.registerModelFiles('scorer', s.model);
    const lineage = modelLineage(tracker, tracker.registry, 'scorer', version.version);
    assert.deepEqual(lineage.evaluations.map((e) => e.runId), [r.run_id]);
    assert.equal(lineage.evaluations[0]!.metrics.find((m) => m.key === 'roc_auc')!.value, r.metrics.roc_auc);
  } finally {
    tracker.close();
  }
});

test('the evaluation is a finished run: metrics, params, dataset input with its hash, model sha256 tag, report artifact', async () => {
  const s = await setup(probabilitiesOnly(BINARY), 2);
  const tracker = Tracker.open(s.ws);
  try {
    const r = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], workspace: s.ws, tracker });
    const run = tracker.getRun(r.run_id!);
    assert.equal(run.info.status, 'FINISHED');
    assert.equal(run.metrics.find((m) => m.key === 'roc_auc')!.value, r.metrics.roc_auc);
    assert.equal(run.params.find((p) => p.key === 'target')!.value, 'y');
    assert.equal(run.tags.find((t) => t.key === MODEL_SHA256_TAG)!.value, r.model.sha256);
    // The dataset input carries the file's md5, the hash the pipeline runner records for it (lineage
    // joins the two), and the sha256 as a tag.
    const bytes = readFileSync(s.data);
    assert.equal(run.inputs[0]!.dataset.digest, createHash('md5').update(bytes).digest('hex'));
    assert.equal(r.dataset.md5, createHash('md5').update(bytes).digest('hex'));
    assert.equal(r.dataset.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(run.inputs[0]!.tags.find((t) => t.key === 'runwise.sha256')?.value, r.dataset.sha256);
    assert.equal(run.inputs[0]!.dataset.source, 'data.csv');
    const stored = JSON.parse(readFileSync(tracker.openArtifact(r.run_id!, EVALUATION_REPORT_ARTIFACT).filePath, 'utf8')) as { run_id: string; metrics: Record<string, number> };
    assert.equal(stored.run_id, r.run_id);
    assert.deepEqual(stored.metrics, r.metrics);
  } finally {
    tracker.close();
  }
});

test('a corrupt or truncated ONNX file is an error naming the file, and no run is created', async () => {
  const s = await setup(probabilitiesOnly(BINARY), 2);
  const tracker = Tracker.open(s.ws);
  try {
    const bytes = readFileSync(s.model);
    for (const broken of [bytes.subarray(0, Math.floor(bytes.length / 2)), Buffer.from('not an onnx model at all, just text'), Buffer.alloc(0)]) {
      writeFileSync(s.model, broken);
      await assert.rejects(evaluateModel({ model: s.model, data: s.data, target: 'y', workspace: s.ws, tracker }), (e: Error) => e instanceof ModelError && e.message.startsWith('model.onnx: '));
    }
    // A Git LFS pointer (a clone without `git lfs pull`), and a named pipe that would block a read for good.
    writeFileSync(s.model, 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n');
    await assert.rejects(evaluateModel({ model: s.model, data: s.data, target: 'y', workspace: s.ws, tracker }), /^ModelError: model\.onnx: a Git LFS pointer, not the model itself: fetch it \(git lfs pull\)$/);
    const fifo = path.join(s.ws, 'pipe.onnx');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(evaluateModel({ model: fifo, data: s.data, target: 'y', workspace: s.ws, tracker }), /pipe\.onnx: not a file \(a folder, a pipe or a device\)/);
    assert.equal(tracker.searchRuns({}).items.length, 0);
  } finally {
    tracker.close();
  }
});

const badData: [string, string, RegExp][] = [
  ['a missing feature column', 'a,y\n1,0\n', /^data\.csv: no column 'b' \(the columns are: a, y\)/],
  ['a non-numeric value', 'a,b,y\n1,2,0\n3,abc,1\n', /^data\.csv:3: column 'b' is not a number: 'abc'/],
  ['a NaN', 'a,b,y\n1,2,0\n3,4,1\nNaN,1,0\n', /^data\.csv:4: column 'a' is NaN/],
  ['an empty cell', 'a,b,y\n1,,0\n', /^data\.csv:2: column 'b' is empty/],
  ['a ragged row', 'a,b,y\n1,2,0\n1,2,0,7\n', /^data\.csv:3: expected 3 fields as in the header, found 4/],
    ['a row short of the target', 'a,b,y\n1,2,0\n1,2\n', /^data\.csv:3: .*column 'y' (is missing|has no value)/],
  ['an empty file', '', /^data\.csv: the file is empty/],
  ['a header and no rows', 'a,b,y\n', /^data\.csv: no data rows after the header/],
  ['a target outside the classes', 'a,b,y\n1,2,0\n1,2,3\n', /^data\.csv:3: data row 2: column 'y' is 3, not one of the model's classes \(0, 1\)/],
];
for (const [what, csv, message] of badData) {
  test(`${what} is a clear error and leaves no run`, async () => {
    const s = await setup(probabilitiesOnly(BINARY), 2);
    writeFileSync(s.data, csv);
    const tracker = Tracker.open(s.ws);
    try {
      await assert.rejects(evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], workspace: s.ws, tracker }), (e: Error) => {
        assert.match(e.message, message);
        return e instanceof DatasetError;
      });
      assert.equal(tracker.searchRuns({}).items.length, 0);
    } finally {
      tracker.close();
    }
  });
}

/** A workspace with `model` and data.csv holding `rows` under `header`, and its tracker. */
function passThroughCase(model: Uint8Array, header: string[], rows: (string | number)[][]) {
  const ws = tempWorkspace('eval-outputs');
  writeFileSync(path.join(ws, 'model.onnx'), model);
  writeCsv(path.join(ws, 'data.csv'), header, rows);
  return { ws, model: path.join(ws, 'model.onnx'), data: path.join(ws, 'data.csv') };
}

test("a two-column output whose rows sum to 1 only within tolerance: log_loss takes the pair as given, renormalised as scikit-learn's does", async () => {
  // sklearn.metrics.log_loss(y, P) with P as float32 (scikit-learn 1.2.1): 0.37458446610025437; with
  // 1 − P(class 1) in place of the model's P(class 0) it would be 0.37451394.
  const rows = [[0.3003, 0.7, 1], [0.2, 0.8, 1], [0.61, 0.3899, 0], [0.5, 0.5, 1], [0.9, 0.1001, 0]];
  const s = passThroughCase(passThrough(2), ['p0', 'p1', 'y', 'g'], rows.map((r, i) => [...r, i < 2 ? 'a' : 'b']));
  const r = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['p0', 'p1'], task: 'binary', sliceBy: 'g', workspace: s.ws });
  assert.ok(Math.abs(r.metrics.log_loss! - 0.37458446610025437) < 1e-7, String(r.metrics.log_loss));
  // Per slice too: rows 1–2 (a), rows 3–5 (b).
  const byHand = (pairs: number[][], y: number[]) => -pairs.reduce((sum, [p0, p1], i) => sum + Math.log((y[i] ? Math.fround(p1!) : Math.fround(p0!)) / (Math.fround(p0!) + Math.fround(p1!))), 0) / pairs.length;
  const [a, b] = r.slices!.values;
  assert.ok(Math.abs(a!.metrics.log_loss! - byHand([[0.3003, 0.7], [0.2, 0.8]], [1, 1])) < 1e-12);
  assert.ok(Math.abs(b!.metrics.log_loss! - byHand([[0.61, 0.3899], [0.5, 0.5], [0.9, 0.1001]], [0, 1, 0])) < 1e-12);
});

test("a CSV whose first row is numbers (written without a header): evaluated as asked, with a warning; pandas' default names 0, 1, 2 are a header", async () => {
  assert.equal(headerLooksLikeData(['1', '2', '3', '4', '0']), true);
  assert.equal(headerLooksLikeData(['0.5', '2']), true);
  assert.equal(headerLooksLikeData(['0', '1', '2']), false, "pandas' default column names");
  assert.equal(headerLooksLikeData(['', '0', '1']), false, 'with its unnamed index column');
  assert.equal(headerLooksLikeData(['a', '1']), false);
  const s = passThroughCase(passThrough(2), ['0.2', '0.8', '1'], [[0.3, 0.7, 1], [0.6, 0.4, 0]]);
  const r = await evaluateModel({ model: s.model, data: s.data, target: '1', features: ['0.2', '0.8'], workspace: s.ws });
  assert.equal(r.rows, 2);
  assert.deepEqual(r.warnings, ['the first row of data.csv is all numbers (0.2, 0.8, 1): if it is data written without a header, it was read as the column names and left out of the evaluation; write the file with a header naming the columns']);
});

test("float32 rounding past 1 (ten votes of 0.1 summed: 1.0000001) is a probability, as scikit-learn's metrics take it; 1.001 is not", async () => {
  const above = 1 + 2 ** -23;
  const rows = [[0, above, 1], [0.9, 0.1, 0], [0.2, 0.8, 1], [0.6, 0.4, 0]];
  const s = passThroughCase(passThrough(2), ['p0', 'p1', 'y'], rows);
  const r = await evaluateModel({ model: s.model, data: s.data, target: 'y', workspace: s.ws });
  assert.equal(r.metrics.accuracy, 1);
  assert.equal(r.metrics.roc_auc, 1);
  // Clipped to [eps, 1 − eps] (float32 eps) and renormalised, as log_loss does: sklearn 1.2.1 gives
  // 0.2098324454501717 computing in float32, 0.20983245103810694 in float64 with float32's eps.
  assert.ok(Math.abs(r.metrics.log_loss! - 0.20983245103810694) < 1e-12, String(r.metrics.log_loss));
  const one = passThroughCase(passThrough(1), ['p', 'y'], [[above, 1], [0.1, 0]]);
  assert.equal((await evaluateModel({ model: one.model, data: one.data, target: 'y', task: 'binary', workspace: one.ws })).metrics.accuracy, 1, 'one P(class 1) per row');
  const far = passThroughCase(passThrough(2), ['p0', 'p1', 'y'], [[-0.001, 1.001, 1]]);
  await assert.rejects(evaluateModel({ model: far.model, data: far.data, target: 'y', workspace: far.ws }), /a value outside \[0, 1\]/);
});

test('a two-class output asked for as multiclass gives the macro and weighted averages, as scikit-learn computes them', async () => {
  const s = passThroughCase(passThrough(2), ['p0', 'p1', 'y'], [[0.2, 0.8, 1], [0.9, 0.1, 0], [0.3, 0.7, 0], [0.6, 0.4, 1]]);
  const r = await evaluateModel({ model: s.model, data: s.data, target: 'y', task: 'multiclass', workspace: s.ws });
  assert.equal(r.task, 'multiclass');
  assert.equal(r.metrics.accuracy, 0.5);
  assert.equal(r.metrics.f1_macro, 0.5);
  assert.equal(r.metrics.precision_weighted, 0.5);
  assert.equal(r.metrics.f1, undefined, "no binary metric of the positive class");
});

test('outputs that are not probabilities (raw scores, NaN, rows not summing to 1) are refused naming the row; in the first batch no run is left, later the run FAILS', async () => {
  const cases: [string, (string | number)[][], RegExp][] = [
    ['raw scores', [[0.2, 0.8, 1], [2, -1, 0]], /output 'probabilities' is not class probabilities: for data\.csv data row 2 it gave \[2, -1\] \(a value outside \[0, 1\]\)/],
    ['a row summing to 0.9', [[0.3, 0.6, 1]], /for data\.csv data row 1 it gave \[0\.30000001192092896, 0\.6000000238418579\] \(a sum of 0\.9\d*, not 1\)/],
  ];
  for (const [what, rows, message] of cases) {
    const s = passThroughCase(passThrough(2), ['p0', 'p1', 'y'], rows);
    const tracker = Tracker.open(s.ws);
    try {
      await assert.rejects(evaluateModel({ model: s.model, data: s.data, target: 'y', workspace: s.ws, tracker }), (e: Error) => e instanceof ModelError && message.test(e.message), what);
      assert.equal(tracker.searchRuns({}).items.length, 0, what);
    } finally {
      tracker.close();
    }
  }
  // In a later batch: the run exists, and ends FAILED with the reason.
  const good = Array.from({ length: 20 }, (_, i) => [0.25, 0.75, i % 2]);
  const s = passThroughCase(passThrough(2), ['p0', 'p1', 'y'], [...good, [1.5, -0.5, 1]]);
  const tracker = Tracker.open(s.ws);
  try {
    await assert.rejects(evaluateModel({ model: s.model, data: s.data, target: 'y', workspace: s.ws, tracker, batchSize: 8 }), /data\.csv data row 21 it gave \[1\.5, -0\.5\]/);
    const [run] = tracker.searchRuns({}).items;
    assert.equal(run!.info.status, 'FAILED');
  } finally {
    tracker.close();
  }
  // The CLI names the run it left FAILED, to find it by.
  let err = '';
  const code = await main(['evaluate', s.model, '--data', s.data, '--target', 'y', '--batch-size', '8', '--workspace', s.ws], { out: () => undefined, err: (t) => (err += t) });
  assert.equal(code, 1);
  const t2 = Tracker.open(s.ws);
  const failed = t2.searchRuns({ orderBy: ['attributes.start_time DESC'] }).items[0]!.info.runId;
  t2.close();
  assert.match(err, new RegExp(`it gave \\[1\\.5, -0\\.5\\].* \\(run ${failed} ended FAILED\\)\\n$`));
});

test('a NaN or infinite regression prediction, and an input beyond float32, are errors naming the row (scikit-learn refuses them too)', async () => {
  const nan = passThroughCase(passThrough(1, 'Sqrt'), ['x', 'y'], [[4, 2], [-1, 1]]);
  await assert.rejects(evaluateModel({ model: nan.model, data: nan.data, target: 'y', workspace: nan.ws }), (e: Error) => e instanceof ModelError && /model\.onnx predicted NaN for data\.csv data row 2: the metrics need finite predictions/.test(e.message));
  const big = passThroughCase(passThrough(1), ['x', 'y'], [[1, 1], [2, 2], [1e39, 3]]);
  await assert.rejects(evaluateModel({ model: big.model, data: big.data, target: 'y', workspace: big.ws }), (e: Error) => e instanceof DatasetError && /data\.csv:4: data row 3, column 'x': 1e\+39 is beyond the range of float32/.test(e.message));
  // Within range it is evaluated.
  const fine = passThroughCase(passThrough(1), ['x', 'y'], [[1, 1], [2, 2], [3e38, 3e38]]);
  assert.equal((await evaluateModel({ model: fine.model, data: fine.data, target: 'y', workspace: fine.ws })).rows, 3);
});

test('the threshold is compared in the scores\' precision: a float32 score equal to it is negative, as numpy compares', async () => {
  const rows = [[0.7, 0.3, 1], [0.3, 0.7, 1], [0.69, 0.31, 1], [0.29, 0.71, 0]];
  const s = passThroughCase(passThrough(2), ['p0', 'p1', 'y'], rows);
  const at = async (threshold: number) => (await evaluateModel({ model: s.model, data: s.data, target: 'y', workspace: s.ws, threshold })).confusion_matrix;
  // 0.3: rows 2, 3, 4 are above it, row 1 (float32(0.3)) is not.
  assert.deepEqual(await at(0.3), [[0, 1], [1, 2]]);
  // 0.7: only row 4 (0.71) is above; row 2 (float32(0.7)) is not.
  assert.deepEqual(await at(0.7), [[0, 1], [3, 0]]);
});

test('--task binary takes a one-value output as P(class 1) (a sigmoid); without it the model is a regressor', async () => {
  const p = [0.1, 0.8, 0.4, 0.9, 0.65, 0.2];
  const y = [0, 1, 1, 1, 0, 0];
  const s = passThroughCase(passThrough(1), ['p', 'y'], p.map((v, i) => [v, y[i]!]));
  const r = await evaluateModel({ model: s.model, data: s.data, target: 'y', task: 'binary', workspace: s.ws });
  assert.equal(r.task, 'binary');
  assert.deepEqual(r.classes, [0, 1]);
  const expected = binaryMetrics(y, Float64Array.from(p, (v) => Math.fround(v)), Math.fround(0.5), FLOAT32_EPS);
  assertMetricsClose(r.metrics, expected.metrics, 1e-12);
  assert.deepEqual(r.confusion_matrix, expected.confusionMatrix);
  assert.equal((await evaluateModel({ model: s.model, data: s.data, target: 'y', workspace: s.ws })).task, 'regression');
  await assert.rejects(evaluateModel({ model: s.model, data: s.data, target: 'y', task: 'multiclass', workspace: s.ws }), /one value per row: task 'multiclass' does not fit/);
  const outside = passThroughCase(passThrough(1), ['p', 'y'], [[0.5, 1], [1.2, 0]]);
  await assert.rejects(evaluateModel({ model: outside.model, data: outside.data, target: 'y', task: 'binary', workspace: outside.ws }), /for data\.csv data row 2 it gave \[1\.2000000476837158\] \(a value outside \[0, 1\]\)/);
});

test('an error after rows were evaluated ends the run FAILED with the reason', async () => {
  const s = await setup(probabilitiesOnly(BINARY), 2);
  const { x, y } = dataset(50, 2);
  writeCsv(s.data, ['a', 'b', 'y'], [...x.map((r, i) => [r[0]!, r[1]!, y[i]!]), [1, 'oops', 0]]);
  const tracker = Tracker.open(s.ws);
  try {
    await assert.rejects(evaluateModel({ model: s.model, data: s.data, target: 'y', workspace: s.ws, tracker, batchSize: 10 }), /data\.csv:52: column 'b' is not a number: 'oops'/);
    const [run] = tracker.searchRuns({}).items;
    assert.equal(run!.info.status, 'FAILED');
    assert.equal(run!.info.runName, 'evaluate model.onnx on data.csv', 'the run says what was evaluated on what');
    assert.match(run!.tags.find((t) => t.key === FAILURE_REASON_TAG)!.value, /column 'b' is not a number/);
    assert.equal(run!.metrics.length, 0, 'no metrics from a failed evaluation');
  } finally {
    tracker.close();
  }
});

/**
 * The example pipeline's prepare and train stages run in a copy of examples/pipeline, with the
 * params of its params.yaml: the data, models/model.onnx and metrics.json they write.
 */
function trainedExample(): string {
  const dir = tempWorkspace('example');
  for (const f of readdirSync(EXAMPLE)) if (/\.(js|proto)$/.test(f)) copyFileSync(path.join(EXAMPLE, f), path.join(dir, f));
  // The scripts load protobufjs from the repository's node_modules; no tracking endpoint: they log nothing.
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: path.join(__dirname, '../../../node_modules') };
  delete env.MLFLOW_TRACKING_URI;
  execFileSync(process.execPath, ['prepare.js', '--rows', '2000', '--seed', '42', '--shift', '0.5'], { cwd: dir, env, stdio: 'pipe' });
  execFileSync(process.execPath, ['train.js', '--lr', '0.5', '--epochs', '100', '--l2', '0.001', '--seed', '7'], { cwd: dir, env, stdio: 'pipe' });
  return dir;
}

test('runwise evaluate --json on the example model', async () => {
  const ws = tempWorkspace('eval-cli');
  const example = trainedExample();
  let out = '';
  let err = '';
  const argv = ['evaluate', path.join(example, 'models/model.onnx'), '--data', path.join(example, 'data/test.csv'), '--target', 'churned', '--slice-by', 'support_calls', '--json', '--workspace', ws];
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  assert.equal(code, 0, err);
  const r = JSON.parse(out) as Record<string, unknown> & { metrics: Record<string, number>; latency_ms: Record<string, number>; run_id: string };
  for (const key of ['task', 'rows', 'metrics', 'confusion_matrix', 'slices', 'latency_ms', 'rows_per_second', 'run_id']) assert.ok(key in r, key);
  assert.equal(r.task, 'binary');
  assert.equal(r.rows, 400);
  // train.js wrote metrics.json from the same model's arithmetic in float64: accuracy equal, loss to float32 precision.
  const trained = JSON.parse(readFileSync(path.join(example, 'metrics.json'), 'utf8')) as { accuracy: number; loss: number };
  assert.equal(r.metrics.accuracy, trained.accuracy);
  assert.ok(Math.abs(r.metrics.log_loss! - trained.loss) < 1e-6);
  assert.deepEqual(Object.keys(r.latency_ms), ['p50', 'p95', 'p99']);
  assert.match(r.run_id, /^[0-9a-f]{32}$/);

  const bad = await main(['evaluate', path.join(example, 'models/model.onnx'), '--data', path.join(example, 'data/test.csv'), '--target', 'nope', '--workspace', ws], { out: () => undefined, err: (t) => (err = t) });
  assert.equal(bad, 1);
  assert.match(err, /no column 'nope'/);
  // --threshold takes a plain number: '' or ' ' is not 0, '0x1' is not 1.
  for (const text of ['', ' ', '0x1', '1/2', '-0.1', '1.5']) {
    const usage = await main(['evaluate', path.join(example, 'models/model.onnx'), '--data', path.join(example, 'data/test.csv'), '--target', 'churned', '--threshold', text, '--workspace', ws], { out: () => undefined, err: (t) => (err = t) });
    assert.equal(usage, 2, `--threshold '${text}'`);
    assert.match(err, /--threshold must be a number between 0 and 1/);
  }
  assert.equal(await main(['evaluate', path.join(example, 'models/model.onnx'), '--data', path.join(example, 'data/test.csv'), '--target', 'churned', '--threshold', '.25', '--workspace', ws], { out: () => undefined, err: () => undefined }), 0);
});

test('JSON Lines whose slice column first appears after the rows that name the columns (Spark leaves null fields out): evaluated and sliced', async () => {
  const s = await setup(probabilitiesOnly(BINARY), 2, 1200);
  const jsonl = path.join(s.ws, 'data.jsonl');
  writeFileSync(jsonl, `${s.x.map((r, i) => JSON.stringify({ a: r[0], b: r[1], y: s.y[i], ...(i >= 1100 ? { region: i % 2 ? 'north' : 'south' } : {}) })).join('\n')}\n`);
  const r = await evaluateModel({ model: s.model, data: jsonl, target: 'y', features: ['a', 'b'], sliceBy: 'region', workspace: s.ws });
  assert.deepEqual(r.slices!.values.map((v) => [v.value, v.rows]), [['north', 50], ['south', 50], ['(missing)', 1100]]);
});

test('JSON Lines whose rows order their keys differently: a warning names the feature order taken, unless the features are named', async () => {
  const s = await setup(probabilitiesOnly(BINARY), 2);
  const jsonl = path.join(s.ws, 'shuffled.jsonl');
  writeFileSync(jsonl, `${s.x.map((r, i) => JSON.stringify(i % 2 ? { a: r[0], b: r[1], y: s.y[i] } : { y: s.y[i], b: r[1], a: r[0] })).join('\n')}\n`);
  const r = await evaluateModel({ model: s.model, data: jsonl, target: 'y', workspace: s.ws });
  assert.ok(r.warnings.some((w) => /shuffled\.jsonl: its rows list their keys in different orders; the features were taken in the order the first rows give \(b, a\)/.test(w)), r.warnings.join('; '));
  const named = await evaluateModel({ model: s.model, data: jsonl, target: 'y', features: ['a', 'b'], workspace: s.ws });
  assert.ok(!named.warnings.some((w) => w.includes('different orders')));
  const ordered = path.join(s.ws, 'ordered.jsonl');
  writeFileSync(ordered, `${s.x.map((r, i) => JSON.stringify({ a: r[0], b: r[1], y: s.y[i] })).join('\n')}\n`);
  assert.ok(!(await evaluateModel({ model: s.model, data: ordered, target: 'y', workspace: s.ws })).warnings.some((w) => w.includes('different orders')));
});

test("a model whose metadata names its features is fed those columns by name: reordered or extra columns give the same metrics, a missing one is refused", async () => {
  const { logisticRegressionOnnx } = require(path.join(EXAMPLE, 'onnxModel.js')) as {
    logisticRegressionOnnx(m: { coef: number[]; intercept: number }, o: { features: string[]; target: string }): Uint8Array;
  };
  const ws = tempWorkspace('declared-features');
  const model = path.join(ws, 'model.onnx');
  writeFileSync(model, logisticRegressionOnnx({ coef: [0.8, -1.2, 0.05], intercept: 0.1 }, { features: ['tenure', 'spend', 'calls'], target: 'churned' }));
  const rows = Array.from({ length: 300 }, (_, i) => ({ tenure: (i * 7) % 13, spend: ((i * 11) % 17) / 4, calls: (i * 5) % 6, churned: (i * 3) % 5 < 2 ? 1 : 0, id: 1000 + i }));
  const write = (name: string, columns: (keyof (typeof rows)[number])[]) => {
    writeCsv(path.join(ws, name), columns, rows.map((r) => columns.map((c) => r[c])));
    return path.join(ws, name);
  };
  const ordered = await evaluateModel({ model, data: write('ordered.csv', ['tenure', 'spend', 'calls', 'churned']), target: 'churned', workspace: ws });
  const reordered = await evaluateModel({ model, data: write('reordered.csv', ['id', 'calls', 'churned', 'spend', 'tenure']), target: 'churned', workspace: ws });
  assert.deepEqual(reordered.metrics, ordered.metrics, 'the columns are found by name, the id left out');
  assert.deepEqual(reordered.dataset.features, ['tenure', 'spend', 'calls']);
  // JSON Lines whose rows order their keys differently: found by name in each row, so no warning.
  const shuffled = path.join(ws, 'shuffled.jsonl');
  writeFileSync(shuffled, `${rows.map((r, i) => JSON.stringify(i % 2 ? { churned: r.churned, calls: r.calls, spend: r.spend, tenure: r.tenure } : { tenure: r.tenure, spend: r.spend, calls: r.calls, churned: r.churned })).join('\n')}\n`);
  const byKey = await evaluateModel({ model, data: shuffled, target: 'churned', workspace: ws });
  assert.deepEqual(byKey.metrics, ordered.metrics);
  assert.ok(!byKey.warnings.some((w) => w.includes('different orders')), byKey.warnings.join('; '));
  // The model's own names in another order are refused (each would feed another's weights); other names map columns to it.
  await assert.rejects(
    evaluateModel({ model, data: path.join(ws, 'reordered.csv'), target: 'churned', features: ['calls', 'spend', 'tenure'], workspace: ws }),
    /the features are listed in another order \(calls, spend, tenure\) than the model's metadata names them \(tenure, spend, calls\)/,
  );
  writeCsv(path.join(ws, 'renamed-all.csv'), ['t', 's', 'c', 'churned'], rows.map((r) => [r.tenure, r.spend, r.calls, r.churned]));
  const mapped = await evaluateModel({ model, data: path.join(ws, 'renamed-all.csv'), target: 'churned', features: ['t', 's', 'c'], workspace: ws });
  assert.deepEqual(mapped.metrics, ordered.metrics, 'columns named otherwise, listed in the model\'s order');
  const tracker = Tracker.open(ws);
  const before = tracker.searchRuns({ experimentIds: ['0'] }).items.length;
  tracker.close();
  await assert.rejects(
    evaluateModel({ model, data: write('renamed.csv', ['tenure', 'spend', 'churned', 'id']), target: 'churned', workspace: ws }),
    /renamed\.csv has no column 'calls', which the model's metadata names among its features \(tenure, spend, calls\): it is fed those columns by name, in that order; rename the data's columns, or name the columns to feed with --features/,
  );
  const after = Tracker.open(ws);
  assert.equal(after.searchRuns({ experimentIds: ['0'] }).items.length, before, 'no run is left for the refused evaluation');
  after.close();
});

test("a float32 softmax cast to double is probabilities: rows off 1 by float32 rounding are taken, as scikit-learn takes them", async () => {
  const s = await setup(doubleCastProbabilities(MULTI), 3, 600);
  const p = softmaxRows(MULTI, s.x);
  const sums = s.x.map((_, i) => Math.fround(p[3 * i]!) + Math.fround(p[3 * i + 1]!) + Math.fround(p[3 * i + 2]!));
  assert.ok(sums.some((sum) => Math.abs(sum - 1) > 1e-8 + Math.sqrt(2 ** -52)), 'some rows are off 1 by more than float64 allows');
  const r = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], workspace: s.ws });
  const float32 = await evaluateModel({ model: (await setup(probabilitiesOnly(MULTI), 3, 600)).model, data: s.data, target: 'y', features: ['a', 'b'], workspace: s.ws });
  assert.equal(r.task, 'multiclass');
  assertMetricsClose(r.metrics, float32.metrics, 1e-6);
});

test('--features: a column name holding a comma, in quotes as a CSV header writes it, or in a JSON list; an empty list is refused', async () => {
  const { featureList } = await import('../../../core/cli/commands/evaluate');
  assert.deepEqual(featureList('a, b'), ['a', 'b']);
  assert.deepEqual(featureList('"spend, usd",tenure'), ['spend, usd', 'tenure']);
  assert.deepEqual(featureList(' "say ""hi""" , b'), ['say "hi"', 'b']);
  assert.deepEqual(featureList('["spend, usd", "tenure"]'), ['spend, usd', 'tenure']);
  assert.throws(() => featureList(' , '), /--features: the list is empty/);
  const { formatFeatureList, parseFeatureList } = await import('../../../core/evaluation/featureList');
  for (const names of [['a', 'b'], ['spend, usd', 'say "hi"', ' padded ', 'plain'], ['[m] tenure', 'spend']]) assert.deepEqual(parseFeatureList(formatFeatureList(names)), names, 'the logged param reads back to the same names');
  assert.throws(() => featureList('"open, b'), /a quote opened at character 1 is not closed/);
  assert.throws(() => featureList('[1, 2]'), /a JSON list of column names/);

  const s = await setup(probabilitiesOnly(BINARY), 2, 60);
  const csv = readFileSync(s.data, 'utf8').replace(/^a,b,/, '"a, first",b,');
  writeFileSync(s.data, csv);
  let out = '';
  let err = '';
  const code = await main(['evaluate', s.model, '--data', s.data, '--target', 'y', '--features', '"a, first",b', '--json', '--workspace', s.ws], { out: (t) => (out += t), err: (t) => (err += t) });
  assert.equal(code, 0, err);
  assert.equal((JSON.parse(out) as { rows: number }).rows, 60);
  const missing = await main(['evaluate', s.model, '--data', s.data, '--target', 'y', '--features', 'a,b', '--workspace', s.ws], { out: () => undefined, err: (t) => (err = t) });
  assert.equal(missing, 1);
  assert.match(err, /no column 'a' \(the columns are: "a, first", b, group, y\)/);
});

test('the report for people keeps each line one line: slice values holding line breaks (quoted CSV fields) are joined', async () => {
  const s = await setup(probabilitiesOnly(BINARY), 2);
  writeCsv(s.data, ['a', 'b', 'note', 'y'], s.x.map((r, i) => [r[0]!, r[1]!, i % 3 === 0 ? '"north\nline"' : '"south\r\n  coast"', s.y[i]!]));
  const r = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], sliceBy: 'note', workspace: s.ws });
  assert.deepEqual(r.slices!.values.map((v) => v.value).sort(), ['north\nline', 'south\r\n  coast']);
  const text = reportText(r);
  const gap = text.split('\n').find((l) => l.startsWith('Largest gap in '));
  assert.ok(gap, text);
  assert.match(gap, /\(lowest: (north line|south coast), highest: (north line|south coast)\)$/);
  assert.ok(text.split('\n').some((l) => /^north line\s+100\s/.test(l)), text);
});

test('runwise evaluate takes a registered version (models:/NAME/N, NAME@ALIAS, NAME/N): the registry copy, re-hashed, named models:/NAME/N', async () => {
  const s = await setup(probabilitiesOnly(BINARY), 2);
  const tracker = Tracker.open(s.ws);
  const v = await tracker.registerModelFiles('scorer', s.model, { alias: 'champion' });
  tracker.close();
  // The source file changes after registration: the version's own bytes are evaluated, not the file's.
  writeFileSync(s.model, probabilitiesOnly(MULTI));
  const run = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await main(['evaluate', ...argv, '--data', s.data, '--target', 'y', '--features', 'a,b', '--workspace', s.ws, '--json'], { out: (t) => (out += t), err: (t) => (err += t) });
    return { code, out, err };
  };
  for (const ref of ['models:/scorer/1', 'models:/scorer@champion', 'scorer@champion', 'scorer/1']) {
    const r = await run(ref);
    assert.equal(r.code, 0, `${ref}: ${r.err}`);
    const report = JSON.parse(r.out);
    assert.deepEqual([report.task, report.model.path, report.model.sha256], ['binary', 'models:/scorer/1', v.sha256], ref);
    const t = Tracker.open(s.ws);
    assert.equal(t.getRun(report.run_id).tags.find((x) => x.key === MODEL_SHA256_TAG)!.value, v.sha256);
    t.close();
  }
  const missing = await run('models:/scorer/7');
  assert.equal(missing.code, 1);
  assert.match(missing.err, /Model Version \(name=scorer, version=7\) not found/);
  // A changed registry copy is refused, naming both hashes.
  const t = Tracker.open(s.ws);
  const copy = t.openModelVersionFile('scorer', '1', 'model.onnx').filePath;
  t.close();
  chmodSync(copy, 0o644);
  appendFileSync(copy, Buffer.from([0]));
  const tampered = await run('scorer@champion');
  assert.equal(tampered.code, 1);
  assert.match(tampered.err, /scorer.*1.*sha256/s);
});

test("an error found after the rows were read is said at the row's line, the line the reader itself names for a bad cell there", async () => {
  const s = await setup(probabilitiesOnly(BINARY), 2, 40);
  const lines = (target: (i: number) => string | number, a: (i: number) => string | number) =>
    `a,b,note,y\n${s.x.map((r, i) => `${a(i)},${r[1]},${i < 5 ? '"spans\nthree\nlines"' : 'one'},${target(i)}`).join('\n')}\n`;
  writeFileSync(s.data, lines((i) => (i === 20 ? 3 : s.y[i]!), (i) => s.x[i]![0]!));
  const byTarget = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], workspace: s.ws }).then(() => '', (e: Error) => e.message);
  writeFileSync(s.data, lines((i) => s.y[i]!, (i) => (i === 20 ? 'abc' : s.x[i]![0]!)));
  const byReader = await evaluateModel({ model: s.model, data: s.data, target: 'y', features: ['a', 'b'], workspace: s.ws }).then(() => '', (e: Error) => e.message);
  // Data row 21 starts on line 32: the header, then five rows of three lines each.
  assert.match(byTarget, /^data\.csv:32: data row 21: column 'y' is 3, not one of the model's classes/);
  assert.match(byReader, /^data\.csv:32: /);
});

test('runwise evaluate reads a relative path from the current folder, or else from the workspace; a missing model is "no such file"', async () => {
  const s = await setup(probabilitiesOnly(BINARY), 2);
  let err = '';
  const run = (model: string, data: string) => main(['evaluate', model, '--data', data, '--target', 'y', '--features', 'a,b', '--workspace', s.ws], { out: () => undefined, err: (t) => (err += t) });
  // Neither is in the test's current folder: both are the workspace's.
  assert.equal(await run('model.onnx', 'data.csv'), 0, err);
  err = '';
  assert.equal(await run('nope.onnx', 'data.csv'), 1);
  assert.match(err, /^runwise: nope\.onnx: no such file\n$/);
});
