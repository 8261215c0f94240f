/**
 * YAML as PyYAML reads it (DVC and huggingface_hub load YAML with PyYAML), where strict YAML 1.2
 * and the `yaml` package differ:
 *
 * - Line breaks: YAML (1.1 and 1.2) takes CR LF, LF and a lone CR as line breaks; the `yaml`
 *   package only the first two. A lone CR becomes LF before the package reads the text (one
 *   character for one, so offsets do not move); `\r\r\n` is then two line breaks, as in PyYAML.
 * - Multi-line quoted scalars: PyYAML does not check the indentation of a quoted scalar's
 *   continuation lines, YAML 1.2 requires them to be indented more than the key (or `-`) the
 *   scalar belongs to. Such scalars are found here (findMultiLineQuotes) so that the block planner
 *   never cuts inside one, and so that the `yaml` package can be given the text with their line
 *   breaks blanked out (same offsets): the scalar's value is then read from its own source, and
 *   a 'yaml-compat' warning says what strict parsers would do.
 */
import { isScalar, parseDocument } from 'yaml';
import type { YamlSyntaxError } from './yamlTree';
import { CH_BACKSLASH, CH_COLON, CH_CR, CH_DASH, CH_DQ, CH_HASH, CH_NL, CH_SP, CH_SQ, CH_TAB } from './charCodes';


/** Whether `text` has a CR not followed by LF. */
export function hasLoneCr(text: string): boolean {
  let cr = text.indexOf('\r');
  while (cr >= 0) {
    if (text.charCodeAt(cr + 1) !== CH_NL) return true;
    cr = text.indexOf('\r', cr + 2);
  }
  return false;
}

/** `text` with every lone CR replaced by LF: the same length, the same line starts. */
export function normalizeLoneCr(text: string): string {
  return text.replace(/\r(?!\n)/g, '\n');
}

/** A quoted scalar that spans lines. Offsets into the scanned text. */
export interface MultiLineQuote {
  /** Offset of the opening quote. */
  open: number;
  /** Offset just after the closing quote. */
  close: number;
  /** Column of the key or `-` the scalar is the value of (-1 when the scalar starts its line). */
  parentColumn: number;
  /** First character of the first continuation line indented no more than parentColumn; -1 if none. */
  underIndented: number;
  /** Only spaces or tabs, then a line break, a comment or the end, after the closing quote. */
  endsLine: boolean;
}

/**
 * Quoted scalars that span lines, in document order, read as PyYAML reads them (no indentation
 * check; a `---` or `...` line ends the search, as PyYAML fails there). Only scalars starting a
 * block-context node are found: at the start of a line, after `- `, or after `key: `. One pass
 * over the quotes of the text; lone CRs must already be LF (normalizeLoneCr). A quote that is
 * never closed ends the search.
 */
export function findMultiLineQuotes(text: string): MultiLineQuote[] {
  const out: MultiLineQuote[] = [];
  const len = text.length;
  let dq = text.indexOf('"');
  let sq = text.indexOf("'");
  while (dq >= 0 || sq >= 0) {
    const q = dq < 0 ? sq : sq < 0 ? dq : Math.min(dq, sq);
    let next = q + 1;
    const parentColumn = nodeStartParent(text, q);
    if (parentColumn !== null) {
      const double = text.charCodeAt(q) === CH_DQ;
      let i = q + 1;
      let multi = false;
      let under = -1;
      let close = -1;
      while (i < len) {
        const c = text.charCodeAt(i);
        if (double && c === CH_BACKSLASH) {
          const d = text.charCodeAt(i + 1);
          i += d === CH_NL || d === CH_CR ? 1 : 2;
          continue;
        }
        if (c === (double ? CH_DQ : CH_SQ)) {
          if (!double && text.charCodeAt(i + 1) === CH_SQ) {
            i += 2;
            continue;
          }
          close = i + 1;
          break;
        }
        if (c !== CH_NL) {
          i++;
          continue;
        }
        multi = true;
        const ls = i + 1;
        if (isDocumentMarker(text, ls)) break;
        let j = ls;
        while (j < len && text.charCodeAt(j) === CH_SP) j++;
        let k = j;
        while (k < len && (text.charCodeAt(k) === CH_SP || text.charCodeAt(k) === CH_TAB)) k++;
        const e = text.charCodeAt(k);
        if (under < 0 && k < len && e !== CH_NL && e !== CH_CR && j - ls <= parentColumn) under = k;
        i = k;
      }
      if (close < 0) break; // never closed (or cut by a document marker): PyYAML fails there too
      if (multi) {
        let a = close;
        while (a < len && (text.charCodeAt(a) === CH_SP || text.charCodeAt(a) === CH_TAB)) a++;
        const f = text.charCodeAt(a);
        const endsLine = a >= len || f === CH_NL || f === CH_CR || (f === CH_HASH && a > close);
        out.push({ open: q, close, parentColumn, underIndented: under, endsLine });
      }
      next = close;
    }
    if (dq >= 0 && dq < next) dq = text.indexOf('"', next);
    if (sq >= 0 && sq < next) sq = text.indexOf("'", next);
  }
  return out;
}

function isDocumentMarker(text: string, ls: number): boolean {
  const c = text.charCodeAt(ls);
  if (c !== CH_DASH && c !== 46) return false;
  if (text.charCodeAt(ls + 1) !== c || text.charCodeAt(ls + 2) !== c) return false;
  const d = text.charCodeAt(ls + 3);
  return ls + 3 >= text.length || d === CH_SP || d === CH_TAB || d === CH_NL || d === CH_CR;
}

/**
 * When the quote at q starts a block-context node (first on its line after the indentation and any
 * `- `, or right after `key: `, with or without `&anchor` / `!tag` before it), the column of the key or last `-` it belongs to (-1 for none);
 * otherwise null (inside a plain scalar, a comment, a flow collection...).
 */
function nodeStartParent(text: string, q: number): number | null {
  const ls = text.lastIndexOf('\n', q - 1) + 1;
  let p = ls;
  while (text.charCodeAt(p) === CH_SP) p++;
  let parent = -1;
  while (text.charCodeAt(p) === CH_DASH && text.charCodeAt(p + 1) === CH_SP) {
    parent = p - ls;
    p++;
    while (text.charCodeAt(p) === CH_SP) p++;
  }
  // The node starts with its properties (`&anchor`, `!tag`), if any.
  let n = q;
  for (let k = 0; k < 2 && n > p; k++) {
    let e = n - 1;
    if (text.charCodeAt(e) !== CH_SP) break;
    while (e > p && text.charCodeAt(e - 1) === CH_SP) e--;
    let t = e;
    while (t > p && text.charCodeAt(t - 1) !== CH_SP) t--;
    const c = text.charCodeAt(t);
    if (t === e || (c !== 38 && c !== 33)) break;
    n = t;
  }
  if (p === n) return parent;
  // `key: "…`: a colon, then spaces, then the node; no comment before it.
  let b = n - 1;
  if (text.charCodeAt(b) !== CH_SP) return null;
  while (b > p && text.charCodeAt(b) === CH_SP) b--;
  if (text.charCodeAt(b) !== CH_COLON || b === p) return null;
  if (text.charCodeAt(p) === CH_HASH) return null;
  for (let i = p + 1; i < b; i++) {
    if (text.charCodeAt(i) === CH_HASH && text.charCodeAt(i - 1) === CH_SP) return null;
  }
  return p - ls;
}

/** What the `yaml` package should read instead of `text`, and what to put back in its tree. */
export interface CompatPatch {
  text: string;
  /** Value of each patched scalar, by the offset of its opening quote. */
  values: Map<number, string>;
  warnings: YamlSyntaxError[];
}

/**
 * For a text (lone CRs already LF) that the `yaml` package rejected: its multi-line quoted scalars
 * with under-indented continuation lines blanked into one line each, or null when there are none.
 */
export function underIndentedQuotesPatch(text: string): CompatPatch | null {
  if (text.indexOf('"') < 0 && text.indexOf("'") < 0) return null;
  const spans = findMultiLineQuotes(text).filter((s) => s.underIndented >= 0 && s.endsLine);
  if (spans.length === 0) return null;
  const parts: string[] = [];
  const values = new Map<number, string>();
  const warnings: YamlSyntaxError[] = [];
  let at = 0;
  for (const s of spans) {
    const src = text.slice(s.open, s.close);
    const value = quotedValue(src);
    if (value === null) continue;
    values.set(s.open, value);
    parts.push(text.slice(at, s.open), src.replace(/[\r\n]/g, ' '));
    at = s.close;
    let end = text.indexOf('\n', s.underIndented);
    if (end < 0) end = text.length;
    if (end > s.underIndented && text.charCodeAt(end - 1) === CH_CR) end--;
    warnings.push({
      start: s.underIndented,
      end: Math.max(s.underIndented + 1, end),
      code: 'yaml-compat',
      severity: 'warning',
      message:
        `This line continues a multi-line quoted string but is not indented more than the key or '-' at column ${s.parentColumn + 1}: ` +
        'PyYAML (DVC, huggingface_hub) reads it, strict YAML 1.2 parsers reject it',
    });
  }
  if (values.size === 0) return null;
  parts.push(text.slice(at));
  return { text: parts.join(''), values, warnings };
}

/**
 * The value of a quoted scalar from its source, folded as YAML folds it (a line break becomes a
 * space, an empty line a line break, escapes read): read as a document of its own, where no
 * indentation is required. Null when that fails.
 */
function quotedValue(src: string): string | null {
  try {
    const d = parseDocument(src, { version: '1.2', strict: true });
    if (d.errors.length || !isScalar(d.contents)) return null;
    const v = d.contents.value;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}
