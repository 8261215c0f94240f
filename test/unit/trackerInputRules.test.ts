// What the tracker refuses to store: names MLflow refuses, parent links that would make a cycle;
// and what a CSV export must never hand a spreadsheet (formulas).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tracker, PARENT_RUN_TAG } from '../../core/tracker/tracker';
import { TrackerError } from '../../core/tracker/trackerError';
import { posixNormpath } from '../../core/tracker/entityNames';
import { csvCell, runsToCsv } from '../../core/tracker/runExport';
import { tempWorkspace } from '../support/tempWorkspace';

function invalidParameter(fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TrackerError, `expected a TrackerError, got ${String(e)}`);
    assert.equal(e.code, 'INVALID_PARAMETER_VALUE');
    if (message) assert.match(e.message, message);
    return true;
  });
}

const REFUSED = ['..', '../../etc/passwd', '/abs', 'a//b', 'a/', './a', 'a/./b', 'a/../b', 'nul\0byte', 'new\nline', 'tab\tkey', 'semi;colon', 'star*', 'quote"'];
const ACCEPTED = ['loss', 'val loss', 'train/acc', 'eval:f1', 'lr-schedule.warmup_steps', 'точность', '精度', 'x2'];

test("posixNormpath is Python's posixpath.normpath", () => {
  const cases: [string, string][] = [
    ['', '.'],
    ['a//b', 'a/b'],
    ['a/./b/', 'a/b'],
    ['a/../b', 'b'],
    ['../a', '../a'],
    ['/..', '/'],
    ['//a', '//a'],
    ['///a', '/a'],
    ['a/b/../../..', '..'],
  ];
  for (const [input, expected] of cases) assert.equal(posixNormpath(input), expected, input);
});

test('metric, param and tag names MLflow refuses are refused, and nothing of the batch lands', () => {
  const t = Tracker.open(tempWorkspace());
  try {
    const run = t.createRun().info.runId;
    const ts = Date.now();
    for (const bad of REFUSED) {
      invalidParameter(() => t.logBatch(run, { metrics: [{ key: 'ok', value: 1, step: 0, timestamp: ts }, { key: bad, value: 1, step: 0, timestamp: ts }] }), /Invalid metric name/);
      invalidParameter(() => t.logBatch(run, { params: [{ key: 'ok', value: '1' }, { key: bad, value: '1' }] }), /Invalid parameter name/);
      invalidParameter(() => t.logBatch(run, { tags: [{ key: bad, value: '1' }] }), /Invalid tag name/);
      invalidParameter(() => t.setExperimentTag('0', { key: bad, value: '1' }), /Invalid tag name/);
    }
    const stored = t.getRun(run);
    assert.deepEqual(stored.metrics, []);
    assert.deepEqual(stored.params, []);
    assert.deepEqual(Object.keys(t.getExperiment('0').tags), []);
    for (const good of ACCEPTED) {
      t.logBatch(run, { metrics: [{ key: good, value: 1, step: 0, timestamp: ts }], params: [{ key: good, value: 'v' }], tags: [{ key: good, value: 'v' }] });
    }
    assert.deepEqual(t.getRun(run).params.map((p) => p.key).sort(), [...ACCEPTED].sort());
  } finally {
    t.close();
  }
});

test('runs/create tags follow the same rule: a refused tag creates no run', () => {
  const t = Tracker.open(tempWorkspace());
  try {
    for (const bad of REFUSED) invalidParameter(() => t.createRun({ runName: 'x', tags: [{ key: bad, value: 'v' }] }), /Invalid tag name/);
    invalidParameter(() => t.createRun({ runName: 'x', tags: [{ key: 'k'.repeat(251), value: 'v' }] }), /maximum length/);
    assert.equal(t.searchRuns({ viewType: 'ALL' }).items.length, 0);
  } finally {
    t.close();
  }
});

test('the message says what the name would resolve to, with control characters visible', () => {
  const t = Tracker.open(tempWorkspace());
  try {
    const run = t.createRun().info.runId;
    invalidParameter(() => t.logParam(run, { key: 'a//b', value: '1' }), /would resolve to 'a\/b'/);
    invalidParameter(() => t.logParam(run, { key: 'x\ny', value: '1' }), /'x\\u000ay'/);
  } finally {
    t.close();
  }
});

test('logged-model tags and params follow the same rule', () => {
  const t = Tracker.open(tempWorkspace());
  try {
    invalidParameter(() => t.createLoggedModel({ name: 'm', tags: [{ key: '../x', value: '1' }] }), /Invalid tag name/);
    const model = t.createLoggedModel({ name: 'm' });
    invalidParameter(() => t.logLoggedModelParams(model.modelId, [{ key: '/etc/passwd', value: '1' }]), /Invalid parameter name/);
    invalidParameter(() => t.setLoggedModelTags(model.modelId, [{ key: 'a//b', value: '1' }]), /Invalid tag name/);
  } finally {
    t.close();
  }
});

test('a parent link that would make a cycle is refused; a chain is fine', () => {
  const t = Tracker.open(tempWorkspace());
  try {
    const a = t.createRun({ runName: 'a' }).info.runId;
    const b = t.createRun({ runName: 'b', tags: [{ key: PARENT_RUN_TAG, value: a }] }).info.runId;
    const c = t.createRun({ runName: 'c', tags: [{ key: PARENT_RUN_TAG, value: b }] }).info.runId;
    assert.equal(t.getRunInfo(c).parentRunId, b);
    invalidParameter(() => t.setTag(a, { key: PARENT_RUN_TAG, value: a }), /cannot be its own ancestor/);
    invalidParameter(() => t.setTag(a, { key: PARENT_RUN_TAG, value: b }), /cannot be its own ancestor/);
    invalidParameter(() => t.setTag(a, { key: PARENT_RUN_TAG, value: c }), /cannot be its own ancestor/);
    // Nothing of the refused writes stayed: no tag, no link.
    assert.equal(t.getRunInfo(a).parentRunId, null);
    assert.equal(t.getRun(a).tags.find((x) => x.key === PARENT_RUN_TAG), undefined);
    // Re-parenting without a cycle is allowed.
    const d = t.createRun({ runName: 'd' }).info.runId;
    t.setTag(c, { key: PARENT_RUN_TAG, value: d });
    assert.equal(t.getRunInfo(c).parentRunId, d);
  } finally {
    t.close();
  }
});

test('deleting the parent tag unlinks the run from its parent', () => {
  const t = Tracker.open(tempWorkspace());
  try {
    const a = t.createRun({ runName: 'a' }).info.runId;
    const b = t.createRun({ runName: 'b', tags: [{ key: PARENT_RUN_TAG, value: a }] }).info.runId;
    t.deleteTag(b, PARENT_RUN_TAG);
    assert.equal(t.getRunInfo(b).parentRunId, null);
    // Now the reverse link is no cycle.
    t.setTag(a, { key: PARENT_RUN_TAG, value: b });
    assert.equal(t.getRunInfo(a).parentRunId, b);
  } finally {
    t.close();
  }
});

test('the cycle check ends on a database that already holds a cycle', () => {
  const t = Tracker.open(tempWorkspace());
  try {
    const a = t.createRun({ runName: 'a' }).info.runId;
    const b = t.createRun({ runName: 'b' }).info.runId;
    // An older Runwise stored A→B→A; write it as it would have.
    t.db.exec(`UPDATE runs SET parent_id = (SELECT id FROM runs WHERE run_uuid = '${b}') WHERE run_uuid = '${a}'`);
    t.db.exec(`UPDATE runs SET parent_id = (SELECT id FROM runs WHERE run_uuid = '${a}') WHERE run_uuid = '${b}'`);
    const c = t.createRun({ runName: 'c' }).info.runId;
    invalidParameter(() => t.setTag(a, { key: PARENT_RUN_TAG, value: b }), /own ancestor/);
    t.setTag(c, { key: PARENT_RUN_TAG, value: a });
    assert.equal(t.getRunInfo(c).parentRunId, a);
  } finally {
    t.close();
  }
});

test('CSV cells a spreadsheet would run as formulas are neutralised; numbers are not', () => {
  for (const formula of ['=HYPERLINK("http://x","y")', '+1+1', '-2+3+cmd|\' /C calc\'!A0', '@SUM(A1)', '\tx', '\rx', '=1']) {
    const cell = csvCell(formula);
    assert.ok(cell.startsWith(`"'`), `${JSON.stringify(formula)} → ${cell}`);
    assert.equal(cell.slice(2, -1).replace(/""/g, '"'), formula);
  }
  for (const plain of ['-0.5', '+1e-3', '42', 'adam', 'a=b', '']) assert.equal(csvCell(plain), plain);

  const t = Tracker.open(tempWorkspace());
  try {
    const run = t.createRun({ runName: '=cmd|" /C calc"!A0' }).info.runId;
    t.logBatch(run, { params: [{ key: 'lr', value: '-0.01' }, { key: 'note', value: '@evil' }], tags: [{ key: 'owner', value: '+danger' }] });
    const csv = runsToCsv([t.getRun(run)]);
    const cells = csv.trimEnd().split('\n')[1]!;
    assert.ok(cells.includes(`"'=cmd|"" /C calc""!A0"`), cells);
    assert.ok(cells.includes(`"'@evil"`), cells);
    assert.ok(cells.includes(`"'+danger"`), cells);
    assert.ok(cells.includes(',-0.01,'), cells);
    assert.ok(!/(^|,)[=+@]/.test(cells), `no cell starts a formula: ${cells}`);
  } finally {
    t.close();
  }
});
