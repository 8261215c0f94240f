/**
 * Drift in the editor beyond one comparison:
 * - "Runwise: Watch Folder for Drift…" (pick the reference, then a workspace folder): the same core
 *   logic as `runwise drift watch` (core/drift/driftWatch.ts) with chokidar's events; every batch is
 *   logged as a drift run, and a batch that drifts raises a warning with "Open Report", which opens
 *   the report with the watch's drift share over batches (read back from the tracker by the
 *   watch's `runwise.drift.watch` tag). "Runwise: Stop Watching Folder for Drift" ends one watch (or
 *   all). Watching reads user data and writes the tracker: trusted workspaces only.
 * - The drift stage's report: `lastStageDriftReport` finds a stage's last run when it stored
 *   `drift/report.json` (the "Open Drift Report" CodeLens of client/pipelineLens.ts asks through the
 *   internal command `runwise.stageDriftReportRun`), and `openStageDriftReport` shows it.
 */
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DRIFT_REPORT_ARTIFACT } from '../core/tracker/model';
import { chokidarBatchEvents, driftWatchHistory, driftWatchTag, watchDrift, type DriftBatchResult } from '../core/drift/driftWatch';
import { STAGE_TAG } from '../core/tracker/model';
import type { Tracker } from '../core/tracker/tracker';
import { relativeInside } from '../core/workspace/workspacePath';
import { driftReportFromJson, type DriftBatchPoint } from '../webview/driftReport/messages';
import { DriftCommands } from './driftCommands';
import { DriftReportPanel } from './driftReportPanel';
import { UntrustedWorkspaceError, type TrackingService } from './trackingService';

export interface DriftWatchesOptions {
  extensionUri: vscode.Uri;
  tracking: TrackingService;
  log: vscode.LogOutputChannel;
}

interface ActiveWatch {
  reference: string;
  folder: string;
  /** The `runwise.drift.watch` tag value of its runs. */
  tag: string;
  controller: AbortController;
}

/** The last run of `stageId` when it stored a drift report; undefined otherwise. */
export function lastStageDriftReport(tracker: Tracker, stageId: string): string | undefined {
  const escaped = stageId.replace(/[\\']/g, '\\$&');
  const run = tracker.searchRuns({ filter: `tags.\`${STAGE_TAG}\` = '${escaped}'`, orderBy: ['attributes.start_time DESC'], maxResults: 1 }).items[0];
  if (!run) return undefined;
  try {
    tracker.openArtifact(run.info.runId, DRIFT_REPORT_ARTIFACT);
    return run.info.runId;
  } catch {
    return undefined;
  }
}

export class DriftWatches implements vscode.Disposable {
  private readonly watches = new Map<string, ActiveWatch>();

  constructor(private readonly options: DriftWatchesOptions) {}

  private commands(): DriftCommands {
    return new DriftCommands({ extensionUri: this.options.extensionUri, workspace: () => this.options.tracking.workspace, log: this.options.log });
  }

  private relative(file: string): string {
    const ws = this.options.tracking.workspace;
    return (ws ? relativeInside(ws, file)?.split(path.sep).join('/') : undefined) ?? file;
  }

  /** The command: `clicked` is the explorer's folder when run from its context menu. */
  async watch(clicked?: vscode.Uri): Promise<void> {
    if (!vscode.workspace.isTrusted) throw new UntrustedWorkspaceError('watch a folder for drift');
    const ws = this.options.tracking.workspace;
    if (!ws) throw new Error('Open a workspace folder to watch a folder for drift.');
    const reference = await this.commands().pickDataset('Runwise: Watch Folder for Drift… (1/2)', 'The reference dataset each new batch is compared with');
    if (!reference) return;
    let folder = clicked?.scheme === 'file' && statSync(clicked.fsPath, { throwIfNoEntry: false })?.isDirectory() ? clicked.fsPath : undefined;
    if (!folder) {
      const chosen = await vscode.window.showOpenDialog({ title: 'Runwise: Watch Folder for Drift… (2/2): the folder batches arrive in', canSelectFiles: false, canSelectFolders: true, canSelectMany: false, defaultUri: vscode.Uri.file(ws) });
      folder = chosen?.[0]?.fsPath;
      if (!folder) return;
    }
    if (relativeInside(ws, folder) === undefined) throw new Error(`${folder} is outside the workspace; watch a folder inside it.`);
    if (this.watches.has(folder)) {
      void vscode.window.showInformationMessage(`Runwise: ${this.relative(folder)} is already watched for drift.`);
      return;
    }
    const tracker = await this.options.tracking.writableTracker();
    const refName = this.relative(reference);
    const folderName = this.relative(folder);
    const watch: ActiveWatch = { reference, folder, tag: driftWatchTag(refName, folderName), controller: new AbortController() };
    this.watches.set(folder, watch);
    this.options.log.info(`drift: watching ${folderName} for batches against ${refName}`);
    void vscode.window.showInformationMessage(`Runwise: watching ${folderName} for drift against ${refName}. Each new batch file is compared and logged as a run.`);
    watchDrift({
      reference,
      folder,
      events: chokidarBatchEvents(folder),
      display: (f) => this.relative(f),
      tracker: () => tracker,
      signal: watch.controller.signal,
      onWarning: (message) => this.options.log.warn(`drift watch ${folderName}: ${message}`),
      onBatch: (result) => this.batchDone(watch, result, tracker),
    }).then(
      () => this.options.log.info(`drift: stopped watching ${folderName}`),
      (e: unknown) => {
        this.options.log.error(`drift watch ${folderName} stopped: ${e instanceof Error ? e.message : String(e)}`);
        void vscode.window.showErrorMessage(`Runwise: watching ${folderName} for drift stopped: ${e instanceof Error ? e.message : String(e)}`);
      },
    ).finally(() => {
      if (this.watches.get(folder) === watch) this.watches.delete(folder);
    });
  }

  private batchDone(watch: ActiveWatch, result: DriftBatchResult, tracker: Tracker): void {
    if (!result.report) {
      this.options.log.warn(`drift: ${result.shown}: ${result.error ?? 'no report'}`);
      void vscode.window.showWarningMessage(`Runwise: batch ${result.shown} could not be compared: ${result.error ?? 'no report'}`);
      return;
    }
    const r = result.report;
    this.options.log.info(`drift: ${result.shown}: ${r.n_drifted} of ${r.n_columns} columns drifted (share ${r.drift_share}), run ${result.runId ?? '-'}`);
    if (DriftReportPanel.isShowingWatch(watch.tag)) this.showReport(watch, r, tracker);
    if (!r.dataset_drift) return;
    void vscode.window.showWarningMessage(`Runwise: drift in ${result.shown}: ${r.n_drifted} of ${r.n_columns} columns drifted.`, 'Open Report').then((choice) => {
      if (choice === 'Open Report') this.showReport(watch, r, tracker);
    });
  }

  private showReport(watch: ActiveWatch, report: NonNullable<DriftBatchResult['report']>, tracker: Tracker): void {
    const history: DriftBatchPoint[] = driftWatchHistory(tracker, watch.tag).map((p) => ({ batch: p.batch, drift_share: p.driftShare, dataset_drift: p.datasetDrift }));
    DriftReportPanel.show({ report, history, watchTag: watch.tag }, { extensionUri: this.options.extensionUri, log: this.options.log });
  }

  /** The command: stops one watch (picked when several) or says none runs. */
  async stop(): Promise<void> {
    const all = [...this.watches.values()];
    if (all.length === 0) {
      void vscode.window.showInformationMessage('Runwise: no folder is watched for drift.');
      return;
    }
    const everything = { label: 'Stop all', watches: all };
    const picked =
      all.length === 1
        ? { watches: all }
        : await vscode.window.showQuickPick([...all.map((w) => ({ label: this.relative(w.folder), description: `against ${this.relative(w.reference)}`, watches: [w] })), everything], {
            title: 'Runwise: Stop Watching Folder for Drift',
          });
    for (const w of picked?.watches ?? []) {
      w.controller.abort();
      this.watches.delete(w.folder);
      void vscode.window.showInformationMessage(`Runwise: stopped watching ${this.relative(w.folder)} for drift.`);
    }
  }

  /** The internal command behind the drift stage's CodeLens: the stage's last run when it has a report. */
  async stageReportRun(stageId: unknown): Promise<string | undefined> {
    if (typeof stageId !== 'string') return undefined;
    try {
      const tracker = await this.options.tracking.tracker();
      return tracker ? lastStageDriftReport(tracker, stageId) : undefined;
    } catch (e) {
      // Asked on every lens refresh: a tracker that cannot be read means no lens, logged, not a message each time.
      this.options.log.warn(`drift report of stage ${stageId}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }

  /** "Open Drift Report" on a drift stage: its last run's `drift/report.json`. */
  async openStageReport(stageId: unknown): Promise<void> {
    if (typeof stageId !== 'string') return;
    const tracker = await this.options.tracking.tracker();
    const runId = tracker ? lastStageDriftReport(tracker, stageId) : undefined;
    const deps = { extensionUri: this.options.extensionUri, log: this.options.log };
    if (!tracker || !runId) {
      DriftReportPanel.show({ missing: `Stage ${stageId} has no drift report yet: its last run stored none (run the stage to write one).` }, deps);
      return;
    }
    try {
      const text = readFileSync(tracker.openArtifact(runId, DRIFT_REPORT_ARTIFACT).filePath, 'utf8');
      DriftReportPanel.show({ report: driftReportFromJson(JSON.parse(text)) }, deps);
    } catch (e) {
      DriftReportPanel.show({ missing: `The drift report of run ${runId} (stage ${stageId}) cannot be read: ${e instanceof Error ? e.message : String(e)}` }, deps);
    }
  }

  dispose(): void {
    for (const w of this.watches.values()) w.controller.abort();
    this.watches.clear();
  }
}
