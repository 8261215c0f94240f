/**
 * The evaluation report webview: one panel, reused, showing an evaluation just run (its report as
 * evaluateModel returned it) or an evaluation run's `evaluation/report.json` artifact. Served in the
 * shared HTML shell with the nonce-based Content-Security-Policy (client/webviewPanel.ts); it
 * loads only dist/webview/evaluationReport.{js,css} and speaks the typed messages of
 * webview/evaluationReport/messages.ts.
 */
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { EvaluationReport } from '../core/evaluation/evaluate';
import { EVALUATION_REPORT_ARTIFACT } from '../core/tracker/model';
import type { Tracker } from '../core/tracker/tracker';
import { aliasesSuffix } from '../core/views/displayFormat';
import { evaluationReportData, isEvaluationReportWebviewMessage, type EvaluationReportHostMessage, type EvaluationReportWebviewMessage } from '../webview/evaluationReport/messages';
import { createRunwiseWebviewPanel, receivePageMessages, ReusedWebviewPanel, showReusedPanel, type PanelSlot } from './webviewPanel';

export const EVALUATION_REPORT_VIEW_TYPE = 'runwise.evaluationReport';

export interface EvaluationReportDependencies {
  extensionUri: vscode.Uri;
  tracker(): Promise<Tracker | undefined>;
  log: vscode.LogOutputChannel;
}

/** What the panel shows: a report in hand, or the one an evaluation run stored. */
export type EvaluationReportSource = ({ report: EvaluationReport } | { runId: string }) & {
  /** The registered version the report was opened from (`name/version`), named in the title when it holds the evaluated bytes. */
  version?: string;
};

/** The report an evaluation run stored as its artifact; throws a message that says what is missing. */
export function readEvaluationReport(tracker: Tracker, runId: string): EvaluationReport {
  const run = tracker.getRun(runId);
  let text: string;
  try {
    text = readFileSync(tracker.openArtifact(runId, EVALUATION_REPORT_ARTIFACT).filePath, 'utf8');
  } catch {
    throw new Error(`The run “${run.info.runName}” (${runId}) has no ${EVALUATION_REPORT_ARTIFACT}: it is not a finished evaluation run.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`${EVALUATION_REPORT_ARTIFACT} of run ${runId} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { task?: unknown }).task !== 'string') {
    throw new Error(`${EVALUATION_REPORT_ARTIFACT} of run ${runId} is not an evaluation report (it has no task).`);
  }
  return parsed as EvaluationReport;
}

export class EvaluationReportPanel extends ReusedWebviewPanel<EvaluationReportSource, EvaluationReportHostMessage> {
  private static readonly slot: PanelSlot<EvaluationReportPanel> = { current: undefined };

  /** Shows `source` in the report panel, creating the panel or reusing the open one. */
  static show(source: EvaluationReportSource, deps: EvaluationReportDependencies): EvaluationReportPanel {
    return showReusedPanel(EvaluationReportPanel.slot, source, () => {
      const panel = createRunwiseWebviewPanel({
        extensionUri: deps.extensionUri,
        viewType: EVALUATION_REPORT_VIEW_TYPE,
        title: 'Evaluation',
        bundle: 'evaluationReport',
        documentTitle: 'Evaluation report',
      });
      return new EvaluationReportPanel(panel, source, deps);
    });
  }

  private constructor(
    panel: vscode.WebviewPanel,
    source: EvaluationReportSource,
    private readonly deps: EvaluationReportDependencies,
  ) {
    super(EvaluationReportPanel.slot, panel, source);
    this.disposables.push(receivePageMessages(panel.webview, isEvaluationReportWebviewMessage, (m) => this.onMessage(m), deps.log, 'evaluation report'));
  }

  private async onMessage(m: EvaluationReportWebviewMessage): Promise<void> {
    if (m.type === 'ready') return this.update();
    // The page may open only the run it shows.
    const shown = 'runId' in this.subject ? this.subject.runId : this.subject.report.run_id;
    if (m.runId !== shown) {
      this.deps.log.warn(`evaluation report: ignored 'showRun' for run ${m.runId}, which this panel does not show`);
      return;
    }
    await vscode.commands.executeCommand('runwise.showRunDetails', { runId: m.runId });
  }

  async update(): Promise<void> {
    try {
      let report: EvaluationReport;
      const tracker = await this.deps.tracker();
      if ('report' in this.subject) report = this.subject.report;
      else {
        if (!tracker) return this.post({ type: 'reportMissing', reason: 'This workspace has no tracker.' });
        report = readEvaluationReport(tracker, this.subject.runId);
      }
      // Which registered versions hold the evaluated bytes: the title and the page name them.
      const versions = tracker && report.model?.sha256 ? tracker.registry.versionsWithHash(report.model.sha256) : [];
      const registeredAs = versions.map((v) => `${v.name}/${v.version}${aliasesSuffix(v.aliases)}`);
      const data = evaluationReportData(report, registeredAs);
      // The version it was opened from, else the latest holding the bytes, else the model file.
      const named = versions.map((v) => `${v.name}/${v.version}`);
      const subject = this.subject.version !== undefined && named.includes(this.subject.version) ? this.subject.version : (named.at(-1) ?? data.model.path.split('/').pop() ?? data.model.path);
      this.panel.title = `Evaluation: ${subject} on ${data.dataset.path.split('/').pop() ?? data.dataset.path}`;
      this.post({ type: 'report', report: data });
    } catch (e) {
      this.post({ type: 'reportMissing', reason: e instanceof Error ? e.message : String(e) });
    }
  }
}
