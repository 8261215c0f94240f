/**
 * Metrics a stage wrote to files, read as DVC reads them, for the tracker and the gates:
 *
 * - `metrics` files (JSON or YAML): nested keys joined with `.` (`train.loss`), as `dvc metrics
 *   show` names them. JSON is read as Python's json reads it (NaN, Infinity and -Infinity are
 *   numbers: Python's json.dump writes them, DVC reads them, MLflow logs NaN as NaN). Only numbers are metrics; booleans count as 1 and 0, as DVC keeps them (a
 *   Python bool is an int) and as MLflow's `log_metric(True)` stores them. Strings, lists and nulls
 *   are not metrics: they are listed in `skipped`, never an error.
 * - `plots` files: CSV or TSV with a header row, or JSON (a list of objects, or an object whose
 *   values are such lists): each numeric column is a series; its step is the `step` column when
 *   there is one, else the row index. Images and other files are not read.
 * - DVCLive's layout: `<dir>/metrics.json` (nested keys, its `step` key is the step of the latest
 *   values) and `<dir>/plots/metrics/**\/*.tsv` (a `step` column and one named after the metric);
 *   names follow the path (`train/loss`), as DVCLive's `log_metric("train/loss")` named them, in
 *   both files, so the latest value and its history share one key.
 *
 * A broken file gives a MetricsFileError naming the file and, where known, the line; reading never
 * throws anything else.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYamlText, YAMLParseError } from 'yaml';
import { LABEL_TEMPLATES, type PlotProps } from './pipelineModel';

/** Files larger than this are not read (a metrics file is small; a plots file rarely large). */
export const MAX_METRICS_FILE_BYTES = 64 * 1024 * 1024;
/** Points kept per series; the rest of a longer series is dropped and reported. */
export const MAX_SERIES_POINTS = 100_000;

export class MetricsFileError extends Error {
  constructor(
    /** Workspace-relative. */
    readonly file: string,
    readonly line: number | undefined,
    readonly detail: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${detail}`);
    this.name = 'MetricsFileError';
  }
}

export interface SeriesPoint {
  step: number;
  value: number;
}

export interface StageMetrics {
  /** Latest value of each scalar metric, with its step (0 unless DVCLive says otherwise). */
  scalars: Map<string, SeriesPoint>;
  /** Step series from plots files and DVCLive. */
  series: Map<string, SeriesPoint[]>;
  /** Values that were not numbers, as `file: key`. */
  skipped: string[];
  /** Files that could not be read. */
  problems: MetricsFileError[];
}

export function emptyStageMetrics(): StageMetrics {
  return { scalars: new Map(), series: new Map(), skipped: [], problems: [] };
}

// ---------------------------------------------------------------------------------------------
// Reading files

function readText(abs: string, rel: string): string {
  let size: number;
  try {
    const st = statSync(abs);
    if (!st.isFile()) throw new MetricsFileError(rel, undefined, 'is not a file');
    size = st.size;
  } catch (e) {
    if (e instanceof MetricsFileError) throw e;
    throw new MetricsFileError(rel, undefined, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist (the stage did not write it)' : (e as Error).message);
  }
  if (size > MAX_METRICS_FILE_BYTES) throw new MetricsFileError(rel, undefined, `is ${size} bytes; metrics files over ${MAX_METRICS_FILE_BYTES} bytes are not read`);
  const text = readFileSync(abs, 'utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** 1-based line of a character offset. */
function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * JSON or YAML by extension (`.json` is JSON, anything else YAML, which also reads JSON). JSON as
 * Python's json module reads it, since that is what writes (and DVC reads) most metrics files:
 * `json.dump` writes NaN, Infinity and -Infinity as bare words by default.
 */
function parseStructured(text: string, rel: string): unknown {
  if (/\.json$/i.test(rel)) {
    try {
      return JSON.parse(text);
    } catch (e) {
      // The rare file that standard JSON refuses: Python's constants, or a real syntax error.
      const parsed = parsePythonJson(text);
      if (parsed.ok) return parsed.value;
      const at = parsed.offset;
      const near = at >= text.length ? ' (the text ends too early)' : ` near '${text.slice(at, at + 12).split('\n')[0]}'`;
      throw new MetricsFileError(rel, lineOfOffset(text, at), `invalid JSON${near}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  try {
    return parseYamlText(text, { maxAliasCount: 100 });
  } catch (e) {
    if (e instanceof YAMLParseError) {
      throw new MetricsFileError(rel, e.linePos?.[0]?.line, `invalid YAML: ${e.message.split('\n')[0]}`);
    }
    throw new MetricsFileError(rel, undefined, `invalid YAML: ${(e as Error).message}`);
  }
}

/** Python's json constants (json.dump's allow_nan), accepted where a value may stand. */
const PYTHON_JSON_CONSTANTS: readonly (readonly [string, number])[] = [
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
];

/**
 * JSON text as Python's `json.loads` reads it: RFC 8259 plus the bare constants NaN, Infinity and
 * -Infinity. Either the value, or the offset where the text stops being valid (Node's JSON.parse
 * does not always say). A small recursive-descent parser; callers try JSON.parse first.
 */
export function parsePythonJson(text: string): { ok: true; value: unknown } | { ok: false; offset: number } {
  let i = 0;
  const ws = () => {
    for (let c = text.charCodeAt(i); c === 32 || c === 10 || c === 13 || c === 9; c = text.charCodeAt(++i));
  };
  const fail = (): never => {
    throw new JsonOffset(i);
  };
  const literal = (word: string, value: unknown): unknown => {
    if (!text.startsWith(word, i)) fail();
    i += word.length;
    return value;
  };
  const str = (): string => {
    const start = i;
    let escaped = false;
    i++;
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail();
      if (c === 92) {
        escaped = true;
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i++;
    }
    if (i >= text.length) fail();
    i++;
    // The slice is a valid JSON string by now: JSON.parse decodes its escapes.
    return escaped ? (JSON.parse(text.slice(start, i)) as string) : text.slice(start + 1, i - 1);
  };
  const value = (depth: number): unknown => {
    if (depth > 512) fail();
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        const key = str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        const v = value(depth + 1);
        // `__proto__` is data, as JSON.parse keeps it, not the object's prototype.
        if (key === '__proto__') Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
        else obj[key] = v;
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return obj;
        } else fail();
      }
    }
    if (c === '[') {
      i++;
      const list: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return list;
      }
      for (;;) {
        list.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return list;
        } else fail();
      }
    }
    if (c === '"') return str();
    if (c === 't') return literal('true', true);
    if (c === 'f') return literal('false', false);
    if (c === 'n') return literal('null', null);
    if (c === 'N' || c === 'I' || (c === '-' && text[i + 1] === 'I')) {
      for (const [word, v] of PYTHON_JSON_CONSTANTS) if (text.startsWith(word, i)) return literal(word, v);
    }
    JSON_NUMBER.lastIndex = i;
    const m = JSON_NUMBER.exec(text);
    if (!m) fail();
    i += m![0].length;
    return Number(m![0]);
  };
  try {
    const v = value(0);
    ws();
    if (i < text.length) fail();
    return { ok: true, value: v };
  } catch (e) {
    if (e instanceof JsonOffset) return { ok: false, offset: e.offset };
    throw e;
  }
}

const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class JsonOffset {
  constructor(readonly offset: number) {}
}

/** Flattens nested objects into `prefix<sep>key` numbers; other values go to `skipped`. */
function flatten(value: unknown, prefix: string, sep: string, out: Map<string, number>, skipped: string[]): void {
  if (typeof value === 'number') out.set(prefix, value);
  else if (typeof value === 'boolean') out.set(prefix, value ? 1 : 0);
  else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix === '' ? k : `${prefix}${sep}${k}`, sep, out, skipped);
  } else if (prefix !== '') skipped.push(prefix);
}

/** A `metrics` file: its numeric values by dotted key. Throws MetricsFileError. */
export function readMetricsFile(abs: string, rel: string): { values: Map<string, number>; skipped: string[] } {
  const data = parseStructured(readText(abs, rel), rel);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new MetricsFileError(rel, 1, `expected a mapping of metric names to values, found ${describe(data)}`);
  }
  const values = new Map<string, number>();
  const skipped: string[] = [];
  flatten(data, '', '.', values, skipped);
  return { values, skipped };
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  // JSON's words: an object (as DVC would read it through `metrics:`), a string, a number.
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * Delimited text with a header row (RFC 4180 quoting: `"a,b"`, `""` inside quotes), as rows of
 * cells with the 1-based line each row starts on.
 */
export function parseDelimited(text: string, delimiter: ',' | '\t', rel: string): { header: string[]; rows: { line: number; cells: string[] }[] } {
  const records: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let line = 1;
  let recordLine = 1;
  let quoted = false;
  let quoteLine = 0;
  let i = 0;
  const endRecord = () => {
    cells.push(cell);
    if (!(cells.length === 1 && cells[0] === '')) records.push({ line: recordLine, cells });
    cells = [];
    cell = '';
  };
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        if (c === '\n') line++;
        cell += c;
      }
      i++;
      continue;
    }
    if (c === '"' && cell === '') {
      quoted = true;
      quoteLine = line;
    } else if (c === delimiter) {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else cell += c;
    i++;
  }
  if (quoted) throw new MetricsFileError(rel, quoteLine, 'a quoted field is never closed (missing ")');
  if (cell !== '' || cells.length > 0) endRecord();
  const [head, ...rows] = records;
  if (!head) throw new MetricsFileError(rel, 1, 'is empty; expected a header row naming the columns');
  const header = head.cells.map((h) => h.trim());
  const dup = header.find((h, k) => header.indexOf(h) !== k);
  if (dup !== undefined) throw new MetricsFileError(rel, head.line, `the header names column '${dup}' twice`);
  for (const r of rows) {
    if (r.cells.length !== header.length) {
      throw new MetricsFileError(rel, r.line, `expected ${header.length} fields as in the header, found ${r.cells.length}`);
    }
  }
  return { header, rows };
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity|nan)$/i;

function numberOf(cell: string): number | undefined {
  const t = cell.trim();
  if (!NUMBER.test(t)) return undefined;
  const lower = t.toLowerCase().replace(/^\+/, '');
  if (lower === 'nan' || lower === '-nan') return NaN;
  if (lower === 'inf' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  return Number(t);
}

/** Rows of named cells → one series per column whose every non-empty cell is a number. */
function seriesOfTable(rows: readonly { line?: number; cells: Record<string, unknown> }[], columns: readonly string[], rel: string, prefix: string, problems: MetricsFileError[], plot?: PlotProps): Map<string, SeriesPoint[]> {
  const out = new Map<string, SeriesPoint[]>();
  // The plot's x column is the step when it holds whole numbers (epoch, step), and never a series itself.
  const stepColumn = plot?.x !== undefined && columns.includes(plot.x) && rows.every((r) => Number.isInteger(cellNumber(r.cells[plot.x!]))) ? plot.x : columns.includes('step') ? 'step' : undefined;
  const steps: number[] = [];
  for (let r = 0; r < rows.length; r++) {
    if (stepColumn === undefined) {
      steps.push(r);
      continue;
    }
    const raw = rows[r]!.cells[stepColumn];
    const step = cellNumber(raw);
    if (step === undefined || !Number.isInteger(step)) {
      throw new MetricsFileError(rel, rows[r]!.line, `the step column holds '${String(raw)}'; expected a whole number`);
    }
    steps.push(step);
  }
  for (const col of columns) {
    if (col === 'step' || col === 'timestamp' || col === stepColumn || col === plot?.x) continue;
    // Only the plot's y columns, when it names them.
    if (plot?.y && !plot.y.includes(col)) continue;
    const points: SeriesPoint[] = [];
    let numeric = true;
    for (let r = 0; r < rows.length && numeric; r++) {
      const raw = rows[r]!.cells[col];
      if (raw === '' || raw === null || raw === undefined) continue;
      const v = typeof raw === 'boolean' ? Number(raw) : cellNumber(raw);
      if (v === undefined) numeric = false;
      else points.push({ step: steps[r]!, value: v });
    }
    if (!numeric || points.length === 0) continue;
    if (points.length > MAX_SERIES_POINTS) {
      problems.push(new MetricsFileError(rel, undefined, `column '${col}' has ${points.length} points; the first ${MAX_SERIES_POINTS} are kept`));
      points.length = MAX_SERIES_POINTS;
    }
    out.set(prefix === '' ? col : `${prefix}${col}`, points);
  }
  return out;
}

/** A cell as a number: a JSON number, or a CSV cell's text that is one; else undefined. */
function cellNumber(raw: unknown): number | undefined {
  return typeof raw === 'number' ? raw : typeof raw === 'string' ? numberOf(raw) : undefined;
}

/**
 * A `plots` file: CSV, TSV or JSON step series by column name (JSON objects of lists give
 * `key/column`), following the plot's `x` (the step) and `y` (the series) when dvc.yaml gives
 * them; a confusion template's file is no series. Other files (images, HTML) give nothing. Throws
 * MetricsFileError.
 */
export function readPlotsFile(abs: string, rel: string, problems: MetricsFileError[] = [], plot?: PlotProps): Map<string, SeriesPoint[]> {
  if (plot?.template !== undefined && LABEL_TEMPLATES.has(plot.template)) return new Map();
  const ext = path.extname(rel).toLowerCase();
  if (ext === '.csv' || ext === '.tsv') {
    const { header, rows } = parseDelimited(readText(abs, rel), ext === '.csv' ? ',' : '\t', rel);
    const named = rows.map((r) => ({ line: r.line, cells: Object.fromEntries(header.map((h, k) => [h, r.cells[k]!])) }));
    return seriesOfTable(named, header, rel, '', problems, plot);
  }
  if (ext === '.json' || ext === '.yaml' || ext === '.yml') {
    const data = parseStructured(readText(abs, rel), rel);
    if (Array.isArray(data)) return seriesOfList(data, rel, '', problems, plot);
    if (data !== null && typeof data === 'object') {
      const out = new Map<string, SeriesPoint[]>();
      for (const [k, v] of Object.entries(data)) {
        if (Array.isArray(v)) for (const [name, points] of seriesOfList(v, rel, `${k}/`, problems, plot)) out.set(name, points);
      }
      if (out.size > 0 || Object.keys(data).length === 0) return out;
    }
    throw new MetricsFileError(rel, 1, `expected a list of objects (one per step), found ${describe(data)}`);
  }
  return new Map();
}

function seriesOfList(list: readonly unknown[], rel: string, prefix: string, problems: MetricsFileError[], plot?: PlotProps): Map<string, SeriesPoint[]> {
  const columns: string[] = [];
  const seen = new Set<string>();
  const rows: { cells: Record<string, unknown> }[] = [];
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new MetricsFileError(rel, undefined, `item ${i + 1} of ${prefix === '' ? 'the list' : `'${prefix.slice(0, -1)}'`} is ${describe(item)}; expected an object of column values`);
    }
    for (const k of Object.keys(item)) {
      if (!seen.has(k)) {
        seen.add(k);
        columns.push(k);
      }
    }
    rows.push({ cells: item as Record<string, unknown> });
  }
  return seriesOfTable(rows, columns, rel, prefix, problems, plot);
}

// ---------------------------------------------------------------------------------------------
// DVCLive

/** Whether `dirAbs` is a DVCLive output folder (it has `plots/metrics/` or a `metrics.json` beside `plots/`). */
export function isDvcLiveDir(dirAbs: string): boolean {
  return isDir(path.join(dirAbs, 'plots', 'metrics')) || (isFile(path.join(dirAbs, 'metrics.json')) && isDir(path.join(dirAbs, 'plots')));
}

/** DVCLive's `metrics.json` and `plots/metrics/**.tsv` under `dirAbs` (workspace-relative `dirRel`). */
export function readDvcLive(dirAbs: string, dirRel: string): StageMetrics {
  const result = emptyStageMetrics();
  const summary = path.join(dirAbs, 'metrics.json');
  if (isFile(summary)) {
    const rel = `${dirRel}/metrics.json`;
    try {
      const data = parseStructured(readText(summary, rel), rel);
      if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new MetricsFileError(rel, 1, `expected a mapping, found ${describe(data)}`);
      const { step, ...rest } = data as Record<string, unknown>;
      const values = new Map<string, number>();
      const skipped: string[] = [];
      flatten(rest, '', '/', values, skipped);
      const at = typeof step === 'number' && Number.isInteger(step) ? step : 0;
      for (const [k, v] of values) result.scalars.set(k, { step: at, value: v });
      result.skipped.push(...skipped.map((k) => `${rel}: ${k}`));
    } catch (e) {
      result.problems.push(asMetricsFileError(e, rel));
    }
  }
  const plotsRoot = path.join(dirAbs, 'plots', 'metrics');
  for (const file of filesUnder(plotsRoot).filter((f) => /\.(tsv|csv)$/i.test(f))) {
    const name = file.replace(/\.(tsv|csv)$/i, '');
    const rel = `${dirRel}/plots/metrics/${file}`;
    try {
      const ext = path.extname(file).toLowerCase();
      const { header, rows } = parseDelimited(readText(path.join(plotsRoot, file), rel), ext === '.csv' ? ',' : '\t', rel);
      const named = rows.map((r) => ({ line: r.line, cells: Object.fromEntries(header.map((h, k) => [h, r.cells[k]!])) }));
      const columns = seriesOfTable(named, header, rel, '', result.problems);
      // DVCLive names the value column after the metric's last segment; a file with one value column is that metric.
      const base = path.posix.basename(name);
      const points = columns.get(base) ?? (columns.size === 1 ? [...columns.values()][0] : undefined);
      if (points) result.series.set(name, points);
      else result.problems.push(new MetricsFileError(rel, 1, `expected a '${base}' column of numbers beside 'step'`));
    } catch (e) {
      result.problems.push(asMetricsFileError(e, rel));
    }
  }
  return result;
}

function filesUnder(dir: string, prefix = ''): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(path.join(dir, prefix), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...filesUnder(dir, rel));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function asMetricsFileError(e: unknown, rel: string): MetricsFileError {
  return e instanceof MetricsFileError ? e : new MetricsFileError(rel, undefined, (e as Error)?.message ?? String(e));
}

// ---------------------------------------------------------------------------------------------
// A stage's outputs

export interface MetricsSource {
  /** Workspace-relative. */
  path: string;
  kind: 'out' | 'metrics' | 'plots';
  plot?: PlotProps;
}

/**
 * Everything a stage's declared outputs hold in metrics: its `metrics` files, its `plots` files
 * and folders, and DVCLive folders among any of its outputs (an output that is one, lies in one or
 * holds `metrics.json`/`plots` of one). Problems are collected, never thrown.
 */
export function readStageMetrics(root: string, outs: readonly MetricsSource[]): StageMetrics {
  const result = emptyStageMetrics();
  const live = new Set<string>();
  for (const out of outs) {
    const dir = dvcLiveDirFor(root, out);
    if (dir !== undefined) live.add(dir);
  }
  const inLive = (p: string) => [...live].some((d) => p === d || p.startsWith(`${d}/`));
  for (const dir of live) merge(result, readDvcLive(path.join(root, dir), dir));
  for (const out of outs) {
    if (inLive(out.path) || out.kind === 'out') continue;
    const abs = path.join(root, out.path);
    try {
      if (out.kind === 'metrics') {
        const { values, skipped } = readMetricsFile(abs, out.path);
        for (const [k, v] of values) result.scalars.set(k, { step: 0, value: v });
        result.skipped.push(...skipped.map((k) => `${out.path}: ${k}`));
      } else if (isDir(abs)) {
        for (const file of filesUnder(abs)) {
          const rel = `${out.path}/${file}`;
          if (out.plot?.labelFiles?.includes(rel)) continue;
          try {
            for (const [k, v] of readPlotsFile(path.join(abs, file), rel, result.problems, out.plot)) result.series.set(k, v);
          } catch (e) {
            result.problems.push(asMetricsFileError(e, rel));
          }
        }
      } else {
        for (const [k, v] of readPlotsFile(abs, out.path, result.problems, out.plot)) result.series.set(k, v);
      }
    } catch (e) {
      result.problems.push(asMetricsFileError(e, out.path));
    }
  }
  return result;
}

function dvcLiveDirFor(root: string, out: MetricsSource): string | undefined {
  const candidates = [out.path];
  const parent = path.posix.dirname(out.path);
  if (parent !== '.') candidates.push(parent);
  const grand = parent === '.' ? '.' : path.posix.dirname(parent);
  if (grand !== '.' && path.posix.basename(out.path) === 'metrics' && path.posix.basename(parent) === 'plots') candidates.push(grand);
  return candidates.find((c) => existsSync(path.join(root, c)) && isDir(path.join(root, c)) && isDvcLiveDir(path.join(root, c)));
}

function merge(into: StageMetrics, from: StageMetrics): void {
  for (const [k, v] of from.scalars) into.scalars.set(k, v);
  for (const [k, v] of from.series) into.series.set(k, v);
  into.skipped.push(...from.skipped);
  into.problems.push(...from.problems);
}
