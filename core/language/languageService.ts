/**
 * The facade the language server and `runwise check` call: one object per workspace, plain data in
 * and out (see languageTypes.ts), no editor API.
 *
 * OFFSETS: every offset passed in and every span returned is a FILE offset, i.e. an offset into the
 * text of the file the AnalyzedDocument was made from. For a README.md model card that is the
 * Markdown file (the YAML front matter's offsets plus `doc.yamlOffset`); for every other file the two
 * coincide. Spans in TargetLocation point into the target file's text the same way.
 *
 * Callers parse once (`analyze`) and pass the AnalyzedDocument to each feature; nothing is cached
 * inside the features. A `PipelineIndex` (stages, their inputs/outputs, vars and params files read)
 * is the one explicit cache: build it with `pipelineIndex(doc)` and pass it back to later requests on
 * the same document version, or leave it out and each request builds its own (which walks the
 * stages: with an index, completion and hover only look at the path to the cursor).
 * `index.isCurrent(workspace)` says whether the params/vars files it read are unchanged; an index
 * with `complete === false` (building was cancelled) must not be kept.
 *
 * Long requests poll `cancelled` and return what they have so far when it says true.
 */
import { analyzeDocument, type ParseYaml } from './analyzeDocument';
import { codeActionsFor } from './features/codeActions';
import { completionAt } from './features/completion';
import { definitionAt, referencesAt } from './features/definition';
import { computeDiagnostics } from './features/diagnostics';
import { documentSymbolsOf } from './features/documentSymbols';
import { classifyFile } from './files/fileKinds';
import { foldingRangesOf } from './features/folding';
import { hoverAt } from './features/hover';
import type {
  AnalysisDiagnostic,
  AnalyzedDocument,
  Cancelled,
  CodeActionEntry,
  CompletionEntry,
  DocumentSymbolEntry,
  FileKind,
  FoldingSpan,
  HoverResult,
  TargetLocation,
  WorkspaceView,
} from './languageTypes';
import { buildPipelineIndex, type BuildOptions, type PipelineIndex } from './pipeline/pipelineIndex';
import type { WorkspacePipelines } from './pipeline/workspacePipelines';
import type { Span } from './yaml/yamlTree';

export type { PipelineIndex } from './pipeline/pipelineIndex';

export interface LanguageService {
  /** The kind of a workspace file, or undefined when Runwise does not analyse it. */
  fileKind(relPath: string, text?: string): FileKind | undefined;
  /**
   * Parses a file once for all features; undefined when the file is not one Runwise analyses. `kind`
   * analyses it as that kind whatever its name (a Markdown file named as a model card).
   */
  analyze(uri: string, relPath: string, text: string, kind?: FileKind): AnalyzedDocument | undefined;
  /**
   * The reusable index of a pipeline document (undefined for other kinds). Keep it per version;
   * pass the previous version's index to take over what did not change (see BuildOptions.previous).
   */
  pipelineIndex(doc: AnalyzedDocument, cancelled?: Cancelled, previous?: PipelineIndex): PipelineIndex | undefined;

  diagnostics(doc: AnalyzedDocument, cancelled?: Cancelled, index?: PipelineIndex): AnalysisDiagnostic[];
  completion(doc: AnalyzedDocument, offset: number, cancelled?: Cancelled, index?: PipelineIndex): CompletionEntry[];
  hover(doc: AnalyzedDocument, offset: number, index?: PipelineIndex): HoverResult | undefined;
  definition(doc: AnalyzedDocument, offset: number, index?: PipelineIndex): TargetLocation[];
  references(doc: AnalyzedDocument, offset: number, index?: PipelineIndex): TargetLocation[];
  documentSymbols(doc: AnalyzedDocument): DocumentSymbolEntry[];
  foldingRanges(doc: AnalyzedDocument): FoldingSpan[];
  /** Fixes for the diagnostics (as `diagnostics()` returned them) that overlap `span`. */
  codeActions(doc: AnalyzedDocument, span: Span, diagnostics: AnalysisDiagnostic[], index?: PipelineIndex): CodeActionEntry[];
}

export interface LanguageServiceOptions {
  /** The YAML parser for workspace files (defaults to core/language/yaml/parseYaml). */
  parse?: ParseYaml;
  /**
   * The workspace's pipeline files (workspacePipelines.ts). With it, a pipeline's diagnostics and
   * definitions see the other pipeline files as one graph: outputs they write, outputs declared
   * twice, cycles across files. Without it each pipeline file is analysed on its own.
   */
  pipelines?: WorkspacePipelines;
  /** The current parse of a YAML file open in an editor (params and vars files are read from it). */
  openYaml?: BuildOptions['openYaml'];
}

export function createLanguageService(workspace: WorkspaceView, options: LanguageServiceOptions = {}): LanguageService {
  const { parse, openYaml } = options;
  const indexFor = (doc: AnalyzedDocument, index: PipelineIndex | undefined, cancelled?: Cancelled): PipelineIndex | undefined =>
    index ?? buildPipelineIndex(doc, workspace, { parse, cancelled, openYaml });
  /** The index, with the other pipeline files brought up to date and attached. */
  const inWorkspace = (doc: AnalyzedDocument, given: PipelineIndex | undefined, cancelled?: Cancelled): PipelineIndex | undefined => {
    const index = indexFor(doc, given, cancelled);
    const pipelines = options.pipelines;
    if (index?.complete && pipelines) {
      index.otherPipelines = pipelines;
      pipelines.record(index);
      pipelines.refresh(cancelled);
    }
    return index;
  };
  const never: Cancelled = () => false;

  return {
    fileKind: (relPath, text) => classifyFile(relPath, text, workspace),
    analyze: (uri, relPath, text, given) => {
      const kind = given ?? classifyFile(relPath, text, workspace);
      return kind ? analyzeDocument(uri, relPath, text, parse, kind) : undefined;
    },
    pipelineIndex: (doc, cancelled, previous) => buildPipelineIndex(doc, workspace, { parse, cancelled, previous, openYaml }),
    diagnostics: (doc, cancelled = never, index) =>
      computeDiagnostics({ doc, workspace, index: inWorkspace(doc, index, cancelled), parse, cancelled }),
    // Completion writes YAML (`key: `): none in a JSON file (a params.json, a model_card.json),
    // which still gets diagnostics and hover.
    completion: (doc, offset, cancelled = never, index) =>
      /\.json$/i.test(doc.relPath) ? [] : completionAt({ doc, workspace, index: indexFor(doc, index, cancelled), parse, cancelled }, offset),
    hover: (doc, offset, index) => hoverAt({ doc, workspace, index: indexFor(doc, index), parse, cancelled: never }, offset),
    definition: (doc, offset, index) =>
      definitionAt({ doc, workspace, index: inWorkspace(doc, index), parse, cancelled: never }, offset),
    references: (doc, offset, index) =>
      referencesAt({ doc, workspace, index: indexFor(doc, index), parse, cancelled: never }, offset),
    documentSymbols: (doc) => documentSymbolsOf(doc),
    foldingRanges: (doc) => foldingRangesOf(doc),
    codeActions: (doc, span, diagnostics, index) =>
      codeActionsFor({ doc, workspace, index: indexFor(doc, index), parse, cancelled: never }, span, diagnostics),
  };
}
