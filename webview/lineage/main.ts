/**
 * The lineage page: a heading, a toolbar (fit, zoom), a legend, and the graph (graphView.ts) laid
 * out by dagre (graphLayout.ts). The same page shows a model's, a run's or a file's lineage and the
 * pipeline graph with stage states; a new graph of the same shape (a stage's state changed while a
 * pipeline runs) updates the drawing in place, keeping layout, zoom and selection.
 *
 * One bundle, two hosts: in a VS Code webview (acquireVsCodeApi exists) the graph arrives by
 * message (webview/lineage/messages.ts) and opening a node asks the host; in the offline HTML file
 * (`runwise lineage --html`) it is read from the page's JSON data block and nodes only select.
 */
import { sameShape, type LineageGraph, type LineageTarget } from '../../core/views/lineageGraphModel';
import { el, onHostMessage, pageRoot, type VsCodeApi } from '../page/dom';
import { layoutGraph, warmUpLayout } from './graphLayout';
import { GraphView } from './graphView';
import { LINEAGE_DATA_ID, lineageGraphFromJson, type LineageHostMessage, type LineageWebviewMessage } from './messages';
import '../page/base.css';
import './lineage.css';

declare const acquireVsCodeApi: (() => VsCodeApi<LineageWebviewMessage>) | undefined;

const root = pageRoot();
const vscode = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : undefined;

const heading = el('h1', 'Lineage', { id: 'lineage-title' });
const summary = el('p', '', { id: 'lineage-summary', class: 'hint' });
const status = el('p', '', { id: 'lineage-status', class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
const view = new GraphView({
  announce: (text) => (status.textContent = text),
  ...(vscode ? { open: (target: LineageTarget) => vscode.postMessage({ type: 'open', target }), showMore: () => vscode.postMessage({ type: 'showMore' }) } : {}),
});

function toolbar(): HTMLElement {
  const bar = el('div', undefined, { class: 'actions', role: 'toolbar', 'aria-label': 'Graph view' });
  const button = (label: string, title: string, id: string, action: () => void) => {
    const b = el('button', label, { type: 'button', title, 'aria-label': title, id });
    b.addEventListener('click', action);
    return b;
  };
  bar.append(
    button('Fit', 'Fit the graph to the view (0)', 'fit', () => view.fit()),
    button('+', 'Zoom in (+)', 'zoom-in', () => view.zoomBy(1.25)),
    button('−', 'Zoom out (-)', 'zoom-out', () => view.zoomBy(0.8)),
  );
  return bar;
}

function legend(graph: LineageGraph): HTMLElement {
  const items: [string, string][] =
    graph.mode === 'pipeline'
      ? [
          ['state-up-to-date', 'up to date'],
          ['state-stale', 'stale'],
          ['state-running', 'running'],
          ['state-failed', 'failed'],
          ['state-never-run', 'never run'],
        ]
      : [
          ['kind-dataset', 'data file'],
          ['kind-run', 'run'],
          ['kind-evaluation', 'evaluation'],
          ['kind-model-version', 'model version'],
          ['kind-alias', 'alias'],
        ];
  const list = el('ul', undefined, { class: 'legend', 'aria-label': 'Legend' });
  for (const [cls, text] of items) {
    const li = el('li');
    li.append(el('span', undefined, { class: `swatch ${cls}`, 'aria-hidden': 'true' }), document.createTextNode(text));
    list.appendChild(li);
  }
  return list;
}

let shown: LineageGraph | undefined;
let rendering = 0;

function summaryText(graph: LineageGraph): string {
  const parts = [`${graph.nodes.length} node${graph.nodes.length === 1 ? '' : 's'}`, `${graph.edges.length} link${graph.edges.length === 1 ? '' : 's'}`];
  if (graph.omitted > 0) parts.push(`${graph.omitted} more not shown (the "more…" nodes say where)`);
  return `${parts.join(' · ')}. Hover or select a node to highlight what it comes from and what it leads to.`;
}

async function render(graph: LineageGraph): Promise<void> {
  const ticket = ++rendering;
  heading.textContent = graph.title;
  document.title = graph.title;
  summary.textContent = summaryText(graph);
  if (shown && sameShape(shown, graph) && root.contains(view.element)) {
    shown = graph;
    view.update(graph);
    return;
  }
  if (graph.nodes.length === 0) {
    shown = graph;
    root.replaceChildren(heading, el('p', graph.mode === 'pipeline' ? 'The pipeline has no stages.' : 'Nothing recorded.', { class: 'empty', id: 'graph-empty' }));
    return;
  }
  const t0 = performance.now();
  const layout = await layoutGraph(graph);
  if (ticket !== rendering) return;
  const t1 = performance.now();
  root.replaceChildren(heading, toolbar(), legend(graph), summary, view.element, status);
  view.show(graph, layout);
  shown = graph;
  const t2 = performance.now();
  // Read by the benchmark (bench/webview/lineage.bench.ts) and the tests: when the drawing is done, and how long each part took.
  document.body.dataset.layoutMs = (t1 - t0).toFixed(1);
  document.body.dataset.renderMs = (t2 - t1).toFixed(1);
  document.body.dataset.rendered = String(ticket);
}

function renderMissing(reason: string): void {
  shown = undefined;
  root.replaceChildren(el('h1', 'No lineage'), el('p', reason, { class: 'empty', id: 'graph-missing' }));
}

function show(raw: unknown): void {
  let graph: LineageGraph;
  try {
    graph = lineageGraphFromJson(raw);
  } catch (e) {
    renderMissing(e instanceof Error ? e.message : String(e));
    return;
  }
  render(graph).catch((e: unknown) => renderMissing(`The graph could not be laid out: ${e instanceof Error ? e.message : String(e)}`));
}

if (vscode) {
  onHostMessage<LineageHostMessage>((msg) => {
    if (msg.type === 'graph') {
      vscode.setState({ graph: msg.graph });
      show(msg.graph);
    } else if (msg.type === 'graphMissing') {
      renderMissing(msg.reason);
    }
  });
  // Restored after the panel was hidden: show what was last known until the host sends it again.
  const saved = vscode.getState() as { graph?: unknown } | undefined;
  if (saved?.graph) show(saved.graph);
  else root.replaceChildren(el('p', 'Reading the lineage…', { class: 'empty' }));
  vscode.postMessage({ type: 'ready' });
  // While the host reads the graph.
  if (!saved?.graph) warmUpLayout();
} else {
  const data = document.getElementById(LINEAGE_DATA_ID);
  if (!data?.textContent) renderMissing('This page carries no lineage graph.');
  else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.textContent);
    } catch (e) {
      renderMissing(`The lineage graph in this page is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (parsed !== undefined) show(parsed);
  }
}
