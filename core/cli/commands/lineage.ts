/**
 * `runwise lineage NAME[/VERSION|@ALIAS] | --run RUN | --file PATH [--json] [--html OUT] [--max-nodes N]`:
 * the lineage graph the editor's lineage view draws (core/views/lineageGraph.ts) — data files with
 * their hashes, stage and evaluation runs, model versions and aliases — around a model version (the
 * latest when none is named), a run or a workspace file. Text lists the nodes upstream first with
 * what feeds each; `--json` prints the graph as the view gets it; `--html OUT` writes the view itself
 * as one self-contained offline page (core/drift/driftHtml.ts's shell: inlined bundle, strict CSP,
 * no request leaves the file).
 */
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { intOption, optionValue, UsageError, type OptionSpecs, type ParsedArgs } from '../args';
import { oneLine } from '../table';
import { CliError, type CommandContext } from '../context';
import { readViewAssets, selfContainedViewHtml } from '../../drift/driftHtml';
import { HashCache } from '../../pipeline/hashCache';
import { LockFileError } from '../../pipeline/lockFile';
import type { PipelineGraph } from '../../pipeline/pipelineModel';
import { stageState } from '../../pipeline/stageStateModel';
import { planRun } from '../../pipeline/stageStatus';
import {
  dataFileLineageGraph,
  modelVersionLineageGraph,
  pipelineLineageGraph,
  runLineageGraph,
  stagesRunningElsewhere,
  withStagesRunningElsewhere,
  type LineageGraphOptions,
} from '../../views/lineageGraph';
import { LINEAGE_DATA_ID, type LineageGraph, type LineageNode } from '../../views/lineageGraphModel';
import { relativeInside, resolveInside } from '../../workspace/workspacePath';

export const lineageOptions: OptionSpecs = { html: { value: true }, run: { value: true }, file: { value: true }, 'max-nodes': { value: true } };

export function lineage(ctx: CommandContext, args: ParsedArgs): void {
  const run = optionValue(args, 'run');
  const file = optionValue(args, 'file');
  const [ref, extra] = args.positionals;
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
  const starts = [ref !== undefined, run !== undefined, file !== undefined].filter(Boolean).length;
  if (starts !== 1) throw new UsageError('name one of: a model (NAME[/VERSION|@ALIAS]), --run RUN, --file PATH');
  const maxNodes = intOption(args, 'max-nodes', 1, 100_000);
  const options: LineageGraphOptions = maxNodes !== undefined ? { maxNodes } : {};
  const tracker = ctx.openTracker();
  let graph: LineageGraph;
  if (run !== undefined) graph = runLineageGraph(tracker, tracker.resolveRunId(run), options);
  else if (file !== undefined) {
    // Relative to the current folder inside the workspace (else to the workspace), recorded as the
    // tracker has it: workspace-relative, `/`-separated; a path outside is refused.
    const base = relativeInside(path.resolve(ctx.workspace), process.cwd()) !== undefined ? process.cwd() : ctx.workspace;
    const abs = resolveInside(ctx.workspace, file, base);
    const rel = path.relative(ctx.workspace, abs).split(path.sep).join('/');
    const exists = existsSync(abs);
    graph = dataFileLineageGraph(tracker, rel, { ...options, exists });
    // A file gone from disk may still have lineage (runs recorded it); one that neither exists nor was recorded is a typo.
    if (!exists && graph.edges.length === 0) throw new CliError(`--file ${file}: no such file (${rel} in the workspace), and no run recorded it`);
  } else {
    const v = tracker.registry.resolveVersion(tracker.registry.parseRef(ref!));
    graph = modelVersionLineageGraph(tracker, v.name, v.version, options);
  }
  const html = optionValue(args, 'html');
  if (html !== undefined) {
    const out = writeGraphHtml(graph, html);
    if (!ctx.json) ctx.io.out(`Lineage written to ${out}\n`);
  }
  if (ctx.json) ctx.printJson(graph);
  else if (html === undefined) ctx.io.out(lineageText(graph));
}

/** Writes `graph` as the lineage view's offline page at `file` (`--html FILE`); returns the path as shown to the user. */
export function writeGraphHtml(graph: LineageGraph, file: string): string {
  const out = path.resolve(file);
  try {
    writeFileSync(out, selfContainedViewHtml({ title: graph.title, assets: readViewAssets('lineage', 'the lineage view'), dataId: LINEAGE_DATA_ID, data: graph }));
  } catch (e) {
    // The view not built, or the file not writable: one line, not a stack.
    throw new CliError(`--html ${file}: ${(e as Error).message}`);
  }
  return path.relative(process.cwd(), out) || out;
}

/**
 * The pipeline graph with each stage's state as `runwise status` decides it (the lock files against
 * the workspace now), and running where a live `runwise run` runs it (its stage records).
 */
export function pipelineGraphNow(graph: PipelineGraph): LineageGraph {
  const hashes = new HashCache(graph.root);
  let decisions;
  try {
    decisions = new Map(planRun(graph, { hashes }).map((d) => [d.id, d]));
  } catch (e) {
    if (e instanceof LockFileError) throw new CliError(e.message);
    throw e;
  } finally {
    hashes.save();
  }
  return pipelineLineageGraph(graph, withStagesRunningElsewhere((id) => stageState(decisions.get(id), undefined), stagesRunningElsewhere(graph.root)));
}

/** A node as a "from" list names it: a run with its short id (two runs of one stage read alike), anything else by its label. */
function shortName(n: LineageNode): string {
  return n.target?.kind === 'run' ? `${n.label} ${n.target.runId.slice(0, 8)}` : n.label;
}

/** The graph as text: nodes upstream first (a topological order), each with what feeds it. */
export function lineageText(graph: LineageGraph): string {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const inputs = new Map<string, string[]>();
  const indegree = new Map(graph.nodes.map((n) => [n.id, 0]));
  for (const e of graph.edges) {
    inputs.set(e.to, [...(inputs.get(e.to) ?? []), e.from]);
    indegree.set(e.to, (indegree.get(e.to) ?? 0) + 1);
  }
  const order: LineageNode[] = [];
  const ready = graph.nodes.filter((n) => indegree.get(n.id) === 0);
  const outs = new Map<string, string[]>();
  for (const e of graph.edges) outs.set(e.from, [...(outs.get(e.from) ?? []), e.to]);
  while (ready.length > 0) {
    const n = ready.shift()!;
    order.push(n);
    for (const to of outs.get(n.id) ?? []) {
      const left = indegree.get(to)! - 1;
      indegree.set(to, left);
      if (left === 0) ready.push(byId.get(to)!);
    }
  }
  // Lineage has no cycles; should a record make one, its nodes still get listed.
  for (const n of graph.nodes) if (!order.includes(n)) order.push(n);
  const kind: Record<LineageNode['kind'], string> = { dataset: 'data', run: 'run', evaluation: 'evaluation', 'model-version': 'version', alias: 'alias', stage: 'stage', more: '…' };
  const lines = [`${graph.title} (${graph.nodes.length} node${graph.nodes.length === 1 ? '' : 's'}, ${graph.edges.length} link${graph.edges.length === 1 ? '' : 's'}${graph.omitted > 0 ? `, ${graph.omitted} more not shown` : ''})`];
  for (const n of order) {
    const mark = n.id === graph.focus ? '  ←' : '';
    lines.push(`${kind[n.kind].padEnd(10)}  ${n.label}${n.detail ? `  (${n.detail})` : ''}${mark}`);
    const from = inputs.get(n.id) ?? [];
    if (from.length > 0) lines.push(`${' '.repeat(12)}from ${from.map((id) => shortName(byId.get(id)!)).join(', ')}`);
  }
  // Each entry one line: a run or file name holding a line break cannot add lines of its own.
  return `${lines.map(oneLine).join('\n')}\n`;
}
