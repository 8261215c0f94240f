/**
 * The `yaml` package's parseDocument (source tokens kept) converted into our tree (yamlTree.ts):
 * the reference reading of a text, and the parser for whatever the fast parser leaves alone (errors,
 * tags, multi-line flow and quoted nodes...). Where PyYAML reads a text differently from the
 * package, the PyYAML reading wins (pyyamlCompat.ts). No post-passes here: aliases are left unlinked
 * and duplicate keys unreported (see treePasses.ts).
 *
 * Relies on the `yaml` package, pyyamlCompat.ts, plainScalars.ts and charCodes.ts.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, Scalar } from 'yaml';
import type { Node as YNode, Pair as YPair, YAMLMap, YAMLSeq, Alias as YAlias } from 'yaml';
import type { ScalarStyle, YamlAlias, YamlMap, YamlNode, YamlPair, YamlScalar, YamlSeq, YamlSyntaxError } from './yamlTree';
import { hasLoneCr, normalizeLoneCr, underIndentedQuotesPatch } from './pyyamlCompat';
import { resolvePlainScalar } from './plainScalars';
import { CH_CR } from './charCodes';

export interface LibResult {
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
export function parseWithYamlLib(text: string): LibResult {
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
    // The yaml package's advice to its caller ("please use YAML.parseAllDocuments()") is no help to a user.
    const multiple = e.code === 'MULTIPLE_DOCS';
    errors.push({ start: s, end: en, code: multiple ? 'multiple-documents' : 'yaml-syntax', message: multiple ? 'A second YAML document starts here (a `---` or `...` line); this file holds one.' : e.message });
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
      [start, end] = coverItems(this.range(n), items);
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
      [start, end] = coverItems(this.range(n), items);
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

/**
 * A flow collection's range, widened to hold its items: an unclosed `[` or `{` (invalid YAML) gets
 * a range from the package that may end before the items it swallowed, and a node's span must
 * contain its children's.
 */
function coverItems([start, end]: [number, number], items: readonly ({ start: number; end: number } | null)[]): [number, number] {
  for (const it of items) {
    if (!it) continue;
    if (it.start < start) start = it.start;
    if (it.end > end) end = it.end;
  }
  return [start, end];
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
