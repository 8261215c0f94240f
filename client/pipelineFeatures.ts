/**
 * Pipelines in the editor, wired together: the stage states (PipelineState), CodeLens over stages,
 * the Pipeline view, the `runwise` task type, and the commands (Run Pipeline, Run Stage, Run Stage
 * with Dependencies, Show Pipeline Status, Open Stage Log, Show Last Run, Stop Pipeline Run). A
 * command given no stage (palette, keybinding) asks for one with a quick pick.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { STAGE_TAG } from '../core/pipeline/stageTracking';
import { stageStateText } from '../core/pipeline/stageStateModel';
import { runwiseDir } from '../core/workspace/workspacePath';
import { PipelineCodeLens } from './pipelineLens';
import { PipelineRunner } from './pipelineRunner';
import { PIPELINE_FILE_GLOB, PipelineState } from './pipelineState';
import { PipelineTaskProvider, TASK_TYPE } from './pipelineTasks';
import { PipelineView, PIPELINE_VIEW_ID, type PipelineNode } from './pipelineView';
import type { RunsView } from './runsView';
import { UntrustedWorkspaceError, type TrackingService } from './trackingService';

/** A stage as commands receive it: its id (lenses, keybindings), a view row, or nothing (ask). */
type StageArgument = string | PipelineNode | undefined;

/** Registers a command with the extension's error handling (extension.ts's `command`). */
type RegisterCommand = (id: string, run: (...args: never[]) => unknown) => vscode.Disposable;

export function registerPipelineFeatures(options: { tracking: TrackingService; runsView: RunsView; log: vscode.LogOutputChannel; command: RegisterCommand }): vscode.Disposable[] {
  const { tracking, runsView, log, command } = options;
  const state = new PipelineState(tracking.workspace, log);
  const runner = new PipelineRunner(tracking, state, runsView, log);
  const view = new PipelineView(state);
  const lens = new PipelineCodeLens(state);

  const pickStage = async (arg: StageArgument, action: string): Promise<string | undefined> => {
    if (typeof arg === 'string') return arg;
    if (arg && arg.kind === 'stage') return arg.id;
    const selected = view.treeView.selection.find((n) => n.kind === 'stage');
    if (selected && selected.kind === 'stage') return selected.id;
    await state.whenComputed();
    const stages = state.graph?.stages ?? [];
    if (stages.length === 0) {
      void vscode.window.showInformationMessage(state.problem ? `Runwise: ${state.problem}` : 'Runwise: this workspace has no pipeline stages.');
      return undefined;
    }
    const now = Date.now();
    const pick = await vscode.window.showQuickPick(
      stages.map((s) => ({ label: s.id, description: stageStateText(state.stateOf(s.id), now), detail: `${s.file}:${s.line}` })),
      { title: `Runwise: ${action}`, placeHolder: 'Pick a stage' },
    );
    return pick?.label;
  };

  /** The last run of a stage: this session's, else the newest in the tracker. */
  const lastRunOf = async (id: string): Promise<string | undefined> => {
    const a = state.activityOf(id);
    const own = a?.running?.runId ?? a?.last?.runId;
    if (own) return own;
    const tracker = await tracking.tracker();
    const escaped = id.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
    return tracker?.searchRuns({ filter: `tags.\`${STAGE_TAG}\` = '${escaped}'`, orderBy: ['attributes.start_time DESC'], maxResults: 1 }).items[0]?.info.runId;
  };

  const runAndReport = async (request: { targets?: string[]; only?: boolean }) => {
    await runner.runInTerminal(request);
  };

  return [
    state,
    runner,
    view,
    lens,
    vscode.languages.registerCodeLensProvider({ scheme: 'file', pattern: PIPELINE_FILE_GLOB }, lens),
    vscode.tasks.registerTaskProvider(TASK_TYPE, new PipelineTaskProvider(state, runner)),
    command('runwise.runPipeline', () => {
      requireTrust();
      return runAndReport({});
    }),
    command('runwise.runStage', async (arg: StageArgument) => {
      requireTrust();
      const id = await pickStage(arg, 'Run Stage');
      if (id) await runAndReport({ targets: [id], only: true });
    }),
    command('runwise.runStageWithDependencies', async (arg: StageArgument) => {
      requireTrust();
      const id = await pickStage(arg, 'Run Stage with Dependencies');
      if (id) await runAndReport({ targets: [id] });
    }),
    command('runwise.stopPipelineRun', () => {
      if (!runner.isRunning) void vscode.window.showInformationMessage('Runwise: no pipeline is running.');
      runner.cancel();
    }),
    command('runwise.showPipelineStatus', async () => {
      await vscode.commands.executeCommand(`${PIPELINE_VIEW_ID}.focus`);
      const id = await pickStage(undefined, 'Pipeline Status');
      const stage = id ? state.graph?.byId.get(id) : undefined;
      if (stage && state.root) {
        await vscode.window.showTextDocument(vscode.Uri.joinPath(vscode.Uri.file(state.root), ...stage.file.split('/')), { selection: new vscode.Range(stage.line - 1, 0, stage.line - 1, 0) });
      }
    }),
    command('runwise.openStageLog', async (arg: StageArgument) => {
      const id = await pickStage(arg, 'Open Stage Log');
      if (!id || !state.root) return;
      const a = state.activityOf(id);
      const runId = await lastRunOf(id);
      const file = a?.last?.logFile ?? (runId ? path.join(runwiseDir(state.root), 'logs', `${runId}.log`) : undefined);
      if (!file || !existsSync(file)) {
        void vscode.window.showInformationMessage(`Runwise: stage ${id} has no log yet; it is written when the stage runs.`);
        return;
      }
      await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
    }),
    command('runwise.showStageLastRun', async (arg: StageArgument) => {
      const id = await pickStage(arg, 'Show Last Run');
      if (!id) return;
      const runId = await lastRunOf(id);
      if (!runId) {
        void vscode.window.showInformationMessage(`Runwise: stage ${id} has not run yet.`);
        return;
      }
      await vscode.commands.executeCommand('runwise.showRunDetails', runId);
    }),
    startLater(state),
  ];
}

/** Commands that run stages explain Restricted Mode (extension.ts offers Manage Workspace Trust). */
function requireTrust(): void {
  if (!vscode.workspace.isTrusted) throw new UntrustedWorkspaceError('run pipeline stages');
}

/** Starts the states after activation returns (loading and hashing is not activation work). */
function startLater(state: PipelineState): vscode.Disposable {
  const timer = setImmediate(() => state.start());
  return { dispose: () => clearImmediate(timer) };
}
