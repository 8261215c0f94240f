/**
 * Quick fixes for diagnostics: replace a misspelled key or value with the suggestion, add a missing
 * param to its params file (creating the file if needed), create a missing params/vars file or
 * dependency file, add a missing required key. Edits of the document itself are in FILE offsets;
 * edits of other files in offsets of those files.
 */
import type { FeatureContext } from './featureContext';
import type { AnalysisDiagnostic, CodeActionEntry, FileEdit } from '../languageTypes';
import { splitKeyPath } from '../files/paramsIndex';
import { asMap, pairOf } from '../yaml/yamlAccess';
import { quoteIfNeeded } from '../yaml/yamlScalarText';
import { nodeAtOffset } from '../yaml/nodeAt';
import { parseYaml } from '../yaml/parseYaml';
import { positionAt } from '../text/lineIndex';
import { type Span, type YamlDocument, type YamlMap, type YamlPair } from '../yaml/yamlTree';

const PLACEHOLDER = 'null';

export function codeActionsFor(ctx: FeatureContext, span: Span, diagnostics: AnalysisDiagnostic[]): CodeActionEntry[] {
  const out: CodeActionEntry[] = [];
  for (const d of diagnostics) {
    if (d.end < span.start || d.start > span.end) continue;
    const data = (d.data ?? {}) as { suggestion?: string; file?: string; key?: string; path?: string; directory?: boolean };
    switch (d.code) {
      case 'unknown-key':
      case 'invalid-value':
      case 'unknown-value':
      case 'unknown-license':
        if (data.suggestion) out.push(replaceWithSuggestion(ctx, d, data.suggestion));
        break;
      case 'missing-param':
        if (data.file && data.key) {
          const edit = addParamEdit(ctx, data.file, data.key);
          if (edit) out.push({ title: `Add '${data.key}' to ${data.file}`, kind: 'quickfix', fixes: [d.code], edits: [edit], isPreferred: true });
        }
        break;
      case 'missing-params-file':
      case 'missing-vars-file':
        if (data.file) {
          const edit = data.key ? addParamEdit(ctx, data.file, data.key) : { relPath: data.file, newText: '', createFile: true };
          if (edit) out.push({ title: `Create ${data.file}${data.key ? ` with '${data.key}'` : ''}`, kind: 'quickfix', fixes: [d.code], edits: [edit] });
        }
        break;
      case 'missing-path':
        if (data.path && !data.directory) {
          out.push({ title: `Create file '${data.path}'`, kind: 'quickfix', fixes: [d.code], edits: [{ relPath: data.path, newText: '', createFile: true }] });
        }
        break;
      case 'missing-key':
        if (data.key) {
          const edit = addKeyEdit(ctx, d, data.key);
          if (edit) out.push({ title: `Add '${data.key}'`, kind: 'quickfix', fixes: [d.code], edits: [edit] });
        }
        break;
    }
  }
  return out;
}

function replaceWithSuggestion(ctx: FeatureContext, d: AnalysisDiagnostic, suggestion: string): CodeActionEntry {
  const text = ctx.doc.yaml.text;
  const o = ctx.doc.yamlOffset;
  const current = text.slice(d.start - o, d.end - o);
  const quote = current[0] === "'" || current[0] === '"' ? current[0] : '';
  const newText = quote ? `${quote}${suggestion}${quote}` : d.code === 'unknown-key' ? suggestion : quoteIfNeeded(suggestion);
  return {
    title: `Change to '${suggestion}'`,
    kind: 'quickfix',
    fixes: [d.code],
    edits: [{ relPath: ctx.doc.relPath, span: { start: d.start, end: d.end }, newText }],
    isPreferred: true,
  };
}

/** An edit adding `key` (dotted) with a placeholder value to a params file, or creating the file. */
export function addParamEdit(ctx: FeatureContext, file: string, key: string): FileEdit | undefined {
  const segments = splitKeyPath(key);
  if (segments.some((s) => typeof s !== 'string')) return undefined;
  const names = segments as string[];
  const text = ctx.workspace.readFile(file);
  if (text === undefined) return { relPath: file, newText: nested(names, 0), createFile: true };
  const doc = (ctx.parse ?? parseYaml)(text);
  let map: YamlMap | null = asMap(doc.root);
  if (!map && doc.root) return undefined;
  let ownerPair: YamlPair | null = null;
  let i = 0;
  for (; map && i < names.length; i++) {
    const p = pairOf(map, names[i]!);
    if (!p) break;
    if (p.value === null || (p.value.kind === 'scalar' && p.value.value === null && p.value.source.trim() === '')) {
      ownerPair = p;
      i++;
      map = null;
      break;
    }
    const child = asMap(p.value);
    if (!child) return undefined;
    ownerPair = p;
    map = child;
  }
  if (i >= names.length) return undefined;
  const rest = names.slice(i);
  if (map && map.flow) return undefined;
  if (map && map.items.length) {
    const indent = positionAt(doc, map.items[0]!.key.start).character;
    const at = lineEndAfter(doc, lastContentOffset(doc, map.end));
    return { relPath: file, span: { start: at, end: at }, newText: `\n${nested(rest, indent).replace(/\n$/, '')}` };
  }
  if (ownerPair) {
    const indent = positionAt(doc, ownerPair.key.start).character + 2;
    const at = lineEndAfter(doc, ownerPair.colon);
    return { relPath: file, span: { start: at, end: at }, newText: `\n${nested(rest, indent).replace(/\n$/, '')}` };
  }
  // An empty file (or only comments): append at the end.
  const sep = text.length && !text.endsWith('\n') ? '\n' : '';
  return { relPath: file, span: { start: text.length, end: text.length }, newText: sep + nested(rest, 0) };
}

function nested(names: string[], indent: number): string {
  let s = '';
  names.forEach((n, j) => {
    const pad = ' '.repeat(indent + 2 * j);
    s += j === names.length - 1 ? `${pad}${n}: ${PLACEHOLDER}\n` : `${pad}${n}:\n`;
  });
  return s;
}

function lastContentOffset(doc: YamlDocument, end: number): number {
  let i = Math.min(end, doc.text.length) - 1;
  while (i > 0 && /\s/.test(doc.text[i]!)) i--;
  return i;
}

/** Offset of the end of the line containing `offset` (before its line break). */
function lineEndAfter(doc: YamlDocument, offset: number): number {
  const { line } = positionAt(doc, Math.max(0, offset));
  let end = line + 1 < doc.lineStarts.length ? doc.lineStarts[line + 1]! : doc.text.length;
  while (end > 0 && (doc.text[end - 1] === '\n' || doc.text[end - 1] === '\r') && end > doc.lineStarts[line]!) end--;
  return end;
}

/** Adds `key: ` to the mapping a 'missing-key' diagnostic is about. */
function addKeyEdit(ctx: FeatureContext, d: AnalysisDiagnostic, key: string): FileEdit | undefined {
  const doc = ctx.doc.yaml;
  const o = d.start - ctx.doc.yamlOffset;
  const at = nodeAtOffset(doc, o);
  let map: YamlMap | null = null;
  let ownerPair: YamlPair | null = null;
  if (at.inKeyOf) {
    ownerPair = at.inKeyOf;
    map = asMap(at.inKeyOf.value);
  } else {
    // The diagnostic is on a value (e.g. `license: other`): add a sibling key after its pair.
    const pair = at.pairs[at.pairs.length - 1];
    if (!pair) {
      map = asMap(doc.root);
    } else {
      const indent = positionAt(doc, pair.key.start).character;
      const pos = lineEndAfter(doc, lastContentOffset(doc, pair.end));
      return { relPath: ctx.doc.relPath, span: shift(ctx, { start: pos, end: pos }), newText: `\n${' '.repeat(indent)}${key}: ` };
    }
  }
  if (map && map.flow) return undefined;
  if (map && map.items.length) {
    const indent = positionAt(doc, map.items[0]!.key.start).character;
    const pos = lineEndAfter(doc, lastContentOffset(doc, map.end));
    return { relPath: ctx.doc.relPath, span: shift(ctx, { start: pos, end: pos }), newText: `\n${' '.repeat(indent)}${key}: ` };
  }
  if (ownerPair) {
    const indent = positionAt(doc, ownerPair.key.start).character + 2;
    const pos = lineEndAfter(doc, ownerPair.colon);
    return { relPath: ctx.doc.relPath, span: shift(ctx, { start: pos, end: pos }), newText: `\n${' '.repeat(indent)}${key}: ` };
  }
  return undefined;
}

function shift(ctx: FeatureContext, s: Span): Span {
  return { start: s.start + ctx.doc.yamlOffset, end: s.end + ctx.doc.yamlOffset };
}
