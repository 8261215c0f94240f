/**
 * The lineage webview: one panel, reused, showing the lineage of a model version, a run or a data
 * file (core/views/lineageGraph.ts), or the workspace's pipeline graph with each stage's state.
 * Served by client/webviewPanel.ts in the shared HTML shell with the nonce-based
 * Content-Security-Policy; it loads only dist/webview/lineage.{js,css} and speaks the typed messages
 * of webview/lineage/messages.ts.
 *
 * It follows what it shows: a lineage is read again when the tracker changes (the Runs view's
 * change events, debounced), the pipeline graph whenever the stage states do (client/pipelineState.ts,
 * the same source as the Pipeline view and the CodeLens, plus the stages a `runwise run` in a
 * terminal runs: stageGroupRecords) and every second while a stage runs, so its elapsed time counts. A node the page asks to open is checked again here: a run opens its
 * details, a file (inside the workspace only) opens in the editor, a model version is revealed in
 * the Models view.
 */
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import type { Tracker } from '../core/tracker/tracker';
import { dataFileLineageGraph, DEFAULT_MAX_NODES, modelVersionLineageGraph, pipelineLineageGraph, runLineageGraph, stagesRunningElsewhere, withStagesRunningElsewhere } from '../core/views/lineageGraph';
import type { LineageGraph, LineageTarget } from '../core/views/lineageGraphModel';
import { relativeInside, resolveInside } from '../core/workspace/workspacePath';
import { isLineageWebviewMessage, type LineageHostMessage } from '../webview/lineage/messages';
import { registeredModels, versionsOf } from './modelsView';
import type { PipelineState } from './pipelineState';
import { createRunwiseWebviewPanel, receivePageMessages, ReusedWebviewPanel, showReusedPanel, type PanelSlot } from './webviewPanel';

export const LINEAGE_VIEW_TYPE = 'runwise.lineage';
/** A run logging metrics changes the tracker many times a second; the lineage is read again at most this often. */
const REFRESH_DEBOUNCE_MS = 1000;
/** The most nodes "more…" can grow a lineage to. */
const MAX_NODES_LIMIT = 5000;

/** What the panel shows. A file is workspace-relative and `/`-separated, as the tracker records it. */
export type LineageSubject =
  | { kind: 'model-version'; name: string; version: string }
  | { kind: 'run'; runId: string }
  | { kind: 'file'; path: string }
  | { kind: 'pipeline' };

export interface LineagePanelDependencies {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  /** The workspace folder on disk. */
  workspace: string | undefined;
  /** The tracker to read (undefined when the workspace has none yet). */
  tracker: () => Promise<Tracker | undefined>;
  /** Fires when runs or models changed in the tracker. */
  onDidChangeRuns: vscode.Event<unknown>;
  /** The stage states, for the pipeline graph. */
  pipeline: PipelineState | undefined;
}

export class LineagePanel extends ReusedWebviewPanel<LineageSubject, LineageHostMessage> {
  private static readonly slot: PanelSlot<LineagePanel> = { current: undefined };
  private refreshTimer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  /** The stages other processes ran when the pipeline graph was last sent (ids, one a line). */
  private runningElsewhere = '';
  /** The node cap of the lineage shown: doubled each time the page asks for more. */
  private maxNodes = DEFAULT_MAX_NODES;
  /** The graph last sent, as JSON. */
  private lastPosted: string | undefined;

  /** Shows `subject`, creating the panel or reusing the open one. */
  static show(subject: LineageSubject, deps: LineagePanelDependencies): LineagePanel {
    return showReusedPanel(LineagePanel.slot, subject, () => {
      const panel = createRunwiseWebviewPanel({ extensionUri: deps.extensionUri, viewType: LINEAGE_VIEW_TYPE, title: 'Lineage', bundle: 'lineage', documentTitle: 'Lineage' });
      return new LineagePanel(panel, subject, deps);
    });
  }

  private constructor(
    panel: vscode.WebviewPanel,
    subject: LineageSubject,
    private readonly deps: LineagePanelDependencies,
  ) {
    super(LineagePanel.slot, panel, subject);
    this.disposables.push(
      receivePageMessages(
        panel.webview,
        isLineageWebviewMessage,
        async (m) => {
          if (m.type === 'ready') {
            // A page (re)loaded: it has nothing until it is sent the graph again.
            this.lastPosted = undefined;
            await this.update();
          } else if (m.type === 'showMore') {
            this.maxNodes = Math.min(MAX_NODES_LIMIT, this.maxNodes * 2);
            await this.update();
          } else await this.open(m.target);
        },
        deps.log,
        'lineage',
      ),
      deps.onDidChangeRuns(() => {
        if (this.subject.kind !== 'pipeline') this.scheduleRefresh();
      }),
    );
    if (deps.pipeline) {
      this.disposables.push(
        deps.pipeline.onDidChange(() => {
          if (this.subject.kind === 'pipeline') void this.update();
        }),
      );
    }
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.update();
    }, REFRESH_DEBOUNCE_MS);
  }

  /** Builds the subject's graph and sends it to the page (or says why there is none). */
  async update(): Promise<void> {
    const subject = this.subject;
    try {
      const graph = await this.graphOf(subject);
      if (subject !== this.subject) return;
      this.panel.title = subject.kind === 'pipeline' ? 'Pipeline Graph' : graph.title.replace(/^Lineage of /, 'Lineage: ');
      // Most tracker changes (a metric logged) change nothing here: the page is not disturbed then.
      const text = JSON.stringify(graph);
      if (text !== this.lastPosted) {
        this.lastPosted = text;
        this.post({ type: 'graph', graph });
      }
    } catch (e) {
      if (subject !== this.subject) return;
      this.panel.title = 'Lineage';
      this.lastPosted = undefined;
      this.post({ type: 'graphMissing', reason: e instanceof Error ? e.message : String(e) });
    }
    this.followRunningStages();
  }

  private async graphOf(subject: LineageSubject): Promise<LineageGraph> {
    if (subject.kind === 'pipeline') {
      const state = this.deps.pipeline;
      if (!state) throw new Error('No workspace folder is open.');
      await state.whenComputed();
      if (!state.graph) throw new Error(state.noPipeline ? 'This workspace has no pipeline file (runwise.yaml, *.pipeline.yaml or dvc.yaml).' : (state.problem ?? 'The pipeline could not be loaded.'));
      const elsewhere = this.deps.workspace ? stagesRunningElsewhere(this.deps.workspace) : new Map<string, number>();
      this.runningElsewhere = [...elsewhere.keys()].sort().join('\n');
      return pipelineLineageGraph(state.graph, withStagesRunningElsewhere((id) => state.stateOf(id), elsewhere));
    }
    const tracker = await this.deps.tracker();
    if (!tracker) throw new Error('This workspace has no tracker yet (.runwise/tracker.db): nothing has been recorded.');
    const options = { maxNodes: this.maxNodes };
    if (subject.kind === 'model-version') return modelVersionLineageGraph(tracker, subject.name, subject.version, options);
    if (subject.kind === 'run') return runLineageGraph(tracker, subject.runId, options);
    return dataFileLineageGraph(tracker, subject.path, options);
  }

  /**
   * While the pipeline graph shows, every second: sent again while a stage runs (its elapsed time
   * counts), and when the stages another process runs (`runwise run` in a terminal: its records in
   * .runwise/running/) change.
   */
  private followRunningStages(): void {
    const pipeline = this.subject.kind === 'pipeline';
    if (pipeline && !this.ticker) {
      this.ticker = setInterval(() => {
        const elsewhere = this.deps.workspace ? [...stagesRunningElsewhere(this.deps.workspace).keys()].sort().join('\n') : '';
        if (this.deps.pipeline?.anyRunning || elsewhere !== '' || elsewhere !== this.runningElsewhere) void this.update();
      }, 1000);
    } else if (!pipeline && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  private async open(target: LineageTarget): Promise<void> {
    try {
      if (target.kind === 'run') {
        await vscode.commands.executeCommand('runwise.showRunDetails', { runId: target.runId });
      } else if (target.kind === 'model-version') {
        await vscode.commands.executeCommand('runwise.showModelLineage', { name: target.name, version: target.version });
      } else {
        const root = this.deps.workspace;
        if (!root) throw new Error('No workspace folder is open.');
        // The page names a workspace path; nothing outside the workspace opens.
        const file = resolveInside(root, target.path);
        if (!existsSync(file)) throw new Error(`${target.path} is not in the workspace any more.`);
        const line = target.line !== undefined ? Math.max(0, target.line - 1) : undefined;
        await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file), line !== undefined ? { selection: new vscode.Range(line, 0, line, 0) } : {});
      }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.deps.log.warn(`lineage: could not open ${JSON.stringify(target)}: ${message}`);
      void vscode.window.showWarningMessage(`Runwise: ${message}`);
    }
  }

  /** A new subject starts at the default node cap. */
  override showSubject(subject: LineageSubject): void {
    this.maxNodes = DEFAULT_MAX_NODES;
    super.showSubject(subject);
  }

  override dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.ticker) clearInterval(this.ticker);
    super.dispose();
  }
}

/** What "Runwise: Show Lineage" is given: a Models view version row, a Runs view run row, an explorer file, or nothing. */
export type LineageArgument = { kind?: unknown; name?: unknown; version?: unknown; runId?: unknown } | vscode.Uri | undefined;

/**
 * The subject "Runwise: Show Lineage" shows for `arg`: the version, the run or the file it names;
 * from the palette (nothing given), a model version picked from a quick pick. A file outside the
 * workspace is refused. Undefined when the pick is dismissed.
 */
export async function lineageSubjectOf(arg: LineageArgument, deps: Pick<LineagePanelDependencies, 'workspace' | 'tracker'>): Promise<LineageSubject | undefined> {
  if (arg instanceof vscode.Uri) {
    const root = deps.workspace;
    const rel = root && arg.scheme === 'file' ? relativeInside(root, arg.fsPath) : undefined;
    if (!rel) throw new Error(`${arg.fsPath} is not inside the workspace folder.`);
    return { kind: 'file', path: rel };
  }
  if (arg && typeof arg.name === 'string' && typeof arg.version === 'string') return { kind: 'model-version', name: arg.name, version: arg.version };
  if (arg && typeof arg.runId === 'string') return { kind: 'run', runId: arg.runId };
  const tracker = await deps.tracker();
  const items = tracker
    ? registeredModels(tracker).flatMap((m) =>
        versionsOf(tracker, m.name).map((v) => ({ label: `${v.name}/${v.version}`, description: v.aliases.map((a) => `@${a}`).join(' '), name: v.name, version: v.version })),
      )
    : [];
  if (items.length === 0) throw new Error('No registered model versions to show the lineage of: register a model first, or use Show Lineage on a run or a data file.');
  const pick = await vscode.window.showQuickPick(items, { title: 'Runwise: Show Lineage Graph', placeHolder: 'Pick a model version' });
  return pick ? { kind: 'model-version', name: pick.name, version: pick.version } : undefined;
}
