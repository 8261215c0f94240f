/**
 * The commands that act on one run: rename, note, delete, copy its id, show its details. Each takes
 * the run from where it was invoked: a Runs view row (context menu, inline button), the run details
 * page (`{ runId }`), the selection in the Runs view (command palette), else a quick pick.
 */
import * as vscode from 'vscode';
import { MAX_RUN_NAME_LENGTH, MAX_TAG_VAL_LENGTH } from '../core/tracker/limits';
import { NOTE_TAG } from '../core/tracker/model';
import type { RunsTreeNode, RunSummary } from '../core/views/runsTreeModel';
import type { RunsView } from './runsView';
import type { TrackingService } from './trackingService';

/**
 * What a run command may be given. `{ runId, name }` (rename) and `{ runId, note }` (note) skip the
 * input box: for keybindings, other extensions and the desktop tests.
 */
export type RunArgument = RunsTreeNode | { runId: string; name?: string; note?: string } | string | undefined;

export class RunCommands {
  constructor(
    private readonly tracking: TrackingService,
    private readonly runs: RunsView,
  ) {}

  /**
   * The run id a command acts on: the one an argument names, else the Runs view's selection, else
   * one picked (undefined when the pick is cancelled); `only` limits what
   * the selection and the pick offer (evaluation runs for a report), `none` is said when none is left.
   */
  async resolveRun(arg: RunArgument, action: string, only?: { keep: (run: RunSummary) => boolean; none: string }): Promise<string | undefined> {
    if (typeof arg === 'string') return arg;
    if (arg && typeof arg === 'object' && typeof arg.runId === 'string') return arg.runId;
    const selected = this.runs.selectedRuns()[0];
    const selectedRun = selected?.runId ? this.runs.model.getRun(selected.runId) : undefined;
    if (selected?.runId && (!only || (selectedRun && only.keep(selectedRun)))) return selected.runId;
    await this.runs.refresh();
    const items = [...this.runs.model.roots()]
      .flatMap((e) => this.allRuns(e))
      .filter((n) => !only || only.keep(this.runs.model.getRun(n.runId!)!))
      .map((n) => {
        const r = this.runs.model.getRun(n.runId!)!;
        const metrics = this.runs.model.metricsText(r);
        return { label: r.runName, description: `${r.status.toLowerCase()}${metrics ? ` · ${metrics}` : ''}`, detail: r.runId, runId: r.runId };
      });
    if (items.length === 0) {
      void vscode.window.showInformationMessage(only ? `Runwise: ${only.none}` : 'Runwise: There are no runs in this workspace yet.');
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(items, { title: `Runwise: ${action}`, placeHolder: 'Pick a run', matchOnDetail: true });
    return pick?.runId;
  }

  private allRuns(node: RunsTreeNode): RunsTreeNode[] {
    return this.runs.model.children(node).flatMap((n) => (n.kind === 'run' ? [n, ...this.allRuns(n)] : []));
  }

  async rename(arg: RunArgument): Promise<void> {
    const runId = await this.resolveRun(arg, 'Rename Run');
    if (!runId) return;
    const tracker = await this.tracking.writableTracker();
    const current = tracker.getRunInfo(runId).runName;
    const given = typeof arg === 'object' && 'name' in arg && typeof arg.name === 'string' ? arg.name : undefined;
    const name = given ?? await vscode.window.showInputBox({
      title: 'Rename Run',
      prompt: `New name for run ${runId}`,
      value: current,
      valueSelection: [0, current.length],
      validateInput: (v) =>
        v.trim() === '' ? 'A run name cannot be empty.' : v.length > MAX_RUN_NAME_LENGTH ? `At most ${MAX_RUN_NAME_LENGTH} characters.` : undefined,
    });
    if (name === undefined || name === current) return;
    tracker.renameRun(runId, name);
    await this.runs.refresh();
  }

  async addNote(arg: RunArgument): Promise<void> {
    const runId = await this.resolveRun(arg, 'Add Run Note');
    if (!runId) return;
    const tracker = await this.tracking.writableTracker();
    const run = tracker.getRun(runId);
    const current = run.tags.find((t) => t.key === NOTE_TAG)?.value ?? '';
    const given = typeof arg === 'object' && 'note' in arg && typeof arg.note === 'string' ? arg.note : undefined;
    const text = given ?? await vscode.window.showInputBox({
      title: `Note for ${run.info.runName}`,
      prompt: `The run note (MLflow’s ${NOTE_TAG} tag). Leave empty to remove it.`,
      value: current,
      validateInput: (v) => (v.length > MAX_TAG_VAL_LENGTH ? `At most ${MAX_TAG_VAL_LENGTH} characters.` : undefined),
    });
    if (text === undefined || text === current) return;
    tracker.setNote(runId, text);
    await this.runs.refresh();
  }

  async delete(arg: RunArgument): Promise<void> {
    const runId = await this.resolveRun(arg, 'Delete Run');
    if (!runId) return;
    const tracker = await this.tracking.writableTracker();
    const info = tracker.getRunInfo(runId);
    const answer = await vscode.window.showWarningMessage(
      `Delete run “${info.runName}”?`,
      {
        modal: true,
        detail: `The run is marked deleted, as MLflow does: it disappears from the Runs view and from searches; its data stays in .runwise/tracker.db.\n\nRun ID: ${runId}`,
      },
      'Delete',
    );
    if (answer !== 'Delete') return;
    tracker.deleteRun(runId);
    await this.runs.refresh();
  }

  async copyRunId(arg: RunArgument): Promise<void> {
    const runId = await this.resolveRun(arg, 'Copy Run ID');
    if (!runId) return;
    await vscode.env.clipboard.writeText(runId);
    vscode.window.setStatusBarMessage(`Copied run ID ${runId}`, 3000);
  }
}
