/**
 * The Runwise extension: activation, commands, views. Activation only wires things up (views,
 * commands, a stat of `.runwise/tracker.db`) and logs how long that took; the tracker
 * (better-sqlite3), the tracking endpoint and vscode-languageclient load right after activate
 * returns, in that order, so the endpoint listens before the user opens a terminal.
 *
 * Workspace Trust: in an untrusted workspace the language server still analyses and the Runs view
 * reads the tracker read-only; no endpoint starts and nothing writes the tracker.
 */
import * as vscode from 'vscode';
import type { RunsTreeModel, RunsTreeNode } from '../core/views/runsTreeModel';
import { createPipeline } from './createPipeline';
import type { RunwiseLanguageClient } from './languageClient';
import { DriftCommands } from './driftCommands';
import { DriftWatches } from './driftWatches';
import { EvaluationCommands, REGISTRY_DOCUMENT_SCHEME, type ModelCommandArgument } from './evaluationCommands';
import { MODEL_CARD_SELECTOR, ModelCardCodeLens, updateCardFromLatestEvaluation } from './modelCardLens';
import { ModelsView, type VersionArgument, type VersionNode } from './modelsView';
import type { LineageArgument, LineagePanelDependencies } from './lineagePanel';
import { registerPipelineFeatures } from './pipelineFeatures';
import { PipelineState } from './pipelineState';
import { setParsedLockRecording } from '../core/pipeline/lockFile';
import { stopPipelineRuns } from './pipelineRunner';
import { RemoteCommands } from './remoteCommands';
import { RunCommands, type RunArgument } from './runCommands';
import { RunsView } from './runsView';
import { readSetting } from './settings';
import { RunningRunsStatusBar } from './statusBar';
import { TrackingService, UntrustedWorkspaceError, type Endpoint } from './trackingService';

/** What `activate` returns: used by the desktop test suite through `extension.exports`. */
export interface RunwiseApi {
  /** Milliseconds activate() itself took. */
  readonly activationMs: number;
  /** Settles when the work started after activation (endpoint, first load, language client) is done. */
  readonly ready: Promise<void>;
  endpoint(): Endpoint | undefined;
  readonly runs: RunsTreeModel;
  refreshRuns(): Promise<void>;
  isLanguageServerRunning(): boolean;
}

let tracking: TrackingService | undefined;
let language: RunwiseLanguageClient | undefined;

/** The files that make a folder Runwise's, as the activation events list them (package.json). */
const RUNWISE_FILES = '{**/runwise.yaml,**/runwise.yml,**/*.pipeline.yaml,**/*.pipeline.yml,**/dvc.yaml,**/*.modelcard.yaml,**/*.modelcard.yml,**/*model_card.json,**/*model-card.json,**/*modelcard.json,**/*.onnx}';
/** Where such files are someone else's (the onnx wheel's test models in a virtual environment). */
const NOT_RUNWISE_FILES = '**/{node_modules,.venv,venv,env,site-packages,.git,.tox,.mypy_cache}/**';

export function activate(context: vscode.ExtensionContext): RunwiseApi {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('Runwise', { log: true });
  context.subscriptions.push(log);
  const folders = vscode.workspace.workspaceFolders ?? [];
  const folder = folders.find((f) => f.uri.scheme === 'file');
  // Restricted Mode: nothing written into the workspace, parsed lock files included (kept in memory).
  setParsedLockRecording(vscode.workspace.isTrusted);
  // The token goes only to terminals of the folder whose tracker it opens, not every terminal.
  const environment = folder ? context.environmentVariableCollection.getScoped({ workspaceFolder: folder }) : context.environmentVariableCollection;
  const service = new TrackingService(folder?.uri.fsPath, environment, log);
  tracking = service;
  const runsView = new RunsView(service, log);
  const runCommands = new RunCommands(service, runsView);
  const modelsView = new ModelsView(service, log);
  const models = new EvaluationCommands({
    tracking: service,
    models: modelsView,
    extensionUri: context.extensionUri,
    log,
    resolveRun: (arg, action, only) => runCommands.resolveRun(arg as RunArgument, action, only),
  });
  const setContext = (key: string, value: unknown) => void vscode.commands.executeCommand('setContext', key, value);
  setContext('runwise.trackerExists', service.trackerExists());
  setContext('runwise.trackingServerRunning', false);

  /**
   * A command that writes the tracker or talks to a server: in Restricted Mode it says why it does
   * nothing and offers Manage Workspace Trust (below), rather than being greyed out unexplained.
   */
  const trusted = <T>(what: string, run: () => T): T => {
    if (!vscode.workspace.isTrusted) throw new UntrustedWorkspaceError(what);
    return run();
  };

  /** Runs a command, turning errors into a message (and a log line) instead of a silent failure. */
  const command = (id: string, run: (...args: never[]) => unknown) =>
    vscode.commands.registerCommand(id, async (...args: never[]) => {
      try {
        return await run(...args);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        log.error(`${id}: ${message}`);
        if (e instanceof UntrustedWorkspaceError) {
          const choice = await vscode.window.showWarningMessage(message, 'Manage Workspace Trust');
          if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
        } else {
          void vscode.window.showErrorMessage(`Runwise: ${message}`);
        }
        return undefined;
      }
    });

  const startServer = async (announce: boolean) => {
    const server = await service.startServer();
    if (announce) {
      const choice = await vscode.window.showInformationMessage(
        `Runwise tracking server on ${server.uri}. New terminals get MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN.`,
        'Copy Tracking URI',
      );
      if (choice) await vscode.commands.executeCommand('runwise.copyTrackingUri');
    }
  };

  const remotes = new RemoteCommands({ tracking: service, runs: runsView, log });
  const driftWatches = new DriftWatches({ extensionUri: context.extensionUri, tracking: service, log });
  const pipelineFeatures = registerPipelineFeatures({ tracking: service, runsView, log, command });
  const lineageDeps: LineagePanelDependencies = {
    extensionUri: context.extensionUri,
    log,
    workspace: service.workspace,
    tracker: () => service.tracker(),
    onDidChangeRuns: runsView.onDidChangeRuns,
    pipeline: pipelineFeatures.find((d): d is PipelineState => d instanceof PipelineState),
  };
  context.subscriptions.push(
    service,
    runsView,
    new RunningRunsStatusBar(runsView),
    modelsView,
    vscode.workspace.registerTextDocumentContentProvider(REGISTRY_DOCUMENT_SCHEME, models.documents),
    vscode.languages.registerCodeLensProvider(MODEL_CARD_SELECTOR, new ModelCardCodeLens()),
    command('runwise.evaluateModel', (arg: ModelCommandArgument) => models.evaluate(arg)),
    command('runwise.evaluateModelVersion', (arg: VersionArgument) => models.evaluateVersion(arg)),
    command('runwise.compareDatasetsForDrift', (clicked?: vscode.Uri, selected?: vscode.Uri[]) =>
      new DriftCommands({ extensionUri: context.extensionUri, workspace: () => service.workspace, log }).compare(clicked, selected),
    ),
    driftWatches,
    command('runwise.watchFolderForDrift', (clicked?: vscode.Uri) => driftWatches.watch(clicked)),
    command('runwise.stopWatchingFolderForDrift', () => driftWatches.stop()),
    command('runwise.stageDriftReportRun', (stageId: string) => driftWatches.stageReportRun(stageId)),
    command('runwise.openStageDriftReport', (stageId: string) => driftWatches.openStageReport(stageId)),
    command('runwise.pushRuns', (arg: RunArgument, selected?: readonly { runId?: string }[]) => trusted('push runs', () => remotes.push(arg, selected))),
    command('runwise.pullRuns', () => trusted('pull runs', () => remotes.pull())),
    command('runwise.addRemote', () => trusted('add a remote', () => remotes.addRemote())),
    command('runwise.registerModel', (arg: ModelCommandArgument) => models.register(arg)),
    command('runwise.setModelAlias', (arg: VersionArgument) => models.setAlias(arg)),
    command('runwise.removeModelAlias', (arg: VersionArgument) => models.removeAlias(arg)),
    command('runwise.compareModelMetrics', (arg: VersionArgument, selection?: VersionNode[]) => models.compare(arg, selection)),
    command('runwise.openModelCard', (arg: VersionArgument) => models.openCard(arg)),
    command('runwise.showModelLineage', (arg: VersionArgument) => models.showLineage(arg)),
    command('runwise.showEvaluationReport', (arg: VersionNode | { runId: string } | undefined) => models.showReport(arg)),
    command('runwise.updateModelCard', (arg: { card: string } | vscode.Uri | undefined) => updateCardFromLatestEvaluation(service, arg)),
    command('runwise.refreshModels', () => modelsView.refresh(true)),
    service.onDidChangeState(() => setContext('runwise.trackingServerRunning', service.isServerRunning)),
    command('runwise.startTrackingServer', () => startServer(true)),
    command('runwise.stopTrackingServer', () => service.stopServer()),
    command('runwise.copyTrackingUri', async () => {
      if (!service.isServerRunning) await service.startServer();
      const text = service.environmentText()!;
      await vscode.env.clipboard.writeText(text);
      void vscode.window.showInformationMessage(`Copied: export MLFLOW_TRACKING_URI=${service.endpoint!.uri} MLFLOW_TRACKING_TOKEN=… (paste it into a terminal that was open before the server started).`);
    }),
    command('runwise.showRunDetails', async (arg: RunArgument) => {
      const runId = await runCommands.resolveRun(arg, 'Show Run Details');
      if (!runId) return;
      const { RunDetailsPanel } = await import('./runDetailsPanel');
      RunDetailsPanel.show(runId, { extensionUri: context.extensionUri, tracker: () => service.tracker(), onDidChangeRuns: runsView.onDidChangeRuns, log });
    }),
    command('runwise.compareRuns', async (clicked?: RunsTreeNode, selection?: RunsTreeNode[]) => {
      const { compareRunsCommand } = await import('./compareRunsPanel');
      const deps = { extensionUri: context.extensionUri, tracker: () => service.tracker(), onDidChangeRuns: runsView.onDidChangeRuns, workspaceState: context.workspaceState, workspaceFolder: folder?.uri, log };
      await compareRunsCommand(clicked?.kind ? clicked : undefined, Array.isArray(selection) ? selection : undefined, runsView.selectedRuns(), deps);
    }),
    command('runwise.renameRun', (arg: RunArgument) => trusted('rename runs', () => runCommands.rename(arg))),
    command('runwise.addRunNote', (arg: RunArgument) => trusted('add run notes', () => runCommands.addNote(arg))),
    command('runwise.deleteRun', (arg: RunArgument) => trusted('delete runs', () => runCommands.delete(arg))),
    command('runwise.refreshRuns', () => runsView.refresh(true)),
    command('runwise.createPipeline', () => createPipeline(folder?.uri)),
    command('runwise.restartLanguageServer', async () => {
      if (!language) language = await startLanguageClient(context, log);
      else await language.restart();
    }),
    command('runwise.showOutput', () => log.show()),
    ...pipelineFeatures,
    command('runwise.showLineage', async (arg: LineageArgument) => {
      const { LineagePanel, lineageSubjectOf } = await import('./lineagePanel');
      const subject = await lineageSubjectOf(arg, lineageDeps);
      if (subject) LineagePanel.show(subject, lineageDeps);
    }),
    command('runwise.showPipelineGraph', async () => (await import('./lineagePanel')).LineagePanel.show({ kind: 'pipeline' }, lineageDeps)),
    vscode.workspace.onDidGrantWorkspaceTrust(async () => {
      log.info('workspace trusted: the tracker opens for writing and the tracking server may start');
      setParsedLockRecording(true);
      await service.onTrusted();
      await autoStart();
      await runsView.refresh(true);
      await modelsView.refresh(true);
    }),
  );

  const autoStart = async () => {
    if (!folder || !vscode.workspace.isTrusted) return;
    if (!readSetting(vscode.workspace, 'trackingServer.autoStart', folder.uri)) return;
    // Opening the Runwise views in a folder that has nothing of Runwise's (no tracker, pipeline,
    // model card or model) does not create .runwise/ there: the views' welcome says how to start.
    if (!service.trackerExists() && (await vscode.workspace.findFiles(new vscode.RelativePattern(folder, RUNWISE_FILES), NOT_RUNWISE_FILES, 1)).length === 0) {
      log.info('tracking server not started: no tracker, pipeline, model card or model in this folder yet (Runwise: Start Tracking Server starts it)');
      return;
    }
    try {
      await startServer(false);
    } catch (e) {
      log.error(`could not start the tracking server: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  // Everything that loads modules, opens files or spawns processes runs after activate returns.
  const ready = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
    const t1 = performance.now();
    // With a tracker the endpoint starts first, as the views read it; without one, the search for
    // Runwise's files runs beside the views' and the language server's start (a large folder does
    // not hold them), and the views are refreshed if it started.
    if (service.trackerExists()) await autoStart();
    const late = service.trackerExists() ? Promise.resolve() : autoStart().then(() => (service.isServerRunning ? runsView.refresh(true) : undefined));
    runsView.start();
    modelsView.start();
    await runsView.refresh();
    if (readSetting(vscode.workspace, 'languageServer.enabled')) {
      language = await startLanguageClient(context, log).catch((e: unknown) => {
        log.error(`could not start the language server: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      });
    }
    await late;
    log.info(`startup work after activation done in ${(performance.now() - t1).toFixed(0)} ms`);
  });

  const activationMs = performance.now() - t0;
  log.info(
    `Runwise activated in ${activationMs.toFixed(1)} ms (own work in activate()); workspace ${folder?.uri.fsPath ?? '(no local folder)'}` +
      `${folders.length > 1 ? ` (the first of ${folders.length} folders)` : ''}, ${vscode.workspace.isTrusted ? 'trusted' : 'untrusted: analysis and viewing only'}`,
  );

  return {
    activationMs,
    ready,
    endpoint: () => service.endpoint,
    runs: runsView.model,
    refreshRuns: () => runsView.refresh(),
    isLanguageServerRunning: () => language?.isRunning ?? false,
  };
}

async function startLanguageClient(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): Promise<RunwiseLanguageClient> {
  const { RunwiseLanguageClient } = await import('./languageClient');
  const client = new RunwiseLanguageClient(context.extensionUri, log);
  context.subscriptions.push(client);
  await client.start();
  return client;
}

/**
 * How long deactivate() waits for a cancelled pipeline run to end before closing the tracker, and
 * the grace its stages get between SIGTERM and SIGKILL (the default, 5 s, would outlast the wait).
 */
const PIPELINE_STOP_WAIT_MS = 3_000;
const PIPELINE_STOP_KILL_GRACE_MS = 1_500;

export async function deactivate(): Promise<void> {
  // A pipeline run first: its stages are stopped and their runs recorded KILLED while the tracker is open.
  await stopPipelineRuns(PIPELINE_STOP_WAIT_MS, PIPELINE_STOP_KILL_GRACE_MS);
  const stops: Promise<void>[] = [];
  if (language) stops.push(language.stop());
  if (tracking) stops.push(tracking.close());
  language = undefined;
  tracking = undefined;
  await Promise.allSettled(stops);
}
