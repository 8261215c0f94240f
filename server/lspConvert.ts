/**
 * The one place where the analysis's plain data (offsets into a file's text, workspace-relative
 * paths) becomes LSP (UTF-16 line/character positions, URIs) and back. Offsets are UTF-16 code-unit
 * offsets, as JavaScript strings and LSP positions both count, so a position is a line start plus
 * a column.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CompletionItemKind,
  DiagnosticSeverity,
  FoldingRangeKind,
  InsertTextFormat,
  MarkupKind,
  SymbolKind as LspSymbolKind,
  type CodeAction,
  type CompletionItem,
  type Diagnostic,
  type DocumentSymbol,
  type FoldingRange,
  type Hover,
  type Location,
  type Position,
  type Range,
  type TextDocumentEdit,
  type CreateFile,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver-types';
import type {
  AnalysisDiagnostic,
  CodeActionEntry,
  CompletionEntry,
  CompletionKind,
  DocumentSymbolEntry,
  FoldingSpan,
  HoverResult,
  Severity,
  SymbolKind,
  TargetLocation,
} from '../core/language/languageTypes';
import type { Span } from '../core/language/yaml/yamlTree';
import { lineIndex, offsetAt, positionAt, type LineIndex } from '../core/language/text/lineIndex';

function clampOffset(index: LineIndex, offset: number): number {
  return Math.max(0, Math.min(index.text.length, Math.floor(offset)));
}

export function toPosition(index: LineIndex, offset: number): Position {
  const o = clampOffset(index, offset);
  const p = positionAt(index, o);
  // An offset inside a line break (between \r and \n) is the end of its line, as in LSP's TextDocument.
  const lineStart = o - p.character;
  let end = o;
  while (end > lineStart && isLineBreak(index.text.charCodeAt(end - 1))) end--;
  return end === o ? p : { line: p.line, character: end - lineStart };
}

const isLineBreak = (c: number) => c === 10 || c === 13;

export function toRange(index: LineIndex, span: Span): Range {
  const start = clampOffset(index, span.start);
  const end = Math.max(start, clampOffset(index, span.end));
  return { start: toPosition(index, start), end: toPosition(index, end) };
}

export function toOffset(index: LineIndex, position: Position): number {
  return offsetAt(index, position.line, position.character);
}

export function toSpan(index: LineIndex, range: Range): Span {
  const start = toOffset(index, range.start);
  return { start, end: Math.max(start, toOffset(index, range.end)) };
}

// ---------------------------------------------------------------------------------------------
// URIs and workspace paths

/** `file:///root/a/b.yaml` for `a/b.yaml` under `root`. */
export function uriOf(root: string, relPath: string): string {
  return pathToFileURL(path.join(root, ...relPath.split('/'))).href;
}

// ---------------------------------------------------------------------------------------------
// Diagnostics

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

const SEVERITY_BACK: Record<number, Severity> = { 1: 'error', 2: 'warning', 3: 'information', 4: 'hint' };

/** The analysis diagnostic is kept whole in `data` so a code action gets it back untouched. */
interface DiagnosticData {
  runwise: AnalysisDiagnostic;
}

export function toDiagnostic(index: LineIndex, d: AnalysisDiagnostic): Diagnostic {
  const data: DiagnosticData = { runwise: d };
  return {
    range: toRange(index, d),
    severity: SEVERITY[d.severity] ?? DiagnosticSeverity.Error,
    code: d.code,
    source: 'runwise',
    message: d.message,
    data,
  };
}

/** Back from LSP: the analysis diagnostic as it was sent, or one rebuilt from the LSP fields. */
export function fromDiagnostic(index: LineIndex, d: Diagnostic): AnalysisDiagnostic {
  const kept = (d.data as Partial<DiagnosticData> | undefined)?.runwise;
  const span = toSpan(index, d.range);
  if (kept && typeof kept === 'object' && typeof kept.code === 'string') return { ...kept, start: span.start, end: span.end };
  return {
    start: span.start,
    end: span.end,
    severity: SEVERITY_BACK[d.severity ?? 1] ?? 'error',
    code: d.code === undefined ? '' : String(d.code),
    message: typeof d.message === 'string' ? d.message : d.message.value,
  };
}

// ---------------------------------------------------------------------------------------------
// Completion

const COMPLETION_KIND: Record<CompletionKind, CompletionItemKind> = {
  property: CompletionItemKind.Property,
  value: CompletionItemKind.Value,
  enum: CompletionItemKind.EnumMember,
  snippet: CompletionItemKind.Snippet,
  file: CompletionItemKind.File,
  folder: CompletionItemKind.Folder,
  reference: CompletionItemKind.Reference,
  variable: CompletionItemKind.Variable,
  keyword: CompletionItemKind.Keyword,
};

export function toCompletionItem(index: LineIndex, e: CompletionEntry): CompletionItem {
  const item: CompletionItem = {
    label: e.label,
    kind: COMPLETION_KIND[e.kind] ?? CompletionItemKind.Text,
    textEdit: { range: toRange(index, e.replace), newText: e.insertText },
    insertTextFormat: e.snippet ? InsertTextFormat.Snippet : InsertTextFormat.PlainText,
  };
  if (e.detail !== undefined) item.detail = e.detail;
  if (e.documentation !== undefined) item.documentation = { kind: MarkupKind.Markdown, value: e.documentation };
  if (e.sortText !== undefined) item.sortText = e.sortText;
  // The client filters on the text being replaced; make it match what is inserted.
  if (e.insertText !== e.label && !e.snippet) item.filterText = e.insertText;
  if (e.kind === 'folder') item.command = { title: 'Suggest', command: 'editor.action.triggerSuggest' };
  return item;
}

// ---------------------------------------------------------------------------------------------
// Hover, locations

export function toHover(index: LineIndex, h: HoverResult): Hover {
  return { contents: { kind: MarkupKind.Markdown, value: h.contents }, range: toRange(index, h) };
}

export function toLocation(root: string, target: TargetLocation, targetIndex: LineIndex): Location {
  return { uri: uriOf(root, target.relPath), range: toRange(targetIndex, target.span) };
}

// ---------------------------------------------------------------------------------------------
// Symbols and folding

const SYMBOL_KIND: Record<SymbolKind, LspSymbolKind> = {
  stage: LspSymbolKind.Function,
  key: LspSymbolKind.Property,
  file: LspSymbolKind.File,
  param: LspSymbolKind.Variable,
  section: LspSymbolKind.Namespace,
  model: LspSymbolKind.Class,
};

export function toDocumentSymbol(index: LineIndex, s: DocumentSymbolEntry): DocumentSymbol {
  const range = toRange(index, s.span);
  let selectionRange = toRange(index, s.selection);
  // LSP requires the selection inside the range; clients reject the whole answer otherwise.
  if (s.selection.start < s.span.start || s.selection.end > s.span.end) selectionRange = { start: range.start, end: range.start };
  const symbol: DocumentSymbol = {
    name: s.name.length ? s.name : '(empty)',
    kind: SYMBOL_KIND[s.kind] ?? LspSymbolKind.Key,
    range,
    selectionRange,
    children: (s.children ?? []).map((c) => toDocumentSymbol(index, c)),
  };
  if (s.detail !== undefined) symbol.detail = s.detail;
  return symbol;
}

export function toFoldingRange(f: FoldingSpan): FoldingRange {
  const r: FoldingRange = { startLine: f.startLine, endLine: f.endLine };
  if (f.kind === 'comment') r.kind = FoldingRangeKind.Comment;
  else if (f.kind === 'region') r.kind = FoldingRangeKind.Region;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Code actions

/**
 * A code action's edits as a WorkspaceEdit. `textOf(relPath)` gives the current text of a target
 * (open editor or disk) to convert spans; a file that is created gets a CreateFile operation and
 * an insert at its start.
 */
export function toCodeAction(
  root: string,
  entry: CodeActionEntry,
  textOf: (relPath: string) => LineIndex | undefined,
  versionOf: (uri: string) => number | null,
  diagnostics: Diagnostic[],
): CodeAction {
  const creates = entry.edits.some((e) => e.createFile || e.span === undefined);
  let edit: WorkspaceEdit;
  if (creates) {
    const documentChanges: (TextDocumentEdit | CreateFile)[] = [];
    for (const e of entry.edits) {
      const uri = uriOf(root, e.relPath);
      const index = textOf(e.relPath);
      if (e.createFile || index === undefined) {
        // Never onto an existing file: if one appeared since the analysis, the edit fails whole.
        documentChanges.push({ kind: 'create', uri, options: { overwrite: false, ignoreIfExists: false } });
        documentChanges.push({
          textDocument: { uri, version: null },
          edits: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: e.newText }],
        });
      } else {
        const span = e.span ?? { start: 0, end: index.text.length };
        documentChanges.push({ textDocument: { uri, version: versionOf(uri) }, edits: [{ range: toRange(index, span), newText: e.newText }] });
      }
    }
    edit = { documentChanges };
  } else {
    const changes: Record<string, TextEdit[]> = {};
    for (const e of entry.edits) {
      const uri = uriOf(root, e.relPath);
      const index = textOf(e.relPath) ?? lineIndex('');
      (changes[uri] ??= []).push({ range: toRange(index, e.span ?? { start: 0, end: index.text.length }), newText: e.newText });
    }
    edit = { changes };
  }
  const action: CodeAction = {
    title: entry.title,
    kind: entry.kind === 'quickfix' ? 'quickfix' : 'refactor',
    edit,
    diagnostics: diagnostics.filter((d) => d.code !== undefined && entry.fixes.includes(String(d.code))),
  };
  if (entry.isPreferred) action.isPreferred = true;
  return action;
}
