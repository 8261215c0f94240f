/**
 * Metrics, plots and DVCLive files as a stage leaves them: nested keys, booleans, values that are
 * not metrics, step series from CSV/TSV/JSON, DVCLive's layout, and broken files that give an
 * error naming the file and line instead of throwing something else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { MetricsFileError, parseDelimited, readMetricsFile, readPlotsFile, readStageMetrics } from '../../../core/pipeline/metricsFiles';
import { tempWorkspace } from '../../support/tempWorkspace';

function write(ws: string, rel: string, text: string): string {
  const abs = path.join(ws, rel);
  mkdirSync(path.dirname(abs), { recursive: true });
  writeFileSync(abs, text);
  return abs;
}

function thrown(f: () => unknown): MetricsFileError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof MetricsFileError, `a MetricsFileError, not ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

test('JSON metrics: nested keys joined with dots, booleans as 1/0, strings and lists skipped', () => {
  const ws = tempWorkspace('metrics');
  const abs = write(ws, 'eval/metrics.json', JSON.stringify({ train: { loss: 0.25, acc: 0.9, tp: 12 }, passed: true, failed: false, model: 'rf', hist: [1, 2], none: null }));
  const { values, skipped } = readMetricsFile(abs, 'eval/metrics.json');
  assert.deepEqual(Object.fromEntries(values), { 'train.loss': 0.25, 'train.acc': 0.9, 'train.tp': 12, passed: 1, failed: 0 });
  assert.deepEqual(skipped.sort(), ['hist', 'model', 'none']);
});

test('YAML metrics are read as JSON ones', () => {
  const ws = tempWorkspace('metrics');
  const abs = write(ws, 'm.yaml', 'auc: 0.81\nper_class:\n  cat: 0.7\n  dog: .NaN\n');
  const { values } = readMetricsFile(abs, 'm.yaml');
  assert.equal(values.get('auc'), 0.81);
  assert.equal(values.get('per_class.cat'), 0.7);
  assert.ok(Number.isNaN(values.get('per_class.dog')));
});

test("JSON metrics as Python's json.dump writes them: NaN, Infinity and -Infinity are numbers", () => {
  const ws = tempWorkspace('metrics');
  // json.dump({"loss": float("nan"), "ratio": float("inf"), "low": float("-inf"), ...}) by default.
  const abs = write(ws, 'metrics.json', '{"loss": NaN, "ratio": Infinity, "low": -Infinity, "acc": 0.5, "note": "NaN", "per_class": {"cat": [NaN], "dog": NaN}, "__proto__": 2}');
  const { values, skipped } = readMetricsFile(abs, 'metrics.json');
  assert.ok(Number.isNaN(values.get('loss')), 'NaN is a NaN metric');
  assert.equal(values.get('ratio'), Infinity);
  assert.equal(values.get('low'), -Infinity);
  assert.equal(values.get('acc'), 0.5);
  assert.ok(Number.isNaN(values.get('per_class.dog')));
  assert.equal(values.get('__proto__'), 2, 'a key is data, whatever its name');
  assert.deepEqual(skipped.sort(), ['note', 'per_class.cat'], 'a string "NaN" is a string, not a number');
  // A plots file in JSON takes them too, as a series value.
  const plots = write(ws, 'loss.json', '[{"step": 0, "loss": 1.5}, {"step": 1, "loss": NaN}]');
  const loss = readPlotsFile(plots, 'loss.json').get('loss')!;
  assert.equal(loss.length, 2);
  assert.ok(Number.isNaN(loss[1]!.value));
  // Only Python's spellings: other words are still errors, with their line.
  for (const [text, word] of [
    ['{\n  "a": nan\n}', 'nan'],
    ['{\n  "a": inf\n}', 'inf'],
    ['{\n  "a": +Infinity\n}', '+Infinity'],
    ['{\n  "a": -NaN\n}', '-NaN'],
    ['{\n  "a": NaNa\n}', 'NaNa'],
  ] as const) {
    const bad = write(ws, 'bad.json', text);
    const e = thrown(() => readMetricsFile(bad, 'bad.json'));
    assert.equal(e.line, 2, `${word}: ${e.message}`);
    assert.match(e.message, /^bad\.json:2: invalid JSON near '/, word);
  }
});

test('broken metrics files name the file and line', () => {
  const ws = tempWorkspace('metrics');
  const json = write(ws, 'bad.json', '{\n  "a": 1,\n  "b": \n}\n');
  const e1 = thrown(() => readMetricsFile(json, 'bad.json'));
  assert.equal(e1.file, 'bad.json');
  assert.equal(e1.line, 4);
  assert.match(e1.message, /^bad\.json:4: invalid JSON/);
  const yaml = write(ws, 'bad.yaml', 'a: 1\nb: [1, 2\nc: 3\n');
  const e2 = thrown(() => readMetricsFile(yaml, 'bad.yaml'));
  assert.ok(e2.line !== undefined && e2.line >= 2, `line ${e2.line}`);
  const list = write(ws, 'list.json', '[1, 2]');
  assert.match(thrown(() => readMetricsFile(list, 'list.json')).message, /list\.json:1: expected a mapping .* found a list/);
  assert.match(thrown(() => readMetricsFile(path.join(ws, 'missing.json'), 'missing.json')).message, /missing\.json: does not exist/);
  // A metrics-style file given as a plot: said in JSON's words.
  assert.throws(() => readPlotsFile(write(ws, 'flat.json', '{"acc": 0.9}'), 'flat.json'), /flat\.json:1: expected a list of objects \(one per step\), found an object/);
  const bomb = write(ws, 'bomb.yaml', 'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n');
  assert.match(thrown(() => readMetricsFile(bomb, 'bomb.yaml')).message, /^bomb\.yaml/);
});

test('CSV plots: one series per numeric column, step from the step column', () => {
  const ws = tempWorkspace('metrics');
  const abs = write(ws, 'loss.csv', 'step,loss,acc,label\n0,1.5,0.5,a\n5,1.0,0.6,b\n10,0.5,,c\n');
  const series = readPlotsFile(abs, 'loss.csv');
  assert.deepEqual([...series.keys()].sort(), ['acc', 'loss']);
  assert.deepEqual(series.get('loss'), [
    { step: 0, value: 1.5 },
    { step: 5, value: 1.0 },
    { step: 10, value: 0.5 },
  ]);
  assert.deepEqual(series.get('acc'), [
    { step: 0, value: 0.5 },
    { step: 5, value: 0.6 },
  ]);
});

test("a plot's x, y and template from dvc.yaml: x the step and no series, only the y columns, a confusion matrix no series", () => {
  const ws = tempWorkspace('metrics');
  const abs = write(ws, 'train.csv', 'epoch,loss,acc\n1,1.5,0.5\n2,1.0,0.6\n');
  const byEpoch = readPlotsFile(abs, 'train.csv', [], { x: 'epoch' });
  assert.deepEqual([...byEpoch.keys()].sort(), ['acc', 'loss'], 'epoch is the axis, not a metric');
  assert.deepEqual(byEpoch.get('loss'), [{ step: 1, value: 1.5 }, { step: 2, value: 1.0 }]);
  assert.deepEqual([...readPlotsFile(abs, 'train.csv', [], { x: 'epoch', y: ['loss'] }).keys()], ['loss']);
  // A real-valued x (an ROC curve's fpr) is not a step: rows are, and fpr is no series either.
  const roc = write(ws, 'roc.json', JSON.stringify({ roc: [{ fpr: 0, tpr: 0 }, { fpr: 0.5, tpr: 0.9 }] }));
  assert.deepEqual(readPlotsFile(roc, 'roc.json', [], { x: 'fpr', y: ['tpr'] }).get('roc/tpr'), [{ step: 0, value: 0 }, { step: 1, value: 0.9 }]);
  const confusion = write(ws, 'classes.csv', 'actual,predicted\n1,1\n0,1\n');
  assert.equal(readPlotsFile(confusion, 'classes.csv', [], { x: 'actual', y: ['predicted'], template: 'confusion' }).size, 0);
  // Through a stage: the props come from dvc.yaml's plots entry.
  const stage = readStageMetrics(ws, [{ path: 'classes.csv', kind: 'plots', plot: { template: 'confusion', x: 'actual', y: ['predicted'] } }, { path: 'train.csv', kind: 'plots', plot: { x: 'epoch' } }]);
  assert.deepEqual([...stage.series.keys()].sort(), ['acc', 'loss']);
});

test('TSV and JSON plots without a step column use the row index; quoted CSV cells', () => {
  const ws = tempWorkspace('metrics');
  const tsv = readPlotsFile(write(ws, 'p.tsv', 'precision\trecall\n0.9\t0.1\n0.8\t0.4\n'), 'p.tsv');
  assert.deepEqual(tsv.get('recall'), [
    { step: 0, value: 0.1 },
    { step: 1, value: 0.4 },
  ]);
  const json = readPlotsFile(write(ws, 'p.json', JSON.stringify({ prc: [{ precision: 1, recall: 0 }, { precision: 0.5, recall: 1 }] })), 'p.json');
  assert.deepEqual(json.get('prc/precision'), [
    { step: 0, value: 1 },
    { step: 1, value: 0.5 },
  ]);
  const list = readPlotsFile(write(ws, 'l.json', JSON.stringify([{ step: 3, loss: 2 }, { step: 4, loss: 1 }])), 'l.json');
  assert.deepEqual(list.get('loss'), [
    { step: 3, value: 2 },
    { step: 4, value: 1 },
  ]);
  const quoted = parseDelimited('name,"a ""b"""\n"x,\ny",2\n', ',', 'q.csv');
  assert.deepEqual(quoted.header, ['name', 'a "b"']);
  assert.deepEqual(quoted.rows[0]!.cells, ['x,\ny', '2']);
  assert.equal(readPlotsFile(write(ws, 'confusion.png', 'not read'), 'confusion.png').size, 0);
});

test('broken plots files name the file and line', () => {
  const ws = tempWorkspace('metrics');
  const ragged = write(ws, 'r.csv', 'step,loss\n0,1\n1,2,3\n');
  assert.match(thrown(() => readPlotsFile(ragged, 'r.csv')).message, /^r\.csv:3: expected 2 fields as in the header, found 3/);
  const badStep = write(ws, 's.csv', 'step,loss\n0,1\nx,2\n');
  assert.match(thrown(() => readPlotsFile(badStep, 's.csv')).message, /^s\.csv:3: the step column holds 'x'/);
  const open = write(ws, 'o.csv', 'a,b\n1,"2\n3,4\n');
  assert.match(thrown(() => readPlotsFile(open, 'o.csv')).message, /^o\.csv:2: a quoted field is never closed/);
  const empty = write(ws, 'e.csv', '');
  assert.match(thrown(() => readPlotsFile(empty, 'e.csv')).message, /^e\.csv:1: is empty/);
  const scalars = write(ws, 'n.json', '[1, 2]');
  assert.match(thrown(() => readPlotsFile(scalars, 'n.json')).message, /item 1 of the list is a number/);
});

test("DVCLive's layout: metrics.json at its step, series from plots/metrics, names from the path", () => {
  const ws = tempWorkspace('metrics');
  write(ws, 'dvclive/metrics.json', JSON.stringify({ train: { loss: 0.2 }, acc: 0.93, step: 2 }));
  write(ws, 'dvclive/plots/metrics/train/loss.tsv', 'timestamp\tstep\tloss\n1700000000000\t0\t0.9\n1700000000100\t1\t0.5\n1700000000200\t2\t0.2\n');
  write(ws, 'dvclive/plots/metrics/acc.tsv', 'timestamp\tstep\tacc\n1700000000000\t0\t0.5\n1700000000200\t2\t0.93\n');
  write(ws, 'dvclive/plots/images/x.png', 'png');
  const m = readStageMetrics(ws, [
    { path: 'dvclive/metrics.json', kind: 'metrics' },
    { path: 'dvclive/plots', kind: 'plots' },
  ]);
  assert.deepEqual(m.problems, []);
  assert.deepEqual(Object.fromEntries(m.scalars), { 'train/loss': { step: 2, value: 0.2 }, acc: { step: 2, value: 0.93 } });
  assert.deepEqual(m.series.get('train/loss')?.map((p) => p.value), [0.9, 0.5, 0.2]);
  assert.deepEqual(m.series.get('acc')?.map((p) => p.step), [0, 2]);
  assert.equal(m.series.size, 2, 'timestamp is not a metric; images are not read');
});

test('a stage with a missing metrics file and a good plots file: the problem is collected, the rest read', () => {
  const ws = tempWorkspace('metrics');
  write(ws, 'plots/loss.csv', 'step,loss\n0,1\n1,0.5\n');
  write(ws, 'scores.json', '{"f1": 0.7, "note": "ok"}');
  const m = readStageMetrics(ws, [
    { path: 'missing.json', kind: 'metrics' },
    { path: 'scores.json', kind: 'metrics' },
    { path: 'plots', kind: 'plots' },
    { path: 'model.bin', kind: 'out' },
  ]);
  assert.equal(m.problems.length, 1);
  assert.equal(m.problems[0]!.file, 'missing.json');
  assert.deepEqual(m.scalars.get('f1'), { step: 0, value: 0.7 });
  assert.deepEqual(m.skipped, ['scores.json: note']);
  assert.equal(m.series.get('loss')?.length, 2);
});
