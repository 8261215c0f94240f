/**
 * JSON Lines in batches: one object per line. Blank lines are skipped; a line that is not a JSON
 * object is an error naming it.
 *
 * The columns are the keys of the first 1,000 objects in the order they first appear (pandas'
 * read_json takes the union of every row's keys: Spark's JSON writer leaves a null field out, so
 * the first row need not have them all); a column asked for that they do not name is looked for in
 * the whole file, and `everyColumn` reads the whole file for every key (drift compares them all). A key a row lacks is a missing cell there, as pandas reads it. Keys are the
 * object's own (a row without `constructor` lacks it).
 *
 * Values: numeric columns take JSON numbers, numeric strings and booleans (1 or 0, as scikit-learn
 * takes a bool column); text columns take any scalar, a boolean as `True`/`False` (pandas' spelling,
 * as for CSV and Parquet), an integer past 2^53 with every digit the line gives it (pandas reads it
 * as an exact int64). Python's json.dumps writes NaN, Infinity and -Infinity for non-finite
 * floats, which JSON has not: they are read as Python's json.loads reads them.
 */
import { createReadStream } from 'node:fs';
import { DatasetError, NULL_CELL, cellText, checkColumns, emptyBatch, numberFromText, trimBatch, type ByteSink, type ColumnRequest, type DatasetBatch, type DatasetReader } from './dataset';

/** How many objects name the columns. */
const COLUMN_SCAN = 1000;

/** NaN, Infinity or -Infinity outside a string, as json.dumps writes them (with what precedes them). */
const PYTHON_NON_FINITE = /("(?:[^"\\]|\\.)*")|(-?)\b(NaN|Infinity)\b/g;

/** A line as JSON, or as json.loads reads it when it holds Python's NaN or Infinity. */
function parseLine(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    if (!/NaN|Infinity/.test(text)) throw e;
    // 1e999 parses to Infinity; NaN becomes null, a missing cell, which is how it reads in a numeric column.
    const replaced = text.replace(PYTHON_NON_FINITE, (match, quoted: string | undefined, minus: string, word: string) => (quoted !== undefined ? match : word === 'NaN' ? 'null' : `${minus}1e999`));
    try {
      return JSON.parse(replaced);
    } catch {
      throw e;
    }
  }
}

/** Per key, the pattern of `"key": digits` (built once per column, not per cell). */
const integerPatterns = new Map<string, RegExp>();

/**
 * An integer past 2^53 as the line writes it (an id such as 9007199254740993, which a double would
 * round): the digits after the key, when the key is written once in the line (a nested object with
 * the same key could hold another id); else the double's own text.
 */
function integerText(line: string, key: string, v: number): string {
  let pattern = integerPatterns.get(key);
  if (!pattern) {
    pattern = new RegExp(`${JSON.stringify(key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*:\\s*(-?\\d+)?`, 'g');
    integerPatterns.set(key, pattern);
  }
  const found = [...line.matchAll(pattern)];
  const digits = found.length === 1 ? found[0]![1] : undefined;
  return digits !== undefined && Number(digits) === v ? digits : String(v);
}

/** A line's text (trimmed, not blank) and its 1-based number. */
type RawLine = { line: number; text: string };

/**
 * The file's lines, a read's worth (1 MiB) at a time: split here rather than by readline, whose
 * promise per line cost more than parsing the line did. A line ends at LF, CR LF or a lone CR, as
 * readline ends one; each read is searched once. Lines are parsed by
 * the caller, one at a time (`objectOf`), so a loop that stops early parses no line after it.
 */
async function* lines(file: string, displayName: string, hash?: ByteSink): AsyncGenerator<RawLine[]> {
  // Fatal: a byte sequence that is not UTF-8 is an error naming its line, not a U+FFFD in a key
  // (a column then went missing without a word).
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let first = true;
  const decode = (chunk: Buffer | undefined): string => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      if (first && chunk && chunk.length >= 2 && ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))) {
        throw new DatasetError(`${displayName}: UTF-16 text (it starts with a UTF-16 byte order mark); JSON Lines is UTF-8: save the file as UTF-8`);
      }
      // The line of the first bad byte: the lines ended so far, and the line breaks before it in this read.
      // A character begun in the last read ends in this one: its continuation bytes are no error.
      let from = 0;
      while (chunk && from < 3 && from < chunk.length && (chunk[from]! & 0xc0) === 0x80) from++;
      const at = chunk ? from + firstInvalidUtf8(chunk.subarray(from)) : 0;
      let breaks = 0;
      for (let i = 0; i < at; i++) if (chunk![i] === 10) breaks++;
      throw new DatasetError(`${displayName}:${line + 1 + breaks}: not UTF-8 text (an invalid byte sequence); JSON Lines is UTF-8: save the file as UTF-8`);
    } finally {
      first = false;
    }
  };
  let line = 0;
  /** The parts of a line not ended yet (kept apart: a long line is not copied again at every read). */
  let pending: string[] = [];
  /** The last read ended with a CR: an LF starting the next one belongs to it. */
  let afterCr = false;
  const take = (last: string, out: RawLine[]) => {
    const piece = pending.length ? pending.join('') + last : last;
    pending = [];
    line++;
    const trimmed = (line === 1 ? piece.replace(/^\uFEFF/, '') : piece).trim();
    if (trimmed !== '') out.push({ line, text: trimmed });
  };
  const split = (text: string, out: RawLine[]) => {
    let start = afterCr && text.charCodeAt(0) === 10 ? 1 : 0;
    afterCr = false;
    let lf = text.indexOf('\n', start);
    let cr = text.indexOf('\r', start);
    while (lf >= 0 || cr >= 0) {
      let end: number;
      let next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        end = cr;
        if (cr === text.length - 1) {
          next = cr + 1;
          afterCr = true;
        } else next = text.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
      } else {
        end = lf;
        next = lf + 1;
      }
      take(text.slice(start, end), out);
      start = next;
      if (lf >= 0 && lf < start) lf = text.indexOf('\n', start);
      if (cr >= 0 && cr < start) cr = text.indexOf('\r', start);
    }
    if (start < text.length) pending.push(text.slice(start));
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash?.update(chunk as Buffer);
    const out: RawLine[] = [];
    split(decode(chunk as Buffer), out);
    if (out.length) yield out;
  }
  const out: RawLine[] = [];
  split(decode(undefined), out);
  if (pending.length) take('', out);
  if (out.length) yield out;
}

/** The offset of the first byte that does not continue a valid UTF-8 sequence (the bytes' length when all do; a sequence cut at the end counts as valid). */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) {
      if (i + k >= b.length) return b.length;
      if ((b[i + k]! & 0xc0) !== 0x80) return i;
    }
    i += n + 1;
  }
  return b.length;
}

/** A cell as text (cellText); a value nested too deeply for JSON.stringify's stack is an error naming it. */
function textOf(v: unknown, displayName: string, line: number, column: string): string {
  try {
    return cellText(v);
  } catch (e) {
    if (e instanceof RangeError) throw new DatasetError(`${displayName}:${line}: column '${column}' holds a value nested too deeply to read (expected a scalar)`);
    throw e;
  }
}

/** A line as the object it must be; a DatasetError naming the line otherwise. */
function objectOf(l: RawLine, displayName: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseLine(l.text);
  } catch (e) {
    throw new DatasetError(`${displayName}:${l.line}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DatasetError(`${displayName}:${l.line}: expected a JSON object per line`);
  return value as Record<string, unknown>;
}

export async function openJsonLines(file: string, displayName = file): Promise<DatasetReader> {
  const keys = new Map<string, number>();
  let scanned = 0;
  // Whether a row lists its keys in another order than the columns': JSON does not order keys, so
  // "the columns in file order" is then the first rows' order, not every row's.
  let orderVaries = false;
  scan: for await (const read of lines(file, displayName)) {
    for (const l of read) {
      const value = objectOf(l, displayName);
      let last = -1;
      for (const k of Object.keys(value)) {
        if (!keys.has(k)) keys.set(k, keys.size);
        const at = keys.get(k)!;
        if (at < last) orderVaries = true;
        last = at;
      }
      if (++scanned === COLUMN_SCAN) break scan;
    }
  }
  // Whether the first scan read every row (then there is nothing further down to look for).
  const scannedAll = scanned < COLUMN_SCAN;
  if (scanned === 0) throw new DatasetError(`${displayName}: the file is empty (expected one JSON object per line)`);
  const names = [...keys.keys()];
  /** Columns asked for and looked for in the whole file already (found or not): each is looked for once. */
  const lookedFor = new Set<string>(names);
  /** Set once everyColumn read every key of the file: a name not among them is in no row. */
  let everyKey = false;
  const findColumns = async (wanted: readonly string[]): Promise<void> => {
    if (everyKey || scannedAll) return;
    const missing = new Set(wanted.filter((n) => !lookedFor.has(n)));
    if (missing.size === 0) return;
    for (const n of missing) lookedFor.add(n);
    const found = new Set<string>();
    look: for await (const read of lines(file, displayName)) {
      for (const l of read) {
        const value = objectOf(l, displayName);
        for (const n of missing) {
          if (!Object.hasOwn(value, n)) continue;
          found.add(n);
          missing.delete(n);
        }
        if (missing.size === 0) break look;
      }
    }
    // In the order asked for, after the first rows' columns.
    for (const n of wanted) if (found.has(n) && !names.includes(n)) names.push(n);
  };
  return {
    file: displayName,
    format: 'jsonl',
    columns: names,
    hashesFile: true,
    ...(orderVaries ? { columnOrderVaries: true } : {}),
    findColumns,
    async everyColumn(): Promise<void> {
      if (scannedAll || everyKey) return;
      everyKey = true;
      const known = new Set(names);
      let row = 0;
      for await (const read of lines(file, displayName)) {
        for (const l of read) {
          if (++row <= COLUMN_SCAN) continue;
          for (const k of Object.keys(objectOf(l, displayName))) {
            if (known.has(k)) continue;
            known.add(k);
            lookedFor.add(k);
            names.push(k);
          }
        }
      }
    },
    async *batches(request: readonly ColumnRequest[], batchSize: number, hash?: ByteSink): AsyncIterable<DatasetBatch> {
      await findColumns(request.map((r) => r.name));
      checkColumns(displayName, names, request, 'jsonl');
      let batch = emptyBatch(request, batchSize);
      for await (const read of lines(file, displayName, hash)) for (const { line, text } of read) {
        const value = objectOf({ line, text }, displayName);
        let n = 0;
        let t = 0;
        for (const r of request) {
          const v = Object.hasOwn(value, r.name) ? value[r.name] : null;
          if (r.text) batch.texts[t++]![batch.rows] = v === null && r.nulls ? NULL_CELL : typeof v === 'number' && !Number.isSafeInteger(v) && Number.isInteger(v) ? integerText(text, r.name, v) : textOf(v, displayName, line, r.name);
          else if (typeof v === 'number') batch.numbers[n++]![batch.rows] = Number.isFinite(v) ? v : r.missing ? NaN : numberFromText(String(v), `${displayName}:${line}`, r.name);
          else if (typeof v === 'boolean' && !r.missing) batch.numbers[n++]![batch.rows] = v ? 1 : 0;
          else if (v === null && r.missing) batch.numbers[n++]![batch.rows] = NaN;
          else if (typeof v === 'string') batch.numbers[n++]![batch.rows] = numberFromText(v, `${displayName}:${line}`, r.name, r.missing, false);
          else if (v === null) throw new DatasetError(`${displayName}:${line}: column '${r.name}' is ${Object.hasOwn(value, r.name) ? 'null' : 'missing from this row'} (expected a number)`);
          else throw new DatasetError(`${displayName}:${line}: column '${r.name}' is ${typeof v === 'boolean' ? `a boolean, ${v}` : Array.isArray(v) ? 'an array' : 'an object'} (expected a number)`, r.name);
        }
        if (++batch.rows === batchSize) {
          yield batch;
          batch = emptyBatch(request, batchSize);
        }
      }
      if (batch.rows > 0) yield trimBatch(batch);
    },
  };
}
