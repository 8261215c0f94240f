/**
 * The runs comparison table as data: one row per run, one column per attribute, latest metric,
 * param and tag (ids as the tracker's search grammar names them: `metrics.acc`, `params.lr`,
 * `tags.team`, `attributes.status`), and what the Compare Runs view computes over it: the columns
 * whose values differ, sorting, grouping by a column with mean/min/max, and deltas against a
 * baseline run. Pure data code (no Node, no DOM, no vscode): the host builds the table from the
 * tracker's runs (client/compareRunsPanel.ts), the page (webview/compareRuns/) sorts, groups and
 * compares it, and the unit tests check both without a browser.
 *
 * Cell values are JSON-safe: a metric that is NaN or ±Infinity is the string 'NaN' / 'Infinity' /
 * '-Infinity' (as MLflow's JSON writes it), which `cellNumber` reads back.
 */
import { NOTE_TAG, type Run, type RunStatus } from '../tracker/model';

export type RunTableColumnKind = 'attribute' | 'metric' | 'param' | 'tag';

export interface RunTableColumn {
  /** `attributes.run_name`, `metrics.<key>`, `params.<key>`, `tags.<key>`. */
  id: string;
  kind: RunTableColumnKind;
  /** The metric, param or tag key; the attribute's name for attributes. */
  key: string;
  /** The header text. */
  label: string;
  /** Sorted, grouped and compared as numbers (metrics, times, params whose every value is a number). */
  numeric: boolean;
  /** The page may edit it inline (run name, note, user tags); the host writes it through the tracker. */
  editable: boolean;
}

/** A cell: text, a number, a non-finite metric as text, or null where the run lacks the key. */
export type CellValue = string | number | null;

export interface RunTableRow {
  runId: string;
  experimentId: string;
  status: RunStatus;
  /** One value per column, in column order. */
  values: CellValue[];
}

export interface RunTable {
  columns: RunTableColumn[];
  rows: RunTableRow[];
}

export const RUN_NAME_COLUMN = 'attributes.run_name';
export const STATUS_COLUMN = 'attributes.status';
export const START_TIME_COLUMN = 'attributes.start_time';
export const DURATION_COLUMN = 'attributes.duration';
export const NOTE_COLUMN = `tags.${NOTE_TAG}`;

const ATTRIBUTE_COLUMNS: readonly RunTableColumn[] = [
  { id: RUN_NAME_COLUMN, kind: 'attribute', key: 'run_name', label: 'Run', numeric: false, editable: true },
  { id: STATUS_COLUMN, kind: 'attribute', key: 'status', label: 'Status', numeric: false, editable: false },
  { id: START_TIME_COLUMN, kind: 'attribute', key: 'start_time', label: 'Started', numeric: true, editable: false },
  { id: DURATION_COLUMN, kind: 'attribute', key: 'duration', label: 'Duration', numeric: true, editable: false },
  { id: 'attributes.user_id', kind: 'attribute', key: 'user_id', label: 'User', numeric: false, editable: false },
  { id: NOTE_COLUMN, kind: 'tag', key: NOTE_TAG, label: 'Note', numeric: false, editable: true },
];

/** A plain decimal number as a param value ("0.01", "-3", "1e-4"): such params sort as numbers. */
const PLAIN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A metric value as a cell: finite numbers as they are, NaN and infinities as MLflow's JSON text. */
export function metricCell(v: number): CellValue {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

/** A cell as a number (NaN for text that is not one, and for null). */
export function cellNumber(v: CellValue): number {
  if (v === null) return NaN;
  return typeof v === 'number' ? v : PLAIN_NUMBER.test(v) || v === 'Infinity' || v === '-Infinity' ? Number(v) : NaN;
}

function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The table of `runs`: attributes first (name, status, start, duration, user, note), then every
 * metric, param and user tag any run has, each group sorted by key. `mlflow.*` tags are left out
 * (the name, note, user and parent have their own columns or fields). `now` is the clock a RUNNING
 * run's duration is measured to.
 */
export function runTableOf(runs: readonly Run[], now = Date.now()): RunTable {
  const metricKeys = new Set<string>();
  const paramKeys = new Set<string>();
  const tagKeys = new Set<string>();
  for (const r of runs) {
    for (const m of r.metrics) metricKeys.add(m.key);
    for (const p of r.params) paramKeys.add(p.key);
    for (const t of r.tags) if (!t.key.startsWith('mlflow.')) tagKeys.add(t.key);
  }
  const params = [...paramKeys].sort(byKey);
  const numericParams = new Set(params.filter((k) => runs.every((r) => r.params.every((p) => p.key !== k || PLAIN_NUMBER.test(p.value.trim())))));
  const columns: RunTableColumn[] = [
    ...ATTRIBUTE_COLUMNS,
    ...[...metricKeys].sort(byKey).map((key) => ({ id: `metrics.${key}`, kind: 'metric' as const, key, label: key, numeric: true, editable: false })),
    ...params.map((key) => ({ id: `params.${key}`, kind: 'param' as const, key, label: key, numeric: numericParams.has(key), editable: false })),
    ...[...tagKeys].sort(byKey).map((key) => ({ id: `tags.${key}`, kind: 'tag' as const, key, label: key, numeric: false, editable: true })),
  ];
  const index = new Map(columns.map((c, i) => [c.id, i]));
  const rows = runs.map((r): RunTableRow => {
    const values: CellValue[] = new Array<CellValue>(columns.length).fill(null);
    const info = r.info;
    values[0] = info.runName;
    values[1] = info.status;
    values[2] = info.startTime;
    const end = info.endTime ?? (info.status === 'RUNNING' ? now : null);
    values[3] = end === null ? null : Math.max(0, end - info.startTime);
    values[4] = info.userId || null;
    for (const m of r.metrics) values[index.get(`metrics.${m.key}`)!] = metricCell(m.value);
    for (const p of r.params) values[index.get(`params.${p.key}`)!] = numericParams.has(p.key) ? Number(p.value) : p.value;
    for (const t of r.tags) {
      const i = index.get(`tags.${t.key}`);
      if (i !== undefined) values[i] = t.value;
    }
    return { runId: info.runId, experimentId: info.experimentId, status: info.status, values };
  });
  return { columns, rows };
}

function sameCell(a: CellValue, b: CellValue): boolean {
  if (a === b) return true;
  return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
}

/**
 * The indexes of the columns whose values are not all the same over `rows` (row indexes; default
 * every row). A key one run has and another lacks differs. With fewer than two rows nothing differs.
 */
export function differingColumns(table: RunTable, rows: readonly number[] = table.rows.map((_, i) => i)): number[] {
  const out: number[] = [];
  if (rows.length < 2) return out;
  for (let c = 0; c < table.columns.length; c++) {
    const first = table.rows[rows[0]!]!.values[c] ?? null;
    for (let i = 1; i < rows.length; i++) {
      if (!sameCell(first, table.rows[rows[i]!]!.values[c] ?? null)) {
        out.push(c);
        break;
      }
    }
  }
  return out;
}

/**
 * `rows` (row indexes) ordered by column `column`: numbers numerically (NaN after every number),
 * text by code point; missing values last in either direction; ties keep their order (stable).
 */
export function sortRows(table: RunTable, rows: readonly number[], column: number, descending: boolean): number[] {
  const numeric = table.columns[column]?.numeric ?? false;
  const sign = descending ? -1 : 1;
  if (numeric) {
    const keys = new Float64Array(table.rows.length);
    const missing = new Uint8Array(table.rows.length);
    for (const r of rows) {
      const v = table.rows[r]!.values[column] ?? null;
      if (v === null) missing[r] = 1;
      else keys[r] = cellNumber(v);
    }
    return [...rows].sort((a, b) => {
      if (missing[a] !== missing[b]) return missing[a]! - missing[b]!;
      if (missing[a]) return 0;
      const x = keys[a]!;
      const y = keys[b]!;
      const xn = Number.isNaN(x);
      const yn = Number.isNaN(y);
      if (xn || yn) return xn === yn ? 0 : xn ? 1 : -1;
      return x === y ? 0 : x < y ? -sign : sign;
    });
  }
  return [...rows].sort((a, b) => {
    const x = table.rows[a]!.values[column] ?? null;
    const y = table.rows[b]!.values[column] ?? null;
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    return sign * byKey(String(x), String(y));
  });
}

/** Mean, min and max of one numeric column over a group's runs (over the runs that have a finite number). */
export interface ColumnStats {
  mean: number;
  min: number;
  max: number;
  /** How many of the group's runs have a number in the column. */
  count: number;
}

export interface RunGroup {
  /** The value the group's runs share in the grouping column (null: the runs that lack it). */
  value: CellValue;
  /** Row indexes, in the order given. */
  rows: number[];
  /** Per column index: the stats of numeric columns; undefined for text columns and all-missing ones. */
  stats: (ColumnStats | undefined)[];
}

/**
 * `rows` grouped by their value in column `column`, groups in order of first appearance (so a sorted
 * row order gives sorted groups), each with mean/min/max of every numeric column.
 */
export function groupRows(table: RunTable, rows: readonly number[], column: number): RunGroup[] {
  const groups = new Map<string, RunGroup>();
  for (const r of rows) {
    const value = table.rows[r]!.values[column] ?? null;
    const id = value === null ? '\u0000null' : `${typeof value}:${String(value)}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { value, rows: [], stats: [] }));
    g.rows.push(r);
  }
  for (const g of groups.values()) g.stats = table.columns.map((c, i) => (c.numeric ? columnStats(table, g.rows, i) : undefined));
  return [...groups.values()];
}

/** Mean, min and max of column `column` over `rows` (NaN, infinite and missing values left out). */
export function columnStats(table: RunTable, rows: readonly number[], column: number): ColumnStats | undefined {
  let sum = 0;
  let count = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const r of rows) {
    const v = cellNumber(table.rows[r]!.values[column] ?? null);
    if (!Number.isFinite(v)) continue;
    sum += v;
    count++;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return count === 0 ? undefined : { mean: sum / count, min, max, count };
}

/**
 * The difference `row − baseline` in a numeric column, or undefined where either lacks a number
 * (text columns, missing values, NaN).
 */
export function deltaAgainst(table: RunTable, row: number, baseline: number, column: number): number | undefined {
  if (!table.columns[column]?.numeric) return undefined;
  const v = cellNumber(table.rows[row]?.values[column] ?? null);
  const b = cellNumber(table.rows[baseline]?.values[column] ?? null);
  if (Number.isNaN(v) || Number.isNaN(b)) return undefined;
  return v - b;
}

/**
 * The runs a comparison shows after a tracker change: `changed` runs replace the ones with their
 * ids (new ones are appended) and the `removed` ids are taken out. The table is then rebuilt with
 * `runTableOf`, since columns come and go with the runs.
 */
export function mergeRuns(runs: readonly Run[], changed: readonly Run[], removed: ReadonlySet<string>): Run[] {
  const byId = new Map(changed.map((r) => [r.info.runId, r]));
  const out: Run[] = [];
  for (const r of runs) {
    if (removed.has(r.info.runId)) continue;
    const next = byId.get(r.info.runId);
    out.push(next ?? r);
    byId.delete(r.info.runId);
  }
  for (const r of byId.values()) if (!removed.has(r.info.runId)) out.push(r);
  return out;
}
