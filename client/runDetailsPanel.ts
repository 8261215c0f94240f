/**
 * The run details webview: one panel, reused, showing the run last opened from the Runs view. It
 * is served in the shared HTML shell with the nonce-based Content-Security-Policy
 * (client/webviewPanel.ts), loads only dist/webview/runDetails.{js,css}, and speaks the
 * typed messages of webview/runDetails/messages.ts. It follows the run: when the tracker changes it, the
 * page gets the new data. Besides the run's record it sends sparklines of its metrics, its artifacts
 * (previewed on request, only paths it listed: nothing outside the run's artifacts is read), the end
 * of its stage log and the model versions registered from it (read-only registry queries).
 */
import { readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { NOTE_TAG, type Run } from '../core/tracker/model';
import type { Tracker } from '../core/tracker/tracker';
import type { LoggedModelSummary } from '../core/views/loggedModelSummary';
import { formatBytes, formatTimestamp } from '../core/views/displayFormat';
import { LOG_ARTIFACT } from '../core/pipeline/stageTracking';
import { artifactTail, listArtifactFiles, previewArtifact } from '../core/views/artifactPreview';
import { metricSeries } from '../core/views/metricSeries';
import { loggedModelsOfRun } from '../core/views/runLoggedModels';
import { isRunDetailsWebviewMessage, type ArtifactPreviewMessage, type RunDetails, type RunDetailsHostMessage, type RunDetailsWebviewMessage } from '../webview/runDetails/messages';
import { toWireNumber } from '../webview/shared/messages';
import type { RunsChange } from './runsView';
import { createRunwiseWebviewPanel, receivePageMessages, ReusedWebviewPanel, showReusedPanel, type PanelSlot } from './webviewPanel';

export const RUN_DETAILS_VIEW_TYPE = 'runwise.runDetails';

/** What the page shows besides the run's own record: histories, artifacts, the stage log, registered versions. */
export type RunDetailsExtras = Pick<RunDetails, 'artifacts' | 'artifactsTruncated' | 'stageLog' | 'modelVersions'> & { histories?: ReadonlyMap<string, (number | null)[]> };

/** The tracker's run as the page shows it (system tags folded into their fields). */
export function runDetailsOf(run: Run, experimentName: string, loggedModels: LoggedModelSummary[] = [], extras: RunDetailsExtras = {}): RunDetails {
  const { histories, ...rest } = extras;
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
    metrics: run.metrics.map((m) => {
      const history = histories?.get(m.key);
      return { key: m.key, value: toWireNumber(m.value), step: m.step, timestamp: m.timestamp, ...(history ? { history } : {}) };
    }),
    tags: run.tags.filter((t) => !t.key.startsWith('mlflow.')).map((t) => ({ key: t.key, value: t.value })),
    datasets: run.inputs.map((i) => ({ name: i.dataset.name, digest: i.dataset.digest, source: i.dataset.source })),
    loggedModels,
    ...rest,
  };
}

/** Points per metric sparkline. */
const SPARKLINE_POINTS = 48;
/** The largest artifact opened in an editor tab. */
const OPEN_MAX_BYTES = 16 * 1024 * 1024;
/** How much of the end of a stage log the page shows. */
const STAGE_LOG_BYTES = 64 * 1024;

export interface RunDetailsDependencies {
  extensionUri: vscode.Uri;
  tracker(): Promise<Tracker | undefined>;
  onDidChangeRuns: vscode.Event<RunsChange>;
  log: vscode.LogOutputChannel;
}

export class RunDetailsPanel extends ReusedWebviewPanel<string, RunDetailsHostMessage> {
  private static readonly slot: PanelSlot<RunDetailsPanel> = { current: undefined };
  /** The artifact paths last sent to the page: the only ones it may ask to preview or open. */
  private artifactPaths = new Set<string>();

  /** Shows `runId` in the details panel, creating the panel or reusing the open one. */
  static show(runId: string, deps: RunDetailsDependencies): RunDetailsPanel {
    return showReusedPanel(RunDetailsPanel.slot, runId, () => {
      const panel = createRunwiseWebviewPanel({
        extensionUri: deps.extensionUri,
        viewType: RUN_DETAILS_VIEW_TYPE,
        title: 'Run',
        bundle: 'runDetails',
        documentTitle: 'Run details',
      });
      return new RunDetailsPanel(panel, runId, deps);
    });
  }

  /** The run the panel shows. */
  private get runId(): string {
    return this.subject;
  }

  private constructor(
    panel: vscode.WebviewPanel,
    runId: string,
    private readonly deps: RunDetailsDependencies,
  ) {
    super(RunDetailsPanel.slot, panel, runId);
    this.disposables.push(
      receivePageMessages(panel.webview, isRunDetailsWebviewMessage, (m) => this.onMessage(m), deps.log, 'run details'),
      deps.onDidChangeRuns((change) => {
        if (change.all || change.runIds.includes(this.runId)) void this.update();
      }),
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
      case 'previewArtifact':
        return this.artifact(m.runId, m.path, 'preview');
      case 'openArtifact':
        return this.artifact(m.runId, m.path, 'open');
    }
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
      this.post({ type: 'run', run: runDetailsOf(run, experiment.name, this.loggedModels(tracker, run), await this.extras(tracker, run)) });
    } catch (e) {
      this.post({ type: 'runMissing', runId, reason: e instanceof Error ? e.message : String(e) });
    }
  }

  /**
   * Sparklines, artifacts, the stage log and registered versions. Each part that cannot be read is
   * logged and left out: it costs its section, not the whole run.
   */
  private async extras(tracker: Tracker, run: Run): Promise<RunDetailsExtras> {
    const runId = run.info.runId;
    const extras: RunDetailsExtras = {};
    const attempt = async (what: string, read: () => Promise<void> | void): Promise<void> => {
      try {
        await read();
      } catch (e) {
        this.deps.log.warn(`run details: cannot read the ${what} of run ${runId}: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    await attempt('metric histories', () => {
      extras.histories = new Map(run.metrics.map((m) => [m.key, metricSeries(tracker, { runId, key: m.key, maxPoints: SPARKLINE_POINTS }).last]));
    });
    await attempt('artifacts', () => {
      const listed = listArtifactFiles(tracker, runId);
      extras.artifacts = listed.files;
      extras.artifactsTruncated = listed.truncated;
      this.artifactPaths = new Set(listed.files.map((f) => f.path));
    });
    await attempt('stage log', async () => {
      extras.stageLog = this.artifactPaths.has(LOG_ARTIFACT) ? await artifactTail(tracker, runId, LOG_ARTIFACT, STAGE_LOG_BYTES) : null;
    });
    await attempt('registered model versions', () => {
      extras.modelVersions = tracker.registry
        .searchModelVersions({ filter: `run_id = '${runId}'`, maxResults: 1000 })
        .items.map((v) => ({ name: v.name, version: v.version, aliases: v.aliases, stage: v.currentStage, status: v.status, sha256: v.sha256 }));
    });
    return extras;
  }

  /** Shows an artifact the page asked for, if it is one the page was given. */
  private async artifact(runId: string, artifactPath: string, action: 'preview' | 'open'): Promise<void> {
    if (!this.artifactPaths.has(artifactPath)) {
      this.deps.log.warn(`run details: ignored a request for '${artifactPath.slice(0, 200)}', which is not an artifact of run ${runId}`);
      return;
    }
    const tracker = await this.deps.tracker();
    if (!tracker) return;
    let preview: ArtifactPreviewMessage;
    try {
      preview = await previewArtifact(tracker, runId, artifactPath);
    } catch (e) {
      preview = { kind: 'error', path: artifactPath, message: e instanceof Error ? e.message : String(e) };
    }
    if (action === 'open' && (preview.kind === 'text' || preview.kind === 'json' || preview.kind === 'csv')) {
      const opened = tracker.openArtifact(runId, artifactPath);
      if (opened.record.size > OPEN_MAX_BYTES) {
        void vscode.window.showWarningMessage(`Runwise: ${artifactPath} is too large to open in an editor (${formatBytes(opened.record.size)}); the preview shows its start.`);
        return this.post({ type: 'artifactPreview', runId, preview });
      }
      const content = await readFile(opened.filePath, 'utf8');
      const language = preview.kind === 'json' ? 'json' : preview.kind === 'csv' ? 'csv' : 'plaintext';
      const doc = await vscode.workspace.openTextDocument({ content, language });
      await vscode.window.showTextDocument(doc, { preview: true });
      return;
    }
    this.post({ type: 'artifactPreview', runId, preview });
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
}
