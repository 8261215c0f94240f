/**
 * Input/output fixtures below the protocol: an in-memory workspace (a map of files), fixture text
 * with a cursor marker, and helpers that run the language service and describe its results in a
 * form tests compare directly.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

import { createLanguageService, type LanguageService } from '../../../core/language/languageService';
import type { AnalysisDiagnostic, AnalyzedDocument, FileEdit, WorkspaceView } from '../../../core/language/languageTypes';

export const CURSOR = '<|>';
export const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'language');

/** A workspace backed by a map of relative paths to texts; directories are implied by the paths. */
export function memoryWorkspace(files: Record<string, string> | Map<string, string>): WorkspaceView & { files: Map<string, string> } {
  const map = files instanceof Map ? files : new Map(Object.entries(files));
  const isDir = (p: string) => p === '' || [...map.keys()].some((k) => k.startsWith(p.endsWith('/') ? p : `${p}/`));
  return {
    files: map,
    readFile: (p) => map.get(p),
    exists: (p) => map.has(p) || isDir(p.replace(/\/$/, '')),
    listDir: (p) => {
      const dir = p.replace(/\/$/, '');
      if (!isDir(dir)) return undefined;
      const prefix = dir === '' ? '' : `${dir}/`;
      const out = new Set<string>();
      for (const k of map.keys()) {
        if (!k.startsWith(prefix)) continue;
        const rest = k.slice(prefix.length);
        const i = rest.indexOf('/');
        out.add(i < 0 ? rest : rest.slice(0, i + 1));
      }
      return [...out].sort();
    },
  };
}

/** Every file under a fixture directory, by relative path. */
export function loadFixture(name: string): Map<string, string> {
  const root = path.join(FIXTURES, name);
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const abs = path.join(dir, e);
      if (statSync(abs).isDirectory()) walk(abs);
      else out.set(path.relative(root, abs).split(path.sep).join('/'), readFileSync(abs, 'utf8'));
    }
  };
  walk(root);
  return out;
}

/** Text with `<|>` removed and the offset where it was. */
export function withCursor(marked: string): { text: string; offset: number } {
  const offset = marked.indexOf(CURSOR);
  if (offset < 0) throw new Error(`no ${CURSOR} in fixture`);
  return { text: marked.slice(0, offset) + marked.slice(offset + CURSOR.length), offset };
}

export interface Session {
  service: LanguageService;
  workspace: ReturnType<typeof memoryWorkspace>;
  doc: AnalyzedDocument;
  text: string;
}

/** A service over `files` plus `relPath` with `text` (which is also put in the workspace). */
export function open(files: Record<string, string> | Map<string, string>, relPath: string, text?: string): Session {
  const map = new Map(files instanceof Map ? files : Object.entries(files));
  if (text !== undefined) map.set(relPath, text);
  const workspace = memoryWorkspace(map);
  const service = createLanguageService(workspace);
  const body = map.get(relPath);
  if (body === undefined) throw new Error(`${relPath} is not in the workspace`);
  const doc = service.analyze(`file:///ws/${relPath}`, relPath, body);
  if (!doc) throw new Error(`${relPath} is not analysed`);
  return { service, workspace, doc, text: body };
}

/** `code@line:col-line:col 'covered text'` per diagnostic, for compact comparisons. */
export function describeDiagnostic(text: string, d: AnalysisDiagnostic): string {
  return `${d.code} '${text.slice(d.start, d.end)}'`;
}

export function diagnosticsOf(s: Session): AnalysisDiagnostic[] {
  return s.service.diagnostics(s.doc);
}

export function codesOf(s: Session): string[] {
  return diagnosticsOf(s).map((d) => describeDiagnostic(s.text, d));
}

/** Applies edits to one file's text (edits of other files are ignored), last first. */
export function applyEdits(text: string, relPath: string, edits: readonly FileEdit[]): string {
  const mine = edits.filter((e) => e.relPath === relPath);
  if (mine.some((e) => !e.span)) return mine.find((e) => !e.span)!.newText;
  const sorted = [...mine].sort((a, b) => b.span!.start - a.span!.start);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.span!.start) + e.newText + out.slice(e.span!.end);
  return out;
}
