/**
 * YAML text → YamlDocument (see yamlTree.ts). Never throws.
 *
 * Three layers, in this file:
 * - the `yaml` package's parseDocument (source tokens kept) converted into the tree: the reference,
 *   and the parser for whatever the fast path leaves alone (errors, tags, multi-line flow...);
 * - FastParser, a hand-written parser for the YAML configuration files are made of, about 15–20×
 *   faster, which must give the same tree as the conversion whenever it accepts a text;
 * - blocks: the document is cut into top-level entries (and the entries of a big `stages:`-like
 *   mapping), each parsed alone and assembled, which YamlDocumentCache (incrementalYaml.ts) uses to
 *   re-parse only what an edit touched. See bench/README.md, "YAML parsing", for the measurements.
 *
 * Post-passes shared by all paths: aliases linked to anchors, 'duplicate-key' on later occurrences,
 * 'alias-limit' when aliases would expand beyond ALIAS_NODE_LIMIT / ALIAS_TOTAL_LIMIT nodes,
 * 'unknown-alias', and 'nesting-limit' beyond MAX_NESTING levels. Plain scalars resolve by the YAML
 * 1.2 core schema (resolvePlainScalar).
 *
 * Where PyYAML (what DVC and huggingface_hub read YAML with) accepts what strict YAML 1.2 rejects,
 * the tree holds PyYAML's reading (see pyyamlCompat.ts): lone CRs are line breaks on every path,
 * and a multi-line quoted scalar whose continuation lines are not indented more than its key is
 * read whole, with a 'yaml-compat' warning; the planner never cuts a block inside one.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, Scalar } from 'yaml';
import type { Node as YNode, Pair as YPair, YAMLMap, YAMLSeq, Alias as YAlias } from 'yaml';
import { computeLineStarts } from '../text/lineIndex';
import {
  type ScalarStyle,
  type Span,
  type YamlAlias,
  type YamlDocument,
  type YamlMap,
  type YamlNode,
  type YamlPair,
  type YamlScalar,
  type YamlSeq,
  type YamlSyntaxError,
} from './yamlTree';
import { findMultiLineQuotes, hasLoneCr, normalizeLoneCr, underIndentedQuotesPatch, type MultiLineQuote } from './pyyamlCompat';
import { CH_COLON, CH_CR, CH_DASH, CH_HASH, CH_NL, CH_SP } from './charCodes';

/** Expansion budget: an alias whose target expands to more nodes than this is an 'alias-limit' error. */
export const ALIAS_NODE_LIMIT = 10_000;
/** Budget for the whole document: the nodes all aliases together expand to. */
export const ALIAS_TOTAL_LIMIT = 100_000;

/**
 * Parses a YAML document. Never throws. The text is split into blocks where that is safe (see
 * planBlocks): each top-level entry, and each entry of a top-level `key:` whose value is a block
 * mapping (say `stages:`), is parsed on its own by the fast parser, or by the `yaml` package when the
 * fast parser gives up; the blocks are then assembled into one tree. YamlDocumentCache reuses the
 * blocks of the previous version, which gives exactly this result.
 */
export function parseYaml(text: string): YamlDocument {
  try {
    return assembleDocument(text, null, undefined, false).doc;
  } catch (e) {
    // Not expected; a last resort so that parsing never throws.
    return {
      text,
      root: null,
      errors: [{ start: 0, end: text.length, code: 'yaml-syntax', message: `YAML parser failure: ${(e as Error).message}` }],
      lineStarts: computeLineStarts(text),
    };
  }
}

function hasRefs(text: string): boolean {
  return text.indexOf('&') >= 0 || text.indexOf('*') >= 0;
}

// ---------------------------------------------------------------------------------------------
// Core schema (YAML 1.2.2, 10.3.2) for plain scalars.

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

// ---------------------------------------------------------------------------------------------
// Conversion from the `yaml` package.

interface LibResult {
  root: YamlNode | null;
  errors: YamlSyntaxError[];
}

const LIB_OPTIONS = {
  keepSourceTokens: true,
  uniqueKeys: false,
  prettyErrors: false,
  version: '1.2',
  strict: true,
} as const;

/**
 * The `yaml` package's reading of `text`, made to agree with PyYAML (see pyyamlCompat.ts): lone
 * CRs read as line breaks, and, when the package rejects the text, multi-line quoted scalars with
 * under-indented continuation lines read as PyYAML reads them, each with a 'yaml-compat' warning.
 */
function parseWithYamlLib(text: string): LibResult {
  // Same length and line starts as `text`; sources are still cut from `text`.
  const libText = hasLoneCr(text) ? normalizeLoneCr(text) : text;
  let doc = parseDocument(libText, LIB_OPTIONS);
  let values: Map<number, string> | null = null;
  const errors: YamlSyntaxError[] = [];
  if (doc.errors.length) {
    const patch = underIndentedQuotesPatch(libText);
    if (patch) {
      const patched = parseDocument(patch.text, LIB_OPTIONS);
      if (patched.errors.length < doc.errors.length) {
        doc = patched;
        values = patch.values;
        for (const w of patch.warnings) errors.push(w);
      }
    }
  }
  const len = text.length;
  for (const e of doc.errors) {
    const s = Math.max(0, Math.min(len, e.pos[0]));
    const en = Math.max(s, Math.min(len, e.pos[1]));
    errors.push({ start: s, end: en, code: e.code === 'MULTIPLE_DOCS' ? 'multiple-documents' : 'yaml-syntax', message: e.message });
  }
  const conv = new LibConverter(text, values);
  const root = conv.node(doc.contents as YNode | null, false);
  for (const e of errors) {
    // The package reports an unclosed quote where it stopped looking; point at the quote instead.
    if (e.start === e.end && e.message.startsWith('Missing closing')) {
      const q = findQuotedEndingAt(root, e.start);
      if (q) {
        e.start = q.start;
        const nl = libText.indexOf('\n', q.start);
        e.end = Math.max(q.start + 1, Math.min(q.end, nl < 0 ? text.length : nl));
        if (e.end > q.start + 1 && text.charCodeAt(e.end - 1) === CH_CR) e.end--;
      }
    }
  }
  return { root, errors };
}

function findQuotedEndingAt(n: YamlNode | null, at: number): YamlScalar | null {
  if (!n) return null;
  if (n.kind === 'scalar') return (n.style === 'double' || n.style === 'single') && n.end === at ? n : null;
  if (n.kind === 'map') {
    for (const p of n.items) {
      const r = findQuotedEndingAt(p.key, at) ?? findQuotedEndingAt(p.value, at);
      if (r) return r;
    }
  } else if (n.kind === 'seq') {
    for (const it of n.items) {
      const r = findQuotedEndingAt(it, at);
      if (r) return r;
    }
  }
  return null;
}

const STYLE: Record<string, ScalarStyle> = {
  PLAIN: 'plain',
  QUOTE_SINGLE: 'single',
  QUOTE_DOUBLE: 'double',
  BLOCK_LITERAL: 'literal',
  BLOCK_FOLDED: 'folded',
};

interface TokLike {
  type?: string;
  offset?: number;
  source?: string;
  props?: TokLike[];
  items?: { start?: TokLike[]; key?: TokLike | null; sep?: TokLike[]; value?: TokLike | null }[];
}

class LibConverter {
  /** `values`: the values of quoted scalars the package read from a patched text, by start offset. */
  constructor(
    private readonly text: string,
    private readonly values: Map<number, string> | null = null,
  ) {}

  node(n: YNode | YPair | null | undefined, flowCtx: boolean): YamlNode | null {
    if (n == null) return null;
    if (isScalar(n)) return this.scalar(n, true);
    if (isAlias(n)) return this.alias(n);
    if (isMap(n)) return this.map(n, flowCtx);
    if (isSeq(n)) return this.seq(n, flowCtx);
    if (isPair(n)) {
      // A pair directly in a sequence: a single-pair flow mapping.
      const p = this.pair(n, true);
      const m: YamlMap = { kind: 'map', start: p.start, end: p.end, items: [p], flow: true };
      return m;
    }
    return null;
  }

  private range(n: { range?: [number, number, number] | null }): [number, number] {
    const r = n.range;
    if (!r) return [0, 0];
    return [r[0], r[1]];
  }

  /** null for the empty node (`key:` with nothing), unless it carries an anchor or tag. */
  scalar(n: Scalar, allowNull: boolean): YamlScalar | null {
    const [start, valueEnd] = this.range(n);
    const tok = n.srcToken as TokLike | undefined;
    const type = n.type ?? 'PLAIN';
    const style = STYLE[type] ?? 'plain';
    let end = valueEnd;
    if (style === 'literal' || style === 'folded') {
      // The span ends after the last non-blank content line (or after the header).
      let headerEnd = start + 1;
      const hdr = tok?.props?.find((t) => t.type === 'block-scalar-header');
      if (hdr && hdr.offset != null && hdr.source != null) headerEnd = hdr.offset + hdr.source.length;
      end = trimEndWs(this.text, headerEnd, valueEnd);
    }
    const source = this.text.slice(start, end);
    if (allowNull && style === 'plain' && source === '' && !n.anchor && !n.tag) return null;
    let value: string | number | boolean | null;
    if (style === 'plain') {
      const v = n.value;
      value = source.includes('\n') || source.includes('\r') ? resolvePlainScalar(typeof v === 'string' ? v : String(v)) : resolvePlainScalar(source);
      if (n.tag) value = libValue(v);
    } else {
      value = n.tag ? libValue(n.value) : String(n.value);
      const patched = this.values?.get(start);
      if (patched !== undefined && (style === 'double' || style === 'single')) value = patched;
    }
    const s: YamlScalar = { kind: 'scalar', start, end, value, source, style };
    if (n.anchor) s.anchor = n.anchor;
    return s;
  }

  alias(n: YAlias): YamlAlias {
    const [start, end] = this.range(n);
    return { kind: 'alias', start, end, name: n.source, target: null };
  }

  map(n: YAMLMap, flowCtx: boolean): YamlMap {
    const tok = n.srcToken as TokLike | undefined;
    const flow = flowCtx || tok?.type === 'flow-collection' || !!n.flow;
    const items: YamlPair[] = [];
    for (const it of n.items) items.push(this.pair(it as YPair, flow));
    let start: number;
    let end: number;
    if (tok?.type === 'flow-collection') {
      [start, end] = this.range(n);
    } else if (items.length) {
      start = items[0]!.start;
      end = items[items.length - 1]!.end;
    } else {
      [start, end] = this.range(n);
    }
    const m: YamlMap = { kind: 'map', start, end, items, flow };
    if (n.anchor) m.anchor = n.anchor;
    return m;
  }

  pair(p: YPair, flow: boolean): YamlPair {
    const tok = (p as unknown as { srcToken?: { sep?: TokLike[] } }).srcToken;
    let colon = -1;
    for (const t of tok?.sep ?? []) {
      if (t.type === 'map-value-ind' && t.offset != null) {
        colon = t.offset;
        break;
      }
    }
    let key: YamlScalar | null = null;
    const k = p.key as YNode | null;
    if (k != null) {
      if (isScalar(k)) key = this.scalar(k, false);
      else {
        const [ks, ke] = this.range(k as { range?: [number, number, number] });
        const src = this.text.slice(ks, ke);
        key = { kind: 'scalar', start: ks, end: ke, value: src, source: src, style: 'plain' };
      }
    }
    if (key == null || (key.source === '' && colon >= 0 && key.start > colon)) {
      const at = colon >= 0 ? colon : 0;
      key = { kind: 'scalar', start: at, end: at, value: null, source: '', style: 'plain' };
    }
    const hadColon = colon >= 0;
    if (!hadColon) colon = key.end;
    const value = this.node(p.value as YNode | null, flow);
    const start = Math.min(key.start, colon);
    const end = value ? Math.max(value.end, colon + 1) : hadColon ? Math.max(key.end, colon + 1) : key.end;
    return { start, end, key, value, colon };
  }

  seq(n: YAMLSeq, flowCtx: boolean): YamlSeq {
    const tok = n.srcToken as TokLike | undefined;
    const isFlowTok = tok?.type === 'flow-collection';
    const flow = flowCtx || isFlowTok || !!n.flow;
    const items: (YamlNode | null)[] = [];
    for (const it of n.items) items.push(this.node(it as YNode, flow));
    let start: number;
    let end: number;
    if (isFlowTok) {
      [start, end] = this.range(n);
    } else {
      [start, end] = this.range(n);
      // Block sequence: from the first `-` to the end of the last item (or its `-`).
      const indicators: number[] = [];
      for (const it of tok?.items ?? []) {
        const ind = it.start?.find((t) => t.type === 'seq-item-ind');
        if (ind && ind.offset != null) indicators.push(ind.offset);
      }
      if (indicators.length) start = indicators[0]!;
      const last = items[items.length - 1];
      const lastInd = indicators[indicators.length - 1];
      if (last) end = last.end;
      else if (lastInd != null) end = lastInd + 1;
      end = Math.max(end, start);
    }
    const q: YamlSeq = { kind: 'seq', start, end, items, flow };
    if (n.anchor) q.anchor = n.anchor;
    return q;
  }
}

function libValue(v: unknown): string | number | boolean | null {
  if (v == null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return Number(v);
  return String(v);
}

function trimEndWs(text: string, min: number, end: number): number {
  let e = end;
  while (e > min) {
    const c = text.charCodeAt(e - 1);
    if (c === 32 || c === 9 || c === 10 || c === 13) e--;
    else break;
  }
  return e;
}

// ---------------------------------------------------------------------------------------------
// Post-passes shared by every parsing path.

/** What one parsed piece of a document (the whole of it, or one block) knows after its post-pass. */
export interface TreeFacts {
  /** Aliases in document order, each linked to the closest preceding anchor of its name (or null). */
  aliases: YamlAlias[];
  /** Expanded node count of each alias's target (Infinity for a cycle), parallel to `aliases`. */
  aliasCost: number[];
  /** Aliases whose anchor was not found in this piece. */
  unresolved: number;
}

/**
 * One pre-order walk in document order: links aliases to anchors, reports duplicate keys in every
 * mapping, and computes each alias's expansion cost (memoised sizes, so a billion-laughs document
 * costs one pass over its own nodes). `hasRefs` false skips the anchor work.
 */
export function finishTree(root: YamlNode | null, errors: YamlSyntaxError[], hasRefs: boolean, rootDup = true): TreeFacts {
  const facts: TreeFacts = { aliases: [], aliasCost: [], unresolved: 0 };
  if (!root) return facts;
  if (!hasRefs) {
    dupWalk(root, errors, rootDup);
    return facts;
  }
  const anchors = new Map<string, YamlNode>();
  const size = new Map<YamlNode, number>();
  const walk = (n: YamlNode): number => {
    if (n.kind === 'alias') {
      const t = anchors.get(n.name) ?? null;
      n.target = t;
      let cost = 0;
      if (t) {
        const s = size.get(t);
        cost = s === undefined ? Infinity : s; // undefined: the target encloses the alias (a cycle)
      } else facts.unresolved++;
      facts.aliases.push(n);
      facts.aliasCost.push(cost);
      return cost;
    }
    if (n.anchor !== undefined) anchors.set(n.anchor, n);
    let total = 1;
    if (n.kind === 'map') {
      let seen: Map<unknown, true> | null = null;
      const items = n.items;
      for (let i = 0; i < items.length; i++) {
        const p = items[i]!;
        if (i > 0 && (rootDup || n !== root)) {
          if (!seen) {
            seen = new Map();
            seen.set(items[0]!.key.value, true);
          }
          if (seen.has(p.key.value)) errors.push(dupError(p.key));
          else seen.set(p.key.value, true);
        }
        total += walk(p.key);
        if (p.value) total += walk(p.value);
      }
    } else if (n.kind === 'seq') {
      for (const it of n.items) if (it) total += walk(it);
    }
    size.set(n, total);
    return total;
  };
  walk(root);
  return facts;
}

function dupError(key: YamlScalar): YamlSyntaxError {
  return {
    start: key.start,
    end: key.end,
    code: 'duplicate-key',
    message: `Duplicate key ${JSON.stringify(key.value === null ? null : String(key.value))} in this mapping`,
  };
}

function dupWalk(n: YamlNode, errors: YamlSyntaxError[], check = true): void {
  if (n.kind === 'map') {
    const items = n.items;
    if (check) checkDuplicates(items, errors);
    for (const p of items) if (p.value && p.value.kind !== 'scalar') dupWalk(p.value, errors);
  } else if (n.kind === 'seq') {
    for (const it of n.items) if (it && it.kind !== 'scalar') dupWalk(it, errors);
  }
}

/** 'duplicate-key' on the second and later occurrences of a key among `items`. */
export function checkDuplicates(items: readonly YamlPair[], errors: YamlSyntaxError[]): void {
  if (items.length < 2) return;
  const seen = new Map<unknown, true>();
  for (const p of items) {
    if (seen.has(p.key.value)) errors.push(dupError(p.key));
    else seen.set(p.key.value, true);
  }
}

/** Document-level alias checks over the aliases of all pieces, in document order. */
export function checkAliasLimits(pieces: readonly TreeFacts[], errors: YamlSyntaxError[], reportUnresolved: boolean): void {
  let total = 0;
  let reported = false;
  for (const f of pieces) {
    for (let i = 0; i < f.aliases.length; i++) {
      const a = f.aliases[i]!;
      const cost = f.aliasCost[i]!;
      if (reportUnresolved && a.target === null) {
        errors.push({ start: a.start, end: a.end, code: 'unknown-alias', message: `Unknown alias *${a.name}: no anchor &${a.name} before it` });
      }
      total += cost;
      if (!reported && (cost > ALIAS_NODE_LIMIT || total > ALIAS_TOTAL_LIMIT)) {
        reported = true;
        errors.push({
          start: a.start,
          end: a.end,
          code: 'alias-limit',
          message:
            cost === Infinity
              ? `Alias *${a.name} refers to a node that contains it: expanding it never ends`
              : `Aliases expand to too many nodes (${cost > ALIAS_NODE_LIMIT ? `*${a.name} alone stands for ${cost}` : `over ${ALIAS_TOTAL_LIMIT} in total`}); not expanded`,
        });
      }
    }
  }
}

/** Follows an alias to the node it stands for (through alias chains, at most `budget` steps). */
export function resolveAlias(node: YamlNode | null, budget = 100): YamlNode | null {
  let n = node;
  let steps = 0;
  while (n && n.kind === 'alias') {
    if (steps++ >= budget) return null;
    n = n.target;
  }
  return n;
}

export function sortErrors(errors: YamlSyntaxError[]): void {
  errors.sort(
    (a, b) =>
      a.start - b.start ||
      a.end - b.end ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
}

// ---------------------------------------------------------------------------------------------
// The fast path: a hand-written parser for the YAML that configuration files are made of (block
// mappings and sequences, plain and one-line quoted scalars, literal/folded block scalars, one-line
// flow collections, anchors and aliases, comments, CRLF). It reads a region of the text in place
// and gives up (throws BAIL) on anything else: tags, directives, `---`, `?` keys, multi-line quoted
// or flow nodes, tabs, explicit indentation indicators, and every error. The caller then parses the
// region with the `yaml` package, so the fast path only ever has to agree with it on valid input
// (checked by a property test).

class Bail {}
const BAIL = new Bail();
function bail(): never {
  throw BAIL;
}


/** Parses text[begin, end) (a whole document, or a block of one); throws BAIL when it cannot. */
export class FastParser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly begin: number,
    private readonly end: number,
  ) {}

  static parse(text: string, begin: number, end: number): YamlNode | null {
    return new FastParser(text, begin, end).document();
  }

  private document(): YamlNode | null {
    const { text, begin } = this;
    this.pos = begin;
    const first = this.nextContentLine();
    if (first < 0) return null;
    const col = this.indentAt(first);
    const c0 = text.charCodeAt(first + col);
    if (col === 0 && (c0 === 37 /* % */ || this.isDocMarker(first))) bail();
    const root = this.ownLineNode(first, first + col, -1);
    if (this.nextContentLine() >= 0) bail();
    return root;
  }

  // -- lines ------------------------------------------------------------------------------------

  private isEol(p: number): boolean {
    if (p >= this.end) return true;
    const c = this.text.charCodeAt(p);
    return c === CH_NL || c === CH_CR;
  }

  /** Whitespace-or-EOL after position p (what makes `-`, `:` and `?` indicators). */
  private isWsOrEol(p: number): boolean {
    return this.isEol(p) || this.text.charCodeAt(p) === CH_SP;
  }

  private lineEnd(p: number): number {
    const i = this.text.indexOf('\n', p);
    return i < 0 || i >= this.end ? this.end : i + 1;
  }

  private indentAt(lineStart: number): number {
    const { text } = this;
    let i = lineStart;
    while (i < this.end && text.charCodeAt(i) === CH_SP) i++;
    return i - lineStart;
  }

  private isDocMarker(lineStart: number): boolean {
    const t = this.text;
    const c = t.charCodeAt(lineStart);
    if (c !== CH_DASH && c !== 46) return false;
    return t.charCodeAt(lineStart + 1) === c && t.charCodeAt(lineStart + 2) === c && this.isWsOrEol(lineStart + 3);
  }

  /**
   * From this.pos (a line start), skips blank and comment lines; returns the start of the next line
   * with content (this.pos is left there), or -1 at the end of the region.
   */
  private nextContentLine(): number {
    const { text, end } = this;
    let p = this.pos;
    while (p < end) {
      let i = p;
      while (i < end && text.charCodeAt(i) === CH_SP) i++;
      if (i >= end) {
        p = end;
        break;
      }
      const c = text.charCodeAt(i);
      if (c === CH_NL || c === CH_CR || c === CH_HASH) {
        p = this.lineEnd(i);
        continue;
      }
      if (i === p && this.isDocMarker(p)) bail();
      this.pos = p;
      return p;
    }
    this.pos = p;
    return -1;
  }

  /** After a node on a line: only spaces and a comment may follow. Moves this.pos to the next line. */
  private finishLine(q: number): void {
    const { text } = this;
    let i = q;
    while (i < this.end && text.charCodeAt(i) === CH_SP) i++;
    if (!this.isEol(i)) {
      if (text.charCodeAt(i) !== CH_HASH || i === q) bail();
    }
    this.pos = this.lineEnd(i);
  }

  private skipSpaces(q: number): number {
    const { text } = this;
    while (q < this.end && text.charCodeAt(q) === CH_SP) q++;
    return q;
  }

  // -- block nodes ----------------------------------------------------------------------------

  /** A node starting at p, the first thing on its line (column p - lineStart), inside a parent at indent n. */
  private ownLineNode(lineStart: number, p: number, n: number): YamlNode {
    const { text } = this;
    const c = text.charCodeAt(p);
    const col = p - lineStart;
    switch (c) {
      case CH_DASH:
        if (this.isWsOrEol(p + 1)) return this.blockSeq(lineStart, p, col);
        break;
      case 91: // [
      case 123: {
        // {
        const node = this.flowNode(p);
        const q = this.skipSpaces(node.end);
        if (text.charCodeAt(q) === CH_COLON) bail();
        this.finishLine(node.end);
        return node;
      }
      case 34: // "
      case 39: {
        // '
        const s = this.quoted(p);
        const q = this.skipSpaces(s.end);
        if (text.charCodeAt(q) === CH_COLON && this.isWsOrEol(q + 1)) return this.blockMap(p, col);
        this.finishLine(s.end);
        return s;
      }
      case 38: // &
        return this.anchored(p, n, false);
      case 42: {
        // *
        const a = this.alias(p, false);
        const q = this.skipSpaces(a.end);
        if (text.charCodeAt(q) === CH_COLON) bail();
        this.finishLine(a.end);
        return a;
      }
    }
    this.checkPlainStart(p);
    const scan = this.scanPlainLine(p);
    if (scan.stop === STOP_COLON) return this.blockMap(p, col);
    return this.plainScalar(p, scan, n);
  }

  /** A node after `key:` or `- ` on the same line, at p (not EOL, not a comment), parent indent n. */
  private inlineNode(p: number, n: number, afterKey: boolean): YamlNode {
    const { text } = this;
    const c = text.charCodeAt(p);
    switch (c) {
      case 124: // |
      case 62: // >
        return this.blockScalar(p, n);
      case 91:
      case 123: {
        const node = this.flowNode(p);
        this.finishLine(node.end);
        return node;
      }
      case 34:
      case 39: {
        const s = this.quoted(p);
        const q = this.skipSpaces(s.end);
        if (text.charCodeAt(q) === CH_COLON) bail();
        this.finishLine(s.end);
        return s;
      }
      case 38:
        return this.anchored(p, n, afterKey);
      case 42: {
        const a = this.alias(p, false);
        const q = this.skipSpaces(a.end);
        if (text.charCodeAt(q) === CH_COLON) bail();
        this.finishLine(a.end);
        return a;
      }
      case CH_DASH:
        if (this.isWsOrEol(p + 1)) bail();
        break;
    }
    this.checkPlainStart(p);
    const scan = this.scanPlainLine(p);
    if (scan.stop === STOP_COLON) bail(); // `a: b: c`
    return this.plainScalar(p, scan, n);
  }

  /** Characters that cannot start a plain scalar (or start something the fast path leaves alone). */
  private checkPlainStart(p: number): void {
    const c = this.text.charCodeAt(p);
    switch (c) {
      case 33: // !
      case 37: // %
      case 64: // @
      case 96: // `
      case 44: // ,
      case 93: // ]
      case 125: // }
      case CH_HASH:
      case 124:
      case 62:
      case 34:
      case 39:
      case 38:
      case 42:
      case 91:
      case 123:
        bail();
        break;
      case 63: // ?
      case CH_COLON:
      case CH_DASH:
        if (this.isWsOrEol(p + 1)) bail();
    }
  }

  /** `&name` then a node on the same line, or on the following lines. */
  private anchored(p: number, n: number, afterKey: boolean): YamlNode {
    const { text } = this;
    let q = p + 1;
    while (q < this.end && !this.isWsOrEol(q)) {
      const c = text.charCodeAt(q);
      if (c === 44 || c === 91 || c === 93 || c === 123 || c === 125 || c === CH_COLON) bail();
      q++;
    }
    if (q === p + 1) bail();
    const name = text.slice(p + 1, q);
    const r = this.skipSpaces(q);
    let node: YamlNode;
    if (this.isEol(r) || (text.charCodeAt(r) === CH_HASH && r > q)) {
      this.finishLine(r);
      node = this.valueOnNextLines(n, afterKey) ?? bail();
    } else {
      if (r === q) bail();
      const c = text.charCodeAt(r);
      if (c === 38 || c === 42 || c === 124 || c === 62) bail();
      if (c === CH_DASH && this.isWsOrEol(r + 1)) bail();
      if (c === 34 || c === 39 || c === 91 || c === 123) {
        node = this.inlineNode(r, n, false);
      } else {
        this.checkPlainStart(r);
        const scan = this.scanPlainLine(r);
        if (scan.stop === STOP_COLON) bail(); // the anchor would belong to a key
        node = this.plainScalar(r, scan, n);
      }
    }
    if (node.kind === 'alias') bail();
    node.anchor = name;
    return node;
  }

  private alias(p: number, flow: boolean): YamlAlias {
    const { text } = this;
    let q = p + 1;
    while (q < this.end && !this.isWsOrEol(q)) {
      const c = text.charCodeAt(q);
      if (c === 44 || c === 91 || c === 93 || c === 123 || c === 125) {
        if (flow) break;
        bail();
      }
      if (c === CH_COLON) bail();
      q++;
    }
    if (q === p + 1) bail();
    return { kind: 'alias', start: p, end: q, name: text.slice(p + 1, q), target: null };
  }

  /**
   * The value after `key:` / `- ` / `&anchor` when nothing follows on the line: a node on the next
   * content line indented more than n, or (after a key) a block sequence at indent n; else null.
   */
  private valueOnNextLines(n: number, afterKey: boolean): YamlNode | null {
    const ls = this.nextContentLine();
    if (ls < 0) return null;
    const i = this.indentAt(ls);
    if (i > n) return this.ownLineNode(ls, ls + i, n);
    if (afterKey && i === n && this.text.charCodeAt(ls + i) === CH_DASH && this.isWsOrEol(ls + i + 1)) {
      return this.blockSeq(ls, ls + i, i);
    }
    return null;
  }

  private blockMap(p: number, col: number): YamlMap {
    const { text } = this;
    const items: YamlPair[] = [];
    let k = p;
    for (;;) {
      // The key at k (column col), then its value.
      const c = text.charCodeAt(k);
      let key: YamlScalar;
      let colon: number;
      if (c === 34 || c === 39) {
        key = this.quoted(k);
        const q = this.skipSpaces(key.end);
        if (text.charCodeAt(q) !== CH_COLON || !this.isWsOrEol(q + 1)) bail();
        colon = q;
      } else {
        if (c === CH_DASH && this.isWsOrEol(k + 1)) bail();
        this.checkPlainStart(k);
        const scan = this.scanPlainLine(k);
        if (scan.stop !== STOP_COLON) bail();
        const src = text.slice(k, scan.textEnd);
        key = { kind: 'scalar', start: k, end: scan.textEnd, value: resolvePlainScalar(src), source: src, style: 'plain' };
        colon = scan.stopAt;
      }
      if (key.end - key.start > 1024) bail();
      const value = this.valueAfterIndicator(colon + 1, col, true);
      items.push({ start: key.start, end: value ? value.end : colon + 1, key, value, colon });
      const next = this.nextContentLine();
      if (next < 0) break;
      const i = this.indentAt(next);
      if (i < col) break;
      if (i > col) bail();
      k = next + i;
      if (text.charCodeAt(k) === CH_DASH && this.isWsOrEol(k + 1)) bail();
    }
    return { kind: 'map', start: items[0]!.start, end: items[items.length - 1]!.end, items, flow: false };
  }

  /** After `:` (q is just past it): the value of a pair whose mapping is at indent n. */
  private valueAfterIndicator(q: number, n: number, afterKey: boolean): YamlNode | null {
    const { text } = this;
    const r = this.skipSpaces(q);
    if (this.isEol(r) || (text.charCodeAt(r) === CH_HASH && r > q)) {
      this.finishLine(r);
      return this.valueOnNextLines(n, afterKey);
    }
    if (r === q) bail();
    return this.inlineNode(r, n, afterKey);
  }

  private blockSeq(lineStart: number, p: number, col: number): YamlSeq {
    const { text } = this;
    const items: (YamlNode | null)[] = [];
    let dash = p;
    let lastDash = p;
    let ls = lineStart;
    for (;;) {
      lastDash = dash;
      const q = dash + 1;
      const r = this.skipSpaces(q);
      let item: YamlNode | null;
      if (this.isEol(r) || (text.charCodeAt(r) === CH_HASH && r > q)) {
        this.finishLine(r);
        item = this.valueOnNextLines(col, false);
      } else {
        const c = text.charCodeAt(r);
        const ccol = r - ls;
        if (c === CH_DASH && this.isWsOrEol(r + 1)) item = this.blockSeq(ls, r, ccol);
        else if (this.startsMapEntry(r)) item = this.blockMap(r, ccol);
        else item = this.inlineNode(r, col, false);
      }
      items.push(item);
      const next = this.nextContentLine();
      if (next < 0) break;
      const i = this.indentAt(next);
      if (i < col) break;
      if (i > col) bail();
      if (!(text.charCodeAt(next + i) === CH_DASH && this.isWsOrEol(next + i + 1))) break;
      ls = next;
      dash = next + i;
    }
    const last = items[items.length - 1];
    return { kind: 'seq', start: p, end: last ? last.end : lastDash + 1, items, flow: false };
  }

  /** Whether a compact mapping starts at p (`- key: value`). */
  private startsMapEntry(p: number): boolean {
    const { text } = this;
    const c = text.charCodeAt(p);
    if (c === 34 || c === 39) {
      const s = this.quoted(p);
      const q = this.skipSpaces(s.end);
      return text.charCodeAt(q) === CH_COLON && this.isWsOrEol(q + 1);
    }
    switch (c) {
      case 38:
      case 42:
      case 33:
      case 91:
      case 123:
      case 124:
      case 62:
        return false;
      case 63:
        if (this.isWsOrEol(p + 1)) bail();
    }
    if (c === CH_COLON && this.isWsOrEol(p + 1)) bail();
    return this.scanPlainLine(p).stop === STOP_COLON;
  }

  // -- scalars ------------------------------------------------------------------------------

  /** Scans a plain scalar's first line in block context from p. */
  private scanPlainLine(p: number): PlainScan {
    const { text, end } = this;
    let i = p;
    let last = p; // end of the text so far (after its last non-space char)
    for (;;) {
      if (i >= end) return { textEnd: last, stop: STOP_EOL, stopAt: i };
      const c = text.charCodeAt(i);
      if (c === CH_NL || c === CH_CR) return { textEnd: last, stop: STOP_EOL, stopAt: i };
      if (c === CH_COLON && this.isWsOrEol(i + 1)) return { textEnd: last, stop: STOP_COLON, stopAt: i };
      if (c === CH_SP) {
        if (text.charCodeAt(i + 1) === CH_HASH) return { textEnd: last, stop: STOP_COMMENT, stopAt: i + 1 };
      } else last = i + 1;
      i++;
    }
  }

  /** A plain scalar from p whose first line was scanned; continuation lines must be indented more than n. */
  private plainScalar(p: number, scan: PlainScan, n: number): YamlScalar {
    const { text } = this;
    let endText = scan.textEnd;
    const value = text.slice(p, endText);
    if (scan.stop === STOP_COMMENT) {
      this.pos = this.lineEnd(scan.stopAt);
    } else {
      this.pos = this.lineEnd(scan.stopAt);
      // Continuation lines.
      let blank = 0;
      let folded: string | null = null;
      for (;;) {
        const ls = this.pos;
        if (ls >= this.end) break;
        const i = this.indentAt(ls);
        const fc = ls + i;
        if (this.isEol(fc)) {
          blank++;
          this.pos = this.lineEnd(fc);
          continue;
        }
        if (i <= n || text.charCodeAt(fc) === CH_HASH || (i === 0 && this.isDocMarker(ls))) {
          this.pos = ls;
          break;
        }
        // Anything that could be read as an indicator is left to the full parser.
        const c = text.charCodeAt(fc);
        if (
          c === CH_DASH || c === 63 || c === CH_COLON || c === 44 || c === 91 || c === 93 || c === 123 || c === 125 ||
          c === 38 || c === 42 || c === 33 || c === 124 || c === 62 || c === 39 || c === 34 || c === 37 || c === 64 || c === 96
        ) {
          bail();
        }
        const s = this.scanPlainLine(fc);
        if (s.stop === STOP_COLON) bail();
        if (folded === null) folded = value;
        folded += blank > 0 ? '\n'.repeat(blank) : ' ';
        folded += text.slice(fc, s.textEnd);
        blank = 0;
        endText = s.textEnd;
        this.pos = this.lineEnd(s.stopAt);
        if (s.stop === STOP_COMMENT) break;
      }
      if (folded !== null) {
        const source = text.slice(p, endText);
        return { kind: 'scalar', start: p, end: endText, value: resolvePlainScalar(folded), source, style: 'plain' };
      }
    }
    return { kind: 'scalar', start: p, end: endText, value: resolvePlainScalar(value), source: value, style: 'plain' };
  }

  /** A one-line quoted scalar at p; this.pos is not moved. */
  private quoted(p: number): YamlScalar {
    const { text, end } = this;
    const q = text.charCodeAt(p);
    let i = p + 1;
    if (q === 39) {
      let value = '';
      let from = i;
      for (;;) {
        if (i >= end) bail();
        const c = text.charCodeAt(i);
        if (c === CH_NL || c === CH_CR) bail();
        if (c === 39) {
          if (text.charCodeAt(i + 1) === 39 && i + 1 < end) {
            value += text.slice(from, i + 1);
            i += 2;
            from = i;
            continue;
          }
          value += text.slice(from, i);
          const e = i + 1;
          return { kind: 'scalar', start: p, end: e, value, source: text.slice(p, e), style: 'single' };
        }
        i++;
      }
    }
    let value = '';
    let from = i;
    for (;;) {
      if (i >= end) bail();
      const c = text.charCodeAt(i);
      if (c === CH_NL || c === CH_CR) bail();
      if (c === 34) {
        value += text.slice(from, i);
        const e = i + 1;
        return { kind: 'scalar', start: p, end: e, value, source: text.slice(p, e), style: 'double' };
      }
      if (c === 92) {
        value += text.slice(from, i);
        const [s, len] = this.escape(i + 1);
        value += s;
        i += 1 + len;
        from = i;
        continue;
      }
      i++;
    }
  }

  /** A double-quoted escape after the backslash at p - 1: its text and length. */
  private escape(p: number): [string, number] {
    if (p >= this.end) bail();
    const c = this.text[p]!;
    switch (c) {
      case '0': return ['\0', 1];
      case 'a': return ['\x07', 1];
      case 'b': return ['\b', 1];
      case 't': return ['\t', 1];
      case 'n': return ['\n', 1];
      case 'v': return ['\v', 1];
      case 'f': return ['\f', 1];
      case 'r': return ['\r', 1];
      case 'e': return ['\x1b', 1];
      case ' ': return [' ', 1];
      case '"': return ['"', 1];
      case '/': return ['/', 1];
      case '\\': return ['\\', 1];
      case 'N': return ['\u0085', 1];
      case '_': return ['\u00a0', 1];
      case 'L': return ['\u2028', 1];
      case 'P': return ['\u2029', 1];
      case 'x': return [this.hexEscape(p + 1, 2), 3];
      case 'u': return [this.hexEscape(p + 1, 4), 5];
      case 'U': return [this.hexEscape(p + 1, 8), 9];
    }
    bail();
  }

  private hexEscape(p: number, len: number): string {
    if (p + len > this.end) bail();
    const h = this.text.slice(p, p + len);
    if (!/^[0-9a-fA-F]+$/.test(h)) bail();
    const cp = parseInt(h, 16);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) bail();
    return String.fromCodePoint(cp);
  }

  /** `|` or `>` at p, in a node whose parent is at indent n. */
  private blockScalar(p: number, n: number): YamlScalar {
    const { text } = this;
    const literal = text.charCodeAt(p) === 124;
    let h = p + 1;
    let chomp: 'clip' | 'strip' | 'keep' = 'clip';
    const c1 = text.charCodeAt(h);
    if (c1 === CH_DASH) {
      chomp = 'strip';
      h++;
    } else if (c1 === 43) {
      chomp = 'keep';
      h++;
    }
    const headerEnd = h;
    if (!this.isWsOrEol(h)) bail(); // indentation indicators and anything else
    this.finishLine(h);
    // Content lines.
    let leading = 0;
    let contentIndent = -1;
    const lines: string[] = [];
    let blankRun = 0;
    let maxLeadingSpaces = 0;
    let lastEnd = headerEnd;
    const gaps: number[] = [];
    for (;;) {
      const ls = this.pos;
      if (ls >= this.end) break;
      const i = this.indentAt(ls);
      const fc = ls + i;
      if (this.isEol(fc)) {
        if (fc >= this.end) {
          // Spaces at the very end, without a line break: not a line, unless they are content.
          if (contentIndent >= 0 && i > contentIndent) bail();
          break;
        }
        if (contentIndent < 0) {
          leading++;
          if (i > maxLeadingSpaces) maxLeadingSpaces = i;
        } else {
          if (i > contentIndent) bail();
          blankRun++;
        }
        this.pos = this.lineEnd(fc);
        continue;
      }
      if (contentIndent < 0) {
        if (i <= n) break;
        if (maxLeadingSpaces > i) bail();
        contentIndent = i;
      } else if (i < contentIndent) break;
      if (i === 0 && this.isDocMarker(ls)) bail();
      const le = this.lineEnd(fc);
      let te = le;
      if (te > ls && text.charCodeAt(te - 1) === CH_NL) te--;
      if (te > ls && text.charCodeAt(te - 1) === CH_CR) te--;
      const line = text.slice(ls + contentIndent, te);
      if (!literal && lines.length > 0 && line.charCodeAt(0) === CH_SP) bail();
      if (!literal && line.charCodeAt(0) === CH_SP) bail();
      gaps.push(blankRun);
      lines.push(line);
      blankRun = 0;
      let e = te;
      while (e > fc && text.charCodeAt(e - 1) === CH_SP) e--;
      lastEnd = e;
      this.pos = le;
    }
    if (contentIndent < 0) bail(); // empty block scalar
    let value = '\n'.repeat(leading);
    if (literal) {
      for (let k = 0; k < lines.length; k++) {
        if (k > 0) value += '\n'.repeat(1 + gaps[k]!);
        value += lines[k];
      }
    } else {
      for (let k = 0; k < lines.length; k++) {
        if (k > 0) value += gaps[k]! > 0 ? '\n'.repeat(gaps[k]!) : ' ';
        value += lines[k];
      }
    }
    if (chomp === 'clip') value += '\n';
    else if (chomp === 'keep') value += '\n' + '\n'.repeat(blankRun);
    return { kind: 'scalar', start: p, end: lastEnd, value, source: text.slice(p, lastEnd), style: literal ? 'literal' : 'folded' };
  }

  // -- flow collections (one line) ----------------------------------------------------------

  private flowNode(p: number): YamlMap | YamlSeq {
    return this.text.charCodeAt(p) === 91 ? this.flowSeq(p) : this.flowMap(p);
  }

  private flowSeq(p: number): YamlSeq {
    const { text } = this;
    const items: (YamlNode | null)[] = [];
    let i = this.skipSpaces(p + 1);
    for (;;) {
      if (this.isEol(i)) bail();
      if (text.charCodeAt(i) === 93) break;
      let item = this.flowItem(i);
      i = this.skipSpaces(item.end);
      if (text.charCodeAt(i) === CH_COLON) {
        // `[a: b]`: a one-pair mapping.
        if (item.kind !== 'scalar' || !this.isWsOrEol(i + 1)) bail();
        const colon = i;
        i = this.skipSpaces(i + 1);
        let value: YamlNode | null = null;
        const c = text.charCodeAt(i);
        if (this.isEol(i)) bail();
        if (c !== 44 && c !== 93) {
          value = this.flowItem(i);
          i = this.skipSpaces(value.end);
        }
        const pair: YamlPair = { start: item.start, end: value ? value.end : colon + 1, key: item, value, colon };
        item = { kind: 'map', start: pair.start, end: pair.end, items: [pair], flow: true };
      }
      items.push(item);
      const c = text.charCodeAt(i);
      if (c === 44) {
        i = this.skipSpaces(i + 1);
        continue;
      }
      if (c === 93) break;
      bail();
    }
    return { kind: 'seq', start: p, end: i + 1, items, flow: true };
  }

  private flowMap(p: number): YamlMap {
    const { text } = this;
    const items: YamlPair[] = [];
    let i = this.skipSpaces(p + 1);
    for (;;) {
      if (this.isEol(i)) bail();
      if (text.charCodeAt(i) === 125) break;
      const key = this.flowItem(i);
      if (key.kind !== 'scalar') bail();
      i = this.skipSpaces(key.end);
      let pair: YamlPair;
      if (text.charCodeAt(i) === CH_COLON) {
        if (!this.isWsOrEol(i + 1)) bail();
        const colon = i;
        i = this.skipSpaces(i + 1);
        if (this.isEol(i)) bail();
        const c = text.charCodeAt(i);
        let value: YamlNode | null = null;
        if (c !== 44 && c !== 125) {
          value = this.flowItem(i);
          i = this.skipSpaces(value.end);
        }
        pair = { start: key.start, end: value ? value.end : colon + 1, key, value, colon };
      } else {
        pair = { start: key.start, end: key.end, key, value: null, colon: key.end };
      }
      items.push(pair);
      const c = text.charCodeAt(i);
      if (c === 44) {
        i = this.skipSpaces(i + 1);
        continue;
      }
      if (c === 125) break;
      bail();
    }
    return { kind: 'map', start: p, end: i + 1, items, flow: true };
  }

  /** One node inside a flow collection, at p. */
  private flowItem(p: number): YamlNode {
    const { text, end } = this;
    const c = text.charCodeAt(p);
    switch (c) {
      case 91:
      case 123:
        return this.flowNode(p);
      case 34:
      case 39:
        return this.quoted(p);
      case 42:
        return this.alias(p, true);
      case 44:
      case 93:
      case 125:
      case 38:
      case 33:
      case 124:
      case 62:
      case CH_HASH:
      case 37:
      case 64:
      case 96:
        bail();
        break;
      case 63:
      case CH_COLON:
      case CH_DASH: {
        // Indicators when followed by a space or a flow indicator.
        const n = text.charCodeAt(p + 1);
        if (this.isWsOrEol(p + 1) || n === 44 || n === 91 || n === 93 || n === 123 || n === 125) bail();
      }
    }
    let i = p;
    let last = p;
    for (;;) {
      if (i >= end) bail();
      const ch = text.charCodeAt(i);
      if (ch === CH_NL || ch === CH_CR) bail();
      if (ch === 44 || ch === 91 || ch === 93 || ch === 123 || ch === 125) break;
      if (ch === CH_COLON) {
        if (this.isWsOrEol(i + 1)) break;
        bail();
      }
      if (ch === CH_SP) {
        if (text.charCodeAt(i + 1) === CH_HASH) bail();
      } else last = i + 1;
      i++;
    }
    if (last === p) bail();
    const src = text.slice(p, last);
    return { kind: 'scalar', start: p, end: last, value: resolvePlainScalar(src), source: src, style: 'plain' };
  }
}

const STOP_EOL = 0;
const STOP_COLON = 1;
const STOP_COMMENT = 2;

interface PlainScan {
  /** End of the scalar's text on this line (trailing spaces excluded). */
  textEnd: number;
  stop: number;
  /** Position of the `:` (STOP_COLON), the `#` (STOP_COMMENT) or the line end. */
  stopAt: number;
}

/** Fast path over text[begin, end) (which is `region`), or null when it gave up. */
export function parseFast(text: string, begin: number, end: number, region = text.slice(begin, end)): { root: YamlNode | null } | null {
  // Tabs (as indentation they are errors, elsewhere rare) and lone CRs are left to the `yaml` package.
  if (region.indexOf('\t') >= 0 || region.indexOf('\uFEFF') >= 0) return null;
  let cr = region.indexOf('\r');
  while (cr >= 0) {
    if (region.charCodeAt(cr + 1) !== CH_NL) return null;
    cr = region.indexOf('\r', cr + 2);
  }
  try {
    return { root: FastParser.parse(text, begin, end) };
  } catch (e) {
    if (e === BAIL) return null;
    if (e instanceof RangeError) return null; // nesting too deep for the stack
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Blocks: splitting a document into independently parsed pieces, and putting them back together.

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
interface Reuse {
  prev: IncrementalState;
  prefix: number;
  suffix: number;
  delta: number;
  newLength: number;
  next: Map<number, BlockResult>;
  stats: ParseStats;
}

/** A top-level entry whose value is a block mapping parsed one entry at a time. */
interface Header {
  keyStart: number;
  keyEnd: number;
  colon: number;
  /** Start of each child entry; the last child ends at the segment's end. */
  children: number[];
}

interface Segment {
  start: number;
  end: number;
  header: Header | null;
}

interface Plan {
  lineStarts: number[];
  lfLines: boolean;
  /** null: parse the document as one block. */
  segments: Segment[] | null;
  rootSeq: boolean;
}

/**
 * Characters that, at the start of a line where an entry should start, may begin something valid
 * that the split cannot handle (`[a]: b`, `&anchor`, `*alias`, `!tag`, `? key`, `|`, `%` directive,
 * a tab): the document (or the `key:` block) is then parsed in one piece. `]`, `}`, `,`, `@` and a
 * backquote can never start valid content, so they are ordinary (erroneous) blocks.
 */
const BAD_KEY_START = new Set([91, 123, 38, 42, 33, 124, 62, 63, 58, 37, 35, 9]);
const HEADER_KEY = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * Where the document can be cut so that every piece parses the same alone as in place: before each
 * line at column 0 that starts a mapping entry (or, for a root sequence, a `- ` item), and inside a
 * top-level `key:` whose value is a block mapping, before each line at that mapping's indentation
 * that starts an entry. Comment lines, blank lines and `- ` lines at a mapping's own indentation
 * (a compact sequence value) stay with the entry before them. Anything unusual (`---`, `%`
 * directives, a BOM, a lone CR, an indented or flow root, a line starting with `&`, `*`, `!`, `?`,
 * `[`, `{`, `|`... where an entry should start) makes the whole document one block; odd indentation
 * or tabs inside a `key:` block keep that block whole.
 */
function planBlocks(text: string, knownLineStarts: number[] | null): Plan {
  const len = text.length;
  let lineStarts: number[];
  if (knownLineStarts) lineStarts = knownLineStarts;
  else {
    lineStarts = [0];
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      lineStarts.push(nl + 1);
      nl = text.indexOf('\n', nl + 1);
    }
  }
  let whole = false;
  let cr = text.indexOf('\r');
  while (cr >= 0) {
    if (text.charCodeAt(cr + 1) !== CH_NL) {
      return { lineStarts: computeLineStarts(text), lfLines: false, segments: null, rootSeq: false };
    }
    cr = text.indexOf('\r', cr + 2);
  }
  if (text.charCodeAt(0) === 0xfeff) whole = true;
  const nLines = lineStarts.length;
  // Lines that continue a multi-line quoted scalar never start a block, however they are indented.
  const quotes = findMultiLineQuotes(text);
  const inQuote = quotes.length ? (ls: number): boolean => insideQuote(quotes, ls) : null;
  const isWs = (p: number): boolean => {
    if (p >= len) return true;
    const c = text.charCodeAt(p);
    return c === CH_SP || c === CH_NL || c === CH_CR || c === 9;
  };
  // Top-level boundaries.
  const bounds: number[] = [];
  let rootSeq = false;
  let seenContent = false;
  for (let li = 0; li < nLines && !whole; li++) {
    const ls = lineStarts[li]!;
    if (ls >= len) break;
    const c = text.charCodeAt(ls);
    if (c === CH_NL || c === CH_CR || c === CH_HASH) continue;
    if (inQuote && inQuote(ls)) continue;
    if (c === CH_SP || c === 9) {
      if (seenContent) continue;
      let i = ls;
      while (i < len && text.charCodeAt(i) === CH_SP) i++;
      const d = text.charCodeAt(i);
      if (i >= len || d === CH_NL || d === CH_CR || d === CH_HASH) continue;
      whole = true; // indented root, or a tab before the first entry
      break;
    }
    if ((c === CH_DASH || c === 46) && text.charCodeAt(ls + 1) === c && text.charCodeAt(ls + 2) === c && isWs(ls + 3)) {
      whole = true;
      break;
    }
    const dashItem = c === CH_DASH && isWs(ls + 1);
    if (!seenContent) {
      seenContent = true;
      rootSeq = dashItem;
    }
    if (rootSeq) {
      if (!dashItem) {
        whole = true;
        break;
      }
      bounds.push(ls);
    } else {
      if (dashItem) continue; // a compact sequence under the previous key
      if (BAD_KEY_START.has(c)) {
        whole = true;
        break;
      }
      bounds.push(ls);
    }
  }
  // One top-level entry and no `key:` block to split: nothing to gain (and the root may be a scalar).
  if (whole || bounds.length === 0) return { lineStarts, lfLines: true, segments: null, rootSeq: false };
  const segments: Segment[] = [];
  let li = 0;
  for (let b = 0; b < bounds.length; b++) {
    const ls = bounds[b]!;
    const start = b === 0 ? 0 : ls;
    const end = b + 1 < bounds.length ? bounds[b + 1]! : len;
    let header: Header | null = null;
    if (!rootSeq) {
      while (lineStarts[li]! < ls) li++;
      header = planHeader(text, lineStarts, li, end, inQuote);
    }
    segments.push({ start, end, header });
  }
  if (segments.length === 1 && !segments[0]!.header) return { lineStarts, lfLines: true, segments: null, rootSeq: false };
  return { lineStarts, lfLines: true, segments, rootSeq };
}

/** The child entries of a top-level `key:` (its line is lineStarts[li]) whose value is a block mapping; else null. */
function planHeader(text: string, lineStarts: number[], li: number, end: number, inQuote: ((ls: number) => boolean) | null): Header | null {
  const ls = lineStarts[li]!;
  let le = text.indexOf('\n', ls);
  if (le < 0 || le > end) le = end;
  const colon = text.indexOf(':', ls);
  if (colon < 0 || colon >= le) return null;
  if (!HEADER_KEY.test(text.slice(ls, colon))) return null;
  let i = colon + 1;
  while (i < le && text.charCodeAt(i) === CH_SP) i++;
  const c = text.charCodeAt(i);
  if (!(i >= le || c === CH_NL || c === CH_CR || (c === CH_HASH && i > colon + 1))) return null;
  const children: number[] = [];
  let k = -1;
  for (let j = li + 1; j < lineStarts.length; j++) {
    const s = lineStarts[j]!;
    if (s >= end) break;
    let p = s;
    while (p < end && text.charCodeAt(p) === CH_SP) p++;
    if (p >= end) break;
    const d = text.charCodeAt(p);
    if (d === CH_NL || d === CH_CR || d === CH_HASH) continue;
    if (inQuote && inQuote(s)) continue;
    if (d === 9) return null;
    const indent = p - s;
    const dash = d === CH_DASH && (p + 1 >= end || text.charCodeAt(p + 1) === CH_SP || text.charCodeAt(p + 1) === CH_NL || text.charCodeAt(p + 1) === CH_CR);
    if (k < 0) {
      if (indent === 0 || dash || BAD_KEY_START.has(d)) return null;
      k = indent;
      children.push(s);
    } else if (indent < k) {
      return null;
    } else if (indent === k) {
      if (dash) continue;
      if (BAD_KEY_START.has(d)) return null;
      children.push(s);
    }
  }
  if (children.length === 0) return null;
  return { keyStart: ls, keyEnd: colon, colon, children };
}

/** Whether the line starting at `ls` continues one of `quotes` (sorted, disjoint). */
function insideQuote(quotes: readonly MultiLineQuote[], ls: number): boolean {
  let lo = 0;
  let hi = quotes.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (quotes[mid]!.open < ls) lo = mid;
    else hi = mid - 1;
  }
  const q = quotes[lo]!;
  return q.open < ls && ls < q.close;
}

/** Deepest nesting parsed at all: deeper documents would exhaust the stack of any recursive parser. */
export const MAX_NESTING = 400;

/**
 * Whether `t` may nest deeper than MAX_NESTING (an over-estimate: flow brackets open at once, plus
 * the spaces and `-`/`?`/`:` indicators at the start of a line). One pass over the characters.
 */
function tooDeep(t: string): boolean {
  if (t.length < MAX_NESTING) return false;
  let flow = 0;
  let maxFlow = 0;
  let lineDepth = 0;
  let maxLine = 0;
  let atLineStart = true;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === CH_NL) {
      atLineStart = true;
      lineDepth = 0;
      continue;
    }
    if (c === 91 || c === 123) {
      if (++flow > maxFlow) maxFlow = flow;
    } else if (c === 93 || c === 125) {
      if (flow > 0) flow--;
    }
    if (atLineStart) {
      if (c === CH_SP || c === CH_DASH || c === 63 || c === CH_COLON || c === 9) {
        if (++lineDepth > maxLine) maxLine = lineDepth;
      } else atLineStart = false;
    }
  }
  return maxFlow + maxLine > MAX_NESTING;
}

/** Parses text[start, end) as a document on its own (fast path, else the `yaml` package). */
function parseBlock(text: string, start: number, end: number, blockText: string, rootDup: boolean): BlockResult {
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

/** A copy of a cached block moved to `base`: every offset shifted, aliases re-linked to the copies. */
function shiftBlock(b: BlockResult, base: number): BlockResult {
  const ctx: ShiftCtx = { d: base - b.base, copies: b.facts.aliases.length ? new Map() : null, aliases: [] };
  const root = b.root ? copyNode(b.root, ctx) : null;
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
function getBlock(text: string, start: number, end: number, reuse: Reuse | null, collect: Map<number, BlockResult> | null): BlockResult {
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
function patchLineStarts(prev: IncrementalState, text: string, prefix: number, suffix: number): number[] {
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

/** For tests: the two whole-text parsers, without post-passes. */
export const __testing = {
  lib: (text: string): LibResult => parseWithYamlLib(text),
  /** The whole text through the `yaml` package and the post-passes: what parseYaml must match on valid YAML. */
  reference: (text: string): YamlDocument => {
    const r = parseWithYamlLib(text);
    const errors = r.errors;
    const facts = finishTree(r.root, errors, hasRefs(text), true);
    checkAliasLimits([facts], errors, true);
    sortErrors(errors);
    return { text, root: r.root, errors, lineStarts: computeLineStarts(text) };
  },
  fast: (text: string): { root: YamlNode | null } | null => parseFast(text, 0, text.length),
};
