/**
 * Queries over a parsed YamlDocument that completion and hover run on every request: the node at
 * an offset, the node at a path, and conversion to plain JS values. None of them walks the whole
 * tree: nodeAtOffset binary-searches the (sorted, non-overlapping) items of each collection on the
 * way down, so it costs O(depth × log items), whatever the document's size.
 */
import type { NodeAtOffset, YamlDocument, YamlMap, YamlNode, YamlPair, YamlSeq } from './yamlTree';

/** The path component a pair's key contributes: the key's value as a string. */
export function keyName(pair: YamlPair): string {
  const v = pair.key.value;
  return v === null ? pair.key.source : String(v);
}

/**
 * The innermost node whose span contains `offset` (spans count as containing their end, so a cursor
 * just after `train` is in `train`), the keys/indices leading there, the pair whose key holds the
 * offset, and every enclosing pair. Inside a pair but outside its key and value (say after `cmd: `
 * when the value is missing), `node` is the mapping while `path` and `pairs` already include that pair.
 * Aliases are not followed.
 */
export function nodeAtOffset(doc: Pick<YamlDocument, 'root'>, offset: number): NodeAtOffset {
  const result: NodeAtOffset = { node: null, path: [], inKeyOf: null, pairs: [] };
  let n: YamlNode | null = doc.root;
  if (!n || offset < n.start || offset > n.end) return result;
  for (;;) {
    result.node = n;
    if (n.kind === 'map') {
      const p = findPair(n, offset);
      if (!p) return result;
      result.path.push(keyName(p));
      result.pairs.push(p);
      const k = p.key;
      if (offset >= k.start && offset <= k.end && k.end > k.start) {
        result.inKeyOf = p;
        result.node = k;
        return result;
      }
      const v = p.value;
      if (!v || offset < v.start || offset > v.end) return result;
      n = v;
    } else if (n.kind === 'seq') {
      const i = findItem(n, offset);
      if (i < 0) return result;
      result.path.push(i);
      n = n.items[i]!;
    } else {
      return result;
    }
  }
}

/** The last pair starting at or before `offset`, if it contains it. */
function findPair(m: YamlMap, offset: number): YamlPair | null {
  const items = m.items;
  let lo = 0;
  let hi = items.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid]!.start <= offset) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0) return null;
  const p = items[found]!;
  return offset <= p.end ? p : null;
}

/** Index of the last non-null item starting at or before `offset`, if it contains it; else -1. */
function findItem(s: YamlSeq, offset: number): number {
  const items = s.items;
  let lo = 0;
  let hi = items.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    // Null items (`-` with nothing) have no span: use the nearest real item at or left of `mid`.
    let m = mid;
    while (m >= lo && items[m] == null) m--;
    if (m < lo) {
      lo = mid + 1;
      continue;
    }
    if (items[m]!.start <= offset) {
      found = m;
      lo = mid + 1;
    } else hi = m - 1;
  }
  if (found < 0) return -1;
  return offset <= items[found]!.end ? found : -1;
}

const keyIndex = new WeakMap<YamlMap, Map<string, YamlPair>>();

/** The pair of `map` with the given key (the first one if it is duplicated). O(1) after the first call for large maps. */
export function getPair(map: YamlMap, key: string): YamlPair | null {
  const items = map.items;
  if (items.length <= 16) {
    for (const p of items) if (keyName(p) === key) return p;
    return null;
  }
  let idx = keyIndex.get(map);
  if (!idx) {
    idx = new Map();
    for (const p of items) {
      const k = keyName(p);
      if (!idx.has(k)) idx.set(k, p);
    }
    keyIndex.set(map, idx);
  }
  return idx.get(key) ?? null;
}

/** The node at `path` (keys for mappings, indices for sequences), following aliases; null when absent. */
export function findPath(doc: Pick<YamlDocument, 'root'>, path: readonly (string | number)[]): YamlNode | null {
  let n: YamlNode | null = deref(doc.root);
  for (const seg of path) {
    if (!n) return null;
    if (n.kind === 'map') {
      const p = getPair(n, String(seg));
      n = p ? deref(p.value) : null;
    } else if (n.kind === 'seq') {
      if (typeof seg !== 'number' || seg < 0 || seg >= n.items.length) return null;
      n = deref(n.items[seg] ?? null);
    } else return null;
  }
  return n;
}

function deref(n: YamlNode | null): YamlNode | null {
  let steps = 0;
  while (n && n.kind === 'alias') {
    if (steps++ > 100) return null;
    n = n.target;
  }
  return n;
}

export class YamlAliasLimitError extends Error {
  readonly code = 'alias-limit';
  constructor(message: string) {
    super(message);
    this.name = 'YamlAliasLimitError';
  }
}

export type JsValue = string | number | boolean | null | JsValue[] | { [key: string]: JsValue };

/**
 * Plain JS value of a node (mappings → objects, later duplicate keys win; sequences → arrays).
 * Each alias is expanded into a fresh copy, and at most `aliasBudget` nodes in total may come from
 * alias expansion: past that (a billion-laughs document, or an alias inside its own anchor) it throws
 * YamlAliasLimitError instead of running out of memory. An alias with no anchor becomes null.
 */
export function toJs(node: YamlNode | null, aliasBudget = 10_000): JsValue {
  let budget = aliasBudget;
  const conv = (n: YamlNode | null, viaAlias: boolean, depth: number): JsValue => {
    if (!n) return null;
    if (viaAlias && --budget < 0) throw new YamlAliasLimitError(`Aliases expand to more than ${aliasBudget} nodes`);
    if (depth > 2_000) throw new YamlAliasLimitError('Nesting too deep to convert');
    switch (n.kind) {
      case 'scalar':
        return n.value;
      case 'alias':
        return n.target ? conv(n.target, true, depth + 1) : null;
      case 'seq':
        return n.items.map((it) => conv(it, viaAlias, depth + 1));
      case 'map': {
        const o: { [key: string]: JsValue } = {};
        for (const p of n.items) {
          const k = keyName(p);
          const v = conv(p.value, viaAlias, depth + 1);
          if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
          else o[k] = v;
        }
        return o;
      }
    }
  };
  try {
    return conv(node, false, 0);
  } catch (e) {
    if (e instanceof RangeError) throw new YamlAliasLimitError('Nesting too deep to convert');
    throw e;
  }
}
