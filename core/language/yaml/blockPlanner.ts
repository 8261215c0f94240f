/**
 * Where a document can be cut into blocks that parse the same alone as in place: its top-level
 * entries, and the entries of a top-level `key:` whose value is a block mapping (say `stages:`).
 * Only looks at lines (indentation and first characters); parses nothing.
 *
 * Relies on the line index (text/lineIndex.ts), pyyamlCompat.ts (multi-line quoted scalars, whose
 * continuation lines never start a block) and charCodes.ts.
 */
import { computeLineStarts } from '../text/lineIndex';
import { findMultiLineQuotes, type MultiLineQuote } from './pyyamlCompat';
import { CH_CR, CH_DASH, CH_HASH, CH_NL, CH_SP } from './charCodes';

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

export interface Plan {
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
export function planBlocks(text: string, knownLineStarts: number[] | null): Plan {
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
