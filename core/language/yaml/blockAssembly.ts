/**
 * A document put together from its blocks: planned (blockPlanner.ts), each parsed or taken from the
 * previous version (blockParse.ts), then assembled into one tree with the document-level checks
 * (duplicate top-level keys, alias limits; treePasses.ts). A document that cannot be split, or whose
 * split turns out wrong (an alias to an anchor in another block, a piece that is not an entry), is
 * parsed as one block. YamlDocumentCache (incrementalYaml.ts) and parseYaml both come here.
 *
 * Relies on blockPlanner.ts, blockParse.ts, treePasses.ts, plainScalars.ts and charCodes.ts.
 */
import type { Span, YamlDocument, YamlMap, YamlNode, YamlPair, YamlScalar, YamlSeq, YamlSyntaxError } from './yamlTree';
import { planBlocks, type Plan } from './blockPlanner';
import {
  commonPrefix,
  commonSuffix,
  getBlock,
  parseBlock,
  patchLineStarts,
  type BlockResult,
  type IncrementalState,
  type ParseStats,
  type Reuse,
} from './blockParse';
import { checkAliasLimits, checkDuplicates, sortErrors, type TreeFacts } from './treePasses';
import { resolvePlainScalar } from './plainScalars';
import { CH_CR, CH_HASH, CH_NL, CH_SP } from './charCodes';

const NOT_AN_ENTRY = 'Expected a mapping entry (key: value) here';

/**
 * Builds the document from its blocks, parsing each one, or reusing the previous version's blocks
 * that lie in the unchanged prefix or suffix. `hint` (from the editor's changes) is checked, not trusted.
 */
export function assembleDocument(
  text: string,
  prev: IncrementalState | null,
  hint?: { prefix: number; suffix: number },
  keepState = true,
): { doc: YamlDocument; state: IncrementalState; stats: ParseStats } {
  const stats: ParseStats = { parsed: 0, reused: 0, shifted: 0, whole: false };
  let reuse: Reuse | null = null;
  let lineStarts: number[] | null = null;
  if (prev) {
    const oldText = prev.text;
    const max = Math.min(oldText.length, text.length);
    let prefix = -1;
    let suffix = -1;
    if (hint && hint.prefix >= 0 && hint.suffix >= 0 && hint.prefix + hint.suffix <= max) {
      const hp = hint.prefix;
      const hs = hint.suffix;
      if (
        oldText.slice(0, hp) === text.slice(0, hp) &&
        oldText.slice(oldText.length - hs) === text.slice(text.length - hs)
      ) {
        prefix = hp;
        suffix = hs;
      }
    }
    if (prefix < 0) {
      prefix = commonPrefix(oldText, text, max);
      suffix = commonSuffix(oldText, text, max - prefix);
    }
    reuse = { prev, prefix, suffix, delta: text.length - oldText.length, newLength: text.length, next: new Map(), stats };
    if (prev.lfLines) lineStarts = patchLineStarts(prev, text, prefix, suffix);
  }
  const plan = planBlocks(text, lineStarts);
  if (plan.segments) {
    const collect = reuse ? reuse.next : keepState ? new Map<number, BlockResult>() : null;
    const doc = assembleSplit(text, plan, reuse, collect);
    if (doc) return { doc, state: { text, lineStarts: plan.lineStarts, lfLines: plan.lfLines, blocks: collect ?? new Map(), whole: null }, stats };
  }
  // One block: the whole document.
  stats.whole = true;
  let b: BlockResult;
  if (prev?.whole && prev.text === text) {
    b = prev.whole;
    stats.reused++;
  } else {
    b = parseBlock(text, 0, text.length, text, true);
    stats.parsed++;
  }
  const errors = b.errors.slice();
  checkAliasLimits([b.facts], errors, true);
  sortErrors(errors);
  return { doc: { text, root: b.root, errors, lineStarts: plan.lineStarts }, state: { text, lineStarts: plan.lineStarts, lfLines: plan.lfLines, blocks: new Map(), whole: b }, stats };
}

/** null when some alias needs an anchor from another block: then the document is parsed whole. */
function assembleSplit(text: string, plan: Plan, reuse: Reuse | null, collect: Map<number, BlockResult> | null): YamlDocument | null {
  const segments = plan.segments!;
  const errors: YamlSyntaxError[] = [];
  const facts: TreeFacts[] = [];
  const rootItems: (YamlPair | YamlNode | null)[] = [];
  let rootStart = -1;
  let rootEnd = -1;
  /** The pairs of a block's root mapping, or nothing (and an error) when it is not one. */
  const entries = (b: BlockResult, wantSeq: boolean): YamlNode | null => {
    for (const e of b.errors) errors.push(e);
    facts.push(b.facts);
    const r = b.root;
    if (r && (r.kind === 'map' || r.kind === 'seq') && !r.flow && r.kind === (wantSeq ? 'seq' : 'map')) return r;
    if (!hasErrors(b)) {
      const ls = firstContentLine(text, b.base, b.base + b.text.length);
      errors.push({ start: ls.start, end: ls.end, code: 'yaml-syntax', message: wantSeq ? 'Expected a sequence item (- value) here' : NOT_AN_ENTRY });
    }
    return null;
  };
  for (const seg of segments) {
    let h = seg.header;
    let children: BlockResult[] | null = null;
    if (h) {
      children = [];
      for (let i = 0; i < h.children.length; i++) {
        const cs = h.children[i]!;
        const ce = i + 1 < h.children.length ? h.children[i + 1]! : seg.end;
        const b = getBlock(text, cs, ce, reuse, collect);
        if (b.facts.unresolved) return null;
        // A child that is valid but not a mapping entry (the value is a multi-line scalar, say):
        // this `key:` block is not a mapping of entries after all, parse it in one piece.
        if (!hasErrors(b) && !isBlockMap(b.root)) {
          h = null;
          break;
        }
        children.push(b);
      }
    }
    if (!h || !children) {
      const b = getBlock(text, seg.start, seg.end, reuse, collect);
      if (b.facts.unresolved) return null;
      const r = entries(b, plan.rootSeq);
      if (!r) continue;
      if (rootStart < 0) rootStart = r.start;
      rootEnd = r.end;
      for (const it of (r as YamlMap | YamlSeq).items) rootItems.push(it);
      continue;
    }
    const items: YamlPair[] = [];
    let mapStart = -1;
    let mapEnd = -1;
    for (const b of children) {
      const r = entries(b, false) as YamlMap | null;
      if (!r) continue;
      if (mapStart < 0) mapStart = r.start;
      mapEnd = r.end;
      for (const p of r.items) items.push(p);
    }
    checkDuplicates(items, errors);
    const keySrc = text.slice(h.keyStart, h.keyEnd);
    const key: YamlScalar = { kind: 'scalar', start: h.keyStart, end: h.keyEnd, value: resolvePlainScalar(keySrc), source: keySrc, style: 'plain' };
    const value: YamlMap | null = items.length ? { kind: 'map', start: mapStart, end: mapEnd, items, flow: false } : null;
    const pair: YamlPair = { start: h.keyStart, end: value ? value.end : h.colon + 1, key, value, colon: h.colon };
    if (rootStart < 0) rootStart = pair.start;
    rootEnd = pair.end;
    rootItems.push(pair);
  }
  // No piece was a mapping (a multi-line scalar document, say): the split was wrong, parse it whole.
  if (rootStart < 0) return null;
  let root: YamlNode | null = null;
  if (rootStart >= 0) {
    if (plan.rootSeq) root = { kind: 'seq', start: rootStart, end: rootEnd, items: rootItems as (YamlNode | null)[], flow: false };
    else {
      checkDuplicates(rootItems as YamlPair[], errors);
      root = { kind: 'map', start: rootStart, end: rootEnd, items: rootItems as YamlPair[], flow: false };
    }
  }
  checkAliasLimits(facts, errors, false);
  sortErrors(errors);
  return { text, root, errors, lineStarts: plan.lineStarts };
}

/** Errors, not just 'yaml-compat' warnings. */
function hasErrors(b: BlockResult): boolean {
  for (const e of b.errors) if (e.severity !== 'warning') return true;
  return false;
}

function isBlockMap(n: YamlNode | null): boolean {
  return n !== null && n.kind === 'map' && !n.flow;
}

function firstContentLine(text: string, start: number, end: number): Span {
  let p = start;
  while (p < end) {
    let i = p;
    while (i < end && text.charCodeAt(i) === CH_SP) i++;
    let le = text.indexOf('\n', i);
    if (le < 0 || le > end) le = end;
    const c = text.charCodeAt(i);
    if (i < le && c !== CH_CR && c !== CH_HASH && c !== CH_NL) {
      let e = le;
      while (e > i && (text.charCodeAt(e - 1) === CH_NL || text.charCodeAt(e - 1) === CH_CR)) e--;
      return { start: i, end: e };
    }
    p = le + 1;
  }
  return { start, end: start };
}
