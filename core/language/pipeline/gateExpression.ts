/**
 * The value side of a quality gate (`gates:` in a Runwise pipeline): a number, or an expression over
 * references to other runs' metrics. The language server checks it as it is typed; the runner
 * (core/pipeline/gates.ts) evaluates it. The expression language is small and closed:
 *
 *   expr      := term (('+' | '-') term)*
 *   term      := factor (('*' | '/') factor)*
 *   factor    := number | reference | '(' expr ')' | '-' factor
 *   reference := SCOPE '.' name            previous.loss, previous.train/loss, previous.`val loss`
 *
 * A reference's scope says which run the metric comes from. `previous` is the last successful run
 * of the same stage. Any other name is a registry alias (`champion.roc_auc`: the latest evaluation
 * of the version the alias points at, of the model the gate names; see core/pipeline/gates.ts): the
 * editor cannot know a registry's aliases, so every identifier is accepted as a scope except the
 * RESERVED_SCOPES, which MLflow does not allow as alias names. Inside a name, `/` belongs to the
 * name (DVCLive's `train/loss`), so division is written with spaces: `previous.loss / 2`.
 */

/** Where a gate is written, and its value as written. */
export interface GateValueSource {
  file: string;
  /** 1-based line of the rule. */
  line: number;
  value: number | string;
}

/** Scopes with a meaning of their own; any other identifier names a registry alias. */
export const REFERENCE_SCOPES = ["previous"] as const;
export type ReferenceScope = (typeof REFERENCE_SCOPES)[number];
/** Not a scope: MLflow refuses `latest` and `v<N>` as alias names (they name versions). */
export const RESERVED_SCOPES = ["latest"] as const;

/** Whether a reference's scope is a registry alias (not `previous`). */
export function isAliasScope(scope: string): boolean {
  return !(REFERENCE_SCOPES as readonly string[]).includes(scope);
}

export type GateExpr =
  | { kind: "number"; value: number }
  | { kind: "reference"; scope: string; metric: string; text: string }
  | { kind: "negate"; operand: GateExpr }
  | {
      kind: "binary";
      op: "+" | "-" | "*" | "/";
      left: GateExpr;
      right: GateExpr;
    };

export class GateSyntaxError extends Error {
  constructor(
    readonly rule: Pick<GateValueSource, "file" | "line">,
    readonly position: number,
    readonly detail: string,
  ) {
    super(
      `${rule.file}:${rule.line}: invalid gate value at position ${position + 1}: ${detail}`,
    );
    this.name = "GateSyntaxError";
  }
}

/** Parses a rule's `value` (a number stays a number). Throws GateSyntaxError. */
export function parseGateValue(rule: GateValueSource): GateExpr {
  if (typeof rule.value === "number")
    return { kind: "number", value: rule.value };
  const text = rule.value;
  let i = 0;
  const fail = (detail: string, at = i): never => {
    throw new GateSyntaxError(rule, at, detail);
  };
  const skip = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const describeHere = () => (i >= text.length ? "the end" : `'${text[i]}'`);

  const factor = (): GateExpr => {
    skip();
    const c = text[i];
    if (c === undefined)
      return fail(
        "expected a number or a reference such as previous.loss, found the end",
      );
    if (c === "(") {
      const open = i++;
      const inner = expr();
      skip();
      if (text[i] !== ")")
        fail(
          `expected ')' to close the '(' at position ${open + 1}, found ${describeHere()}`,
        );
      i++;
      return inner;
    }
    if (c === "-") {
      i++;
      return { kind: "negate", operand: factor() };
    }
    const num = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(text.slice(i));
    if (num) {
      i += num[0].length;
      return { kind: "number", value: Number(num[0]) };
    }
    const scope = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (!scope)
      return fail(
        `expected a number or a reference such as previous.loss, found ${describeHere()}`,
      );
    const start = i;
    i += scope[0].length;
    if (
      (RESERVED_SCOPES as readonly string[]).includes(scope[0]) ||
      /^v\d+$/.test(scope[0])
    ) {
      fail(
        `'${scope[0]}' cannot be a reference; a reference is previous.<metric> or <alias>.<metric> (a registry alias such as champion)`,
        start,
      );
    }
    if (text[i] !== ".")
      fail(
        `expected '.' and a metric name after '${scope[0]}' (as in ${scope[0]}.loss), found ${describeHere()}`,
      );
    i++;
    let metric: string;
    if (text[i] === "`") {
      const close = text.indexOf("`", i + 1);
      if (close === -1) fail("a backquoted metric name is never closed");
      metric = text.slice(i + 1, close);
      i = close + 1;
    } else {
      const name = /^[A-Za-z0-9_.]+(\/[A-Za-z0-9_.]+)*/.exec(text.slice(i));
      if (!name)
        return fail(
          `expected a metric name after '${scope[0]}.', found ${describeHere()}`,
        );
      metric = name[0];
      i += metric.length;
    }
    if (metric === "") fail("the metric name is empty");
    return {
      kind: "reference",
      scope: scope[0],
      metric,
      text: text.slice(start, i),
    };
  };
  const term = (): GateExpr => {
    let left = factor();
    for (;;) {
      skip();
      const op = text[i];
      if (op !== "*" && op !== "/") return left;
      i++;
      left = { kind: "binary", op, left, right: factor() };
    }
  };
  const expr = (): GateExpr => {
    let left = term();
    for (;;) {
      skip();
      const op = text[i];
      if (op !== "+" && op !== "-") return left;
      i++;
      left = { kind: "binary", op, left, right: term() };
    }
  };
  const result = expr();
  skip();
  if (i < text.length) fail(`unexpected ${describeHere()}`);
  return result;
}

/** Every reference in an expression. */
export function referencesOf(
  expr: GateExpr,
): Extract<GateExpr, { kind: "reference" }>[] {
  switch (expr.kind) {
    case "number":
      return [];
    case "reference":
      return [expr];
    case "negate":
      return referencesOf(expr.operand);
    case "binary":
      return [...referencesOf(expr.left), ...referencesOf(expr.right)];
  }
}
