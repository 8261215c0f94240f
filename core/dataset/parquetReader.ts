/**
 * Parquet in batches through hyparquet (pure JavaScript, MIT; an ES module, imported on first use)
 * with hyparquet-compressors for the codecs writers use besides Snappy (polars writes ZSTD by
 * default; GZIP, BROTLI, LZ4 and LZ4_RAW are options of pyarrow, Spark and DuckDB).
 *
 * Each row group is decoded once, only the requested columns (small consecutive groups together),
 * and cut into batches: asking for each batch's row range instead decoded the whole group again per
 * batch, and pyarrow's default group is a million rows. Errors name the 1-based row.
 *
 * Values: numbers and 64-bit integers as numbers, a BOOLEAN as 1 or 0 in a numeric column and as
 * `True`/`False` (pandas' spelling, as its CSV writes a bool column) in a text one; a DATE,
 * TIMESTAMP or TIME as the text pandas prints for the value pyarrow gives it (dateText, timeText); a null is an
 * error in a numeric column (NaN where missing cells are allowed) and empty text in a text column.
 */
import { checkPages } from './parquetPages';
import { DatasetError, NULL_CELL, cellText, checkColumns, emptyBatch, numberFromText, trimBatch, type ColumnRequest, type DatasetBatch, type DatasetReader } from './dataset';

type Hyparquet = typeof import('hyparquet');
type Metadata = Awaited<ReturnType<Hyparquet['parquetMetadataAsync']>>;
type AsyncBuffer = Awaited<ReturnType<Hyparquet['asyncBufferFromFile']>>;
/** A column's decoded values over one row group. */
type Values = ArrayLike<unknown>;

export async function openParquet(file: string, displayName = file): Promise<DatasetReader> {
  const hyparquet = await import('hyparquet');
  let asyncBuffer: AsyncBuffer;
  let metadata: Metadata;
  try {
    asyncBuffer = await hyparquet.asyncBufferFromFile(file);
  } catch (e) {
    throw new DatasetError(`${displayName}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  // What the library's errors would leave unclear, said first: an empty file, no Parquet at either end.
  const size = asyncBuffer.byteLength;
  if (size === 0) throw new DatasetError(`${displayName}: an empty file, not Parquet`);
  const magic = async (at: number) => Buffer.from(await asyncBuffer.slice(at, at + 4)).toString('latin1') === 'PAR1';
  if (size < 12 || !(await magic(0))) throw new DatasetError(`${displayName}: not a Parquet file (it does not start with Parquet's 'PAR1')`);
  if (!(await magic(size - 4))) throw new DatasetError(`${displayName}: a Parquet file cut short (no 'PAR1' at its end: the footer that describes its columns is missing)`);
  try {
    metadata = await hyparquet.parquetMetadataAsync(asyncBuffer);
  } catch (e) {
    throw new DatasetError(`${displayName}: a Parquet file whose footer (the metadata that describes its columns) is damaged (${(e as Error).message})`);
  }
  const schema = hyparquet.parquetSchema(metadata).children;
  // The index pandas' to_parquet stores (`__index_level_0__` after a filter or a shuffle, or a named
  // one) is the DataFrame's index to pd.read_parquet, not a column: not a feature, not compared.
  const index = pandasIndexColumns(metadata);
  const columns = schema.map((c) => c.element.name).filter((name) => !index.has(name));
  // DECIMAL columns: read unscaled and converted here, correctly rounded (see decimalValues).
  const decimals = new Map(schema.filter((c) => c.element.converted_type === 'DECIMAL' && c.children.length === 0).map((c) => [c.element.name, c.element.scale ?? 0]));
  // Strings (UTF8/STRING, ENUM, JSON, or a BYTE_ARRAY with no annotation, as pandas reads bytes):
  // text to pandas. A DECIMAL stored as bytes is a number: hyparquet decodes one by its
  // converted_type (with the logical type alone it stays bytes, read as text).
  const textColumns = new Set(
    schema.filter((c) => c.element.type === 'BYTE_ARRAY' && c.element.converted_type !== 'DECIMAL').map((c) => c.element.name),
  );
  // TIME columns: hyparquet gives their integers; pandas a datetime.time (see timeText).
  const times = new Map(schema.flatMap((c) => {
    const unit = timeUnit(c.element);
    return unit && c.children.length === 0 ? [[c.element.name, unit] as const] : [];
  }));
  // TIMESTAMP columns pyarrow reads with a time zone: the one pandas stored for a tz-aware column
  // (its `pandas` metadata), else UTC for a logical type adjusted to UTC (a legacy converted type
  // alone is local time to it). pandas prints their values in that zone, with its offset.
  const storedZones = pandasTimeZones(metadata);
  const timeZones = new Map(
    schema
      .filter((c) => c.element.logical_type?.type === 'TIMESTAMP' && c.element.logical_type.isAdjustedToUTC)
      .map((c) => [c.element.name, storedZones.get(c.element.name) ?? 'UTC'] as const),
  );
  const total = Number(metadata.num_rows);
  if (total === 0) throw new DatasetError(`${displayName}: the file has no rows`);
  return {
    file: displayName,
    format: 'parquet',
    columns,
    hashesFile: false,
    rows: total,
    textColumns,
    async *batches(request: readonly ColumnRequest[], batchSize: number): AsyncIterable<DatasetBatch> {
      checkColumns(displayName, columns, request, 'parquet');
      const { compressors } = await import('hyparquet-compressors');
      const names = [...new Set(request.map((r) => r.name))];
      let batch = emptyBatch(request, batchSize);
      let groupStart = 0;
      for (const groupRows of readSpans(metadata.row_groups.map((g) => Number(g.num_rows)), batchSize)) {
        const values = await readGroup(hyparquet, { file: asyncBuffer, metadata, compressors }, names, groupStart, groupRows, displayName, { decimals, times, timeZones });
        const requested = request.map((r) => values.get(r.name)!);
        for (let at = 0; at < groupRows; ) {
          const take = Math.min(batchSize - batch.rows, groupRows - at);
          fill(batch, request, requested, at, take, groupStart, displayName);
          at += take;
          if (batch.rows === batchSize) {
            yield batch;
            batch = emptyBatch(request, batchSize);
          }
        }
        groupStart += groupRows;
      }
      if (batch.rows > 0) yield trimBatch(batch);
    },
  };
}

/**
 * The row counts to read at a time: whole row groups, consecutive ones together until they hold a
 * batch (each read plans over every group of the file, so a file of thousands of small groups read
 * one group at a time took quadratic time).
 */
export function readSpans(groupRows: readonly number[], batchSize: number): number[] {
  const spans: number[] = [];
  let span = 0;
  for (const rows of groupRows) {
    span += rows;
    if (span >= batchSize) {
      spans.push(span);
      span = 0;
    }
  }
  if (span > 0) spans.push(span);
  return spans;
}

/**
 * The columns pandas' to_parquet stored as the DataFrame's index: the names its `pandas` metadata
 * lists in `index_columns` (a RangeIndex is stored as a description there, not as a column).
 */
export function pandasIndexColumns(metadata: KeyValueMetadata): Set<string> {
  const index = pandasMetadata(metadata)?.index_columns;
  return new Set(Array.isArray(index) ? index.filter((c): c is string => typeof c === 'string') : []);
}

type KeyValueMetadata = { key_value_metadata?: { key: string; value?: string }[] };

/** The `pandas` metadata pandas' to_parquet stores (JSON), undefined when the file has none that reads. */
function pandasMetadata(metadata: KeyValueMetadata): Record<string, unknown> | undefined {
  const pandas = metadata.key_value_metadata?.find((kv) => kv.key === 'pandas')?.value;
  if (!pandas) return undefined;
  try {
    const parsed = JSON.parse(pandas) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

type Source = { file: AsyncBuffer; metadata: Metadata; compressors: NonNullable<Parameters<Hyparquet['parquetRead']>[0]['compressors']> };

/** Columns whose values are converted after hyparquet decodes them. */
interface Conversions {
  /** DECIMAL columns and their scale. */
  decimals: ReadonlyMap<string, number>;
  /** TIME columns and their unit. */
  times: ReadonlyMap<string, TimeUnit>;
  /** TIMESTAMP columns read in a time zone, and the zone. */
  timeZones: ReadonlyMap<string, string>;
}

/**
 * hyparquet's date and time parsers, keeping what pandas shows: a TIMESTAMP's (or INT96's)
 * nanoseconds, which hyparquet's Date would cut to milliseconds, and a DATE as a calendar day.
 */
const PARSERS = {
  timestampFromMilliseconds: (millis: bigint) => new Instant(BigInt(millis) * 1_000_000n),
  timestampFromMicroseconds: (micros: bigint) => new Instant(BigInt(micros) * 1000n),
  timestampFromNanoseconds: (nanos: bigint) => new Instant(BigInt(nanos)),
  dateFromDays: (days: number) => new CalendarDay(days * 86_400_000),
};

/** The named columns of rows [start, start + rows) (whole row groups), each as one array-like. */
async function readGroup(hyparquet: Hyparquet, source: Source, names: readonly string[], start: number, rows: number, displayName: string, conversions: Conversions): Promise<Map<string, Values>> {
  const { decimals, times, timeZones } = conversions;
  const chunks = new Map<string, { rowStart: number; data: Values }[]>(names.map((n) => [n, []]));
  const read = (columns: readonly string[], from: Source, utf8: boolean) =>
    hyparquet.parquetRead({
      ...from,
      utf8,
      parsers: PARSERS,
      columns: [...columns],
      rowStart: start,
      rowEnd: start + rows,
      onChunk: (chunk) => chunks.get(chunk.columnName)?.push({ rowStart: chunk.rowStart, data: chunk.columnData as Values }),
    });
  // Checked first (parquetPages.ts): hyparquet trusts a damaged page's counts to the process's end.
  await checkPages(source, names, start, rows, displayName);
  const decimal = names.filter((n) => decimals.has(n));
  const other = names.filter((n) => !decimals.has(n));
  try {
    if (other.length > 0) await read(other, source, true);
    // DECIMAL columns as their unscaled integers (no converted type, bytes left as bytes).
    if (decimal.length > 0) await read(decimal, { ...source, metadata: unscaledDecimals(source.metadata, decimal) }, false);
  } catch (e) {
    throw new DatasetError(`${displayName}: rows ${start + 1}–${start + rows} could not be read (${(e as Error).message}): the file is damaged there`);
  }
  for (const name of decimal) for (const part of chunks.get(name)!) part.data = decimalValues(part.data, decimals.get(name)!);
  for (const name of names) {
    const unit = times.get(name);
    if (unit) for (const part of chunks.get(name)!) part.data = Array.from(part.data, (v) => (v === null || v === undefined ? v : timeText(v as number | bigint, unit)));
    const zone = timeZones.get(name);
    if (zone !== undefined) for (const part of chunks.get(name)!) for (let i = 0; i < part.data.length; i++) { const v = part.data[i]; if (v instanceof Instant) v.zone = zone; }
  }
  const values = new Map<string, Values>();
  for (const [name, parts] of chunks) {
    const whole = parts.length === 1 && parts[0]!.rowStart === start && parts[0]!.data.length >= rows ? parts[0]!.data : undefined;
    if (whole) {
      values.set(name, whole);
      continue;
    }
    // Pages delivered apart (or overlapping the group's edges): copied into place by row.
    const joined = new Array<unknown>(rows);
    let filled = 0;
    for (const { rowStart, data } of parts) {
      const from = Math.max(start, rowStart);
      const to = Math.min(start + rows, rowStart + data.length);
      for (let r = from; r < to; r++) joined[r - start] = data[r - rowStart];
      filled += Math.max(0, to - from);
    }
    if (filled < rows) throw new DatasetError(`${displayName}: column '${name}' has ${filled} values in rows ${start + 1}–${start + rows} (expected ${rows})`);
    values.set(name, joined);
  }
  return values;
}

/** The file's metadata with the named top-level DECIMAL columns described as their physical type alone. */
function unscaledDecimals(metadata: Metadata, names: readonly string[]): Metadata {
  const wanted = new Set(names);
  return { ...metadata, schema: metadata.schema.map((el) => (el.converted_type === 'DECIMAL' && wanted.has(el.name) ? { ...el, converted_type: undefined, logical_type: undefined } : el)) };
}

const EXACT = 2 ** 53;
const EXACT_BIG = BigInt(EXACT);

/**
 * DECIMAL values from their unscaled integers (an INT32 or INT64, or big-endian two's complement
 * bytes), each the double nearest the decimal, as `float(Decimal)` gives it to scikit-learn from
 * the Decimal objects pandas reads: one division while the integer is exact as a double and 10^scale
 * is too, else through the decimal's text (hyparquet's own conversion rounds twice past 2^53).
 */
export function decimalValues(raw: Values, scale: number): unknown[] {
  const out = new Array<unknown>(raw.length);
  const factor = 10 ** scale;
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i];
    if (v === null || v === undefined) {
      out[i] = v;
      continue;
    }
    const unscaled = v instanceof Uint8Array ? twosComplement(v) : typeof v === 'bigint' ? v : typeof v === 'number' ? v : undefined;
    if (unscaled === undefined) out[i] = v;
    else if (typeof unscaled === 'number' && Math.abs(unscaled) <= EXACT && scale <= 22) out[i] = unscaled / factor;
    else if (typeof unscaled === 'bigint' && unscaled <= EXACT_BIG && unscaled >= -EXACT_BIG && scale <= 22) out[i] = Number(unscaled) / factor;
    else out[i] = Number(`${unscaled}e-${scale}`);
  }
  return out;
}

/** A big-endian two's complement integer. */
function twosComplement(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  if (bytes.length > 0 && bytes[0]! & 0x80) value -= 1n << BigInt(bytes.length * 8);
  return value;
}

/** Appends rows [at, at + take) of a group's columns to the batch. */
function fill(batch: DatasetBatch, request: readonly ColumnRequest[], values: readonly Values[], at: number, take: number, groupStart: number, displayName: string): void {
  const offset = batch.rows;
  let n = 0;
  let t = 0;
  request.forEach((r, k) => {
    const column = values[k]!;
    if (r.text) {
      const into = batch.texts[t++]!;
      for (let i = 0; i < take; i++) {
        const v = column[at + i];
        into[offset + i] = r.nulls && (v === null || v === undefined) ? NULL_CELL : v instanceof Date ? dateText(v) : cellText(v);
      }
      return;
    }
    const into = batch.numbers[n++]!;
    for (let i = 0; i < take; i++) {
      const v = column[at + i];
      if (typeof v === 'number' && Number.isFinite(v)) into[offset + i] = v;
      else into[offset + i] = numberOf(v, r, `${displayName} row ${groupStart + at + i + 1}`);
    }
  });
  batch.rows += take;
}

/** A numeric cell that is not a finite number already. */
function numberOf(v: unknown, r: ColumnRequest, where: string): number {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') {
    if (r.missing) return NaN;
    throw new DatasetError(`${where}: column '${r.name}' is ${v} (expected a finite number)`);
  }
  if (v === null || v === undefined) {
    if (r.missing) return NaN;
    throw new DatasetError(`${where}: column '${r.name}' is null (expected a number)`);
  }
  if (typeof v === 'string') return numberFromText(v, where, r.name, r.missing, false);
  // A date or a nested value: where missing cells are allowed (drift), the column is then text.
  const what = v instanceof Date ? 'a date' : typeof v === 'object' ? 'a nested value' : typeof v;
  throw new DatasetError(`${where}: column '${r.name}' is ${what} (expected a number)`, r.missing ? r.name : undefined);
}

/** A TIMESTAMP or INT96 value to its nanosecond (a Date for what only needs a date). */
class Instant extends Date {
  /** The time zone pandas reads it in (an IANA name, `UTC` or an offset such as `+01:00`); none for a naive timestamp. */
  zone: string | undefined = undefined;
  constructor(readonly nanos: bigint) {
    const millis = nanos / 1_000_000n - (nanos % 1_000_000n < 0n ? 1n : 0n);
    super(Number(millis));
  }
}

/** A DATE: a calendar day, no time. */
class CalendarDay extends Date {}

type TimeUnit = 'MILLIS' | 'MICROS' | 'NANOS';

/** The unit of a TIME column (logical type, or the legacy TIME_MILLIS / TIME_MICROS), else undefined. */
function timeUnit(element: Metadata['schema'][number]): TimeUnit | undefined {
  if (element.logical_type?.type === 'TIME') return element.logical_type.unit;
  if (element.converted_type === 'TIME_MILLIS') return 'MILLIS';
  if (element.converted_type === 'TIME_MICROS') return 'MICROS';
  return undefined;
}

/** The time zone of each tz-aware column pandas' to_parquet stored (`pandas` metadata: `datetimetz`, `metadata.timezone`). */
export function pandasTimeZones(metadata: KeyValueMetadata): Map<string, string> {
  const zones = new Map<string, string>();
  const columns = pandasMetadata(metadata)?.columns;
  for (const c of Array.isArray(columns) ? (columns as (Record<string, unknown> | null)[]) : []) {
    const zone = (c?.metadata as { timezone?: unknown } | null | undefined)?.timezone;
    const name = typeof c?.field_name === 'string' ? c.field_name : c?.name;
    if (c?.pandas_type === 'datetimetz' && typeof zone === 'string' && typeof name === 'string') zones.set(name, zone);
  }
  return zones;
}

const pad = (n: number | bigint, width: number) => String(n).padStart(width, '0');
const DAY_MS = 86_400_000;

/** The last day written, as text: a column of timestamps mostly repeats its days. */
let lastDay = NaN;
let lastDayText = '';
function dayText(day: number): string {
  if (day !== lastDay) {
    const d = new Date(day * DAY_MS);
    lastDayText = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
    lastDay = day;
  }
  return lastDayText;
}

/** Wall-clock milliseconds and offset (`+01:00`) of an instant in a time zone; undefined for a zone the runtime does not know. */
function inZone(millis: number, zone: string): { wall: number; offset: string } | undefined {
  const fixed = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (fixed) {
    const minutes = (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3]));
    return { wall: millis + minutes * 60_000, offset: `${fixed[1]}${fixed[2]}:${fixed[3]}` };
  }
  if (zone === 'UTC' || zone === 'Etc/UTC' || zone === 'GMT') return { wall: millis, offset: '+00:00' };
  let format = zoneFormats.get(zone);
  if (format === undefined) {
    try {
      format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    } catch {
      format = null;
    }
    zoneFormats.set(zone, format);
  }
  if (format === null) return undefined;
  const part: Record<string, number> = {};
  for (const p of format.formatToParts(new Date(millis))) if (p.type !== 'literal') part[p.type] = Number(p.value);
  const wall = Date.UTC(part.year!, part.month! - 1, part.day!, part.hour!, part.minute!, part.second!) + (((millis % 1000) + 1000) % 1000);
  const minutes = Math.round((wall - millis) / 60_000);
  const sign = minutes < 0 ? '-' : '+';
  return { wall, offset: `${sign}${pad(Math.floor(Math.abs(minutes) / 60), 2)}:${pad(Math.abs(minutes) % 60, 2)}` };
}
const zoneFormats = new Map<string, Intl.DateTimeFormat | null>();

/**
 * A date or timestamp cell as pandas prints it: a DATE as `datetime.date` (`2020-01-01`), a
 * TIMESTAMP as a `Timestamp` (`2020-01-01 00:00:00`, with `.123000` microseconds or
 * `.123000001` nanoseconds when it has them), in its column's time zone with its offset
 * (`+00:00`, `+01:00`) when pyarrow reads it tz-aware.
 */
export function dateText(d: Date): string {
  const millis = d.getTime();
  if (d instanceof CalendarDay) return dayText(Math.floor(millis / DAY_MS));
  const zoned = d instanceof Instant && d.zone !== undefined ? (inZone(millis, d.zone) ?? { wall: millis, offset: '+00:00' }) : undefined;
  const wall = zoned ? zoned.wall : millis;
  const day = Math.floor(wall / DAY_MS);
  const ms = wall - day * DAY_MS;
  const seconds = Math.floor(ms / 1000);
  const time = `${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}`;
  const nanos = d instanceof Instant ? Number(((d.nanos % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n) : (ms % 1000) * 1_000_000;
  const fraction = nanos === 0 ? '' : nanos % 1000 === 0 ? `.${pad(nanos / 1000, 6)}` : `.${pad(nanos, 9)}`;
  return `${dayText(day)} ${time}${fraction}${zoned ? zoned.offset : ''}`;
}

/** A TIME value as Python's `datetime.time` prints it: `12:34:56`, or `12:34:56.789000` (microseconds). */
export function timeText(value: number | bigint, unit: TimeUnit): string {
  const micros = unit === 'MILLIS' ? BigInt(value) * 1000n : unit === 'MICROS' ? BigInt(value) : BigInt(value) / 1000n;
  const seconds = micros / 1_000_000n;
  const fraction = micros % 1_000_000n;
  return `${pad(seconds / 3600n, 2)}:${pad((seconds / 60n) % 60n, 2)}:${pad(seconds % 60n, 2)}${fraction === 0n ? '' : `.${pad(fraction, 6)}`}`;
}
