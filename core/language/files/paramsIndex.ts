/**
 * A params file (`params.yaml`, a `vars` file) as the pipeline features need it: its parsed tree,
 * the node and key span of a dotted key (`train.lr`), and every key path for completion.
 * YAML and JSON are read; TOML and Python params files are known to exist but their keys are not.
 */
import type { ParseYaml } from '../analyzeDocument';
import type { WorkspaceView } from '../languageTypes';
import { asMap, asSeq, deref, keyName, pairOf } from '../yaml/yamlAccess';
import { parseYaml } from '../yaml/parseYaml';
import type { Span, YamlDocument, YamlNode, YamlPair } from '../yaml/yamlTree';

export interface ParamsFile {
  relPath: string;
  text: string;
  /** Undefined when the format is not YAML/JSON (the keys cannot be checked). */
  doc: YamlDocument | undefined;
}

export interface ParamLookup {
  /** The value node (null for `key:` with no value). */
  node: YamlNode | null;
  /** The pair defining the last key segment (absent for list items). */
  pair: YamlPair | undefined;
  /** Span to navigate to: the key (or the list item). */
  span: Span;
}

export function loadParamsFile(workspace: WorkspaceView, relPath: string, parse: ParseYaml = parseYaml): ParamsFile | undefined {
  const text = workspace.readFile(relPath);
  if (text === undefined) return undefined;
  const readable = /\.(ya?ml|json)$/i.test(relPath);
  return { relPath, text, doc: readable ? parse(text) : undefined };
}

/** `train.lr` → ['train', 'lr']; `layers[0].units` → ['layers', 0, 'units']. */
export function splitKeyPath(key: string): (string | number)[] {
  if (key.indexOf('[') < 0) return key.split('.');
  const out: (string | number)[] = [];
  for (const part of key.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1] !== '') out.push(m[1]!);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/** The node at a key path inside `root`, following aliases; undefined when some segment is missing. */
export function lookupPath(root: YamlNode | null, segments: readonly (string | number)[]): ParamLookup | undefined {
  let node: YamlNode | null = root;
  let pair: YamlPair | undefined;
  let span: Span = root ? { start: root.start, end: root.start } : { start: 0, end: 0 };
  for (const seg of segments) {
    const map = asMap(node);
    if (map) {
      // A dotted name may also be a literal key (`a.b: 1`); DVC splits on dots, so prefer segments.
      const p = pairOf(map, String(seg));
      if (!p) return undefined;
      pair = p;
      node = p.value;
      span = { start: p.key.start, end: p.key.end };
      continue;
    }
    const seq = asSeq(node);
    const i = seq ? listIndex(seg, seq.items.length) : undefined;
    if (seq && i !== undefined) {
      node = seq.items[i] ?? null;
      pair = undefined;
      span = node ? { start: node.start, end: node.end } : span;
      continue;
    }
    return undefined;
  }
  return { node, pair, span };
}

/**
 * A segment as a list index: a number, or a string Python's int() reads (`0`, ` 1`, `-1`; DVC and
 * dpath both index lists that way, a negative index counting from the end); undefined when it is
 * not one or is out of range.
 */
function listIndex(seg: string | number, length: number): number | undefined {
  let i: number;
  if (typeof seg === 'number') i = seg;
  else if (/^\s*[+-]?\d+\s*$/.test(seg)) i = Number(seg.trim());
  else return undefined;
  if (i < 0) i += length;
  return i >= 0 && i < length ? i : undefined;
}

export function lookupParam(file: ParamsFile, key: string): ParamLookup | undefined {
  if (!file.doc) return undefined;
  return lookupPath(file.doc.root, splitKeyPath(key));
}

/** Whether a tracked params key is a dpath glob (`train.*`, `dataset_kwargs.india*`, `**.lr`). */
export function isParamGlob(key: string): boolean {
  return /[*?]/.test(key) || /\[(?!\d+\])/.test(key);
}

/**
 * Whether a glob key matches some key path of the file, as DVC matches it (dpath, `.` separated):
 * each segment is an fnmatch pattern (`*`, `?`, `[abc]`, `[!abc]`), `**` stands for any number of
 * segments, and list items are matched by their index. The walk is bounded.
 */
export function matchesParamGlob(file: ParamsFile, key: string): boolean {
  if (!file.doc) return false;
  const patterns = key.split('.').map((p) => (p === '**' ? '**' : globSegment(p)));
  let budget = 100_000;
  const walk = (node: YamlNode | null, at: number, depth: number): boolean => {
    if (--budget < 0 || depth > 64) return false;
    if (at === patterns.length) return true;
    const pattern = patterns[at]!;
    if (pattern === '**' && walk(node, at + 1, depth + 1)) return true;
    const children = childrenOf(node);
    for (const [name, child] of children) {
      if (pattern === '**') {
        if (walk(child, at, depth + 1)) return true;
      } else if (pattern.test(name) && walk(child, at + 1, depth + 1)) return true;
    }
    return false;
  };
  return walk(file.doc.root, 0, 0);
}

export interface ParamGlobMatch extends ParamLookup {
  /** The matched key path, dotted (`dataset_kwargs.india_train`, list items by index). */
  key: string;
}

/**
 * The key paths of the file a glob key matches (as `matchesParamGlob` matches them), in file
 * order, at most `limit` of them; each with its node and the span of its key (or list item).
 */
export function paramGlobMatches(file: ParamsFile, key: string, limit = 50): ParamGlobMatch[] {
  if (!file.doc) return [];
  const patterns = key.split('.').map((p) => (p === '**' ? '**' : globSegment(p)));
  const out: ParamGlobMatch[] = [];
  const seen = new Set<string>();
  let budget = 100_000;
  const walk = (node: YamlNode | null, at: number, path: string[], found: ParamLookup | undefined, depth: number): void => {
    if (--budget < 0 || depth > 64 || out.length >= limit) return;
    if (at === patterns.length) {
      const k = path.join('.');
      if (found && !seen.has(k)) {
        seen.add(k);
        out.push({ ...found, key: k });
      }
      return;
    }
    const pattern = patterns[at]!;
    if (pattern === '**') walk(node, at + 1, path, found, depth + 1);
    const map = asMap(node);
    const entries: [string, ParamLookup][] = map
      ? map.items.map((p) => [keyName(p), { node: p.value, pair: p, span: { start: p.key.start, end: p.key.end } }])
      : (asSeq(node)?.items ?? []).flatMap((it, i): [string, ParamLookup][] =>
          it ? [[String(i), { node: it, pair: undefined, span: { start: it.start, end: it.end } }]] : [],
        );
    for (const [name, child] of entries) {
      if (pattern === '**') walk(child.node, at, [...path, name], child, depth + 1);
      else if (pattern.test(name)) walk(child.node, at + 1, [...path, name], child, depth + 1);
    }
  };
  walk(file.doc.root, 0, [], undefined, 0);
  return out.sort((a, b) => a.span.start - b.span.start);
}

function childrenOf(node: YamlNode | null): [string, YamlNode | null][] {
  const map = asMap(node);
  if (map) return map.items.map((p) => [keyName(p), p.value]);
  const seq = asSeq(node);
  return seq ? seq.items.map((it, i) => [String(i), it]) : [];
}

/** An fnmatch pattern for one segment as a regular expression. */
function globSegment(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

export interface ParamKeyEntry {
  /** Dotted path, e.g. `train.lr`. */
  key: string;
  pair: YamlPair;
  /** A mapping (a group of params) rather than a value. */
  isGroup: boolean;
}

/** Every key path of a params file, depth-first, bounded (params files are small; 10,000 keys is plenty). */
export function paramKeys(file: ParamsFile, limit = 10_000): ParamKeyEntry[] {
  const out: ParamKeyEntry[] = [];
  const root = asMap(file.doc?.root);
  if (!root) return out;
  const walk = (map: NonNullable<ReturnType<typeof asMap>>, prefix: string, depth: number) => {
    for (const p of map.items) {
      if (out.length >= limit) return;
      const key = prefix + keyName(p);
      const child = asMap(p.value);
      out.push({ key, pair: p, isGroup: !!child });
      if (child && depth < 16) walk(child, key + '.', depth + 1);
    }
  };
  walk(root, '', 0);
  return out;
}

/** A short text of a value for hover: scalars as written, collections summarised. */
export function describeValue(node: YamlNode | null, budget = 200): string {
  const n = deref(node);
  if (!n) return 'null';
  if (n.kind === 'scalar') return n.value === null ? 'null' : typeof n.value === 'string' ? JSON.stringify(n.value) : String(n.value);
  const parts: string[] = [];
  let used = 0;
  if (n.kind === 'seq') {
    for (const it of n.items) {
      const s = describeValue(it, Math.max(10, budget - used));
      used += s.length + 2;
      parts.push(s);
      if (used > budget) {
        parts.push('…');
        break;
      }
    }
    return `[${parts.join(', ')}]`;
  }
  for (const p of n.items) {
    const s = `${keyName(p)}: ${describeValue(p.value, Math.max(10, budget - used))}`;
    used += s.length + 2;
    parts.push(s);
    if (used > budget) {
      parts.push('…');
      break;
    }
  }
  return `{${parts.join(', ')}}`;
}
