/**
 * The run details webview: one panel, reused, showing the run last opened from the Runs view. It
 * is served in the shared HTML shell with the nonce-based Content-Security-Policy
 * (client/webviewPanel.ts), loads only dist/webview/runDetails.{js,css}, and speaks the
 * typed messages of webview/runDetails/messages.ts. It follows the run: when the tracker changes it, the
 * page gets the new data.
 */
import * as vscode from 'vscode';
import { NOTE_TAG, type Run } from '../core/tracker/model';
import type { Tracker } from '../core/tracker/tracker';
import type { LoggedModelSummary } from '../core/views/loggedModelSummary';
import { formatTimestamp } from '../core/views/displayFormat';
import { loggedModelsOfRun } from '../core/views/runLoggedModels';
import { isRunDetailsWebviewMessage, type RunDetails, type RunDetailsHostMessage, type RunDetailsWebviewMessage } from '../webview/runDetails/messages';
import { toWireNumber } from '../webview/shared/messages';
import type { RunsChange } from './runsView';
import { createRunwiseWebviewPanel, receivePageMessages } from './webviewPanel';

export const RUN_DETAILS_VIEW_TYPE = 'runwise.runDetails';

/** The tracker's run as the page shows it (system tags folded into their fields). */
export function runDetailsOf(run: Run, experimentName: string, loggedModels: LoggedModelSummary[] = []): RunDetails {
  const note = run.tags.find((t) => t.key === NOTE_TAG)?.value;
  return {
    runId: run.info.runId,
    runName: run.info.runName,
    experimentId: run.info.experimentId,
    experimentName,
    status: run.info.status,
    lifecycleStage: run.info.lifecycleStage,
    startTime: run.info.startTime,
    startTimeText: formatTimestamp(run.info.startTime),
    endTime: run.info.endTime,
    userId: run.info.userId,
    parentRunId: run.info.parentRunId,
    note: note ? note : null,
    params: run.params.map((p) => ({ key: p.key, value: p.value })),
    metrics: run.metrics.map((m) => ({ key: m.key, value: toWireNumber(m.value), step: m.step, timestamp: m.timestamp })),
    tags: run.tags.filter((t) => !t.key.startsWith('mlflow.')).map((t) => ({ key: t.key, value: t.value })),
    datasets: run.inputs.map((i) => ({ name: i.dataset.name, digest: i.dataset.digest, source: i.dataset.source })),
    loggedModels,
  };
}

export interface RunDetailsDependencies {
  extensionUri: vscode.Uri;
  tracker(): Promise<Tracker | undefined>;
  onDidChangeRuns: vscode.Event<RunsChange>;
  log: vscode.LogOutputChannel;
}

export class RunDetailsPanel implements vscode.Disposable {
  private static current: RunDetailsPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  /** Shows `runId` in the details panel, creating the panel or reusing the open one. */
  static show(runId: string, deps: RunDetailsDependencies): RunDetailsPanel {
    const current = RunDetailsPanel.current;
    if (current) {
      current.runId = runId;
      current.panel.reveal(undefined, true);
      void current.update();
      return current;
    }
    const panel = createRunwiseWebviewPanel({
      extensionUri: deps.extensionUri,
      viewType: RUN_DETAILS_VIEW_TYPE,
      title: 'Run',
      bundle: 'runDetails',
      documentTitle: 'Run details',
    });
    RunDetailsPanel.current = new RunDetailsPanel(panel, runId, deps);
    return RunDetailsPanel.current;
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private runId: string,
    private readonly deps: RunDetailsDependencies,
  ) {
    this.disposables.push(
      receivePageMessages(panel.webview, isRunDetailsWebviewMessage, (m) => this.onMessage(m), deps.log, 'run details'),
      deps.onDidChangeRuns((change) => {
        if (change.all || change.runIds.includes(this.runId)) void this.update();
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private async onMessage(m: RunDetailsWebviewMessage): Promise<void> {
    // The page acts only on the run it shows: a message naming another run is not the user's doing.
    if (m.type !== 'ready' && m.runId !== this.runId) {
      this.deps.log.warn(`run details: ignored '${m.type}' for run ${m.runId}, which this panel does not show`);
      return;
    }
    switch (m.type) {
      case 'ready':
        return this.update();
      case 'renameRun':
        return void vscode.commands.executeCommand('runwise.renameRun', { runId: m.runId });
      case 'editNote':
        return void vscode.commands.executeCommand('runwise.addRunNote', { runId: m.runId });
      case 'deleteRun':
        return void vscode.commands.executeCommand('runwise.deleteRun', { runId: m.runId });
      case 'copyRunId':
        await vscode.env.clipboard.writeText(m.runId);
        vscode.window.setStatusBarMessage(`Copied run ID ${m.runId}`, 3000);
        return;
    }
  }

  private post(message: RunDetailsHostMessage): void {
    void this.panel.webview.postMessage(message);
  }

  /** Reads the run from the tracker and sends it to the page. */
  async update(): Promise<void> {
    const runId = this.runId;
    try {
      const tracker = await this.deps.tracker();
      if (!tracker) return this.post({ type: 'runMissing', runId, reason: 'This workspace has no tracker.' });
      const run = tracker.getRun(runId);
      const experiment = tracker.getExperiment(run.info.experimentId);
      this.panel.title = `Run: ${run.info.runName}`;
      if (run.info.lifecycleStage === 'deleted') {
        return this.post({ type: 'runMissing', runId, reason: `The run “${run.info.runName}” was deleted.` });
      }
      if (experiment.lifecycleStage === 'deleted') {
        return this.post({ type: 'runMissing', runId, reason: `The experiment “${experiment.name}” of run “${run.info.runName}” was deleted.` });
      }
      this.post({ type: 'run', run: runDetailsOf(run, experiment.name, this.loggedModels(tracker, run)) });
    } catch (e) {
      this.post({ type: 'runMissing', runId, reason: e instanceof Error ? e.message : String(e) });
    }
  }

  /** The run's logged models; a model that cannot be read costs its section, not the whole run. */
  private loggedModels(tracker: Tracker, run: Run): LoggedModelSummary[] {
    try {
      return loggedModelsOfRun(tracker, run);
    } catch (e) {
      this.deps.log.warn(`run details: cannot read the logged models of run ${run.info.runId}: ${e instanceof Error ? e.message : String(e)}`);
      return [];
    }
  }

  dispose(): void {
    if (RunDetailsPanel.current === this) RunDetailsPanel.current = undefined;
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}
