// The Compare Runs table as data (core/views/runTableModel.ts), built from a real tracker's runs:
// columns, differing columns, sorting, grouping with mean/min/max, baseline deltas, run merges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Run } from '../../core/tracker/model';
import { NOTE_TAG, Tracker } from '../../core/tracker/tracker';
import {
  cellNumber,
  columnStats,
  deltaAgainst,
  differingColumns,
  groupRows,
  mergeRuns,
  runTableOf,
  sortRows,
  type RunTable,
} from '../../core/views/runTableModel';
import { tempWorkspace } from '../support/tempWorkspace';

/** Three finished runs and a running one, as a tracker records them. */
function sampleRuns(): Run[] {
  let clock = 1_700_000_000_000;
  const t = Tracker.open(tempWorkspace(), { now: () => (clock += 1000) });
  try {
    const exp = t.createExperiment('churn').experimentId;
    const make = (name: string, lr: string, opt: string, acc: number, extra: (id: string) => void = () => undefined) => {
      const id = t.createRun({ experimentId: exp, runName: name }).info.runId;
      t.logBatch(id, { params: [{ key: 'lr', value: lr }, { key: 'optimizer', value: opt }], metrics: [{ key: 'acc', value: acc, step: 3, timestamp: clock }] });
      extra(id);
      return id;
    };
    const a = make('a', '0.1', 'adam', 0.9, (id) => t.setTag(id, { key: 'team', value: 'ml' }));
    const b = make('b', '0.01', 'adam', 0.8, (id) => t.setNote(id, 'second try'));
    const c = make('c', '0.1', 'sgd', NaN, (id) => t.logMetric(id, { key: 'loss', value: Infinity, step: 1, timestamp: clock }));
    const d = make('d', '1e-3', 'adam', 0.95);
    for (const id of [a, b, c]) t.updateRun(id, { status: 'FINISHED', endTime: clock });
    return [a, b, c, d].map((id) => t.getRun(id));
  } finally {
    t.close();
  }
}

const col = (table: RunTable, id: string): number => {
  const i = table.columns.findIndex((c) => c.id === id);
  assert.ok(i >= 0, `column ${id} in ${table.columns.map((c) => c.id).join(', ')}`);
  return i;
};
const names = (table: RunTable, rows: readonly number[]) => rows.map((r) => table.rows[r]!.values[0]);

test('every attribute, metric, param and user tag is a column; values line up with them', () => {
  const runs = sampleRuns();
  const table = runTableOf(runs, runs[3]!.info.startTime + 5000);
  assert.deepEqual(
    table.columns.map((c) => c.id),
    ['attributes.run_name', 'attributes.status', 'attributes.start_time', 'attributes.duration', 'attributes.user_id', `tags.${NOTE_TAG}`, 'metrics.acc', 'metrics.loss', 'params.lr', 'params.optimizer', 'tags.team'],
  );
  assert.equal(table.columns[col(table, 'params.lr')]!.numeric, true, 'every lr is a plain number');
  assert.equal(table.columns[col(table, 'params.optimizer')]!.numeric, false);
  assert.deepEqual(table.columns.filter((c) => c.editable).map((c) => c.id), ['attributes.run_name', `tags.${NOTE_TAG}`, 'tags.team']);
  const [a, b, c, d] = table.rows;
  assert.deepEqual(a!.values.slice(col(table, 'metrics.acc')), [0.9, null, 0.1, 'adam', 'ml']);
  assert.equal(b!.values[col(table, `tags.${NOTE_TAG}`)], 'second try');
  assert.equal(c!.values[col(table, 'metrics.acc')], 'NaN', 'NaN travels as text');
  assert.equal(c!.values[col(table, 'metrics.loss')], 'Infinity');
  assert.equal(d!.status, 'RUNNING');
  assert.equal(d!.values[col(table, 'attributes.duration')], 5000, 'a running run is measured to now');
  assert.equal(d!.values[col(table, 'params.lr')], 0.001);
  assert.ok(!table.columns.some((c) => c.id.startsWith('tags.mlflow.') && c.id !== `tags.${NOTE_TAG}`), 'system tags are not columns');
});

test('differing columns: only those whose values are not all equal over the chosen rows', () => {
  const table = runTableOf(sampleRuns());
  const ids = (cols: number[]) => cols.map((c) => table.columns[c]!.id);
  const all = ids(differingColumns(table));
  assert.ok(all.includes('params.lr') && all.includes('metrics.loss') && all.includes('tags.team'));
  // a and d: both adam, both lack loss and note... but their lr and acc differ.
  const ad = ids(differingColumns(table, [0, 3]));
  assert.ok(!ad.includes('params.optimizer'), 'adam and adam are the same');
  assert.ok(!ad.includes('metrics.loss'), 'both lack loss');
  assert.ok(ad.includes('params.lr') && ad.includes('metrics.acc') && ad.includes('tags.team'), `a has a team tag, d none: ${ad.join(', ')}`);
  assert.deepEqual(differingColumns(table, [1]), [], 'one run differs from nothing');
});

test('sorting: numbers numerically, NaN after numbers, missing last both ways; text by code point; stable', () => {
  const table = runTableOf(sampleRuns());
  const rows = [0, 1, 2, 3];
  const acc = col(table, 'metrics.acc');
  assert.deepEqual(names(table, sortRows(table, rows, acc, false)), ['b', 'a', 'd', 'c']);
  assert.deepEqual(names(table, sortRows(table, rows, acc, true)), ['d', 'a', 'b', 'c']);
  const loss = col(table, 'metrics.loss');
  assert.deepEqual(names(table, sortRows(table, rows, loss, true)), ['c', 'a', 'b', 'd'], 'missing values keep their order, after the rest');
  const lr = col(table, 'params.lr');
  assert.deepEqual(names(table, sortRows(table, rows, lr, false)), ['d', 'b', 'a', 'c'], '1e-3 < 0.01 < 0.1 as numbers, not text');
  const opt = col(table, 'params.optimizer');
  assert.deepEqual(names(table, sortRows(table, rows, opt, true)), ['c', 'a', 'b', 'd']);
  assert.deepEqual(names(table, sortRows(table, [3, 2, 1, 0], col(table, 'tags.team'), false)), ['a', 'd', 'c', 'b']);
});

test('grouping by a param: groups in order of first appearance with mean, min and max of numeric columns', () => {
  const table = runTableOf(sampleRuns());
  const acc = col(table, 'metrics.acc');
  const groups = groupRows(table, [0, 1, 2, 3], col(table, 'params.optimizer'));
  assert.deepEqual(groups.map((g) => [g.value, names(table, g.rows)]), [
    ['adam', ['a', 'b', 'd']],
    ['sgd', ['c']],
  ]);
  const adam = groups[0]!.stats[acc]!;
  assert.equal(adam.count, 3);
  assert.ok(Math.abs(adam.mean - (0.9 + 0.8 + 0.95) / 3) < 1e-12);
  assert.deepEqual([adam.min, adam.max], [0.8, 0.95]);
  assert.equal(groups[1]!.stats[acc], undefined, 'NaN alone gives no stats');
  assert.equal(groups[0]!.stats[col(table, 'params.optimizer')], undefined, 'text columns have none');
  const byLr = groupRows(table, [0, 1, 2, 3], col(table, 'params.lr'));
  assert.deepEqual(byLr.map((g) => g.value), [0.1, 0.01, 0.001]);
  assert.deepEqual(columnStats(table, [0, 1, 2, 3], col(table, 'metrics.loss')), undefined, 'Infinity is no mean');
});

test('deltas against the baseline: numeric columns only, none where either side lacks a number', () => {
  const table = runTableOf(sampleRuns());
  const acc = col(table, 'metrics.acc');
  assert.ok(Math.abs(deltaAgainst(table, 3, 1, acc)! - 0.15) < 1e-12);
  assert.ok(Math.abs(deltaAgainst(table, 1, 0, acc)! + 0.1) < 1e-12);
  assert.equal(deltaAgainst(table, 0, 0, acc), 0);
  assert.equal(deltaAgainst(table, 2, 0, acc), undefined, 'NaN');
  assert.equal(deltaAgainst(table, 0, 1, col(table, 'params.optimizer')), undefined, 'text');
  assert.equal(deltaAgainst(table, 0, 1, col(table, 'metrics.loss')), undefined, 'missing');
  assert.equal(cellNumber('-Infinity'), -Infinity);
  assert.ok(Number.isNaN(cellNumber('adam')));
});

test('merging tracker changes: changed runs replace theirs, new ones append, removed ones go', () => {
  const runs = sampleRuns();
  const renamed: Run = { ...runs[1]!, info: { ...runs[1]!.info, runName: 'b2' } };
  const extra: Run = { ...runs[0]!, info: { ...runs[0]!.info, runId: 'f'.repeat(32), runName: 'e' } };
  const merged = mergeRuns(runs, [renamed, extra], new Set([runs[2]!.info.runId]));
  assert.deepEqual(merged.map((r) => r.info.runName), ['a', 'b2', 'd', 'e']);
  const table = runTableOf(merged);
  assert.ok(!table.columns.some((c) => c.id === 'metrics.loss'), 'the only run with loss is gone, and so is the column');
});
