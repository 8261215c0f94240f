/**
 * Which files Runwise analyses, by path: pipelines (`runwise.yaml`, `*.pipeline.yaml`, `dvc.yaml`),
 * params (`params.yaml`, or a YAML/JSON file a pipeline next to it or above it names in `vars` or
 * `params`), model cards (`*.modelcard.yaml`, and a README.md with YAML front matter), and the README.md
 * of a Hugging Face Space (front matter with a top-level Space key such as `sdk`).
 */
import { extractFrontMatter } from '../modelCard/frontMatter';
import type { FileKind, WorkspaceView } from '../languageTypes';
import { parseYaml } from '../yaml/parseYaml';
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
  if (lower === 'readme.md') return text === undefined ? undefined : markdownCardKind(text);
  return undefined;
}

/** The card kind of a Markdown file's front matter (a Space's or a model's), undefined without one. */
export function markdownCardKind(text: string): FileKind | undefined {
  const fm = extractFrontMatter(text);
  if (!fm) return undefined;
  return SPACE_KEY.test(fm.yaml) ? 'space-card' : 'readme-model-card';
}

/**
 * A top-level key only a Space's README.md has (the Spaces configuration reference): `sdk`,
 * `sdk_version`, `app_file`, `app_port`, `colorFrom`, `colorTo` or `emoji`, at the start of a line.
 */
const SPACE_KEY = /^["']?(?:sdk|sdk_version|app_file|app_port|colorFrom|colorTo|emoji)["']?[ \t]*:/m;

export function isPipelineKind(kind: FileKind): boolean {
  return kind === 'runwise-pipeline' || kind === 'dvc-pipeline';
}

/** Cards: model cards (a `*.modelcard.yaml` or a README.md's front matter) and Space cards. */
export function isCardKind(kind: FileKind): boolean {
  return kind === 'model-card' || kind === 'readme-model-card' || kind === 'space-card';
}

/** Kinds whose YAML is the front matter of a Markdown file. */
export function isFrontMatterKind(kind: FileKind): boolean {
  return kind === 'readme-model-card' || kind === 'space-card';
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
