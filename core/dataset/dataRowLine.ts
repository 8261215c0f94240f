/**
 * The line a data row starts on, for an error found after the rows were read (a target that is
 * no class, a value beyond the model's input type): said as `file:LINE` like the readers' own
 * errors, since a row and its line differ where quoted fields hold line breaks or blank lines are
 * skipped. The file is scanned again, only then, as the readers split it: CSV records end at a line
 * feed outside quotes and empty ones are skipped, the first being the header; JSON Lines lines end
 * at LF, CR or CR LF and blank ones are skipped.
 */
import { closeSync, openSync, readSync } from 'node:fs';

const LF = 10;
const CR = 13;
const QUOTE = 34;

/** The 1-based line where 1-based data row `row` starts, or undefined when the file has no such row or cannot be read. */
export function lineOfDataRow(file: string, format: 'csv' | 'jsonl', row: number): number | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    return format === 'csv' ? csvRowLine(fd, row) : jsonLinesRowLine(fd, row);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function* chunks(fd: number): Generator<Buffer> {
  const buf = Buffer.allocUnsafe(1024 * 1024);
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) return;
    yield buf.subarray(0, n);
  }
}

function csvRowLine(fd: number, row: number): number | undefined {
  let line = 1;
  let start = 1;
  let quoted = false;
  let content = false;
  let records = 0;
  for (const chunk of chunks(fd)) {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === LF) {
        line++;
        if (quoted) continue;
        if (content && ++records === row + 1) return start;
        content = false;
        start = line;
      } else if (b !== CR) {
        content = true;
        if (b === QUOTE) quoted = !quoted;
      }
    }
  }
  return content && records + 1 === row + 1 ? start : undefined;
}

const isBlank = (b: number) => b === 32 || b === 9 || b === 11 || b === 12;

function jsonLinesRowLine(fd: number, row: number): number | undefined {
  let line = 1;
  let content = false;
  let rows = 0;
  let afterCr = false;
  let first = true;
  for (const chunk of chunks(fd)) {
    let i = 0;
    // A UTF-8 byte order mark before the first line is no content.
    if (first && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3;
    first = false;
    for (; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === LF && afterCr) {
        afterCr = false;
        continue;
      }
      afterCr = b === CR;
      if (b === LF || b === CR) {
        if (content && ++rows === row) return line;
        content = false;
        line++;
      } else if (!isBlank(b)) content = true;
    }
  }
  return content && rows + 1 === row ? line : undefined;
}
