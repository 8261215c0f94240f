/**
 * Runwise: Compare Datasets for Drift… — from the palette (pick the reference, then the current
 * dataset) or the explorer's context menu on two selected data files (the first selected is the
 * reference). The comparison (core/drift) runs in the extension host under a progress notification
 * with Cancel, and the report opens in the drift report panel. Reading user data runs only in a
 * trusted workspace: otherwise it throws UntrustedWorkspaceError, which extension.ts turns into the
 * Manage Workspace Trust message.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DriftReport } from '../core/drift/driftReport';
import { relativeInside } from '../core/workspace/workspacePath';
import { DriftReportPanel } from './driftReportPanel';
import { UntrustedWorkspaceError } from './trackingService';

const EXCLUDE = '**/{node_modules,.git,.runwise,.venv,venv,__pycache__}/**';
const DATA_EXTENSIONS = ['csv', 'jsonl', 'ndjson', 'parquet'];
const DATASET_GLOB = `**/*.{${DATA_EXTENSIONS.join(',')}}`;

export interface DriftCommandsOptions {
  extensionUri: vscode.Uri;
  workspace(): string | undefined;
  log: vscode.LogOutputChannel;
}

export class DriftCommands {
  constructor(private readonly options: DriftCommandsOptions) {}

  relative(file: string): string {
    const ws = this.options.workspace();
    return (ws ? relativeInside(ws, file)?.split(path.sep).join('/') : undefined) ?? file;
  }

  /** A dataset of the workspace, or one chosen with the file dialog; `title` names the command and its step. */
  async pickDataset(title: string, placeHolder: string, except?: string): Promise<string | undefined> {
    const found = (await vscode.workspace.findFiles(DATASET_GLOB, EXCLUDE, 2000))
      .filter((u) => u.scheme === 'file' && u.fsPath !== except)
      .map((u) => u.fsPath)
      .sort();
    const browse = { label: '$(folder-opened) Browse…', description: 'pick a file with the file dialog', file: '' };
    const pick = await vscode.window.showQuickPick([...found.map((f) => ({ label: this.relative(f), description: path.extname(f).slice(1), file: f })), browse], {
      title,
      placeHolder,
      matchOnDescription: true,
    });
    if (!pick) return undefined;
    if (pick.file) return pick.file;
    const ws = this.options.workspace();
    const chosen = await vscode.window.showOpenDialog({
      title: `Runwise: ${placeHolder}`,
      canSelectMany: false,
      ...(ws ? { defaultUri: vscode.Uri.file(ws) } : {}),
      filters: { Datasets: DATA_EXTENSIONS },
    });
    return chosen?.[0]?.fsPath;
  }

  /**
   * The command: `clicked` and `selected` are what the explorer passes (the clicked file and the
   * selection, `listMultiSelection`); from the palette both are undefined and the files are picked.
   */
  async compare(clicked?: vscode.Uri, selected?: vscode.Uri[]): Promise<DriftReport | undefined> {
    if (!vscode.workspace.isTrusted) throw new UntrustedWorkspaceError('compare datasets for drift');
    let reference: string | undefined;
    let current: string | undefined;
    const files = (selected ?? (clicked ? [clicked] : [])).filter((u) => u.scheme === 'file');
    if (files.length > 2) throw new Error(`Select two data files to compare (the reference first), not ${files.length}.`);
    if (files.length === 2) [reference, current] = [files[0]!.fsPath, files[1]!.fsPath];
    else {
      reference = files[0]?.fsPath ?? (await this.pickDataset('Runwise: Compare Datasets for Drift… (1/2)', 'The reference dataset (what the model was trained on)'));
      if (!reference) return undefined;
      current = await this.pickDataset('Runwise: Compare Datasets for Drift… (2/2)', `The current dataset, compared with ${this.relative(reference)}`, reference);
      if (!current) return undefined;
    }
    const { computeDrift } = await import('../core/drift/driftEngine');
    const refName = this.relative(reference);
    const curName = this.relative(current);
    const started = performance.now();
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Runwise: comparing ${curName} with ${refName}`, cancellable: true },
      (progress, token) =>
        new Promise<DriftReport | undefined>((resolve, reject) => {
          progress.report({ message: 'reading both datasets and testing each column…' });
          // Cancel stops waiting: the comparison has no cancellation point, its result is dropped.
          token.onCancellationRequested(() => resolve(undefined));
          computeDrift(reference, current, {}, { reference: refName, current: curName }).then(resolve, reject);
        }),
    );
    if (!report) {
      void vscode.window.showInformationMessage('Runwise: the drift comparison was cancelled.');
      return undefined;
    }
    this.options.log.info(`drift: ${curName} against ${refName}: ${report.n_drifted} of ${report.n_columns} columns drifted in ${(performance.now() - started).toFixed(0)} ms`);
    DriftReportPanel.show({ report }, { extensionUri: this.options.extensionUri, log: this.options.log });
    return report;
  }
}
