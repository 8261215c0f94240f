/**
 * A status bar item while runs are RUNNING: how many, their names in the tooltip; clicking it shows
 * the Runs view. Hidden when nothing runs or when `runwise.runs.statusBar` is off.
 */
import * as vscode from 'vscode';
import { RUNS_VIEW_ID, type RunsView } from './runsView';
import { affectsSetting, readSetting } from './settings';

export class RunningRunsStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('runwise.runningRuns', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly runs: RunsView) {
    this.item.name = 'Runwise: running runs';
    this.item.command = `${RUNS_VIEW_ID}.focus`;
    this.disposables.push(
      this.item,
      runs.onDidChangeRuns(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affectsSetting(e, 'runs.statusBar')) this.update();
      }),
    );
    this.update();
  }

  update(): void {
    const running = this.runs.model.runningRuns();
    if (running.length === 0 || !readSetting(vscode.workspace, 'runs.statusBar')) {
      this.item.hide();
      return;
    }
    this.item.text = `$(sync~spin) ${running.length} run${running.length === 1 ? '' : 's'} running`;
    const names = running
      .sort((a, b) => b.startTime - a.startTime)
      .slice(0, 10)
      .map((r) => `• ${r.runName}`);
    if (running.length > 10) names.push(`… and ${running.length - 10} more`);
    this.item.tooltip = `Runwise: runs in progress\n${names.join('\n')}\n\nClick to show the Runs view.`;
    this.item.accessibilityInformation = { label: `Runwise: ${running.length} runs running` };
    this.item.show();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
