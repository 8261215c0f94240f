/**
 * The Runwise language server: LSP wiring over core/language's AnalysisHost, which keeps the open
 * documents, their parses (incremental, from the didChange edits), analysed versions, pipeline
 * indexes and the workspace's pipeline graph. Here: sync events become host calls, requests get
 * the document's analysis snapshot and are converted to LSP positions (lspConvert.ts), and
 * diagnostics are published ~15 ms after the last change, and again for the documents the host
 * names as affected by a change (a params file, another pipeline file, a file on disk).
 *
 * Nothing here throws into the connection: every handler catches, logs to the client's console and
 * answers with an empty result; a cancelled request gets the RequestCancelled error.
 *
 * Started as `node dist/server.js --stdio` (or any transport vscode-languageserver/node accepts).
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CodeActionKind,
  CompletionTriggerKind,
  createConnection,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  LSPErrorCodes,
  ProposedFeatures,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
} from 'vscode-languageserver/node';
import type {
  CodeAction,
  CodeActionParams,
  CompletionList,
  CompletionParams,
  Diagnostic,
  DidChangeWatchedFilesParams,
  DocumentSymbol,
  DocumentSymbolParams,
  FoldingRange,
  FoldingRangeParams,
  Hover,
  HoverParams,
  InitializeParams,
  InitializeResult,
  Location,
  DefinitionParams,
  ReferenceParams,
  TextDocumentContentChangeEvent,
  WorkspaceFolder,
  WorkspaceFoldersChangeEvent,
  CancellationToken,
  Message,
  ResponseMessage,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { AnalysisHost, fsPathOf, type DocumentAnalysis, type FileChangeKind } from '../core/language/host/analysisHost';
import type { Cancelled } from '../core/language/languageTypes';
import {
  fromDiagnostic,
  toCodeAction,
  toCompletionItem,
  toDiagnostic,
  toDocumentSymbol,
  toFoldingRange,
  toHover,
  toLocation,
  toOffset,
  toSpan,
} from './lspConvert';
import { lineIndex } from '../core/language/text/lineIndex';
import type { TextEdit } from '../core/language/text/textEdit';

/**
 * Delay between the last change and publishing diagnostics (initializationOptions.diagnosticsDelay):
 * long enough to coalesce the changes of one keystroke burst, short enough that diagnostics after
 * an edit arrive well within 50 ms on a 10,000-line pipeline.
 */
const DEFAULT_DIAGNOSTICS_DELAY_MS = 15;

const cancelledError = () => new ResponseError(LSPErrorCodes.RequestCancelled, 'request cancelled');

const FILE_CHANGE_KINDS: Record<number, FileChangeKind> = {
  [FileChangeType.Created]: 'created',
  [FileChangeType.Changed]: 'changed',
  [FileChangeType.Deleted]: 'deleted',
};

export function startServer(connection: Connection): void {
  const log = (message: string) => connection.console.error(`[runwise] ${message}`);
  const describe = (e: unknown) => (e instanceof Error ? (e.stack ?? e.message) : String(e));

  // ---------------------------------------------------------------------------------------------
  // The analysis host keeps every open document's versions, parses and indexes; this file maps the
  // protocol onto it.
  const host = new AnalysisHost();
  /** Workspace folders as the client gave them. */
  let folderUris: string[] = [];
  const setFolders = (folders: readonly WorkspaceFolder[]) => {
    folderUris = [];
    const paths: string[] = [];
    for (const f of folders) {
      const p = fsPathOf(f.uri);
      if (!p) continue;
      folderUris.push(f.uri);
      paths.push(p);
    }
    host.setFolders(paths);
  };

  // ---------------------------------------------------------------------------------------------
  // Documents: incremental sync; each change goes to the host as offset edits.
  /** Open documents whose change made others stale, to schedule once the change event fires. */
  const dependentsOf = new Map<string, string[]>();
  const documents = new TextDocuments<TextDocument>({
    create: (uri, languageId, version, text) => {
      const doc = TextDocument.create(uri, languageId, version, text);
      safe(() => dependentsOf.set(uri, host.open(uri, version, text)), undefined);
      return doc;
    },
    update: (doc, changes, version) => updateDocument(doc, changes, version),
  });

  function updateDocument(doc: TextDocument, changes: TextDocumentContentChangeEvent[], version: number): TextDocument {
    const edits: TextEdit[] = [];
    let whole = false;
    for (const change of changes) {
      if ('range' in change && change.range) {
        const start = doc.offsetAt(change.range.start);
        const end = Math.max(start, doc.offsetAt(change.range.end));
        edits.push({ start, end, text: change.text });
      } else {
        whole = true;
        edits.length = 0;
      }
      doc = TextDocument.update(doc, [change], version);
    }
    const updated = doc;
    safe(() => dependentsOf.set(updated.uri, host.change(updated.uri, version, whole ? undefined : edits, updated.getText())), undefined);
    return doc;
  }

  // ---------------------------------------------------------------------------------------------
  // Diagnostics: debounced per document.
  let diagnosticsDelay = DEFAULT_DIAGNOSTICS_DELAY_MS;
  const timers = new Map<string, NodeJS.Timeout>();

  const schedule = (uri: string, delay = diagnosticsDelay) => {
    const pending = timers.get(uri);
    if (pending) clearTimeout(pending);
    timers.set(
      uri,
      setTimeout(() => {
        timers.delete(uri);
        validate(uri);
      }, delay),
    );
  };
  const scheduleAll = (uris: readonly string[], delay = diagnosticsDelay) => {
    for (const uri of uris) schedule(uri, delay);
  };

  /** Documents diagnostics were published for (cleared on close). */
  const published = new Set<string>();

  const validate = (uri: string) => {
    const doc = documents.get(uri);
    if (!doc) return;
    const version = doc.version;
    const cancelled: Cancelled = () => documents.get(uri)?.version !== version;
    let diagnostics: Diagnostic[] = [];
    let analysed = false;
    try {
      const analysis = host.analysis(uri);
      analysed = !!analysis?.doc;
      // Files Runwise does not analyse get no (empty) diagnostics, unless they once had some.
      if (!analysed && !published.has(uri)) return;
      if (analysis?.doc) {
        const found = analysis.diagnostics(cancelled);
        if (cancelled()) return; // a newer version is on its way and will publish
        diagnostics = found.map((d) => toDiagnostic(analysis.lines, d));
      }
    } catch (e) {
      log(`diagnostics for ${uri} failed: ${describe(e)}`);
      diagnostics = [];
    }
    if (analysed) published.add(uri);
    else published.delete(uri);
    void connection.sendDiagnostics({ uri, version, diagnostics }).catch((e: unknown) => log(`sending diagnostics failed: ${describe(e)}`));
  };

  /** Versions seen per open document: the first one is the open, validated without delay. */
  const seen = new Set<string>();
  documents.onDidChangeContent((e: { document: TextDocument }) => {
    const uri = e.document.uri;
    // A params file (or another file a pipeline reads, or another pipeline file) changed in an
    // editor: the documents that read it see it too.
    scheduleAll(dependentsOf.get(uri) ?? []);
    dependentsOf.delete(uri);
    if (!seen.has(uri)) {
      seen.add(uri);
      schedule(uri, 0);
      return;
    }
    schedule(uri);
    // Parse and index the new version while the debounce runs, unless another edit comes first: a
    // completion typed next, or the diagnostics when the timer fires, then find them ready.
    const version = e.document.version;
    setImmediate(() => {
      if (documents.get(uri)?.version !== version) return;
      safe(() => host.analysis(uri)?.pipelineIndex(() => documents.get(uri)?.version !== version), undefined);
    });
  });
  documents.onDidClose((e: { document: TextDocument }) => {
    const uri = e.document.uri;
    const pending = timers.get(uri);
    if (pending) clearTimeout(pending);
    timers.delete(uri);
    seen.delete(uri);
    dependentsOf.delete(uri);
    if (published.delete(uri)) void connection.sendDiagnostics({ uri, diagnostics: [] }).catch(() => undefined);
    // Without its unsaved text, documents that read it see the file on disk again.
    scheduleAll(safe(() => host.close(uri), []));
  });

  function safe<T>(fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (e) {
      log(describe(e));
      return fallback;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Requests: each checks its token, runs guarded, and converts at the edge.

  function guarded<R>(name: string, token: CancellationToken, fallback: R, fn: (cancelled: Cancelled) => R): R | ResponseError<void> {
    if (token.isCancellationRequested) return cancelledError();
    const cancelled: Cancelled = () => token.isCancellationRequested;
    try {
      const result = fn(cancelled);
      return token.isCancellationRequested ? cancelledError() : result;
    } catch (e) {
      log(`${name} failed: ${describe(e)}`);
      return fallback;
    }
  }

  /** The analysis of an open document Runwise analyses. */
  const analysed = (uri: string): (DocumentAnalysis & { doc: NonNullable<DocumentAnalysis['doc']> }) | undefined => {
    const a = documents.get(uri) ? host.analysis(uri) : undefined;
    return a?.doc ? (a as DocumentAnalysis & { doc: NonNullable<DocumentAnalysis['doc']> }) : undefined;
  };

  const locations = (analysis: DocumentAnalysis, targets: { relPath: string; span: { start: number; end: number } }[]): Location[] => {
    const out: Location[] = [];
    const lines = new Map<string, ReturnType<DocumentAnalysis['linesOf']>>();
    for (const t of targets) {
      if (!lines.has(t.relPath)) lines.set(t.relPath, analysis.linesOf(t.relPath));
      out.push(toLocation(analysis.rootPath, t, lines.get(t.relPath) ?? lineIndex('')));
    }
    return out;
  };

  let hasWatchedFilesRegistration = false;
  let hasWorkspaceFolders = false;

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    try {
      const folders = params.workspaceFolders ?? [];
      if (folders.length) setFolders(folders);
      else if (params.rootUri) setFolders([{ uri: params.rootUri, name: 'root' }]);
      else if (params.rootPath) setFolders([{ uri: pathToFileURL(path.resolve(params.rootPath)).href, name: 'root' }]);
      const opts = (params.initializationOptions ?? {}) as { diagnosticsDelay?: unknown };
      if (typeof opts.diagnosticsDelay === 'number' && opts.diagnosticsDelay >= 0) diagnosticsDelay = opts.diagnosticsDelay;
      hasWatchedFilesRegistration = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
      hasWorkspaceFolders = params.capabilities.workspace?.workspaceFolders === true;
    } catch (e) {
      log(`initialize: ${describe(e)}`);
    }
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: false },
        completionProvider: { triggerCharacters: ['$', '{', '.', '/', ':', ' '], resolveProvider: false },
        hoverProvider: true,
        definitionProvider: true,
        referencesProvider: true,
        documentSymbolProvider: { label: 'Runwise' },
        foldingRangeProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix], resolveProvider: false },
        workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
      },
      serverInfo: { name: 'runwise-language-server', version: process.env.RUNWISE_VERSION ?? '0.1.0' },
    };
  });

  connection.onInitialized(() => {
    if (hasWorkspaceFolders) {
      try {
        connection.workspace.onDidChangeWorkspaceFolders((event: WorkspaceFoldersChangeEvent) => {
          try {
            const removed = new Set(event.removed.map((f: WorkspaceFolder) => fsPathOf(f.uri)));
            const current = folderUris.map((uri) => ({ uri, name: '' }));
            setFolders([...current.filter((f) => !removed.has(fsPathOf(f.uri))), ...event.added]);
            scheduleAll(host.openDocuments(), 0);
          } catch (e) {
            log(`workspace folders: ${describe(e)}`);
          }
        });
      } catch (e) {
        log(`workspace folder events unavailable: ${describe(e)}`);
      }
    }
    if (hasWatchedFilesRegistration) {
      // Params files and anything a stage depends on may change outside the editor.
      void connection.client
        .register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*' }] })
        .catch((e: unknown) => log(`registering file watchers failed: ${describe(e)}`));
    }
  });

  connection.onDidChangeWatchedFiles((params: DidChangeWatchedFilesParams) => {
    try {
      const changes = params.changes.flatMap((c) => {
        const p = fsPathOf(c.uri);
        return p ? [{ path: p, kind: FILE_CHANGE_KINDS[c.type] ?? 'changed' }] : [];
      });
      scheduleAll(host.filesChanged(changes), 0);
    } catch (e) {
      log(`watched files: ${describe(e)}`);
    }
  });

  connection.onDidChangeConfiguration(() => {
    scheduleAll(host.openDocuments(), 0);
  });

  connection.onCompletion((params: CompletionParams, token: CancellationToken): CompletionList | ResponseError<void> =>
    guarded('completion', token, { isIncomplete: false, items: [] }, (cancelled) => {
      const empty: CompletionList = { isIncomplete: false, items: [] };
      const a = analysed(params.textDocument.uri);
      if (!a) return empty;
      const offset = toOffset(a.lines, params.position);
      // A space only opens completion after `key: ` or `- `, not inside a command line.
      if (params.context?.triggerKind === CompletionTriggerKind.TriggerCharacter && params.context.triggerCharacter === ' ') {
        const before = a.lines.text.slice(Math.max(0, offset - 2), offset);
        if (before !== ': ' && before !== '- ') return empty;
      }
      const found = a.completion(offset, cancelled);
      return { isIncomplete: cancelled(), items: found.map((c) => toCompletionItem(a.lines, c)) };
    }),
  );

  connection.onHover((params: HoverParams, token: CancellationToken): Hover | null | ResponseError<void> =>
    guarded('hover', token, null, (cancelled) => {
      const a = analysed(params.textDocument.uri);
      if (!a) return null;
      const h = a.hover(toOffset(a.lines, params.position), cancelled);
      return h ? toHover(a.lines, h) : null;
    }),
  );

  connection.onDefinition((params: DefinitionParams, token: CancellationToken): Location[] | ResponseError<void> =>
    guarded('definition', token, [], (cancelled) => {
      const a = analysed(params.textDocument.uri);
      return a ? locations(a, a.definition(toOffset(a.lines, params.position), cancelled)) : [];
    }),
  );

  connection.onReferences((params: ReferenceParams, token: CancellationToken): Location[] | ResponseError<void> =>
    guarded('references', token, [], (cancelled) => {
      const a = analysed(params.textDocument.uri);
      return a ? locations(a, a.references(toOffset(a.lines, params.position), cancelled)) : [];
    }),
  );

  connection.onDocumentSymbol((params: DocumentSymbolParams, token: CancellationToken): DocumentSymbol[] | ResponseError<void> =>
    guarded('documentSymbol', token, [], () => {
      const a = analysed(params.textDocument.uri);
      return a ? a.documentSymbols().map((s) => toDocumentSymbol(a.lines, s)) : [];
    }),
  );

  connection.onFoldingRanges((params: FoldingRangeParams, token: CancellationToken): FoldingRange[] | ResponseError<void> =>
    guarded('foldingRange', token, [], () => {
      const a = analysed(params.textDocument.uri);
      return a ? a.foldingRanges().map(toFoldingRange) : [];
    }),
  );

  connection.onCodeAction((params: CodeActionParams, token: CancellationToken): CodeAction[] | ResponseError<void> =>
    guarded('codeAction', token, [], (cancelled) => {
      const only = params.context.only;
      if (only && !only.some((k: string) => k === CodeActionKind.QuickFix || CodeActionKind.QuickFix.startsWith(`${k}.`) || k === CodeActionKind.Empty)) return [];
      const a = analysed(params.textDocument.uri);
      if (!a) return [];
      const ours = params.context.diagnostics.filter((d: Diagnostic) => d.source === 'runwise');
      const found = a.codeActions(
        toSpan(a.lines, params.range),
        ours.map((d) => fromDiagnostic(a.lines, d)),
        cancelled,
      );
      return found
        .filter((action) => action.kind === 'quickfix')
        .map((action) =>
          toCodeAction(
            a.rootPath,
            action,
            (rel) => a.linesOf(rel),
            (uri) => documents.get(uri)?.version ?? null,
            ours,
          ),
        );
    }),
  );

  documents.listen(connection);
  connection.listen();
}

/** Answers a request cancelled while still queued at once, without running it. */
function cancelUndispatched(message: Message): ResponseMessage | undefined {
  const id = (message as { id?: number | string | null }).id;
  if (id === undefined) return undefined;
  return { jsonrpc: '2.0', id, error: { code: LSPErrorCodes.RequestCancelled, message: 'request cancelled' } };
}

if (require.main === module) {
  const connection = createConnection(ProposedFeatures.all, { connectionStrategy: { cancelUndispatched } });
  // A bug must not take the editor's language features down with it.
  process.on('uncaughtException', (e) => connection.console.error(`[runwise] uncaught: ${e.stack ?? e.message}`));
  process.on('unhandledRejection', (e) => connection.console.error(`[runwise] unhandled rejection: ${String(e)}`));
  startServer(connection);
}
