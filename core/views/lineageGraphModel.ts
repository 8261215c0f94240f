/**
 * The lineage view's graph as plain data: what core/views/lineageGraph.ts builds from the tracker
 * (or from a pipeline and its stage states), what `runwise lineage --json` prints, and what the
 * lineage webview (webview/lineage) lays out and draws. No Node, no editor API: the webview imports
 * this module too.
 *
 * Node ids are stable across rebuilds of the same graph (`run:<run id>`, `data:<path>@<digest>`,
 * `version:<name>/<version>`, `alias:<name>@<alias>`, `stage:<stage id>`, `more:<node id>:<up|down>`),
 * so a page can keep its layout when only states change.
 */

/** The id of the JSON data block the offline page (`runwise lineage --html`) carries its graph in. */
export const LINEAGE_DATA_ID = 'runwise-lineage-graph';

export type LineageNodeKind = 'dataset' | 'run' | 'evaluation' | 'model-version' | 'alias' | 'stage' | 'more';

/** What opening a node opens: a run's details, a workspace file (at a line), a registered model version. */
export type LineageTarget =
  | { kind: 'run'; runId: string }
  | { kind: 'file'; path: string; line?: number }
  | { kind: 'model-version'; name: string; version: string };

export interface LineageNode {
  id: string;
  kind: LineageNodeKind;
  /** The first line: a file path, a run or stage name, `churn v3`, `@champion`, `3 more…`. */
  label: string;
  /** The second line: a hash, a run's status, a stage's state in words. */
  detail: string;
  /**
   * A run's status in lower case (`finished`, `running`, `failed`, `killed`, `scheduled`) or a
   * stage's state (core/pipeline/stageStateModel.ts's StageStateKind); the page colours by it.
   */
  state?: string;
  target?: LineageTarget;
  /** On a `more` node: how many neighbours were left out. */
  hidden?: number;
}

/** `from` feeds `to`: data into the run that read it, a run into what it wrote or registered. */
export interface LineageEdge {
  from: string;
  to: string;
}

export interface LineageGraph {
  /** `lineage`: data, runs and models from the tracker; `pipeline`: the stages of the workspace's pipelines. */
  mode: 'lineage' | 'pipeline';
  /** What the graph is of, for the page's heading: `Lineage of churn v3`, `Pipeline`. */
  title: string;
  /** The node the graph was built around (absent for a pipeline). */
  focus?: string;
  nodes: LineageNode[];
  edges: LineageEdge[];
  /** How many neighbours the cap left out in all, the sum of the `more` nodes' counts (a node cut off from two places counts twice). */
  omitted: number;
}

/** The node ids reachable from `start` following edges against (`up`) or along (`down`) their direction, `start` included. */
export function reachable(edges: readonly LineageEdge[], start: string, direction: 'up' | 'down'): Set<string> {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    const [a, b] = direction === 'down' ? [e.from, e.to] : [e.to, e.from];
    const list = next.get(a);
    if (list) list.push(b);
    else next.set(a, [b]);
  }
  const seen = new Set([start]);
  const queue = [start];
  while (queue.length > 0) {
    for (const n of next.get(queue.pop()!) ?? []) {
      if (!seen.has(n)) {
        seen.add(n);
        queue.push(n);
      }
    }
  }
  return seen;
}

/** Whether two graphs have the same nodes and edges (states, labels and details aside): the page then keeps its layout. */
export function sameShape(a: LineageGraph, b: LineageGraph): boolean {
  if (a.nodes.length !== b.nodes.length || a.edges.length !== b.edges.length) return false;
  const ids = new Set(a.nodes.map((n) => n.id));
  if (!b.nodes.every((n) => ids.has(n.id))) return false;
  const edges = new Set(a.edges.map((e) => `${e.from}\n${e.to}`));
  return b.edges.every((e) => edges.has(`${e.from}\n${e.to}`));
}

/** A one-line description of a node for screen readers: kind, label, detail. */
export function nodeDescription(n: LineageNode): string {
  const kind: Record<LineageNodeKind, string> = {
    dataset: 'Data file',
    run: 'Run',
    evaluation: 'Evaluation run',
    'model-version': 'Model version',
    alias: 'Alias',
    stage: 'Stage',
    more: 'More',
  };
  return [kind[n.kind], n.label, n.detail].filter((s) => s !== '').join(', ');
}
