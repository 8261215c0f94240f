/**
 * The drift report page: a one-line verdict, the table of columns (drifted first, ordered by how far
 * past their threshold they are: core/drift/driftReport.ts's normalised margin, since raw scores mix
 * p-values and distances), and per column the reference and current distributions overlaid on one
 * axis (an inline SVG drawn here) beside their summary statistics. Browser code only.
 *
 * One bundle, two hosts: in a VS Code webview (acquireVsCodeApi exists) the report arrives by
 * message (webview/driftReport/messages.ts); in the offline HTML file (core/drift/driftHtml.ts) it is
 * read from the page's JSON data block. Every name and value is set with textContent, never parsed
 * as HTML (column names and category labels come from the user's data). Colours are CSS classes
 * (theme variables in VS Code, a light/dark default in the HTML file), never inline styles, so the
 * strict Content-Security-Policy holds in both.
 */
import { driftMargin, isPValueTest, orderByMargin, type DriftColumn, type DriftReport, type DriftSideSummary } from '../../core/drift/driftReport';
import { formatMetricCompact } from '../../core/views/displayFormat';
import { el, onHostMessage, pageRoot, type VsCodeApi } from '../page/dom';
import { DRIFT_REPORT_DATA_ID, driftHistoryFromJson, driftReportFromJson, type DriftBatchPoint, type DriftReportHostMessage, type DriftReportWebviewMessage } from './messages';
import './driftReport.css';

declare const acquireVsCodeApi: (() => VsCodeApi<DriftReportWebviewMessage>) | undefined;

const SVG = 'http://www.w3.org/2000/svg';
const root = pageRoot();

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const compact = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : formatMetricCompact(v));
const percent = (share: number): string => (Number.isFinite(share) ? `${Number((share * 100).toFixed(1))}%` : '–');
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The one-line verdict: whether the dataset drifts, and by how many columns. */
function verdictText(report: DriftReport): string {
  const threshold = report.drift_share_threshold;
  const share = `${report.n_drifted} of ${plural(report.n_columns, 'column')} drifted (${percent(report.drift_share)}${threshold !== undefined ? `; dataset drift at ${percent(threshold)}` : ''})`;
  return `${report.dataset_drift ? 'Dataset drift detected' : 'No dataset drift'}: ${share}.`;
}

function marginText(column: DriftColumn): string {
  const m = driftMargin(column);
  if (m === null) return '–';
  // log10 of the ratio to the threshold, shown as the ratio itself: "×20 past", "×3 below".
  const ratio = 10 ** Math.abs(m);
  const r = ratio >= 1e6 ? ratio.toExponential(0).replace('e+', 'e') : String(Number(ratio.toPrecision(2)));
  return m >= 0 ? `×${r} past` : `×${r} within`;
}

function testText(column: DriftColumn): string {
  if (column.test === null) return 'not checked';
  return `${column.test} (${isPValueTest(column.test) ? 'p-value' : 'distance'})`;
}

function columnsTable(columns: readonly DriftColumn[]): HTMLElement {
  const t = el('table', undefined, { id: 'drift-columns' });
  t.appendChild(el('caption', 'Columns, drifted first, by how far past their threshold', { class: 'visually-hidden' }));
  const head = t.createTHead().insertRow();
  for (const h of ['Column', 'Type', 'Test', 'Score', 'Threshold', 'Margin', 'Drift']) head.appendChild(el('th', h, { scope: 'col' }));
  const body = t.createTBody();
  columns.forEach((c, i) => {
    const tr = body.insertRow();
    tr.className = c.test === null ? 'skipped' : c.drifted ? 'drifted' : 'stable';
    const th = el('th', undefined, { scope: 'row' });
    th.appendChild(el('a', c.name, { href: `#column-${i}` }));
    tr.append(
      th,
      el('td', c.type),
      el('td', testText(c)),
      el('td', compact(c.score), { class: 'num' }),
      el('td', compact(c.threshold), { class: 'num' }),
      el('td', marginText(c), { class: 'num' }),
      el('td', c.test === null ? (c.skipped ?? 'not checked') : c.drifted ? 'Drifted' : 'No drift', { class: 'verdict-cell' }),
    );
  });
  const region = el('div', undefined, { class: 'table-scroll', role: 'region', 'aria-label': 'Columns', tabindex: '0' });
  region.appendChild(t);
  return region;
}

/** Each bin's share of its side's non-missing values (sides of different sizes on one scale). */
function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((n) => (total > 0 ? n / total : 0));
}

const CHART = { width: 560, height: 180, left: 8, right: 8, top: 8, bottom: 34 };

/** The two histograms overlaid on one axis (shares of each side), or undefined when either lacks one. */
function distributionChart(column: DriftColumn): SVGSVGElement | undefined {
  const ref = column.reference.histogram;
  const cur = column.current.histogram;
  if (!ref || !cur || ref.kind !== cur.kind || ref.counts.length !== cur.counts.length || ref.counts.length === 0) return undefined;
  const refShares = shares(ref.counts);
  const curShares = shares(cur.counts);
  const top = Math.max(...refShares, ...curShares) || 1;
  const n = ref.counts.length;
  const plotW = CHART.width - CHART.left - CHART.right;
  const plotH = CHART.height - CHART.top - CHART.bottom;
  const binW = plotW / n;
  const label = `Distribution of ${column.name}: reference and current, share of rows per ${ref.kind === 'numeric' ? 'bin' : 'value'}`;
  const chart = svg('svg', { viewBox: `0 0 ${CHART.width} ${CHART.height}`, class: 'distribution', role: 'img', 'aria-label': label });
  chart.appendChild(svg('title', {}, label));
  const binName = (i: number): string => (ref.kind === 'numeric' ? `[${compact(ref.edges[i])}, ${compact(ref.edges[i + 1])}${i === n - 1 ? ']' : ')'}` : (ref.labels[i] ?? ''));
  const bars = (values: number[], counts: readonly number[], cls: string, side: string, inset: number): SVGGElement => {
    const g = svg('g', { class: cls });
    values.forEach((s, i) => {
      const h = (s / top) * plotH;
      const bar = svg('rect', { x: CHART.left + i * binW + inset, y: CHART.top + plotH - h, width: Math.max(binW - 2 * inset, 0.5), height: h });
      bar.appendChild(svg('title', {}, `${side} ${binName(i)}: ${counts[i]} rows (${percent(s)})`));
      g.appendChild(bar);
    });
    return g;
  };
  // Categories side by side within a slot; numeric bins overlap (one axis, the shared range).
  const inset = ref.kind === 'numeric' ? 0 : binW * 0.1;
  chart.appendChild(bars(refShares, ref.counts, 'series reference', 'Reference', inset));
  chart.appendChild(bars(curShares, cur.counts, 'series current', 'Current', inset));
  chart.appendChild(svg('line', { x1: CHART.left, x2: CHART.width - CHART.right, y1: CHART.top + plotH, y2: CHART.top + plotH, class: 'axis' }));
  const axisY = CHART.top + plotH + 14;
  if (ref.kind === 'numeric') {
    chart.appendChild(svg('text', { x: CHART.left, y: axisY, class: 'tick', 'text-anchor': 'start' }, compact(ref.edges[0])));
    chart.appendChild(svg('text', { x: CHART.width - CHART.right, y: axisY, class: 'tick', 'text-anchor': 'end' }, compact(ref.edges[n])));
  } else {
    // Labels when they fit (at most 12 values), cut to the slot; the bar tooltips carry them whole.
    if (n <= 12) {
      ref.labels.forEach((l, i) => {
        const room = Math.max(1, Math.floor(binW / 7));
        chart.appendChild(svg('text', { x: CHART.left + (i + 0.5) * binW, y: axisY, class: 'tick', 'text-anchor': 'middle' }, l.length > room ? `${l.slice(0, Math.max(1, room - 1))}…` : l));
      });
    }
  }
  return chart;
}

function sideFacts(column: DriftColumn): HTMLTableElement {
  const t = el('table', undefined, { class: 'side-stats' });
  t.appendChild(el('caption', `Summary of ${column.name}: reference and current`, { class: 'visually-hidden' }));
  const head = t.createTHead().insertRow();
  head.append(el('th', '', { scope: 'col' }), el('th', 'Reference', { scope: 'col' }), el('th', 'Current', { scope: 'col' }));
  const body = t.createTBody();
  const row = (label: string, get: (s: DriftSideSummary) => string): void => {
    const tr = body.insertRow();
    tr.append(el('th', label, { scope: 'row' }), el('td', get(column.reference)), el('td', get(column.current)));
  };
  row('Rows', (s) => String(s.count));
  row('Missing', (s) => `${s.missing}${s.count > 0 ? ` (${percent(s.missing / s.count)})` : ''}`);
  row('Distinct', (s) => String(s.distinct));
  const numeric = ['mean', 'std', 'min', 'p25', 'median', 'p75', 'max'] as const;
  for (const key of numeric) {
    if (column.reference[key] !== undefined || column.current[key] !== undefined) row(key, (s) => compact(s[key]));
  }
  if (column.reference.top !== undefined || column.current.top !== undefined) row('Most frequent', (s) => s.top ?? '–');
  return t;
}

function columnSection(column: DriftColumn, index: number): HTMLElement {
  const s = el('section', undefined, { id: `column-${index}`, class: `column ${column.test === null ? 'skipped' : column.drifted ? 'drifted' : 'stable'}`, 'aria-label': column.name });
  const h = el('h3');
  h.append(el('span', column.name, { class: 'column-name' }), el('span', column.test === null ? 'not checked' : column.drifted ? 'Drifted' : 'No drift', { class: 'badge' }));
  s.appendChild(h);
  const what =
    column.test === null
      ? `${column.type}: not checked${column.skipped ? ` (${column.skipped})` : ''}.`
      : `${column.type}, ${testText(column)} ${compact(column.score)} against threshold ${compact(column.threshold)}.`;
  s.appendChild(el('p', what, { class: 'hint' }));
  const body = el('div', undefined, { class: 'column-body' });
  const chart = distributionChart(column);
  if (chart) {
    const figure = el('figure');
    figure.appendChild(chart);
    const legend = el('figcaption', undefined, { class: 'legend' });
    legend.append(el('span', 'Reference', { class: 'key reference' }), el('span', 'Current', { class: 'key current' }));
    figure.appendChild(legend);
    body.appendChild(figure);
  }
  body.appendChild(sideFacts(column));
  s.appendChild(body);
  return s;
}

/**
 * The drift share over a watched folder's batches: a line with a point per batch (drifted batches
 * marked), the dataset-drift threshold as a dashed line, the share axis 0–100% and the first and
 * last batch named as text.
 */
function historyChart(history: readonly DriftBatchPoint[], threshold: number | undefined): SVGSVGElement {
  const w = 560;
  const h = 180;
  const left = 44;
  const right = 12;
  const top = 12;
  const bottom = 36;
  const x = (i: number) => left + (history.length === 1 ? (w - left - right) / 2 : (i * (w - left - right)) / (history.length - 1));
  const y = (share: number) => top + (1 - Math.min(1, Math.max(0, share))) * (h - top - bottom);
  const chart = svg('svg', { viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': `Drift share over ${plural(history.length, 'batch', 'batches')}`, class: 'history-chart' });
  for (const share of [0, 0.5, 1]) {
    chart.appendChild(svg('line', { x1: left, x2: w - right, y1: y(share), y2: y(share), class: 'grid' }));
    chart.appendChild(svg('text', { x: left - 6, y: y(share) + 4, 'text-anchor': 'end', class: 'axis-label' }, percent(share)));
  }
  if (threshold !== undefined) chart.appendChild(svg('line', { x1: left, x2: w - right, y1: y(threshold), y2: y(threshold), class: 'threshold' }));
  chart.appendChild(svg('polyline', { points: history.map((p, i) => `${x(i)},${y(p.drift_share)}`).join(' '), class: 'share-line' }));
  history.forEach((p, i) => {
    const dot = svg('circle', { cx: x(i), cy: y(p.drift_share), r: 3.5, class: p.dataset_drift ? 'batch drifted' : 'batch stable' });
    dot.appendChild(svg('title', {}, `${p.batch}: ${percent(p.drift_share)}${p.dataset_drift ? ' (dataset drift)' : ''}`));
    chart.appendChild(dot);
  });
  const first = history[0]!;
  const last = history[history.length - 1]!;
  chart.appendChild(svg('text', { x: left, y: h - 12, 'text-anchor': 'start', class: 'axis-label batch-name' }, first.batch));
  if (history.length > 1) chart.appendChild(svg('text', { x: w - right, y: h - 12, 'text-anchor': 'end', class: 'axis-label batch-name' }, last.batch));
  return chart;
}

function historySection(history: readonly DriftBatchPoint[], threshold: number | undefined): HTMLElement {
  const section = el('section', undefined, { 'aria-label': 'Drift share over batches', id: 'history' });
  const drifted = history.filter((p) => p.dataset_drift).length;
  section.append(
    el('h2', 'Drift share over batches'),
    el('p', `${plural(history.length, 'batch', 'batches')} in this watched folder, ${drifted} with dataset drift; latest ${percent(history[history.length - 1]!.drift_share)}.`, { id: 'history-summary', class: 'hint' }),
    historyChart(history, threshold),
  );
  return section;
}

function render(report: DriftReport, history: readonly DriftBatchPoint[] = []): void {
  const columns = orderByMargin(report.columns);
  const title = report.reference_file && report.current_file ? `Drift: ${report.current_file} against ${report.reference_file}` : 'Drift report';
  const parts: HTMLElement[] = [el('h1', title, { id: 'report-title' })];
  parts.push(el('p', verdictText(report), { id: 'verdict', class: report.dataset_drift ? 'verdict drift' : 'verdict no-drift', role: 'status' }));
  const skipped = report.columns.filter((c) => c.test === null).length;
  if (skipped > 0) parts.push(el('p', `${plural(skipped, 'column')} not checked (see the table for why).`, { id: 'skipped-note', class: 'hint' }));
  if (report.sample) {
    const s = report.sample;
    parts.push(el('p', `Sampled: ${s.rows} rows of each side (of ${s.reference_rows} reference and ${s.current_rows} current rows), seed ${s.seed}.`, { id: 'sample-note', class: 'note' }));
  }
  if (history.length > 0) parts.push(historySection(history, report.drift_share_threshold));
  const table = el('section', undefined, { 'aria-label': 'Columns', id: 'columns' });
  table.append(el('h2', 'Columns'), columnsTable(columns));
  parts.push(table);
  const details = el('section', undefined, { 'aria-label': 'Distributions', id: 'distributions' });
  details.appendChild(el('h2', 'Distributions'));
  columns.forEach((c, i) => details.appendChild(columnSection(c, i)));
  parts.push(details);
  root.replaceChildren(...parts);
  document.title = title;
}

function renderMissing(reason: string): void {
  root.replaceChildren(el('h1', 'No drift report'), el('p', reason, { class: 'empty', id: 'report-missing' }));
}

function show(raw: unknown, history?: unknown): void {
  try {
    render(driftReportFromJson(raw), driftHistoryFromJson(history));
  } catch (e) {
    renderMissing(e instanceof Error ? e.message : String(e));
  }
}

if (typeof acquireVsCodeApi === 'function') {
  const vscode = acquireVsCodeApi();
  onHostMessage<DriftReportHostMessage>((msg) => {
    if (msg.type === 'report') {
      vscode.setState({ report: msg.report, history: msg.history });
      show(msg.report, msg.history);
    } else if (msg.type === 'reportMissing') {
      renderMissing(msg.reason);
    }
  });
  // Restored after the panel was hidden: show what was last known until the host sends it again.
  const saved = vscode.getState() as { report?: unknown; history?: unknown } | undefined;
  if (saved?.report) show(saved.report, saved.history);
  else root.replaceChildren(el('p', 'Comparing the datasets…', { class: 'empty' }));
  vscode.postMessage({ type: 'ready' });
} else {
  // The offline HTML file: the report is in the page, as JSON.
  const data = document.getElementById(DRIFT_REPORT_DATA_ID);
  if (!data?.textContent) renderMissing('This page carries no drift report.');
  else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.textContent);
    } catch (e) {
      parsed = undefined;
      renderMissing(`The drift report in this page is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (parsed !== undefined) show(parsed);
  }
}
