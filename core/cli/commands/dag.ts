/**
 * `runwise dag [--json|--dot|--mermaid|--html OUT] [--pipeline FILE]`: the stages and what feeds
 * what. Text lists the stages upstream first, each with the stages it depends on; `--dot` is
 * Graphviz, `--mermaid` a Mermaid flowchart, `--json` `{stages: [...], edges: [[from, to], ...]}`;
 * `--html OUT` the lineage view's pipeline graph with each stage's state, as an offline page.
 */
import { flag, optionValue, positionals, UsageError, type OptionSpecs, type ParsedArgs } from '../args';
import type { CommandContext } from '../context';
import type { PipelineGraph } from '../../pipeline/pipelineModel';
import { pipelineGraphNow, writeGraphHtml } from './lineage';
import { loadGraphForCommand } from './status';

export const dagOptions: OptionSpecs = { pipeline: { value: true, short: 'p' }, dot: {}, mermaid: {}, html: { value: true } };

export function dag(ctx: CommandContext, args: ParsedArgs): void {
  positionals(args, []);
  const formats = [ctx.json && 'json', flag(args, 'dot') && 'dot', flag(args, 'mermaid') && 'mermaid'].filter(Boolean);
  if (formats.length > 1) throw new UsageError(`choose one of --json, --dot, --mermaid (got ${formats.map((f) => `--${f}`).join(', ')})`);
  const graph = loadGraphForCommand(ctx, args);
  const html = optionValue(args, 'html');
  if (html !== undefined) {
    if (formats.length > 0) throw new UsageError('--html writes a page; it goes with none of --json, --dot, --mermaid');
    ctx.io.out(`Pipeline graph written to ${writeGraphHtml(pipelineGraphNow(graph), html)}\n`);
    return;
  }
  const edges = graph.stages.flatMap((s) => graph.upstream(s.id).map((u) => [u, s.id] as [string, string]));
  if (ctx.json) {
    ctx.printJson({
      stages: graph.stages.map((s) => ({
        id: s.id,
        file: s.file,
        line: s.line,
        cmd: s.cmd,
        ...(s.builtin ? { builtin: s.builtin } : {}),
        deps: s.deps,
        outs: s.outs.map((o) => o.path),
        upstream: graph.upstream(s.id),
        frozen: s.frozen,
      })),
      edges,
    });
  } else if (flag(args, 'dot')) ctx.io.out(dotText(graph, edges));
  else if (flag(args, 'mermaid')) ctx.io.out(mermaidText(graph, edges));
  else {
    for (const s of graph.stages) {
      const up = graph.upstream(s.id);
      ctx.io.out(`${s.id}${up.length ? `  <- ${up.join(', ')}` : ''}\n`);
    }
  }
}

function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function dotText(graph: PipelineGraph, edges: readonly [string, string][]): string {
  const lines = ['digraph pipeline {', '  rankdir=TB;', '  node [shape=box];'];
  for (const s of graph.stages) lines.push(`  ${dotString(s.id)};`);
  for (const [from, to] of edges) lines.push(`  ${dotString(from)} -> ${dotString(to)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

export function mermaidText(graph: PipelineGraph, edges: readonly [string, string][]): string {
  // Node ids are positional (stage ids may hold characters Mermaid does not accept); labels are quoted.
  const nodeId = new Map(graph.stages.map((s, i) => [s.id, `s${i}`]));
  const label = (id: string) => id.replace(/"/g, '#quot;');
  const lines = ['flowchart TD'];
  for (const s of graph.stages) lines.push(`  ${nodeId.get(s.id)}["${label(s.id)}"]`);
  for (const [from, to] of edges) lines.push(`  ${nodeId.get(from)} --> ${nodeId.get(to)}`);
  return `${lines.join('\n')}\n`;
}
