/**
 * The lower half of the fast parser (fastParser.ts): a region text[begin, end) of a document read
 * line by line, and the nodes that fit on one line (a plain scalar's first line, one-line quoted
 * scalars with their escapes, aliases, one-line flow collections). Like the parser, it gives up by
 * throwing BAIL on anything it does not handle; parseFast catches it.
 *
 * Relies on the tree types (yamlTree.ts), plainScalars.ts and charCodes.ts.
 */
import type { YamlAlias, YamlMap, YamlNode, YamlPair, YamlScalar, YamlSeq } from './yamlTree';
import { resolvePlainScalar } from './plainScalars';
import { CH_COLON, CH_CR, CH_DASH, CH_HASH, CH_NL, CH_SP } from './charCodes';

/** What the fast parser throws when it gives up on a text. */
class Bail {}
export const BAIL = new Bail();
export function bail(): never {
  throw BAIL;
}

export const STOP_EOL = 0;
export const STOP_COLON = 1;
export const STOP_COMMENT = 2;

export interface PlainScan {
  /** End of the scalar's text on this line (trailing spaces excluded). */
  textEnd: number;
  stop: number;
  /** Position of the `:` (STOP_COLON), the `#` (STOP_COMMENT) or the line end. */
  stopAt: number;
}

/** Reads text[begin, end); `pos` is the parser's position, at a line start between nodes. */
export class FastScanner {
  protected pos = 0;

  constructor(
    protected readonly text: string,
    protected readonly begin: number,
    protected readonly end: number,
  ) {}

  // -- lines ------------------------------------------------------------------------------------

  protected isEol(p: number): boolean {
    if (p >= this.end) return true;
    const c = this.text.charCodeAt(p);
    return c === CH_NL || c === CH_CR;
  }

  /** Whitespace-or-EOL after position p (what makes `-`, `:` and `?` indicators). */
  protected isWsOrEol(p: number): boolean {
    return this.isEol(p) || this.text.charCodeAt(p) === CH_SP;
  }

  protected lineEnd(p: number): number {
    const i = this.text.indexOf('\n', p);
    return i < 0 || i >= this.end ? this.end : i + 1;
  }

  protected indentAt(lineStart: number): number {
    const { text } = this;
    let i = lineStart;
    while (i < this.end && text.charCodeAt(i) === CH_SP) i++;
    return i - lineStart;
  }

  protected isDocMarker(lineStart: number): boolean {
    const t = this.text;
    const c = t.charCodeAt(lineStart);
    if (c !== CH_DASH && c !== 46) return false;
    return t.charCodeAt(lineStart + 1) === c && t.charCodeAt(lineStart + 2) === c && this.isWsOrEol(lineStart + 3);
  }

  /**
   * From this.pos (a line start), skips blank and comment lines; returns the start of the next line
   * with content (this.pos is left there), or -1 at the end of the region.
   */
  protected nextContentLine(): number {
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
  protected finishLine(q: number): void {
    const { text } = this;
    let i = q;
    while (i < this.end && text.charCodeAt(i) === CH_SP) i++;
    if (!this.isEol(i)) {
      if (text.charCodeAt(i) !== CH_HASH || i === q) bail();
    }
    this.pos = this.lineEnd(i);
  }

  protected skipSpaces(q: number): number {
    const { text } = this;
    while (q < this.end && text.charCodeAt(q) === CH_SP) q++;
    return q;
  }

  // -- one-line nodes -------------------------------------------------------------------------

  protected alias(p: number, flow: boolean): YamlAlias {
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

  /** Scans a plain scalar's first line in block context from p. */
  protected scanPlainLine(p: number): PlainScan {
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

  /** A one-line quoted scalar at p; this.pos is not moved. */
  protected quoted(p: number): YamlScalar {
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

  // -- flow collections (one line) ----------------------------------------------------------

  protected flowNode(p: number): YamlMap | YamlSeq {
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
