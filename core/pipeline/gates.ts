/**
 * Quality gates: `metric op value`, where `value` is a number or an expression over references to
 * other runs' metrics (its grammar: core/language/pipeline/gateExpression.ts, which the language
 * server checks as it is typed).
 *
 * A gate fails when the comparison is false, when the metric is missing (it says so), and when a
 * reference cannot be resolved. The one exception: a reference to a previous run when the stage has
 * never succeeded before passes, saying there was nothing to compare with (a first run cannot
 * regress).
 */
import { parseGateValue, referencesOf, type GateExpr } from '../language/pipeline/gateExpression';
import type { GateOp, GateRule } from './pipelineModel';

/** Where a rule's metric is read: `stage:metric`, `file:metric` or the rule's `stage`. */
export interface GateTarget {
  metric: string;
  /** A stage id, when the rule names a stage. */
  stage?: string;
  /** A workspace-relative metrics file, when the rule names one. */
  file?: string;
}

/**
 * Splits a rule's metric into where it is read. `prefix:name` names a stage when `findStage`
 * knows the prefix (a stage id, or a stage name of the rule's file), else a metrics file.
 */
export function gateTarget(rule: GateRule, findStage: (name: string, ruleFile: string) => string | undefined): GateTarget {
  const colon = rule.metric.lastIndexOf(':');
  if (colon > 0) {
    const prefix = rule.metric.slice(0, colon);
    const metric = rule.metric.slice(colon + 1);
    const stage = findStage(prefix, rule.file);
    if (stage !== undefined) return { metric, stage };
    return { metric, file: prefix, ...(rule.stage !== undefined ? { stage: findStage(rule.stage, rule.file) ?? rule.stage } : {}) };
  }
  return { metric: rule.metric, ...(rule.stage !== undefined ? { stage: findStage(rule.stage, rule.file) ?? rule.stage } : {}) };
}

export type Lookup = { value: number; stage?: string } | { missing: string };

/** What evaluating a gate needs from the run: its metric, and the values references name. */
export interface GateInputs {
  /** The metric the rule checks, from this pipeline run; `stage` tells where it was found. */
  current(target: GateTarget): Lookup;
  /**
   * A reference's value (`scope.metric`) for the stage the metric came from; `undefined` when the
   * scope has nothing to compare with (no previous successful run).
   */
  reference(scope: string, metric: string, stage: string | undefined): Lookup | undefined;
}

export interface GateOutcome {
  rule: GateRule;
  passed: boolean;
  /** The metric's value, when found. */
  actual?: number;
  /** The value compared with, when computed. */
  expected?: number;
  /** The stage the metric was read from. */
  stage?: string;
  /** One line for people: the rule, where it is written, both values or what was missing. */
  message: string;
}

export function describeRule(rule: GateRule): string {
  return `${rule.metric} ${rule.op} ${typeof rule.value === 'number' ? String(rule.value) : rule.value}`;
}

const COMPARE: Record<GateOp, (a: number, b: number) => boolean> = {
  '>=': (a, b) => a >= b,
  '>': (a, b) => a > b,
  '<=': (a, b) => a <= b,
  '<': (a, b) => a < b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

/** Checks one rule against `inputs`. Never throws: a bad rule is a failed gate that says why. */
export function evaluateGate(rule: GateRule, target: GateTarget, inputs: GateInputs): GateOutcome {
  const where = `${rule.file}:${rule.line}`;
  const head = `gate '${describeRule(rule)}' (${where})`;
  let expr: GateExpr;
  try {
    expr = parseGateValue(rule);
  } catch (e) {
    return { rule, passed: false, message: `${head} failed: ${(e as Error).message}` };
  }
  const current = inputs.current(target);
  if ('missing' in current) return { rule, passed: false, message: `${head} failed: ${current.missing}` };
  const stage = current.stage ?? target.stage;
  const values = new Map<string, number>();
  for (const ref of referencesOf(expr)) {
    const found = inputs.reference(ref.scope, ref.metric, stage);
    if (found === undefined) {
      return {
        rule,
        passed: true,
        actual: current.value,
        ...(stage !== undefined ? { stage } : {}),
        message: `${head} passed: ${target.metric} is ${current.value}; there is no ${ref.scope} run${stage ? ` of stage '${stage}'` : ''} to compare with`,
      };
    }
    if ('missing' in found) return { rule, passed: false, actual: current.value, ...(stage !== undefined ? { stage } : {}), message: `${head} failed: ${found.missing}` };
    values.set(ref.text, found.value);
  }
  const expected = evaluateExpr(expr, values);
  const passed = COMPARE[rule.op](current.value, expected);
  const refs = [...values].map(([k, v]) => `${k} is ${v}`);
  const compared = typeof rule.value === 'number' ? `needs ${rule.op} ${expected}` : refs.length > 0 && expr.kind === 'reference' ? refs.join(', ') : `${[...refs, `${rule.value} = ${expected}`].join(', ')}`;
  return {
    rule,
    passed,
    actual: current.value,
    expected,
    ...(stage !== undefined ? { stage } : {}),
    message: `${head} ${passed ? 'passed' : 'failed'}: ${target.metric} is ${current.value}${stage ? ` (stage '${stage}')` : ''}, ${compared}`,
  };
}

function evaluateExpr(expr: GateExpr, refs: ReadonlyMap<string, number>): number {
  switch (expr.kind) {
    case 'number':
      return expr.value;
    case 'reference':
      return refs.get(expr.text) ?? NaN;
    case 'negate':
      return -evaluateExpr(expr.operand, refs);
    case 'binary': {
      const a = evaluateExpr(expr.left, refs);
      const b = evaluateExpr(expr.right, refs);
      return expr.op === '+' ? a + b : expr.op === '-' ? a - b : expr.op === '*' ? a * b : a / b;
    }
  }
}
