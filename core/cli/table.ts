/** Plain-text tables for people: aligned columns, long cells shortened with an ellipsis. */

export interface TableOptions {
  /** Longest a cell may be before it is shortened. */
  maxCell?: number;
  /** Columns aligned right (numbers). */
  rightAligned?: ReadonlySet<number>;
}

/** Text in one line: line breaks (and the spaces around them) become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]\s*/g, ' ');
}

export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const maxCell = options.maxCell ?? 40;
  const clip = (s: string) => {
    const flat = oneLine(s);
    return flat.length > maxCell ? `${flat.slice(0, maxCell - 1)}…` : flat;
  };
  const cells = [header.map(clip), ...rows.map((r) => r.map(clip))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((cell, c) => (options.rightAligned?.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
