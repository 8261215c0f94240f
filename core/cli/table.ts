/** Plain-text tables for people: aligned columns, long cells shortened with an ellipsis. */

export interface TableOptions {
  /** Longest a cell may be before it is shortened. */
  maxCell?: number;
  /** Columns aligned right (numbers). */
  rightAligned?: ReadonlySet<number>;
}

export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const maxCell = options.maxCell ?? 40;
  const clip = (s: string) => {
    const oneLine = s.replace(/\s*\n\s*/g, ' ');
    return oneLine.length > maxCell ? `${oneLine.slice(0, maxCell - 1)}…` : oneLine;
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
