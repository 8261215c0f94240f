/**
 * DVC templating in pipeline values: `${name}`, `${a.b}`, `${list[0]}`, `${list.0}`, `${a[b]}`,
 * `${item}`, `${item.x}`, `${key}`; `\${` is a literal `${`. Tokens carry document offsets (scanned
 * in the scalar's source text, so they are exact for every scalar style). Resolution looks the name
 * up in the stage's scope: `item`/`key` of foreach/matrix, then stage `vars`, top-level `vars`, and
 * `params.yaml`.
 *
 * Expressions follow DVC's grammar: a word (any characters but `.`, `[`, `]`), then `.word` or
 * `[word]`; DVC turns `[word]` into `.word`, strips each segment, and reads a segment of a list as an
 * integer, so `a[0]`, `a.0` and `a[ 0 ]` are the same and `a[b]` is the key `b` of `a`.
 */
import { lookupPath, type ParamLookup } from '../files/paramsIndex';
import { asMap, asScalar, deref } from '../yaml/yamlAccess';
import type { Span, YamlMap, YamlNode, YamlScalar } from '../yaml/yamlTree';

export interface InterpolationToken extends Span {
  /** The text between `${` and `}`, in document offsets. */
  inner: Span;
  expr: string;
  /** Undefined when the expression is not a name path (or the token is not closed). */
  segments: (string | number)[] | undefined;
  unclosed: boolean;
}

const NAME_PATH = /^[^.[\]{}]+(?:\.[^.[\]{}]+|\[[^.[\]{}]+\])*$/;

/**
 * The segments of a DVC expression (`a.b[0].c` → ['a', 'b', 0, 'c']); undefined when DVC's parser
 * rejects it or a segment is blank. A bracketed integer is a number; other segments stay strings
 * (`lookupPath` reads an integer string as a list index, as DVC does).
 */
export function parseExpression(expr: string): (string | number)[] | undefined {
  if (!NAME_PATH.test(expr)) return undefined;
  const out: (string | number)[] = [];
  for (const m of expr.matchAll(/\[([^\]]*)\]|([^.[\]]+)/g)) {
    const bracketed = m[1] !== undefined;
    const seg = (bracketed ? m[1]! : m[2]!).trim();
    if (seg === '') return undefined;
    out.push(bracketed && /^\d+$/.test(seg) ? Number(seg) : seg);
  }
  return out;
}

/** `(from) => source.indexOf(needle, from)` for non-decreasing `from`, each character read once. */
function nextIndexOf(source: string, needle: string): (from: number) => number {
  let found = -2;
  return (from) => {
    if (found !== -1 && found < from) found = source.indexOf(needle, from);
    return found;
  };
}

/** Tokens in `source` (the raw text of a scalar starting at `baseOffset`). */
export function scanInterpolations(source: string, baseOffset: number): InterpolationToken[] {
  const out: InterpolationToken[] = [];
  // The next `}` and line end are searched for again only once the scan has passed them: searching
  // from every `${` would be quadratic on a long line of `${` with no `}` (linear this way).
  const nextClose = nextIndexOf(source, '}');
  const nextLineEnd = nextIndexOf(source, '\n');
  let i = source.indexOf('${');
  while (i >= 0) {
    if (i > 0 && source.charCodeAt(i - 1) === 92 /* \ */) {
      i = source.indexOf('${', i + 2);
      continue;
    }
    const close = nextClose(i + 2);
    const lineEnd = nextLineEnd(i + 2);
    const nextOpen = source.indexOf('${', i + 2);
    if (close < 0 || (lineEnd >= 0 && lineEnd < close) || (nextOpen >= 0 && nextOpen < close)) {
      // Unclosed: it ends at the line end, the next `${`, or the first space after the name.
      const limits = [lineEnd, nextOpen, source.length].filter((x) => x >= 0);
      let end = Math.min(...limits);
      const space = source.slice(i + 2, end).search(/\s/);
      if (space > 0) end = i + 2 + space;
      out.push({
        start: baseOffset + i,
        end: baseOffset + end,
        inner: { start: baseOffset + i + 2, end: baseOffset + end },
        expr: source.slice(i + 2, end).trim(),
        segments: undefined,
        unclosed: true,
      });
      i = source.indexOf('${', end);
      continue;
    }
    const raw = source.slice(i + 2, close);
    const expr = raw.trim();
    out.push({
      start: baseOffset + i,
      end: baseOffset + close + 1,
      inner: { start: baseOffset + i + 2, end: baseOffset + close },
      expr,
      segments: parseExpression(expr),
      unclosed: false,
    });
    i = source.indexOf('${', close + 1);
  }
  return out;
}

export function scalarInterpolations(s: YamlScalar): InterpolationToken[] {
  if (typeof s.value !== 'string' || s.source.indexOf('${') < 0) return [];
  return scanInterpolations(s.source, s.start);
}

/** A whole value that is exactly one `${...}` (DVC keeps its type: a list, a number...). */
export function isWholeInterpolation(value: string): boolean {
  const t = value.trim();
  return t.startsWith('${') && t.endsWith('}') && t.indexOf('${', 2) < 0 && !t.startsWith('\\');
}

/** The path a value that is exactly one `${...}` names (`${cfg.k}` → ['cfg', 'k']); undefined for any other node. */
export function wholeSegments(node: YamlNode | null): readonly (string | number)[] | undefined {
  const s = asScalar(node);
  if (!s || typeof s.value !== 'string' || !isWholeInterpolation(s.value)) return undefined;
  return scanInterpolations(s.value.trim(), 0)[0]?.segments;
}

/** A source of variables: a params/vars file (its root node) or an inline `vars` mapping. */
export interface VarsLayer {
  relPath: string;
  root: YamlNode | null;
  /** Only these top-level keys are imported (`file:key1,key2`). */
  keys?: readonly string[];
  /** The `vars` entry that brought it in (undefined for the implicit params.yaml). */
  origin?: Span;
}

export type ItemBinding =
  /**
   * foreach: the item node, and the key for a mapping. `data`: the scope the foreach data is
   * resolved in (the stage's, without `item`), for a `${...}` written inside an item.
   */
  | { kind: 'node'; node: YamlNode | null; relPath: string; data?: InterpolationScope }
  /** matrix: one value per dimension; `data` as for foreach, per dimension written in the pipeline file. */
  | { kind: 'matrix'; values: ReadonlyMap<string, YamlNode | null>; relPath: string; data?: ReadonlyMap<string, InterpolationScope> }
  /** The foreach data could not be resolved; anything under `item` is accepted. */
  | { kind: 'unknown' };

export interface InterpolationScope {
  /** Searched first to last. */
  layers: readonly VarsLayer[];
  item?: ItemBinding;
  key?: string;
}

export type Resolution =
  | { kind: 'found'; node: YamlNode | null; relPath: string; at: ParamLookup | undefined; text?: string }
  | { kind: 'missing'; message: string }
  | { kind: 'unknown' };

export function resolveSegments(segments: readonly (string | number)[], scope: InterpolationScope): Resolution {
  const head = segments[0];
  const rest = segments.slice(1);
  if (head === 'item' && scope.item) {
    const item = scope.item;
    if (item.kind === 'unknown') return { kind: 'unknown' };
    if (item.kind === 'node') {
      const at = lookupPath(item.node, rest);
      if (at) return inData({ kind: 'found', node: at.node, relPath: item.relPath, at: rest.length ? at : undefined }, item.data);
      return throughData(item.node, rest, item.data) ?? missing(segments);
    }
    if (rest.length === 0) return { kind: 'found', node: null, relPath: item.relPath, at: undefined, text: `{${boundedList([...item.values.keys()])}}` };
    const dim = String(rest[0]);
    if (!item.values.has(dim)) return { kind: 'missing', message: `'${clip(dim)}' is not a matrix dimension (${boundedList([...item.values.keys()])})` };
    const at = lookupPath(item.values.get(dim) ?? null, rest.slice(1));
    const data = item.data?.get(dim);
    if (at) return inData({ kind: 'found', node: at.node, relPath: item.relPath, at: undefined }, data);
    return throughData(item.values.get(dim) ?? null, rest.slice(1), data) ?? missing(segments);
  }
  if (head === 'key' && scope.key !== undefined) {
    return rest.length === 0 ? { kind: 'found', node: null, relPath: '', at: undefined, text: scope.key } : missing(segments);
  }
  // foreach data that did not resolve may be a mapping, so `key` may be defined too.
  if (head === 'key' && scope.item?.kind === 'unknown') return { kind: 'unknown' };
  for (const layer of scope.layers) {
    if (layer.keys && !layer.keys.includes(String(head))) continue;
    const at = lookupPath(layer.root, segments);
    if (at) return { kind: 'found', node: at.node, relPath: layer.relPath, at };
  }
  if ((head === 'item' || head === 'key') && segments.length >= 1) {
    return { kind: 'missing', message: `'${head}' is only defined inside foreach/do${head === 'item' ? ' or matrix' : ' over a mapping, or matrix'}` };
  }
  return missing(segments);
}

/**
 * A value found in foreach or matrix data, resolved in the data's scope when it holds a `${...}`:
 * DVC resolves the whole data in the stage's context before it binds `item`
 * (`_resolve_foreach_data` in dvc/parsing/__init__.py), so `input_dir: ${base}/good` in an item is
 * `raw/good` to `${item.input_dir}`, and a whole `${...}` keeps its type (a list, a number).
 */
function inData(found: Extract<Resolution, { kind: 'found' }>, data: InterpolationScope | undefined): Resolution {
  const s = found.text === undefined ? asScalar(found.node) : null;
  if (!data || !s || typeof s.value !== 'string' || s.value.indexOf('${') < 0) return found;
  const segments = wholeSegments(s);
  if (segments) return resolveSegments(segments, data);
  const text = interpolateString(s.value, data);
  // One that does not resolve is reported where the data says it, once, not at each use.
  return text !== undefined ? { ...found, text } : { kind: 'unknown' };
}

/**
 * A path into foreach or matrix data that passes through a whole `${...}` (`x: ${cfg}` read as
 * `${item.x.k}`): the rest of the path looked up in what the `${...}` names, as DVC sees the data
 * once resolved. Undefined when no part of the path is such a value.
 */
function throughData(node: YamlNode | null, path: readonly (string | number)[], data: InterpolationScope | undefined): Resolution | undefined {
  if (!data) return undefined;
  for (let k = path.length - 1; k >= 0; k--) {
    const inner = wholeSegments(lookupPath(node, path.slice(0, k))?.node ?? null);
    if (inner) return resolveSegments([...inner, ...path.slice(k)], data);
  }
  return undefined;
}

/**
 * A value of foreach or matrix data as DVC sees it after resolving the data: a whole `${...}` is
 * the node it names (a mapping, a list, a number), anything else itself.
 */
export function dataNode(node: YamlNode | null, data: InterpolationScope | undefined): YamlNode | null {
  const segments = data ? wholeSegments(node) : undefined;
  const r = segments ? resolveSegments(segments, data!) : undefined;
  return r?.kind === 'found' && r.text === undefined ? r.node : node;
}

/** A scalar of foreach or matrix data as text (a stage name's part after `@`), with any `${...}` in it resolved in the data's scope. */
export function dataText(node: YamlNode | null, data: InterpolationScope): string {
  const s = asScalar(node);
  if (s && typeof s.value === 'string' && s.value.indexOf('${') >= 0) return resolvedText(inData({ kind: 'found', node, relPath: '', at: undefined }, data)) ?? s.value;
  return dvcText(s);
}

function missing(segments: readonly (string | number)[]): Resolution {
  return { kind: 'missing', message: `'${clip(formatSegments(segments))}' is not defined in vars or params` };
}

/** Longest user text quoted in a message. */
const CLIP_LENGTH = 80;

/** `text` cut to CLIP_LENGTH characters (with `…`), so a message does not grow with the input. */
export function clip(text: string, max = CLIP_LENGTH): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** `a, b, c` of at most `max` names (each clipped), then `… (N more)`. */
export function boundedList(names: readonly string[], max = 8): string {
  const shown = names.slice(0, max).map((n) => clip(n));
  return names.length > max ? `${shown.join(', ')}, … (${(names.length - max).toLocaleString('en-US')} more)` : shown.join(', ');
}

export function formatSegments(segments: readonly (string | number)[]): string {
  let s = '';
  for (const seg of segments) s += typeof seg === 'number' ? `[${seg}]` : s ? `.${seg}` : seg;
  return s;
}

/** The text a resolution substitutes, when it is a scalar. */
export function resolvedText(r: Resolution): string | undefined {
  if (r.kind !== 'found') return undefined;
  if (r.text !== undefined) return r.text;
  const s = asScalar(r.node);
  if (!s) return deref(r.node) ? undefined : 'None';
  return dvcText(s);
}

/**
 * A scalar as DVC substitutes it (`to_str` in dvc/parsing/interpolate.py): `true`/`false`, `None`,
 * text as it is, and a number as Python's `str()` gives it, which follows its YAML type: an integer
 * (`3`, `0x1F`) exactly, however large, and a float (`1.0`, `1e3`, `0.00001`) as Python writes
 * floats: `1.0`, `1000.0`, `1e-05`. Stage names (`train@1.0`), commands and paths depend on it.
 */
export function dvcText(s: YamlScalar | null | undefined): string {
  if (!s || s.value === null) return 'None';
  const v = s.value;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return pythonNumberText(v, s.style === 'plain' ? s.source.trim() : undefined);
  return v;
}

function pythonNumberText(v: number, source: string | undefined): string {
  if (source !== undefined) {
    // Decimal digits with leading zeros too: YAML 1.2 reads 017 as the integer 17.
    const int = /^([-+]?)(?:([0-9]+)|0o([0-7]+)|0x([0-9a-fA-F]+))$/.exec(source);
    if (int) {
      const magnitude = int[2] !== undefined ? BigInt(int[2]) : int[3] !== undefined ? BigInt(`0o${int[3]}`) : BigInt(`0x${int[4]}`);
      return `${int[1] === '-' && magnitude !== 0n ? '-' : ''}${magnitude}`;
    }
  } else if (Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER) return String(v);
  return pythonFloatRepr(v);
}

/**
 * Python's `repr(float)`: the shortest digits that read back as the same double (as JavaScript
 * finds them), written in fixed notation for decimal exponents from −4 to 15 with at least one
 * fraction digit, else as `d.ddde±XX`; `inf`, `-inf`, `nan`.
 */
export function pythonFloatRepr(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const [mantissa, exp] = v.toExponential().split('e') as [string, string];
  const e = Number(exp);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (e < -4 || e >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  const whole = digits.slice(0, e + 1).padEnd(e + 1, '0');
  const fraction = digits.slice(e + 1);
  return `${sign}${whole}.${fraction || '0'}`;
}

/**
 * `value` with every `${...}` substituted; undefined when one does not resolve to a scalar (or,
 * with `unpackMappings`, as a command's are, to a mapping: DVC's dictionary unpacking).
 * `\${` becomes `${`.
 */
export function interpolateString(value: string, scope: InterpolationScope, options: { unpackMappings?: boolean } = {}): string | undefined {
  if (value.indexOf('${') < 0) return value;
  const tokens = scanInterpolations(value, 0);
  let out = '';
  let pos = 0;
  for (const t of tokens) {
    if (!t.segments || t.unclosed) return undefined;
    const r = resolveSegments(t.segments, scope);
    const map = options.unpackMappings && r.kind === 'found' && r.text === undefined ? asMap(r.node) : null;
    const text = map ? unpackMapping(map) : resolvedText(r);
    if (text === undefined) return undefined;
    out += value.slice(pos, t.start) + text;
    pos = t.end;
  }
  out += value.slice(pos);
  return out.replace(/\\\$\{/g, '${');
}

/**
 * A mapping in a command as DVC unpacks it (`to_str` of a dict in dvc/parsing/interpolate.py, with
 * its default `parsing` settings): keys flattened with dots, `--key value` for each, a true boolean
 * as `--key` alone and a false one left out, a list as `--key a b c`, text quoted as Python's
 * `shlex.quote` does; undefined for a list inside a list (DVC refuses it).
 */
export function unpackMapping(map: YamlMap): string | undefined {
  const parts: string[] = [];
  const visit = (m: YamlMap, prefix: string): boolean => {
    for (const pair of m.items) {
      const key = `${prefix}${pythonStr(pair.key)}`;
      const v = deref(pair.value);
      if (v?.kind === 'map') {
        if (!visit(v, `${key}.`)) return false;
        continue;
      }
      if (v?.kind === 'seq') {
        const items: string[] = [];
        for (const item of v.items) {
          const s = asScalar(item);
          if (!s) return false;
          items.push(typeof s.value === 'string' ? shellQuote(s.value) : pythonStr(s));
        }
        if (items.length) parts.push(`--${key} ${items.join(' ')}`);
        continue;
      }
      const s = asScalar(v);
      if (s && typeof s.value === 'boolean') {
        if (s.value) parts.push(`--${key}`);
      } else if (s && typeof s.value === 'string') parts.push(`--${key} ${shellQuote(s.value)}`);
      else parts.push(`--${key} ${dvcText(s)}`);
    }
    return true;
  };
  return visit(map, '') ? parts.join(' ') : undefined;
}

/** A scalar in a Python f-string (`f"{v}"`), as DVC writes a key or a list item it unpacks: `True`, not `true`. */
function pythonStr(s: YamlScalar): string {
  return typeof s.value === 'boolean' ? (s.value ? 'True' : 'False') : dvcText(s);
}

/** Python's `shlex.quote`. */
function shellQuote(s: string): string {
  if (s === '') return "''";
  if (!/[^\w@%+=:,./-]/.test(s)) return s;
  return `'${s.replace(/'/g, "'\"'\"'")}'`;
}
