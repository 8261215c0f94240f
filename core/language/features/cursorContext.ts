/**
 * Where a cursor is, structurally, for completion: typing a key of some mapping, a value of some key
 * or list item, or a name inside `${...}`. Works on incomplete text (a blank indented line, `key: `
 * with nothing after it, `- ` in a list) from the tree and the indentation, without walking the
 * document: nodeAtOffset at the cursor or at the nearest content above it, then columns.
 * Offsets are YAML offsets.
 */
import { scalarInterpolations, type InterpolationToken } from '../pipeline/interpolation';
import { asMap, asSeq, pairOf } from '../yaml/yamlAccess';
import { nodeAtOffset } from '../yaml/nodeAt';
import { positionAt } from '../text/lineIndex';
import { type Span, type YamlDocument, type YamlMap, type YamlNode, type YamlPair, type YamlScalar } from '../yaml/yamlTree';

export type Path = (string | number)[];

export type CursorContext =
  /** Typing a key of the mapping at `path` (which may not exist yet). */
  | { kind: 'key'; path: Path; map: YamlMap | null; replace: Span; typed: string; keyPair: YamlPair | null }
  /**
   * Typing the value at `path` (a key's value, or a list item). `alsoKeys`: it may equally be the
   * first key of a mapping item (`- na` in a list of mappings).
   */
  | { kind: 'value'; path: Path; scalar: YamlScalar | null; replace: Span; typed: string; alsoKeys: boolean }
  /** Inside `${...}` of the scalar at `path`. */
  | { kind: 'interpolation'; path: Path; token: InterpolationToken; replace: Span; typed: string; closed: boolean }
  | { kind: 'none' };

const MAX_LOOKBACK_LINES = 200;

export function cursorContext(doc: YamlDocument, offset: number): CursorContext {
  const text = doc.text;
  if (offset < 0 || offset > text.length) return { kind: 'none' };
  const { line, character } = positionAt(doc, offset);
  const lineStart = doc.lineStarts[line]!;
  const before = text.slice(lineStart, offset);
  if (/^\s*#/.test(before) || /\s#/.test(before.replace(/(["']).*?\1/g, ''))) return { kind: 'none' };

  const at = nodeAtOffset(doc, offset);
  const node = at.node;

  // Inside `${...}` of a scalar.
  if (node && node.kind === 'scalar') {
    for (const t of scalarInterpolations(node)) {
      if (offset >= t.inner.start && offset <= t.inner.end) {
        const typed = text.slice(t.inner.start, offset);
        return { kind: 'interpolation', path: at.path, token: t, replace: { start: t.inner.start, end: t.unclosed ? offset : t.inner.end }, typed, closed: !t.unclosed };
      }
    }
  }

  // On a key.
  if (at.inKeyOf) {
    const k = at.inKeyOf.key;
    return {
      kind: 'key',
      path: at.path.slice(0, -1),
      map: asMap(containerOf(doc, at.path.slice(0, -1))),
      replace: { start: k.start, end: k.end },
      typed: text.slice(k.start, offset),
      keyPair: at.inKeyOf,
    };
  }

  // On a scalar value.
  if (node && node.kind === 'scalar' && offset >= node.start && offset <= node.end && node.end > node.start) {
    const replace = { start: node.start, end: node.end };
    const typed = text.slice(node.start, offset);
    const last = at.path[at.path.length - 1];
    const ownerPair = at.pairs[at.pairs.length - 1];
    if (typeof last === 'string' && ownerPair && ownerPair.value === node && startsLaterLine(doc, ownerPair.key.end, node.start)) {
      // `train:\n    cm|`: a key of a mapping that does not exist yet.
      return { kind: 'key', path: at.path, map: null, replace, typed, keyPair: null };
    }
    return { kind: 'value', path: at.path, scalar: node, replace, typed, alsoKeys: typeof last === 'number' };
  }

  const empty: Span = { start: offset, end: offset };

  // `key: |` with nothing typed after it.
  const keyValue = /^(\s*)(?:-\s+)*([^\s#:][^#]*?):\s+$/.exec(before) ?? /^(\s*)(?:-\s+)*([^\s#:][^#]*?):$/.exec(before);
  if (keyValue && before.endsWith(' ')) {
    const keyOffset = lineStart + before.lastIndexOf(keyValue[2]!);
    const k = nodeAtOffset(doc, keyOffset);
    if (k.inKeyOf) return { kind: 'value', path: k.path, scalar: null, replace: empty, typed: '', alsoKeys: false };
  }

  // A blank (indented) line, maybe `- `, maybe a word the parser could not place (`lib` alone on
  // a line): place it by indentation under the content above.
  const m = /^(\s*)((?:-\s+)*)([^\s:#'"]*)$/.exec(before);
  if (!m) return { kind: 'none' };
  const dashes = (m[2]!.match(/-/g) ?? []).length;
  const indent = m[1]!.length;
  const word = m[3]!;
  const contentCol = character - word.length;
  if (word) {
    let end = offset;
    while (end < text.length && /[^\s:#]/.test(text[end]!)) end++;
    empty.start = offset - word.length;
    empty.end = end;
  }
  const anchor = previousContent(doc, line);
  if (!anchor) {
    // Nothing above: the root.
    if (dashes) return { kind: 'value', path: [0], scalar: null, replace: empty, typed: word, alsoKeys: true };
    return { kind: 'key', path: [], map: asMap(doc.root), replace: empty, typed: word, keyPair: null };
  }
  const chain = chainAt(doc, anchor);
  // Innermost first: find the collection this line belongs to.
  const col = dashes ? indent : contentCol;
  for (let i = chain.length - 1; i >= 0; i--) {
    const c = chain[i]!;
    if (c.kind === 'pair') {
      if (col > c.column) {
        // Inside this pair's value.
        if (dashes) {
          const seq = asSeq(c.pair.value);
          return { kind: 'value', path: [...c.path, seq ? seq.items.length : 0], scalar: null, replace: empty, typed: word, alsoKeys: true };
        }
        const value = c.pair.value;
        if (value && value.kind === 'seq' && !dashes) continue;
        return { kind: 'key', path: c.path, map: asMap(value), replace: empty, typed: word, keyPair: null };
      }
      if (dashes && col === c.column && asSeq(c.pair.value)) {
        const seq = asSeq(c.pair.value)!;
        return { kind: 'value', path: [...c.path, seq.items.length], scalar: null, replace: empty, typed: word, alsoKeys: true };
      }
      if (col === c.column && !dashes) {
        const parent = c.path.slice(0, -1);
        return { kind: 'key', path: parent, map: asMap(containerOf(doc, parent)), replace: empty, typed: word, keyPair: null };
      }
    } else {
      // A sequence item: its content column is where a sibling key of a mapping item goes.
      if (!dashes && col === c.column) {
        return { kind: 'key', path: c.path, map: asMap(c.node), replace: empty, typed: word, keyPair: null };
      }
      if (dashes && col === c.dashColumn) {
        const parentPath = c.path.slice(0, -1);
        const seq = asSeq(containerOf(doc, parentPath));
        return { kind: 'value', path: [...parentPath, seq ? seq.items.length : 0], scalar: null, replace: empty, typed: word, alsoKeys: true };
      }
    }
  }
  if (col === 0 && !dashes) return { kind: 'key', path: [], map: asMap(doc.root), replace: empty, typed: word, keyPair: null };
  return { kind: 'none' };
}

type ChainEntry =
  | { kind: 'pair'; pair: YamlPair; column: number; path: Path }
  | { kind: 'item'; node: YamlNode | null; column: number; dashColumn: number; path: Path };

/** The pairs and list items enclosing `offset`, outermost first, with their columns. */
function chainAt(doc: YamlDocument, offset: number): ChainEntry[] {
  const at = nodeAtOffset(doc, offset);
  const out: ChainEntry[] = [];
  let node: YamlNode | null = doc.root;
  let pairIdx = 0;
  const path: Path = [];
  for (const seg of at.path) {
    path.push(seg);
    if (typeof seg === 'string') {
      const pair = at.pairs[pairIdx++];
      if (!pair) break;
      out.push({ kind: 'pair', pair, column: positionAt(doc, pair.key.start).character, path: [...path] });
      node = pair.value;
    } else {
      const seq = asSeq(node);
      const item = seq?.items[seg] ?? null;
      if (!item) break;
      const column = positionAt(doc, item.start).character;
      const dashColumn = dashColumnBefore(doc, item.start);
      out.push({ kind: 'item', node: item, column, dashColumn, path: [...path] });
      node = item;
    }
  }
  return out;
}

function dashColumnBefore(doc: YamlDocument, offset: number): number {
  let i = offset - 1;
  while (i >= 0 && doc.text[i] === ' ') i--;
  if (doc.text[i] === '-') return positionAt(doc, i).character;
  return positionAt(doc, offset).character;
}

/** Offset of the first non-blank character of the nearest content line above `line`. */
function previousContent(doc: YamlDocument, line: number): number | undefined {
  for (let l = line - 1, n = 0; l >= 0 && n < MAX_LOOKBACK_LINES; l--, n++) {
    const start = doc.lineStarts[l]!;
    const end = l + 1 < doc.lineStarts.length ? doc.lineStarts[l + 1]! : doc.text.length;
    const content = doc.text.slice(start, end);
    const m = /\S/.exec(content);
    if (!m || content[m.index] === '#') continue;
    // Point at the last content character of the line, so the chain reaches the innermost node.
    const trimmed = (/["']/.test(content) ? content : content.replace(/\s#.*$/, '')).replace(/\s+$/, '');
    return start + Math.max(m.index, trimmed.length - 1);
  }
  return undefined;
}

function startsLaterLine(doc: YamlDocument, a: number, b: number): boolean {
  return positionAt(doc, b).line > positionAt(doc, a).line;
}

/** The node at a path of keys/indices (aliases not followed), or null. */
export function containerOf(doc: YamlDocument, path: Path): YamlNode | null {
  let n: YamlNode | null = doc.root;
  for (const seg of path) {
    if (!n) return null;
    if (typeof seg === 'string') {
      n = pairOf(asMap(n), seg)?.value ?? null;
    } else {
      n = asSeq(n)?.items[seg] ?? null;
    }
  }
  return n;
}
