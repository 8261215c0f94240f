/**
 * The workspace's pipelines as the editor shows them: the graph (core/pipeline/loadPipeline), the
 * plan's decision for every stage, and what this session saw stages do, combined into one state per
 * stage (core/pipeline/stageStateModel). States stay current: chokidar watches only the paths the
 * pipelines name (deps, outs, params files, pipeline and lock files), and a VS Code file watcher on
 * the pipeline file names notices a pipeline created or deleted. A change schedules a
 * recomputation (debounced; a newer one cancels the older). When the OS runs out of file watches
 * (ENOSPC), a warning says so and every state reads "state unknown" until the window reloads.
 */
import * as vscode from 'vscode';
import { HashCache } from '../core/pipeline/hashCache';
import { loadPipeline } from '../core/pipeline/loadPipeline';
import { PipelineWatcher } from '../core/pipeline/pipelineWatcher';
import { formatPipelineDiagnostic, PipelineLoadError, type PipelineGraph, type StageDecision } from '../core/pipeline/pipelineModel';
import type { StageReport } from '../core/pipeline/pipelineRun';
import { planRun } from '../core/pipeline/stageStatus';
import { stageState, watchedPaths, type StageActivity, type StageState } from '../core/pipeline/stageStateModel';

/** Pipeline file names (as the language service recognises them), for VS Code's own watcher and the CodeLens selector. */
export const PIPELINE_FILE_GLOB = '**/{runwise.yaml,runwise.yml,*.pipeline.yaml,*.pipeline.yml,dvc.yaml,dvc.yml}';
const DEBOUNCE_MS = 250;


export class PipelineState implements vscode.Disposable {
  /** The loaded graph; undefined when there is none or it could not be loaded. */
  graph: PipelineGraph | undefined;
  /** Why the pipelines cannot run (load error, broken lock file); undefined when they can. */
  problem: string | undefined;
  /** The workspace has no pipeline file. */
  noPipeline = false;
  /** Set when watching failed (ENOSPC): states are unknown. */
  watchFailure: string | undefined;
  private decisions = new Map<string, StageDecision>();
  private readonly activity = new Map<string, StageActivity>();
  private hashes: HashCache | undefined;
  private watcher: PipelineWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private current: AbortController | undefined;
  private readonly emitter = new vscode.EventEmitter<void>();
  /** Fires after the graph, a decision or a stage's activity changed. */
  readonly onDidChange = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  private computed: Promise<void> | undefined;
  private settleComputed: (() => void) | undefined;

  constructor(
    /** The workspace folder on disk; undefined when none is open. */
    readonly root: string | undefined,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Starts watching and computes the first states. */
  start(): void {
    if (!this.root) return;
    // Until the first look, assume a pipeline: the extension mostly activates on one, and the
    // Pipeline view's "no pipeline" text should not flash before its stages.
    void vscode.commands.executeCommand('setContext', 'runwise.hasPipeline', true);
    const files = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(this.root), PIPELINE_FILE_GLOB));
    this.disposables.push(files, files.onDidCreate(() => this.schedule()), files.onDidDelete(() => this.schedule()), files.onDidChange(() => this.schedule()));
    this.schedule(0);
  }

  /** The state of a stage now. */
  stateOf(id: string): StageState {
    return stageState(this.watchFailure ? undefined : this.decisions.get(id), this.activity.get(id));
  }

  activityOf(id: string): StageActivity | undefined {
    return this.activity.get(id);
  }

  get anyRunning(): boolean {
    for (const a of this.activity.values()) if (a.running) return true;
    return false;
  }

  /** Resolves once the states reflect the workspace as of this call (the next recomputation ran). */
  whenComputed(): Promise<void> {
    return this.computed ?? Promise.resolve();
  }

  stageStarted(id: string, runId: string, logFile?: string): void {
    this.activity.set(id, { ...this.activity.get(id), running: { startedAt: Date.now(), runId, ...(logFile ? { logFile } : {}) } });
    this.emitter.fire();
  }

  stageEnded(report: StageReport): void {
    const before = this.activity.get(report.id);
    const status = report.status === 'succeeded' || report.status === 'failed' || report.status === 'cancelled' || report.status === 'not-run' ? report.status : undefined;
    if (!status) return;
    this.activity.set(report.id, {
      last: {
        status,
        ...(report.exitCode !== undefined ? { exitCode: report.exitCode } : {}),
        ...(report.signal !== undefined ? { signal: report.signal } : {}),
        ...(report.message !== undefined ? { message: report.message } : {}),
        ...((report.runId ?? before?.running?.runId) ? { runId: report.runId ?? before?.running?.runId } : {}),
        ...(report.logFile ? { logFile: report.logFile } : {}),
      },
    });
    this.emitter.fire();
  }

  /** Recomputes the states after `delayMs` (debounced: later calls restart the wait and cancel a computation under way). */
  schedule(delayMs = DEBOUNCE_MS): void {
    if (!this.root) return;
    if (this.timer) clearTimeout(this.timer);
    this.current?.abort();
    this.current = undefined;
    if (!this.computed) this.computed = new Promise<void>((resolve) => (this.settleComputed = resolve));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const controller = new AbortController();
      this.current = controller;
      void this.recompute(controller.signal).finally(() => {
        if (this.current !== controller) return;
        this.current = undefined;
        const settle = this.settleComputed;
        this.computed = undefined;
        this.settleComputed = undefined;
        settle?.();
      });
    }, delayMs);
  }

  private async recompute(signal: AbortSignal): Promise<void> {
    const root = this.root!;
    const t0 = performance.now();
    let graph: PipelineGraph | undefined;
    let problem: string | undefined;
    let noPipeline = false;
    try {
      graph = loadPipeline(root, { signal });
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof PipelineLoadError && e.diagnostics.length === 0 && /^No pipeline file/.test(e.message)) noPipeline = true;
      else if (e instanceof PipelineLoadError) problem = `${e.message}${e.diagnostics[0] ? ` (${formatPipelineDiagnostic(e.diagnostics[0])})` : ''}`;
      else problem = messageOf(e);
    }
    // Let newer events in before hashing: a change that arrived meanwhile cancels this pass.
    await new Promise((r) => setImmediate(r));
    if (signal.aborted) return;
    let decisions: StageDecision[] = [];
    if (graph) {
      if (this.hashes?.root !== graph.root) this.hashes = new HashCache(graph.root);
      try {
        decisions = planRun(graph, { hashes: this.hashes });
        // The cache is a file Runwise writes: not in a workspace the user has not trusted.
        if (vscode.workspace.isTrusted) this.hashes.save();
      } catch (e) {
        problem = messageOf(e);
      }
    }
    if (signal.aborted) return;
    this.graph = graph;
    this.problem = problem;
    this.noPipeline = noPipeline;
    this.decisions = new Map(decisions.map((d) => [d.id, d]));
    void vscode.commands.executeCommand('setContext', 'runwise.hasPipeline', !noPipeline);
    if (graph) this.watch(graph);
    this.log.debug(`pipeline states computed in ${(performance.now() - t0).toFixed(0)} ms (${decisions.length} stages${problem ? `; ${problem}` : ''})`);
    this.emitter.fire();
  }

  /** Follows the graph's paths (PipelineWatcher); gives up with a warning when the OS runs out of watches. */
  private watch(graph: PipelineGraph): void {
    if (this.watchFailure) return;
    this.watcher ??= new PipelineWatcher(graph.root, {
      onChange: () => this.schedule(),
      onFailure: (message) => {
        this.watchFailure = message;
        this.log.warn(message);
        void vscode.window.showWarningMessage(`Runwise: ${message}`);
        this.emitter.fire();
      },
      onError: (message) => this.log.warn(`pipeline file watcher: ${message}`),
    });
    this.watcher.update(watchedPaths(graph));
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.current?.abort();
    void this.watcher?.close();
    this.settleComputed?.();
    for (const d of this.disposables) d.dispose();
  }
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
