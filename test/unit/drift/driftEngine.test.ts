/**
 * The drift engine's choices (default tests at Evidently's boundaries, types, the drift-share
 * verdict, per-column options, sampling), its answers to bad input, logDriftRun, and `runwise drift`
 * end to end. The statistics themselves are golden-tested in statistics.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { main } from '../../../core/cli/main';
import { DatasetError } from '../../../core/dataset/dataset';
import { computeDrift, type DriftOptions } from '../../../core/drift/driftEngine';
import type { DriftReport } from '../../../core/drift/driftReport';
import { driftEntityName, logDriftRun } from '../../../core/drift/driftTracking';
import { DRIFT_REPORT_ARTIFACT } from '../../../core/tracker/model';
import { Tracker } from '../../../core/tracker/tracker';
import { tempWorkspace } from '../../support/tempWorkspace';

/** A seeded generator, so every file is the same on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 4294967296;
  };
}

function gauss(r: () => number, mean: number): number {
  return mean + Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** Writes a CSV with `rows` rows whose cells `cell(column, row)` gives. */
function csv(dir: string, name: string, columns: readonly string[], rows: number, cell: (column: string, row: number) => string | number): string {
  const lines = [columns.join(',')];
  for (let i = 0; i < rows; i++) lines.push(columns.map((c) => String(cell(c, i))).join(','));
  const file = path.join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

async function drift(cell: (column: string, row: number, side: 'ref' | 'cur') => string | number, columns: readonly string[], refRows: number, curRows: number, options: DriftOptions = {}): Promise<DriftReport> {
  const dir = tempWorkspace('drift');
  const ref = csv(dir, 'ref.csv', columns, refRows, (c, i) => cell(c, i, 'ref'));
  const cur = csv(dir, 'cur.csv', columns, curRows, (c, i) => cell(c, i, 'cur'));
  return computeDrift(ref, cur, options);
}

const column = (report: DriftReport, name: string) => {
  const c = report.columns.find((x) => x.name === name);
  assert.ok(c, `no column ${name} in the report`);
  return c;
};

test('default tests at 1,000 and 1,001 reference rows: ks/chisquare below, wasserstein/jensenshannon above', async () => {
  const r = random(1);
  const cell = (c: string, i: number) => (c === 'x' ? gauss(r, 0).toFixed(6) : ['a', 'b', 'c'][i % 3]!);
  const small = await drift(cell, ['x', 'c'], 1000, 300);
  assert.equal(column(small, 'x').test, 'ks');
  assert.equal(column(small, 'x').type, 'numerical');
  assert.equal(column(small, 'c').test, 'chisquare');
  assert.equal(column(small, 'c').type, 'categorical');
  const large = await drift(cell, ['x', 'c'], 1001, 300);
  assert.equal(column(large, 'x').test, 'wasserstein');
  assert.equal(column(large, 'c').test, 'jensenshannon');
});

test("infinities and pandas' missing words (#N/A, <NA>, -1.#IND) in a numeric column are left out as Evidently drops them; the column stays numerical", async () => {
  const r = random(7);
  const values = Array.from({ length: 300 }, () => gauss(r, 0).toFixed(6));
  const odd = ['inf', '-Infinity', '#N/A', '<NA>', '-1.#IND', 'NULL', '1e500'];
  const clean = await drift((_c, i, side) => (side === 'ref' ? values[i]! : values[(i * 7) % 300]!), ['x'], 300, 300);
  const dirty = await drift((_c, i, side) => (side === 'ref' ? values[i]! : i < odd.length ? odd[i]! : values[(i * 7) % 300]!), ['x'], 300, 300 + 0);
  const x = column(dirty, 'x');
  assert.equal(x.type, 'numerical');
  assert.equal(x.test, 'ks');
  assert.equal(x.current.missing, odd.length);
  assert.equal(x.drifted, false);
  // The same as the clean file without those rows' values: scipy's ks_2samp on the finite values.
  const without = await drift((_c, i, side) => (side === 'ref' ? values[i]! : values[((i + odd.length) * 7) % 300]!), ['x'], 300, 300 - odd.length);
  assert.equal(x.score, column(without, 'x').score);
  assert.equal(column(clean, 'x').type, 'numerical');
  // Hexadecimal text is not a number to pandas (JavaScript's Number reads 0x10 as 16): a text column.
  const hex = await drift((_c, i) => `0x${(i % 7).toString(16)}f`, ['h'], 50, 50);
  assert.equal(column(hex, 'h').type, 'categorical');
});

test("pandas' missing words are case-sensitive: none and na are labels, None and NA are missing", async () => {
  // A `test preparation course` column of none/completed: pandas reads 'none' as a label.
  const labels = ['none', 'completed', 'na', 'None', 'NA', 'nan'];
  const report = await drift((_c, i) => labels[i % labels.length]!, ['c'], 60, 60);
  const c = column(report, 'c');
  assert.equal(c.reference.missing, 30, 'None, NA and nan: 3 of each 6 rows');
  const histogram = c.reference.histogram as { labels: string[]; counts: number[] };
  assert.deepEqual([...histogram.labels].sort(), ['completed', 'na', 'none']);
  // NAN in a numeric column past the rows that type it: text to pandas (an object column), not an error.
  const value = (i: number) => String(((i * 37) % 1000) / 10);
  assert.equal(column(await drift((_c, i) => value(i), ['x'], 1500, 1500), 'x').type, 'numerical');
  const late = await drift((_c, i, side) => (side === 'cur' && i === 1200 ? 'NAN' : value(i)), ['x'], 1500, 1500);
  assert.equal(column(late, 'x').type, 'categorical');
  assert.equal(column(late, 'x').current.missing, 0);
});

test('values spanning more than the largest double (−1e308 to 1e308) are binned, not a crash; ks is scipy\'s', async () => {
  const ref = ['-1e308', '0', '1', '4'];
  const cur = ['1e308', '2', '3', '5'];
  const ks = await drift((_c, i, side) => (side === 'ref' ? ref[i]! : cur[i]!), ['x'], 4, 4, { test: 'ks' });
  // scipy.stats.ks_2samp([-1e308, 0, 1, 4], [1e308, 2, 3, 5]).pvalue
  assert.ok(Math.abs(column(ks, 'x').score! - 0.22857142857142856) < 1e-12, String(column(ks, 'x').score));
  for (const test of ['psi', 'jensenshannon', 'kl_div', 'hellinger'] as const) {
    const r = await drift((_c, i, side) => (side === 'ref' ? ref[i]! : cur[i]!), ['x'], 4, 4, { test });
    assert.ok(Number.isFinite(column(r, 'x').score), test);
  }
});

test("hellinger on a numerical column is Evidently's: Sturges bins over the distinct values of both sides", async () => {
  // evidently/legacy/calculations/stattests/hellinger_distance.py, computed with numpy 1.24.
  const ints = await drift((_c, i, side) => (side === 'ref' ? i % 11 : (i % 11) + 1), ['x'], 33, 33, { test: 'hellinger' });
  assert.ok(Math.abs(column(ints, 'x').score! - 0.09583153515587259) < 1e-12, String(column(ints, 'x').score));
  const ref = [-0.802, -1.324, -0.248, 0.42, 1.136, 0.11, -0.553, -0.785, 0.749, 1.635, 0.273, -1.233, -0.958, 1.6, 0.203, -1.732, -0.084, -1.163, -0.629, -0.488, -0.713, 0.553, -0.063, -0.589, 0.41, 0.83, -1.643, -0.257, -0.981, -0.173, -1.289, 0.021, -0.038, -0.304, -1.048, -0.396, -1.091, -1.355, 0.225, -1.109, 1.17, 0.717, -1.998, 0.272, -1.102, 0.033, 0.044, -1.988, -0.233, -0.256, 0.962, -1.181, 0.738, -1.099, -0.331, -0.84, 1.449, 0.568, 2.432, 0.642];
  const cur = [1.229, 1.225, -0.367, 0.223, 1.785, -0.136, 0.508, 0.277, 0.97, -0.101, 0.132, 0.567, 0.413, -0.651, 1.285, -1.128, -1.021, -1.111, 1.364, -0.097, -0.768, -0.95, 0.763, -0.86, -1.099, 0.975, -1.016, -0.055, 0.293, -0.19, 0.24, 1.773, -0.269, -1.085, -1.72, 0.075, -0.087, 0.592, -0.211, -0.227, -0.493, -0.272, 0.476, -0.118, 0.41, 2.391, 0.827, -1.434, 2.207, 0.683];
  const normal = await drift((_c, i, side) => (side === 'ref' ? ref[i]! : cur[i]!), ['x'], ref.length, cur.length, { test: 'hellinger' });
  assert.ok(Math.abs(column(normal, 'x').score! - 0.1416799184947664) < 1e-12, String(column(normal, 'x').score));
});

test("at a threshold equal to the score, each test decides as Evidently's does: ks and distances drift, other p-values and energy do not", async () => {
  const r = random(11);
  const values = Array.from({ length: 200 }, (_, i) => (gauss(r, i < 100 ? 0 : 0.2)).toFixed(4));
  const at = async (test: 'ks' | 'mannwhitney' | 'energy' | 'wasserstein') => {
    const cell = (_c: string, i: number, side: 'ref' | 'cur') => values[side === 'ref' ? i : 100 + i]!;
    const score = column(await drift(cell, ['x'], 100, 100, { test }), 'x').score!;
    return column(await drift(cell, ['x'], 100, 100, { test, threshold: score }), 'x').drifted;
  };
  assert.equal(await at('ks'), true, 'ks: p <= threshold');
  assert.equal(await at('mannwhitney'), false, 'mannwhitney: p < threshold');
  assert.equal(await at('energy'), false, 'energy: distance > threshold');
  assert.equal(await at('wasserstein'), true, 'wasserstein: distance >= threshold');
});

test('integer columns with 2, 3, 5 distinct values are categorical (z, chisquare); 6 are numerical (ks)', async () => {
  const values = { d2: 2, d3: 3, d5: 5, d6: 6 } as const;
  const report = await drift((c, i) => i % values[c as keyof typeof values], Object.keys(values), 600, 600);
  assert.equal(column(report, 'd2').test, 'z');
  assert.equal(column(report, 'd2').type, 'categorical');
  assert.equal(column(report, 'd3').test, 'chisquare');
  assert.equal(column(report, 'd3').type, 'categorical');
  assert.equal(column(report, 'd5').test, 'chisquare');
  assert.equal(column(report, 'd5').type, 'categorical');
  assert.equal(column(report, 'd6').test, 'ks');
  assert.equal(column(report, 'd6').type, 'numerical');
  // Identical distributions on both sides: nothing drifts, and every p-value is 1 or close to it.
  assert.equal(report.n_drifted, 0, JSON.stringify(report.columns.map((c) => [c.name, c.type, c.test, c.score, c.drifted])));
  for (const c of report.columns) assert.ok(c.score! > 0.9, `${c.name}: ${c.score}`);
  // Categorical by the reference (4 values) while the current side brings more: still the
  // categorical rule (chisquare at 1,000 rows or fewer, jensenshannon above), as Evidently.
  const wider = await drift((_c, i, side) => (side === 'ref' ? i % 4 : i % 9), ['k'], 100, 100);
  assert.deepEqual([column(wider, 'k').type, column(wider, 'k').test], ['categorical', 'chisquare']);
  const widerLarge = await drift((_c, i, side) => (side === 'ref' ? i % 4 : i % 9), ['k'], 2000, 100);
  assert.deepEqual([column(widerLarge, 'k').type, column(widerLarge, 'k').test], ['categorical', 'jensenshannon']);
});

test('text columns: two labels are binary (z), dates and free text are reported as not checked', async () => {
  const r = random(2);
  const report = await drift(
    (c, i) => (c === 'b' ? (r() < 0.5 ? 'yes' : 'no') : c === 'd' ? `2024-03-${String(1 + (i % 28)).padStart(2, '0')}` : `free text number ${i} with many words in it`),
    ['b', 'd', 't'],
    400,
    400,
  );
  assert.equal(column(report, 'b').type, 'binary');
  assert.equal(column(report, 'b').test, 'z');
  assert.equal(column(report, 'd').type, 'datetime');
  assert.equal(column(report, 'd').test, null);
  assert.match(column(report, 'd').skipped!, /datetime/);
  assert.equal(column(report, 't').type, 'text');
  assert.equal(column(report, 't').score, null);
  assert.equal(report.n_columns, 1, 'only the checked column counts');
});

test('the dataset drifts when the drifted share reaches drift_share', async () => {
  // The same 100 values on both sides, a and b moved past them on the current side: no chance in the verdicts.
  const cell = (c: string, i: number, side: 'ref' | 'cur') => (i % 100) / 10 + (side === 'cur' && (c === 'a' || c === 'b') ? 20 : 0);
  const report = await drift(cell, ['a', 'b', 'c', 'd'], 500, 500);
  assert.deepEqual(report.columns.filter((c) => c.drifted).map((c) => c.name), ['a', 'b']);
  assert.equal(report.n_drifted, 2);
  assert.equal(report.drift_share, 0.5);
  assert.equal(report.dataset_drift, true, 'a share of 0.5 reaches the default 0.5');
  const strict = await drift(cell, ['a', 'b', 'c', 'd'], 500, 500, { driftShare: 0.75 });
  assert.equal(strict.n_drifted, 2);
  assert.equal(strict.dataset_drift, false);
  assert.equal(strict.drift_share_threshold, 0.75);
});

test('per-column test and threshold, and one test and threshold for every column', async () => {
  const r = random(4);
  const cell = (c: string, _i: number, side: 'ref' | 'cur') => gauss(r, side === 'cur' && c === 'x' ? 0.3 : 0).toFixed(6);
  const report = await drift(cell, ['x', 'y'], 800, 800, { columnTests: { x: 'psi' }, columnThresholds: { y: 0.99 } });
  assert.equal(column(report, 'x').test, 'psi');
  assert.equal(column(report, 'x').threshold, 0.1);
  assert.equal(column(report, 'y').test, 'ks');
  assert.equal(column(report, 'y').threshold, 0.99);
  // A p-value of y below 0.99 counts as drift under that threshold.
  assert.equal(column(report, 'y').drifted, column(report, 'y').score! < 0.99);
  const every = await drift(cell, ['x', 'y'], 800, 800, { test: 'hellinger', threshold: 0.5 });
  for (const c of every.columns) {
    assert.equal(c.test, 'hellinger');
    assert.equal(c.threshold, 0.5);
  }
  await assert.rejects(drift((_c, i) => ['a', 'b', 'c'][i % 3]!, ['c'], 100, 100, { test: 'ks' }), /column 'c': the test 'ks' needs numbers/);
});

test('columns to include and to exclude', async () => {
  const cell = (_c: string, i: number) => i % 7;
  const only = await drift(cell, ['a', 'b', 'c'], 100, 100, { columns: ['c', 'a'] });
  assert.deepEqual(only.columns.map((c) => c.name), ['c', 'a']);
  const without = await drift(cell, ['a', 'b', 'c'], 100, 100, { exclude: ['b'] });
  assert.deepEqual(without.columns.map((c) => c.name), ['a', 'c']);
  await assert.rejects(drift(cell, ['a'], 10, 10, { columns: ['zz'] }), /--columns: no column 'zz'/);
  await assert.rejects(drift(cell, ['a'], 10, 10, { exclude: ['a'] }), /no columns left/);
});

test('every row is used unless a sample is asked for; a seeded sample says how many of how many', async () => {
  const r = random(5);
  const cell = () => gauss(r, 0).toFixed(6);
  const all = await drift(cell, ['x'], 900, 700);
  assert.deepEqual(all.rows, { reference: { read: 900, used: 900 }, current: { read: 700, used: 700 } });
  assert.equal(all.sample, undefined);
  assert.equal(column(all, 'x').reference.count, 900);
  const dir = tempWorkspace('drift-sample');
  const ref = csv(dir, 'ref.csv', ['x'], 900, cell);
  const cur = csv(dir, 'cur.csv', ['x'], 700, cell);
  const a = await computeDrift(ref, cur, { sample: 100 });
  const b = await computeDrift(ref, cur, { sample: 100 });
  const c = await computeDrift(ref, cur, { sample: 100, seed: 9 });
  assert.deepEqual(a.rows, { reference: { read: 900, used: 100 }, current: { read: 700, used: 100 } });
  assert.deepEqual(a.sample, { rows: 100, reference_rows: 900, current_rows: 700, seed: 0 });
  assert.equal(column(a, 'x').reference.count, 100);
  assert.equal(column(a, 'x').score, column(b, 'x').score, 'the same seed picks the same rows');
  assert.notEqual(column(a, 'x').reference.mean, column(c, 'x').reference.mean, 'another seed picks other rows');
  const bigger = await computeDrift(ref, cur, { sample: 800 });
  assert.deepEqual(bigger.rows, { reference: { read: 900, used: 800 }, current: { read: 700, used: 700 } }, 'a side with fewer rows than N is used whole');
  await assert.rejects(computeDrift(ref, cur, { sample: 0 }), /sample size must be a whole number/);
});

test('bad input: one clear message naming the file and what is wrong', async () => {
  const dir = tempWorkspace('drift-bad');
  const ref = csv(dir, 'ref.csv', ['x', 'y'], 20, (c, i) => (c === 'x' ? i : i % 3));
  const files = {
    empty: path.join(dir, 'empty.csv'),
    header: path.join(dir, 'header.csv'),
    ragged: path.join(dir, 'ragged.csv'),
    latin1: path.join(dir, 'latin1.csv'),
    other: path.join(dir, 'other.csv'),
  };
  const missing = path.join(dir, 'missing.csv');
  writeFileSync(files.empty, '');
  writeFileSync(files.header, 'x,y\n');
  writeFileSync(files.ragged, 'x,y\n1,2\n3,4,5\n4,5\n');
  writeFileSync(files.latin1, Buffer.from('x,y\n1,caf\xe9\n', 'latin1'));
  writeFileSync(files.other, 'x,z\n1,2\n');
  writeFileSync(missing, `x,y\n${Array.from({ length: 10 }, (_, i) => `${i},`).join('\n')}\n`);
  const expected: Record<keyof typeof files, RegExp> = {
    empty: /empty\.csv.*empty/i,
    header: /header\.csv: no data rows/,
    ragged: /ragged\.csv:3.*(field|column|value)/i,
    latin1: /latin1\.csv.*UTF-8/i,
    other: /the columns differ: .*other\.csv lacks y; .*ref\.csv lacks z/,
  };
  for (const [key, file] of Object.entries(files) as [keyof typeof files, string][]) {
    await assert.rejects(computeDrift(ref, file), (e: unknown) => {
      assert.ok(e instanceof DatasetError, `${key}: ${String(e)}`);
      assert.match(e.message, expected[key], key);
      assert.ok(!e.message.includes('\n'), `${key}: one line`);
      return true;
    });
  }
  // A column with no value on one side is reported as not checked; the others are checked.
  const report = await computeDrift(ref, missing);
  assert.equal(column(report, 'y').test, null);
  assert.match(column(report, 'y').skipped ?? '', /every cell is missing in .*missing\.csv/);
  assert.equal(column(report, 'y').current.missing, 10);
  assert.notEqual(column(report, 'x').test, null);
  assert.equal(report.n_columns, 1);
});

test('metric and param names from column names follow MLflow’s rule and stay unique', () => {
  const taken = new Set<string>();
  assert.equal(driftEntityName('drift_score/', 'age', taken), 'drift_score/age');
  assert.equal(driftEntityName('drift_score/', 'a/b', taken), 'drift_score/a_b');
  assert.equal(driftEntityName('drift_score/', 'a?b', taken), 'drift_score/a_b_2');
  assert.equal(driftEntityName('drift_score/', '<script>', taken), 'drift_score/_script_');
  assert.equal(driftEntityName('drift_score/', 'x'.repeat(300), taken).length, 250);
  assert.equal(driftEntityName('drift_score/', '', taken), 'drift_score/_', 'an empty column name does not end the metric name in /');
});

async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

test('runwise drift: --json shape, the text table, exit codes with --fail-on-drift, --log', async () => {
  const ws = tempWorkspace('drift-cli');
  const r = random(6);
  const ref = csv(ws, 'ref.csv', ['shift', 'same', 'odd/name'], 300, (c) => (c === 'odd/name' ? ['a', 'b'][Math.floor(r() * 2)]! : gauss(r, 0).toFixed(6)));
  const cur = csv(ws, 'cur.csv', ['shift', 'same', 'odd/name'], 300, (c) => (c === 'odd/name' ? ['a', 'b'][Math.floor(r() * 2)]! : gauss(r, c === 'shift' ? 3 : 0).toFixed(6)));

  const json = await runCli(['drift', ref, cur, '--json', '--workspace', ws]);
  assert.equal(json.code, 0, json.err);
  const report = JSON.parse(json.out) as DriftReport;
  for (const key of ['dataset_drift', 'drift_share', 'n_drifted', 'n_columns', 'columns']) assert.ok(key in report, key);
  assert.equal(report.n_columns, 3);
  assert.equal(report.n_drifted, 1);
  assert.equal(report.dataset_drift, false);
  for (const c of report.columns) {
    assert.deepEqual(Object.keys(c).slice(0, 6), ['name', 'type', 'test', 'score', 'threshold', 'drifted']);
    assert.equal(typeof c.reference.count, 'number');
    assert.ok(c.reference.histogram && c.current.histogram, 'histograms on both sides');
  }

  const text = await runCli(['drift', ref, cur, '--workspace', ws]);
  assert.equal(text.code, 0, text.err);
  const lines = text.out.split('\n');
  assert.match(lines[0]!, /^No dataset drift: 1 of 3 columns drifted/);
  assert.match(lines[1]!, /^Every row used: 300 reference and 300 current rows/);
  assert.match(lines[5]!, /^shift\s+numerical\s+ks\s.*DRIFT/, 'the drifted column first');

  // Drift share 1/3 reaches --drift-share 0.3: with --fail-on-drift the exit code is 1.
  const failing = await runCli(['drift', ref, cur, '--drift-share', '0.3', '--fail-on-drift', '--workspace', ws]);
  assert.equal(failing.code, 1);
  assert.match(failing.out, /^Dataset drift: 1 of 3/);
  assert.match(failing.err, /dataset drift: 1 of 3 columns drifted \(--fail-on-drift\)/);
  const passing = await runCli(['drift', ref, cur, '--drift-share', '0.3', '--workspace', ws]);
  assert.equal(passing.code, 0, 'drift without --fail-on-drift exits 0');

  // Nothing comparable (dates are not checked): said so, and --fail-on-drift does not pass it.
  const dates = (name: string, year: number) => csv(ws, name, ['day'], 100, (_c, i) => new Date(Date.UTC(year, 0, 1 + i)).toISOString().slice(0, 10));
  const nothing = await runCli(['drift', dates('a.csv', 2020), dates('b.csv', 2021), '--fail-on-drift', '--workspace', ws]);
  assert.equal(nothing.code, 1);
  assert.match(nothing.out, /^Nothing compared: none of the 1 columns could be checked/);
  assert.match(nothing.err, /no column could be compared \(--fail-on-drift\)/);
  // A ;-separated file is one column to a comma reader: an error that says so, not "no drift".
  writeFileSync(path.join(ws, 'semi.csv'), 'a;b\n1;2\n3;4\n');
  const semi = await runCli(['drift', path.join(ws, 'semi.csv'), path.join(ws, 'semi.csv'), '--workspace', ws]);
  assert.equal(semi.code, 1);
  assert.match(semi.err, /semi\.csv: one column, 'a;b': the header looks ;-separated/);
  // JSON Lines has no separator to get wrong: its one key 'price;usd' is compared.
  writeFileSync(path.join(ws, 'one.jsonl'), Array.from({ length: 30 }, (_, i) => JSON.stringify({ 'price;usd': i })).join('\n'));
  const oneKey = await runCli(['drift', path.join(ws, 'one.jsonl'), path.join(ws, 'one.jsonl'), '--json', '--workspace', ws]);
  assert.equal(oneKey.code, 0, oneKey.err);
  assert.equal((JSON.parse(oneKey.out) as DriftReport).n_columns, 1);

  // ' shift', as pandas names a column of a header written 'a, shift': the column read as 'shift'.
  const spaced = await computeDrift(ref, cur, { columns: [' shift'], exclude: [' same'] });
  assert.deepEqual(spaced.columns.map((c) => c.name), ['shift']);

  const sampled = await runCli(['drift', ref, cur, '--sample', '50', '--workspace', ws]);
  assert.match(sampled.out.split('\n')[1]!, /^Sampled 50 of 300 reference and 50 of 300 current rows \(seed 0\)/);

  const usage = await runCli(['drift', ref, cur, '--test', 'nope', '--workspace', ws]);
  assert.equal(usage.code, 2);
  assert.match(usage.err, /unknown test 'nope'/);
  const bad = await runCli(['drift', ref, path.join(ws, 'absent.csv'), '--workspace', ws]);
  assert.equal(bad.code, 1);
  assert.equal(bad.err.trim().split('\n').length, 1, bad.err);

  const logged = await runCli(['drift', ref, cur, '--log', '--json', '--test', 'same=wasserstein', '--workspace', ws]);
  assert.equal(logged.code, 0, logged.err);
  const runId = (JSON.parse(logged.out) as { run_id: string }).run_id;
  assert.match(runId, /^[0-9a-f]{32}$/);
  const tracker = Tracker.open(ws);
  try {
    const run = tracker.getRun(runId);
    assert.equal(run.info.status, 'FINISHED');
    const metrics = Object.fromEntries(run.metrics.map((m) => [m.key, m.value]));
    assert.equal(metrics.drift_share, 1 / 3);
    assert.equal(metrics['drift_score/shift'], report.columns.find((c) => c.name === 'shift')!.score);
    assert.ok('drift_score/odd_name' in metrics, Object.keys(metrics).join(', '));
    assert.equal(metrics.drifted_columns, report.n_drifted);
    const params = Object.fromEntries(run.params.map((p) => [p.key, p.value]));
    assert.equal(params['drift.test.same'], 'wasserstein 0.1');
    assert.equal(params['drift.sample'], 'all rows');
    assert.deepEqual(run.inputs.map((i) => i.tags.find((t) => t.key === 'mlflow.data.context')?.value).sort(), ['current', 'reference']);
    // The digest is each file's md5 (as a stage dependency records it), the sha256 an input tag.
    const byContext = new Map(run.inputs.map((i) => [i.tags.find((t) => t.key === 'mlflow.data.context')?.value, i]));
    for (const [context, file] of [['reference', ref], ['current', cur]] as const) {
      const input = byContext.get(context)!;
      assert.equal(input.dataset.digest, createHash('md5').update(readFileSync(file)).digest('hex'), context);
      assert.equal(input.tags.find((t) => t.key === 'runwise.sha256')?.value, createHash('sha256').update(readFileSync(file)).digest('hex'), context);
    }
    const artifacts = tracker.listArtifacts(runId, 'drift').map((f) => f.path);
    assert.deepEqual(artifacts, [DRIFT_REPORT_ARTIFACT]);
  } finally {
    tracker.close();
  }
});

test('logDriftRun records a report built elsewhere (as the pipeline step does)', async () => {
  const ws = tempWorkspace('drift-log');
  const r = random(7);
  const ref = csv(ws, 'ref.csv', ['x'], 100, () => gauss(r, 0).toFixed(6));
  const report = await computeDrift(ref, ref);
  const tracker = Tracker.open(ws);
  try {
    const runId = await logDriftRun(tracker, report, { runName: 'nightly drift' });
    const run = tracker.getRun(runId);
    assert.equal(run.info.runName, 'nightly drift');
    assert.equal(Object.fromEntries(run.metrics.map((m) => [m.key, m.value])).dataset_drift, 0);
    assert.equal(run.inputs[0]!.dataset.digest, createHash('md5').update(readFileSync(ref)).digest('hex'));
  } finally {
    tracker.close();
  }
});

test('md5 asked for: each file\'s md5 from the same read as its sha256, in one thread and in two', async () => {
  const ws = tempWorkspace('drift-md5');
  const r = random(11);
  const ref = csv(ws, 'ref.csv', ['x', 'c'], 300, (c) => (c === 'x' ? gauss(r, 0).toFixed(6) : ['a', 'b', 'c'][Math.floor(r() * 3)]!));
  const cur = csv(ws, 'cur.csv', ['x', 'c'], 300, (c) => (c === 'x' ? gauss(r, 1).toFixed(6) : ['a', 'b'][Math.floor(r() * 2)]!));
  const digest = (file: string, algorithm: string) => createHash(algorithm).update(readFileSync(file)).digest('hex');
  for (const threads of [false, true]) {
    const report = await computeDrift(ref, cur, { md5: true, threads });
    assert.equal(report.reference_md5, digest(ref, 'md5'), `threads ${threads}`);
    assert.equal(report.current_md5, digest(cur, 'md5'), `threads ${threads}`);
    assert.equal(report.reference_sha256, digest(ref, 'sha256'), `threads ${threads}`);
    assert.equal(report.current_sha256, digest(cur, 'sha256'), `threads ${threads}`);
    // Not asked for: not in the report (the --json output of a plain `runwise drift` is as before).
    const plain = await computeDrift(ref, cur, { threads });
    assert.equal('reference_md5' in plain, false);
    assert.equal('current_md5' in plain, false);
  }
});

test("pandas' and R's files: the unnamed index column left out; True/False, true/false and TRUE/FALSE one label; 3 and 3.0 one label", async () => {
  const dir = tempWorkspace('drift-pandas');
  const [rn, rf, rc] = [random(11), random(12), random(13)];
  const rows = Array.from({ length: 1600 }, () => ({ num: gauss(rn, 0).toFixed(4), flag: rf() < 0.3, cnt: Math.floor(rc() * 5) }));
  const write = (name: string, from: number, to: number, spell: (b: boolean) => string, count: (n: number) => string, index: boolean) => {
    const lines = [`${index ? '"",' : ''}num,flag,cnt`, ...rows.slice(from, to).map((x, i) => `${index ? `${from + i},` : ''}${x.num},${spell(x.flag)},${count(x.cnt)}`)];
    writeFileSync(path.join(dir, name), `${lines.join('\n')}\n`);
    return path.join(dir, name);
  };
  const ref = write('ref.csv', 0, 800, (b) => (b ? 'True' : 'False'), String, true);
  // Excel's trailing empty columns: unnamed, left out too.
  writeFileSync(ref, readFileSync(ref, 'utf8').replace(/\n/g, ',,\n'));
  const cur = write('cur.csv', 800, 1600, (b) => (b ? 'TRUE' : 'FALSE'), (n) => `${n}.0`, true);
  // The current side's cnt is text (one cell is), written as pandas writes a float column: 3.0.
  const withText = write('cur_text.csv', 800, 1600, (b) => (b ? 'true' : 'false'), (n) => `${n}.0`, false);
  writeFileSync(withText, readFileSync(withText, 'utf8').replace(/\n([^,\n]+),(\w+),[^,\n]+\n/, '\n$1,$2,unknown\n'));
  const report = await computeDrift(ref, cur);
  assert.equal(report.index_left_out, true);
  assert.deepEqual(report.columns.map((c) => c.name), ['num', 'flag', 'cnt']);
  assert.equal(report.n_drifted, 0, JSON.stringify(report.columns.map((c) => [c.name, c.type, c.test, c.score, c.drifted])));
  assert.equal(column(report, 'flag').type, 'binary');
  const mixed = await computeDrift(ref, withText);
  assert.equal(column(mixed, 'flag').drifted, false);
  assert.equal(column(mixed, 'cnt').type, 'categorical');
  // 3.0 is the label 3 (a new label, 'unknown', is drift to chisquare, as to Evidently's).
  const histogram = column(mixed, 'cnt').current.histogram as { labels: string[]; counts: number[] };
  assert.deepEqual(histogram.labels, ['0', '1', '2', '3', '4', 'unknown']);
  assert.equal(column(mixed, 'cnt').current.distinct, 6);
});

test('after the first 1,000 rows, a JSON object or a boolean in a numeric-looking column makes it text too', async () => {
  const dir = tempWorkspace('drift-late-jsonl');
  const rows = (late: unknown) => Array.from({ length: 1500 }, (_, i) => JSON.stringify({ x: i === 1300 ? late : i % 7, y: (i * 0.37) % 5 })).join('\n');
  const ref = path.join(dir, 'ref.jsonl');
  writeFileSync(ref, rows(3));
  for (const [name, late] of [['object', { k: 1 }], ['boolean', true]] as const) {
    const cur = path.join(dir, `${name}.jsonl`);
    writeFileSync(cur, rows(late));
    const report = await computeDrift(ref, cur, { threads: false });
    assert.equal(column(report, 'x').type, 'categorical', name);
    assert.equal(column(report, 'y').type, 'numerical', name);
  }
  const csvCur = csv(dir, 'cur.csv', ['x', 'y'], 1500, (c, i) => (c === 'x' ? (i === 1300 ? 'True' : i % 2) : i));
  const csvRef = csv(dir, 'ref.csv', ['x', 'y'], 1500, (c, i) => (c === 'x' ? i % 2 : i));
  assert.equal(column(await computeDrift(csvRef, csvCur), 'x').current.distinct, 3);
});

test('a text cell after the first 1,000 rows makes the column text, as pandas infers a column whole, instead of an error', async () => {
  const dir = tempWorkspace('drift-late');
  const ref = csv(dir, 'ref.csv', ['x', 'y'], 1500, (c, i) => (c === 'x' ? i % 7 : (i * 0.37) % 5));
  const cur = csv(dir, 'cur.csv', ['x', 'y'], 1500, (c, i) => (c === 'x' ? (i === 1300 ? 'unknown' : i % 7) : (i * 0.37) % 5));
  for (const threads of [false, true]) {
    const report = await computeDrift(ref, cur, { threads });
    assert.equal(column(report, 'x').type, 'categorical');
    assert.equal(column(report, 'x').drifted, false);
    assert.equal(column(report, 'x').current.distinct, 8);
    assert.equal(column(report, 'y').type, 'numerical');
  }
});

test('JSON Lines: a column first given after the rows that name the columns is the same column on both sides, not "lacks"', async () => {
  const dir = tempWorkspace('drift-late-key');
  const ref = path.join(dir, 'ref.jsonl');
  const cur = path.join(dir, 'cur.jsonl');
  writeFileSync(ref, Array.from({ length: 1500 }, (_, i) => JSON.stringify({ x: i % 7, region: i % 2 ? 'north' : 'south' })).join('\n'));
  writeFileSync(cur, Array.from({ length: 1500 }, (_, i) => JSON.stringify({ x: i % 7, ...(i >= 1200 ? { region: i % 2 ? 'north' : 'south' } : {}) })).join('\n'));
  const report = await computeDrift(ref, cur, { threads: false });
  assert.deepEqual(report.columns.map((c) => c.name), ['x', 'region']);
  assert.equal(column(report, 'region').current.missing, 1200);

  // A column that starts after the first 1,000 rows on both sides is compared too (it was left out,
  // and its shift of +100 went unreported).
  const lateRef = path.join(dir, 'late-ref.jsonl');
  const lateCur = path.join(dir, 'late-cur.jsonl');
  const late = (shift: number) => Array.from({ length: 2000 }, (_, i) => JSON.stringify({ x: i % 7, ...(i >= 1500 ? { late: (i % 50) + shift } : {}) })).join('\n');
  writeFileSync(lateRef, late(0));
  writeFileSync(lateCur, late(100));
  for (const threads of [false, true]) {
    const shifted = await computeDrift(lateRef, lateCur, { threads });
    assert.deepEqual(shifted.columns.map((c) => c.name), ['x', 'late']);
    assert.equal(column(shifted, 'late').drifted, true);
    assert.equal(column(shifted, 'late').reference.missing, 1500);
  }
  // A value nested deeper than JSON.stringify's stack: an error naming the line and column, not a RangeError.
  const deep = path.join(dir, 'deep.jsonl');
  writeFileSync(deep, `${JSON.stringify({ x: 1, region: 'north' })}\n{"x": 2, "region": ${'['.repeat(20000)}${']'.repeat(20000)}}\n`);
  await assert.rejects(computeDrift(ref, deep, { threads: false }), /deep\.jsonl:2: column 'region' holds a value nested too deeply to read \(expected a scalar\)/);
});

test("a Parquet string column of numeric-looking codes is categorical, as pandas.read_parquet keeps it; a DOUBLE column numerical", async () => {
  const ws = tempWorkspace('drift-parquet');
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const side = (file: string, shift: number) => {
    const codes = Array.from({ length: 200 }, (_, i) => String(101 + ((i + shift) % 8)));
    const x = Array.from({ length: 200 }, (_, i) => i / 10 + shift);
    writeFileSync(file, Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'code', data: codes, type: 'STRING' }, { name: 'x', data: x, type: 'DOUBLE' }] as never })));
  };
  side(path.join(ws, 'ref.parquet'), 0);
  side(path.join(ws, 'cur.parquet'), 1);
  const report = await computeDrift(path.join(ws, 'ref.parquet'), path.join(ws, 'cur.parquet'));
  const byName = new Map(report.columns.map((c) => [c.name, c]));
  assert.equal(byName.get('code')?.type, 'categorical');
  assert.equal(byName.get('code')?.test, 'chisquare');
  assert.equal(byName.get('x')?.type, 'numerical');
});
