/**
 * `runwise run [STAGE...] [-j N] [--force] [--dry] [--downstream] [--pipeline FILE]`: runs what is
 * out of date, as `dvc repro` does, logging every stage as a child run of one pipeline run.
 *
 * Progress goes to stderr: on a terminal, a live block of the running stages (elapsed time, last
 * line of output) under the lines of finished ones; otherwise one plain line per event (stage
 * output prefixed with the stage). The summary table (or `--json`) goes to stdout. Exit 1 when a
 * stage or a gate failed, 130 when interrupted (Ctrl-C: every stage's process group is stopped
 * first). Before planning, stages a killed runner left running are stopped and their runs failed
 * (said on stderr). `--dry` prints the plan and runs (and stops) nothing. `--single` runs only the
 * named stages, none upstream (what an orchestrator's task runs; see core/pipeline/export).
 * `--push` / `--push-to REMOTE` copy the runs to an MLflow Tracking Server once the run has ended.
 */
import type { Remote } from '../../sync/remoteConfig';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { flag, intOption, optionValue, UsageError, type ParsedArgs } from '../args';
import { CliError, type CommandContext } from '../context';
import { renderTable } from '../table';
import { HashCache } from '../../pipeline/hashCache';
import { LockFileError } from '../../pipeline/lockFile';
import { gateMark, type GateOutcome } from '../../pipeline/gates';
import type { PipelineGraph, StageDecision } from '../../pipeline/pipelineModel';
import { runPipeline, type PipelineRunEvent, type StageReport } from '../../pipeline/pipelineRun';
import { PipelineBusyError } from '../../pipeline/runnerLock';
import { stopLeftoverStages } from '../../pipeline/stageGroupRecords';
import { describeReason, planRun, resolveTarget, staleAbove, StageTargetError } from '../../pipeline/stageStatus';
import { formatDuration } from '../../views/displayFormat';
import { keyMetricsText, summarizeRun } from '../../views/runsTreeModel';
import { heldJson, heldStages, heldText, loadGraphForCommand } from './status';


/** A run that ended badly: the summary is printed; main exits with this code. */
export class PipelineRunFailed extends CliError {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export async function run(ctx: CommandContext, args: ParsedArgs): Promise<void> {
  const jobs = intOption(args, 'jobs', 1, 1024);
  const graph = loadGraphForCommand(ctx, args, 'nothing was run');
  // Where --push goes is settled before any stage runs: a missing MLFLOW_TRACKING_URI or remote fails
  // now, not after the work (and `--dry` says so as the run would).
  const pushTo = pushRemote(ctx, args);
  if (!flag(args, 'dry')) {
    // Before planning: stages a killed runner left running would still be writing their outputs.
    for (const l of await stopLeftoverStages(graph.root, ctx.openTracker(true))) {
      const what = l.stopped ? 'stopped the processes it left running' : 'its processes had ended';
      ctx.io.err(`runwise: stage '${l.stage}' (run ${l.runId.slice(0, 8)}) was running when its runner stopped: ${what}${l.runMarked ? '; its run is FAILED' : ''}\n`);
    }
  }
  const hashes = new HashCache(graph.root);
  if (hashes.discarded) ctx.io.err(`runwise: ${hashes.discarded}\n`);
  let decisions: StageDecision[];
  let stale: Map<string, string> | undefined;
  const single = flag(args, 'single');
  if (single && args.positionals.length === 0) throw new UsageError('--single needs the STAGE to run');
  if (single && flag(args, 'downstream')) throw new UsageError('--single runs only the stages named: it does not go with --downstream');
  try {
    decisions = planRun(graph, { targets: args.positionals, downstream: flag(args, 'downstream'), force: flag(args, 'force'), hashes });
    if (single) {
      const ids = new Set(args.positionals.flatMap((t) => resolveTarget(graph, t)));
      // The runner checks the gates about these stages and those of the stages above them (a failed
      // one holds them back: an orchestrator retrying one task does not register a rejected model).
      // The stages above these that are out of date: their gates are not judged on old metrics.
      stale = staleAbove(graph, ids, hashes);
      decisions = singleStageDecisions(graph, decisions, ids);
    }
  } catch (e) {
    if (e instanceof LockFileError || e instanceof StageTargetError) throw new CliError(e.message);
    throw e;
  }

  if (flag(args, 'dry')) {
    hashes.save();
    printPlan(ctx, graph, decisions);
    return;
  }

  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  const progress = process.stderr.isTTY && !ctx.json ? new LiveProgress(ctx) : new PlainProgress(ctx);
  let result;
  try {
    result = await runPipeline({
      graph,
      decisions,
      tracker: ctx.openTracker(true),
      hashes,
      ...(jobs !== undefined ? { jobs } : {}),
      signal: controller.signal,
      onEvent: (e) => progress.event(e),
      ...(optionValue(args, 'experiment') !== undefined ? { experimentName: optionValue(args, 'experiment')! } : {}),
      // Gates judge the whole pipeline; a run of chosen stages checks the ones about those stages.
      gates: true,
      ...(stale ? { stale } : {}),
    });
  } catch (e) {
    if (e instanceof PipelineBusyError) throw new CliError(e.message);
    throw e;
  } finally {
    progress.stop();
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    hashes.save();
  }

  const tracker = ctx.openTracker();
  const metricsText = (r: StageReport) => (r.runId ? keyMetricsText(summarizeRun(tracker.getRun(r.runId)), [], 3) : '');
  if (ctx.json) {
    ctx.printJson({
      run_id: result.runId ?? null,
      experiment_id: result.experimentId,
      ok: result.ok,
      cancelled: result.cancelled,
      stages: result.stages.map((s) => ({
        id: s.id,
        status: s.status,
        run_id: s.runId ?? null,
        duration_ms: s.durationMs ?? null,
        exit_code: s.exitCode ?? null,
        message: s.message ?? null,
        metrics: s.metrics ?? {},
        reasons: s.reasons.map((r) => ({ ...r, text: describeReason(r) })),
      })),
      gates: result.gates.map((g) => ({ metric: g.rule.metric, op: g.rule.op, value: g.rule.value, file: g.rule.file, line: g.rule.line, passed: g.passed, checked: !g.unchecked && !g.notJudged, stage: g.stage ?? null, actual: g.actual ?? null, expected: g.expected ?? null, message: g.message })),
    });
  } else {
    ctx.io.out(
      `${renderTable(
        ['stage', 'status', 'duration', 'metrics', 'why'],
        result.stages.map((s) => [s.id, statusText(s), s.durationMs !== undefined && s.runId ? formatDuration(s.durationMs) : '', metricsText(s), whyText(s)]),
        { maxCell: 60, rightAligned: new Set([2]) },
      )}\n`,
    );
    for (const g of result.gates) ctx.io.out(`${gateLine(g)}\n`);
    ctx.io.out(result.runId ? `Pipeline run ${result.runId} (runwise runs show ${result.runId.slice(0, 8)})\n` : result.ok ? 'Nothing to run: every stage is up to date.\n' : 'Nothing was run.\n');
  }

  if (pushTo && result.runId && !result.cancelled) await pushRunsTo(ctx, args, pushTo, [result.runId, ...result.stages.flatMap((s) => (s.runId ? [s.runId] : []))]);

  if (result.cancelled) throw new PipelineRunFailed('interrupted: every stage was stopped', 130);
  if (!result.ok) {
    const failed = result.stages.filter((s) => s.status === 'failed').map((s) => s.id);
    const gatesFailed = result.gates.filter((g) => !g.passed && !g.unchecked && !g.notJudged).length;
    const gatesNotJudged = result.gates.filter((g) => g.notJudged).length;
    const parts = [
      ...(failed.length ? [`stage${failed.length === 1 ? '' : 's'} ${failed.join(', ')} failed`] : []),
      ...(gatesFailed ? [`${gatesFailed} gate${gatesFailed === 1 ? '' : 's'} failed`] : []),
      ...(gatesNotJudged ? [`${gatesNotJudged} gate${gatesNotJudged === 1 ? '' : 's'} not judged (a stage above is out of date)`] : []),
    ];
    throw new PipelineRunFailed(parts.join('; ') || 'the pipeline did not finish', 1);
  }
}

/** The server `--push` or `--push-to REMOTE` names (undefined when neither is given); a CLI error when it names none or its credentials are not set. */
function pushRemote(ctx: CommandContext, args: ParsedArgs): Remote | undefined {
  const to = optionValue(args, 'push-to');
  if (!flag(args, 'push') && to === undefined) return undefined;
  const { authorizationHeader, getRemote, remoteFromEnvironment } = require('../../sync/remoteConfig') as typeof import('../../sync/remoteConfig');
  const { asCliError } = require('./remote') as typeof import('./remote');
  try {
    const remote = to !== undefined ? getRemote(ctx.workspace, to) : remoteFromEnvironment();
    // Its credentials' variables are read now too: an unset one fails before the stages, not after them.
    authorizationHeader(remote);
    return remote;
  } catch (e) {
    throw asCliError(e);
  }
}

/**
 * `--push` (to the server MLFLOW_TRACKING_URI names, with MLflow's credential variables) or
 * `--push-to REMOTE` (from .runwise/config): the pipeline run and its stage runs, failed ones
 * included, copied there once the run has ended, as `runwise push` would. An orchestrator's task
 * runs `runwise run STAGE --single --push`, so each stage's run lands in the team's tracker with
 * the tags of a local run. The runs stay in this workspace too; a push that fails says how to retry.
 */
async function pushRunsTo(ctx: CommandContext, args: ParsedArgs, remote: Remote, runIds: string[]): Promise<void> {
  const to = optionValue(args, 'push-to');
  const { pushRuns } = require('../../sync/pushRuns') as typeof import('../../sync/pushRuns');
  const { asCliError, withProgressAndInterrupt } = require('./remote') as typeof import('./remote');
  const tracker = ctx.openTracker();
  try {
    const summary = await withProgressAndInterrupt((signal, onEvent) => pushRuns(tracker, remote, { runs: runIds }, { client: { signal }, onEvent }));
    ctx.io.err(`runwise: pushed ${summary.runs} run(s) to ${remote.uri}: ${summary.created} created, ${summary.updated} updated, ${summary.upToDate} up to date\n`);
  } catch (e) {
    const err = asCliError(e);
    if (!(err instanceof CliError)) throw e;
    const retry = to !== undefined ? `runwise push ${runIds[0]!.slice(0, 8)} --to ${to}` : `runwise push ${runIds[0]!.slice(0, 8)} --to NAME (after runwise remote add NAME ${remote.uri})`;
    const exitCode = (err as { exitCode?: number }).exitCode;
    throw Object.assign(new CliError(`the runs are recorded in this workspace, but pushing them to ${remote.uri} failed: ${err.message}. To retry: ${retry}`), exitCode !== undefined ? { exitCode } : {});
  }
}

/**
 * `--single`: the decisions about the named stages alone, as `dvc repro --single-item` takes them:
 * a stage upstream is neither run nor a reason to run, and a dependency it should have written must
 * already exist (an orchestrator running one stage per task ran it before), else nothing runs. The
 * runner judges the gates naming one of these stages or a stage above them (a failed one holds
 * them back).
 */
function singleStageDecisions(graph: PipelineGraph, decisions: readonly StageDecision[], ids: ReadonlySet<string>): StageDecision[] {
  const chosen = decisions
    .filter((d) => ids.has(d.id))
    .map((d) => {
      const reasons = d.reasons.filter((r) => r.kind !== 'upstream');
      return { id: d.id, action: d.action === 'frozen' ? d.action : reasons.length ? ('run' as const) : ('skip' as const), reasons };
    });
  for (const d of chosen) {
    if (d.action !== 'run') continue;
    const stage = graph.byId.get(d.id)!;
    const missing = stage.deps.filter((dep) => !existsSync(path.join(graph.root, ...dep.split('/'))));
    if (missing.length === 0) continue;
    // The stages whose outputs are the missing files (or folders holding them).
    const writes = (out: string, dep: string) => dep === out || dep.startsWith(`${out.replace(/\/+$/, '')}/`);
    const writers = graph.upstream(d.id).filter((u) => !ids.has(u) && graph.byId.get(u)!.outs.some((o) => missing.some((m) => writes(o.path, m))));
    throw new CliError(
      `stage '${d.id}' (${stage.file}:${stage.line}) needs ${missing.map((m) => `'${m}'`).join(', ')}, which ${missing.length === 1 ? 'does' : 'do'} not exist` +
        `${writers.length ? ` (written by ${writers.map((w) => `'${w}'`).join(', ')})` : ''}; --single runs no other stage: run ${writers.length ? 'those' : 'what writes it'} first`,
    );
  }
  return chosen;
}

function printPlan(ctx: CommandContext, graph: PipelineGraph, decisions: readonly StageDecision[]): void {
  // As status says it: a failed gate above a stage holds it back.
  const held = heldStages(ctx, graph, decisions);
  if (ctx.json) {
    ctx.printJson(
      decisions.map((d) => {
        const gate = held.get(d.id);
        return { id: d.id, action: gate ? 'held' : d.action, reasons: d.reasons.map((r) => ({ ...r, text: describeReason(r) })), ...(gate ? { held_by: heldJson(gate) } : {}) };
      }),
    );
    return;
  }
  ctx.io.out(
    `${renderTable(
      ['stage', 'would', 'why'],
      decisions.map((d) => {
        const gate = held.get(d.id);
        const why = d.reasons.map(describeReason);
        return [d.id, gate ? 'held' : d.action, gate ? heldText(gate, why) : d.action === 'skip' ? 'up to date' : why.join('; ')];
      }),
      { maxCell: 80 },
    )}\n`,
  );
  const n = decisions.filter((d) => d.action === 'run' && !held.has(d.id)).length;
  ctx.io.err(`runwise: dry run: ${n} of ${decisions.length} stage${decisions.length === 1 ? '' : 's'} would run; nothing was run\n`);
}

const STATUS_TEXT: Record<StageReport['status'], string> = {
  succeeded: 'ran',
  failed: 'FAILED',
  cancelled: 'cancelled',
  skipped: 'up to date',
  frozen: 'frozen',
  'not-run': 'not run',
};

function statusText(s: StageReport): string {
  return STATUS_TEXT[s.status];
}

function whyText(s: StageReport): string {
  if (s.status === 'skipped') return 'nothing changed';
  // The status column already says "not run": the why column says why.
  if (s.message && s.status !== 'succeeded') return s.status === 'not-run' ? s.message.replace(/^not run: /, '') : s.message;
  return s.reasons.map(describeReason).join('; ');
}

interface Progress {
  event(e: PipelineRunEvent): void;
  stop(): void;
}

function gateLine(g: GateOutcome): string {
  return `${gateMark(g)} ${g.message}`;
}

function endLine(id: string, r: StageReport): string {
  if (r.status === 'succeeded') return `✔ ${id}: done in ${formatDuration(r.durationMs ?? 0)}${r.message ? ` (${r.message})` : ''}`;
  if (r.status === 'not-run') return `- ${id}: ${r.message ?? 'not run'}`;
  if (r.status === 'skipped') return `- ${id}: up to date${r.message ? ` (${r.message})` : ''}`;
  return `✖ ${id}: ${r.status}${r.durationMs ? ` after ${formatDuration(r.durationMs)}` : ''}: ${r.message ?? ''}`;
}

/** One line per event, for logs and CI. */
class PlainProgress implements Progress {
  constructor(private readonly ctx: CommandContext) {}

  event(e: PipelineRunEvent): void {
    const out = (t: string) => this.ctx.io.err(`${t}\n`);
    switch (e.type) {
      case 'run-start':
        // Nothing to run is said once, on stdout, with the outcome (a frozen stage can still fail).
        if (e.toRun.length) out(`Running ${e.toRun.length} stage${e.toRun.length === 1 ? '' : 's'}: ${e.toRun.join(', ')}`);
        break;
      case 'stage-start':
        out(`▶ ${e.stage}: ${e.reasons.map(describeReason).join('; ') || 'started'}`);
        break;
      case 'output':
        // The stage's own bytes (a progress bar's cursor codes included), as a CI log viewer expects them.
        (this.ctx.io.verbatim ?? this.ctx.io.err)(`${e.stage} | ${e.line}\n`);
        break;
      case 'stage-end':
        out(endLine(e.stage, e.report));
        break;
      case 'gate':
        out(gateLine(e.outcome));
        break;
    }
  }

  stop(): void {}
}

/** A block of running stages redrawn in place, under the lines of finished ones (a terminal). */
class LiveProgress implements Progress {
  private readonly running = new Map<string, { started: number; last: string }>();
  private drawn = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly ctx: CommandContext) {
    this.timer = setInterval(() => this.draw([]), 200);
    this.timer.unref();
  }

  event(e: PipelineRunEvent): void {
    switch (e.type) {
      case 'run-start':
        if (e.toRun.length) this.draw([`Running ${e.toRun.length} stage${e.toRun.length === 1 ? '' : 's'}`]);
        break;
      case 'stage-start':
        this.running.set(e.stage, { started: Date.now(), last: '' });
        this.draw([`▶ ${e.stage}: ${e.reasons.map(describeReason).join('; ')}`]);
        break;
      case 'output': {
        const r = this.running.get(e.stage);
        if (r && e.line.trim() !== '') r.last = e.line;
        break;
      }
      case 'stage-end':
        this.running.delete(e.stage);
        this.draw([endLine(e.stage, e.report)]);
        break;
      case 'gate':
        this.draw([gateLine(e.outcome)]);
        break;
    }
  }

  private draw(permanent: readonly string[]): void {
    const width = process.stderr.columns || 100;
    const fit = (s: string) => (s.length > width - 1 ? `${s.slice(0, width - 2)}…` : s);
    if (this.drawn > 0) (this.ctx.io.verbatim ?? this.ctx.io.err)(`\x1b[${this.drawn}A\x1b[J`);
    let text = '';
    for (const line of permanent) text += `${fit(line)}\n`;
    const now = Date.now();
    const block = [...this.running].map(([id, r]) => fit(`  ${id}  ${formatDuration(now - r.started)}  ${r.last.replace(/\s+/g, ' ')}`));
    for (const line of block) text += `${line}\n`;
    this.drawn = block.length;
    if (text !== '') this.ctx.io.err(text);
  }

  stop(): void {
    clearInterval(this.timer);
    this.running.clear();
    this.draw([]);
  }
}
