/**
 * Gate rules: the value expression (numbers, previous.<metric>, arithmetic, errors with their
 * position), where a rule's metric is read, and the outcome's message with both values, the rule and
 * its file:line, a missing metric and a first run without a previous one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GateSyntaxError, parseGateValue } from '../../../core/language/pipeline/gateExpression';
import { AliasReferences, evaluateGate, expandGroupGates, gateTarget, type GateInputs, type Lookup } from '../../../core/pipeline/gates';
import type { GateRule, PipelineGraph, PipelineStage } from '../../../core/pipeline/pipelineModel';
import { findStage } from '../../../core/pipeline/pipelineRun';
import type { Tracker } from '../../../core/tracker/tracker';

const rule = (metric: string, op: GateRule['op'], value: number | string, stage?: string): GateRule => ({ file: 'runwise.yaml', line: 12, metric, op, value, ...(stage ? { stage } : {}) });

function inputs(current: Record<string, number>, previous: Record<string, number> | undefined): GateInputs {
  return {
    current: (t): Lookup => (t.metric in current ? { value: current[t.metric]!, stage: 'train' } : { missing: `metric '${t.metric}' is missing: no stage has it` }),
    reference: (_scope, metric) => (previous === undefined ? undefined : metric in previous ? { value: previous[metric]! } : { missing: `the previous run has no metric '${metric}'` }),
  };
}

test('values: numbers, references with dotted and slashed names, arithmetic with precedence', () => {
  assert.deepEqual(parseGateValue(rule('a', '>', 0.5)), { kind: 'number', value: 0.5 });
  assert.deepEqual(parseGateValue(rule('a', '>', '0.5')), { kind: 'number', value: 0.5 });
  assert.deepEqual(parseGateValue(rule('a', '>', 'previous.train.loss')), { kind: 'reference', scope: 'previous', metric: 'train.loss', text: 'previous.train.loss' });
  assert.deepEqual(parseGateValue(rule('a', '>', 'previous.train/loss')), { kind: 'reference', scope: 'previous', metric: 'train/loss', text: 'previous.train/loss' });
  assert.deepEqual(parseGateValue(rule('a', '>', 'previous.`val loss`')), { kind: 'reference', scope: 'previous', metric: 'val loss', text: 'previous.`val loss`' });
  const e = parseGateValue(rule('a', '>', 'previous.loss * 1.05 - 0.01'));
  assert.equal(e.kind, 'binary');
  assert.equal(e.kind === 'binary' && e.op, '-', 'multiplication binds tighter');
  assert.equal(parseGateValue(rule('a', '>', '-(1 + 2) * 2')).kind, 'binary');
});

test('bad values give the file, line and position', () => {
  const cases: [string, RegExp][] = [
    ['latest.roc_auc', /position 1: 'latest' cannot be a reference; a reference is previous\.<metric> or <alias>\.<metric>/],
    ['0.9 + v2.roc_auc', /position 7: 'v2' cannot be a reference/],
    ['previous', /position 9: expected '\.' and a metric name after 'previous'/],
    ['previous.', /expected a metric name after 'previous\.'/],
    ['0.5 0.6', /position 5: unexpected '0'/],
    ['(1 + 2', /expected '\)' to close the '\(' at position 1, found the end/],
    ['', /expected a number or a reference/],
  ];
  for (const [value, re] of cases) {
    assert.throws(
      () => parseGateValue(rule('a', '>', value)),
      (err: unknown) => err instanceof GateSyntaxError && /^runwise\.yaml:12: invalid gate value/.test(err.message) && re.test(err.message),
      value,
    );
  }
  // Any other identifier is a registry alias scope.
  assert.deepEqual(parseGateValue(rule('a', '>', 'champion.roc_auc')), { kind: 'reference', scope: 'champion', metric: 'roc_auc', text: 'champion.roc_auc' });
});

test('a passing and a failing numeric gate name the rule, its file:line and both values', () => {
  const pass = evaluateGate(rule('accuracy', '>=', 0.9), { metric: 'accuracy' }, inputs({ accuracy: 0.93 }, undefined));
  assert.equal(pass.passed, true);
  const fail = evaluateGate(rule('accuracy', '>=', 0.9), { metric: 'accuracy' }, inputs({ accuracy: 0.85 }, undefined));
  assert.equal(fail.passed, false);
  assert.equal(fail.actual, 0.85);
  assert.equal(fail.expected, 0.9);
  assert.equal(fail.message, "gate 'accuracy >= 0.9' (runwise.yaml:12) failed: accuracy is 0.85 (stage 'train'), needs >= 0.9");
  for (const [op, a, b, want] of [
    ['>', 1, 1, false],
    ['<', 0, 1, true],
    ['<=', 1, 1, true],
    ['==', 2, 2, true],
    ['!=', 2, 2, false],
  ] as const) {
    assert.equal(evaluateGate(rule('m', op, b), { metric: 'm' }, inputs({ m: a }, undefined)).passed, want, `${a} ${op} ${b}`);
  }
});

test('a missing metric fails the gate and says so', () => {
  const r = evaluateGate(rule('f1', '>', 0.5), { metric: 'f1' }, inputs({ accuracy: 1 }, undefined));
  assert.equal(r.passed, false);
  assert.match(r.message, /^gate 'f1 > 0\.5' \(runwise\.yaml:12\) failed: metric 'f1' is missing/);
});

test('previous.<metric>: compared with the last successful run; missing there fails; no previous run passes and says why', () => {
  const worse = evaluateGate(rule('loss', '<=', 'previous.loss'), { metric: 'loss' }, inputs({ loss: 0.31 }, { loss: 0.29 }));
  assert.equal(worse.passed, false);
  assert.equal(worse.message, "gate 'loss <= previous.loss' (runwise.yaml:12) failed: loss is 0.31 (stage 'train'), previous.loss is 0.29");
  const better = evaluateGate(rule('loss', '<=', 'previous.loss * 1.1'), { metric: 'loss' }, inputs({ loss: 0.31 }, { loss: 0.29 }));
  assert.equal(better.passed, true);
  assert.match(better.message, /previous\.loss is 0\.29, previous\.loss \* 1\.1 = 0\.319/);
  const missing = evaluateGate(rule('loss', '<=', 'previous.loss'), { metric: 'loss' }, inputs({ loss: 0.31 }, { acc: 1 }));
  assert.equal(missing.passed, false);
  assert.match(missing.message, /the previous run has no metric 'loss'/);
  const first = evaluateGate(rule('loss', '<=', 'previous.loss'), { metric: 'loss' }, inputs({ loss: 0.31 }, undefined));
  assert.equal(first.passed, true);
  assert.match(first.message, /there is no previous run of stage 'train' to compare with/);
});

test('where a rule reads its metric: stage:metric, file:metric, or the rule stage', () => {
  const find = (name: string) => (name === 'train' || name === 'evaluate' ? name : undefined);
  assert.deepEqual(gateTarget(rule('evaluate:f1', '>', 0), find), { metric: 'f1', stage: 'evaluate' });
  assert.deepEqual(gateTarget(rule('eval/metrics.json:auc', '>', 0), find), { metric: 'auc', file: 'eval/metrics.json' });
  assert.deepEqual(gateTarget(rule('acc', '>', 0, 'train'), find), { metric: 'acc', stage: 'train' });
  assert.deepEqual(gateTarget(rule('acc', '>', 0), find), { metric: 'acc' });
});

test("a gate on a foreach group is one per stage: by stage:, by the metric's stage prefix, or by stage: beside a metrics file's prefix; model: takes each stage's ${key}", () => {
  const stage = (name: string, file = 'runwise.yaml') => ({ id: file === 'runwise.yaml' ? name : `${file}:${name}`, name, file }) as PipelineStage;
  const stages = [stage('evaluate@eu'), stage('evaluate@us'), stage('train')];
  // `${key}` resolved as the stage's scope would (here: its name after `@`).
  const resolve = (text: string, stage: string) => text.replace('${key}', stage.slice(stage.indexOf('@') + 1));
  const expanded = (r: GateRule) => expandGroupGates([r], stages, resolve).map((g) => [g.stage ?? null, g.metric, g.model ?? null]);
  assert.deepEqual(expanded({ ...rule('auc', '>=', 0.8, 'evaluate'), model: 'churn-${key}' }), [
    ['evaluate@eu', 'auc', 'churn-eu'],
    ['evaluate@us', 'auc', 'churn-us'],
  ]);
  assert.deepEqual(expanded(rule('evaluate:auc', '>=', 0.8)), [
    [null, 'evaluate@eu:auc', null],
    [null, 'evaluate@us:auc', null],
  ]);
  assert.deepEqual(expanded(rule('m_b.json:auc', '>=', 0.8, 'evaluate')), [
    ['evaluate@eu', 'm_b.json:auc', null],
    ['evaluate@us', 'm_b.json:auc', null],
  ], 'a metrics file prefix and a group in stage:');
  assert.deepEqual(expanded(rule('auc', '>=', 0.8, 'train')), [['train', 'auc', null]]);
  // A group of the rule's own file comes before a stage of another file with the group's name as its id.
  const sub = [{ id: 'train', name: 'train', file: 'dvc.yaml' }, stage('train@a', 'sub/runwise.yaml'), stage('train@b', 'sub/runwise.yaml')] as PipelineStage[];
  assert.deepEqual(expandGroupGates([{ ...rule('acc', '>=', 0.8, 'train'), file: 'sub/runwise.yaml' }], sub).map((g) => g.stage), ['train@a', 'train@b']);
  // A model with a ${...} the run cannot resolve fails the gate, saying why, rather than finding no champion.
  const tracker = { registry: { getRegisteredModel: () => assert.fail('not looked up') } } as unknown as Tracker;
  const refs = new AliasReferences(tracker, new Map());
  const found = refs.reference('champion', 'roc_auc', { ...rule('roc_auc', '>=', 'champion.roc_auc'), model: 'churn-${item.name}' });
  assert.match(found && 'missing' in found ? found.missing : '', /has a \$\{\.\.\.\} the run cannot resolve/);
});

test("a gate's stage is its own file's first, then a workspace stage id (the root dvc.yaml's)", () => {
  const stages = [{ id: 'train', name: 'train', file: 'dvc.yaml' }, { id: 'sub/runwise.yaml:train', name: 'train', file: 'sub/runwise.yaml' }] as PipelineStage[];
  const graph = { stages, byId: new Map(stages.map((s) => [s.id, s])) } as unknown as PipelineGraph;
  assert.equal(findStage(graph, 'train', 'sub/runwise.yaml'), 'sub/runwise.yaml:train');
  assert.equal(findStage(graph, 'train', 'runwise.yaml'), 'train');
  assert.equal(findStage(graph, 'trian', 'runwise.yaml'), undefined);
});
