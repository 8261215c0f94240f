/**
 * Classifiers with declared class labels and text targets. The golden values come from
 * test/fixtures/evaluation/text_labels.py (scikit-learn on the models' predict_proba; see there why
 * the counts and rankings are the same as onnxruntime's float32 ones): a binary churn model ending
 * in a ZipMap with `classlabels_strings` {no, yes}, and a multiclass iris model whose
 * LinearClassifier declares the species with no ZipMap. Integer labels declared by the classifier
 * node; text targets against a model without labels, and values that are not a class, as errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DatasetError } from '../../../core/dataset/dataset';
import { evaluateModel, type EvaluationReport } from '../../../core/evaluation/evaluate';
import { FLOAT32_EPS, binaryMetrics } from '../../../core/evaluation/metrics';
import { TargetClasses } from '../../../core/evaluation/targetClasses';
import { Tracker } from '../../../core/tracker/tracker';
import { tempWorkspace } from '../../support/tempWorkspace';
import { dataset, linearClassifier, probabilitiesOnly, softmaxRows, type LinearClassifier } from './onnxTestModels';

const FIXTURES = path.join(__dirname, '../../fixtures/evaluation');

interface Golden {
  model: string;
  dataset: string;
  target: string;
  features?: string[];
  slice_by?: string;
  threshold?: number;
  classes: string[];
  metrics: Record<string, number>;
  confusion_matrix: number[][];
  slices?: { value: string; rows: number; metrics: Record<string, number> }[];
}
const golden = JSON.parse(readFileSync(path.join(FIXTURES, 'text_labels.json'), 'utf8')) as { binary: Golden; multiclass: Golden };

/** A workspace holding a copy of the golden's model and dataset. */
function workspaceWith(g: Golden): { ws: string; model: string; data: string } {
  const ws = tempWorkspace('text-labels');
  copyFileSync(path.join(FIXTURES, g.model), path.join(ws, g.model));
  copyFileSync(path.join(FIXTURES, g.dataset), path.join(ws, g.dataset));
  return { ws, model: path.join(ws, g.model), data: path.join(ws, g.dataset) };
}

/** log_loss to 1e-6 (onnxruntime's probabilities are float32, scikit-learn's float64); every other metric to 1e-9. */
function assertGolden(actual: Record<string, number>, expected: Record<string, number>): void {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
  for (const [k, v] of Object.entries(expected)) {
    const tolerance = k === 'log_loss' ? 1e-6 * Math.abs(v) : 1e-9;
    assert.ok(Math.abs(actual[k]! - v) <= tolerance, `${k}: scikit-learn ${v}, Runwise ${actual[k]}`);
  }
}

test('binary, text labels through a ZipMap (classlabels_strings): scikit-learn metrics with pos_label = classes_[1], per slice too', async () => {
  const g = golden.binary;
  const s = workspaceWith(g);
  const r = await evaluateModel({ model: s.model, data: s.data, target: g.target, features: g.features, sliceBy: g.slice_by, workspace: s.ws });
  assert.equal(r.task, 'binary');
  assert.deepEqual(r.classes, ['no', 'yes']);
  assert.equal(r.rows, 200);
  assertGolden(r.metrics, g.metrics);
  assert.deepEqual(r.confusion_matrix, g.confusion_matrix);
  assert.deepEqual(
    r.slices!.values.map((v) => [v.value, v.rows]),
    g.slices!.map((v) => [v.value, v.rows]),
  );
  r.slices!.values.forEach((v, i) => assertGolden(v.metrics, g.slices![i]!.metrics));
});

test('multiclass, text labels declared by the LinearClassifier with no ZipMap: scikit-learn metrics', async () => {
  const g = golden.multiclass;
  const s = workspaceWith(g);
  const r = await evaluateModel({ model: s.model, data: s.data, target: g.target, workspace: s.ws });
  assert.equal(r.task, 'multiclass');
  assert.deepEqual(r.classes, g.classes);
  assert.deepEqual(r.dataset.features, ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], 'the text target is not a feature');
  assertGolden(r.metrics, g.metrics);
  assert.deepEqual(r.confusion_matrix, g.confusion_matrix);
});

test('a JSON Lines dataset (target given as strings, not codes) gives the same metrics; a slice by the target shows its labels', async () => {
  const g = golden.binary;
  const s = workspaceWith(g);
  const [header, ...lines] = readFileSync(s.data, 'utf8').trim().split('\n');
  const names = header!.split(',');
  const jsonl = path.join(s.ws, 'churn.jsonl');
  writeFileSync(jsonl, `${lines.map((l) => JSON.stringify(Object.fromEntries(l.split(',').map((v, i) => [names[i]!, i < 3 ? Number(v) : v])))).join('\n')}\n`);
  const fromCsv = await evaluateModel({ model: s.model, data: s.data, target: g.target, features: g.features, sliceBy: g.target, workspace: s.ws });
  const fromJsonl = await evaluateModel({ model: s.model, data: jsonl, target: g.target, features: g.features, sliceBy: g.target, workspace: s.ws });
  for (const r of [fromCsv, fromJsonl]) {
    assertGolden(r.metrics, g.metrics);
    const trueCounts = g.confusion_matrix.map((row) => row[0]! + row[1]!);
    assert.deepEqual(
      r.slices!.values.map((v) => [v.value, v.rows]),
      [
        ['no', trueCounts[0]],
        ['yes', trueCounts[1]],
      ],
    );
    const accuracies = r.slices!.values.map((v) => v.metrics.accuracy!);
    assert.deepEqual(accuracies, [g.confusion_matrix[0]![0]! / trueCounts[0]!, g.confusion_matrix[1]![1]! / trueCounts[1]!], 'per true class, accuracy is that class’s recall');
  }
});

const BINARY: LinearClassifier = { weights: [-1, 1, -0.5, 0.5], bias: [0.1, -0.1], features: 2, classes: 2 };

for (const [what, labels, written] of [
  ['0/1 against classlabels_ints [0, 1]', [0, 1], (c: number) => String(c)],
  ['-1/1 against classlabels_ints [-1, 1] (negative int64 labels)', [-1, 1], (c: number) => (c === 0 ? '-1' : '1')],
  ['1.0/2.0 against classlabels_ints [1, 2] (the same numbers written as decimals)', [1, 2], (c: number) => (c === 0 ? '1.0' : '2.0')],
] as const) {
  test(`integer labels declared by the classifier node, no ZipMap: ${what}`, async () => {
    const ws = tempWorkspace('int-labels');
    const { x, y } = dataset(300, 2);
    writeFileSync(path.join(ws, 'model.onnx'), linearClassifier(BINARY, [...labels]));
    writeFileSync(path.join(ws, 'data.csv'), `a,b,y\n${x.map((r, i) => `${r[0]},${r[1]},${written(y[i]!)}`).join('\n')}\n`);
    const r = await evaluateModel({ model: path.join(ws, 'model.onnx'), data: path.join(ws, 'data.csv'), target: 'y', workspace: ws, batchSize: 64 });
    assert.equal(r.task, 'binary');
    assert.deepEqual(r.classes, labels);
    const p = softmaxRows(BINARY, x);
    const expected = binaryMetrics(y, Float64Array.from(y, (_, i) => p[2 * i + 1]!), 0.5, FLOAT32_EPS);
    assert.deepEqual(r.confusion_matrix, expected.confusionMatrix);
    assert.equal(r.metrics.accuracy, expected.metrics.accuracy);
    assert.ok(Math.abs(r.metrics.log_loss! - expected.metrics.log_loss!) < 1e-5, `log_loss ${r.metrics.log_loss} vs ${expected.metrics.log_loss}`);
  });
}

async function rejectsLeavingNoRun(ws: string, run: (tracker: Tracker) => Promise<EvaluationReport>, message: RegExp): Promise<void> {
  const tracker = Tracker.open(ws);
  try {
    await assert.rejects(run(tracker), (e: Error) => {
      assert.match(e.message, message);
      return e instanceof DatasetError;
    });
    assert.equal(tracker.searchRuns({}).items.length, 0, 'no run is left from an error in the first batch');
  } finally {
    tracker.close();
  }
}

test('a text target against a model without class labels: names the column, a value and what to do', async () => {
  const ws = tempWorkspace('no-labels');
  const { x, y } = dataset(40, 2);
  writeFileSync(path.join(ws, 'model.onnx'), probabilitiesOnly(BINARY));
  writeFileSync(path.join(ws, 'data.csv'), `a,b,churn\n${x.map((r, i) => `${r[0]},${r[1]},${y[i] ? 'yes' : 'no'}`).join('\n')}\n`);
  const firstText = y[0] ? 'yes' : 'no';
  await rejectsLeavingNoRun(
    ws,
    (tracker) => evaluateModel({ model: path.join(ws, 'model.onnx'), data: path.join(ws, 'data.csv'), target: 'churn', workspace: ws, tracker }),
    new RegExp(
      `^data\\.csv:2: data row 1: column 'churn' is '${firstText}', a text label, but model\\.onnx declares no class labels \\(its classes are the indices 0, 1\\): ` +
        `write the class indices in 'churn', or export the model with its labels`,
    ),
  );
});

test('a CSV target mixing True with 0 and 1 is refused, naming the row (pandas: text, which scikit-learn cannot compare); True/False only, JSON Lines true beside 1 are taken', async () => {
  const ws = tempWorkspace('mixed-target');
  const { x, y } = dataset(40, 2);
  writeFileSync(path.join(ws, 'model.onnx'), probabilitiesOnly(BINARY));
  const evaluate = (tracker: Tracker, data: string) => evaluateModel({ model: path.join(ws, 'model.onnx'), data: path.join(ws, data), target: 'churn', workspace: ws, tracker });
  const csv = (cell: (v: number, i: number) => string) => `a,b,churn\n${x.map((r, i) => `${r[0]},${r[1]},${cell(y[i]!, i)}`).join('\n')}\n`;
  writeFileSync(path.join(ws, 'mixed.csv'), csv((v, i) => (i === 0 ? (v ? 'True' : 'False') : String(v))));
  await rejectsLeavingNoRun(ws, (tracker) => evaluate(tracker, 'mixed.csv'), /^mixed\.csv:3: data row 2: column 'churn' mixes booleans and numbers \('[01]' here, '(True|False)' above\): pandas reads such a column as text/);
  const tracker = Tracker.open(ws);
  try {
    writeFileSync(path.join(ws, 'bools.csv'), csv((v) => (v ? 'True' : 'False')));
    writeFileSync(path.join(ws, 'numbers.csv'), csv((v) => String(v)));
    writeFileSync(path.join(ws, 'mixed.jsonl'), x.map((r, i) => JSON.stringify({ a: r[0], b: r[1], churn: i === 0 ? y[i] === 1 : y[i] })).join('\n') + '\n');
    const expected = (await evaluate(tracker, 'numbers.csv')).metrics;
    assert.deepEqual((await evaluate(tracker, 'bools.csv')).metrics, expected);
    assert.deepEqual((await evaluate(tracker, 'mixed.jsonl')).metrics, expected);
  } finally {
    tracker.close();
  }
});

for (const [what, value, message] of [
  ['a text value that is not one of the labels', 'maybe', /^churn_text\.csv:8: data row 7: column 'churn' is 'maybe', not one of the model's classes \(no, yes\)$/],
  ['a number against text labels', '1', /^churn_text\.csv:8: data row 7: column 'churn' is 1, not one of the model's classes \(no, yes\)$/],
  ['an empty target cell', '', /^churn_text\.csv:8: data row 7: column 'churn' has no value \(expected one of the model's classes: no, yes\)$/],
] as const) {
  test(`${what} is an error naming the file, row, column, value and labels`, async () => {
    const g = golden.binary;
    const s = workspaceWith(g);
    const lines = readFileSync(s.data, 'utf8').split('\n');
    lines[7] = lines[7]!.replace(/,(yes|no)$/, `,${value}`);
    writeFileSync(s.data, lines.join('\n'));
    await rejectsLeavingNoRun(s.ws, (tracker) => evaluateModel({ model: s.model, data: s.data, target: g.target, features: g.features, workspace: s.ws, tracker }), message);
  });
}

test("text labels that spell booleans ('False'/'True'): the target's true/TRUE/false match them as pandas reads them; other labels do not", () => {
  const source = { data: 'data.csv', column: 'y', model: 'model.onnx' };
  const python = new TargetClasses(source, ['False', 'True'], 2);
  assert.deepEqual(['False', 'True', 'false', 'TRUE', ' true', 'FALSE'].map((t) => python.indexOf(t)), [0, 1, 0, 1, 1, 0]);
  assert.deepEqual(['maybe', '2', 'yes'].map((t) => python.indexOf(t)), [-1, -1, -1]);
  const lower = new TargetClasses(source, ['false', 'true'], 2);
  assert.deepEqual(['True', 'FALSE'].map((t) => lower.indexOf(t)), [1, 0]);
  const words = new TargetClasses(source, ['no', 'yes'], 2);
  assert.equal(words.indexOf('true'), -1);
  assert.equal(words.notAClass('true', 3).message, "data.csv data row 3: column 'y' is 'true', not one of the model's classes (no, yes)");
  assert.equal(words.notAClass('1.0', 3).message, "data.csv data row 3: column 'y' is 1.0, not one of the model's classes (no, yes)");
});

test('runwise evaluate names the positive class of binary metrics (the second of the model\'s sorted classes, as scikit-learn\'s classes_[1])', async () => {
  const { main } = await import('../../../core/cli/main');
  const ws = tempWorkspace('eval-positive');
  const fixtures = path.join(__dirname, '..', '..', 'fixtures', 'evaluation');
  let out = '';
  const code = await main(['evaluate', path.join(fixtures, 'churn_text.onnx'), '--data', path.join(fixtures, 'churn_text.csv'), '--target', 'churn', '--features', 'tenure,monthly_charges,support_calls', '--workspace', ws], { out: (t) => (out += t), err: () => undefined });
  assert.equal(code, 0);
  assert.match(out, /^Task: binary \(inferred from the model outputs\), positive class yes, threshold 0\.5$/m);
});
