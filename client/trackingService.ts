/**
 * The workspace's tracker and its tracking endpoint, inside the extension host.
 *
 * - The tracker (better-sqlite3, or node:sqlite where the addon cannot load) and the endpoint are
 *   loaded on first use, never during activation.
 * - One Tracker per workspace in this process: the endpoint, the Runs view, the run details panel
 *   and the run commands share it.
 * - In an untrusted workspace the tracker opens read-only (viewing works), nothing is created, and
 *   the endpoint does not start.
 * - While the endpoint runs, new integrated terminals get MLFLOW_TRACKING_URI and
 *   MLFLOW_TRACKING_TOKEN through the extension's environment-variable collection (not persisted:
 *   the port and token belong to this session).
 */
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import type { TrackingServer } from '../core/endpoint/trackingServer';
import type { Tracker } from '../core/tracker/tracker';
import { trackerDbPath } from '../core/workspace/workspacePath';
import { readSetting } from './settings';

export interface Endpoint {
  uri: string;
  token: string;
}

export class TrackingService implements vscode.Disposable {
  private opened: { tracker: Tracker; readOnly: boolean } | undefined;
  private server: TrackingServer | undefined;
  private starting: Promise<TrackingServer> | undefined;
  private readonly stateEmitter = new vscode.EventEmitter<void>();
  /** Fires when the endpoint starts or stops, or the tracker is opened or closed. */
  readonly onDidChangeState = this.stateEmitter.event;

  constructor(
    /** The workspace folder on disk; undefined when no local folder is open. */
    readonly workspace: string | undefined,
    private readonly environment: vscode.EnvironmentVariableCollection,
    private readonly log: vscode.LogOutputChannel,
  ) {
    environment.persistent = false;
    environment.description = 'Runwise: the tracking endpoint of this workspace (MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN)';
    environment.clear();
  }

  /** Is there a `.runwise/tracker.db` in the workspace? (A stat; loads nothing.) */
  trackerExists(): boolean {
    return this.workspace !== undefined && existsSync(trackerDbPath(this.workspace));
  }

  get endpoint(): Endpoint | undefined {
    return this.server ? { uri: this.server.uri, token: this.server.token } : undefined;
  }

  get isServerRunning(): boolean {
    return this.server !== undefined;
  }

  /** True when the open tracker is read-only (untrusted workspace). */
  get isReadOnly(): boolean {
    return this.opened?.readOnly ?? !vscode.workspace.isTrusted;
  }

  /**
   * The open tracker, opened on first call when `.runwise/tracker.db` exists (never created here);
   * read-only in an untrusted workspace. Undefined when there is no tracker (yet).
   */
  async tracker(): Promise<Tracker | undefined> {
    if (this.opened) return this.opened.tracker;
    if (!this.workspace || !this.trackerExists()) return undefined;
    return this.open(false);
  }

  /** The tracker opened for writing, created when missing. Trusted workspaces only. */
  async writableTracker(): Promise<Tracker> {
    this.requireTrust('change the tracker');
    if (this.opened && !this.opened.readOnly) return this.opened.tracker;
    return this.open(true);
  }

  private async open(create: boolean): Promise<Tracker> {
    const workspace = this.workspace;
    if (!workspace) throw new Error('Runwise needs a folder on disk open in the window.');
    const readOnly = !vscode.workspace.isTrusted;
    if (readOnly && create) throw new Error('Runwise does not create a tracker in an untrusted workspace.');
    const t0 = performance.now();
    const { Tracker } = await import('../core/tracker/tracker');
    // Another caller may have opened it while the module loaded.
    if (this.opened && (!this.opened.readOnly || readOnly)) return this.opened.tracker;
    const previous = this.opened;
    const tracker = Tracker.open(workspace, readOnly ? { readonly: true, skipRecovery: true } : {});
    this.opened = { tracker, readOnly };
    if (previous) previous.tracker.close();
    this.log.info(`opened ${trackerDbPath(workspace)}${readOnly ? ' read-only (untrusted workspace)' : ''} with ${tracker.db.backend} in ${(performance.now() - t0).toFixed(0)} ms`);
    this.stateEmitter.fire();
    return tracker;
  }

  /** Starts the endpoint (once); resolves when it listens. Trusted workspaces only. */
  startServer(): Promise<TrackingServer> {
    if (this.server) return Promise.resolve(this.server);
    this.starting ??= this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<TrackingServer> {
    this.requireTrust('start the tracking server');
    if (!this.workspace) throw new Error('Runwise needs a folder on disk open in the window to start the tracking server.');
    const t0 = performance.now();
    const tracker = await this.writableTracker();
    const { startTrackingServer } = await import('../core/endpoint/trackingServer');
    const port = readSetting(vscode.workspace, 'trackingServer.port', vscode.Uri.file(this.workspace));
    const server = await startTrackingServer({
      workspace: this.workspace,
      tracker,
      port,
      log: (m) => this.log.error(m),
    });
    this.server = server;
    this.environment.replace('MLFLOW_TRACKING_URI', server.uri);
    this.environment.replace('MLFLOW_TRACKING_TOKEN', server.token);
    this.log.info(`tracking server listening on ${server.uri} (started in ${(performance.now() - t0).toFixed(0)} ms); new terminals get MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN`);
    this.stateEmitter.fire();
    return server;
  }

  async stopServer(): Promise<void> {
    const server = this.server ?? (await this.starting?.catch(() => undefined));
    if (!server) return;
    this.server = undefined;
    this.environment.clear();
    await server.close();
    this.log.info('tracking server stopped');
    this.stateEmitter.fire();
  }

  /** The workspace became trusted: reopen the tracker for writing if it was open read-only. */
  async onTrusted(): Promise<void> {
    if (this.opened?.readOnly) await this.open(false);
  }

  /** `export ...` lines (or PowerShell `$env:` lines on Windows) that a terminal can paste. */
  environmentText(shell: 'posix' | 'powershell' = process.platform === 'win32' ? 'powershell' : 'posix'): string | undefined {
    const e = this.endpoint;
    if (!e) return undefined;
    if (shell === 'powershell') return `$env:MLFLOW_TRACKING_URI = "${e.uri}"; $env:MLFLOW_TRACKING_TOKEN = "${e.token}"`;
    return `export MLFLOW_TRACKING_URI=${e.uri} MLFLOW_TRACKING_TOKEN=${e.token}`;
  }

  private requireTrust(what: string): void {
    if (!vscode.workspace.isTrusted) throw new UntrustedWorkspaceError(what);
  }

  /** Stops the endpoint, then closes the tracker (so no request sees it closed). */
  async close(): Promise<void> {
    this.environment.clear();
    const server = this.server ?? (await this.starting?.catch(() => undefined));
    this.server = undefined;
    const opened = this.opened;
    this.opened = undefined;
    try {
      await server?.close();
    } finally {
      opened?.tracker.close();
    }
  }

  dispose(): void {
    void this.close();
    this.stateEmitter.dispose();
  }
}

export class UntrustedWorkspaceError extends Error {
  constructor(what: string) {
    super(`Runwise does not ${what} in an untrusted workspace (Restricted Mode). Trust the workspace to do this.`);
    this.name = 'UntrustedWorkspaceError';
  }
}
