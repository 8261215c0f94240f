/**
 * Lays a lineage graph out in layers, left (upstream) to right (downstream), with dagre's layered
 * (Sugiyama) layout: ranks by longest path, crossings reduced by median ordering, coordinates by
 * Brandes–Köpf. Synchronous and small, it runs in the page under the webviews'
 * Content-Security-Policy (no worker, no eval). ELK's layered algorithm was used before: its
 * one-time set-up in a fresh page cost more than a 500-node layout with dagre (bench/README.md).
 * Browser code only.
 */
import { graphlib, layout } from '@dagrejs/dagre';
import type { LineageGraph } from '../../core/views/lineageGraphModel';

/** Every node's box; labels are cut to fit it (the full text is in the node's tooltip and accessible name). */
export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 44;
const PADDING = 16;

export interface NodeBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface EdgeRoute {
  from: string;
  to: string;
  /** The route's points, start to end. */
  points: [number, number][];
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: Map<string, NodeBox>;
  edges: EdgeRoute[];
}

/** Kept for the page's start-up: dagre has no set-up worth doing ahead of the first graph. */
export function warmUpLayout(): void {}

/** The layout of `graph`: node boxes (top-left corners) and edge routes in one coordinate space starting at (0, 0). */
export async function layoutGraph(graph: LineageGraph): Promise<GraphLayout> {
  const g = new graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 56, edgesep: 8, marginx: PADDING, marginy: PADDING });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  graph.edges.forEach((e, i) => {
    if (g.hasNode(e.from) && g.hasNode(e.to)) g.setEdge(e.from, e.to, {}, `e${i}`);
  });
  layout(g);
  const nodes = new Map<string, NodeBox>();
  for (const id of g.nodes()) {
    const n = g.node(id);
    nodes.set(id, { x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height });
  }
  const edges: EdgeRoute[] = graph.edges.map((e, i) => {
    const route = g.hasNode(e.from) && g.hasNode(e.to) ? g.edge({ v: e.from, w: e.to, name: `e${i}` }) : undefined;
    return { from: e.from, to: e.to, points: (route?.points ?? []).map((p: { x: number; y: number }) => [p.x, p.y] as [number, number]) };
  });
  const size = g.graph();
  return { width: size.width ?? 0, height: size.height ?? 0, nodes, edges };
}
