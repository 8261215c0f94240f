/**
 * The incremental state of the language analysis, below any protocol (rust-analyzer's
 * AnalysisHost::apply_change): the open documents and their edits, one parse per version (the
 * incremental YAML cache is handed each document's own edits), the analysed version of each open
 * document with its pipeline index (kept while the params files it read are unchanged), the
 * workspace folders with the unsaved text of open editors laid over the disk, and every folder's
 * pipeline files as one graph (workspacePipelines.ts).
 *
 * Changes come in as `open`, `change`, `close` and `filesChanged`; each answers which OTHER open
 * documents must be validated again. `analysis(uri)` is the snapshot of a document's current
 * version with every feature, in file offsets; features of a version are computed on first use.
 *
 * Folders: a document belongs to the innermost workspace folder containing it; a file outside
 * every folder to a root of its own folder (whose pipeline graph is that folder alone); a document
 * that is not a file (`untitled:`) is not analysed.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeDocument } from '../analyzeDocument';
import { fileKindByName, isPipelineKind } from '../files/fileKinds';
import { FileSystemWorkspace } from '../files/fileSystemWorkspace';
import { createLanguageService, type LanguageService } from '../languageService';
import type {
  AnalysisDiagnostic,
  AnalyzedDocument,
  Cancelled,
  CodeActionEntry,
  CompletionEntry,
  DocumentSymbolEntry,
  FoldingSpan,
  HoverResult,
  TargetLocation,
} from '../languageTypes';
import type { PipelineIndex } from '../pipeline/pipelineIndex';
import { workspaceFilesChanged } from '../pipeline/pipelineDiagnostics';
import { WorkspacePipelines } from '../pipeline/workspacePipelines';
import { lineIndex, type LineIndex } from '../text/lineIndex';
import type { TextEdit } from '../text/textEdit';
import { YamlDocumentCache } from '../yaml/incrementalYaml';
import { parseYaml } from '../yaml/parseYaml';
import type { Span, YamlDocument } from '../yaml/yamlTree';

/** Incremental parse states kept (the least recently used is parsed from scratch next time). */
const PARSE_CACHE_SIZE = 32;

export type FileChangeKind = 'created' | 'changed' | 'deleted';

export interface FileChange {
  /** Absolute file-system path. */
  path: string;
  kind: FileChangeKind;
}

export interface AnalysisHostOptions {
  /** Absolute paths of the workspace folders. */
  folders?: readonly string[];
  /** The folder a document that is not a file is taken to be in (defaults to process.cwd()). */
  cwd?: string;
}

/** A workspace folder: its files (with open editors' text over them), pipelines and language service. */
interface Root {
  ws: FileSystemWorkspace;
  pipelines: WorkspacePipelines;
  service: LanguageService;
}

interface OpenDocument {
  uri: string;
  version: number;
  text: string;
  root: Root;
  /** Workspace-relative; undefined when the document is not a file. */
  relPath: string | undefined;
  /** Edits since the version the parse cache holds; undefined when not known (a whole-text change). */
  edits: TextEdit[] | undefined;
  analysis: DocumentAnalysis | undefined;
  indexes: IndexHistory;
}

/** The last complete pipeline index of an open document, whatever its version: the next one takes over its unchanged stages. */
interface IndexHistory {
  last: PipelineIndex | undefined;
}

const never: Cancelled = () => false;

function isYamlPath(p: string): boolean {
  return /\.ya?ml$/i.test(p);
}

function isPipelinePath(relPath: string | undefined): boolean {
  const kind = relPath === undefined ? undefined : fileKindByName(relPath);
  return kind !== undefined && isPipelineKind(kind);
}

/** The file-system path of a `file:` URI, or undefined. */
export function fsPathOf(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

/** One version of one open document, analysed: what every feature reads. */
export class DocumentAnalysis {
  private index: PipelineIndex | undefined;

  constructor(
    readonly uri: string,
    readonly version: number,
    /** Workspace-relative path (undefined when the document is not a file). */
    readonly relPath: string | undefined,
    /** Undefined when Runwise does not analyse this file. */
    readonly doc: AnalyzedDocument | undefined,
    /** Lines of the document's text (file offsets ↔ positions). */
    readonly lines: LineIndex,
    private readonly root: Root,
    private readonly indexes: IndexHistory = { last: undefined },
  ) {}

  /** Absolute path of the workspace folder the document belongs to. */
  get rootPath(): string {
    return this.root.ws.root;
  }

  /** The pipeline index of this version: built once, rebuilt when a params/vars file it read changed. */
  pipelineIndex(cancelled: Cancelled = never): PipelineIndex | undefined {
    if (!this.doc) return undefined;
    if (this.index && this.index.isCurrent(this.root.ws)) return this.index;
    const index = this.root.service.pipelineIndex(this.doc, cancelled, this.indexes.last);
    // A cancelled build is partial: use it for this request only.
    if (index?.complete) this.index = this.indexes.last = index;
    return index;
  }

  /** Whether this version's analysis read a file that has changed since (its params/vars files). */
  isStale(): boolean {
    return this.index !== undefined && !this.index.isCurrent(this.root.ws);
  }

  diagnostics(cancelled: Cancelled = never): AnalysisDiagnostic[] {
    return this.doc ? this.root.service.diagnostics(this.doc, cancelled, this.pipelineIndex(cancelled)) : [];
  }

  completion(offset: number, cancelled: Cancelled = never): CompletionEntry[] {
    return this.doc ? this.root.service.completion(this.doc, offset, cancelled, this.pipelineIndex(cancelled)) : [];
  }

  hover(offset: number, cancelled: Cancelled = never): HoverResult | undefined {
    return this.doc ? this.root.service.hover(this.doc, offset, this.pipelineIndex(cancelled)) : undefined;
  }

  definition(offset: number, cancelled: Cancelled = never): TargetLocation[] {
    return this.doc ? this.root.service.definition(this.doc, offset, this.pipelineIndex(cancelled)) : [];
  }

  references(offset: number, cancelled: Cancelled = never): TargetLocation[] {
    return this.doc ? this.root.service.references(this.doc, offset, this.pipelineIndex(cancelled)) : [];
  }

  documentSymbols(): DocumentSymbolEntry[] {
    return this.doc ? this.root.service.documentSymbols(this.doc) : [];
  }

  foldingRanges(): FoldingSpan[] {
    return this.doc ? this.root.service.foldingRanges(this.doc) : [];
  }

  /** Fixes for `diagnostics` overlapping `span`, only those whose every edit stays inside the workspace. */
  codeActions(span: Span, diagnostics: AnalysisDiagnostic[], cancelled: Cancelled = never): CodeActionEntry[] {
    if (!this.doc) return [];
    const found = this.root.service.codeActions(this.doc, span, diagnostics, this.pipelineIndex(cancelled));
    // A fix never writes outside the workspace, also not through a symbolic link that leads out.
    return found.filter((a) => a.edits.every((e) => this.root.ws.canWrite(e.relPath)));
  }

  /** Lines of a workspace file (this document's own for its path), for spans in other files. */
  linesOf(relPath: string): LineIndex | undefined {
    if (relPath === this.relPath) return this.lines;
    const text = this.root.ws.readFile(relPath);
    return text === undefined ? undefined : lineIndex(text);
  }
}

export class AnalysisHost {
  /** Workspace folders, innermost first. */
  private readonly roots: Root[] = [];
  /** Roots for files outside every workspace folder: their own folder. */
  private readonly looseRoots = new Map<string, Root>();
  private readonly docs = new Map<string, OpenDocument>();
  private readonly parses = new YamlDocumentCache(PARSE_CACHE_SIZE);
  private readonly cwd: string;

  constructor(options: AnalysisHostOptions = {}) {
    this.cwd = options.cwd ?? process.cwd();
    this.setFolders(options.folders ?? []);
  }

  /** Replaces the workspace folders; open documents move to the folder they now belong to. */
  setFolders(folders: readonly string[]): void {
    this.roots.length = 0;
    for (const f of new Set(folders.map((f) => path.resolve(f)))) this.roots.push(this.makeRoot(f, undefined));
    this.roots.sort((a, b) => b.ws.root.length - a.ws.root.length);
    for (const d of this.docs.values()) {
      const { root, relPath } = this.locate(d.uri);
      d.root = root;
      d.relPath = relPath;
      if (relPath !== undefined) {
        this.setOverlay(root, relPath, d.text);
        workspaceFilesChanged(root.ws);
      }
      d.analysis = undefined;
    }
  }

  /** Absolute paths of the workspace folders, innermost first. */
  folders(): string[] {
    return this.roots.map((r) => r.ws.root);
  }

  openDocuments(): string[] {
    return [...this.docs.keys()];
  }

  isOpen(uri: string): boolean {
    return this.docs.has(uri);
  }

  /** The version the host holds of an open document. */
  version(uri: string): number | undefined {
    return this.docs.get(uri)?.version;
  }

  /** A document opened in an editor. Answers the other open documents to validate again. */
  open(uri: string, version: number, text: string): string[] {
    const { root, relPath } = this.locate(uri);
    const d: OpenDocument = { uri, version, text, root, relPath, edits: undefined, analysis: undefined, indexes: { last: undefined } };
    this.docs.set(uri, d);
    if (relPath !== undefined) {
      this.setOverlay(root, relPath, text);
      // A file open in an editor exists for the analysis, saved or not.
      workspaceFilesChanged(root.ws);
    }
    return this.dependents(d);
  }

  /**
   * A new version of an open document: `edits` (offsets in the previous version's text, applied in
   * order) when known, else undefined (the whole text was replaced); `text` is the new text.
   * Answers the other open documents to validate again.
   */
  change(uri: string, version: number, edits: readonly TextEdit[] | undefined, text: string): string[] {
    const d = this.docs.get(uri);
    if (!d) return this.open(uri, version, text);
    d.edits = d.edits && edits ? [...d.edits, ...edits] : undefined;
    d.version = version;
    d.text = text;
    d.analysis = undefined;
    if (d.relPath !== undefined) this.setOverlay(d.root, d.relPath, text);
    return this.dependents(d);
  }

  /** A document closed: the file on disk counts again. Answers the open documents to validate again. */
  close(uri: string): string[] {
    const d = this.docs.get(uri);
    if (!d) return [];
    this.docs.delete(uri);
    this.parses.delete(uri);
    if (d.relPath !== undefined) {
      d.root.ws.clearOverlay(d.relPath);
      d.root.pipelines.filesChanged('changed', d.relPath);
      workspaceFilesChanged(d.root.ws);
    }
    return this.dependents(d);
  }

  /**
   * Files created, changed or deleted on disk (file watchers). Answers the open documents to
   * validate again: all of them when a file appeared or disappeared (it may be a dependency that
   * was missing, or a pipeline file); otherwise those whose analysis read a changed file, and the
   * pipelines of a folder whose pipeline graph changed.
   */
  filesChanged(changes: readonly FileChange[]): string[] {
    const touched = new Set<Root>();
    for (const change of changes) {
      for (const root of this.allRoots()) {
        const rel = root.ws.relativePath(change.path);
        if (rel === undefined) continue;
        root.ws.invalidate(rel);
        root.pipelines.filesChanged(change.kind, rel);
        workspaceFilesChanged(root.ws);
        touched.add(root);
      }
    }
    if (changes.some((c) => c.kind !== 'changed')) return this.openDocuments();
    const out = new Set(this.dependents(undefined));
    for (const root of touched) {
      if (!root.pipelines.discovered) continue;
      const before = root.pipelines.graphVersion;
      root.pipelines.refresh();
      if (root.pipelines.graphVersion === before) continue;
      for (const d of this.docs.values()) if (d.root === root && isPipelinePath(d.relPath)) out.add(d.uri);
    }
    return [...out];
  }

  /** The analysed current version of an open document (undefined when it is not open). */
  analysis(uri: string): DocumentAnalysis | undefined {
    const d = this.docs.get(uri);
    if (!d) return undefined;
    if (d.analysis && d.analysis.version === d.version) return d.analysis;
    const { text, relPath, root } = d;
    let doc: AnalyzedDocument | undefined;
    const kind = relPath === undefined ? undefined : root.service.fileKind(relPath, text);
    if (relPath !== undefined && kind !== undefined) {
      // The document's own text goes through the incremental cache, with its own edits.
      const parse = (t: string) => {
        if (t !== text || !isYamlPath(relPath)) return parseYaml(t);
        const parsed = this.parses.update(d.uri, d.version, text, d.edits);
        d.edits = [];
        return parsed;
      };
      doc = analyzeDocument(d.uri, relPath, text, parse, kind);
    }
    const lines = doc && doc.yamlOffset === 0 && doc.yaml.text.length === text.length ? lineIndex(text, doc.yaml.lineStarts) : lineIndex(text);
    // A document now in another folder, or of another kind, starts afresh.
    if (d.indexes.last && (d.indexes.last.doc.relPath !== relPath || d.indexes.last.doc.kind !== doc?.kind)) d.indexes.last = undefined;
    d.analysis = new DocumentAnalysis(d.uri, d.version, relPath, doc, lines, root, d.indexes);
    return d.analysis;
  }

  /**
   * The current parse of an open YAML document of `root` at `relPath` (what a pipeline reads it
   * from as a params or vars file), through the same incremental cache as its analysis.
   */
  private openYaml(root: Root, relPath: string): { text: string; yaml: YamlDocument } | undefined {
    if (!isYamlPath(relPath)) return undefined;
    for (const d of this.docs.values()) {
      if (d.root !== root || d.relPath !== relPath) continue;
      const analysed = d.analysis?.version === d.version ? d.analysis.doc : undefined;
      if (analysed && analysed.yamlOffset === 0 && analysed.yaml.text === d.text) return { text: d.text, yaml: analysed.yaml };
      const yaml = this.parses.update(d.uri, d.version, d.text, d.edits);
      d.edits = [];
      return { text: d.text, yaml };
    }
    return undefined;
  }

  /** The pipeline files of the folder a document belongs to (for tests and the benchmark). */
  pipelinesOf(uri: string): WorkspacePipelines | undefined {
    return this.docs.get(uri)?.root.pipelines ?? this.locate(uri).root.pipelines;
  }

  /**
   * The open documents other than `changed` whose analysis may differ now: not analysed yet, or
   * read a file that changed, or pipelines of the same folder when a pipeline file changed.
   */
  private dependents(changed: OpenDocument | undefined): string[] {
    const pipelineChanged = changed !== undefined && changed.root.pipelines.discovered && isPipelinePath(changed.relPath);
    const out: string[] = [];
    for (const d of this.docs.values()) {
      if (d === changed) continue;
      const a = d.analysis;
      let stale: boolean;
      try {
        stale = !a || a.version !== d.version || a.isStale();
      } catch {
        stale = true;
      }
      if (stale || (pipelineChanged && d.root === changed.root && isPipelinePath(d.relPath))) out.push(d.uri);
    }
    return out;
  }

  /** An editor's text over a file: what the file's readers see, and the pipeline graph reads again. */
  private setOverlay(root: Root, relPath: string, text: string): void {
    root.ws.setOverlay(relPath, text);
    root.pipelines.filesChanged('changed', relPath);
  }

  private allRoots(): Root[] {
    return [...this.roots, ...this.looseRoots.values()];
  }

  private makeRoot(dir: string, maxDepth: number | undefined): Root {
    const ws = new FileSystemWorkspace(dir);
    const pipelines = new WorkspacePipelines(ws, { maxDepth });
    const root: Root = { ws, pipelines, service: createLanguageService(ws, { pipelines, openYaml: (relPath) => this.openYaml(root, relPath) }) };
    return root;
  }

  /** The root a document belongs to and its workspace-relative path. */
  private locate(uri: string): { root: Root; relPath: string | undefined } {
    const p = fsPathOf(uri);
    if (!p) return { root: this.roots[0] ?? this.looseRoot(this.cwd), relPath: undefined };
    for (const root of this.roots) {
      const rel = root.ws.relativePath(p);
      if (rel !== undefined) return { root, relPath: rel };
    }
    const root = this.looseRoot(path.dirname(p));
    return { root, relPath: root.ws.relativePath(p) };
  }

  private looseRoot(dir: string): Root {
    let r = this.looseRoots.get(dir);
    // A loose file's folder may be a home directory: its pipeline graph is that folder alone.
    if (!r) this.looseRoots.set(dir, (r = this.makeRoot(dir, 0)));
    return r;
  }
}
