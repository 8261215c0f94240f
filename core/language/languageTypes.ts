/**
 * The plain data the language analysis speaks: offsets into one document's text, URIs as strings,
 * no editor types. The language server converts these to LSP; `runwise check` prints them.
 * (The vscode-json-languageservice model: callers parse once and pass the parsed document to each
 * feature; there are no hidden caches inside the features.)
 */
import type { Span, YamlDocument } from './yaml/yamlTree';

/** What a file is, by its name (and, for README.md, by its YAML front matter: a model card or a Space). */
export type FileKind = 'runwise-pipeline' | 'dvc-pipeline' | 'params' | 'model-card' | 'readme-model-card' | 'space-card';

export type Severity = 'error' | 'warning' | 'information' | 'hint';

export interface AnalysisDiagnostic extends Span {
  severity: Severity;
  /** Stable code, e.g. 'unknown-key', 'missing-param', 'stage-cycle'. */
  code: string;
  message: string;
  /** Data a code action needs to fix it (e.g. the suggested key), passed back untouched. */
  data?: unknown;
}

/**
 * One document ready for analysis: its text parsed once. For a README.md the YAML is the front
 * matter, and `yamlOffset` maps offsets in `yaml.text` back to the Markdown file (add it).
 */
export interface AnalyzedDocument {
  uri: string;
  /** Path relative to the workspace root, `/`-separated. */
  relPath: string;
  kind: FileKind;
  yaml: YamlDocument;
  /** Offset of the YAML text inside the file (non-zero only for Markdown front matter). */
  yamlOffset: number;
  /**
   * A Markdown card's text starts with a byte order mark (read from disk: VS Code's documents
   * leave it out), before which huggingface_hub finds no front matter.
   */
  bom?: boolean;
  /** A Markdown card's front matter is opened at `yamlOffset` and never closed (its YAML is empty). */
  unclosedFrontMatter?: boolean;
}

/**
 * The workspace as the analysis may see it: read-only, synchronous, relative `/`-separated paths.
 * The server backs it with the file system (and open editors' unsaved text); tests back it with a map.
 */
export interface WorkspaceView {
  /** Text of a file, or undefined when it does not exist or is not a file. */
  readFile(relPath: string): string | undefined;
  exists(relPath: string): boolean;
  /** Entries of a directory ('' = the root); directories end with '/'. Undefined if not a directory. */
  listDir(relPath: string): string[] | undefined;
}

export type CompletionKind = 'property' | 'value' | 'enum' | 'snippet' | 'file' | 'folder' | 'reference' | 'variable' | 'keyword';

export interface CompletionEntry {
  label: string;
  kind: CompletionKind;
  /** Text inserted; a snippet (`${1:name}` placeholders) when `snippet` is set. */
  insertText: string;
  snippet?: boolean;
  /** The span the insertion replaces (the word being typed). */
  replace: Span;
  detail?: string;
  documentation?: string;
  /** Sorts before others when smaller. */
  sortText?: string;
}

export interface HoverResult extends Span {
  /** Markdown. */
  contents: string;
}

export interface TargetLocation {
  /** Workspace-relative path of the target file. */
  relPath: string;
  /** Span in the target file's text (for a README.md, in the Markdown file). */
  span: Span;
}

export type SymbolKind = 'stage' | 'key' | 'file' | 'param' | 'section' | 'model';

export interface DocumentSymbolEntry {
  name: string;
  detail?: string;
  kind: SymbolKind;
  /** Whole extent. */
  span: Span;
  /** The name's extent (inside `span`). */
  selection: Span;
  children: DocumentSymbolEntry[];
}

export interface FoldingSpan {
  /** Zero-based lines, inclusive. */
  startLine: number;
  endLine: number;
  kind?: 'comment' | 'region';
}

/** A text edit in some workspace file; creating a file is an edit to a file that does not exist. */
export interface FileEdit {
  relPath: string;
  /** Omitted when the file is created with `newText` as its whole content. */
  span?: Span;
  newText: string;
  createFile?: boolean;
}

export interface CodeActionEntry {
  title: string;
  kind: 'quickfix' | 'refactor';
  /** The diagnostic codes it fixes. */
  fixes: string[];
  edits: FileEdit[];
  isPreferred?: boolean;
}

/** Polled by long features; when it says true the feature stops early and returns what it has. */
export type Cancelled = () => boolean;
