/**
 * Which files Runwise analyses, by path: pipelines (`runwise.yaml`, `*.pipeline.yaml`, `dvc.yaml`),
 * params (`params.yaml`, or a YAML/JSON file a pipeline next to it or above it names in `vars` or
 * `params`), model cards (`*.modelcard.yaml`, and a README.md with YAML front matter).
 */
import { extractFrontMatter } from './frontMatter';
import type { FileKind, WorkspaceView } from './languageTypes';
import { parseYaml } from './yaml/parseYaml';
import { referencedParamsFiles } from './paramsFiles';

export function baseName(relPath: string): string {
  const i = relPath.lastIndexOf('/');
  return i < 0 ? relPath : relPath.slice(i + 1);
}

export function dirName(relPath: string): string {
  const i = relPath.lastIndexOf('/');
  return i < 0 ? '' : relPath.slice(0, i);
}

/** The kind a file has by its name alone (README.md needs its text: front matter or not). */
export function fileKindByName(relPath: string, text?: string): FileKind | undefined {
  const base = baseName(relPath);
  const lower = base.toLowerCase();
  if (lower === 'runwise.yaml' || lower === 'runwise.yml' || /\.pipeline\.ya?ml$/.test(lower)) return 'runwise-pipeline';
  if (base === 'dvc.yaml' || base === 'dvc.yml') return 'dvc-pipeline';
  if (base === 'params.yaml' || base === 'params.yml') return 'params';
  if (/\.modelcard\.ya?ml$/.test(lower)) return 'model-card';
  if (lower === 'readme.md') return text !== undefined && extractFrontMatter(text) ? 'readme-model-card' : undefined;
  return undefined;
}

export function isPipelineKind(kind: FileKind): boolean {
  return kind === 'runwise-pipeline' || kind === 'dvc-pipeline';
}

/** Pipeline files in one directory of the workspace ('' = root). */
export function pipelineFilesIn(workspace: WorkspaceView, dir: string): string[] {
  const entries = workspace.listDir(dir) ?? [];
  const out: string[] = [];
  for (const e of entries) {
    if (e.endsWith('/')) continue;
    const rel = dir ? `${dir}/${e}` : e;
    const k = fileKindByName(rel);
    if (k && isPipelineKind(k)) out.push(rel);
  }
  return out.sort();
}

/**
 * The kind of a file, looking at the workspace for YAML/JSON files that a pipeline in the same
 * directory or an ancestor names in `vars` or `params` (those are params files too).
 */
export function classifyFile(relPath: string, text: string | undefined, workspace?: WorkspaceView): FileKind | undefined {
  const byName = fileKindByName(relPath, text);
  if (byName || !workspace || !/\.(ya?ml|json)$/i.test(relPath)) return byName;
  const base = baseName(relPath);
  let dir = dirName(relPath);
  for (let depth = 0; depth < 32; depth++) {
    for (const pipeline of pipelineFilesIn(workspace, dir)) {
      const pipelineText = workspace.readFile(pipeline);
      // Cheap filter before parsing: the pipeline must mention the file's name.
      if (!pipelineText || !pipelineText.includes(base)) continue;
      if (referencedParamsFiles(parseYaml(pipelineText), pipeline).has(relPath)) return 'params';
    }
    if (dir === '') break;
    dir = dirName(dir);
  }
  return undefined;
}
