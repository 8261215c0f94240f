/**
 * The scheduler: runs the stages that the plan (stageStatus.ts's decisions) says must run, in
 * dependency order, up to `jobs` at once. For each stage: its outputs are removed unless declared
 * `persist`, its dependencies must exist, its commands run (stageProcess.ts) with the tracking
 * endpoint's address and its own child run in the environment, and on success its declared outputs
 * must exist; then its lock entry is written and its metrics files are read into its run. A failed
 * stage leaves its lock entry as it was and stops every stage downstream of it ("not run: upstream
 * failed"); stages on other branches go on. Gates are checked after the stage whose metric they
 * read, the others at the end.
 *
 * Progress goes through one callback (PipelineRunEvent); cancellation through an AbortSignal,
 * which stops every running stage's process group and starts nothing new. Each running command's
 * group is recorded under `.runwise/running/`, and a run first stops what a killed runner left
 * running (stageGroupRecords.ts). A caller may change what is started for a command (`commandFor`:
 * the editor's Python interpreter) without changing what is recorded: the lock, tags and reports
 * keep the command as the pipeline file writes it.
 */
import { existsSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { startTrackingServer, type TrackingServer } from '../endpoint/trackingServer';
import { GATE_FAILED_TAG, GATES_TAG, STAGE_TAG, type RunStatus, type Tag } from '../tracker/model';
import { recordedOutputs } from '../tracker/recordedOutputs';
import type { Tracker } from '../tracker/tracker';
import { runwiseFolder } from '../tracker/trackerFiles';
import { runwiseDir } from '../workspace/workspacePath';
import { isAliasScope, parseGateValue, referencesOf } from '../language/pipeline/gateExpression';
import type { BaselineContext } from './baselineEvaluation';
import { acquireRunnerLock } from './runnerLock';
import { runBuiltinStep, type BuiltinStepResult } from './builtinStepRun';
import { AliasReferences, describeRule, evaluateGate, gateTarget, type Absent, type GateInputs, type GateOutcome, type GateTarget, type Lookup, type Unchecked } from './gates';
import { readLockStates, stageLockEntry, writeLockEntry } from './lockFile';
import { compareWithLock } from './stageStatus';
import { FileSystemWorkspace } from '../language/files/fileSystemWorkspace';
import { MetricsFileError, readMetricsFile, readStageMetrics, type StageMetrics } from './metricsFiles';
import type { ChangeReason, GateRule, LockEntry, PathHash, PathHasher, PipelineGraph, PipelineStage, StageDecision } from './pipelineModel';
import { removeStageGroupRecord, stopLeftoverStages, writeStageGroupRecord } from './stageGroupRecords';
import { runStageProcess, type OutputStream, type StageProcessOptions } from './stageProcess';
import { stageNodePath } from './stageNodePath';
import { endRun, finishStageRun, previousStageMetric, readGitState, startPipelineRun, startStageRun, type StageOutputRecord } from './stageTracking';
import { evaluationUnder } from '../modelCard/cardEvaluation';

export type StageRunStatus = 'succeeded' | 'failed' | 'cancelled' | 'skipped' | 'frozen' | 'not-run';

export type PipelineRunEvent =
  /** `toRun`: the stages that start; `held`: those planned that a failed gate above them holds back (each then ends not run). */
  | { type: 'run-start'; runId?: string; toRun: string[]; held: string[] }
  | { type: 'stage-start'; stage: string; runId: string; reasons: ChangeReason[] }
  | { type: 'output'; stage: string; line: string; stream: OutputStream }
  | { type: 'stage-end'; stage: string; report: StageReport }
  | { type: 'gate'; outcome: GateOutcome };

export interface StageReport {
  id: string;
  status: StageRunStatus;
  reasons: ChangeReason[];
  /** Child run in the tracker, for a stage that started. */
  runId?: string;
  durationMs?: number;
  exitCode?: number | null;
  signal?: string | null;
  /** Why it failed or did not run, in one line. */
  message?: string;
  /** Latest metric values of its run (or, for a skipped stage, of its metrics files). */
  metrics?: Record<string, number>;
  /** Absolute path of its log file. */
  logFile?: string;
}

export interface PipelineRunOptions {
  graph: PipelineGraph;
  decisions: readonly StageDecision[];
  tracker: Tracker;
  /** Hashes of workspace paths (D's HashCache); saved by the caller. */
  hashes: PathHasher;
  /** Stages run at once; default the number of CPUs. */
  jobs?: number;
  signal?: AbortSignal;
  onEvent?: (event: PipelineRunEvent) => void;
  /** Experiment of the runs; default MLFLOW_EXPERIMENT_NAME, else MLflow's `Default`. */
  experimentName?: string;
  /** Between SIGTERM and SIGKILL when cancelling. */
  killGraceMs?: number;
  /** An endpoint already running for this tracker; otherwise one is started for the run. */
  endpoint?: Pick<TrackingServer, 'uri' | 'token'>;
  /** Check gates (default true); `false` when only some stages were asked for and gates make no sense. */
  gates?: boolean;
  /**
   * Stages above the run's that are out of date and that it does not run (`--single`): their last
   * metrics do not describe what they read now, so their gates are not judged on them; each such
   * gate fails and holds back what is below its stage ("run it first").
   */
  stale?: ReadonlyMap<string, string>;
  /**
   * The command to start for one of `stage`'s commands (the editor's: `python` → the selected
   * interpreter). Only what is spawned changes: the lock entry, the run's `runwise.cmd` tag, the
   * reports and their messages keep the command as the pipeline file writes it.
   */
  commandFor?: (stage: PipelineStage, command: string) => string;
  /** Tags added to a stage's run before its commands start (e.g. the interpreter commandFor put in). */
  stageTags?: (stage: PipelineStage) => Tag[];
}

export interface PipelineRunResult {
  /** The parent run; undefined when nothing ran. */
  runId?: string;
  experimentId: string;
  stages: StageReport[];
  gates: GateOutcome[];
  cancelled: boolean;
  /** Every stage that ran succeeded and every gate passed. */
  ok: boolean;
}

/**
 * Runs the decided stages with their gates. One run at a time per workspace (runnerLock.ts): a
 * second one throws PipelineBusyError before it touches anything.
 */
export async function runPipeline(options: PipelineRunOptions): Promise<PipelineRunResult> {
  const release = acquireRunnerLock(options.graph.root);
  try {
    // Stage logs go in .runwise/logs, a real folder (a cloned repository may ship it as a link).
    runwiseFolder(options.graph.root, 'logs');
    return await runLocked(options);
  } finally {
    release();
  }
}

async function runLocked(options: PipelineRunOptions): Promise<PipelineRunResult> {
  const { graph, tracker } = options;
  const emit = (e: PipelineRunEvent) => {
    try {
      options.onEvent?.(e);
    } catch {
      /* a progress display that throws must not stop the run */
    }
  };
  const jobs = Math.max(1, options.jobs ?? availableParallelism());
  // Stages a killed runner left running would race this run for the same outputs (the CLI stops
  // them before planning already; here for any other caller).
  await stopLeftoverStages(graph.root, tracker, options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {});
  const decisions = new Map(options.decisions.map((d) => [d.id, d]));
  const git = readGitState(graph.root);
  const experimentName = options.experimentName ?? process.env.MLFLOW_EXPERIMENT_NAME ?? 'Default';
  const experimentId = tracker.ensureExperiment(experimentName).experimentId;

  const reports = new Map<string, StageReport>();
  for (const s of graph.stages) {
    const d = decisions.get(s.id);
    if (!d) continue;
    // DVC verifies a frozen stage's outputs instead of running it: one that is missing fails it.
    const missing = d.action === 'frozen' ? d.reasons.find((r) => r.kind === 'out-missing') : undefined;
    if (missing && missing.kind === 'out-missing') {
      reports.set(s.id, { id: s.id, status: 'failed', reasons: d.reasons, message: `frozen, and its output ${missing.path} is missing (a frozen stage's outputs must exist)` });
    } else if (d.action !== 'run') reports.set(s.id, { id: s.id, status: d.action === 'frozen' ? 'frozen' : 'skipped', reasons: d.reasons });
  }
  const toRun = graph.stages.filter((s) => decisions.get(s.id)?.action === 'run');

  const stageRuns = new Map<string, string>();
  const gateOutcomes: GateOutcome[] = [];
  const aliases = new AliasReferences(tracker, AliasReferences.registerNamesOf(graph.stages));
  const gateState = new GateBook(graph, tracker, experimentId, reports, stageRuns, aliases);
  /** Stages whose gate failed → that gate: what reads their outputs does not run (a worse model is not registered). */
  const gateFailures = new Map<string, GateOutcome>();
  /** Set once the pipeline's run exists: a champion measured for a gate then is an evaluation under it. */
  let parentRunId: string | undefined;
  const checkGates = async (rules: readonly { rule: GateRule; target: GateTarget }[]) => {
    let trouble: string | undefined;
    try {
      // The aliases' versions measured on the stages' data first, where they have not been.
      await gateState.prepare(rules, { hashes: options.hashes, ...(parentRunId ? { parentRunId } : {}), ...(options.signal ? { signal: options.signal } : {}) });
    } catch (e) {
      // Cancelled while the champion was being measured: the run ends cancelled, and these gates
      // are left out of the outcomes.
      if (options.signal?.aborted) return;
      trouble = (e as Error).message;
    }
    for (const g of rules) {
      let outcome: GateOutcome;
      try {
        if (trouble !== undefined) throw new Error(trouble);
        outcome = evaluateGate(g.rule, g.target, gateState);
      } catch (e) {
        // The tracker failing under a gate fails the gate (what is below its stage does not run), not the runner.
        outcome = { rule: g.rule, passed: false, message: `gate '${describeRule(g.rule)}' (${g.rule.file}:${g.rule.line}) could not be checked: ${(e as Error).message}` };
      }
      record(outcome, g.target.stage);
      if (!outcome.unchecked && g.target.stage !== undefined) markStageRun(g.target.stage, outcome);
    }
  };
  /** An outcome reported; a failed one holds back what is below its stage. */
  const record = (judged: GateOutcome, stage: string | undefined) => {
    // The rule's own `message:` goes with a failed comparison: not with a gate not judged or one
    // whose values could not be had (a champion that could not be evaluated, a metric not logged),
    // where nothing was found wrong with the model.
    const compared = !judged.passed && !judged.notJudged && !judged.unchecked && judged.expected !== undefined;
    const outcome = compared && judged.rule.message ? { ...judged, message: `${judged.message} — ${judged.rule.message}` } : judged;
    gateOutcomes.push(outcome);
    emit({ type: 'gate', outcome });
    if (!outcome.passed && !outcome.unchecked && stage !== undefined && !gateFailures.has(stage)) gateFailures.set(stage, outcome);
  };
  /**
   * The run whose metrics a stage's gate judged gets GATE_FAILED_TAG when the gate failed (so that
   * `previous.` skips it: a rejected model is no baseline) and loses it when its gate passes.
   */
  const markStageRun = (stage: string, outcome: GateOutcome) => {
    const runId = gateState.currentRun(stage);
    if (!runId) return;
    try {
      if (!outcome.passed) tracker.setTag(runId, { key: GATE_FAILED_TAG, value: describeRule(outcome.rule) });
      else tracker.deleteTag(runId, GATE_FAILED_TAG);
    } catch {
      /* the outcome stands (a passed run had no mark to remove, or the next `previous.` misses it) */
    }
  };
  /** Stages whose gates are being checked (a champion may be evaluated meanwhile): not done yet for what is below them. */
  const gating = new Set<string>();
  const gatesOn = options.gates !== false;
  // The gates about this run: of the stages planned (run or found up to date) and of the stages
  // above those that run (their failed gates hold them back); one naming no stage only when the
  // whole pipeline is planned. `run prepare` does not judge train's metrics.
  const planned = new Set(decisions.keys());
  for (const s of toRun) for (const up of ancestorsOf(graph, s.id)) planned.add(up);
  const wholePipeline = graph.stages.every((s) => decisions.has(s.id));
  const pendingGates = gatesOn
    ? graph.gates.map((rule) => ({ rule, target: gateTarget(rule, (n, f) => findStage(graph, n, f)) })).filter((g) => (g.target.stage !== undefined ? planned.has(g.target.stage) : wholePipeline))
    : [];
  /** A stage above `id` (at any distance) whose gate failed, if any: what derives from its outputs does not run. */
  const gateFailedAbove = (id: string): string | undefined => ancestorsOf(graph, id).find((up) => gateFailures.has(up));
  // The gates of stages this run leaves as they are (up to date or frozen) are checked first, on
  // the metrics those stages last gave: while one fails, nothing below its stage runs, so a model a
  // gate rejected is not evaluated or registered by the next run either. Checked before the run is
  // announced: the stages they hold back are not said to run, and a run that they hold back whole
  // leaves no pipeline run in the tracker.
  const inRunIds = new Set(toRun.map((s) => s.id));
  const standing = pendingGates.filter((g) => g.target.stage !== undefined && !inRunIds.has(g.target.stage));
  for (const g of standing) gateState.checked.add(g.rule);
  // A standing gate on a stage that is out of date is not judged on its old metrics.
  const outOfDate = standing.filter((g) => options.stale?.has(g.target.stage!));
  for (const g of outOfDate) {
    const stage = g.target.stage!;
    const message = `gate '${describeRule(g.rule)}' (${g.rule.file}:${g.rule.line}) not judged: stage '${stage}' is not up to date (${options.stale!.get(stage)}), so it has no metrics of what it reads now: run it first`;
    record({ rule: g.rule, passed: false, notJudged: true, stage, message }, stage);
  }
  await checkGates(standing.filter((g) => !outOfDate.includes(g)));
  const held = toRun.filter((s) => gateFailedAbove(s.id) !== undefined).map((s) => s.id);
  const starting = options.signal?.aborted ? [] : toRun.filter((s) => !held.includes(s.id));

  // A run that has nothing to run leaves no trace in the tracker (its gates are still checked; a
  // champion measured for one is an evaluation run of its own).
  if (starting.length > 0) parentRunId = startPipelineRun(tracker, { experimentId, files: graph.files, git });
  emit({ type: 'run-start', ...(parentRunId ? { runId: parentRunId } : {}), toRun: starting.map((s) => s.id), held });

  let server: TrackingServer | undefined;
  let endpoint = options.endpoint;
  if (!endpoint && starting.some((s) => !s.builtin)) {
    server = await startTrackingServer({ workspace: graph.root, tracker, log: () => undefined });
    endpoint = server;
  }
  // `require('runwise/client')` in a command's Node script finds this installation's client.
  const nodePath = starting.some((s) => !s.builtin) ? stageNodePath(graph.root) : undefined;

  try {
    const pending = new Set(toRun.map((s) => s.id));
    const running = new Map<string, Promise<void>>();
    const inRun = new Set(pending);
    // An upstream stage found up to date when its turn came (see below) counts as done.
    const done = (status: StageRunStatus | undefined) => status === 'succeeded' || status === 'skipped';
    const upstreamProblem = (id: string): string | undefined => {
      const gated = gateFailedAbove(id);
      if (gated !== undefined) return gated;
      for (const up of graph.upstream(id)) {
        const r = reports.get(up);
        if (inRun.has(up) && r && !done(r.status)) return up;
      }
      return undefined;
    };
    const notRunBecause = (up: string): string => {
      const gate = gateFailures.get(up);
      if (gate) return `not run: the gate '${describeRule(gate.rule)}' on stage '${up}' ${gate.notJudged ? `was not judged (stage '${up}' is not up to date)` : 'failed'}`;
      const status = reports.get(up)?.status;
      return `not run: upstream stage '${up}' ${status === 'cancelled' ? 'was cancelled' : status === 'not-run' ? 'did not run' : 'failed'}`;
    };
    const ready = (id: string) => graph.upstream(id).every((up) => !inRun.has(up) || (done(reports.get(up)?.status) && !gating.has(up)));

    while (pending.size > 0 || running.size > 0) {
      // Stages whose upstream failed (or was cancelled) will never run.
      for (const id of [...pending]) {
        const bad = upstreamProblem(id);
        if (bad === undefined && !options.signal?.aborted) continue;
        pending.delete(id);
        const report: StageReport = {
          id,
          status: 'not-run',
          reasons: decisions.get(id)?.reasons ?? [],
          message: options.signal?.aborted ? 'not run: cancelled' : notRunBecause(bad!),
        };
        reports.set(id, report);
        emit({ type: 'stage-end', stage: id, report });
      }
      for (const stage of toRun) {
        if (running.size >= jobs) break;
        if (!pending.has(stage.id) || !ready(stage.id)) continue;
        pending.delete(stage.id);
        if (unchangedAfterUpstream(stage)) {
          const report: StageReport = { id: stage.id, status: 'skipped', reasons: [], message: 'its upstream stages ran, and nothing it reads changed' };
          reports.set(stage.id, report);
          emit({ type: 'stage-end', stage: stage.id, report });
          // Its gates hold what is below it as a run's would (checked on the metrics it last gave).
          if (pendingGates.some((g) => g.target.stage === stage.id && !gateState.checked.has(g.rule))) {
            running.set(stage.id, checkStageGates(stage.id).finally(() => running.delete(stage.id)));
          }
          continue;
        }
        const job = runOneStage(stage).finally(() => running.delete(stage.id));
        running.set(stage.id, job);
      }
      if (running.size === 0) {
        if (pending.size === 0) break;
        // Nothing runs and nothing can start: the remaining stages wait on stages outside the run.
        for (const id of pending) {
          const report: StageReport = { id, status: 'not-run', reasons: decisions.get(id)?.reasons ?? [], message: 'not run: its upstream stages did not finish' };
          reports.set(id, report);
          emit({ type: 'stage-end', stage: id, report });
        }
        pending.clear();
        break;
      }
      await Promise.race(running.values());
    }

    if (!options.signal?.aborted) await checkGates(pendingGates.filter((g) => !gateState.checked.has(g.rule)));
  } finally {
    await server?.close();
  }

  const stages = graph.stages.flatMap((s) => {
    const r = reports.get(s.id);
    return r ? [r] : [];
  });
  const cancelled = options.signal?.aborted === true;
  const ok = !cancelled && stages.every((s) => s.status !== 'failed' && s.status !== 'not-run' && s.status !== 'cancelled') && gateOutcomes.every((g) => g.passed || g.unchecked);
  const status: RunStatus = cancelled ? 'KILLED' : ok ? 'FINISHED' : 'FAILED';
  const failedGates = gateOutcomes.filter((g) => !g.passed && !g.unchecked && !g.notJudged).length;
  const uncheckedGates = gateOutcomes.filter((g) => g.unchecked).length;
  const notJudgedGates = gateOutcomes.filter((g) => g.notJudged).length;
  const gatesText = `${gateOutcomes.filter((g) => g.passed).length} passed, ${failedGates} failed${uncheckedGates ? `, ${uncheckedGates} not checked` : ''}${notJudgedGates ? `, ${notJudgedGates} not judged` : ''}`;
  if (parentRunId) endRun(tracker, parentRunId, status, gateOutcomes.length > 0 ? [{ key: GATES_TAG, value: gatesText }] : []);
  return { runId: parentRunId, experimentId, stages, gates: gateOutcomes, cancelled, ok };

  /**
   * A stage planned to run only because stages upstream of it run is checked again when its turn
   * comes, as `dvc repro` checks each stage after the ones before it ran: when what those wrote is
   * byte for byte what it read last time (and nothing else of it changed), it does not run. So is
   * one whose changed inputs are outputs of those stages (a hand-edited data file that the stage
   * writing it, run again, restores).
   */
  function unchangedAfterUpstream(stage: PipelineStage): boolean {
    const reasons = decisions.get(stage.id)?.reasons ?? [];
    const ran = reasons.flatMap((r) => (r.kind === 'upstream' ? [r.stage] : []));
    if (ran.length === 0) return false;
    const writtenAbove = (p: string) => ancestorsOf(graph, stage.id).some((up) => graph.byId.get(up)?.outs.some((o) => p === o.path || p.startsWith(`${o.path.replace(/\/+$/, '')}/`)));
    if (!reasons.every((r) => r.kind === 'upstream' || ((r.kind === 'dep-changed' || r.kind === 'dep-missing') && writtenAbove(r.path)))) return false;
    try {
      const entry = readLockStates(graph).get(stage.file)?.stages.get(stage.name);
      return entry !== undefined && compareWithLock(stage, entry, options.hashes, new FileSystemWorkspace(graph.root)).length === 0;
    } catch {
      return false; // a lock that cannot be read: the stage runs, as planned
    }
  }

  async function runOneStage(stage: PipelineStage): Promise<void> {
    const reasons = decisions.get(stage.id)?.reasons ?? [];
    const runId = startStageRun(tracker, { experimentId, parentRunId: parentRunId!, stage, git });
    stageRuns.set(stage.id, runId);
    const logFile = path.join(runwiseDir(graph.root), 'logs', `${runId}.log`);
    emit({ type: 'stage-start', stage: stage.id, runId, reasons });
    const report: StageReport = { id: stage.id, status: 'failed', reasons, runId, logFile };
    let metrics: StageMetrics | undefined;
    let entry;
    let runStatus: RunStatus = 'FAILED';
    let durationMs = 0;
    let exitCode: number | null = null;
    let signal: string | null = null;
    try {
      const tags = options.stageTags?.(stage) ?? [];
      if (tags.length > 0) tracker.logBatch(runId, { tags });
      const problem = prepareStage(graph, stage);
      if (problem) {
        report.message = problem;
      } else {
        const commandFor = options.commandFor;
        // A built-in step runs in-process, with the same options and result as a command.
        const step = { root: graph.root, stage, settings: stage.builtinConfig ?? {}, tracker, runId, experimentId, hashes: options.hashes };
        const result: BuiltinStepResult = await (stage.builtin ? (o: StageProcessOptions) => runBuiltinStep(step, o) : runStageProcess)({
          commands: commandFor ? stage.cmd.map((c) => commandFor(stage, c)) : stage.cmd,
          cwd: path.join(graph.root, ...stage.wdir.split('/').filter(Boolean)),
          env: stageEnv(endpoint, runId, experimentName, stage, nodePath),
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
          logFile,
          onLine: (line, stream) => emit({ type: 'output', stage: stage.id, line, stream }),
          onProcessGroup: (pgid, state) => {
            try {
              if (state === 'started') writeStageGroupRecord(graph.root, { pgid, stage: stage.id, runId });
              else removeStageGroupRecord(graph.root, runId);
            } catch (e) {
              // The stage runs all the same; only a killed runner's leftovers would go unnoticed.
              emit({ type: 'output', stage: stage.id, line: `runwise: could not record the stage's processes: ${(e as Error).message}`, stream: 'stderr' });
            }
          },
        });
        durationMs = result.durationMs;
        exitCode = result.exitCode;
        signal = result.signal;
        if (result.cancelled) {
          report.status = 'cancelled';
          report.message = 'cancelled';
          runStatus = 'KILLED';
        } else if (result.spawnError) {
          report.message = `could not start: ${result.spawnError}`;
        } else if (result.failure !== undefined) {
          report.message = result.failure;
        } else if (result.exitCode !== 0) {
          const cmd = stage.cmd[result.failedCommand ?? 0] ?? '';
          report.message = result.signal ? `'${cmd}' was killed by ${result.signal}` : `'${cmd}' exited with code ${result.exitCode}`;
        } else {
          const missing = stage.outs.filter((o) => !existsSync(path.join(graph.root, o.path))).map((o) => o.path);
          if (missing.length > 0) {
            report.message = `the command succeeded but did not write ${missing.map((m) => `'${m}'`).join(', ')}`;
          } else {
            entry = stageLockEntry(graph, stage, options.hashes);
            writeLockEntry(graph, stage, entry);
            report.status = 'succeeded';
            runStatus = 'FINISHED';
          }
        }
      }
      metrics = report.status === 'succeeded' || report.status === 'failed' ? readStageMetrics(graph.root, stage.outs) : undefined;
    } catch (e) {
      report.status = 'failed';
      runStatus = 'FAILED';
      report.message = e instanceof Error ? e.message : String(e);
    }
    report.durationMs = durationMs;
    report.exitCode = exitCode;
    report.signal = signal;
    try {
      await finishStageRun(tracker, runId, {
        status: runStatus,
        exitCode,
        signal,
        durationMs,
        ...(entry ? { entry } : {}),
        deps: new Map(stage.deps.map((d) => [d, safeHash(options.hashes, d)])),
        outputs: outputRecords(stage, options.hashes),
        ...(metrics ? { metrics } : {}),
        logFile,
        stage,
      });
      report.metrics = Object.fromEntries(tracker.getRun(runId).metrics.map((m) => [m.key, m.value]));
      if (metrics && metrics.problems.length > 0 && report.status === 'succeeded') {
        report.message = metrics.problems.map((p) => p.message).join('; ');
      }
    } catch (e) {
      // The stage's result stands; the tracker's trouble is reported with it.
      report.message = [report.message, `recording the run failed: ${(e as Error).message}`].filter(Boolean).join('; ');
      try {
        endRun(tracker, runId, runStatus);
      } catch {
        /* the tracker is unusable; orphan recovery ends the run on the next open */
      }
    }
    reports.set(stage.id, report);
    emit({ type: 'stage-end', stage: stage.id, report });
    if (report.status === 'succeeded' && !options.signal?.aborted) await checkStageGates(stage.id);
  }

  /** The gates of a stage that succeeded or was found unchanged: what is below it waits for them. */
  async function checkStageGates(id: string): Promise<void> {
    const now = pendingGates.filter((g) => g.target.stage === id && !gateState.checked.has(g.rule));
    for (const g of now) gateState.checked.add(g.rule);
    gating.add(id);
    try {
      await checkGates(now);
    } finally {
      gating.delete(id);
    }
  }
}

/** Before a stage runs: outputs removed unless `persist`, dependencies present. */
function prepareStage(graph: PipelineGraph, stage: PipelineStage): string | undefined {
  if (stage.cmd.length === 0 && !stage.builtin) return `the stage has no command (${stage.file}:${stage.line})`;
  for (const out of stage.outs) if (!out.persist) rmSync(path.join(graph.root, out.path), { recursive: true, force: true });
  const missing = stage.deps.filter((d) => !existsSync(path.join(graph.root, d)));
  if (missing.length > 0) return `missing ${missing.length === 1 ? 'dependency' : 'dependencies'}: ${missing.join(', ')}`;
  return undefined;
}

function stageEnv(endpoint: Pick<TrackingServer, 'uri' | 'token'> | undefined, runId: string, experimentName: string, stage: PipelineStage, nodePath: string | undefined): Record<string, string> {
  return {
    ...(endpoint ? { MLFLOW_TRACKING_URI: endpoint.uri, MLFLOW_TRACKING_TOKEN: endpoint.token } : {}),
    MLFLOW_RUN_ID: runId,
    MLFLOW_EXPERIMENT_NAME: experimentName,
    RUNWISE_STAGE: stage.id,
    // Python buffers a pipe's output; unbuffered, its lines arrive while the stage runs.
    PYTHONUNBUFFERED: process.env.PYTHONUNBUFFERED ?? '1',
    ...(nodePath ? { NODE_PATH: nodePath } : {}),
  };
}

function safeHash(hashes: PathHasher, p: string): PathHash | undefined {
  try {
    return hashes.hash(p);
  } catch {
    return undefined;
  }
}

function outputRecords(stage: PipelineStage, hashes: PathHasher): StageOutputRecord[] {
  return stage.outs.map((o) => {
    const h = safeHash(hashes, o.path);
    return { path: o.path, kind: o.kind, md5: h?.md5 ?? null, size: h?.size ?? null, ...(h?.nfiles !== undefined ? { nfiles: h.nfiles } : {}) };
  });
}

/** A gate's stage: one of its own file's by name first (as the language server reads it), else a stage id of the workspace (`train` of the root dvc.yaml). */
export function findStage(graph: PipelineGraph, name: string, ruleFile: string): string | undefined {
  return graph.stages.find((s) => s.file === ruleFile && s.name === name)?.id ?? (graph.byId.has(name) ? name : undefined);
}

/**
 * What `status` tells before a run: for each stage planned to run, the failed gate of a stage above
 * it that the run leaves as it is (up to date or frozen), judged as the run would judge it first,
 * on that stage's last metrics. Gates that compare with a registry alias are left out (the run may
 * measure the alias's version first); nothing is written. Experiment as runPipeline's default.
 */
export function gatesHolding(graph: PipelineGraph, decisions: readonly StageDecision[], tracker: Tracker, experimentName = process.env.MLFLOW_EXPERIMENT_NAME ?? 'Default'): Map<string, GateOutcome> {
  const held = new Map<string, GateOutcome>();
  const experiment = tracker.getExperimentByName(experimentName);
  if (!experiment) return held;
  const byId = new Map(decisions.map((d) => [d.id, d]));
  const toRun = decisions.filter((d) => d.action === 'run').map((d) => d.id);
  const book = new GateBook(graph, tracker, experiment.experimentId, new Map(), new Map(), new AliasReferences(tracker, new Map()));
  const failed = new Map<string, GateOutcome>();
  for (const rule of graph.gates) {
    const target = gateTarget(rule, (n, f) => findStage(graph, n, f));
    if (target.stage === undefined || byId.get(target.stage)?.action === 'run') continue;
    if (failed.has(target.stage)) continue;
    // Left out as well: a rule that does not parse (the run reports it).
    const aliases = aliasReferencesOf(rule);
    if (aliases === undefined || aliases.length > 0) continue;
    const outcome = evaluateGate(rule, target, book);
    if (!outcome.passed && !outcome.unchecked) failed.set(target.stage, outcome);
  }
  for (const id of toRun) {
    const above = ancestorsOf(graph, id).find((up) => failed.has(up));
    if (above !== undefined) held.set(id, failed.get(above)!);
  }
  return held;
}

/** A rule's references to registry aliases (`champion.roc_auc`); undefined when the rule does not parse (its gate says so). */
function aliasReferencesOf(rule: GateRule): ReturnType<typeof referencesOf> | undefined {
  try {
    return referencesOf(parseGateValue(rule)).filter((r) => isAliasScope(r.scope));
  } catch {
    return undefined;
  }
}

/** The stages above `id` in the graph, at any distance, nearest first. */
function ancestorsOf(graph: PipelineGraph, id: string): string[] {
  const seen = new Set<string>();
  const queue = [...graph.upstream(id)];
  while (queue.length > 0) {
    const up = queue.shift()!;
    if (seen.has(up)) continue;
    seen.add(up);
    queue.push(...graph.upstream(up));
  }
  return [...seen];
}

/** What gates read: this run's stage runs, the files of stages that did not run, earlier runs. */
class GateBook implements GateInputs {
  readonly checked = new Set<GateRule>();
  private readonly fileMetrics = new Map<string, Map<string, number>>();

  constructor(
    private readonly graph: PipelineGraph,
    private readonly tracker: Tracker,
    private readonly experimentId: string,
    private readonly reports: ReadonlyMap<string, StageReport>,
    private readonly stageRuns: ReadonlyMap<string, string>,
    private readonly aliases: AliasReferences,
  ) {}

  /** The lock files' entries, read once (a run's own writes do not matter: its stages have runs). */
  private lockStates: ReturnType<typeof readLockStates> | null | undefined;

  /** The stage's entry in its lock file, if it ran (in this experiment or another, or under DVC). */
  private lockEntry(stage: string): LockEntry | undefined {
    const s = this.graph.byId.get(stage);
    if (!s) return undefined;
    if (this.lockStates === undefined) {
      try {
        this.lockStates = readLockStates(this.graph);
      } catch {
        this.lockStates = null;
      }
    }
    return this.lockStates?.get(s.file)?.stages.get(s.name);
  }

  /** Whether the stage has an entry in its lock file. */
  private locked(stage: string): boolean {
    return this.lockEntry(stage) !== undefined;
  }

  /**
   * The run whose metrics are the stage's current ones: this pipeline run's, else the last
   * successful one that recorded the outputs the lock file holds, in any experiment (a stage up to
   * date in `run --experiment new` keeps the outputs, and so the metrics, of the run that made
   * them, wherever it was logged; a newer run of the stage pulled from a teammate's server made
   * other outputs and is not it). Where no run recorded them: this experiment's last, else any.
   */
  currentRun(stage: string): string | undefined {
    const own = this.stageRuns.get(stage);
    if (own) return own;
    const runs = this.tracker.searchRuns({
      filter: `tags.\`${STAGE_TAG}\` = '${stage.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}' and attributes.status = 'FINISHED'`,
      orderBy: ['attributes.start_time DESC'],
      maxResults: 200,
    }).items;
    const wanted = (this.lockEntry(stage)?.outs ?? []).map((o) => o.md5).filter((m): m is string => typeof m === 'string' && m !== '');
    if (wanted.length > 0) {
      const made = runs.find((r) => {
        const recorded = new Set(recordedOutputs(this.tracker, r.info.runId).map((o) => o.md5));
        return wanted.every((m) => recorded.has(m));
      });
      if (made) return made.info.runId;
    }
    return (runs.find((r) => r.info.experimentId === this.experimentId) ?? runs[0])?.info.runId;
  }

  private stageMetrics(stage: string): Map<string, number> {
    const cached = this.fileMetrics.get(stage);
    if (cached) return cached;
    const out = new Map<string, number>();
    const run = this.currentRun(stage);
    if (run) for (const m of this.tracker.getRun(run).metrics) out.set(m.key, m.value);
    if (!this.stageRuns.has(stage)) {
      // A stage that did not run now: its metrics files are current (its last run wrote them).
      const s = this.graph.byId.get(stage);
      if (s) {
        const read = readStageMetrics(this.graph.root, s.outs);
        for (const [k, v] of read.series) if (v.length > 0 && !out.has(k)) out.set(k, v[v.length - 1]!.value);
        for (const [k, v] of read.scalars) out.set(k, v.value);
      }
      this.fileMetrics.set(stage, out);
    }
    return out;
  }

  current(target: GateTarget): Lookup | Unchecked {
    if (target.file !== undefined) {
      const rel = path.posix.normalize(target.file);
      try {
        const { values } = readMetricsFile(path.join(this.graph.root, rel), rel);
        const v = values.get(target.metric);
        if (v === undefined) return { missing: `metric '${target.metric}' is not in ${rel}` };
        return { value: v, ...(target.stage ? { stage: target.stage } : {}) };
      } catch (e) {
        return { missing: e instanceof MetricsFileError ? e.message : String(e) };
      }
    }
    if (target.stage !== undefined) {
      if (!this.graph.byId.has(target.stage)) return { missing: `there is no stage '${target.stage}'` };
      const r = this.reports.get(target.stage);
      if (r && (r.status === 'failed' || r.status === 'not-run' || r.status === 'cancelled')) return { unchecked: `stage '${target.stage}' ${r.status === 'failed' ? 'failed' : 'did not run'}` };
      const v = this.stageMetrics(target.stage).get(target.metric);
      // A stage that has never run (no run of it, no lock entry) has no metrics yet: nothing to judge.
      if (v === undefined && this.currentRun(target.stage) === undefined && !this.locked(target.stage)) return { unchecked: `stage '${target.stage}' has not run yet` };
      if (v === undefined) return { missing: `metric '${target.metric}' is missing: stage '${target.stage}' has no such metric` };
      return { value: v, stage: target.stage };
    }
    const found: { stage: string; value: number }[] = [];
    for (const s of this.graph.stages) {
      const r = this.reports.get(s.id);
      if (r && r.status !== 'succeeded' && r.status !== 'skipped' && r.status !== 'frozen') continue;
      const v = this.stageMetrics(s.id).get(target.metric);
      if (v !== undefined) found.push({ stage: s.id, value: v });
    }
    if (found.length === 0) return { missing: `metric '${target.metric}' is missing: no stage has it` };
    if (found.length > 1) {
      return { missing: `metric '${target.metric}' is ambiguous: stages ${found.map((f) => `'${f.stage}'`).join(', ')} all have it; name one as 'stage:${target.metric}'` };
    }
    return found[0]!;
  }

  /** The evaluation the stage's current run made (a pipeline's evaluate step), if any. */
  private evaluationOf(stage: string | undefined): string | undefined {
    const stageRun = stage !== undefined ? this.currentRun(stage) : undefined;
    return stageRun ? evaluationUnder(this.tracker, stageRun) : undefined;
  }

  /**
   * Before rules are checked: each alias reference on a stage that evaluated a model gets the
   * alias's version evaluated the same way when it has no such evaluation (AliasReferences.prepare).
   */
  async prepare(rules: readonly { rule: GateRule; target: GateTarget }[], ctx: Omit<BaselineContext, 'tracker' | 'root' | 'experimentId'>): Promise<void> {
    for (const { rule, target } of rules) {
      const aliases = aliasReferencesOf(rule);
      if (!aliases?.length) continue;
      const current = this.current(target);
      const like = this.evaluationOf(('stage' in current ? current.stage : undefined) ?? target.stage);
      if (like === undefined) continue;
      for (const ref of aliases) await this.aliases.prepare(ref.scope, rule, like, { tracker: this.tracker, root: this.graph.root, experimentId: this.experimentId, ...ctx });
    }
  }

  reference(scope: string, metric: string, stage: string | undefined, rule: GateRule): Lookup | Absent | undefined {
    // Against the evaluation this run's stage made, when it made one: the alias's on the same data.
    if (isAliasScope(scope)) return this.aliases.reference(scope, metric, rule, this.evaluationOf(stage));
    if (stage === undefined) return { missing: `previous.${metric} needs the stage the metric comes from` };
    const current = this.currentRun(stage);
    const prev = previousStageMetric(this.tracker, { experimentId: this.experimentId, stageId: stage, metric, excludeRunIds: current ? [current] : [] });
    if (prev === undefined) return undefined;
    if ('missing' in prev) return prev;
    return { value: prev.value, stage };
  }
}
