/**
 * Datasets for evaluation, read in batches: CSV, JSON Lines and Parquet behind one interface. A
 * reader knows its column names up front; `batches` yields only the requested columns, numbers as
 * Float64Array and text as strings, `batchSize` rows at a time, so a million-row file never sits in
 * memory as JS objects.
 *
 * Bad input is a DatasetError naming the file, the row (the 1-based line for CSV and JSON Lines,
 * the 1-based row for Parquet) and the column: an empty file, a missing column, a ragged row, a
 * value that is not a number, a NaN or an empty cell in a numeric column.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import * as path from 'node:path';

export class DatasetError extends Error {
  /**
   * The column, when the error is a cell of a numeric column that is text (not a number, nor
   * missing): a reader that can take the column as text instead (drift) tries again so.
   */
  readonly textIn?: string;

  constructor(message: string, textIn?: string) {
    super(message);
    this.name = 'DatasetError';
    if (textIn !== undefined) this.textIn = textIn;
  }
}

/** An error as a worker thread reading a dataset posts it (see postedError). */
export interface PostedError {
  dataset: boolean;
  message: string;
  stack?: string;
  textIn?: string;
}

/** `e` as a worker thread posts it, so that a DatasetError is a DatasetError again on the other side. */
export function postedError(e: unknown): PostedError {
  const error = e instanceof Error ? e : new Error(String(e));
  // By name as well: a worker bundle's DatasetError is its own copy of the class.
  const textIn = (error as DatasetError).textIn;
  return { dataset: error instanceof DatasetError || error.name === 'DatasetError', message: error.message, stack: error.stack, ...(typeof textIn === 'string' ? { textIn } : {}) };
}

/** The error a worker thread posted (postedError), rebuilt in this thread. */
export function errorFromPosted(posted: PostedError): Error {
  return posted.dataset ? new DatasetError(posted.message, posted.textIn) : Object.assign(new Error(posted.message), { stack: posted.stack });
}

export interface ColumnRequest {
  name: string;
  /** Read as text (a slice column); otherwise a finite number is required. */
  text?: boolean;
  /**
   * A numeric column where a missing cell (empty, NA, N/A, null, None, NaN, and pandas' other
   * missing words such as #N/A and <NA>) or an infinite one (inf, -Infinity) reads as NaN instead of
   * an error: the drift tests leave both out, as Evidently drops them.
   */
  missing?: boolean;
  /**
   * With `text`: the reader may give the column as codes (`DatasetBatch.codes`) into a table of its
   * distinct texts (`DatasetBatch.labels`) instead of one string per cell. A reader that does not
   * fills `texts` as for any text column.
   */
  coded?: boolean;
  /**
   * With `text`, in JSON Lines and Parquet: a null (or an absent key) reads as NULL_CELL, not as '',
   * so that an empty string and a missing value stay apart (pandas reads those formats so).
   */
  nulls?: boolean;
}

/** A null cell of a text column read with `nulls` (no text a cell holds: it starts with a NUL and a marker). */
export const NULL_CELL = '\u0000\u0001null';

/**
 * What reads as a missing cell: pandas' default na_values (STR_NA_VALUES in pandas/_libs/parsers.pyx),
 * spelled as pandas spells them: `none` and `na` are labels (a `test preparation course` of
 * none/completed), only `None` and `NA` are missing.
 */
const MISSING = /^(|NA|N\/A|n\/a|NaN|nan|-NaN|-nan|NULL|null|None|#N\/A|#N\/A N\/A|#NA|-1\.#IND|-1\.#QNAN|1\.#IND|1\.#QNAN|<NA>)$/;
/** An infinite number as pandas and numpy read one. */
const INFINITE = /^[+-]?(inf|infinity)$/i;

/** A decimal number as pandas reads one (not JavaScript's 0x10, 0b11 or 0o7, which pandas keeps as text). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** pandas' default true_values and false_values (read_csv): how a bool column reads and writes. */
const BOOLEAN_WORDS = new Map([
  ['True', 1],
  ['TRUE', 1],
  ['true', 1],
  ['False', 0],
  ['FALSE', 0],
  ['false', 0],
]);

/** 1 or 0 for a boolean in pandas' spellings (trimmed text), else undefined. */
export function booleanOf(trimmed: string): 1 | 0 | undefined {
  return BOOLEAN_WORDS.get(trimmed) as 1 | 0 | undefined;
}

/**
 * The number a trimmed cell's text stands for as pandas reads it: a decimal, an infinity, or a
 * boolean as 1 or 0 (scikit-learn takes a bool column as 1.0 and 0.0); NaN for anything else,
 * JavaScript's `0x10`, `0b1` and `1_000` included.
 */
export function decimalOf(trimmed: string): number {
  if (DECIMAL.test(trimmed)) return Number(trimmed);
  if (INFINITE.test(trimmed)) return trimmed.startsWith('-') ? -Infinity : Infinity;
  return booleanOf(trimmed) ?? NaN;
}

/**
 * Whether a CSV header (its named columns) reads as a row of data: every name a number, and not
 * pandas' default column names 0, 1, 2, … in order (a frame saved with `header=True` and no names).
 */
export function headerLooksLikeData(columns: readonly string[]): boolean {
  const named = columns.filter(isNamedColumn);
  return named.length > 0 && named.every(isNumberText) && !named.every((c, i) => c === String(i));
}

/** Whether a cell's text is a number, finite or infinite (a numeric column's cell when not missing). */
export function isNumberText(text: string): boolean {
  const t = text.trim();
  return INFINITE.test(t) || DECIMAL.test(t);
}

/**
 * A cell as text, as pandas shows it: a missing cell empty, a boolean `True`/`False`, a date in ISO
 * form, a nested value (a list, a struct) as JSON.
 */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (v instanceof Date) return v.toISOString();
  return typeof v === 'object' ? JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) : String(v);
}

/** Whether a column has a name: one without (the row index pandas' to_csv and R's write.csv write first, a spreadsheet's trailing empty columns) is not data. */
export function isNamedColumn(name: string): boolean {
  return name.trim() !== '';
}

/** Whether a CSV cell's text, as written, is one of pandas' missing words (read_csv does not trim it first: ' NA' is text). */
export function isMissingCell(text: string): boolean {
  return MISSING.test(text);
}

/** Whether a cell's text stands for a missing value. */
export function isMissingText(text: string): boolean {
  return MISSING.test(text.trim());
}

/**
 * A batch of rows. A reader may refill the same arrays for the next batch: copy what you keep
 * before asking for the next one.
 */
export interface DatasetBatch {
  rows: number;
  /** One array per numeric column requested, in request order (text columns skipped). */
  numbers: Float64Array[];
  /** One array per text column requested, in request order. */
  texts: string[][];
  /**
   * Per text column (same index as `texts`), when the reader gives it as codes (ColumnRequest.coded):
   * each row's code, and `texts[k]` is left unfilled.
   */
  codes?: (Int32Array | undefined)[];
  /** Per coded text column: the text of each code. It only grows, and a code means the same text in every batch of a read. */
  labels?: (readonly string[] | undefined)[];
}

export interface DatasetReader {
  readonly file: string;
  readonly format: 'csv' | 'jsonl' | 'parquet';
  readonly columns: readonly string[];
  /** Whether `batches` reads the whole file in order and so can hash it on the way (not Parquet). */
  readonly hashesFile: boolean;
  /** The number of rows, when the file states it (Parquet's footer). */
  readonly rows?: number;
  /**
   * The columns the file itself types as text (Parquet BYTE_ARRAY strings), which pandas keeps as
   * text however their values read; undefined where every cell is text to be read (CSV, JSON Lines).
   */
  readonly textColumns?: ReadonlySet<string>;
  /** JSON Lines whose rows list their keys in different orders: `columns` is the first rows' order. */
  readonly columnOrderVaries?: boolean;
  /** `hash`, when given and `hashesFile`, is updated with every byte of the file as it is read. */
  batches(request: readonly ColumnRequest[], batchSize: number, hash?: ByteSink): AsyncIterable<DatasetBatch>;
  /**
   * A reader whose `columns` come from its first rows (JSON Lines) looks for these names in the
   * whole file and adds to `columns` those it finds there (see withColumns).
   */
  findColumns?(names: readonly string[]): Promise<void>;
  /**
   * A reader whose `columns` come from its first rows (JSON Lines) reads the rest of the file for
   * keys they do not name and adds them to `columns`, in the order they first appear: for what
   * compares every column (drift), as pandas reads the union of every row's keys.
   */
  everyColumn?(): Promise<void>;
}

/** Makes sure the reader lists the named columns the file has, when its column list is from its first rows only. */
export async function withColumns(reader: DatasetReader, names: readonly (string | undefined)[]): Promise<void> {
  const wanted = names.filter((n): n is string => n !== undefined && !reader.columns.includes(n));
  if (wanted.length > 0 && reader.findColumns) await reader.findColumns(wanted);
}

/** Where a row is, for messages: `data.csv:12` (line) or `data.parquet row 12`. */
export type RowPlace = (row: number) => string;

/** Checks that every requested column exists; names the columns there are when one is missing. */
export function checkColumns(file: string, columns: readonly string[], request: readonly ColumnRequest[], format: DatasetReader['format'] = 'csv'): void {
  for (const r of request) {
    if (!columns.includes(r.name)) {
      // Only a CSV header can be another separator's: a JSON key or Parquet column may hold ';'.
      const hint = format === 'csv' ? separatorHint(columns) : undefined;
      throw new DatasetError(`${file}: no column '${shownCell(r.name, 80)}' (the columns are: ${shownColumns(columns)})${hint ? `; ${hint}` : ''}`);
    }
  }
}

/**
 * The column `name` refers to: itself, or, when no column is spelled so, the one its trimmed text
 * names. A CSV header's names are read trimmed, while pandas keeps a header's spaces (`a, survived`
 * names ` survived`), so the name a pandas user gives still finds the column.
 */
export function columnNamed(columns: readonly string[], name: string): string {
  if (columns.includes(name)) return name;
  const trimmed = name.trim();
  return trimmed !== name && columns.includes(trimmed) ? trimmed : name;
}

/** What to change when a header is one column holding `;` or tabs (a CSV saved with another separator), else undefined. */
export function separatorHint(columns: readonly string[]): string | undefined {
  const only = columns.length === 1 ? columns[0]! : '';
  const separator = only.includes(';') ? ';' : only.includes('\t') ? 'tab' : undefined;
  return separator ? `the header looks ${separator}-separated, and Runwise reads comma-separated values: save the file with commas` : undefined;
}

/**
 * A cell's text as an error message shows it: at most 40 characters (a 5 MB cell is not printed
 * whole) and control characters written as escapes (a NUL byte is not invisible).
 */
export function shownCell(text: string, length = 40): string {
  const cut = text.length > length ? `${text.slice(0, length)}…` : text;
  return cut.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A file's column names as a message lists them: each cut at 80 characters with control characters
 * escaped, at most 30 of them and how many more (a header of 10,000 columns, or one name of 10 MB,
 * is not printed whole).
 */
export function shownColumns(names: readonly string[]): string {
  // A name holding a comma is quoted, as a CSV header (and --features) writes it: the list stays readable.
  const listed = names.slice(0, 30).map((n) => (n.includes(',') ? `"${shownCell(n, 80).replace(/"/g, '""')}"` : shownCell(n, 80))).join(', ');
  return names.length > 30 ? `${listed}, … (${names.length} in all)` : listed;
}

/**
 * The number in a cell's text, or a DatasetError naming where it is and what was found. A boolean
 * reads as 1 or 0 unless `booleans` is false: a string in JSON or Parquet, which pandas keeps as
 * text and scikit-learn cannot convert (a CSV's whole column of them is bool to pandas).
 */
export function numberFromText(text: string, where: string, column: string, missing = false, booleans = true): number {
  const trimmed = text.trim();
  if (missing && (MISSING.test(trimmed) || INFINITE.test(trimmed))) return NaN;
  if (!booleans && !missing && booleanOf(trimmed) !== undefined) {
    throw new DatasetError(`${where}: column '${column}' is the text '${shownCell(trimmed)}' (expected a number; pandas keeps a string as text, which scikit-learn cannot convert: store a boolean or 1/0)`, column);
  }
  // Where missing cells are allowed (drift), a boolean makes a numeric column text, as pandas infers a 0/1/True column.
  if (missing && booleanOf(trimmed) !== undefined) throw new DatasetError(`${where}: column '${column}' is a boolean, '${shownCell(trimmed)}' (expected a number)`, column);
  if (trimmed === '') throw new DatasetError(`${where}: column '${column}' is empty (expected a number)`);
  // `NAN`, `Nan` or `+nan` are not pandas' missing words: text to pandas, so a column drift may read as text.
  if (/^[+-]?nan$/i.test(trimmed)) throw new DatasetError(`${where}: column '${column}' is ${missing ? `'${shownCell(trimmed)}', which pandas reads as text, not as missing` : 'NaN'} (expected a number)`, missing ? column : undefined);
  if (MISSING.test(trimmed)) throw new DatasetError(`${where}: column '${column}' is missing ('${shownCell(trimmed)}'; expected a number)`);
  const v = decimalOf(trimmed);
  if (Number.isNaN(v)) {
    throw new DatasetError(`${where}: column '${column}' is not a number: '${shownCell(trimmed)}'`, column);
  }
  if (!Number.isFinite(v)) {
    // Beyond the largest double (1e500): infinite, left out where missing cells are (pandas reads inf).
    if (missing) return NaN;
    throw new DatasetError(`${where}: column '${column}' is ${shownCell(trimmed)} (expected a finite number)`);
  }
  return v;
}

/** A new empty batch for a request. */
export function emptyBatch(request: readonly ColumnRequest[], size: number): DatasetBatch {
  return {
    rows: 0,
    numbers: request.filter((r) => !r.text).map(() => new Float64Array(size)),
    texts: request.filter((r) => r.text).map(() => new Array<string>(size)),
  };
}

/** A batch cut to its filled rows. */
export function trimBatch(batch: DatasetBatch): DatasetBatch {
  return {
    rows: batch.rows,
    numbers: batch.numbers.map((a) => a.subarray(0, batch.rows)),
    texts: batch.texts.map((t) => t.slice(0, batch.rows)),
    ...(batch.codes ? { codes: batch.codes.map((c) => c?.subarray(0, batch.rows)), labels: batch.labels } : {}),
  };
}

/** Opens a dataset by its extension: .csv (and .tsv is refused), .jsonl/.ndjson, .parquet. */
export async function openDataset(file: string, displayName = file): Promise<DatasetReader> {
  let isFile: boolean;
  try {
    isFile = (await stat(file)).isFile();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DatasetError(`${displayName}: ${code === 'ENOENT' ? 'no such file' : `cannot read the dataset (${code ?? (e as Error).message})`}`);
  }
  if (!isFile) throw new DatasetError(`${displayName}: not a file (expected a .csv, .jsonl, .ndjson or .parquet file)`);
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return (await import('./csvReader')).openCsv(file, displayName);
  if (ext === '.jsonl' || ext === '.ndjson') return (await import('./jsonLinesReader')).openJsonLines(file, displayName);
  if (ext === '.parquet') return (await import('./parquetReader')).openParquet(file, displayName);
  // pandas' to_json(lines=True) is often saved as .json: JSON Lines, named so only by its extension.
  const hint = ext === '.json' ? ': a JSON Lines file (one object per line, as pandas to_json(orient="records", lines=True) writes) is read when named .jsonl or .ndjson' : '';
  throw new DatasetError(`${displayName}: unknown dataset format '${ext || '(no extension)'}' (expected .csv, .jsonl, .ndjson or .parquet)${hint}`);
}

/** What a reader feeds a file's bytes to as it reads them (a crypto Hash, or FileDigests). */
export interface ByteSink {
  update(chunk: Buffer): unknown;
}

/**
 * A file's sha256 and md5 from one pass over its bytes. The md5 is the hash the pipeline runner
 * (as DVC) records for a file, so a dataset input carrying it is the same file version, in lineage,
 * as the stage output or dependency with that md5; the sha256 is the report's.
 */
export class FileDigests implements ByteSink {
  private readonly sha256 = createHash('sha256');
  private readonly md5 = createHash('md5');

  update(chunk: Buffer): this {
    this.sha256.update(chunk);
    this.md5.update(chunk);
    return this;
  }

  digests(): { sha256: string; md5: string } {
    return { sha256: this.sha256.digest('hex'), md5: this.md5.digest('hex') };
  }
}

/** Feeds every byte of `file` to `sink`, in 1 MiB chunks: for readers that cannot hash while they read (Parquet). */
async function feedFile<S extends ByteSink>(file: string, sink: S): Promise<S> {
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) sink.update(chunk as Buffer);
  return sink;
}

/** A file's sha256 and md5 (hex), from one read of it. */
export async function fileDigests(file: string): Promise<{ sha256: string; md5: string }> {
  return (await feedFile(file, new FileDigests())).digests();
}

/** A file's md5 (hex): the digest a dataset input carries, as the pipeline records a file (see FileDigests). */
export async function fileMd5(file: string): Promise<string> {
  return (await feedFile(file, createHash('md5'))).digest('hex');
}

/** A file's sha256 (hex). */
export async function fileSha256(file: string): Promise<string> {
  return (await feedFile(file, createHash('sha256'))).digest('hex');
}

/** A file's size in bytes; 0 when it cannot be read here (its reader reports why). */
export async function fileBytes(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

const SAMPLE_BYTES = 1 << 16;

/**
 * About how many rows a CSV or JSON Lines file holds: its size over the mean line length of its
 * first 64 KiB, plus 5 % (the columns grow if the file has more). 0 when unknown (Parquet, a file
 * that cannot be read here: the reader reports that).
 */
export async function expectedRows(file: string, format: string): Promise<number> {
  if (format === 'parquet') return 0;
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const sample = Buffer.alloc(Math.min(SAMPLE_BYTES, size));
      const { bytesRead } = await handle.read(sample, 0, sample.length, 0);
      let lines = 0;
      for (let i = 0; i < bytesRead; i++) if (sample[i] === 10) lines++;
      if (lines === 0) return 0;
      return Math.ceil((size / (bytesRead / lines)) * 1.05);
    } finally {
      await handle.close();
    }
  } catch {
    return 0;
  }
}
