/**
 * Runwise: Push Runs to Remote… and Runwise: Pull Runs from Remote… — pick a remote of
 * `.runwise/config` (or add one), then push the runs selected in the Runs view (or all, or one
 * experiment's) or pull a remote's runs, under a progress notification with Cancel (an AbortSignal
 * into core/sync). Credentials come from the environment variables the remote names, as the
 * extension host sees them. Talking to a server and writing the tracker run only in a trusted
 * workspace: otherwise UntrustedWorkspaceError, which extension.ts turns into the Manage Workspace
 * Trust message.
 */
import * as vscode from 'vscode';
import type { Remote, RemoteAuth } from '../core/sync/remoteConfig';
import type { PushEvent, PushSelection } from '../core/sync/pushRuns';
import type { PullEvent } from '../core/sync/pullRuns';
import { SyncError } from '../core/sync/syncError';
import type { RunArgument } from './runCommands';
import type { RunsView } from './runsView';
import { readSetting } from './settings';
import { UntrustedWorkspaceError, type TrackingService } from './trackingService';

export interface RemoteCommandsOptions {
  tracking: TrackingService;
  runs: RunsView;
  log: vscode.LogOutputChannel;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class RemoteCommands {
  constructor(private readonly options: RemoteCommandsOptions) {}

  private workspace(what: string): string {
    if (!vscode.workspace.isTrusted) throw new UntrustedWorkspaceError(what);
    const ws = this.options.tracking.workspace;
    if (!ws) throw new Error('Runwise needs a folder on disk open in the window.');
    return ws;
  }

  /** A remote of the workspace, or a new one added here; undefined when the user backs out. */
  async pickRemote(title: string): Promise<Remote | undefined> {
    const ws = this.workspace('talk to a remote tracking server');
    const { listRemotes, describeAuth } = await import('../core/sync/remoteConfig');
    const remotes = listRemotes(ws);
    const add = { label: '$(add) Add a remote…', description: 'an MLflow Tracking Server URL', remote: undefined as Remote | undefined };
    const pick =
      remotes.length === 0
        ? add
        : await vscode.window.showQuickPick([...remotes.map((r) => ({ label: r.name, description: r.uri, detail: describeAuth(r), remote: r as Remote | undefined })), add], {
            title,
            placeHolder: 'Which remote?',
          });
    if (!pick) return undefined;
    return pick.remote ?? this.addRemote(title);
  }

  async addRemote(title = 'Runwise: Add Remote'): Promise<Remote | undefined> {
    const ws = this.workspace('add a remote');
    const { addRemote, checkRemoteUri } = await import('../core/sync/remoteConfig');
    const uri = await vscode.window.showInputBox({
      title,
      prompt: 'The URL of the MLflow Tracking Server (http or https)',
      placeHolder: 'https://mlflow.example.com',
      validateInput: (v) => {
        try {
          checkRemoteUri(v.trim());
          return undefined;
        } catch (e) {
          return (e as Error).message;
        }
      },
    });
    if (!uri) return undefined;
    const name = await vscode.window.showInputBox({ title, prompt: 'A short name for it', value: 'team', validateInput: (v) => (/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(v) ? undefined : "Letters, digits, '.', '_' and '-'.") });
    if (!name) return undefined;
    const scheme = await vscode.window.showQuickPick(
      [
        { label: 'Bearer token', description: 'from an environment variable', scheme: 'token' as const },
        { label: 'User and password', description: 'HTTP basic auth, from two environment variables', scheme: 'basic' as const },
        { label: 'No credentials', scheme: 'none' as const },
      ],
      { title, placeHolder: 'How does the server authenticate? (Only the names of the variables are kept, never the secrets.)' },
    );
    if (!scheme) return undefined;
    const envName = async (prompt: string, value: string) =>
      vscode.window.showInputBox({ title, prompt, value, validateInput: (v) => (ENV_NAME.test(v) ? undefined : 'The name of an environment variable: letters, digits and _.') });
    let auth: RemoteAuth = {};
    if (scheme.scheme === 'token') {
      const tokenEnv = await envName('The environment variable that holds the token', 'MLFLOW_TRACKING_TOKEN');
      if (!tokenEnv) return undefined;
      auth = { tokenEnv };
    } else if (scheme.scheme === 'basic') {
      const userEnv = await envName('The environment variable that holds the user name', 'MLFLOW_TRACKING_USERNAME');
      if (!userEnv) return undefined;
      const passwordEnv = await envName('The environment variable that holds the password', 'MLFLOW_TRACKING_PASSWORD');
      if (!passwordEnv) return undefined;
      auth = { userEnv, passwordEnv };
    }
    return addRemote(ws, name, uri.trim(), auth);
  }

  /** Push: the runs clicked or selected in the Runs view, else a choice of all runs or one experiment's. */
  async push(arg?: RunArgument, selected?: readonly { runId?: string }[]): Promise<void> {
    this.workspace('push runs to a remote');
    const tracker = await this.options.tracking.writableTracker();
    const fromView = [...(selected ?? []), ...(arg && typeof arg === 'object' && 'runId' in arg ? [arg] : [])].flatMap((n) => (n.runId ? [n.runId] : []));
    let selection: PushSelection;
    if (typeof arg === 'string' || fromView.length > 0) selection = { runs: [...new Set(typeof arg === 'string' ? [arg] : fromView)] };
    else {
      const experiments = tracker.searchExperiments({ maxResults: 1000 }).items;
      const choice = await vscode.window.showQuickPick(
        [{ label: 'All runs', all: true, experiment: '' }, ...experiments.map((e) => ({ label: `Experiment ${e.name}`, all: false, experiment: e.name }))],
        { title: 'Runwise: Push Runs to Remote…', placeHolder: 'Which runs? (Select runs in the Runs view to push just those.)' },
      );
      if (!choice) return;
      selection = choice.all ? { all: true } : { experiments: [choice.experiment] };
    }
    const remote = await this.pickRemote('Runwise: Push Runs to Remote…');
    if (!remote) return;
    const { pushRuns } = await import('../core/sync/pushRuns');
    const summary = await this.withCancel(`Runwise: pushing to ${remote.name}`, `push to ${remote.name}`, (signal, onEvent) =>
      pushRuns(tracker, remote, selection, { client: { signal }, onEvent }),
    );
    await this.options.runs.refresh();
    if (!summary) return;
    const skipped = summary.skipped.length ? `; ${summary.skipped.length} skipped (see the Runwise log)` : '';
    for (const s of summary.skipped) this.options.log.info(`push to ${remote.name}: skipped ${s.runId}: ${s.reason}`);
    void vscode.window.showInformationMessage(
      `Runwise: pushed ${summary.runs} run(s) to ${remote.name}: ${summary.created} created, ${summary.updated} updated, ${summary.upToDate} up to date; ${summary.points} metric points${skipped}.`,
    );
  }

  async pull(): Promise<void> {
    this.workspace('pull runs from a remote');
    const remote = await this.pickRemote('Runwise: Pull Runs from Remote…');
    if (!remote) return;
    const experiment = await vscode.window.showInputBox({
      title: 'Runwise: Pull Runs from Remote…',
      prompt: `Pull the runs of one experiment of ${remote.name} (its name), or leave empty for every experiment`,
    });
    if (experiment === undefined) return;
    const tracker = await this.options.tracking.writableTracker();
    const { pullRuns } = await import('../core/sync/pullRuns');
    const artifacts = readSetting(vscode.workspace, 'sync.pullArtifacts');
    const summary = await this.withCancel(`Runwise: pulling from ${remote.name}`, `pull from ${remote.name}`, (signal, onEvent) =>
      pullRuns(tracker, remote, experiment.trim() ? { experiment: experiment.trim() } : {}, { client: { signal }, onEvent, artifacts }),
    );
    await this.options.runs.refresh();
    if (summary) {
      void vscode.window.showInformationMessage(
        `Runwise: pulled ${summary.runs} run(s) from ${remote.name}: ${summary.created} new, ${summary.updated} updated, ${summary.upToDate} up to date${artifacts ? `; ${summary.artifacts} artifact file(s)` : ''}.`,
      );
    }
  }

  /** Runs `work` under a cancellable progress notification, its events logged as `logPrefix: …`; undefined when cancelled. */
  private async withCancel<T>(title: string, logPrefix: string, work: (signal: AbortSignal, onEvent: (e: PushEvent | PullEvent) => void) => Promise<T>): Promise<T | undefined> {
    const controller = new AbortController();
    const { describeSyncEvent } = await import('../core/sync/syncProgress');
    try {
      return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
        token.onCancellationRequested(() => controller.abort());
        return work(controller.signal, (e) => {
          const line = describeSyncEvent(e);
          if (!line) return;
          this.options.log.info(`${logPrefix}: ${line}`);
          progress.report({ message: line });
        });
      });
    } catch (e) {
      if (e instanceof SyncError && e.cancelled) {
        void vscode.window.showInformationMessage(`${title.replace(/^Runwise: /, 'Runwise: ')} cancelled; what was sent stays, and the next run continues from there.`);
        return undefined;
      }
      throw e;
    }
  }
}
