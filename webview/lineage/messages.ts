/**
 * The lineage view's messages, typed once here; the host (client/lineagePanel.ts) and the page
 * (webview/lineage/main.ts) both import this module. The host checks what the page sends with
 * `isLineageWebviewMessage` before acting on it.
 *
 * The page is given a graph as `runwise lineage --json` prints it (core/views/lineageGraphModel.ts),
 * in a webview by message and in the offline HTML file (`runwise lineage --html`) as a JSON data
 * block. Either way `lineageGraphFromJson` checks every field before the page uses it.
 */
import type { LineageEdge, LineageGraph, LineageNode, LineageNodeKind, LineageTarget } from '../../core/views/lineageGraphModel';
import { isRunId } from '../shared/messages';

/** Host → page. */
export type LineageHostMessage =
  /** Show this graph (first load, and again whenever it changes: a pipeline's stage states while it runs). */
  | { type: 'graph'; graph: LineageGraph }
  /** Nothing to show (no such version, no pipeline, the tracker cannot be read); `reason` says why. */
  | { type: 'graphMissing'; reason: string };

/** Page → host. `showMore`: a "more…" node was opened: show the graph again with room for more nodes. */
export type LineageWebviewMessage = { type: 'ready' } | { type: 'open'; target: LineageTarget } | { type: 'showMore' };

export { LINEAGE_DATA_ID } from '../../core/views/lineageGraphModel';

/** Is `t` something the page may ask to open: a run id, a relative workspace path, a model name and version? */
export function isLineageTarget(t: unknown): t is LineageTarget {
  if (typeof t !== 'object' || t === null) return false;
  const v = t as Record<string, unknown>;
  if (v.kind === 'run') return isRunId(v.runId);
  if (v.kind === 'file') {
    return typeof v.path === 'string' && v.path !== '' && (v.line === undefined || (Number.isSafeInteger(v.line) && (v.line as number) >= 1));
  }
  if (v.kind === 'model-version') return typeof v.name === 'string' && v.name !== '' && typeof v.version === 'string' && /^[1-9][0-9]*$/.test(v.version);
  return false;
}

/** Is `m` a message the lineage page may send? (The host ignores anything else.) */
export function isLineageWebviewMessage(m: unknown): m is LineageWebviewMessage {
  if (typeof m !== 'object' || m === null) return false;
  const { type, target } = m as { type?: unknown; target?: unknown };
  return type === 'ready' || type === 'showMore' || (type === 'open' && isLineageTarget(target));
}

const NODE_KINDS: readonly LineageNodeKind[] = ['dataset', 'run', 'evaluation', 'model-version', 'alias', 'stage', 'more'];

type Loose = Record<string, unknown>;
const record = (v: unknown): Loose => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Loose) : {});
const text = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));

function nodeFromJson(v: unknown): LineageNode | undefined {
  const n = record(v);
  if (typeof n.id !== 'string' || n.id === '') return undefined;
  const node: LineageNode = {
    id: n.id,
    kind: NODE_KINDS.includes(n.kind as LineageNodeKind) ? (n.kind as LineageNodeKind) : 'run',
    label: text(n.label),
    detail: text(n.detail),
  };
  if (typeof n.state === 'string') node.state = n.state;
  if (isLineageTarget(n.target)) node.target = n.target;
  if (typeof n.hidden === 'number' && Number.isSafeInteger(n.hidden) && n.hidden >= 0) node.hidden = n.hidden;
  return node;
}

/** A graph read back from JSON, every field checked: unknown nodes dropped, edges between known nodes only; throws when `v` is no graph at all. */
export function lineageGraphFromJson(v: unknown): LineageGraph {
  const g = record(v);
  if (!Array.isArray(g.nodes) || !Array.isArray(g.edges)) throw new Error('not a lineage graph: it has no nodes or no edges');
  const nodes: LineageNode[] = [];
  const ids = new Set<string>();
  for (const raw of g.nodes) {
    const n = nodeFromJson(raw);
    if (n && !ids.has(n.id)) {
      ids.add(n.id);
      nodes.push(n);
    }
  }
  const edges: LineageEdge[] = [];
  for (const raw of g.edges) {
    const e = record(raw);
    if (typeof e.from === 'string' && typeof e.to === 'string' && ids.has(e.from) && ids.has(e.to) && e.from !== e.to) edges.push({ from: e.from, to: e.to });
  }
  const graph: LineageGraph = {
    mode: g.mode === 'pipeline' ? 'pipeline' : 'lineage',
    title: text(g.title) || 'Lineage',
    nodes,
    edges,
    omitted: typeof g.omitted === 'number' && Number.isSafeInteger(g.omitted) && g.omitted >= 0 ? g.omitted : 0,
  };
  if (typeof g.focus === 'string' && ids.has(g.focus)) graph.focus = g.focus;
  return graph;
}
