/**
 * Document symbols: for a pipeline, its stages (with what they run, their deps, outs and params as
 * children) and the other top-level sections; for a model card, its sections and `model-index`
 * entries; for a params file, its keys. Bounded in depth and count. Spans are FILE offsets.
 */
import { isPipelineKind } from '../files/fileKinds';
import type { AnalyzedDocument, DocumentSymbolEntry, SymbolKind } from '../languageTypes';
import { asMap, asScalar, asSeq, keyName, scalarText, valueOf } from '../yaml/yamlAccess';
import type { Span, YamlMap, YamlNode, YamlPair } from '../yaml/yamlTree';

const MAX_SYMBOLS = 5000;

export function documentSymbolsOf(doc: AnalyzedDocument): DocumentSymbolEntry[] {
  const root = asMap(doc.yaml.root);
  if (!root) return [];
  const budget = { left: MAX_SYMBOLS };
  const list = isPipelineKind(doc.kind) ? pipelineSymbols(root, budget) : doc.kind === 'params' ? keySymbols(root, 'param', 0, budget) : cardSymbols(root, budget);
  if (doc.yamlOffset) shiftAll(list, doc.yamlOffset);
  return list;
}

interface Budget {
  left: number;
}

function sym(name: string, kind: SymbolKind, span: Span, selection: Span, children: DocumentSymbolEntry[] = [], detail?: string): DocumentSymbolEntry {
  return { name, kind, span: { start: span.start, end: span.end }, selection: { start: selection.start, end: selection.end }, children, ...(detail ? { detail } : {}) };
}

function pipelineSymbols(root: YamlMap, budget: Budget): DocumentSymbolEntry[] {
  const out: DocumentSymbolEntry[] = [];
  for (const pair of root.items) {
    if (budget.left-- <= 0) break;
    const key = keyName(pair);
    if (key === 'stages') {
      const stages = asMap(pair.value);
      const children = (stages?.items ?? []).map((p) => stageSymbol(p, budget)).filter((s): s is DocumentSymbolEntry => !!s);
      out.push(sym(key, 'section', pair, pair.key, children, `${children.length} stage(s)`));
    } else {
      out.push(sym(key, 'section', pair, pair.key, listChildren(pair.value, key === 'params' ? 'param' : 'file', budget)));
    }
  }
  return out;
}

function stageSymbol(pair: YamlPair, budget: Budget): DocumentSymbolEntry | undefined {
  if (budget.left-- <= 0) return undefined;
  const stage = asMap(pair.value);
  const body = asMap(valueOf(stage, 'do')) ?? stage;
  const children: DocumentSymbolEntry[] = [];
  for (const field of ['deps', 'outs', 'metrics', 'plots', 'params'] as const) {
    const p = body?.items.find((it) => keyName(it) === field);
    if (!p) continue;
    children.push(sym(field, 'key', p, p.key, listChildren(p.value, field === 'params' ? 'param' : 'file', budget)));
  }
  for (const step of ['evaluate', 'register', 'drift']) {
    const p = body?.items.find((it) => keyName(it) === step);
    if (p) children.push(sym(step, 'model', p, p.key));
  }
  const cmd = valueOf(body, 'cmd');
  const cmdText = scalarText(cmd) ?? (asSeq(cmd) ? asSeq(cmd)!.items.map((c) => scalarText(c) ?? '').join(' && ') : undefined);
  const detail = valueOf(stage, 'foreach') ? 'foreach' : valueOf(stage, 'matrix') ? 'matrix' : (cmdText ?? ['evaluate', 'register', 'drift'].find((k) => valueOf(body, k)));
  return sym(keyName(pair), 'stage', pair, pair.key, children, detail ? truncate(detail) : undefined);
}

function listChildren(node: YamlNode | null, kind: SymbolKind, budget: Budget): DocumentSymbolEntry[] {
  const out: DocumentSymbolEntry[] = [];
  for (const item of asSeq(node)?.items ?? []) {
    if (!item || budget.left-- <= 0) continue;
    const s = asScalar(item);
    if (s) {
      out.push(sym(truncate(scalarText(s) ?? s.source), kind, item, item));
      continue;
    }
    for (const p of asMap(item)?.items ?? []) out.push(sym(keyName(p), kind, p, p.key));
  }
  return out;
}

function keySymbols(map: YamlMap, kind: SymbolKind, depth: number, budget: Budget): DocumentSymbolEntry[] {
  const out: DocumentSymbolEntry[] = [];
  for (const p of map.items) {
    if (budget.left-- <= 0) break;
    const child = asMap(p.value);
    const s = asScalar(p.value);
    out.push(sym(keyName(p), kind, p, p.key, child && depth < 12 ? keySymbols(child, kind, depth + 1, budget) : [], s ? truncate(scalarText(s) ?? '') : undefined));
  }
  return out;
}

function cardSymbols(root: YamlMap, budget: Budget): DocumentSymbolEntry[] {
  const out: DocumentSymbolEntry[] = [];
  for (const p of root.items) {
    if (budget.left-- <= 0) break;
    const key = keyName(p);
    if (key === 'model-index') {
      const models = (asSeq(p.value)?.items ?? []).flatMap((m) => {
        const mm = asMap(m);
        if (!mm) return [];
        const results = (asSeq(valueOf(mm, 'results'))?.items ?? []).flatMap((r, i) => {
          const rm = asMap(r);
          if (!rm) return [];
          const task = scalarText(valueOf(asMap(valueOf(rm, 'task')), 'type')) ?? `result ${i + 1}`;
          const ds = scalarText(valueOf(asMap(valueOf(rm, 'dataset')), 'name'));
          return [sym(ds ? `${task} on ${ds}` : task, 'key', rm, rm)];
        });
        return [sym(scalarText(valueOf(mm, 'name')) ?? 'model', 'model', mm, mm, results)];
      });
      out.push(sym(key, 'section', p, p.key, models));
      continue;
    }
    const child = asMap(p.value);
    const s = asScalar(p.value);
    out.push(sym(key, child ? 'section' : 'key', p, p.key, child ? keySymbols(child, 'key', 1, budget) : [], s ? truncate(scalarText(s) ?? '') : undefined));
  }
  return out;
}

function truncate(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > 80 ? `${one.slice(0, 79)}…` : one;
}

function shiftAll(list: DocumentSymbolEntry[], by: number): void {
  for (const s of list) {
    s.span = { start: s.span.start + by, end: s.span.end + by };
    s.selection = { start: s.selection.start + by, end: s.selection.end + by };
    shiftAll(s.children, by);
  }
}
