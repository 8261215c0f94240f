/**
 * The Runwise language server: a thin LSP shell over core/language. It keeps the open documents
 * (incremental sync), parses each version once (an LRU of analysed documents keyed by URI and
 * version, fed by an incremental YAML parse cache), asks the language service for features in file
 * offsets and converts them to LSP positions (lspConvert.ts). Diagnostics are published ~50 ms
 * after the last change, and again when a params or dependency file changes on disk.
 *
 * Nothing here throws into the connection: every handler catches, logs to the client's console and
 * answers with an empty result; a cancelled request gets the RequestCancelled error.
 *
 * Started as `node dist/server.js --stdio` (or any transport vscode-languageserver/node accepts).
 */
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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
import { createLanguageService, type LanguageService, type PipelineIndex } from '../core/language/languageService';
import type { AnalyzedDocument, Cancelled } from '../core/language/languageTypes';
import { parseYaml } from '../core/language/yaml/parseYaml';
import { YamlDocumentCache } from '../core/language/yaml/incrementalYaml';
import type { YamlDocument } from '../core/language/yaml/yamlTree';
import { FileSystemWorkspace } from '../core/language/files/fileSystemWorkspace';
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
import { lineIndex, type LineIndex } from '../core/language/text/lineIndex';
import type { TextEdit } from '../core/language/text/textEdit';

/**
 * Delay between the last change and publishing diagnostics (initializationOptions.diagnosticsDelay):
 * long enough to coalesce the changes of one keystroke burst, short enough that diagnostics after
 * an edit arrive well within 50 ms on a 10,000-line pipeline.
 */
const DEFAULT_DIAGNOSTICS_DELAY_MS = 15;
/** Analysed documents kept (one version per URI). */
const CACHE_SIZE = 32;

/** A workspace root with its view of the files and its language service. */
interface Root {
  ws: FileSystemWorkspace;
  service: LanguageService;
}

/** One analysed version of one open document. */
interface Entry {
  uri: string;
  version: number;
  root: Root;
  relPath: string | undefined;
  /** Undefined when Runwise does not analyse this file. */
  doc: AnalyzedDocument | undefined;
  lines: LineIndex;
  index?: PipelineIndex;
}

/** Least-recently-used analysed documents, keyed by URI; an entry only serves its own version. */
class AnalysisCache {
  private readonly entries = new Map<string, Entry>();
  constructor(private readonly capacity: number) {}

  get(uri: string, version: number): Entry | undefined {
    const e = this.entries.get(uri);
    if (!e || e.version !== version) return undefined;
    this.entries.delete(uri);
    this.entries.set(uri, e);
    return e;
  }

  set(e: Entry): void {
    this.entries.delete(e.uri);
    this.entries.set(e.uri, e);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(uri: string): void {
    this.entries.delete(uri);
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * The latest parse of each open YAML document, kept by the incremental parse cache. Edits are
 * recorded as they arrive and handed to the cache when the version is first needed, so a burst of
 * keystrokes costs one (incremental) parse. The language service's parser asks here first, by the
 * exact text, so a document's own text is never parsed from scratch twice.
 */
class LatestParses {
  private readonly cache = new YamlDocumentCache(CACHE_SIZE);
  /** Per open YAML document: its newest text and the edits since the version the cache holds. */
  private readonly docs = new Map<string, { version: number; text: string; edits: TextEdit[] | undefined; parsed: boolean }>();

  /** A new version: `edits` (LSP order, offsets in the previous text) or, when undefined, a whole new text. */
  update(uri: string, version: number, text: string, edits?: TextEdit[]): void {
    const prior = this.docs.get(uri);
    // Edits since the parsed version add up; a whole-text change leaves the cache to find the change.
    const pending = prior && !prior.parsed ? (prior.edits && edits ? [...prior.edits, ...edits] : undefined) : edits;
    this.docs.set(uri, { version, text, edits: pending, parsed: false });
  }

  /** The parse of an open document's current text, or undefined when no open document has it. */
  lookup(text: string): YamlDocument | undefined {
    for (const [uri, d] of this.docs) {
      if (d.text.length !== text.length || d.text !== text) continue;
      const doc = this.cache.update(uri, d.version, d.text, d.edits);
      d.parsed = true;
      d.edits = [];
      return doc;
    }
    return undefined;
  }

  delete(uri: string): void {
    this.docs.delete(uri);
    this.cache.delete(uri);
  }
}

const cancelledError = () => new ResponseError(LSPErrorCodes.RequestCancelled, 'request cancelled');

function isYamlPath(p: string): boolean {
  return /\.ya?ml$/i.test(p);
}

function fsPathOf(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

export function startServer(connection: Connection): void {
  const log = (message: string) => connection.console.error(`[runwise] ${message}`);
  const describe = (e: unknown) => (e instanceof Error ? (e.stack ?? e.message) : String(e));

  // ---------------------------------------------------------------------------------------------
  // Incremental parses: each YAML document's latest parse, updated from the didChange edits. The
  // language service's parser asks here first, so a document's own text is never parsed twice.
  const incremental = new LatestParses();
  const parse = (text: string): YamlDocument => incremental.lookup(text) ?? parseYaml(text);

  const cache = new AnalysisCache(CACHE_SIZE);
  /** Workspace folders, innermost first, with the URI the client gave each. */
  const roots: (Root & { uri: string })[] = [];
  /** Roots for files outside every workspace folder: their own folder. */
  const looseRoots = new Map<string, Root>();
  const makeRoot = (dir: string): Root => {
    const ws = new FileSystemWorkspace(dir);
    return { ws, service: createLanguageService(ws, { parse }) };
  };
  const setFolders = (folders: readonly WorkspaceFolder[]) => {
    roots.length = 0;
    for (const f of folders) {
      const p = fsPathOf(f.uri);
      if (p) roots.push({ ...makeRoot(p), uri: f.uri });
    }
    // The innermost folder wins for nested folders.
    roots.sort((a, b) => b.ws.root.length - a.ws.root.length);
    cache.clear();
  };

  /** The root a document belongs to and its workspace-relative path. */
  const locate = (uri: string): { root: Root; relPath: string | undefined } => {
    const p = fsPathOf(uri);
    if (!p) {
      const anyRoot = roots[0] ?? looseRoot(process.cwd());
      return { root: anyRoot, relPath: undefined };
    }
    for (const root of roots) {
      const rel = root.ws.relativePath(p);
      if (rel !== undefined) return { root, relPath: rel };
    }
    const root = looseRoot(path.dirname(p));
    return { root, relPath: root.ws.relativePath(p) };
  };
  const looseRoot = (dir: string): Root => {
    let r = looseRoots.get(dir);
    if (!r) looseRoots.set(dir, (r = makeRoot(dir)));
    return r;
  };

  // ---------------------------------------------------------------------------------------------
  // Documents: incremental sync; each change is also handed, as offset edits, to the parse cache.
  const documents = new TextDocuments<TextDocument>({
    create: (uri, languageId, version, text) => {
      const doc = TextDocument.create(uri, languageId, version, text);
      try {
        if (isYamlPath(uri)) incremental.update(uri, version, text);
      } catch (e) {
        log(`incremental parse of ${uri} failed: ${describe(e)}`);
      }
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
    try {
      if (isYamlPath(doc.uri)) incremental.update(doc.uri, version, doc.getText(), whole ? undefined : edits);
    } catch (e) {
      log(`incremental parse of ${doc.uri} failed: ${describe(e)}`);
    }
    return doc;
  }

  /** The analysed current version of an open document (parsed once per version). */
  const entryFor = (doc: TextDocument): Entry => {
    const hit = cache.get(doc.uri, doc.version);
    if (hit) return hit;
    const { root, relPath } = locate(doc.uri);
    const text = doc.getText();
    let analyzed: AnalyzedDocument | undefined;
    if (relPath !== undefined) {
      root.ws.setOverlay(relPath, text);
      try {
        analyzed = root.service.analyze(doc.uri, relPath, text);
      } catch (e) {
        log(`analysing ${relPath} failed: ${describe(e)}`);
      }
    }
    const lines =
      analyzed && analyzed.yamlOffset === 0 && analyzed.yaml.text.length === text.length ? lineIndex(text, analyzed.yaml.lineStarts) : lineIndex(text);
    const entry: Entry = { uri: doc.uri, version: doc.version, root, relPath, doc: analyzed, lines };
    cache.set(entry);
    return entry;
  };

  /** The entry's pipeline index, rebuilt when a file it read has changed. */
  const indexFor = (entry: Entry, cancelled: Cancelled): PipelineIndex | undefined => {
    if (!entry.doc) return undefined;
    if (entry.index && entry.index.isCurrent(entry.root.ws)) return entry.index;
    const index = entry.root.service.pipelineIndex(entry.doc, cancelled);
    // A cancelled build is partial: use it for this request only.
    if (index?.complete) entry.index = index;
    return index;
  };

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

  /** Documents diagnostics were published for (cleared on close). */
  const published = new Set<string>();
  const entryOf = (uri: string): Entry | undefined => {
    const doc = documents.get(uri);
    return doc ? cache.get(uri, doc.version) : undefined;
  };

  const validate = (uri: string) => {
    const doc = documents.get(uri);
    if (!doc) return;
    const version = doc.version;
    const cancelled: Cancelled = () => documents.get(uri)?.version !== version;
    let diagnostics: Diagnostic[] = [];
    try {
      const entry = entryFor(doc);
      // Files Runwise does not analyse get no (empty) diagnostics, unless they once had some.
      if (!entry.doc && !published.has(uri)) return;
      if (entry.doc) {
        const index = indexFor(entry, cancelled);
        const found = entry.root.service.diagnostics(entry.doc, cancelled, index);
        if (cancelled()) return; // a newer version is on its way and will publish
        diagnostics = found.map((d) => toDiagnostic(entry.lines, d));
      }
    } catch (e) {
      log(`diagnostics for ${uri} failed: ${describe(e)}`);
      diagnostics = [];
    }
    if (entryOf(uri)?.doc) published.add(uri);
    else published.delete(uri);
    void connection.sendDiagnostics({ uri, version, diagnostics }).catch((e: unknown) => log(`sending diagnostics failed: ${describe(e)}`));
  };

  /** Re-validates the open documents (all, or those other than `except`). */
  const revalidateOpen = (except?: string, delay = 0) => {
    for (const uri of documents.keys()) if (uri !== except) schedule(uri, delay);
  };

  /**
   * Re-validates the open documents whose analysis read a file that has changed (other than
   * `except`): their pipeline index is no longer current. Documents not analysed yet are checked too.
   */
  const revalidateDependents = (except?: string, delay = diagnosticsDelay) => {
    for (const doc of documents.all()) {
      if (doc.uri === except) continue;
      const entry = cache.get(doc.uri, doc.version);
      const stale = !entry || (entry.index !== undefined && !safe(() => entry.index!.isCurrent(entry.root.ws), false));
      if (stale) schedule(doc.uri, delay);
    }
  };

  /** Versions seen per open document: the first one is the open, validated without delay. */
  const seen = new Set<string>();
  documents.onDidChangeContent((e: { document: TextDocument }) => {
    const uri = e.document.uri;
    const { root, relPath } = locate(uri);
    if (relPath !== undefined) root.ws.setOverlay(relPath, e.document.getText());
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
      const doc = documents.get(uri);
      if (!doc || doc.version !== version) return;
      safe(() => indexFor(entryFor(doc), () => documents.get(uri)?.version !== version), undefined);
    });
    // A params file (or another file a pipeline reads) changed in an editor: pipelines see it too.
    revalidateDependents(uri);
  });
  documents.onDidClose((e: { document: TextDocument }) => {
    const uri = e.document.uri;
    const pending = timers.get(uri);
    if (pending) clearTimeout(pending);
    timers.delete(uri);
    cache.delete(uri);
    seen.delete(uri);
    safe(() => incremental.delete(uri), undefined);
    const { root, relPath } = locate(uri);
    if (relPath !== undefined) root.ws.clearOverlay(relPath);
    if (published.delete(uri)) void connection.sendDiagnostics({ uri, diagnostics: [] }).catch(() => undefined);
    // Without its unsaved text, pipelines that read it see the file on disk again.
    revalidateDependents(uri);
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

  /** The entry of an open, analysed document. */
  const openEntry = (uri: string): (Entry & { doc: AnalyzedDocument }) | undefined => {
    const doc = documents.get(uri);
    if (!doc) return undefined;
    const entry = entryFor(doc);
    return entry.doc ? (entry as Entry & { doc: AnalyzedDocument }) : undefined;
  };

  /** The line index of a workspace file (the open document's own when it is the same file). */
  const targetLines = (entry: Entry, relPath: string): LineIndex | undefined => {
    if (relPath === entry.relPath) return entry.lines;
    const text = entry.root.ws.readFile(relPath);
    return text === undefined ? undefined : lineIndex(text);
  };

  const locations = (entry: Entry, targets: { relPath: string; span: { start: number; end: number } }[]): Location[] => {
    const out: Location[] = [];
    const lines = new Map<string, LineIndex | undefined>();
    for (const t of targets) {
      if (!lines.has(t.relPath)) lines.set(t.relPath, targetLines(entry, t.relPath));
      out.push(toLocation(entry.root.ws.root, t, lines.get(t.relPath) ?? lineIndex('')));
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
            const current = roots.map((r) => ({ uri: r.uri, name: '' }));
            const removed = new Set(event.removed.map((f: WorkspaceFolder) => fsPathOf(f.uri)));
            setFolders([...current.filter((f) => !removed.has(fsPathOf(f.uri))), ...event.added]);
            revalidateOpen();
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
      for (const change of params.changes) {
        const p = fsPathOf(change.uri);
        if (!p) continue;
        for (const root of [...roots, ...looseRoots.values()]) {
          const rel = root.ws.relativePath(p);
          if (rel !== undefined) root.ws.invalidate(rel);
        }
      }
      // A file created or deleted may be a dependency that was missing (or now is): check every open
      // document again. A file changed on disk matters to the documents whose analysis read it.
      if (params.changes.some((c) => c.type !== FileChangeType.Changed)) revalidateOpen(undefined, 0);
      else revalidateDependents(undefined, 0);
    } catch (e) {
      log(`watched files: ${describe(e)}`);
    }
  });

  connection.onDidChangeConfiguration(() => {
    revalidateOpen(undefined, 0);
  });

  connection.onCompletion((params: CompletionParams, token: CancellationToken): CompletionList | ResponseError<void> =>
    guarded('completion', token, { isIncomplete: false, items: [] }, (cancelled) => {
      const empty: CompletionList = { isIncomplete: false, items: [] };
      const entry = openEntry(params.textDocument.uri);
      if (!entry) return empty;
      const offset = toOffset(entry.lines, params.position);
      // A space only opens completion after `key: ` or `- `, not inside a command line.
      if (params.context?.triggerKind === CompletionTriggerKind.TriggerCharacter && params.context.triggerCharacter === ' ') {
        const before = entry.lines.text.slice(Math.max(0, offset - 2), offset);
        if (before !== ': ' && before !== '- ') return empty;
      }
      const index = indexFor(entry, cancelled);
      const found = entry.root.service.completion(entry.doc, offset, cancelled, index);
      return { isIncomplete: cancelled(), items: found.map((c) => toCompletionItem(entry.lines, c)) };
    }),
  );

  connection.onHover((params: HoverParams, token: CancellationToken): Hover | null | ResponseError<void> =>
    guarded('hover', token, null, (cancelled) => {
      const entry = openEntry(params.textDocument.uri);
      if (!entry) return null;
      const h = entry.root.service.hover(entry.doc, toOffset(entry.lines, params.position), indexFor(entry, cancelled));
      return h ? toHover(entry.lines, h) : null;
    }),
  );

  connection.onDefinition((params: DefinitionParams, token: CancellationToken): Location[] | ResponseError<void> =>
    guarded('definition', token, [], (cancelled) => {
      const entry = openEntry(params.textDocument.uri);
      if (!entry) return [];
      const targets = entry.root.service.definition(entry.doc, toOffset(entry.lines, params.position), indexFor(entry, cancelled));
      return locations(entry, targets);
    }),
  );

  connection.onReferences((params: ReferenceParams, token: CancellationToken): Location[] | ResponseError<void> =>
    guarded('references', token, [], (cancelled) => {
      const entry = openEntry(params.textDocument.uri);
      if (!entry) return [];
      const targets = entry.root.service.references(entry.doc, toOffset(entry.lines, params.position), indexFor(entry, cancelled));
      return locations(entry, targets);
    }),
  );

  connection.onDocumentSymbol((params: DocumentSymbolParams, token: CancellationToken): DocumentSymbol[] | ResponseError<void> =>
    guarded('documentSymbol', token, [], () => {
      const entry = openEntry(params.textDocument.uri);
      if (!entry) return [];
      return entry.root.service.documentSymbols(entry.doc).map((s) => toDocumentSymbol(entry.lines, s));
    }),
  );

  connection.onFoldingRanges((params: FoldingRangeParams, token: CancellationToken): FoldingRange[] | ResponseError<void> =>
    guarded('foldingRange', token, [], () => {
      const entry = openEntry(params.textDocument.uri);
      if (!entry) return [];
      return entry.root.service.foldingRanges(entry.doc).map(toFoldingRange);
    }),
  );

  connection.onCodeAction((params: CodeActionParams, token: CancellationToken): CodeAction[] | ResponseError<void> =>
    guarded('codeAction', token, [], (cancelled) => {
      const only = params.context.only;
      if (only && !only.some((k: string) => k === CodeActionKind.QuickFix || CodeActionKind.QuickFix.startsWith(`${k}.`) || k === CodeActionKind.Empty)) return [];
      const entry = openEntry(params.textDocument.uri);
      if (!entry) return [];
      const ours = params.context.diagnostics.filter((d: Diagnostic) => d.source === 'runwise');
      const span = toSpan(entry.lines, params.range);
      const found = entry.root.service.codeActions(
        entry.doc,
        span,
        ours.map((d) => fromDiagnostic(entry.lines, d)),
        indexFor(entry, cancelled),
      );
      const ws = entry.root.ws;
      return found
        // A fix never writes outside the workspace, also not through a symbolic link that leads out.
        .filter((a) => a.kind === 'quickfix' && a.edits.every((e) => ws.canWrite(e.relPath)))
        .map((a) =>
          toCodeAction(
            ws.root,
            a,
            (rel) => targetLines(entry, rel),
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
