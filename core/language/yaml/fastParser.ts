/**
 * The fast path: a hand-written parser for the YAML that configuration files are made of (block
 * mappings and sequences, plain and one-line quoted scalars, literal/folded block scalars, one-line
 * flow collections, anchors and aliases, comments, CRLF). It reads a region of the text in place
 * and gives up (throws BAIL) on anything else: tags, directives, `---`, `?` keys, multi-line quoted
 * or flow nodes, tabs, explicit indentation indicators, and every error. The caller then parses the
 * region with the `yaml` package (yamlPackageTree.ts), so the fast path only ever has to agree with
 * it on valid input (checked by a property test).
 *
 * FastParser holds the block structure; what fits on one line is read by FastScanner
 * (fastScanner.ts). Relies on those, the tree types, plainScalars.ts and charCodes.ts; no
 * post-passes (see treePasses.ts).
 */
import type { YamlMap, YamlNode, YamlPair, YamlScalar, YamlSeq } from './yamlTree';
import { resolvePlainScalar } from './plainScalars';
import { CH_COLON, CH_CR, CH_DASH, CH_HASH, CH_NL, CH_SP } from './charCodes';
import { BAIL, bail, FastScanner, STOP_COLON, STOP_COMMENT, type PlainScan } from './fastScanner';

/** Parses text[begin, end) (a whole document, or a block of one); throws BAIL when it cannot. */
export class FastParser extends FastScanner {
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

  // -- scalars over several lines ------------------------------------------------------------

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
