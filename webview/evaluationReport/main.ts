/**
 * The evaluation report page: one evaluation's model and dataset, its metrics, the confusion matrix
 * (counts, each cell shaded by its share of the true class's row), the metrics per slice with the
 * largest gap marked, and latency. Browser code only (no Node, no vscode); it talks to the host
 * through webview/evaluationReport/messages.ts and formats numbers with core/views/displayFormat.ts.
 *
 * Every value is set with textContent, never parsed as HTML (class labels and slice values come from
 * the user's data). Shading is a class (`shade-0` … `shade-10`), not an inline style, so the strict
 * Content-Security-Policy holds. Buttons are real <button>s and the wide tables are focusable
 * regions, so the keyboard reaches and scrolls everything.
 */
import { formatMetricCompact, formatMetricValue } from '../../core/views/displayFormat';
import { el, factList, onHostMessage, pageRoot, type VsCodeApi } from '../page/dom';
import { fromWireNumber, type WireNumber } from '../shared/messages';
import type { EvaluationReportData, EvaluationReportHostMessage, EvaluationReportWebviewMessage } from './messages';
import '../page/base.css';
import './evaluationReport.css';

declare function acquireVsCodeApi(): VsCodeApi<EvaluationReportWebviewMessage>;

const vscode = acquireVsCodeApi();
const root = pageRoot();

const compact = (v: WireNumber): string => formatMetricCompact(fromWireNumber(v));
/** A count as people read it: 1,000,000. */
const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * A metric's cell: 4 significant digits, as the slice table shows them, right-aligned; the whole
 * value on hover (the run keeps it). NaN says why it can be: an ill-defined metric (see Warnings).
 */
function metricCell(v: WireNumber, extra: Record<string, string> = {}): HTMLElement {
  const n = fromWireNumber(v);
  const undefinedHere = Number.isNaN(n);
  const title = undefinedHere ? 'Undefined for these rows (see Warnings)' : formatMetricValue(n);
  // An undefined metric (roc_auc of a slice with one class) reads as a dash, said in words to a screen reader.
  return el('td', undefinedHere ? '–' : compact(v), { ...extra, class: `num${extra.class ? ` ${extra.class}` : ''}`, title, ...(undefinedHere ? { 'aria-label': 'undefined' } : {}) });
}

/** A slice of fewer rows than this is marked: its metrics say more about its size than about the model (the evaluation warns too). */
const FEW_SLICE_ROWS = 30;

function section(title: string, id: string): HTMLElement {
  const s = el('section', undefined, { 'aria-label': title, id });
  s.appendChild(el('h2', title));
  return s;
}

/** A table in a focusable, scrollable region (wide matrices and slice tables scroll by keyboard). */
function scrollRegion(label: string, table: HTMLTableElement): HTMLElement {
  const region = el('div', undefined, { class: 'table-scroll', role: 'region', 'aria-label': label, tabindex: '0' });
  region.appendChild(table);
  return region;
}

function metricsSection(report: EvaluationReportData): HTMLElement {
  const s = section('Metrics', 'metrics');
  if (report.metrics.length === 0) {
    s.appendChild(el('p', 'No metrics.', { class: 'empty' }));
    return s;
  }
  const t = el('table');
  t.appendChild(el('caption', 'Metrics on the whole dataset', { class: 'visually-hidden' }));
  const head = t.createTHead().insertRow();
  head.append(el('th', 'Metric', { scope: 'col' }), el('th', 'Value', { scope: 'col' }));
  const body = t.createTBody();
  for (const m of report.metrics) {
    const tr = body.insertRow();
    tr.append(el('th', m.key, { scope: 'row' }), metricCell(m.value));
  }
  s.appendChild(t);
  return s;
}

/** The confusion matrix: true class per row, predicted class per column, counts shaded by row share. */
function confusionSection(report: EvaluationReportData): HTMLElement | undefined {
  const matrix = report.confusionMatrix;
  if (!matrix) return undefined;
  const classes = report.classes ?? matrix.map((_, i) => String(i));
  const s = section('Confusion matrix', 'confusion');
  s.appendChild(el('p', 'Rows: true class. Columns: predicted class. Each cell is shaded by its share of its row.', { class: 'hint' }));
  const t = el('table', undefined, { id: 'confusion-matrix', class: 'matrix' });
  t.appendChild(el('caption', 'Confusion matrix: true class by predicted class', { class: 'visually-hidden' }));
  const head = t.createTHead().insertRow();
  head.appendChild(el('th', 'True \\ predicted', { scope: 'col' }));
  for (const c of classes) head.appendChild(el('th', c, { scope: 'col' }));
  head.appendChild(el('th', 'Total', { scope: 'col' }));
  const body = t.createTBody();
  matrix.forEach((row, i) => {
    const tr = body.insertRow();
    const label = classes[i] ?? String(i);
    tr.appendChild(el('th', label, { scope: 'row' }));
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((n, j) => {
      const share = total > 0 ? n / total : 0;
      const td = el('td', undefined, {
        class: `cell shade-${Math.round(share * 10)}${i === j ? ' diagonal' : ''}`,
        title: `${count(n)} of ${count(total)} rows of true class ${label} predicted as ${classes[j] ?? String(j)}${total > 0 ? ` (${(share * 100).toFixed(1)}%)` : ''}`,
      });
      // A class with no true row: a dash, not "0%" of nothing.
      td.append(el('span', count(n), { class: 'count' }), el('span', total > 0 ? `${(share * 100).toFixed(0)}%` : '–', { class: 'share' }));
      tr.appendChild(td);
    });
    tr.appendChild(el('td', count(total), { class: 'total' }));
  });
  s.appendChild(scrollRegion('Confusion matrix', t));
  return s;
}

/** The metrics per slice; the slices with the lowest and highest headline metric are marked. */
function slicesSection(report: EvaluationReportData): HTMLElement {
  const slices = report.slices;
  if (!slices) {
    const none = section('Slices', 'slices');
    none.appendChild(el('p', 'Not sliced: evaluate with a slice column (the last step of Evaluate Model…, or --slice-by) to see the metrics per value and the largest gap.', { class: 'empty' }));
    return none;
  }
  const s = section(`Slices by ${slices.column}`, 'slices');
  const gap = slices.largestGap;
  if (gap) {
    const rowsOf = (value: string) => {
      const n = slices.values.find((v) => v.value === value)?.rows;
      return n === undefined ? '' : `, ${count(n)} row${n === 1 ? '' : 's'}`;
    };
    s.appendChild(
      el('p', `Largest gap in ${gap.metric}: ${compact(gap.gap)}, between ${gap.lowest} (lowest${rowsOf(gap.lowest)}) and ${gap.highest} (highest${rowsOf(gap.highest)}).`, { id: 'largest-gap', class: 'gap-note' }),
    );
  } else {
    s.appendChild(el('p', 'No gap between slices: fewer than two slices have the headline metric.', { id: 'largest-gap', class: 'empty' }));
  }
  const keys = slices.metricKeys;
  const t = el('table', undefined, { id: 'slice-table' });
  t.appendChild(el('caption', `Metrics per value of ${slices.column}`, { class: 'visually-hidden' }));
  const head = t.createTHead().insertRow();
  head.appendChild(el('th', slices.column, { scope: 'col' }));
  head.appendChild(el('th', 'Rows', { scope: 'col', class: 'num' }));
  for (const k of keys) head.appendChild(el('th', k, { scope: 'col', class: gap && k === gap.metric ? 'num gap-metric' : 'num' }));
  const body = t.createTBody();
  for (const v of slices.values) {
    const tr = body.insertRow();
    const mark = gap && v.value === gap.lowest ? 'lowest' : gap && v.value === gap.highest ? 'highest' : undefined;
    const th = el('th', v.value, { scope: 'row' });
    if (mark) {
      tr.classList.add(`gap-${mark}`);
      th.appendChild(el('span', mark === 'lowest' ? ' ▼ lowest' : ' ▲ highest', { class: 'gap-mark' }));
    }
    const few = v.rows < FEW_SLICE_ROWS;
    tr.append(th, el('td', few ? `${count(v.rows)} (few)` : count(v.rows), { class: 'num', ...(few ? { title: `Fewer than ${FEW_SLICE_ROWS} rows: this slice's metrics are noise more than signal` } : {}) }));
    for (const k of keys) {
      const m = v.metrics[k];
      const marked = gap !== null && k === gap.metric;
      tr.appendChild(m === undefined ? el('td', '–', { class: marked ? 'num gap-metric' : 'num' }) : metricCell(m, marked ? { class: 'gap-metric' } : {}));
    }
  }
  s.appendChild(scrollRegion(`Metrics per value of ${slices.column}`, t));
  return s;
}

function latencySection(report: EvaluationReportData): HTMLElement {
  const s = section('Latency', 'latency');
  s.appendChild(
    factList([
      ['p50 per batch', `${compact(report.latencyMs.p50)} ms`],
      ['p95 per batch', `${compact(report.latencyMs.p95)} ms`],
      ['p99 per batch', `${compact(report.latencyMs.p99)} ms`],
      ['Rows per second', count(fromWireNumber(report.rowsPerSecond))],
      ['Batches', `${count(report.batches)} of up to ${count(report.batchSize)} rows`],
    ]),
  );
  return s;
}

function render(report: EvaluationReportData): void {
  const header = el('header');
  header.append(el('h1', `Evaluation of ${report.model.path}`, { id: 'report-title' }), el('span', report.task, { class: 'task', id: 'report-task' }));
  const parts: (HTMLElement | undefined)[] = [header];
  if (report.runId) {
    const actions = el('div', undefined, { class: 'actions', role: 'toolbar', 'aria-label': 'Evaluation actions' });
    const runId = report.runId;
    const show = el('button', 'Show run', { type: 'button', title: 'Open the evaluation run in the run details view' });
    show.dataset.action = 'showRun';
    show.addEventListener('click', () => vscode.postMessage({ type: 'showRun', runId }));
    actions.appendChild(show);
    parts.push(actions);
  }
  const facts: [string, string][] = [
    ['Model', report.model.path],
    ['Model sha256', report.model.sha256],
    ...(report.registeredAs.length > 0 ? ([['Registered as', report.registeredAs.join(', ')]] as [string, string][]) : []),
    ['Dataset', `${report.dataset.path}${report.dataset.format ? ` (${report.dataset.format})` : ''}`],
    ['Dataset sha256', report.dataset.sha256],
    ['Target', report.dataset.target],
    ['Features', report.dataset.features.join(', ')],
    ['Rows', count(report.rows)],
    ['Task', `${report.task}${report.taskInferred ? ' (inferred from the model)' : ''}`],
  ];
  if (report.threshold !== null) facts.push(['Threshold', String(report.threshold)]);
  if (report.runId) facts.push(['Run ID', report.runId]);
  parts.push(factList(facts));
  if (report.warnings.length > 0) {
    const w = section('Warnings', 'warnings');
    const ul = el('ul');
    for (const text of report.warnings) ul.appendChild(el('li', text));
    w.appendChild(ul);
    parts.push(w);
  }
  parts.push(metricsSection(report), confusionSection(report), slicesSection(report), latencySection(report));
  root.replaceChildren(...parts.filter((p): p is HTMLElement => p !== undefined));
  document.title = `Evaluation of ${report.model.path}`;
}

function renderMissing(reason: string): void {
  root.replaceChildren(el('h1', 'No evaluation report'), el('p', reason, { class: 'empty', id: 'report-missing' }));
}

onHostMessage<EvaluationReportHostMessage>((msg) => {
  if (msg.type === 'report') {
    vscode.setState({ report: msg.report });
    render(msg.report);
  } else if (msg.type === 'reportMissing') {
    renderMissing(msg.reason);
  }
});

// Restored after the panel was hidden: show what was last known until the host sends it again.
const saved = vscode.getState() as { report?: EvaluationReportData } | undefined;
if (saved?.report) render(saved.report);
else root.replaceChildren(el('p', 'Loading the evaluation…', { class: 'empty' }));
vscode.postMessage({ type: 'ready' });
