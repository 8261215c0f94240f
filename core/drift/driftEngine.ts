/**
 * The drift engine: reads two datasets through core/dataset, detects each column's type, chooses
 * and runs a test per column as Evidently's data-drift preset does, and builds the DriftReport.
 *
 * Types: a column whose non-missing values are all numbers is numerical, unless they are all
 * integers with at most 5 distinct reference values (Evidently's NUMBER_UNIQUE_AS_CATEGORICAL),
 * then categorical; a text column is categorical, datetime when its values parse as ISO dates, free
 * text when most values are distinct and long. Binary: at most 2 distinct values on both sides.
 * Missing cells are counted and left out of the tests.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { booleanOf, columnNamed, decimalOf, isNamedColumn, separatorHint, withColumns, expectedRows, fileBytes, fileDigests, FileDigests, fileSha256, openDataset, DatasetError, errorFromPosted, isMissingText, isNumberText, shownColumns, type ColumnRequest, type PostedError } from '../dataset/dataset';
import { DEFAULT_THRESHOLDS, isPValueTest, type DriftColumn, type DriftColumnType, type DriftReport, type DriftSideSummary, type DriftTestName } from './driftReport';
import * as S from './statistics';
import { workerScript } from '../threads/workerScript';

export interface DriftOptions {
  /** The test for every column (otherwise the default choice per column). */
  test?: DriftTestName;
  /** The threshold for every column (otherwise the test's default). */
  threshold?: number;
  /** Per-column tests, before `test`. */
  columnTests?: Readonly<Record<string, DriftTestName>>;
  /** Per-column thresholds, before `threshold`. */
  columnThresholds?: Readonly<Record<string, number>>;
  columns?: readonly string[];
  exclude?: readonly string[];
  driftShare?: number;
  /** Use a seeded uniform sample of this many rows per side (without replacement); every row otherwise. */
  sample?: number;
  /** The sample's seed (default 0): the same seed, file and N give the same rows. */
  seed?: number;
  /** Read and sort the two sides in two worker threads (default: when the files together exceed 16 MiB). */
  threads?: boolean;
  /**
   * Also each file's md5, from the same read as the report's sha256 (`reference_md5`,
   * `current_md5`): the digest a tracker run's dataset input carries (`--log`, drift watch).
   */
  md5?: boolean;
}

/** Mulberry32: a small seeded generator, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` distinct row indexes out of `rows`, uniformly (a partial Fisher–Yates shuffle), in file order. */
function sampleRows(rows: number, n: number, seed: number): Uint32Array {
  const index = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) index[i] = i;
  const random = seededRandom(seed);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (rows - i));
    const t = index[i]!;
    index[i] = index[j]!;
    index[j] = t;
  }
  return index.subarray(0, n).sort();
}

/**
 * A text column is kept as its distinct labels (every cell's text, missing ones included) in the
 * order they first appear, with a count each: the tests work on counts, so no cell is kept.
 */
type Column = { kind: 'number'; values: Float64Array } | { kind: 'text'; labels: readonly string[]; counts: number[] };

const BATCH = 65536;

interface Side {
  columns: Map<string, Column>;
  /** Rows used (the sample's size when sampled). */
  rows: number;
  /** Rows in the file. */
  read: number;
  sha256: string;
  /** Asked for (DriftOptions.md5): from the same read as the sha256. */
  md5?: string;
}

/**
 * The labels of one text column as they are read, in the order they first appear, with a count
 * each. A reader that codes the column (ColumnRequest.coded) numbers its texts in that same order,
 * so its codes are used as they are; otherwise each text is looked up here.
 */
class LabelTally {
  labels: readonly string[] = [];
  private readonly own: string[] = [];
  readonly counts: number[] = [];
  private readonly codes = new Map<string, number>();

  add(text: string): number {
    let code = this.codes.get(text);
    if (code === undefined) {
      code = this.own.length;
      this.codes.set(text, code);
      this.own.push(text);
      this.labels = this.own;
      this.counts.push(0);
    }
    this.counts[code]!++;
    return code;
  }

  /** Counts a batch of a reader's codes; `labels` is the reader's table of texts (a growing one). */
  addCodes(codes: Int32Array, rows: number, labels: readonly string[]): void {
    const counts = this.counts;
    while (counts.length < labels.length) counts.push(0);
    for (let i = 0; i < rows; i++) counts[codes[i]!]!++;
    this.labels = labels;
  }
}

async function readSide(file: string, display: string, names: readonly string[] | undefined, sample: number | undefined, seed: number, md5: boolean): Promise<Side> {
  const reader = await openDataset(file, display);
  const wanted = names ?? reader.columns;
  // Sniff the first rows as text to tell numeric columns from text ones; a column the file types as
  // text (a Parquet string) stays text, as pandas.read_parquet keeps it.
  const numeric = new Map<string, boolean>(wanted.map((n) => [n, !reader.textColumns?.has(n)]));
  for await (const batch of reader.batches(wanted.map((name) => ({ name, text: true })), 1000)) {
    wanted.forEach((n, i) => {
      if (batch.texts[i]!.some((t) => !isMissingText(t) && !isNumberText(t))) numeric.set(n, false);
    });
    break;
  }
  // A text cell further down makes the column text, as pandas' whole-column inference would: read again so.
  for (;;) {
    try {
      return await readSideAs(reader, file, display, wanted, numeric, sample, seed, md5);
    } catch (e) {
      const textIn = e instanceof Error && e.name === 'DatasetError' ? (e as DatasetError).textIn : undefined;
      if (textIn === undefined || !numeric.get(textIn)) throw e;
      numeric.set(textIn, false);
    }
  }
}

async function readSideAs(
  reader: Awaited<ReturnType<typeof openDataset>>,
  file: string,
  display: string,
  wanted: readonly string[],
  numeric: ReadonlyMap<string, boolean>,
  sample: number | undefined,
  seed: number,
  md5: boolean,
): Promise<Side> {
  const request: ColumnRequest[] = wanted.map((name) => (numeric.get(name) ? { name, missing: true } : { name, text: true, coded: true }));
  // Sized once from the file's size (the columns double if more rows come), filled batch by batch.
  const rowsExpected = Math.max(BATCH, await expectedRows(file, reader.format));
  const numbers: Float64Array[] = request.filter((r) => !r.text).map(() => new Float64Array(rowsExpected));
  const tallies: LabelTally[] = request.filter((r) => r.text).map(() => new LabelTally());
  // A sample picks rows after the count of rows is known: only then is each text cell's code kept.
  let codes: Int32Array[] = sample === undefined ? [] : tallies.map(() => new Int32Array(BATCH));
  let rows = 0;
  const hash = reader.hashesFile ? (md5 ? new FileDigests() : createHash('sha256')) : undefined;
  for await (const batch of reader.batches(request, BATCH, hash)) {
    if (numbers.length > 0 && rows + batch.rows > numbers[0]!.length) {
      for (let k = 0; k < numbers.length; k++) {
        const bigger = new Float64Array(Math.max(numbers[k]!.length * 2, rows + batch.rows));
        bigger.set(numbers[k]!.subarray(0, rows));
        numbers[k] = bigger;
      }
    }
    if (codes.length > 0 && rows + batch.rows > codes[0]!.length) {
      codes = codes.map((c) => {
        const bigger = new Int32Array(Math.max(c.length * 2, rows + batch.rows));
        bigger.set(c.subarray(0, rows));
        return bigger;
      });
    }
    batch.numbers.forEach((a, k) => numbers[k]!.set(a.subarray(0, batch.rows), rows));
    batch.texts.forEach((t, k) => {
      const tally = tallies[k]!;
      const kept = codes[k];
      const coded = batch.codes?.[k];
      if (coded) {
        tally.addCodes(coded, batch.rows, batch.labels![k]!);
        kept?.set(coded.subarray(0, batch.rows), rows);
      } else if (kept) for (let i = 0; i < batch.rows; i++) kept[rows + i] = tally.add(t[i]!);
      else for (let i = 0; i < batch.rows; i++) tally.add(t[i]!);
    });
    rows += batch.rows;
  }
  let digests: { sha256: string; md5?: string };
  if (hash instanceof FileDigests) digests = hash.digests();
  else if (hash) digests = { sha256: hash.digest('hex') };
  else digests = md5 ? await fileDigests(file) : { sha256: await fileSha256(file) };
  if (rows === 0) throw new DatasetError(`${display}: no data rows`);
  const picked = sample !== undefined && sample < rows ? sampleRows(rows, sample, seed) : undefined;
  const columns = new Map<string, Column>();
  let n = 0;
  let t = 0;
  for (const r of request) {
    if (r.text) {
      const tally = tallies[t]!;
      const kept = codes[t++];
      if (picked && kept) {
        const sampled = new LabelTally();
        for (const i of picked) sampled.add(tally.labels[kept[i]!]!);
        columns.set(r.name, { kind: 'text', labels: sampled.labels, counts: sampled.counts });
      } else columns.set(r.name, { kind: 'text', labels: tally.labels, counts: tally.counts });
    } else {
      const all = numbers[n++]!;
      columns.set(r.name, { kind: 'number', values: picked ? Float64Array.from(picked, (i) => all[i]!) : all.subarray(0, rows) });
    }
  }
  return { columns, rows: picked ? picked.length : rows, read: rows, ...digests };
}

/** The finite values (NaN is a missing cell; ±Infinity, as from a Parquet file, is left out as Evidently drops it): `values` itself when all are. */
function present(values: Float64Array): Float64Array {
  let i = 0;
  while (i < values.length && Number.isFinite(values[i]!)) i++;
  if (i === values.length) return values;
  const out = new Float64Array(values.length);
  out.set(values.subarray(0, i));
  let k = i;
  for (; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) out[k++] = v;
  }
  return out.subarray(0, k);
}

function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function numericSummary(sorted: Float64Array, count: number): DriftSideSummary {
  const n = sorted.length;
  // The sum for the mean and the count of distinct values in one pass over the sorted values.
  let mean = 0;
  let distinct = 0;
  let last = NaN;
  for (let i = 0; i < n; i++) {
    const x = sorted[i]!;
    mean += x;
    if (x !== last) distinct++;
    last = x;
  }
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = sorted[i]! - mean;
    ss += d * d;
  }
  return {
    count,
    missing: count - sorted.length,
    distinct,
    mean,
    std: Math.sqrt(ss / sorted.length),
    min: sorted[0],
    p25: quantile(sorted, 0.25),
    median: quantile(sorted, 0.5),
    p75: quantile(sorted, 0.75),
    max: sorted[sorted.length - 1],
  };
}

function allIntegers(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isInteger(values[i]!)) return false;
  return true;
}

/**
 * One side's column ready for the tests: a numeric column sorted ascending with its missing cells
 * left out (its summary when any value is present) beside its values in file order (the
 * categorical counts use them when the other side's column is text), a text column as labels with counts.
 */
export type PreparedColumn = { kind: 'number'; values: Float64Array; sorted: Float64Array; summary?: DriftSideSummary; integers: boolean } | { kind: 'text'; labels: readonly string[]; counts: number[] };

export interface PreparedSide {
  columns: Map<string, PreparedColumn>;
  rows: number;
  read: number;
  sha256: string;
  md5?: string;
}

/** What `prepareSide` needs: plain data, so that it can be sent to a worker thread. */
export interface SideRequest {
  file: string;
  display: string;
  names: readonly string[];
  sample: number | undefined;
  seed: number;
  md5: boolean;
}

/**
 * Reads one side and sorts and summarises its numeric columns (the work that does not need the
 * other side), telling `onColumn` about each column as soon as it is ready.
 */
export async function prepareSide(request: SideRequest, onColumn?: (name: string, column: PreparedColumn) => void): Promise<PreparedSide> {
  const side = await readSide(request.file, request.display, request.names, request.sample, request.seed, request.md5);
  const columns = new Map<string, PreparedColumn>();
  for (const [name, col] of side.columns) {
    let prepared: PreparedColumn;
    if (col.kind === 'number') {
      const sorted = S.sortFloat64(present(col.values));
      prepared = { kind: 'number', values: col.values, sorted, integers: allIntegers(sorted), ...(sorted.length > 0 ? { summary: numericSummary(sorted, side.rows) } : {}) };
    } else prepared = col;
    columns.set(name, prepared);
    onColumn?.(name, prepared);
  }
  return { columns, rows: side.rows, read: side.read, sha256: side.sha256, ...(side.md5 ? { md5: side.md5 } : {}) };
}

/** Both sides' files together above this many bytes are read in two worker threads, one per side. */
const THREADS_ABOVE_BYTES = 16 << 20;

/**
 * `prepareSide` in a worker thread, each column posted as soon as it is ready (its buffers
 * transferred, not copied); a DatasetError there is a DatasetError here.
 */
function prepareSideInWorker(request: SideRequest, onColumn: (name: string, column: PreparedColumn) => void): { side: Promise<PreparedSide>; stop: () => void } {
  const script = workerScript('drift/driftSideWorker.ts', "the drift reader's worker");
  const worker = new Worker(script.eval ? script.code : script.file, { eval: script.eval, workerData: request });
  const columns = new Map<string, PreparedColumn>();
  const side = new Promise<PreparedSide>((resolve, reject) => {
    let answered = false;
    worker.on('message', (m: SideWorkerAnswer) => {
      if ('column' in m) {
        columns.set(m.column, m.prepared);
        onColumn(m.column, m.prepared);
        return;
      }
      answered = true;
      if ('side' in m) resolve({ ...m.side, columns });
      else reject(errorFromPosted(m.error));
    });
    worker.once('error', (e) => {
      answered = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`the drift reader's worker thread for ${request.display} stopped (exit code ${code}) without an answer`));
    });
  });
  return { side, stop: () => void worker.terminate() };
}

/** What the worker thread posts: each column when it is ready, then the side (its columns left out), or the error. */
export type SideWorkerAnswer = { column: string; prepared: PreparedColumn } | { side: PreparedSide } | { error: PostedError };

/** The buffers of a prepared column, transferred when it is posted (a numeric column's values and sorted values). */
export function columnTransferList(column: PreparedColumn): ArrayBuffer[] {
  if (column.kind !== 'number') return [];
  const values = column.values.buffer as ArrayBuffer;
  const sorted = column.sorted.buffer as ArrayBuffer;
  return values === sorted ? [values] : [values, sorted];
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * A column's non-missing labels → count, in the order they first appear, and its missing cells.
 * Spellings pandas reads as one value are one label:
 * - a side whose every value is a boolean in pandas' spellings (True, TRUE, true, …) has the labels
 *   True and False, so a CSV of True/False and a JSON Lines file of true/false agree;
 * - with `numbers` (the other side's column is numeric), a text that is a decimal is labelled as the
 *   number it is (`3.0` is 3, as a numeric side labels it).
 */
function labelCounts(col: Column | PreparedColumn, numbers = false): { counts: Map<string, number>; missing: number } {
  const counts = new Map<string, number>();
  let missing = 0;
  if (col.kind === 'number') {
    for (const v of col.values) {
      const label = Number.isFinite(v) ? String(v) : '';
      if (isMissingText(label)) missing++;
      else counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    return { counts, missing };
  }
  const present = col.labels.map((label, code) => ({ label, n: col.counts[code]! })).filter(({ label, n }) => {
    if (!isMissingText(label)) return true;
    missing += n;
    return false;
  });
  const booleans = present.length > 0 && present.every(({ label }) => booleanOf(label.trim()) !== undefined);
  for (const { label, n } of present) {
    let key = label;
    if (booleans) key = booleanOf(label.trim()) ? 'True' : 'False';
    else if (numbers && isNumberText(label)) key = String(decimalOf(label.trim()));
    counts.set(key, (counts.get(key) ?? 0) + n);
  }
  return { counts, missing };
}

/** A column with no value on one side (or both): reported as not checked, and the others are checked (Evidently raises on an empty column). */
function allMissingColumn(name: string, type: DriftColumnType, sides: string[], reference: DriftSideSummary, current: DriftSideSummary): DriftColumn {
  return { name, type, test: null, score: null, threshold: null, drifted: false, skipped: `every cell is missing in ${sides.join(' and ')}`, reference, current };
}

/** Computes the drift report of `current` against `reference`. */
export async function computeDrift(referenceFile: string, currentFile: string, options: DriftOptions = {}, display: { reference?: string; current?: string } = {}): Promise<DriftReport> {
  const refName = display.reference ?? referenceFile;
  const curName = display.current ?? currentFile;
  const refHead = await openDataset(referenceFile, refName);
  const curHead = await openDataset(currentFile, curName);
  // A JSON Lines side names its columns from its first rows: with none asked for, every key of its
  // file is read (a column that starts after the first rows is compared too); the asked-for ones
  // (or the other side's) are looked for further down.
  if (!options.columns) for (const head of [refHead, curHead]) await head.everyColumn?.();
  await withColumns(refHead, options.columns ?? curHead.columns);
  await withColumns(curHead, options.columns ?? refHead.columns);
  // A ;-separated file reads as one column, which would be "free text, not checked": no drift, silently.
  for (const [head, name] of [[refHead, refName], [curHead, curName]] as const) {
    const hint = head.format === 'csv' ? separatorHint(head.columns) : undefined;
    if (hint) throw new DatasetError(`${name}: one column, '${head.columns[0]}': ${hint}`);
  }
  const named = (name: string) => columnNamed(refHead.columns, name);
  if (options.columns) options = { ...options, columns: options.columns.map(named) };
  if (options.exclude) options = { ...options, exclude: options.exclude.map(named) };
  // A column with no name (pandas' index, a spreadsheet's empty columns) is not data.
  const refColumns = refHead.columns.filter(isNamedColumn);
  const curColumns = curHead.columns.filter(isNamedColumn);
  const indexLeftOut = refColumns.length < refHead.columns.length || curColumns.length < curHead.columns.length;
  const missingInCur = refColumns.filter((c) => !curColumns.includes(c));
  const missingInRef = curColumns.filter((c) => !refColumns.includes(c));
  let names = refColumns.filter((c) => curColumns.includes(c));
  if (options.columns) {
    for (const c of options.columns) if (!names.includes(c)) throw new DatasetError(`--columns: no column '${c}' in both files (the shared columns are: ${shownColumns(names)})`);
    names = [...options.columns];
  } else if (missingInCur.length || missingInRef.length) {
    throw new DatasetError(
      `the columns differ: ${missingInCur.length ? `${curName} lacks ${shownColumns(missingInCur)}` : ''}${missingInCur.length && missingInRef.length ? '; ' : ''}${missingInRef.length ? `${refName} lacks ${shownColumns(missingInRef)}` : ''} (choose the shared ones with --columns)`,
    );
  }
  if (options.exclude) names = names.filter((c) => !options.exclude!.includes(c));
  if (names.length === 0) throw new DatasetError('no columns left to compare');
  if (options.sample !== undefined && !(Number.isInteger(options.sample) && options.sample >= 1)) throw new DatasetError(`the sample size must be a whole number of rows, at least 1 (got ${options.sample})`);
  const seed = options.seed ?? 0;
  const md5 = options.md5 === true;
  const refRequest: SideRequest = { file: referenceFile, display: refName, names, sample: options.sample, seed, md5 };
  const curRequest: SideRequest = { file: currentFile, display: curName, names, sample: options.sample, seed, md5 };
  const threads = options.threads ?? (await fileBytes(referenceFile)) + (await fileBytes(currentFile)) > THREADS_ABOVE_BYTES;
  let ref: PreparedSide;
  let cur: PreparedSide;
  // KS, Wasserstein and energy from one merge pass, computed as soon as both sides of a column
  // are sorted (while the worker threads sort the next columns).
  const passes = new Map<string, S.SortedPassResult>();
  if (threads) {
    const refColumns = new Map<string, PreparedColumn>();
    const curColumns = new Map<string, PreparedColumn>();
    const arrived = (side: Map<string, PreparedColumn>) => (name: string, column: PreparedColumn) => {
      side.set(name, column);
      const r = refColumns.get(name);
      const c = curColumns.get(name);
      if (r?.kind === 'number' && c?.kind === 'number' && r.sorted.length > 0 && c.sorted.length > 0) passes.set(name, S.sortedPass(r.sorted, c.sorted));
    };
    // Both sides at once; the reference's error first when both fail, as when read one after the other.
    const refThread = prepareSideInWorker(refRequest, arrived(refColumns));
    const curThread = prepareSideInWorker(curRequest, arrived(curColumns));
    void curThread.side.catch(() => undefined);
    try {
      ref = await refThread.side;
    } catch (e) {
      curThread.stop();
      throw e;
    }
    cur = await curThread.side;
  } else {
    ref = await prepareSide(refRequest);
    cur = await prepareSide(curRequest);
  }
  const columns: DriftColumn[] = [];
  for (const name of names) columns.push(compareColumn(name, ref.columns.get(name)!, cur.columns.get(name)!, ref.rows, cur.rows, options, refName, curName, passes.get(name)));
  const checked = columns.filter((c) => c.test !== null);
  const nDrifted = checked.filter((c) => c.drifted).length;
  const share = checked.length ? nDrifted / checked.length : 0;
  const threshold = options.driftShare ?? 0.5;
  return {
    dataset_drift: checked.length > 0 && share >= threshold,
    drift_share: share,
    n_drifted: nDrifted,
    n_columns: checked.length,
    columns,
    drift_share_threshold: threshold,
    reference_file: refName,
    current_file: curName,
    reference_sha256: ref.sha256,
    current_sha256: cur.sha256,
    ...(ref.md5 && cur.md5 ? { reference_md5: ref.md5, current_md5: cur.md5 } : {}),
    rows: { reference: { read: ref.read, used: ref.rows }, current: { read: cur.read, used: cur.rows } },
    ...(indexLeftOut ? { index_left_out: true } : {}),
    ...(options.sample !== undefined ? { sample: { rows: options.sample, reference_rows: ref.read, current_rows: cur.read, seed } } : {}),
  };
}

function compareColumn(name: string, r: PreparedColumn, c: PreparedColumn, refRows: number, curRows: number, options: DriftOptions, refName: string, curName: string, pass?: S.SortedPassResult): DriftColumn {
  if (r.kind === 'number' && c.kind === 'number') {
    const a = r.sorted;
    const b = c.sorted;
    if (!r.summary || !c.summary) {
      const empty = (col: typeof r): DriftSideSummary => col.summary ?? { count: col.values.length, missing: col.values.length, distinct: 0 };
      return allMissingColumn(name, 'numerical', [...(r.summary ? [] : [refName]), ...(c.summary ? [] : [curName])], empty(r), empty(c));
    }
    const reference = { ...r.summary };
    const current = { ...c.summary };
    const type: DriftColumnType = r.integers && c.integers && reference.distinct! <= 5 ? 'categorical' : 'numerical';
    return numericColumn(name, type, a, b, reference, current, options, pass);
  }
  const rc = labelCounts(r, c.kind === 'number');
  const cc = labelCounts(c, r.kind === 'number');
  if (rc.counts.size === 0 || cc.counts.size === 0) {
    const empty = (m: { counts: Map<string, number>; missing: number }, rows: number): DriftSideSummary => ({ count: rows, missing: m.missing, distinct: m.counts.size });
    return allMissingColumn(name, 'categorical', [...(rc.counts.size ? [] : [refName]), ...(cc.counts.size ? [] : [curName])], empty(rc, refRows), empty(cc, curRows));
  }
  const labels = [...new Set([...rc.counts.keys(), ...cc.counts.keys()])].sort();
  const top = (m: Map<string, number>) => [...m.entries()].sort((x, y) => y[1] - x[1])[0]![0];
  const side = (m: { counts: Map<string, number>; missing: number }, rows: number): DriftSideSummary => ({
    count: rows,
    missing: m.missing,
    distinct: m.counts.size,
    top: top(m.counts),
    histogram: { kind: 'categorical', labels, counts: labels.map((l) => m.counts.get(l) ?? 0) },
  });
  const reference = side(rc, refRows);
  const current = side(cc, curRows);
  const sample = [...rc.counts.keys()].slice(0, 200);
  if (sample.every((v) => ISO_DATE.test(v.trim()))) return { name, type: 'datetime', test: null, score: null, threshold: null, drifted: false, skipped: 'datetime columns are not checked', reference, current };
  const meanLength = sample.reduce((s, v) => s + v.length, 0) / sample.length;
  if (rc.counts.size > 0.5 * (refRows - rc.missing) && rc.counts.size > 50 && meanLength > 20) return { name, type: 'text', test: null, score: null, threshold: null, drifted: false, skipped: 'free text is not checked (most values are distinct)', reference, current };
  const type: DriftColumnType = labels.length <= 2 ? 'binary' : 'categorical';
  const refCounts = reference.histogram!.counts;
  const curCounts = current.histogram!.counts;
  const nRef = refRows - rc.missing;
  const test: DriftTestName = options.columnTests?.[name] ?? options.test ?? (nRef <= 1000 ? (labels.length > 2 ? 'chisquare' : 'z') : 'jensenshannon');
  const score = categoricalScore(test, refCounts, curCounts, name);
  return verdict(name, type, test, score, options, reference, current);
}

function categoricalScore(test: DriftTestName, ref: number[], cur: number[], name: string): number {
  const nr = ref.reduce((a, b) => a + b, 0);
  const nc = cur.reduce((a, b) => a + b, 0);
  const rs = Float64Array.from(ref, (x) => x / nr);
  const cs = Float64Array.from(cur, (x) => x / nc);
  switch (test) {
    case 'chisquare':
      return S.evidentlyChiSquare(ref, cur);
    case 'z':
      return S.evidentlyZ(ref, cur);
    case 'jensenshannon':
      return S.jensenShannon(rs, cs);
    case 'psi':
      return S.psi(S.fillEmptyBins(rs), S.fillEmptyBins(cs));
    case 'kl_div':
      return S.klDivergence(S.fillEmptyBins(rs), S.fillEmptyBins(cs));
    case 'hellinger':
      return S.hellingerFromShares(rs, cs);
    case 'tvd':
      return S.totalVariation(rs, cs);
    default:
      throw new DatasetError(`column '${name}': the test '${test}' needs numbers (this column is categorical)`);
  }
}

/** `computed`: the merge pass of `a` and `b` when it was already made. */
function numericColumn(name: string, type: DriftColumnType, a: Float64Array, b: Float64Array, reference: DriftSideSummary, current: DriftSideSummary, options: DriftOptions, computed?: S.SortedPassResult): DriftColumn {
  const min = Math.min(a[0]!, b[0]!);
  const max = Math.max(a[a.length - 1]!, b[b.length - 1]!);
  const edges = S.sturgesEdges(min, max, a.length + b.length);
  const rh = S.histogramCounts(a, edges);
  const ch = S.histogramCounts(b, edges);
  reference.histogram = { kind: 'numeric', edges: Array.from(edges), counts: Array.from(rh) };
  current.histogram = { kind: 'numeric', edges: Array.from(edges), counts: Array.from(ch) };
  // Only whether there are at most 5 distinct values matters: stop counting after 6.
  const nValues = distinctUnion(a, b, 6);
  let test: DriftTestName;
  const chosen = options.columnTests?.[name] ?? options.test;
  if (chosen) test = chosen;
  // Evidently's default per type (get_default_stattest): a categorical column (integers with at
  // most 5 distinct reference values) by the categorical rule, whatever the current side adds.
  else if (type === 'categorical') test = a.length <= 1000 ? (nValues > 2 ? 'chisquare' : 'z') : 'jensenshannon';
  else if (a.length <= 1000) test = nValues <= 5 ? (nValues > 2 ? 'chisquare' : 'z') : 'ks';
  else test = nValues <= 5 ? 'jensenshannon' : 'wasserstein';
  let score: number;
  const pass = () => computed ?? S.sortedPass(a, b);
  // Evidently bins by value below 21 distinct reference values, by Sturges bins above.
  const binned = (): [Float64Array, Float64Array] => {
    if (reference.distinct > 20 && type === 'numerical') return [rh.map((x) => x / a.length), ch.map((x) => x / b.length)];
    const [rc, cc] = valueCounts(a, b);
    return [rc.map((x) => x / a.length), cc.map((x) => x / b.length)];
  };
  switch (test) {
    case 'ks':
      score = S.ksPValue(pass().ks, a.length, b.length).p;
      break;
    case 'wasserstein':
      score = pass().wasserstein / Math.max(reference.std!, 0.001);
      break;
    case 'energy':
      score = pass().energy;
      break;
    case 'mannwhitney':
      score = S.mannWhitneyPValue(a, b);
      break;
    case 'chisquare':
    case 'z': {
      const [rc, cc] = valueCounts(a, b);
      score = test === 'z' ? S.evidentlyZ(rc, cc) : S.evidentlyChiSquare(rc, cc);
      break;
    }
    case 'jensenshannon':
      score = S.jensenShannon(...binned());
      break;
    case 'psi':
    case 'kl_div': {
      const [r, c] = binned();
      score = test === 'psi' ? S.psi(S.fillEmptyBins(r), S.fillEmptyBins(c)) : S.klDivergence(S.fillEmptyBins(r), S.fillEmptyBins(c));
      break;
    }
    case 'hellinger': {
      // Evidently's numerical form: Sturges bins over the distinct values of both sides (not over
      // every value), whatever their count; a categorical column by its values.
      if (type === 'numerical') {
        const keyEdges = S.sturgesEdges(min, max, distinctUnion(a, b, Infinity));
        score = S.hellingerFromShares(
          S.histogramCounts(a, keyEdges).map((x) => x / a.length),
          S.histogramCounts(b, keyEdges).map((x) => x / b.length),
        );
      } else score = S.hellingerFromShares(...binned());
      break;
    }
    case 'tvd': {
      const [r, c] = binned();
      score = S.totalVariation(r, c);
      break;
    }
  }
  return verdict(name, type, test, score, options, reference, current);
}

/** How many distinct values two sorted samples hold together, counting no further than `limit`. */
function distinctUnion(a: Float64Array, b: Float64Array, limit: number): number {
  let i = 0;
  let j = 0;
  let d = 0;
  while ((i < a.length || j < b.length) && d < limit) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    while (i < a.length && a[i] === x) i++;
    while (j < b.length && b[j] === x) j++;
    d++;
  }
  return d;
}

/** Counts per distinct value on both sides, aligned on the union of values (both sorted). */
function valueCounts(a: Float64Array, b: Float64Array): [Float64Array, Float64Array] {
  const rc: number[] = [];
  const cc: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    let ca = 0;
    let cb = 0;
    while (i < a.length && a[i] === x) {
      i++;
      ca++;
    }
    while (j < b.length && b[j] === x) {
      j++;
      cb++;
    }
    rc.push(ca);
    cc.push(cb);
  }
  return [Float64Array.from(rc), Float64Array.from(cc)];
}

function verdict(name: string, type: DriftColumnType, test: DriftTestName, score: number, options: DriftOptions, reference: DriftSideSummary, current: DriftSideSummary): DriftColumn {
  const threshold = options.columnThresholds?.[name] ?? options.threshold ?? DEFAULT_THRESHOLDS[test];
  // Evidently's comparison per test: ks drifts at p ≤ threshold, the other p-values below it;
  // energy above its threshold, the other distances at or above it.
  const drifted = test === 'ks' ? score <= threshold : test === 'energy' ? score > threshold : isPValueTest(test) ? score < threshold : score >= threshold;
  return { name, type, test, score, threshold, drifted, reference, current };
}
