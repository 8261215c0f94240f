/**
 * The Compare Runs page: a virtualised table of runs (every attribute, metric, param and tag a
 * column) with a column picker, "only columns that differ", sorting, a filter in the tracker's
 * search grammar (the host parses and runs it; a parse error is shown at its position), grouping by
 * a param with mean/min/max, a pinned baseline with deltas, inline edits of name, note and tags and
 * CSV export; under it, charts of the selected runs (metric against step or time, parallel
 * coordinates with brushing, a scatter of a param against the metric). Browser code only; it talks
 * to the host through webview/compareRuns/messages.ts and keeps its view state with setState, which
 * VS Code hands back when the panel is restored.
 */
import {
  differingColumns,
  groupRows,
  RUN_NAME_COLUMN,
  sortRows,
  START_TIME_COLUMN,
  type RunTable,
} from '../../core/views/runTableModel';
import { el, onHostMessage, pageRoot, type VsCodeApi } from '../page/dom';
import { MetricChart, type ChartRun } from './runCharts';
import { BAND_MAX_RUNS, tableOfJson, X_AXES, type ChartSeries, type CompareRunsHostMessage, type CompareRunsViewState, type CompareRunsWebviewMessage, type CompareScope, type XAxis } from './messages';
import { ParallelCoordinates } from './parallelCoordinates';
import { RunTableView, type DisplayRow } from './runTable';
import { ScatterPlot } from './scatterPlot';
import { button, checkbox, fillSelect, setDisabled, singleSelect, textField, type VscodeCheckbox } from './formControls';
import '../page/base.css';
import './compareRuns.css';

declare function acquireVsCodeApi(): VsCodeApi<CompareRunsWebviewMessage>;

const vscode = acquireVsCodeApi();
const root = pageRoot();

const DEFAULT_STATE: CompareRunsViewState = {
  hidden: [],
  onlyDiffering: false,
  sort: null,
  filter: '',
  selected: [],
  baseline: null,
  groupBy: null,
  chart: { metric: null, xAxis: 'step', logScale: false, smoothing: 0, scatterX: null, parallel: [] },
};
const saved = vscode.getState() as Partial<CompareRunsViewState> | undefined;
const state: CompareRunsViewState = { ...DEFAULT_STATE, ...saved, chart: { ...DEFAULT_STATE.chart, ...saved?.chart } };
let table: RunTable | undefined;
let scope: CompareScope | undefined = state.scope;
/** Run ids the filter matches; null when there is no filter. */
let filterMatches: Set<string> | null = null;
let selected = new Set(state.selected);
/** Row indexes shown (filtered, sorted), and the display rows (with group headers). */
let shownRows: number[] = [];
let seriesRequest = 0;
let lastSeries: { key: string; series: ChartSeries[] } | undefined;
let zoom: { minStep: number; maxStep: number } | undefined;

// ---------------------------------------------------------------------------------------------
// Layout

const title = el('h1', 'Compare runs', { id: 'compare-title' });
const summary = el('p', '', { class: 'summary', id: 'summary', 'aria-live': 'polite' });

const filterInput = textField({ type: 'search', id: 'filter', class: 'filter', placeholder: "Filter, e.g. metrics.acc > 0.9 and params.optimizer = 'adam'" }, 'Filter runs (tracker search syntax)');
filterInput.value = state.filter;
const filterError = el('div', undefined, { id: 'filter-error', class: 'filter-error', role: 'alert' });

const differingBox = checkbox('only-differing', 'Only columns that differ', state.onlyDiffering);

const columnsButton = button('Columns…', { id: 'columns-button', 'aria-expanded': 'false', 'aria-controls': 'column-picker' });
const columnPicker = el('div', undefined, { id: 'column-picker', class: 'column-picker', role: 'group', 'aria-label': 'Columns shown' });
columnPicker.hidden = true;

const groupSelect = singleSelect('group-by', 'Group runs by a param');
const exportButton = button('Export CSV…', { id: 'export-csv', title: 'Export the shown runs (all their columns) to a CSV file' });
const clearBaseline = button('Unpin baseline', { id: 'clear-baseline' });
const selectShown = button('Select shown', { id: 'select-shown', title: 'Select every shown run for the charts' }, { secondary: false });
const clearSelection = button('Clear selection', { id: 'clear-selection' });

// A group, not role=toolbar: a toolbar promises arrow-key movement between its controls, and these
// are reached with Tab like any form.
const toolbar = el('div', undefined, { class: 'toolbar', role: 'group', 'aria-label': 'Table' });
toolbar.append(filterInput, differingBox, columnsButton, labelled('Group by', groupSelect), selectShown, clearSelection, clearBaseline, exportButton);

const runTable = new RunTableView({
  sort: (column) => {
    const id = table!.columns[column]!.id;
    state.sort = state.sort?.column !== id ? { column: id, descending: false } : state.sort.descending ? null : { column: id, descending: true };
    update();
  },
  toggleSelected: (runId, extend) => toggleSelected(runId, extend),
  pinBaseline: (runId) => {
    state.baseline = state.baseline === runId ? null : runId;
    update();
  },
  edit: (runId, column, value) => {
    const c = table!.columns[column]!;
    const row = table!.rows.find((r) => r.runId === runId);
    if (row) row.values[column] = value === '' && c.id !== RUN_NAME_COLUMN ? null : value;
    vscode.postMessage({ type: 'editCell', runId, column: c.id, value });
    update();
  },
  open: (runId) => vscode.postMessage({ type: 'openRun', runId }),
});

const metricSelect = singleSelect('chart-metric', 'Metric to chart');
const axisSelect = singleSelect('chart-x-axis', 'X axis');
fillSelect(axisSelect, [['step', 'Step'], ['wallTime', 'Wall time'], ['relativeTime', 'Relative time']], state.chart.xAxis);
const logBox = checkbox('chart-log', 'Log scale', state.chart.logScale);
const smoothing = el('input', undefined, { type: 'range', id: 'chart-smoothing', min: '0', max: '0.99', step: '0.01', 'aria-label': 'Smoothing' });
smoothing.value = String(state.chart.smoothing);
const smoothingValue = el('output', state.chart.smoothing.toFixed(2), { for: 'chart-smoothing', id: 'chart-smoothing-value' });
const resetZoom = button('Reset zoom', { id: 'reset-zoom' });
const chartStatus = el('p', '', { class: 'summary', id: 'chart-status', 'aria-live': 'polite' });

const chart = new MetricChart({
  zoom: (range) => {
    zoom = range;
    requestSeries();
  },
  announce: (message) => {
    chartStatus.textContent = message;
  },
});
const parallel = new ParallelCoordinates({
  brushed: (runIds) => {
    if (runIds === undefined) return;
    selected = new Set(runIds);
    update();
  },
});
const clearBrushes = button('Clear brushes', { id: 'clear-brushes' });
const scatterX = singleSelect('scatter-x', 'Scatter: column across');
const scatter = new ScatterPlot({ toggle: (runId) => toggleSelected(runId, false), open: (runId) => vscode.postMessage({ type: 'openRun', runId }) });

const chartToolbar = el('div', undefined, { class: 'toolbar', role: 'group', 'aria-label': 'Chart' });
const smoothingLabel = el('label', 'Smoothing ', { for: 'chart-smoothing', class: 'check' });
chartToolbar.append(labelled('Metric', metricSelect), labelled('X axis', axisSelect), logBox, smoothingLabel, smoothing, smoothingValue, resetZoom);
const charts = el('section', undefined, { class: 'charts', 'aria-label': 'Charts of the selected runs' });
const parallelHeading = el('div', undefined, { class: 'toolbar' });
parallelHeading.append(el('h2', 'Parallel coordinates'), clearBrushes);
const scatterHeading = el('div', undefined, { class: 'toolbar' });
scatterHeading.append(el('h2', 'Scatter'), labelled('Across', scatterX));
charts.append(el('h2', 'Metric'), chartToolbar, chartStatus, chart.element, parallelHeading, parallel.element, scatterHeading, scatter.element);

root.replaceChildren(title, summary, toolbar, filterError, columnPicker, runTable.element, charts);

function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  const label = el('label', `${text} `, { class: 'check' });
  label.appendChild(control);
  return label;
}

// ---------------------------------------------------------------------------------------------
// State → view

function columnIndex(id: string | null): number {
  return id === null || !table ? -1 : table.columns.findIndex((c) => c.id === id);
}

function persist(): void {
  state.selected = [...selected];
  state.scope = scope;
  vscode.setState(state);
  schedulePersistToHost();
}

let persistTimer: ReturnType<typeof setTimeout> | undefined;
function schedulePersistToHost(): void {
  if (persistTimer) clearTimeout(persistTimer);
  persistTimer = setTimeout(() => vscode.postMessage({ type: 'viewState', state }), 500);
}

function toggleSelected(runId: string, extend: boolean): void {
  if (extend && selected.size > 0 && table) {
    // Shift: select every shown run between the last selected one and this one.
    const ids = shownRows.map((r) => table!.rows[r]!.runId);
    const last = state.selected.at(-1);
    const a = last ? ids.indexOf(last) : -1;
    const b = ids.indexOf(runId);
    if (a >= 0 && b >= 0) for (let i = Math.min(a, b); i <= Math.max(a, b); i++) selected.add(ids[i]!);
    else selected.add(runId);
  } else if (selected.has(runId)) selected.delete(runId);
  else selected.add(runId);
  state.selected = [...selected];
  update();
}

/** Rebuilds the table view from the data and the state; the charts follow the selection. */
function update(options: { refetch?: boolean } = {}): void {
  if (!table) return;
  const t = table;
  let rows = t.rows.map((_, i) => i);
  if (filterMatches) rows = rows.filter((r) => filterMatches!.has(t.rows[r]!.runId));
  const sortCol = columnIndex(state.sort?.column ?? null);
  if (sortCol >= 0) rows = sortRows(t, rows, sortCol, state.sort!.descending);
  shownRows = rows;
  const hidden = new Set(state.hidden);
  let columns = t.columns.map((_, i) => i).filter((i) => i > 0 && !hidden.has(t.columns[i]!.id));
  if (state.onlyDiffering) {
    const differ = new Set(differingColumns(t, rows));
    columns = columns.filter((c) => differ.has(c));
  }
  const groupCol = columnIndex(state.groupBy);
  let display: DisplayRow[];
  if (groupCol >= 0) {
    display = [];
    for (const g of groupRows(t, rows, groupCol)) {
      display.push({ kind: 'group', group: g, label: `${t.columns[groupCol]!.label} = ${g.value === null ? '(none)' : String(g.value)}` });
      for (const r of g.rows) display.push({ kind: 'run', row: r });
    }
  } else {
    display = rows.map((row) => ({ kind: 'run', row }));
  }
  const baselineRow = state.baseline === null ? -1 : t.rows.findIndex((r) => r.runId === state.baseline);
  if (state.baseline !== null && baselineRow < 0) state.baseline = null;
  runTable.setView({ table: t, rows: display, columns, baseline: baselineRow >= 0 ? baselineRow : null, selected, sort: sortCol >= 0 ? { column: sortCol, descending: state.sort!.descending } : null });
  setDisabled(clearBaseline, state.baseline === null);
  summary.textContent = `${rows.length} of ${t.rows.length} runs shown · ${columns.length + 1} of ${t.columns.length} columns · ${selected.size} selected${state.baseline ? ' · baseline pinned' : ''}`;
  columnsButton.textContent = `Columns (${columns.length + 1}/${t.columns.length})…`;
  updateCharts(options.refetch ?? false);
  persist();
}

function fillColumnPicker(): void {
  if (!table) return;
  const hidden = new Set(state.hidden);
  const search = textField({ type: 'search', placeholder: 'Find a column', id: 'column-search' }, 'Find a column');
  const list = el('div', undefined, { class: 'column-list' });
  const showAll = button('Show all', {});
  const hideAll = button('Hide all', {});
  const boxes: [VscodeCheckbox, string][] = [];
  table.columns.forEach((c, i) => {
    if (i === 0) return;
    const box = checkbox(`column-${i}`, c.id, !hidden.has(c.id));
    box.dataset.column = c.id;
    box.title = c.id;
    list.appendChild(box);
    boxes.push([box, c.id]);
  });
  const apply = () => {
    state.hidden = boxes.filter(([b]) => !b.checked).map(([, id]) => id);
    update();
  };
  list.addEventListener('change', apply);
  showAll.addEventListener('click', () => {
    for (const [b] of boxes) if (!b.hidden) b.checked = true;
    apply();
  });
  hideAll.addEventListener('click', () => {
    for (const [b] of boxes) if (!b.hidden) b.checked = false;
    apply();
  });
  search.addEventListener('input', () => {
    const q = search.value.toLowerCase();
    for (const [b, id] of boxes) b.hidden = q !== '' && !id.toLowerCase().includes(q);
  });
  const bar = el('div', undefined, { class: 'toolbar' });
  bar.append(search, showAll, hideAll);
  columnPicker.replaceChildren(bar, list);
}

function fillChoices(): void {
  if (!table) return;
  const params = table.columns.filter((c) => c.kind === 'param');
  const metrics = table.columns.filter((c) => c.kind === 'metric');
  fillSelect(groupSelect, [['', 'No grouping'], ...params.map((c): [string, string] => [c.id, c.label])], state.groupBy ?? '');
  if (state.chart.metric === null || !metrics.some((c) => c.key === state.chart.metric)) state.chart.metric = metrics[0]?.key ?? null;
  fillSelect(metricSelect, metrics.map((c): [string, string] => [c.key, c.key]), state.chart.metric);
  const numeric = table.columns.filter((c) => c.numeric && c.kind !== 'metric' && c.id !== START_TIME_COLUMN);
  if (state.chart.scatterX === null || !numeric.some((c) => c.id === state.chart.scatterX)) state.chart.scatterX = numeric.find((c) => c.kind === 'param')?.id ?? numeric[0]?.id ?? null;
  fillSelect(scatterX, numeric.map((c): [string, string] => [c.id, c.id]), state.chart.scatterX);
}

// ---------------------------------------------------------------------------------------------
// Charts

function chartRuns(): ChartRun[] {
  if (!table) return [];
  const startCol = columnIndex(START_TIME_COLUMN);
  return table.rows.filter((r) => selected.has(r.runId)).map((r) => ({ runId: r.runId, name: String(r.values[0] ?? r.runId), startTime: Number(r.values[startCol] ?? 0) }));
}

/** Asks the host for the chart metric of the selected runs (over the zoomed range, if any). */
function requestSeries(): void {
  const runs = chartRuns();
  const key = state.chart.metric;
  if (!key || runs.length === 0) return drawCharts();
  const maxPoints = Math.min(2000, Math.max(200, Math.round(chart.element.clientWidth || 800)));
  seriesRequest++;
  chartStatus.textContent = `Loading ${key} for ${runs.length} run${runs.length === 1 ? '' : 's'}…`;
  // Min and max per bucket only for as few runs as the chart draws their bands for.
  const minMax = runs.length <= BAND_MAX_RUNS;
  vscode.postMessage({ type: 'series', requestId: seriesRequest, key, runIds: runs.map((r) => r.runId), maxPoints, ...(zoom && state.chart.xAxis === 'step' ? zoom : {}), minMax });
}

let chartedKey = '';
function updateCharts(refetch: boolean): void {
  const key = `${state.chart.metric}|${[...selected].sort().join(',')}`;
  if (refetch || key !== chartedKey) {
    chartedKey = key;
    if (!refetch) zoom = undefined;
    requestSeries();
  }
  parallelStale = true;
  scatterStale = true;
  scheduleSideCharts();
}

// Parallel coordinates and the scatter draw every shown run: 10,000 polylines take the better part
// of a second on a canvas without a GPU. So they are drawn only while on screen, after the table's
// frame, once per burst of changes; one scrolled into view is drawn then.
let parallelStale = true;
let scatterStale = true;
let sideChartsPending = false;
const onScreen = new Set<Element>();
const sideChartsObserver = new IntersectionObserver((entries) => {
  for (const e of entries) {
    if (e.isIntersecting) onScreen.add(e.target);
    else onScreen.delete(e.target);
  }
  scheduleSideCharts();
});
sideChartsObserver.observe(parallel.element);
sideChartsObserver.observe(scatter.element);
function scheduleSideCharts(): void {
  if (sideChartsPending) return;
  sideChartsPending = true;
  // Two frames on: the table's frame is painted first, whatever order the browser runs tasks in.
  requestAnimationFrame(() =>
    requestAnimationFrame(() =>
      setTimeout(() => {
        sideChartsPending = false;
        drawSideCharts();
      }, 0),
    ),
  );
}

function drawCharts(): void {
  const runs = chartRuns();
  const key = state.chart.metric;
  if (!key) chart.clear('No metric to chart: these runs logged none.');
  else if (runs.length === 0) chart.clear('Select runs in the table (Space, or click their box) to chart them.');
  else if (lastSeries && lastSeries.key === key) {
    chart.draw(key, runs, lastSeries.series, { xAxis: state.chart.xAxis, logScale: state.chart.logScale, smoothing: state.chart.smoothing, zoom });
    const points = lastSeries.series.reduce((n, s) => n + s.totalPoints, 0);
    chartStatus.textContent = `${key}: ${lastSeries.series.length} run${lastSeries.series.length === 1 ? '' : 's'}, ${points.toLocaleString('en-US')} points${zoom ? `, steps ${zoom.minStep} to ${zoom.maxStep}` : ''}`;
  }
  setDisabled(resetZoom, !zoom);
}

/** Draws the side charts that are on screen and out of date. */
function drawSideCharts(): void {
  if (!table) return;
  const metricCol = table.columns.findIndex((c) => c.kind === 'metric' && c.key === state.chart.metric);
  if (parallelStale && onScreen.has(parallel.element)) {
    parallelStale = false;
    const differ = new Set(differingColumns(table, shownRows));
    const params = table.columns.map((c, i) => [c, i] as const).filter(([c, i]) => c.kind === 'param' && (differ.has(i) || shownRows.length < 2)).map(([, i]) => i);
    parallel.setData(table, shownRows, [...params.slice(0, 12), ...(metricCol >= 0 ? [metricCol] : [])], selected);
  }
  if (scatterStale && onScreen.has(scatter.element)) {
    scatterStale = false;
    const xCol = columnIndex(state.chart.scatterX);
    if (xCol >= 0 && metricCol >= 0) scatter.draw(table, shownRows, xCol, metricCol, selected);
  }
}

// ---------------------------------------------------------------------------------------------
// Events

let filterTimer: ReturnType<typeof setTimeout> | undefined;
function sendFilter(): void {
  state.filter = filterInput.value;
  if (state.filter.trim() === '') {
    filterMatches = null;
    showFilterError(undefined);
    update();
    return;
  }
  vscode.postMessage({ type: 'filter', filter: state.filter });
}
filterInput.addEventListener('input', () => {
  if (filterTimer) clearTimeout(filterTimer);
  filterTimer = setTimeout(sendFilter, 250);
});
filterInput.addEventListener('keydown', (e) => {
  if (e.key !== 'Enter') return;
  if (filterTimer) clearTimeout(filterTimer);
  sendFilter();
});

/** Shows a filter error under the box: the message, the filter with the offending text marked. */
function showFilterError(error: { filter: string; position: number; message: string } | undefined): void {
  if (!error) {
    filterError.replaceChildren();
    filterInput.removeAttribute('aria-invalid');
    filterInput.invalid = false;
    return;
  }
  filterInput.setAttribute('aria-invalid', 'true');
  filterInput.invalid = true;
  const at = Math.min(Math.max(0, error.position), error.filter.length);
  const shown = el('code', undefined, { class: 'filter-text' });
  const bad = el('mark', error.filter.slice(at, at + 1) || ' ', { id: 'filter-error-mark' });
  shown.append(document.createTextNode(error.filter.slice(0, at)), bad, document.createTextNode(error.filter.slice(at + 1)));
  filterError.replaceChildren(el('span', error.message, { id: 'filter-error-message' }), shown);
  filterError.dataset.position = String(at);
}

differingBox.addEventListener('change', () => {
  state.onlyDiffering = differingBox.checked;
  update();
});
columnsButton.addEventListener('click', () => {
  columnPicker.hidden = !columnPicker.hidden;
  columnsButton.setAttribute('aria-expanded', String(!columnPicker.hidden));
  if (!columnPicker.hidden) fillColumnPicker();
});
groupSelect.addEventListener('change', () => {
  state.groupBy = groupSelect.value || null;
  update();
});
exportButton.addEventListener('click', () => {
  if (table) vscode.postMessage({ type: 'exportCsv', runIds: shownRows.map((r) => table!.rows[r]!.runId) });
});
clearBaseline.addEventListener('click', () => {
  state.baseline = null;
  update();
});
selectShown.addEventListener('click', () => {
  if (!table) return;
  for (const r of shownRows) selected.add(table.rows[r]!.runId);
  update();
});
clearSelection.addEventListener('click', () => {
  selected = new Set();
  update();
});
metricSelect.addEventListener('change', () => {
  state.chart.metric = metricSelect.value || null;
  update();
});
axisSelect.addEventListener('change', () => {
  state.chart.xAxis = (X_AXES as readonly string[]).includes(axisSelect.value) ? (axisSelect.value as XAxis) : 'step';
  zoom = undefined;
  update({ refetch: true });
});
logBox.addEventListener('change', () => {
  state.chart.logScale = logBox.checked;
  drawCharts();
  persist();
});
smoothing.addEventListener('input', () => {
  state.chart.smoothing = Math.min(0.99, Math.max(0, Number(smoothing.value) || 0));
  smoothingValue.textContent = state.chart.smoothing.toFixed(2);
  drawCharts();
  persist();
});
resetZoom.addEventListener('click', () => chart.resetZoom());
clearBrushes.addEventListener('click', () => parallel.clearBrushes());
scatterX.addEventListener('change', () => {
  state.chart.scatterX = scatterX.value || null;
  scatterStale = true;
  drawSideCharts();
  persist();
});
let resizeFrame = 0;
window.addEventListener('resize', () => {
  if (resizeFrame) return;
  resizeFrame = requestAnimationFrame(() => {
    resizeFrame = 0;
    chart.resize();
    parallelStale = true;
    scatterStale = true;
    drawSideCharts();
  });
});

onHostMessage<CompareRunsHostMessage>((msg) => {
  switch (msg.type) {
    case 'table': {
      performance.mark('compare-table-received');
      const first = table === undefined;
      document.getElementById('loading')?.remove();
      if (first && !saved && msg.viewState) restoreState(msg.viewState);
      table = tableOfJson(msg.tableJson);
      scope = msg.scope;
      title.textContent = msg.title;
      document.title = msg.title;
      const known = new Set(table.rows.map((r) => r.runId));
      selected = new Set([...selected].filter((id) => known.has(id)));
      if (filterMatches) filterMatches = new Set([...filterMatches].filter((id) => known.has(id)));
      fillChoices();
      if (!columnPicker.hidden) fillColumnPicker();
      update({ refetch: !first && selected.size > 0 });
      if (first && state.filter.trim() !== '') sendFilter();
      performance.mark('compare-table-rendered');
      return;
    }
    case 'filterResult':
      if (msg.filter !== state.filter) return;
      filterMatches = new Set(msg.runIds);
      showFilterError(undefined);
      update();
      return;
    case 'filterError':
      if (msg.filter !== state.filter) return;
      showFilterError(msg);
      return;
    case 'series':
      if (msg.requestId !== seriesRequest) return;
      lastSeries = { key: msg.key, series: msg.series };
      drawCharts();
      performance.mark('compare-chart-drawn');
      return;
    case 'editFailed': {
      summary.textContent = `Could not save ${msg.column} of run ${msg.runId}: ${msg.message}`;
      return;
    }
  }
});

/** Takes over a view state the host kept (the panel was closed and opened again on the same runs). */
function restoreState(kept: CompareRunsViewState): void {
  Object.assign(state, { ...DEFAULT_STATE, ...kept, chart: { ...DEFAULT_STATE.chart, ...kept.chart } });
  selected = new Set(state.selected);
  filterInput.value = state.filter;
  differingBox.checked = state.onlyDiffering;
  filterInput.invalid = false;
  axisSelect.value = state.chart.xAxis;
  logBox.checked = state.chart.logScale;
  smoothing.value = String(state.chart.smoothing);
  smoothingValue.textContent = state.chart.smoothing.toFixed(2);
}

if (!saved) root.appendChild(el('p', 'Loading runs…', { class: 'empty', id: 'loading' }));
vscode.postMessage({ type: 'ready' });
