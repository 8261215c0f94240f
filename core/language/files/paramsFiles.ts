/**
 * Which params files a pipeline names: `params.yaml` next to it, files in top-level and stage `vars`
 * (`file` or `file:key1,key2`), top-level `params`, and `{file: [keys]}` entries in stage `params`.
 * Paths are workspace-relative; interpolated or escaping paths are left out.
 */
import { parentDir, resolveWorkspacePath } from './workspacePaths';
import { asMap, asSeq, keyName, scalarText, valueOf } from '../yaml/yamlAccess';
import type { YamlDocument, YamlNode } from '../yaml/yamlTree';

export const DEFAULT_PARAMS_FILE = 'params.yaml';

/** `config.yaml:train,prepare` → file and key filter (a Windows drive letter is not a filter). */
export function splitVarsEntry(entry: string): { file: string; keys: string[] | undefined } {
  const i = entry.lastIndexOf(':');
  if (i <= 1 || entry.includes('://')) return { file: entry, keys: undefined };
  const keys = entry
    .slice(i + 1)
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  return { file: entry.slice(0, i), keys: keys.length ? keys : undefined };
}

export function referencedParamsFiles(doc: YamlDocument, pipelineRelPath: string): Set<string> {
  const dir = parentDir(pipelineRelPath);
  const out = new Set<string>();
  const add = (base: string, p: string | undefined) => {
    if (!p || p.includes('${')) return;
    const r = resolveWorkspacePath(base, p);
    if (r.kind === 'inside') out.add(r.path);
  };
  add(dir, DEFAULT_PARAMS_FILE);
  const root = asMap(doc.root);
  const addVars = (base: string, node: YamlNode | null) => {
    for (const item of asSeq(node)?.items ?? []) {
      const s = scalarText(item);
      if (s !== undefined) add(base, splitVarsEntry(s).file);
    }
  };
  addVars(dir, valueOf(root, 'vars'));
  for (const item of asSeq(valueOf(root, 'params'))?.items ?? []) add(dir, scalarText(item));
  for (const { body, base } of stageBodies(doc, dir)) {
    add(base, DEFAULT_PARAMS_FILE);
    addVars(base, valueOf(body, 'vars'));
    for (const entry of asSeq(valueOf(body, 'params'))?.items ?? []) {
      for (const p of asMap(entry)?.items ?? []) add(base, keyName(p));
    }
  }
  return out;
}

/**
 * The model cards a pipeline's `register` steps name (`card:`), workspace-relative: a Markdown
 * file named so is a model card whatever its name. Interpolated or escaping paths are left out.
 */
export function referencedCardFiles(doc: YamlDocument, pipelineRelPath: string): Set<string> {
  const out = new Set<string>();
  for (const { body, base } of stageBodies(doc, parentDir(pipelineRelPath))) {
    const card = scalarText(valueOf(asMap(valueOf(body, 'register')), 'card'));
    if (!card || card.includes('${')) continue;
    const r = resolveWorkspacePath(base, card);
    if (r.kind === 'inside') out.add(r.path);
  }
  return out;
}

/**
 * Each stage's body (a foreach stage's `do`) and the folder its paths are relative to: its `wdir`
 * from the pipeline's folder `dir`; a stage whose wdir is interpolated counts from `dir`, one whose
 * wdir leaves the workspace is left out.
 */
function* stageBodies(doc: YamlDocument, dir: string): Generator<{ body: ReturnType<typeof asMap>; base: string }> {
  for (const stagePair of asMap(valueOf(asMap(doc.root), 'stages'))?.items ?? []) {
    const stage = asMap(stagePair.value);
    const body = asMap(valueOf(stage, 'do')) ?? stage;
    const wdirText = scalarText(valueOf(body, 'wdir'));
    const w = wdirText && !wdirText.includes('${') ? resolveWorkspacePath(dir, wdirText) : undefined;
    const base = w === undefined ? dir : w.kind === 'inside' ? w.path : undefined;
    if (base !== undefined) yield { body, base };
  }
}
