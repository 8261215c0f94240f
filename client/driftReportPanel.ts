/**
 * The drift report webview: one panel, reused, showing a drift report just computed. Served by
 * client/webviewPanel.ts in the shared HTML shell with the nonce-based Content-Security-Policy; it
 * loads only dist/webview/driftReport.{js,css} and speaks the typed messages of
 * webview/driftReport/messages.ts. The same page renders the offline HTML file
 * (core/drift/driftHtml.ts).
 */
import * as vscode from 'vscode';
import type { DriftReport } from '../core/drift/driftReport';
import { isDriftReportWebviewMessage, type DriftBatchPoint, type DriftReportHostMessage } from '../webview/driftReport/messages';
import { createRunwiseWebviewPanel, receivePageMessages, ReusedWebviewPanel, showReusedPanel, type PanelSlot } from './webviewPanel';

export const DRIFT_REPORT_VIEW_TYPE = 'runwise.driftReport';

export interface DriftReportDependencies {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
}

/** What the panel shows: a report (with its watched folder's batches when it came from one), or why there is none. */
export type DriftReportSource = { report: DriftReport; history?: DriftBatchPoint[]; watchTag?: string } | { missing: string };

export class DriftReportPanel extends ReusedWebviewPanel<DriftReportSource, DriftReportHostMessage> {
  private static readonly slot: PanelSlot<DriftReportPanel> = { current: undefined };

  /** Is the open panel showing a batch of the watch whose runs carry `tag`? (It then follows new batches.) */
  static isShowingWatch(tag: string): boolean {
    const source = DriftReportPanel.slot.current?.subject;
    return source !== undefined && 'report' in source && source.watchTag === tag;
  }

  /** Shows `source` in the report panel, creating the panel or reusing the open one. */
  static show(source: DriftReportSource, deps: DriftReportDependencies): DriftReportPanel {
    return showReusedPanel(DriftReportPanel.slot, source, () => {
      const panel = createRunwiseWebviewPanel({ extensionUri: deps.extensionUri, viewType: DRIFT_REPORT_VIEW_TYPE, title: 'Drift', bundle: 'driftReport', documentTitle: 'Drift report' });
      return new DriftReportPanel(panel, source, deps);
    });
  }

  private constructor(panel: vscode.WebviewPanel, source: DriftReportSource, deps: DriftReportDependencies) {
    super(DriftReportPanel.slot, panel, source);
    // The page only says it is ready; it then gets what the panel shows.
    this.disposables.push(receivePageMessages(panel.webview, isDriftReportWebviewMessage, async () => this.update(), deps.log, 'drift report'));
  }

  update(): void {
    if ('missing' in this.subject) {
      this.panel.title = 'Drift';
      this.post({ type: 'reportMissing', reason: this.subject.missing });
      return;
    }
    const report = this.subject.report;
    const current = report.current_file?.split('/').pop();
    this.panel.title = current ? `Drift: ${current}` : 'Drift';
    this.post({ type: 'report', report, ...(this.subject.history ? { history: this.subject.history } : {}) });
  }
}
