/**
 * The Compare Runs webview's host: a panel per comparison (an experiment's runs, or runs picked in
 * the Runs view), served in the shared HTML shell (client/webviewPanel.ts) with the page's bundle
 * dist/webview/compareRuns.{js,css}. It answers the page's typed messages
 * (webview/compareRuns/messages.ts) with the tracker's own search, comparison table and metric
 * downsampling (core/views/runTableQuery.ts, runTableModel.ts, metricSeries.ts), writes inline edits
 * through the tracker, and follows the tracker: the Runs view's change events (its watcher on the
 * tracker files) make it re-read only the runs that changed and push the new table, so RUNNING runs
 * update live. The page's view state is kept in the workspace state per comparison, so opening the
 * same comparison again picks up where it was left.
 */
import { writeFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import type { Run } from '../core/tracker/model';
import { runsToCsv } from '../core/tracker/runExport';
import type { Tracker } from '../core/tracker/tracker';
import { metricSeriesColumns } from '../core/views/metricSeries';
import { mergeRuns, runTableOf } from '../core/views/runTableModel';
import type { RunsTreeNode } from '../core/views/runsTreeModel';
import { applyCellEdit, comparedRuns, matchingRunIds, mostRecentExperimentId } from '../core/views/runTableQuery';
import {
  isCompareRunsWebviewMessage,
  type CompareRunsHostMessage,
  type CompareRunsViewState,
  type CompareRunsWebviewMessage,
  type CompareScope,
} from '../webview/compareRuns/messages';
import type { RunsChange } from './runsView';
import { createRunwiseWebviewPanel, receivePageMessages } from './webviewPanel';

export const COMPARE_RUNS_VIEW_TYPE = 'runwise.compareRuns';
/** Live updates are pushed at most this often while runs keep logging. */
const LIVE_UPDATE_MS = 1000;
/** View states kept in the workspace state, most recent first. */
const KEPT_VIEW_STATES = 20;
const VIEW_STATE_KEY = 'runwise.compareRuns.viewStates';

export interface CompareRunsDependencies {
  extensionUri: vscode.Uri;
  tracker(): Promise<Tracker | undefined>;
  onDidChangeRuns: vscode.Event<RunsChange>;
  workspaceState: vscode.Memento;
  /** Where an exported CSV is offered to go. */
  workspaceFolder: vscode.Uri | undefined;
  log: vscode.LogOutputChannel;
}

/** The key a comparison's view state is kept under: its experiments, or its picked runs. */
function scopeKey(scope: CompareScope): string {
  return scope.runIds ? `runs:${[...scope.runIds].sort().join(',')}` : `experiments:${[...scope.experimentIds].sort().join(',')}`;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * "Runwise: Compare Runs": from runs picked in the Runs view (two or more) those runs; from an
 * experiment node its runs; from one run its experiment's runs; from the palette with nothing
 * picked, the experiment of the most recent run.
 */
export async function compareRunsCommand(
  clicked: RunsTreeNode | undefined,
  selection: readonly RunsTreeNode[] | undefined,
  selectedInView: readonly RunsTreeNode[],
  deps: CompareRunsDependencies,
): Promise<CompareRunsPanel | undefined> {
  const tracker = await deps.tracker();
  if (!tracker) {
    void vscode.window.showInformationMessage('Runwise: this workspace has no runs to compare yet.');
    return undefined;
  }
  const nodes = selection && selection.length > 0 ? selection : clicked ? [clicked] : selectedInView;
  const runNodes = nodes.filter((n) => n.kind === 'run' && n.runId);
  const experimentIds = [...new Set(nodes.filter((n) => n.kind === 'experiment').map((n) => n.experimentId))];
  if (runNodes.length >= 2) {
    const runIds = [...new Set(runNodes.map((n) => n.runId!))];
    const scope = { experimentIds: [...new Set(runNodes.map((n) => n.experimentId))], runIds };
    return CompareRunsPanel.open(scope, `Compare ${runIds.length} runs`, deps);
  }
  if (experimentIds.length === 0 && runNodes.length === 1) experimentIds.push(runNodes[0]!.experimentId);
  if (experimentIds.length === 0) {
    const recent = mostRecentExperimentId(tracker);
    if (recent === undefined) {
      void vscode.window.showInformationMessage('Runwise: there are no runs to compare yet.');
      return undefined;
    }
    experimentIds.push(recent);
  }
  const names = experimentIds.map((id) => tracker.getExperiment(id).name);
  return CompareRunsPanel.open({ experimentIds }, `Compare runs: ${names.join(', ')}`, deps);
}

export class CompareRunsPanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private runs: Run[] = [];
  private runIds = new Set<string>();
  private pending: Set<string> | 'all' | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastPush = 0;

  /** Opens a panel comparing `scope`, titled `title`. */
  static open(scope: CompareScope, title: string, deps: CompareRunsDependencies): CompareRunsPanel {
    const panel = createRunwiseWebviewPanel({
      extensionUri: deps.extensionUri,
      viewType: COMPARE_RUNS_VIEW_TYPE,
      title,
      bundle: 'compareRuns',
      documentTitle: title,
    });
    return new CompareRunsPanel(panel, scope, title, deps);
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly scope: CompareScope,
    private readonly title: string,
    private readonly deps: CompareRunsDependencies,
  ) {
    this.disposables.push(
      receivePageMessages(panel.webview, isCompareRunsWebviewMessage, (m) => this.onMessage(m), deps.log, 'compare runs'),
      deps.onDidChangeRuns((change) => this.onRunsChanged(change)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private post(message: CompareRunsHostMessage): void {
    void this.panel.webview.postMessage(message);
  }

  private async onMessage(m: CompareRunsWebviewMessage): Promise<void> {
    try {
      switch (m.type) {
        case 'ready':
          return await this.load(true);
        case 'filter':
          return await this.filter(m.filter);
        case 'series':
          return await this.series(m);
        case 'editCell':
          return await this.edit(m.runId, m.column, m.value);
        case 'openRun':
          if (!this.runIds.has(m.runId)) return this.ignore(m.type, m.runId);
          return void vscode.commands.executeCommand('runwise.showRunDetails', { runId: m.runId });
        case 'exportCsv':
          return await this.exportCsv(m.runIds);
        case 'viewState':
          return await this.keepViewState(m.state);
      }
    } catch (e) {
      this.deps.log.error(`compare runs: '${m.type}' failed: ${messageOf(e)}`);
      void vscode.window.showErrorMessage(`Runwise: ${messageOf(e)}`);
    }
  }

  private ignore(type: string, runId: string): void {
    this.deps.log.warn(`compare runs: ignored '${type}' for run ${runId}, which this comparison does not show`);
  }

  private async trackerOrSay(): Promise<Tracker | undefined> {
    const tracker = await this.deps.tracker();
    if (!tracker) void vscode.window.showWarningMessage('Runwise: this workspace has no tracker yet.');
    return tracker;
  }

  /** Reads the runs of the comparison and sends the table (with the kept view state on a first load). */
  private async load(first: boolean): Promise<void> {
    const tracker = await this.trackerOrSay();
    if (!tracker) return;
    const t0 = performance.now();
    this.runs = comparedRuns(tracker, this.scope);
    this.runIds = new Set(this.runs.map((r) => r.info.runId));
    this.pushTable(first);
    this.deps.log.info(`compare runs: ${this.runs.length} runs loaded in ${(performance.now() - t0).toFixed(0)} ms`);
  }

  private pushTable(first: boolean): void {
    this.lastPush = Date.now();
    const viewState = first ? this.keptViewStates()[scopeKey(this.scope)] : undefined;
    this.post({ type: 'table', title: this.title, scope: this.scope, tableJson: JSON.stringify(runTableOf(this.runs)), ...(viewState ? { viewState } : {}) });
  }

  /** Tracker changes: collected, then folded in at most every LIVE_UPDATE_MS. */
  private onRunsChanged(change: RunsChange): void {
    if (change.all) this.pending = 'all';
    else if (this.pending !== 'all') {
      // A run of a compared experiment may be new (not yet shown); picked runs are a fixed set.
      const relevant = change.runIds.filter((id) => this.runIds.has(id) || !this.scope.runIds);
      if (relevant.length === 0) return;
      this.pending ??= new Set();
      for (const id of relevant) this.pending.add(id);
    }
    if (this.timer) return;
    const wait = Math.max(0, this.lastPush + LIVE_UPDATE_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.applyChanges();
    }, wait);
  }

  private async applyChanges(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return;
    try {
      if (pending === 'all') return await this.load(false);
      const tracker = await this.deps.tracker();
      if (!tracker) return;
      const changed: Run[] = [];
      const removed = new Set<string>();
      for (const id of pending) {
        let run: Run | undefined;
        try {
          run = tracker.getRun(id);
        } catch {
          run = undefined;
        }
        const inScope = run && run.info.lifecycleStage === 'active' && this.scope.experimentIds.includes(run.info.experimentId) && (!this.scope.runIds || this.scope.runIds.includes(id));
        if (run && inScope) changed.push(run);
        else removed.add(id);
      }
      if (changed.length === 0 && ![...removed].some((id) => this.runIds.has(id))) return;
      this.runs = mergeRuns(this.runs, changed, removed);
      this.runIds = new Set(this.runs.map((r) => r.info.runId));
      this.pushTable(false);
    } catch (e) {
      this.deps.log.warn(`compare runs: cannot read the changed runs: ${messageOf(e)}`);
    }
  }

  private async filter(filter: string): Promise<void> {
    const tracker = await this.trackerOrSay();
    if (!tracker) return;
    const outcome = matchingRunIds(tracker, this.scope, filter);
    if ('runIds' in outcome) this.post({ type: 'filterResult', filter, runIds: outcome.runIds.filter((id) => this.runIds.has(id)) });
    else this.post({ type: 'filterError', filter, position: outcome.position, message: outcome.message });
  }

  private async series(m: Extract<CompareRunsWebviewMessage, { type: 'series' }>): Promise<void> {
    const tracker = await this.trackerOrSay();
    if (!tracker) return;
    const range = m.minStep !== undefined && m.maxStep !== undefined ? { minStep: m.minStep, maxStep: m.maxStep } : {};
    const runIds = m.runIds.filter((id) => this.runIds.has(id));
    const series = metricSeriesColumns(tracker, { runIds, key: m.key, maxPoints: m.maxPoints, ...range, minMax: m.minMax });
    this.post({ type: 'series', requestId: m.requestId, key: m.key, series });
  }

  private async edit(runId: string, column: string, value: string): Promise<void> {
    if (!this.runIds.has(runId)) return this.ignore('editCell', runId);
    const tracker = await this.trackerOrSay();
    if (!tracker) return;
    try {
      applyCellEdit(tracker, runId, column, value);
    } catch (e) {
      this.post({ type: 'editFailed', runId, column, message: messageOf(e) });
      // The page showed the edit at once: the table as the tracker has it puts the old value back.
      this.pushTable(false);
    }
  }

  private async exportCsv(runIds: string[]): Promise<void> {
    const byId = new Map(this.runs.map((r) => [r.info.runId, r]));
    const runs = runIds.map((id) => byId.get(id)).filter((r): r is Run => r !== undefined);
    const defaultUri = this.deps.workspaceFolder ? vscode.Uri.joinPath(this.deps.workspaceFolder, 'runs.csv') : undefined;
    const target = await vscode.window.showSaveDialog({ title: `Runwise: Export ${runs.length} runs to CSV`, filters: { CSV: ['csv'] }, ...(defaultUri ? { defaultUri } : {}) });
    if (!target) return;
    await writeFile(target.fsPath, runsToCsv(runs), 'utf8');
    void vscode.window.showInformationMessage(`Exported ${runs.length} runs to ${vscode.workspace.asRelativePath(target)}.`);
  }

  private keptViewStates(): Record<string, CompareRunsViewState> {
    return this.deps.workspaceState.get<Record<string, CompareRunsViewState>>(VIEW_STATE_KEY) ?? {};
  }

  private async keepViewState(state: CompareRunsViewState): Promise<void> {
    const key = scopeKey(this.scope);
    const kept = Object.entries(this.keptViewStates()).filter(([k]) => k !== key);
    await this.deps.workspaceState.update(VIEW_STATE_KEY, Object.fromEntries([[key, state], ...kept.slice(0, KEPT_VIEW_STATES - 1)]));
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}
