/**
 * Lineage graphs read from the tracker, around a model version, a run or a data file, and the graph
 * of the workspace's pipelines with each stage's state. The data (core/views/lineageGraphModel.ts)
 * is what the lineage webview draws and `runwise lineage --json` prints.
 *
 * What links what, all of it recorded by the tracker already:
 * - a data file is a path with a hash (`data:<path>@<digest>`): a run's dataset inputs (a stage's
 *   dependencies with their md5, an evaluation's data with its sha256 prefix) feed the run; a stage
 *   run's outputs (its `runwise/outputs.json` artifact: path and md5) come out of it, so a file one
 *   stage wrote and the next read is one node between them;
 * - a run feeds the model versions registered from it (directly or through its MLflow 3 logged
 *   model: the registry's own lineage, core/tracker/modelRegistry.ts's modelLineage, says which);
 * - a version feeds its aliases and the runs that evaluated its bytes (MODEL_SHA256_TAG).
 *
 * From the starting node the graph grows upstream and downstream in turns, breadth first, until
 * `maxNodes` (a run reached downstream also shows the other data it read, not followed further); a node whose neighbours did not all fit gets a `more` node saying how many were left.
 */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import type { PipelineGraph } from '../pipeline/pipelineModel';
import { stageStateText, type StageState } from '../pipeline/stageStateModel';
import { readStageGroupRecords, stageGroupRecordsDir } from '../pipeline/stageGroupRecords';
import { MODEL_SHA256_TAG, STAGE_TAG, type Run } from '../tracker/model';
import type { ModelLineage } from '../tracker/modelRegistry';
import { outputKey, recordedOutputs, runsWithOutputs, type RecordedOutput } from '../tracker/recordedOutputs';
import { isAlive } from '../tracker/processOwner';
import type { Tracker } from '../tracker/tracker';
import { TrackerError } from '../tracker/trackerError';
import type { LineageEdge, LineageGraph, LineageNode } from './lineageGraphModel';

/** Nodes shown before the graph is cut (the view stays interactive well past this: bench/webview/lineage.bench.ts). */
export const DEFAULT_MAX_NODES = 300;

export interface LineageGraphOptions {
  /** The most nodes (`more` nodes aside); default DEFAULT_MAX_NODES. */
  maxNodes?: number;
}

type Direction = 'up' | 'down';

const DIGEST_SHOWN = 12;

export const dataNodeId = (path: string, digest: string): string => `data:${path}@${digest}`;
export const runNodeId = (runId: string): string => `run:${runId}`;
export const versionNodeId = (name: string, version: string): string => `version:${name}/${version}`;

/**
 * Reads neighbours out of the tracker for one graph build. Each neighbour comes back as the node it
 * is; the walk decides whether it fits.
 */
class LineageSource {
  private outputsByRun = new Map<string, RecordedOutput[]>();
  private producers: Map<string, string[]> | undefined;
  /** When each run that recorded outputs started (start time, row id), read with `producers`. */
  private readonly producerStarts = new Map<string, [number, number]>();
  private runs = new Map<string, Run | null>();
  private versionLineages = new Map<string, ModelLineage>();

  constructor(private readonly tracker: Tracker) {}

  run(runId: string): Run | undefined {
    let run = this.runs.get(runId);
    if (run === undefined) {
      try {
        run = this.tracker.getRun(runId);
      } catch (e) {
        if (!(e instanceof TrackerError && e.code === 'RESOURCE_DOES_NOT_EXIST')) throw e;
        run = null;
      }
      this.runs.set(runId, run);
    }
    return run ?? undefined;
  }

  runNode(run: Run): LineageNode {
    const stage = run.tags.find((t) => t.key === STAGE_TAG)?.value;
    const evaluation = run.tags.some((t) => t.key === MODEL_SHA256_TAG);
    const status = run.info.status.toLowerCase();
    return {
      id: runNodeId(run.info.runId),
      kind: evaluation ? 'evaluation' : 'run',
      label: stage ?? (run.info.runName || run.info.runId.slice(0, 8)),
      // A stage run is named by its stage; its own name is shown too when it says something else.
      detail: `${stage !== undefined && run.info.runName && run.info.runName !== stage ? `${run.info.runName} · ` : ''}${status} · ${run.info.runId.slice(0, 8)}`,
      state: status,
      target: { kind: 'run', runId: run.info.runId },
    };
  }

  dataNode(path: string, digest: string): LineageNode {
    return {
      id: dataNodeId(path, digest),
      kind: 'dataset',
      label: path,
      detail: digest ? digest.slice(0, DIGEST_SHOWN) : 'no hash recorded',
      target: { kind: 'file', path },
    };
  }

  versionNode(name: string, version: string, sha256: string): LineageNode {
    return {
      id: versionNodeId(name, version),
      kind: 'model-version',
      label: `${name} v${version}`,
      detail: `sha256 ${sha256.slice(0, DIGEST_SHOWN)}`,
      target: { kind: 'model-version', name, version },
    };
  }

  /** A stage run's outputs (none when it recorded none or the record is unreadable). */
  outputsOf(runId: string): RecordedOutput[] {
    let outputs = this.outputsByRun.get(runId);
    if (outputs === undefined) {
      outputs = recordedOutputs(this.tracker, runId);
      this.outputsByRun.set(runId, outputs);
    }
    return outputs;
  }

  /** Runs that wrote `path` with `digest` (read once per build from every run's outputs record). */
  producersOf(path: string, digest: string): string[] {
    if (!this.producers) {
      this.producers = new Map();
      for (const { runId, startTime, rowId } of runsWithOutputs(this.tracker)) {
        this.producerStarts.set(runId, [startTime, rowId]);
        for (const o of this.outputsOf(runId)) {
          const key = outputKey(o.path, o.md5);
          const list = this.producers.get(key);
          if (list) list.push(runId);
          else this.producers.set(key, [runId]);
        }
      }
    }
    return this.producers.get(outputKey(path, digest)) ?? [];
  }

  /**
   * Every digest recorded for `path`, as a dataset input or a stage output, ordered by the last run
   * that read or wrote it: a file put back to an earlier version (v1, v2, then v1 again) has v1 last.
   */
  digestsOf(path: string): string[] {
    /** Per digest, the latest (start time, row id) of a run that used it. */
    const latest = new Map<string, [number, number]>();
    const seen = (digest: string, start: number, id: number) => {
      const at = latest.get(digest);
      if (!at || start > at[0] || (start === at[0] && id > at[1])) latest.set(digest, [start, id]);
    };
    const rows = this.tracker.db
      .prepare(
        `SELECT d.digest, r.start_time, r.id FROM run_inputs i JOIN datasets d ON d.dataset_id = i.dataset_id JOIN runs r ON r.id = i.run_id
          WHERE (d.source = ? OR (d.source = '' AND d.name = ?)) AND r.lifecycle_stage = 'active'`,
      )
      .all(path, path);
    for (const row of rows) seen(String(row.digest), Number(row.start_time), Number(row.id));
    this.producersOf(path, '');
    for (const [key, runIds] of this.producers!) {
      const [p, d] = key.split('\0') as [string, string];
      // Producers are in start order: the last is the latest to write this digest.
      const start = p === path ? this.producerStarts.get(runIds[runIds.length - 1]!) : undefined;
      if (start) seen(d, start[0], start[1]);
    }
    return [...latest.entries()].sort((a, b) => a[1][0] - b[1][0] || a[1][1] - b[1][1]).map(([d]) => d);
  }

  neighbours(node: LineageNode, direction: Direction): { node: LineageNode; edge: LineageEdge }[] {
    const link = (other: LineageNode) => ({ node: other, edge: direction === 'up' ? { from: other.id, to: node.id } : { from: node.id, to: other.id } });
    const target = node.target;
    if ((node.kind === 'run' || node.kind === 'evaluation') && target?.kind === 'run') {
      const run = this.run(target.runId);
      if (!run) return [];
      if (direction === 'up') {
        const inputs = run.inputs.map((i) => link(this.dataNode(i.dataset.source || i.dataset.name, i.dataset.digest)));
        const modelHash = run.tags.find((t) => t.key === MODEL_SHA256_TAG)?.value;
        const models = modelHash ? this.versionsWithHash(modelHash).map(link) : [];
        return [...models, ...inputs];
      }
      const outputs = this.outputsOf(target.runId).map((o) => link(this.dataNode(o.path, o.md5 ?? '')));
      return [...outputs, ...this.versionsFromRun(target.runId).map(link)];
    }
    if (node.kind === 'dataset' && target?.kind === 'file') {
      const digest = node.id.slice(node.id.lastIndexOf('@') + 1);
      const runIds = direction === 'up' ? this.producersOf(target.path, digest) : this.consumersOf(target.path, digest);
      return runIds.flatMap((id) => {
        const run = this.run(id);
        return run ? [link(this.runNode(run))] : [];
      });
    }
    if (node.kind === 'model-version' && target?.kind === 'model-version') {
      const lineage = this.lineageOf(target.name, target.version);
      if (direction === 'up') {
        const source = lineage.sourceRun ? this.run(lineage.sourceRun.runId) : undefined;
        return source ? [link(this.runNode(source))] : [];
      }
      const aliases = lineage.aliases.map((alias) =>
        link({ id: `alias:${target.name}@${alias}`, kind: 'alias', label: `@${alias}`, detail: target.name, target }),
      );
      const evaluations = lineage.evaluations.flatMap((e) => {
        const run = this.run(e.runId);
        return run ? [link(this.runNode(run))] : [];
      });
      return [...aliases, ...evaluations];
    }
    return [];
  }

  /** The registry's lineage of a version (asked once per build: the walk needs it upstream and downstream). */
  private lineageOf(name: string, version: string): ModelLineage {
    const key = `${name}\0${version}`;
    let lineage = this.versionLineages.get(key);
    if (!lineage) {
      lineage = this.tracker.modelLineage(name, version);
      this.versionLineages.set(key, lineage);
    }
    return lineage;
  }

  private consumersOf(path: string, digest: string): string[] {
    return this.tracker.db
      .prepare(
        `SELECT DISTINCT r.run_uuid, r.start_time, r.id FROM run_inputs i JOIN datasets d ON d.dataset_id = i.dataset_id JOIN runs r ON r.id = i.run_id
          WHERE d.digest = ? AND (d.source = ? OR (d.source = '' AND d.name = ?)) AND r.lifecycle_stage = 'active' ORDER BY r.start_time, r.id`,
      )
      .all(digest, path, path)
      .map((r) => String(r.run_uuid));
  }

  private versionRows(where: string, ...values: string[]): LineageNode[] {
    return this.tracker.db
      .prepare(`SELECT m.name, v.version, v.sha256 FROM model_versions v JOIN registered_models m ON m.id = v.model_id WHERE ${where} ORDER BY m.name, v.version`)
      .all(...values)
      .map((r) => this.versionNode(String(r.name), String(r.version), String(r.sha256)));
  }

  private versionsWithHash(sha256: string): LineageNode[] {
    return this.versionRows('v.sha256 = ?', sha256);
  }

  /** Versions registered from the run, or from a logged model the run produced. */
  private versionsFromRun(runId: string): LineageNode[] {
    return this.versionRows('v.run_id = ? OR v.logged_model_id IN (SELECT model_id FROM logged_models WHERE source_run_id = ?)', runId, runId);
  }
}

/**
 * Grows the graph from `starts` upstream and downstream in turns, breadth first, until `maxNodes`.
 * Past the cap each node still waiting is asked for its neighbours, and those not in the graph are
 * counted into one `more` node beside it.
 */
function walk(source: LineageSource, starts: readonly LineageNode[], maxNodes: number): { nodes: LineageNode[]; edges: LineageEdge[]; omitted: number } {
  const nodes = new Map<string, LineageNode>();
  const edges = new Map<string, LineageEdge>();
  const addEdge = (e: LineageEdge) => edges.set(`${e.from}\n${e.to}`, e);
  for (const s of starts) nodes.set(s.id, s);
  let shown = nodes.size;
  const queues: Record<Direction, LineageNode[]> = { up: [...starts], down: [...starts] };
  const expanded: Record<Direction, Set<string>> = { up: new Set(), down: new Set() };
  let omitted = 0;
  /** Nodes shown as side inputs only, not followed (yet). */
  const leaves = new Set<string>();
  let turn: Direction = 'up';
  while (queues.up.length > 0 || queues.down.length > 0) {
    if (queues[turn].length === 0) turn = turn === 'up' ? 'down' : 'up';
    const direction = turn;
    turn = turn === 'up' ? 'down' : 'up';
    const node = queues[direction].shift()!;
    if (expanded[direction].has(node.id)) continue;
    expanded[direction].add(node.id);
    let hidden = 0;
    // A run reached going downstream also shows the other data it read (as leaves, not followed up):
    // an evaluation's data set, a stage's second input.
    const sideInputs = direction === 'down' && (node.kind === 'run' || node.kind === 'evaluation') && !starts.includes(node)
      ? source.neighbours(node, 'up').filter((n) => n.node.kind === 'dataset').map((n) => ({ ...n, leaf: true }))
      : [];
    for (const n of [...source.neighbours(node, direction), ...sideInputs]) {
      if (nodes.has(n.node.id)) {
        addEdge(n.edge);
        // Shown first as a side input (a leaf), now reached on the walk itself: followed after all,
        // so that where it came from is not left out (the data a stage wrote and a later run read).
        if (!('leaf' in n) && leaves.delete(n.node.id)) queues[direction].push(nodes.get(n.node.id)!);
        continue;
      }
      if (shown >= maxNodes) {
        hidden++;
        continue;
      }
      nodes.set(n.node.id, n.node);
      shown++;
      addEdge(n.edge);
      if (!('leaf' in n)) queues[direction].push(n.node);
      else leaves.add(n.node.id);
    }
    if (hidden > 0) {
      omitted += hidden;
      const more: LineageNode = { id: `more:${node.id}:${direction}`, kind: 'more', label: `${hidden} more…`, detail: direction === 'up' ? 'upstream' : 'downstream', hidden };
      nodes.set(more.id, more);
      addEdge(direction === 'up' ? { from: more.id, to: node.id } : { from: node.id, to: more.id });
    }
  }
  // A side input left a leaf (an evaluation's data that no stage of the walk read) still gets its
  // edges from the runs shown that wrote it: prepare → live.csv when both are drawn.
  for (const id of leaves) {
    for (const n of source.neighbours(nodes.get(id)!, 'up')) if (nodes.has(n.node.id)) addEdge(n.edge);
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()], omitted };
}

const capOf = (options: LineageGraphOptions): number => Math.max(1, Math.floor(options.maxNodes ?? DEFAULT_MAX_NODES));

/** The lineage of a registered model version: where it came from, its aliases and its evaluations. */
export function modelVersionLineageGraph(tracker: Tracker, name: string, version: string, options: LineageGraphOptions = {}): LineageGraph {
  const mv = tracker.registry.getModelVersion(name, version);
  const source = new LineageSource(tracker);
  const start = source.versionNode(mv.name, mv.version, mv.sha256);
  return { mode: 'lineage', title: `Lineage of ${mv.name} v${mv.version}`, focus: start.id, ...walk(source, [start], capOf(options)) };
}

/** The lineage of a run: its inputs and where they came from, what it wrote and who read that, the versions registered from it. */
export function runLineageGraph(tracker: Tracker, runId: string, options: LineageGraphOptions = {}): LineageGraph {
  const source = new LineageSource(tracker);
  const run = source.run(runId);
  if (!run) throw new TrackerError('RESOURCE_DOES_NOT_EXIST', `Run '${runId}' not found.`);
  const start = source.runNode(run);
  return { mode: 'lineage', title: `Lineage of run ${start.label}`, focus: start.id, ...walk(source, [start], capOf(options)) };
}

/**
 * The lineage of a workspace file (`/`-separated, workspace-relative): every version of it the
 * tracker saw (each hash a node), the runs that wrote and read each, and onwards. The focus is the
 * version the latest run read or wrote; a file no run used gives a graph of that one node.
 */
export function dataFileLineageGraph(tracker: Tracker, filePath: string, options: LineageGraphOptions & { exists?: boolean } = {}): LineageGraph {
  const source = new LineageSource(tracker);
  const starts = source.digestsOf(filePath).map((d) => source.dataNode(filePath, d));
  if (starts.length === 0) {
    // A file inside a folder the runs recorded as one output or input (data/prepared): the folder's
    // lineage, when the file is there (`exists: false`, a path that is not: no lineage).
    for (let dir = path.posix.dirname(filePath); options.exists !== false && dir !== '.' && dir !== '/' && dir !== ''; dir = path.posix.dirname(dir)) {
      const folder = source.digestsOf(dir).map((d) => source.dataNode(dir, d));
      if (folder.length) return { mode: 'lineage', title: `Lineage of ${filePath} (recorded as part of ${dir})`, focus: folder[folder.length - 1]!.id, ...walk(source, folder, capOf(options)) };
    }
    const only: LineageNode = { ...source.dataNode(filePath, ''), detail: 'not used by any run' };
    return { mode: 'lineage', title: `Lineage of ${filePath}`, focus: only.id, nodes: [only], edges: [], omitted: 0 };
  }
  return { mode: 'lineage', title: `Lineage of ${filePath}`, focus: starts[starts.length - 1]!.id, ...walk(source, starts, capOf(options)) };
}

/**
 * The workspace's pipelines as a graph: one node per stage (opening it opens the stage in its
 * file), an edge from each stage to the stages reading its outputs, each node's state and its text
 * as the Pipeline view shows them (`stateOf`: the plan's decision and what the session saw run).
 */
export function pipelineLineageGraph(graph: Pick<PipelineGraph, 'stages' | 'upstream'>, stateOf: (stageId: string) => StageState, now = Date.now()): LineageGraph {
  const nodes: LineageNode[] = graph.stages.map((s) => {
    const state = stateOf(s.id);
    return {
      id: `stage:${s.id}`,
      kind: 'stage',
      label: s.id,
      detail: stageStateText(state, now),
      state: state.kind,
      target: { kind: 'file', path: s.file, line: s.line },
    };
  });
  const edges = graph.stages.flatMap((s) => graph.upstream(s.id).map((u) => ({ from: `stage:${u}`, to: `stage:${s.id}` })));
  return { mode: 'pipeline', title: 'Pipeline', nodes, edges, omitted: 0 };
}

/**
 * Stages that a live runner in another process (a `runwise run` in a terminal) runs now, from the
 * records it keeps while a stage's commands run (core/pipeline/stageGroupRecords.ts), each with
 * when its record was written (ms since the epoch). A record whose runner is gone does not count.
 */
export function stagesRunningElsewhere(workspace: string): Map<string, number> {
  const running = new Map<string, number>();
  for (const r of readStageGroupRecords(workspace)) {
    if (!isAlive(r.runner)) continue;
    let since: number;
    try {
      since = statSync(path.join(stageGroupRecordsDir(workspace), `${r.runId}.json`)).mtimeMs;
    } catch {
      continue; // the record went meanwhile: the stage ended
    }
    running.set(r.stage, Math.min(running.get(r.stage) ?? Infinity, since));
  }
  return running;
}

/** `stateOf` with the stages in `elsewhere` (stagesRunningElsewhere) running since then, unless already seen running. */
export function withStagesRunningElsewhere(stateOf: (stageId: string) => StageState, elsewhere: ReadonlyMap<string, number>): (stageId: string) => StageState {
  return (id) => {
    const own = stateOf(id);
    const since = elsewhere.get(id);
    return since !== undefined && own.kind !== 'running' ? { kind: 'running', reasons: own.reasons, startedAt: since } : own;
  };
}
