/**
 * Where each stage's key stands in a pipeline file's text as it is now, for an editor whose buffer
 * has changes not yet saved: the runner's graph was loaded from disk, so its lines describe the
 * saved file. Keys are the names under `stages:` (a `foreach`/`matrix` stage's generated names,
 * `train@us`, stand on their key `train`).
 */
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';

/** 1-based line of each stage key under the top-level `stages:` mapping; empty when the text has none or does not parse as a mapping. */
export function stageKeyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, keepSourceTokens: false, uniqueKeys: false });
  if (!isMap(doc.contents)) return lines;
  const stages = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'stages')?.value;
  if (!isMap(stages)) return lines;
  for (const pair of stages.items) {
    if (!isScalar(pair.key) || pair.key.range === undefined || pair.key.range === null) continue;
    const name = String(pair.key.value);
    if (!lines.has(name)) lines.set(name, counter.linePos(pair.key.range[0]).line);
  }
  return lines;
}

/** The key a stage's name stands on: `train@us` → `train`. */
export function stageKeyOf(stageName: string): string {
  const at = stageName.indexOf('@');
  return at < 0 ? stageName : stageName.slice(0, at);
}
