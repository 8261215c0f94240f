/**
 * Runs pipelines from the editor with the CLI's engine (core/pipeline's runPipeline), in the
 * extension host: the workspace's tracker and tracking endpoint (TrackingService), a progress
 * notification with Cancel (which stops every stage's process group), stage output in a terminal
 * (a Pseudoterminal fed by the runner's events), the Runs view refreshed as stages start and end.
 * One run at a time. Nothing runs in an untrusted workspace.
 *
 * A stage whose command starts with `python` runs the interpreter the Python extension selected
 * (else `runwise.pythonPath`, else python3): only the command started changes (runPipeline's
 * commandFor); the lock entry and the run's tags keep the command as the pipeline file has it, and
 * the run's `runwise.python` tag names the interpreter.
 */
import * as vscode from 'vscode';
import { HashCache } from '../core/pipeline/hashCache';
import { loadPipeline } from '../core/pipeline/loadPipeline';
import { formatPipelineDiagnostic, PipelineLoadError, type PipelineGraph } from '../core/pipeline/pipelineModel';
import { gateMark } from '../core/pipeline/gates';
import { runPipeline, type PipelineRunEvent, type PipelineRunResult, type StageReport } from '../core/pipeline/pipelineRun';
import { pythonRunOptions, runsPython } from '../core/pipeline/pythonCommand';
import { describeReason, planRun, staleAbove } from '../core/pipeline/stageStatus';
import type { StopReason } from '../core/pipeline/stageProcess';
import { formatElapsed } from '../core/pipeline/stageStateModel';
import { stagePython } from './pipelinePython';
import { messageOf, type PipelineState } from './pipelineState';
import type { RunsView } from './runsView';
import { TrackingService, UntrustedWorkspaceError } from './trackingService';

/** What to run: every out-of-date stage, or stages named by id (alone, or with what is upstream of them). */
export interface PipelineRunRequest {
  /** Stage ids; none = the whole pipeline. */
  targets?: string[];
  /** Run only the targets (forced), not the stages upstream of them. */
  only?: boolean;
}

/** Where a run's text goes: a terminal. */
export interface RunOutput {
  line(text: string): void;
}

export function describeRequest(request: PipelineRunRequest): string {
  if (!request.targets?.length) return 'pipeline';
  return `${request.targets.join(', ')}${request.only ? '' : ' with dependencies'}`;
}

/** The runners of this extension host (one per window), for stopPipelineRuns. */
const runners = new Set<PipelineRunner>();

/**
 * Cancels every pipeline run under way (SIGTERM to each stage's process group, at once, and SIGKILL
 * to what is left of a group after `killGraceMs`, shorter than the default grace) and waits up to
 * `waitMs` for the runs to end, so their stage runs are recorded KILLED before the tracker closes.
 * For deactivate(), with the grace well inside the wait: a stage that ignores SIGTERM is killed
 * while the editor still waits. What outlasts the wait anyway gets SIGTERM again as the extension
 * host exits (stageProcess.ts), and the next runner stops what is left (stageGroupRecords.ts).
 */
export async function stopPipelineRuns(waitMs: number, killGraceMs: number): Promise<void> {
  await Promise.all([...runners].map((r) => r.stop(waitMs, killGraceMs)));
}

export class PipelineRunner implements vscode.Disposable {
  private running: AbortController | undefined;
  /** Settles when the run under way has ended. */
  private runEnded: Promise<unknown> | undefined;
  private terminal: { terminal: vscode.Terminal; pty: PipelineTerminal } | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly tracking: TrackingService,
    private readonly state: PipelineState,
    private readonly runsView: RunsView,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.window.onDidCloseTerminal((t) => {
        if (this.terminal?.terminal === t) this.terminal = undefined;
      }),
    );
    runners.add(this);
  }

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /** Stops the run under way (every stage's process group). */
  cancel(): void {
    this.running?.abort();
  }

  /** Cancels the run under way (SIGKILL after `killGraceMs`) and waits until it has ended, or `waitMs` at most. */
  async stop(waitMs: number, killGraceMs: number): Promise<void> {
    const ended = this.runEnded;
    this.running?.abort({ killGraceMs } satisfies StopReason);
    if (!ended) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
    await Promise.race([ended.then(() => undefined, () => undefined), timeout]);
    clearTimeout(timer);
  }

  /** Runs with output in the shared "Runwise Pipeline" terminal. */
  runInTerminal(request: PipelineRunRequest): Promise<PipelineRunResult | undefined> {
    const pty = this.ownTerminal();
    return this.run(request, pty);
  }

  /**
   * Runs `request`, writing to `output`; resolves with the result (undefined when nothing could
   * start). Throws UntrustedWorkspaceError in Restricted Mode, and when a run is already going.
   */
  async run(request: PipelineRunRequest, output: RunOutput): Promise<PipelineRunResult | undefined> {
    const root = this.tracking.workspace;
    if (!vscode.workspace.isTrusted) throw new UntrustedWorkspaceError('run pipeline stages');
    if (!root) throw new Error('Runwise needs a folder on disk open in the window to run a pipeline.');
    if (this.running) throw new Error('A pipeline run is already in progress: wait for it, or cancel it from its notification (Runwise: Stop Pipeline Run).');
    const controller = new AbortController();
    this.running = controller;
    const run = this.runLoaded(root, request, output, controller);
    this.runEnded = run;
    try {
      return await run;
    } finally {
      this.running = undefined;
      this.runEnded = undefined;
      this.state.schedule(0);
    }
  }

  private async runLoaded(root: string, request: PipelineRunRequest, output: RunOutput, controller: AbortController): Promise<PipelineRunResult | undefined> {
    let graph: PipelineGraph;
    try {
      graph = loadPipeline(root);
    } catch (e) {
      if (!(e instanceof PipelineLoadError)) throw e;
      output.line(`✖ ${e.message}${e.diagnostics.length ? ': nothing was run' : ''}`);
      for (const d of e.diagnostics) output.line(`  ${formatPipelineDiagnostic(d)}`);
      throw new Error(`${e.message}${e.diagnostics[0] ? `: ${formatPipelineDiagnostic(e.diagnostics[0])}` : ''}`);
    }
    const hashes = new HashCache(graph.root);
    let decisions = planRun(graph, { hashes, ...(request.targets?.length ? { targets: request.targets } : {}), ...(request.only ? { force: true } : {}) });
    let stale: Map<string, string> | undefined;
    if (request.only && request.targets) {
      const only = new Set(request.targets);
      decisions = decisions.filter((d) => only.has(d.id));
      // As `run --single`: the gates of stages above that are out of date are not judged on old metrics.
      stale = staleAbove(graph, only, hashes);
    }
    const python = await stagePython(graph.root, this.log);
    if (graph.stages.some(runsPython)) output.line(`python: ${python.command} (${python.source === 'python-extension' ? 'the Python extension' : python.source === 'setting' ? 'runwise.pythonPath' : 'PATH'})`);

    const tracker = await this.tracking.writableTracker();
    const endpoint = await this.tracking.startServer().catch((e: unknown) => {
      this.log.warn(`the tracking server did not start (${messageOf(e)}); the run starts its own endpoint`);
      return undefined;
    });
    const label = describeRequest(request);
    output.line(`▶ Runwise: run ${label} (${new Date().toLocaleTimeString()})`);
    this.log.info(`pipeline run: ${label}`);

    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Runwise: running ${label}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => controller.abort());
        let total = 0;
        let done = 0;
        // Stages a failed gate holds back end (not run) without starting: not counted in the progress.
        let held = new Set<string>();
        const onEvent = (e: PipelineRunEvent) => {
          switch (e.type) {
            case 'run-start':
              total = e.toRun.length;
              held = new Set(e.held);
              // Nothing to run is said once, at the end, with the outcome (a frozen stage can still fail).
              if (total) output.line(`Running ${total} stage${total === 1 ? '' : 's'}: ${e.toRun.join(', ')}`);
              break;
            case 'stage-start':
              progress.report({ message: `${e.stage} (${done + 1}/${total})` });
              output.line(`▶ ${e.stage}: ${e.reasons.map(describeReason).join('; ') || 'started'}`);
              this.state.stageStarted(e.stage, e.runId);
              void this.runsView.refresh();
              break;
            case 'output':
              output.line(`${e.stage} | ${e.line}`);
              break;
            case 'stage-end':
              if (!held.has(e.stage)) done++;
              output.line(endLine(e.report));
              this.state.stageEnded(e.report);
              void this.runsView.refresh();
              break;
            case 'gate':
              output.line(`${gateMark(e.outcome)} ${e.outcome.message}`);
              break;
          }
        };
        try {
          return await runPipeline({
            graph,
            decisions,
            ...pythonRunOptions(python.command),
            tracker,
            hashes,
            signal: controller.signal,
            onEvent,
            ...(endpoint ? { endpoint: { uri: endpoint.uri, token: endpoint.token } } : {}),
            // The runner judges the gates of the stages it plans and of those above what it runs:
            // a stage run alone is held back by a failed gate above it, as the CLI's --single is.
            gates: true,
            ...(stale ? { stale } : {}),
          });
        } finally {
          hashes.save();
        }
      },
    );
    void this.runsView.refresh();
    output.line(result.cancelled ? '■ Cancelled: every stage was stopped.' : result.ok ? (result.runId ? `✔ Done (run ${result.runId.slice(0, 8)})` : '✔ Nothing to run: every stage is up to date.') : '✖ The run failed.');
    this.report(result);
    return result;
  }

  private report(result: PipelineRunResult): void {
    if (result.cancelled) {
      void vscode.window.showInformationMessage('Runwise: the pipeline run was cancelled; every stage was stopped.');
      return;
    }
    if (result.ok) return;
    const failed = result.stages.find((s) => s.status === 'failed');
    // A gate not judged (its stage out of date) held what is below it back, but did not fail.
    const gates = result.gates.filter((g) => !g.passed && !g.unchecked && !g.notJudged);
    const notJudged = result.gates.filter((g) => g.notJudged);
    const text = failed
      ? `stage ${failed.id} failed: ${failed.message ?? failed.status}`
      : gates.length
        ? `${gates.length} gate${gates.length === 1 ? '' : 's'} failed: ${gates[0]!.message}`
        : notJudged.length
          ? `${notJudged[0]!.message}`
          : 'the pipeline did not finish';
    void vscode.window.showErrorMessage(`Runwise: ${text}`, ...(failed ? ['Open Log'] : []), 'Show Output').then((choice) => {
      if (choice === 'Open Log' && failed) void vscode.commands.executeCommand('runwise.openStageLog', failed.id);
      else if (choice === 'Show Output') this.terminal?.terminal.show();
    });
  }

  private ownTerminal(): PipelineTerminal {
    if (!this.terminal) {
      const pty = new PipelineTerminal();
      const terminal = vscode.window.createTerminal({ name: 'Runwise Pipeline', pty, iconPath: new vscode.ThemeIcon('run-all') });
      this.terminal = { terminal, pty };
    }
    this.terminal.terminal.show(true);
    return this.terminal.pty;
  }

  dispose(): void {
    runners.delete(this);
    this.cancel();
    this.terminal?.terminal.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

function endLine(r: StageReport): string {
  const took = r.durationMs ? ` in ${formatElapsed(r.durationMs)}` : '';
  if (r.status === 'succeeded') return `✔ ${r.id}: done${took}${r.message ? ` (${r.message})` : ''}`;
  if (r.status === 'not-run') return `- ${r.id}: ${r.message ?? 'not run'}`;
  if (r.status === 'skipped') return `- ${r.id}: up to date`;
  return `✖ ${r.id}: ${r.status}${took}: ${r.message ?? ''}`;
}

/** Lines a terminal keeps while it is not open (the stage logs have everything). */
const MAX_HELD_LINES = 5_000;

/**
 * A terminal fed with lines (no shell): text written before VS Code opened it is kept and shown on
 * open. Closing it while a run goes on does not stop the run (the notification's Cancel does).
 */
export class PipelineTerminal implements vscode.Pseudoterminal, RunOutput {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  readonly onDidWrite = this.writeEmitter.event;
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  readonly onDidClose = this.closeEmitter.event;
  private pending: string[] | undefined = [];

  open(): void {
    const held = this.pending ?? [];
    this.pending = undefined;
    for (const t of held) this.writeEmitter.fire(t);
  }

  close(): void {
    this.pending = [];
  }

  line(text: string): void {
    const t = `${text.replace(/\r?\n/g, '\r\n')}\r\n`;
    if (!this.pending) this.writeEmitter.fire(t);
    else if (this.pending.length < MAX_HELD_LINES) this.pending.push(t);
  }

  /** Ends the terminal's process with an exit code (tasks). */
  exit(code: number): void {
    this.closeEmitter.fire(code);
  }
}
