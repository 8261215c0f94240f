/**
 * One block of a document (see blockPlanner.ts) parsed on its own: by the fast parser, else by the
 * `yaml` package, then its post-pass (treePasses.ts); and the blocks of the previous version of a
 * document reused as they are (in the unchanged prefix) or shifted (in the unchanged suffix) instead
 * of parsed again. Also what a parse leaves for the next version (IncrementalState).
 *
 * Relies on fastParser.ts, yamlPackageTree.ts, treePasses.ts and the tree types.
 */
import type { YamlAlias, YamlMap, YamlNode, YamlPair, YamlScalar, YamlSeq, YamlSyntaxError } from './yamlTree';
import { parseFast } from './fastParser';
import { parseWithYamlLib } from './yamlPackageTree';
import { finishTree, hasRefs, MAX_NESTING, tooDeep, type TreeFacts } from './treePasses';

/** One parsed piece of a document: text[base, base + text.length), offsets absolute. */
export interface BlockResult {
  text: string;
  base: number;
  root: YamlNode | null;
  errors: YamlSyntaxError[];
  facts: TreeFacts;
  /** Parsed by the fast path (false: by the `yaml` package). */
  fast: boolean;
}

/** What a parse leaves for the next version of the same document. */
export interface IncrementalState {
  text: string;
  lineStarts: number[];
  /** lineStarts are the offsets after each `\n` (no lone CR in the text), so they can be patched. */
  lfLines: boolean;
  /** The blocks of a split parse, by start offset. */
  blocks: Map<number, BlockResult>;
  /** The block of a whole-document parse. */
  whole: BlockResult | null;
}

/** Counters for benchmarks and tests. */
export interface ParseStats {
  parsed: number;
  reused: number;
  shifted: number;
  whole: boolean;
}

/** The previous version and how the new text relates to it (its unchanged prefix and suffix). */
export interface Reuse {
  prev: IncrementalState;
  prefix: number;
  suffix: number;
  delta: number;
  newLength: number;
  next: Map<number, BlockResult>;
  stats: ParseStats;
}

/** Parses text[start, end) as a document on its own (fast path, else the `yaml` package). */
export function parseBlock(text: string, start: number, end: number, blockText: string, rootDup: boolean): BlockResult {
  let root: YamlNode | null = null;
  let errors: YamlSyntaxError[] = [];
  let fast = true;
  if (tooDeep(blockText)) {
    const msg = `Nested more than ${MAX_NESTING} levels deep: not parsed`;
    errors = [{ start, end: Math.max(start, Math.min(end, text.indexOf('\n', start) < 0 ? end : text.indexOf('\n', start))), code: 'nesting-limit', message: msg }];
    return { text: blockText, base: start, root: null, errors, facts: { aliases: [], aliasCost: [], unresolved: 0 }, fast: false };
  }
  const f = parseFast(text, start, end, blockText);
  if (f) root = f.root;
  else {
    fast = false;
    try {
      const r = parseWithYamlLib(blockText);
      root = r.root;
      errors = r.errors;
      if (start !== 0) {
        shiftInPlace(root, start);
        for (const e of errors) {
          e.start += start;
          e.end += start;
        }
      }
    } catch (e) {
      root = null;
      errors = [{ start, end, code: 'yaml-syntax', message: `YAML parser failure: ${(e as Error).message}` }];
    }
  }
  const facts = finishTree(root, errors, hasRefs(blockText), rootDup);
  return { text: blockText, base: start, root, errors, facts, fast };
}

function shiftInPlace(n: YamlNode | null, d: number): void {
  if (!n) return;
  n.start += d;
  n.end += d;
  if (n.kind === 'map') {
    for (const p of n.items) {
      p.start += d;
      p.end += d;
      p.colon += d;
      shiftInPlace(p.key, d);
      shiftInPlace(p.value, d);
    }
  } else if (n.kind === 'seq') {
    for (const it of n.items) shiftInPlace(it, d);
  }
}

/**
 * Each entry of a shifted block's root mapping → the entry of the previous version it is a copy of
 * (same text, same structure, every offset moved by the same amount). What the analysis takes a
 * stage's results over by after an edit that changed the length of the text before it.
 */
const shiftedPairs = new WeakMap<YamlPair, YamlPair>();

/**
 * Versions an entry is linked back through: what was computed for a version the analysis skipped
 * (typing faster than the diagnostics' delay) is still found, and no more than this many earlier
 * copies of a block are kept alive.
 */
export const SHIFT_LINKS = 4;

/**
 * The nearest earlier version of `pair` that `pair` is a shifted copy of (see shiftBlock) and
 * `wanted` accepts (the one something was computed for), at most SHIFT_LINKS versions back.
 */
export function shiftedFrom(pair: YamlPair, wanted: (original: YamlPair) => boolean): YamlPair | undefined {
  let p = shiftedPairs.get(pair);
  for (let i = 0; p && i < SHIFT_LINKS; i++, p = shiftedPairs.get(p)) if (wanted(p)) return p;
  return undefined;
}

/**
 * The node (or pair) of `copy` at the place `node` has in `original`, a pair shiftedFrom(copy)
 * answered: what a structure built on the original's nodes refers to in the copy. Undefined when
 * `node` is not part of `original`.
 */
export function copiedNode<T extends YamlNode | YamlPair>(original: YamlPair, copy: YamlPair, node: T): T | undefined {
  // Children lie within their parent's span: follow the spans, else (never expected) look everywhere.
  return (findCopy(original, copy, node, true) ?? findCopy(original, copy, node, false)) as T | undefined;
}

function findCopy(o: YamlPair | YamlNode, c: YamlPair | YamlNode, t: YamlNode | YamlPair, bySpan: boolean): YamlNode | YamlPair | undefined {
  if (o === t) return c;
  if (bySpan && (t.start < o.start || t.end > o.end)) return undefined;
  if ('key' in o) {
    const cp = c as YamlPair;
    return findCopy(o.key, cp.key, t, bySpan) ?? (o.value && cp.value ? findCopy(o.value, cp.value, t, bySpan) : undefined);
  }
  if (o.kind === 'map') {
    const items = (c as YamlMap).items;
    for (let i = 0; i < o.items.length; i++) {
      const r = findCopy(o.items[i]!, items[i]!, t, bySpan);
      if (r) return r;
    }
  } else if (o.kind === 'seq') {
    const items = (c as YamlSeq).items;
    for (let i = 0; i < o.items.length; i++) {
      const it = o.items[i];
      const r = it ? findCopy(it, items[i]!, t, bySpan) : undefined;
      if (r) return r;
    }
  }
  return undefined;
}

/** A copy of a cached block moved to `base`: every offset shifted, aliases re-linked to the copies. */
function shiftBlock(b: BlockResult, base: number): BlockResult {
  const ctx: ShiftCtx = { d: base - b.base, copies: b.facts.aliases.length ? new Map() : null, aliases: [] };
  const root = b.root ? copyNode(b.root, ctx) : null;
  if (b.root?.kind === 'map' && root?.kind === 'map') {
    for (let i = 0; i < root.items.length; i++) {
      let original: YamlPair | undefined = b.root.items[i]!;
      shiftedPairs.set(root.items[i]!, original);
      // A longer chain of copies would keep every earlier version of the block alive.
      for (let n = 1; original && n < SHIFT_LINKS; n++) original = shiftedPairs.get(original);
      if (original) shiftedPairs.delete(original);
    }
  }
  const d = ctx.d;
  const errors = b.errors.length ? b.errors.map((e) => ({ ...e, start: e.start + d, end: e.end + d })) : [];
  const facts: TreeFacts = { aliases: ctx.aliases, aliasCost: b.facts.aliasCost, unresolved: b.facts.unresolved };
  return { text: b.text, base, root, errors, facts, fast: b.fast };
}

interface ShiftCtx {
  d: number;
  /** Original → copy for anchored nodes, when the block has aliases to re-link. */
  copies: Map<YamlNode, YamlNode> | null;
  aliases: YamlAlias[];
}

function copyScalar(n: YamlScalar, ctx: ShiftCtx): YamlScalar {
  const d = ctx.d;
  const c: YamlScalar = { kind: 'scalar', start: n.start + d, end: n.end + d, value: n.value, source: n.source, style: n.style };
  if (n.anchor !== undefined) {
    c.anchor = n.anchor;
    ctx.copies?.set(n, c);
  }
  return c;
}

function copyNode(n: YamlNode, ctx: ShiftCtx): YamlNode {
  const d = ctx.d;
  switch (n.kind) {
    case 'scalar':
      return copyScalar(n, ctx);
    case 'alias': {
      const c: YamlAlias = { kind: 'alias', start: n.start + d, end: n.end + d, name: n.name, target: null };
      c.target = n.target ? (ctx.copies?.get(n.target) ?? null) : null;
      ctx.aliases.push(c);
      return c;
    }
    case 'map': {
      const src = n.items;
      const items: YamlPair[] = new Array(src.length);
      const c: YamlMap = { kind: 'map', start: n.start + d, end: n.end + d, items, flow: n.flow };
      if (n.anchor !== undefined) {
        c.anchor = n.anchor;
        ctx.copies?.set(n, c);
      }
      for (let i = 0; i < src.length; i++) {
        const p = src[i]!;
        const v = p.value;
        items[i] = { start: p.start + d, end: p.end + d, key: copyScalar(p.key, ctx), value: v === null ? null : copyNode(v, ctx), colon: p.colon + d };
      }
      return c;
    }
    case 'seq': {
      const src = n.items;
      const items: (YamlNode | null)[] = new Array(src.length);
      const c: YamlSeq = { kind: 'seq', start: n.start + d, end: n.end + d, items, flow: n.flow };
      if (n.anchor !== undefined) {
        c.anchor = n.anchor;
        ctx.copies?.set(n, c);
      }
      for (let i = 0; i < src.length; i++) {
        const it = src[i]!;
        items[i] = it === null ? null : copyNode(it, ctx);
      }
      return c;
    }
  }
}

/**
 * The block text[start, end): taken from the previous version when it lies wholly in the unchanged
 * prefix (same offsets) or suffix (shifted), else parsed.
 */
export function getBlock(text: string, start: number, end: number, reuse: Reuse | null, collect: Map<number, BlockResult> | null): BlockResult {
  if (reuse) {
    let old: BlockResult | undefined;
    let b: BlockResult;
    if (end <= reuse.prefix) {
      old = reuse.prev.blocks.get(start);
      if (old && old.text.length === end - start) {
        reuse.stats.reused++;
        reuse.next.set(start, old);
        return old;
      }
    } else if (start >= reuse.newLength - reuse.suffix) {
      old = reuse.prev.blocks.get(start - reuse.delta);
      if (old && old.text.length === end - start) {
        b = reuse.delta === 0 ? old : shiftBlock(old, start);
        if (reuse.delta === 0) reuse.stats.reused++;
        else reuse.stats.shifted++;
        reuse.next.set(start, b);
        return b;
      }
    }
    b = parseDetached(text, start, end);
    reuse.stats.parsed++;
    reuse.next.set(start, b);
    return b;
  }
  const b = parseBlock(text, start, end, text.slice(start, end), false);
  collect?.set(start, b);
  return b;
}

/**
 * parseBlock on a copy of the block's text. Strings cut from a text (scalar sources and values)
 * keep all of it alive; a block parsed during an update may be reused for many versions, and must
 * not keep the whole text of this one alive with it.
 */
function parseDetached(text: string, start: number, end: number): BlockResult {
  // `' ' + s` is a rope; slicing it flattens it into a new string the size of the block.
  const own = (' ' + text.slice(start, end)).slice(1);
  const b = parseBlock(own, 0, own.length, own, false);
  if (start !== 0) {
    shiftInPlace(b.root, start);
    for (const e of b.errors) {
      e.start += start;
      e.end += start;
    }
    b.base = start;
  }
  return b;
}

/** Length of the longest common prefix of a and b (native comparisons of halving pieces). */
export function commonPrefix(a: string, b: string, max = Math.min(a.length, b.length)): number {
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (a.slice(lo, mid) === b.slice(lo, mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Length of the longest common suffix of a and b, at most `max`. */
export function commonSuffix(a: string, b: string, max: number): number {
  const al = a.length;
  const bl = b.length;
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (a.slice(al - mid, al - lo) === b.slice(bl - mid, bl - lo)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Line starts of `text` from those of the previous version and the unchanged prefix/suffix. */
export function patchLineStarts(prev: IncrementalState, text: string, prefix: number, suffix: number): number[] {
  const old = prev.lineStarts;
  const oldLen = prev.text.length;
  const out: number[] = [];
  // Old starts x <= prefix (text[x - 1] lies in the prefix).
  let i = 0;
  while (i < old.length && old[i]! <= prefix) out.push(old[i++]!);
  const changedEnd = text.length - suffix;
  let nl = text.indexOf('\n', prefix);
  while (nl >= 0 && nl < changedEnd) {
    out.push(nl + 1);
    nl = text.indexOf('\n', nl + 1);
  }
  // Old starts x > oldLen - suffix, shifted.
  const delta = text.length - oldLen;
  let j = old.length;
  while (j > 0 && old[j - 1]! > oldLen - suffix) j--;
  for (; j < old.length; j++) out.push(old[j]! + delta);
  return out;
}
