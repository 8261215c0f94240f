/**
 * Quality gates: `metric op value`, where `value` is a number or an expression over references to
 * other runs' metrics (its grammar: core/language/pipeline/gateExpression.ts, which the language
 * server checks as it is typed).
 *
 * A gate fails when the comparison is false, when the metric is missing (it says so), and when a
 * reference cannot be resolved. Two exceptions pass, saying there was nothing to compare with: a
 * reference to a previous run when the stage has never succeeded before (a first run cannot
 * regress), and a reference to a registry alias that points at no version yet (no champion to
 * beat).
 *
 * Alias references (`roc_auc >= champion.roc_auc`) read an evaluation of the version the alias
 * points at: a run tagged with that version's model sha256 (MODEL_SHA256_TAG). On a gate whose
 * stage evaluated a model, the one measured the same way (the same dataset version, target, task,
 * threshold and features), made from the registry's copy when there is none yet (see
 * baselineEvaluation.ts), so that both sides are measured on the same rows; on any other stage, the
 * version's latest evaluation, named in the outcome. The registered model is the gate's `model:`
 * key; without one, the `name` of the `register` step of the gate's pipeline file when it has
 * exactly one. A version whose evaluation lacks the metric, that was never evaluated, or that
 * cannot be evaluated on the stage's data fails the gate (there is a champion, but nothing to
 * compare with).
 */
import { evaluationInput, evaluationLike, evaluationRunIds } from "../modelCard/cardEvaluation";
import { evaluateVersionLike, type BaselineContext } from "./baselineEvaluation";
import {
  parseGateValue,
  referencesOf,
  type GateExpr,
} from "../language/pipeline/gateExpression";
import { TrackerError } from "../tracker/trackerError";
import type { Tracker } from "../tracker/tracker";
import type { GateOp, GateRule, PipelineStage } from "./pipelineModel";

/** Where a rule's metric is read: `stage:metric`, `file:metric` or the rule's `stage`. */
export interface GateTarget {
  metric: string;
  /** A stage id, when the rule names a stage. */
  stage?: string;
  /** A workspace-relative metrics file, when the rule names one. */
  file?: string;
}

/**
 * A gate on a `foreach` stage (`stage: evaluate`, or `evaluate:roc_auc`, where the file declares
 * `evaluate` with `foreach` and so has the stages `evaluate@a`, `evaluate@b`) is a gate on each of
 * its stages: one rule per stage, each judged on its own metrics (as `dvc exp` reads `evaluate@a`
 * apart). A `${...}` in its `model:` or its metrics file (`model: churn-${key}`,
 * `metric: m_${key}.json:auc`) is resolved in each stage's own scope by `resolve` (the stage's
 * name given); one that does not resolve stays as written, and the gate then fails saying so.
 * A rule naming a stage of its file as it is, or no stage, stays as it is.
 */
export function expandGroupGates(
  rules: readonly GateRule[],
  stages: readonly Pick<PipelineStage, "id" | "name" | "file">[],
  resolve: (text: string, stage: string) => string | undefined = () => undefined,
): GateRule[] {
  return rules.flatMap((rule) => {
    const colon = rule.metric.lastIndexOf(":");
    // The rule's own file first (a stage, then a group), then a stage id of the workspace, as findStage reads them.
    const own = (name: string) => stages.some((s) => s.file === rule.file && s.name === name);
    const membersOf = (name: string) => stages.filter((s) => s.file === rule.file && s.name.startsWith(`${name}@`));
    const isId = (name: string) => stages.some((s) => s.id === name);
    // The prefix of `prefix:metric` when it names a stage or a group, else (a metrics file) the rule's `stage:`.
    const fromPrefix = colon > 0 ? rule.metric.slice(0, colon) : undefined;
    const prefix = fromPrefix !== undefined && (own(fromPrefix) || membersOf(fromPrefix).length > 0 || isId(fromPrefix)) ? fromPrefix : undefined;
    const named = prefix ?? rule.stage;
    if (named === undefined || own(named)) return [rule];
    const members = membersOf(named);
    if (members.length === 0) return [rule];
    const inScope = (text: string, stage: string) => (text.includes("${") ? (resolve(text, stage) ?? text) : text);
    return members.map((s) => {
      const model = rule.model !== undefined ? { model: inScope(rule.model, s.name) } : {};
      return prefix !== undefined
        ? { ...rule, ...model, metric: `${s.name}${rule.metric.slice(colon)}` }
        : { ...rule, ...model, metric: inScope(rule.metric, s.name), stage: s.name };
    });
  });
}

/**
 * Splits a rule's metric into where it is read. `prefix:name` names a stage when `findStage`
 * knows the prefix (a stage id, or a stage name of the rule's file), else a metrics file.
 */
export function gateTarget(
  rule: GateRule,
  findStage: (name: string, ruleFile: string) => string | undefined,
): GateTarget {
  const colon = rule.metric.lastIndexOf(":");
  if (colon > 0) {
    const prefix = rule.metric.slice(0, colon);
    const metric = rule.metric.slice(colon + 1);
    const stage = findStage(prefix, rule.file);
    if (stage !== undefined) return { metric, stage };
    return {
      metric,
      file: prefix,
      ...(rule.stage !== undefined
        ? { stage: findStage(rule.stage, rule.file) ?? rule.stage }
        : {}),
    };
  }
  return {
    metric: rule.metric,
    ...(rule.stage !== undefined
      ? { stage: findStage(rule.stage, rule.file) ?? rule.stage }
      : {}),
  };
}

/** A value found; `from` says where, when that is not plain (the champion's evaluation it was read from). */
export type Lookup = { value: number; stage?: string; from?: string } | { missing: string };
/** A reference with nothing to compare with, and why (the gate passes and says so). */
export type Absent = { absent: string };
/** A gate whose stage has not given its metrics (it did not run in this run, failing or held back, and never ran before): not checked. */
export type Unchecked = { unchecked: string };

/** What evaluating a gate needs from the run: its metric, and the values references name. */
export interface GateInputs {
  /** The metric the rule checks, from this pipeline run; `stage` tells where it was found. */
  current(target: GateTarget): Lookup | Unchecked;
  /**
   * A reference's value (`scope.metric`) for the stage the metric came from; `undefined` when the
   * scope has nothing to compare with (no previous successful run), `absent` with the reason why.
   */
  reference(
    scope: string,
    metric: string,
    stage: string | undefined,
    rule: GateRule,
  ): Lookup | Absent | undefined;
}

export interface GateOutcome {
  rule: GateRule;
  passed: boolean;
  /** Set when the gate could not be checked (its stage gave no metrics): neither passed nor failed. */
  unchecked?: true;
  /** Set when a stage run alone has a stage above it that is out of date: its gate was not judged on old metrics, and holds back what is below it. */
  notJudged?: true;
  /** The metric's value, when found. */
  actual?: number;
  /** The value compared with, when computed. */
  expected?: number;
  /** The stage the metric was read from. */
  stage?: string;
  /** One line for people: the rule, where it is written, both values or what was missing. */
  message: string;
  /** `message` after its verdict: both values, or what was missing (for a caller that names the gate itself). */
  detail?: string;
}

/** How an outcome is marked before its message: ✔ passed, ✖ failed, – not checked (its stage gave no metrics). */
export function gateMark(outcome: GateOutcome): string {
  return outcome.passed ? "✔" : outcome.unchecked ? "–" : "✖";
}

export function describeRule(rule: GateRule): string {
  return `${rule.metric} ${rule.op} ${typeof rule.value === "number" ? String(rule.value) : rule.value}`;
}

const COMPARE: Record<GateOp, (a: number, b: number) => boolean> = {
  ">=": (a, b) => a >= b,
  ">": (a, b) => a > b,
  "<=": (a, b) => a <= b,
  "<": (a, b) => a < b,
  "==": (a, b) => a === b,
  "!=": (a, b) => a !== b,
};

/** Checks one rule against `inputs`. Never throws: a bad rule is a failed gate that says why. */
export function evaluateGate(
  rule: GateRule,
  target: GateTarget,
  inputs: GateInputs,
): GateOutcome {
  const where = `${rule.file}:${rule.line}`;
  const head = `gate '${describeRule(rule)}' (${where})`;
  let expr: GateExpr;
  try {
    expr = parseGateValue(rule);
  } catch (e) {
    return {
      rule,
      passed: false,
      detail: (e as Error).message,
      message: `${head} failed: ${(e as Error).message}`,
    };
  }
  const current = inputs.current(target);
  if ("unchecked" in current)
    return {
      rule,
      passed: false,
      unchecked: true,
      detail: current.unchecked,
      message: `${head} not checked: ${current.unchecked}`,
    };
  if ("missing" in current)
    return {
      rule,
      passed: false,
      detail: current.missing,
      message: `${head} failed: ${current.missing}`,
    };
  const stage = current.stage ?? target.stage;
  const values = new Map<string, number>();
  const sources = new Map<string, string>();
  for (const ref of referencesOf(expr)) {
    const found = inputs.reference(ref.scope, ref.metric, stage, rule);
    if (found === undefined || "absent" in found) {
      const why =
        found?.absent ??
        `there is no ${ref.scope} run${stage ? ` of stage '${stage}'` : ""} to compare with`;
      return {
        rule,
        passed: true,
        actual: current.value,
        ...(stage !== undefined ? { stage } : {}),
        detail: `${target.metric} is ${current.value}; ${why}`,
        message: `${head} passed: ${target.metric} is ${current.value}; ${why}`,
      };
    }
    if ("missing" in found)
      return {
        rule,
        passed: false,
        actual: current.value,
        ...(stage !== undefined ? { stage } : {}),
        detail: found.missing,
        message: `${head} failed: ${found.missing}`,
      };
    values.set(ref.text, found.value);
    if (found.from !== undefined) sources.set(ref.text, found.from);
  }
  const expected = evaluateExpr(expr, values);
  const passed = COMPARE[rule.op](current.value, expected);
  const refs = [...values].map(([k, v]) => `${k} is ${v}${sources.has(k) ? ` (${sources.get(k)})` : ""}`);
  const compared =
    typeof rule.value === "number"
      ? `needs ${rule.op} ${expected}`
      : refs.length > 0 && expr.kind === "reference"
        ? refs.join(", ")
        : `${[...refs, `${rule.value} = ${expected}`].join(", ")}`;
  const result: GateOutcome = {
    rule,
    passed,
    actual: current.value,
    expected,
    ...(stage !== undefined ? { stage } : {}),
    detail: `${target.metric} is ${current.value}${stage ? ` (stage '${stage}')` : ""}, ${compared}`,
    message: "",
  };
  result.message = `${head} ${passed ? "passed" : "failed"}: ${result.detail}`;
  return result;
}

function evaluateExpr(
  expr: GateExpr,
  refs: ReadonlyMap<string, number>,
): number {
  switch (expr.kind) {
    case "number":
      return expr.value;
    case "reference":
      return refs.get(expr.text) ?? NaN;
    case "negate":
      return -evaluateExpr(expr.operand, refs);
    case "binary": {
      const a = evaluateExpr(expr.left, refs);
      const b = evaluateExpr(expr.right, refs);
      return expr.op === "+"
        ? a + b
        : expr.op === "-"
          ? a - b
          : expr.op === "*"
            ? a * b
            : a / b;
    }
  }
}

/** What AliasReferences keeps a version's evaluation measured as evaluation `like` was by. */
function baselineKey(sha256: string, like: string): string {
  return `${sha256}\u0000${like}`;
}

/**
 * Alias references: `<alias>.<metric>` is the metric of the latest finished evaluation of the
 * version `<alias>` points at, for the registered model the gate names (see the header).
 */
export class AliasReferences {
  constructor(
    private readonly tracker: Tracker,
    /** The `register` steps' names, by pipeline file. */
    private readonly registerNames: ReadonlyMap<string, readonly string[]>,
  ) {}

  /** The names the `register` steps register (their `builtinConfig.name`), by pipeline file. */
  static registerNamesOf(stages: readonly PipelineStage[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const s of stages) {
      const name = s.builtin === "register" ? s.builtinConfig?.name : undefined;
      if (typeof name !== "string") continue;
      const names = out.get(s.file) ?? [];
      if (!names.includes(name)) names.push(name);
      out.set(s.file, names);
    }
    return out;
  }

  /** The registered model a rule's alias references read, or why there is none. */
  modelOf(rule: GateRule): { model: string } | { missing: string } {
    if (rule.model?.includes("${"))
      return { missing: `the gate's model '${rule.model}' has a \${...} the run cannot resolve: a gate's \`model:\` takes \${key} (or \${item}) when the gate is on a foreach stage, and nothing else` };
    if (rule.model !== undefined) return { model: rule.model };
    const names = this.registerNames.get(rule.file) ?? [];
    if (names.length === 1) return { model: names[0]! };
    return {
      missing:
        names.length === 0
          ? "an alias reference needs the registered model: add `model: NAME` to the gate (or a `register` step to its pipeline file)"
          : `an alias reference needs the registered model: the file registers ${names.map((n) => `'${n}'`).join(", ")}; add \`model: NAME\` to the gate`,
    };
  }

  /**
   * The version's evaluation measured as another was, found or made by `prepare` (by version sha256
   * and the evaluation it copies: baselineKey), and why one could not be made.
   */
  private readonly baselines = new Map<string, string>();
  private readonly baselineErrors = new Map<string, string>();

  /** The version the alias points at, or why there is none (a Lookup's `missing`, or `absent`). */
  private versionOf(alias: string, rule: GateRule): { model: string; version: string; sha256: string } | { missing: string } | Absent {
    const found = this.modelOf(rule);
    if ("missing" in found) return found;
    const { model } = found;
    let registered;
    try {
      registered = this.tracker.registry.getRegisteredModel(model);
    } catch (e) {
      if (e instanceof TrackerError && e.code === "RESOURCE_DOES_NOT_EXIST")
        return {
          absent: `'${model}' is not registered yet, so there is no ${alias} to compare with`,
        };
      throw e;
    }
    const pointer = registered.aliases.find((a) => a.alias === alias);
    if (!pointer)
      return {
        absent: `no version of '${model}' is '${alias}' yet, so there is nothing to compare with`,
      };
    const { version, sha256 } = this.tracker.registry.getModelVersion(model, pointer.version);
    return { model, version, sha256 };
  }

  /**
   * Before `reference` with a `like`: when the alias's version has no evaluation measured as `like`
   * was, evaluates it so (see baselineEvaluation.ts); a failure is kept for `reference` to report.
   */
  async prepare(alias: string, rule: GateRule, like: string, ctx: BaselineContext): Promise<void> {
    const v = this.versionOf(alias, rule);
    if ("missing" in v || "absent" in v) return;
    const key = baselineKey(v.sha256, like);
    if (this.baselines.has(key) || this.baselineErrors.has(key)) return;
    const found = evaluationLike(this.tracker, v.sha256, like);
    if (found !== undefined) {
      this.baselines.set(key, found);
      return;
    }
    try {
      this.baselines.set(key, await evaluateVersionLike(ctx, v.model, v.version, v.sha256, like));
    } catch (e) {
      if (ctx.signal?.aborted) throw e;
      this.baselineErrors.set(key, (e as Error).message);
    }
  }

  /**
   * `like`: the evaluation the gate's own side comes from (a pipeline's evaluate stage): the alias's
   * version is then read from its evaluation measured the same way (dataset version, target, task,
   * threshold, features), made by `prepare` when it had none, never from one on other data.
   * Without `like` (a metric a stage's own code logged), from the version's latest evaluation, named.
   */
  reference(alias: string, metric: string, rule: GateRule, like?: string): Lookup | Absent {
    const v = this.versionOf(alias, rule);
    if ("missing" in v || "absent" in v) return v;
    const subject = `${v.model}@${alias} (version ${v.version})`;
    let last: string | undefined;
    if (like !== undefined) {
      const key = baselineKey(v.sha256, like);
      last = this.baselines.get(key) ?? evaluationLike(this.tracker, v.sha256, like);
      const failed = this.baselineErrors.get(key);
      if (last === undefined)
        return {
          missing: failed !== undefined ? `${subject} could not be evaluated on the data the stage evaluated, to compare with: ${failed}` : `${subject} has no evaluation on the data the stage evaluated (evaluation run ${like}) to compare with`,
        };
    } else {
      const ids = evaluationRunIds(this.tracker, v.sha256);
      last = ids[ids.length - 1];
      if (last === undefined)
        return {
          missing: `${subject} has no finished evaluation to read ${metric} from`,
        };
    }
    const run = this.tracker.getRun(last);
    const value = run.metrics.find((m) => m.key === metric)?.value;
    if (value === undefined)
      return {
        missing: `the evaluation of ${subject} (run ${last}) has no metric '${metric}'`,
      };
    const data = evaluationInput(run)?.source;
    return { value, from: `version ${v.version}, evaluation run ${last.slice(0, 8)}${data ? ` on ${data}` : ""}` };
  }
}
