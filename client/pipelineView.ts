/**
 * The Pipeline view in the Runwise container: one row per stage (grouped by pipeline file when
 * there are several) with its state's icon and text; inline Run, Open Log and Show Last Run. With no
 * pipeline in the workspace VS Code shows the view's welcome content (package.json `viewsWelcome`,
 * when `!runwise.hasPipeline`) with a Create Pipeline button; a pipeline that cannot load says why
 * in the view's message.
 */
import * as vscode from 'vscode';
import type { PipelineStage } from '../core/pipeline/pipelineModel';
import { stageStateText, type StageStateKind } from '../core/pipeline/stageStateModel';
import { describeReason } from '../core/pipeline/stageStatus';
import type { PipelineState } from './pipelineState';

export const PIPELINE_VIEW_ID = 'runwise.pipeline';

export type PipelineNode = { kind: 'file'; file: string } | { kind: 'stage'; id: string };

const STATE_ICONS: Record<StageStateKind, [string, string | undefined]> = {
  'up-to-date': ['pass', 'testing.iconPassed'],
  stale: ['circle-filled', 'charts.yellow'],
  'never-run': ['circle-outline', undefined],
  running: ['sync~spin', 'charts.blue'],
  failed: ['error', 'testing.iconFailed'],
  frozen: ['lock', undefined],
  unknown: ['question', undefined],
};

export class PipelineView implements vscode.TreeDataProvider<PipelineNode>, vscode.Disposable {
  readonly treeView: vscode.TreeView<PipelineNode>;
  private readonly emitter = new vscode.EventEmitter<PipelineNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private ticker: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [this.emitter];

  constructor(private readonly state: PipelineState) {
    this.treeView = vscode.window.createTreeView(PIPELINE_VIEW_ID, { treeDataProvider: this });
    this.disposables.push(this.treeView, state.onDidChange(() => this.changed()));
  }

  private changed(): void {
    this.treeView.message = this.state.watchFailure ?? (this.state.problem ? `Cannot run: ${this.state.problem}` : undefined);
    this.emitter.fire(undefined);
    if (this.state.anyRunning && !this.ticker) {
      this.ticker = setInterval(() => {
        if (!this.state.anyRunning) {
          clearInterval(this.ticker);
          this.ticker = undefined;
        }
        this.emitter.fire(undefined);
      }, 1000);
    }
  }

  getChildren(node?: PipelineNode): PipelineNode[] {
    const graph = this.state.graph;
    if (!graph) return [];
    if (!node) {
      if (graph.files.length > 1) return graph.files.map((file) => ({ kind: 'file', file }));
      return graph.stages.map((s) => ({ kind: 'stage', id: s.id }));
    }
    if (node.kind === 'file') return graph.stages.filter((s) => s.file === node.file).map((s) => ({ kind: 'stage', id: s.id }));
    return [];
  }

  getTreeItem(node: PipelineNode): vscode.TreeItem {
    const root = this.state.root!;
    if (node.kind === 'file') {
      const item = new vscode.TreeItem(node.file, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `file:${node.file}`;
      item.iconPath = new vscode.ThemeIcon('file');
      item.resourceUri = vscode.Uri.joinPath(vscode.Uri.file(root), ...node.file.split('/'));
      return item;
    }
    const stage = this.state.graph?.byId.get(node.id);
    const state = this.state.stateOf(node.id);
    const text = stageStateText(state, Date.now());
    const item = new vscode.TreeItem(stage && this.state.graph!.files.length > 1 ? stage.name : node.id, vscode.TreeItemCollapsibleState.None);
    item.id = `stage:${node.id}`;
    item.description = text;
    const [icon, color] = STATE_ICONS[state.kind];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    item.contextValue = state.kind === 'running' ? 'runwise.stage.running' : 'runwise.stage';
    item.tooltip = stage ? tooltip(stage, state.reasons.map(describeReason), text) : text;
    item.accessibilityInformation = { label: `${node.id}, ${text}` };
    if (stage) item.command = { command: 'vscode.open', title: 'Open Stage', arguments: [vscode.Uri.joinPath(vscode.Uri.file(root), ...stage.file.split('/')), { selection: new vscode.Range(stage.line - 1, 0, stage.line - 1, 0) }] };
    return item;
  }

  dispose(): void {
    if (this.ticker) clearInterval(this.ticker);
    for (const d of this.disposables) d.dispose();
  }
}

function tooltip(stage: PipelineStage, reasons: string[], text: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**${escape(stage.id)}** — ${escape(text)}\n\n`);
  md.appendMarkdown(`${escape(stage.file)}:${stage.line}\n\n`);
  if (stage.cmd.length) md.appendCodeblock(stage.cmd.join('\n'), 'shell');
  if (reasons.length > 1) md.appendMarkdown(reasons.map((r) => `- ${escape(r)}`).join('\n'));
  return md;
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!<>|]/g, '\\$&');
}
