/**
 * Starts the Runwise language server (dist/server.js, over stdio) through vscode-languageclient for
 * the files it analyses: pipelines (`runwise.yaml`, `*.pipeline.yaml`, `dvc.yaml`), params files
 * (`params.yaml` and any YAML/JSON file a pipeline names in `vars`/`params`: the server decides, so
 * every local YAML and JSON document is offered), model cards (`*.modelcard.yaml`) and README.md
 * front matter.
 *
 * When the server process dies it is restarted, up to 5 times in 3 minutes; after that the client
 * stops and says so, with a button to restart it by hand (`Runwise: Restart Language Server`).
 * This module is loaded after activation returns (it pulls in vscode-languageclient).
 */
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  TransportKind,
  type CloseHandlerResult,
  type ErrorHandler,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';

const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 3 * 60_000;

/**
 * Files only: what a document is (a pipeline, params, a card) follows from its name and folder, so
 * an `untitled:` one is not analysed (core/language/host/analysisHost.ts) and is not sent.
 */
export const DOCUMENT_SELECTOR = [
  { scheme: 'file', language: 'yaml' },
  { scheme: 'file', language: 'json' },
  // Every Markdown file: the server analyses a README.md with front matter, and another whose front
  // matter has a model-index or that a pipeline registers as a card (core/language/files/fileKinds.ts).
  { scheme: 'file', language: 'markdown' },
];

/** Restarts a dead server a bounded number of times, logging each death. */
class RestartingErrorHandler implements ErrorHandler {
  private readonly deaths: number[] = [];
  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly stopped: () => boolean,
  ) {}

  error(error: Error, _message: unknown, count: number | undefined): ErrorHandlerResult {
    this.log.error(`language server connection error (${count ?? 1}): ${error.message}`);
    return { action: (count ?? 1) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true };
  }

  closed(): CloseHandlerResult {
    if (this.stopped()) return { action: CloseAction.DoNotRestart, handled: true };
    const now = Date.now();
    this.deaths.push(now);
    while (this.deaths.length && this.deaths[0]! < now - RESTART_WINDOW_MS) this.deaths.shift();
    if (this.deaths.length > MAX_RESTARTS) {
      this.log.error(`the language server died ${this.deaths.length} times in 3 minutes; not restarting it`);
      void vscode.window
        .showErrorMessage('The Runwise language server keeps stopping; it will not be restarted automatically. See the Runwise output for details.', 'Restart', 'Show Output')
        .then((choice) => {
          if (choice === 'Restart') void vscode.commands.executeCommand('runwise.restartLanguageServer');
          if (choice === 'Show Output') this.log.show(true);
        });
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    this.log.warn(`the language server stopped unexpectedly; restarting it (${this.deaths.length} of ${MAX_RESTARTS} in 3 minutes)`);
    return { action: CloseAction.Restart, handled: true };
  }
}

export class RunwiseLanguageClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private stopping = false;
  private output: vscode.LogOutputChannel | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get isRunning(): boolean {
    return this.client?.isRunning() ?? false;
  }

  async start(): Promise<void> {
    const serverModule = vscode.Uri.joinPath(this.extensionUri, 'dist', 'server.js').fsPath;
    if (!existsSync(serverModule)) {
      this.log.error(`language server not found at ${serverModule}; pipeline diagnostics and completion are off`);
      return;
    }
    const serverOptions: ServerOptions = {
      run: { module: serverModule, transport: TransportKind.stdio },
      debug: { module: serverModule, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: (this.output ??= vscode.window.createOutputChannel('Runwise Language Server', { log: true })),
      errorHandler: new RestartingErrorHandler(this.log, () => this.stopping),
      // Tell the server when params files and pipelines change on disk, open or not.
      synchronize: {
        fileEvents: vscode.workspace.createFileSystemWatcher('**/*.{yaml,yml,json,md}'),
      },
      initializationFailedHandler: (e: unknown) => {
        this.log.error(`language server failed to initialise: ${e instanceof Error ? e.message : String(e)}`);
        return false;
      },
    };
    this.stopping = false;
    this.client = new LanguageClient('runwise', 'Runwise Language Server', serverOptions, clientOptions);
    const t0 = performance.now();
    await this.client.start();
    this.log.info(`language server started (${(performance.now() - t0).toFixed(0)} ms)`);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    this.stopping = true;
    try {
      await client.stop(5000);
    } catch (e) {
      this.log.warn(`stopping the language server: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  dispose(): void {
    void this.stop().finally(() => this.output?.dispose());
  }
}
