/**
 * The value of a plain (unquoted) scalar under the YAML 1.2 core schema (10.3.2): null, booleans,
 * integers (decimal, 0o octal, 0x hex), floats, .inf and .nan; anything else is the string itself.
 * Every parsing path (the `yaml` package conversion, the fast parser, block assembly) resolves plain
 * scalars here. Relies on nothing.
 */

const INT_DEC = /^[-+]?[0-9]+$/;
const INT_OCT = /^0o[0-7]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const INF = /^[-+]?\.(?:inf|Inf|INF)$/;
const NAN = /^\.(?:nan|NaN|NAN)$/;

/** The value of a plain scalar (already folded to one string) under the YAML 1.2 core schema. */
export function resolvePlainScalar(s: string): string | number | boolean | null {
  const len = s.length;
  if (len === 0) return null;
  const c = s.charCodeAt(0);
  // Fast reject: core-schema values start with one of `~ n N t T f F 0-9 + - .`
  if (
    !(
      (c >= 48 && c <= 57) ||
      c === 43 || c === 45 || c === 46 ||
      c === 126 || c === 110 || c === 78 || c === 116 || c === 84 || c === 102 || c === 70
    )
  ) {
    return s;
  }
  switch (s) {
    case '~':
    case 'null':
    case 'Null':
    case 'NULL':
      return null;
    case 'true':
    case 'True':
    case 'TRUE':
      return true;
    case 'false':
    case 'False':
    case 'FALSE':
      return false;
  }
  if (INT_DEC.test(s)) return Number(s);
  if (INT_OCT.test(s)) return parseInt(s.slice(2), 8);
  if (INT_HEX.test(s)) return parseInt(s.slice(2), 16);
  if (FLOAT.test(s)) return Number(s);
  if (INF.test(s)) return s.charCodeAt(0) === 45 ? -Infinity : Infinity;
  if (NAN.test(s)) return NaN;
  return s;
}
