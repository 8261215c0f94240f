/**
 * `runwise status [STAGE...] [--downstream] [--pipeline FILE] [--json]`: which stages a run would
 * run, and why (the lock files against the workspace as it is now). Exit 0 whatever the state; 1
 * when the pipelines cannot be loaded (each problem printed as `file:line:col: error: message
 * [code]` before the one-line summary) or a lock file is broken.
 */
import * as path from 'node:path';
import { flag, optionValue, type OptionSpecs, type ParsedArgs } from '../args';
import { CliError, type CommandContext } from '../context';
import { HashCache } from '../../pipeline/hashCache';
import { LockFileError } from '../../pipeline/lockFile';
import { loadPipeline } from '../../pipeline/loadPipeline';
import { formatPipelineDiagnostic, PipelineLoadError, type PipelineGraph, type StageDecision } from '../../pipeline/pipelineModel';
import { describeReason, planRun, StageTargetError } from '../../pipeline/stageStatus';
import { describeRule, type GateOutcome } from '../../pipeline/gates';
import { pathExists } from '../../workspace/workspaceRoot';

export const statusOptions: OptionSpecs = { pipeline: { value: true, short: 'p' }, downstream: {} };

/**
 * The workspace's pipelines (or the one `--pipeline` names: relative to the current folder, or else
 * to the workspace); a refusal prints every diagnostic on stderr and becomes a one-line CliError.
 * Unchanged pipelines are answered from the record of the last successful load (.runwise/cache).
 */
/** The workspace's pipelines for a command; refused ones print their diagnostics and end it (`refused` says what that means: `nothing was run`). */
export function loadGraphForCommand(ctx: CommandContext, args: ParsedArgs, refused?: string): PipelineGraph {
  const given = optionValue(args, 'pipeline');
  let pipelineFile: string | undefined;
  if (given !== undefined) {
    const fromCwd = path.resolve(given);
    pipelineFile = pathExists(fromCwd) || path.isAbsolute(given) ? fromCwd : given;
  }
  try {
    return loadPipeline(ctx.workspace, { pipelineFile, cache: true });
  } catch (e) {
    if (!(e instanceof PipelineLoadError)) throw e;
    for (const d of e.diagnostics) ctx.io.err(`${formatPipelineDiagnostic(d)}\n`);
    throw new CliError(refused && e.diagnostics.length ? `${e.message}: ${refused}` : e.message);
  }
}

export function status(ctx: CommandContext, args: ParsedArgs): void {
  const graph = loadGraphForCommand(ctx, args);
  const hashes = new HashCache(graph.root);
  if (hashes.discarded) ctx.io.err(`runwise: ${hashes.discarded}\n`);
  let decisions;
  try {
    decisions = planRun(graph, { targets: args.positionals, downstream: flag(args, 'downstream'), hashes });
  } catch (e) {
    if (e instanceof LockFileError || e instanceof StageTargetError) throw new CliError(e.message);
    throw e;
  } finally {
    hashes.save();
  }

  const held = heldStages(ctx, graph, decisions);
  if (ctx.json) {
    ctx.printJson(
      decisions.map((d) => {
        const s = graph.byId.get(d.id)!;
        const gate = held.get(d.id);
        return { id: d.id, name: s.name, file: s.file, line: s.line, action: gate ? 'held' : d.action, reasons: d.reasons.map((r) => ({ ...r, text: describeReason(r) })), ...(gate ? { held_by: heldJson(gate) } : {}) };
      }),
    );
    return;
  }
  const width = Math.min(40, Math.max(5, ...decisions.map((d) => d.id.length)));
  for (const d of decisions) {
    const why = d.reasons.map(describeReason);
    const gate = held.get(d.id);
    const text = gate
      ? heldText(gate, why)
      : d.action === 'run' ? why.join('; ') : d.action === 'skip' ? 'up to date' : why.length ? `frozen, stale: ${why.join('; ')}` : 'frozen, up to date';
    ctx.io.out(`${d.id.padEnd(width)}  ${(gate ? 'held' : d.action).padEnd(6)}  ${text}\n`);
  }
  const running = decisions.filter((d) => d.action === 'run' && !held.has(d.id)).length;
  ctx.io.err(`runwise: ${running} of ${decisions.length} stage${decisions.length === 1 ? '' : 's'} would run\n`);
}

/**
 * The stages planned to run that a failed gate above them would hold back, as the run finds first
 * (gatesHolding). The runner's module is loaded on use: a workspace without gates or a tracker does
 * not pay for it.
 */
export function heldStages(ctx: CommandContext, graph: PipelineGraph, decisions: readonly StageDecision[]): Map<string, GateOutcome> {
  if (!ctx.hasTracker() || graph.gates.length === 0 || !decisions.some((d) => d.action === 'run')) return new Map();
  return (require('../../pipeline/pipelineRun') as typeof import('../../pipeline/pipelineRun')).gatesHolding(graph, decisions, ctx.openTracker());
}

/** `held back by the gate … on stage 'train' (it failed: …); it would run because …`. */
export function heldText(g: GateOutcome, why: readonly string[]): string {
  return `held back by the gate '${describeRule(g.rule)}' on stage '${g.stage ?? ''}' (it failed on that stage's last metrics: ${g.detail ?? g.message})${why.length ? `; it would run because ${why.join('; ')}` : ''}`;
}

/** A held stage's gate for --json. */
export function heldJson(g: GateOutcome): { stage: string | null; gate: string; file: string; line: number; message: string } {
  return { stage: g.stage ?? null, gate: describeRule(g.rule), file: g.rule.file, line: g.rule.line, message: g.message };
}
