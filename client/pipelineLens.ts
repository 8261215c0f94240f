/**
 * CodeLens over each stage of a pipeline file: "Run" (this stage alone), "Run with Dependencies"
 * (with what is upstream of it, when out of date), and the stage's state ("up to date", "stale:
 * data/train.csv changed", "running 0:42", "failed: exit 2", "never run", "state unknown"). In an
 * untrusted workspace the run lens reads "Run (trust the workspace to run)" and says why when
 * clicked. Lenses follow PipelineState; while a stage runs they tick once a second (PacedTicker).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PipelineStage } from '../core/pipeline/pipelineModel';
import { stageKeyLines, stageKeyOf } from '../core/pipeline/stageKeyLines';
import { stageStateText } from '../core/pipeline/stageStateModel';
import { PacedTicker } from '../core/views/pacedTicker';
import type { PipelineState } from './pipelineState';

export class PipelineCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;
  /** While a stage runs, its "running 0:42" ticks: once a second, paced by VS Code's reads. */
  private readonly ticker = new PacedTicker(1000, () => this.emitter.fire());
  private readonly disposables: vscode.Disposable[] = [this.emitter, this.ticker];

  constructor(private readonly state: PipelineState) {
    this.disposables.push(
      state.onDidChange(() => this.emitter.fire()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.emitter.fire()),
    );
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] | Thenable<vscode.CodeLens[]> {
    const root = this.state.root;
    if (!root || document.uri.scheme !== 'file') return [];
    const rel = path.relative(root, document.uri.fsPath).split(path.sep).join('/');
    if (rel.startsWith('..') || path.isAbsolute(rel)) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    if (this.state.problem && !this.state.graph) {
      return [new vscode.CodeLens(top, { title: `Cannot run: ${clip(this.state.problem, 120)}`, command: 'workbench.actions.view.problems' })];
    }
    const stages = (this.state.graph?.stages ?? []).filter((s) => s.file === rel);
    if (stages.length === 0) return [];
    this.ticker.read(stages.some((s) => this.state.stateOf(s.id).kind === 'running'));
    const trusted = vscode.workspace.isTrusted;
    const now = Date.now();
    // The graph describes the file on disk; while the buffer has unsaved edits, each lens stands
    // on its stage's key where the buffer has it now (a stage no longer in the buffer has none).
    const keyLines = document.isDirty ? stageKeyLines(document.getText()) : undefined;
    const lineOf = (s: PipelineStage): number | undefined => (keyLines ? keyLines.get(stageKeyOf(s.name)) : s.line);
    // foreach/matrix stages share their key's line: each lens then names its stage.
    const perLine = new Map<number, PipelineStage[]>();
    for (const s of stages) {
      const line = lineOf(s);
      if (line !== undefined) perLine.set(line, [...(perLine.get(line) ?? []), s]);
    }
    const lenses: vscode.CodeLens[] = [];
    for (const [line, onLine] of perLine) {
      const range = new vscode.Range(Math.max(0, line - 1), 0, Math.max(0, line - 1), 0);
      for (const s of onLine) {
        const prefix = onLine.length > 1 ? `${s.name}: ` : '';
        const state = this.state.stateOf(s.id);
        if (!trusted) {
          lenses.push(new vscode.CodeLens(range, { title: `${prefix}Run (trust the workspace to run)`, command: 'runwise.runStage', arguments: [s.id], tooltip: 'Runwise runs nothing in Restricted Mode' }));
        } else if (state.kind === 'running') {
          lenses.push(new vscode.CodeLens(range, { title: `${prefix}Stop`, command: 'runwise.stopPipelineRun', tooltip: 'Stop the pipeline run' }));
        } else {
          lenses.push(new vscode.CodeLens(range, { title: `${prefix}Run`, command: 'runwise.runStage', arguments: [s.id], tooltip: `Run ${s.id} alone (runwise run ${s.id} --force, without upstream stages)` }));
          if (this.state.graph!.upstream(s.id).length > 0) {
            lenses.push(new vscode.CodeLens(range, { title: 'Run with Dependencies', command: 'runwise.runStageWithDependencies', arguments: [s.id], tooltip: `Run what is out of date up to ${s.id} (runwise run ${s.id})` }));
          }
        }
        const text = stageStateText(state, now);
        lenses.push(
          new vscode.CodeLens(range, {
            title: text,
            command: state.kind === 'failed' ? 'runwise.openStageLog' : 'runwise.showPipelineStatus',
            arguments: [s.id],
            tooltip: this.state.watchFailure ?? (state.kind === 'failed' ? 'Open the log of the failed run' : 'Show the pipeline status'),
          }),
        );
      }
    }
    // A drift stage whose last run stored a report gets "Open Drift Report" (client/driftWatches.ts answers).
    const drift = stages.filter((s) => s.builtin === 'drift' && lineOf(s) !== undefined);
    if (drift.length === 0) return lenses;
    const withReport = drift.map((s) => vscode.commands.executeCommand<string | undefined>('runwise.stageDriftReportRun', s.id).then((runId) => (runId ? s : undefined), () => undefined));
    return Promise.all(withReport).then((found) => [
      ...lenses,
      ...found.flatMap((s) => (s ? [new vscode.CodeLens(new vscode.Range(Math.max(0, lineOf(s)! - 1), 0, Math.max(0, lineOf(s)! - 1), 0), { title: 'Open Drift Report', command: 'runwise.openStageDriftReport', arguments: [s.id], tooltip: `Open the drift report of ${s.id}'s last run` })] : [])),
    ]);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
