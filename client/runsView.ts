/**
 * The Runs view: experiments → runs, fed by the tracker's change numbers. A file watcher on
 * `.runwise/tracker.db(-wal)` (core/tracker/trackerWatcher) says when something was written; the
 * view then asks the tracker only for what changed since its marker and refreshes only the
 * experiments that moved. What a row shows is decided in core/views/runsTreeModel.
 */
import * as vscode from 'vscode';
import type { RunStatus } from '../core/tracker/model';
import type { Tracker } from '../core/tracker/tracker';
import { watchTracker, type TrackerWatcher } from '../core/tracker/trackerWatcher';
import { RunsTreeModel, type RunsTreeNode } from '../core/views/runsTreeModel';
import { affectsSetting, readSetting } from './settings';
import type { TrackingService } from './trackingService';

export const RUNS_VIEW_ID = 'runwise.runs';

/** Which runs changed; `all` after a full reload. */
export type RunsChange = { all: true } | { all: false; runIds: string[] };

const STATUS_ICONS: Record<RunStatus, [string, string | undefined]> = {
  RUNNING: ['sync~spin', 'charts.blue'],
  SCHEDULED: ['clock', undefined],
  FINISHED: ['pass', 'testing.iconPassed'],
  FAILED: ['error', 'testing.iconFailed'],
  KILLED: ['circle-slash', 'testing.iconFailed'],
};

export function runsTreeOptions(): { keyMetrics: readonly string[]; maxMetrics: number; maxRunsPerExperiment: number } {
  return {
    keyMetrics: readSetting(vscode.workspace, 'runs.keyMetrics'),
    maxMetrics: readSetting(vscode.workspace, 'runs.maxMetricsInDescription'),
    maxRunsPerExperiment: readSetting(vscode.workspace, 'runs.maxPerExperiment'),
  };
}

export class RunsView implements vscode.TreeDataProvider<RunsTreeNode>, vscode.Disposable {
  readonly model = new RunsTreeModel(runsTreeOptions());
  readonly treeView: vscode.TreeView<RunsTreeNode>;
  private readonly treeEmitter = new vscode.EventEmitter<RunsTreeNode | RunsTreeNode[] | undefined>();
  readonly onDidChangeTreeData = this.treeEmitter.event;
  private readonly runsEmitter = new vscode.EventEmitter<RunsChange>();
  /** Fires after the model took in tracker changes (for the status bar and the details panel). */
  readonly onDidChangeRuns = this.runsEmitter.event;
  /** The last node object handed to VS Code per id: refreshing an element needs that same object. */
  private readonly nodes = new Map<string, RunsTreeNode>();
  private watcher: TrackerWatcher | undefined;
  private loadedFrom: Tracker | undefined;
  private refreshing: Promise<void> | undefined;
  private again = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly tracking: TrackingService,
    private readonly log: vscode.LogOutputChannel,
  ) {
    // Several runs may be selected: "Compare Runs" on them compares just those.
    this.treeView = vscode.window.createTreeView(RUNS_VIEW_ID, { treeDataProvider: this, showCollapseAll: true, canSelectMany: true });
    this.disposables.push(
      this.treeView,
      this.treeEmitter,
      this.runsEmitter,
      tracking.onDidChangeState(() => void this.refresh()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!affectsSetting(e, 'runs')) return;
        this.model.configure(runsTreeOptions());
        this.treeEmitter.fire(undefined);
      }),
    );
  }

  /** Starts following the tracker: watch its files, load what is there. */
  start(): void {
    if (this.watcher || !this.tracking.workspace) return;
    this.watcher = watchTracker(this.tracking.workspace, () => void this.refresh(), {
      log: (m) => this.log.warn(m),
    });
    void this.refresh();
  }

  /**
   * Reads what changed in the tracker since the last look and updates the view. Calls that arrive
   * while one runs are folded into one more pass.
   */
  refresh(full = false): Promise<void> {
    if (full) this.loadedFrom = undefined;
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        await this.refreshOnce();
      } while (this.again);
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refreshOnce(): Promise<void> {
    const exists = this.tracking.trackerExists();
    void vscode.commands.executeCommand('setContext', 'runwise.trackerExists', exists);
    let tracker: Tracker | undefined;
    try {
      tracker = await this.tracking.tracker();
    } catch (e) {
      this.log.error(`cannot open the tracker: ${messageOf(e)}`);
      this.treeView.message = `Cannot open the tracker: ${messageOf(e)}`;
      return;
    }
    if (!tracker) {
      if (this.model.runCount > 0 || this.loadedFrom) {
        this.loadedFrom = undefined;
        this.model.apply({ marker: 0, full: true, experiments: [], runs: [] });
        this.nodes.clear();
        this.treeEmitter.fire(undefined);
        this.runsEmitter.fire({ all: true });
      }
      return;
    }
    this.treeView.message = this.tracking.isReadOnly ? 'Read-only: this workspace is not trusted.' : undefined;
    const full = this.loadedFrom !== tracker;
    const t0 = performance.now();
    let changes;
    try {
      changes = tracker.changesSince(full ? undefined : this.model.changeMarker);
    } catch (e) {
      this.log.error(`cannot read the tracker: ${messageOf(e)}`);
      return;
    }
    this.loadedFrom = tracker;
    const update = this.model.apply(changes);
    if (full) this.log.info(`Runs view: loaded ${changes.runs.length} runs in ${changes.experiments.length} experiments (${(performance.now() - t0).toFixed(0)} ms)`);
    if (update.unchanged) return;
    const elements = update.experiments.map((id) => this.nodes.get(`experiment:${id}`));
    if (update.rootsChanged || elements.some((e) => e === undefined)) {
      this.treeEmitter.fire(undefined);
    } else {
      this.treeEmitter.fire(elements as RunsTreeNode[]);
    }
    // When the experiments changed (one deleted or restored), every shown run may have come or gone.
    this.runsEmitter.fire(full || update.rootsChanged ? { all: true } : { all: false, runIds: changes.runs.map((r) => r.info.runId) });
  }

  getTreeItem(node: RunsTreeNode): vscode.TreeItem {
    const state =
      node.collapsible === 'expanded'
        ? vscode.TreeItemCollapsibleState.Expanded
        : node.collapsible === 'collapsed'
          ? vscode.TreeItemCollapsibleState.Collapsed
          : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(node.label, state);
    item.id = node.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.contextValue = node.contextValue;
    if (node.kind === 'experiment') item.iconPath = new vscode.ThemeIcon('beaker');
    else if (node.kind === 'more') item.iconPath = new vscode.ThemeIcon('ellipsis');
    else {
      const [icon, color] = STATUS_ICONS[node.icon as RunStatus] ?? ['circle-outline', undefined];
      item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
      item.command = { command: 'runwise.showRunDetails', title: 'Show Run Details', arguments: [node] };
      item.accessibilityInformation = { label: `${node.label}, ${node.icon.toLowerCase()}, ${node.description}` };
    }
    return item;
  }

  async getChildren(node?: RunsTreeNode): Promise<RunsTreeNode[]> {
    if (!this.loadedFrom) await this.refresh();
    const children = node ? this.model.children(node) : this.model.roots();
    for (const c of children) this.nodes.set(c.id, c);
    return children;
  }

  getParent(node: RunsTreeNode): RunsTreeNode | undefined {
    const parent = this.model.parentOf(node);
    return parent ? (this.nodes.get(parent.id) ?? parent) : undefined;
  }

  /** The run rows selected in the view (for commands run from the palette). */
  selectedRuns(): RunsTreeNode[] {
    return this.treeView.selection.filter((n) => n.kind === 'run');
  }

  dispose(): void {
    this.watcher?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
