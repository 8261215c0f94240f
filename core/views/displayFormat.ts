/**
 * How Runwise shows numbers, durations, dates and sizes to people: the Runs tree, the run details
 * webview and the `runwise` CLI all format through this module, so one value reads the same
 * wherever it appears. Plain functions, no Node and no editor imports: the webview bundles import
 * it too. Machine output (`--json`, `export`) never goes through here; it carries raw values.
 *
 * The rules:
 * - **Metric values, full** (`formatMetricValue`): the shortest text that reads back as the same
 *   double (JavaScript's round-trip form), so nothing logged is hidden: `0.123456789`, `42`,
 *   `1.5e-7`, `2e21`. Used wherever one run's values are read one by one: the tree tooltip, the
 *   run details panel, `runs show`, `runs compare`, `metrics history`.
 * - **Metric values, compact** (`formatMetricCompact`): at most 4 significant digits, trailing
 *   zeros dropped (whole numbers below a million in full: `12345`), an exponent below 0.001 and from 1e6 on: `0.9123`, `1235`, `1.23e-5`. Used
 *   where many values share a line: a run's row in the tree (and the run pick list), the columns
 *   of `runs list`.
 * - Both write NaN as `NaN` and infinities as `Infinity` / `-Infinity` (as MLflow's JSON does).
 * - **Dates** (`formatTimestamp`): local time, `YYYY-MM-DD HH:MM:SS` (24-hour, no locale), in the
 *   editor and the CLI alike: the clock the user reads, sortable, the same text in both. The zone
 *   is the machine's; `--json` keeps milliseconds since the epoch for anything that needs UTC.
 * - **Durations** (`formatDuration`): `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`, `3 d 04 h`.
 * - **Sizes** (`formatBytes`): `512 B`, then binary units with one decimal: `2.9 KiB`, `1.4 MiB`.
 */

/** A metric value in full: the shortest text that reads back as the same number. */
export function formatMetricValue(v: number): string {
  const special = nonFinite(v);
  if (special) return special;
  return String(v).replace('e+', 'e');
}

/** A metric value in at most 4 significant digits, for a row of several values. */
export function formatMetricCompact(v: number): string {
  const special = nonFinite(v);
  if (special) return special;
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e6) return String(v);
  // Rounded first, so a value that rounds up to a million (999999.99) takes the exponent too.
  const rounded = Number(v.toPrecision(4));
  if (a !== 0 && (Math.abs(rounded) >= 1e6 || a < 1e-3)) return v.toExponential(3).replace(/\.?0+e/, 'e').replace('e+', 'e');
  return String(rounded);
}

function nonFinite(v: number): string | undefined {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return undefined;
}

/** A version's aliases after its name: ` (@champion, @candidate)`, or nothing when it has none. */
export function aliasesSuffix(aliases: readonly string[]): string {
  return aliases.length > 0 ? ` (${aliases.map((a) => `@${a}`).join(', ')})` : '';
}

/** Milliseconds since the epoch as local `YYYY-MM-DD HH:MM:SS`. */
export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '-';
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** A duration in milliseconds (negative counts as 0). */
export function formatDuration(ms: number): string {
  if (!(ms > 0)) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  // 59.96 s would round to "60.0 s": from there on, whole minutes and seconds.
  if (s < 59.95) return `${s.toFixed(1)} s`;
  const totalS = Math.round(s);
  const m = Math.floor(totalS / 60);
  if (m < 60) return `${m} min ${pad2(totalS % 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${pad2(m % 60)} min`;
  return `${Math.floor(h / 24)} d ${pad2(h % 24)} h`;
}

/** A size in bytes: exact below 1 KiB, then one decimal in KiB, MiB, GiB, TiB. */
export function formatBytes(bytes: number): string {
  if (!(bytes >= 1024)) return `${Math.max(0, Math.round(bytes || 0))} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1023.95 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
