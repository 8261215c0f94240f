/**
 * Line indexing for any text the language features see: offsets ↔ zero-based line and UTF-16
 * column, as LSP positions count them. YAML documents carry their line starts (YamlDocument
 * implements LineIndex); the server and `runwise check` index other texts with lineIndex().
 */

/** A text with its line starts: enough to turn offsets into positions and back. */
export interface LineIndex {
  text: string;
  /** Offsets where each line starts (lineStarts[0] === 0). */
  lineStarts: number[];
}

export function lineIndex(text: string, lineStarts?: number[]): LineIndex {
  return { text, lineStarts: lineStarts ?? computeLineStarts(text) };
}

/** Zero-based line and UTF-16 column of an offset, as LSP positions are. */
export function positionAt(doc: Pick<LineIndex, 'lineStarts'>, offset: number): { line: number; character: number } {
  const starts = doc.lineStarts;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, character: offset - starts[lo]! };
}

/** The offset of a zero-based line and UTF-16 column; a column past the line's end is its end. */
export function offsetAt(doc: LineIndex, line: number, character: number): number {
  if (line < 0) return 0;
  if (line >= doc.lineStarts.length) return doc.text.length;
  const lineStart = doc.lineStarts[line]!;
  const nextLine = line + 1 < doc.lineStarts.length ? doc.lineStarts[line + 1]! : doc.text.length;
  // A character past the line's end means its end, before the line break (\n, \r\n or \r), as
  // LSP's TextDocument takes it.
  let lineEnd = nextLine;
  if (line + 1 < doc.lineStarts.length) {
    if (doc.text.charCodeAt(lineEnd - 1) === 10) {
      lineEnd--;
      if (lineEnd > lineStart && doc.text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
    } else if (doc.text.charCodeAt(lineEnd - 1) === 13) {
      lineEnd--;
    }
  }
  return Math.min(lineStart + Math.max(0, character), lineEnd);
}

/** Offsets where each line starts; \n, \r\n and a lone \r each end a line. */
export function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c === 13) {
      if (text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    }
  }
  return starts;
}
