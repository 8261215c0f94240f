/**
 * Which files Runwise analyses, by path: pipelines (`runwise.yaml`, `*.pipeline.yaml`, `dvc.yaml`),
 * params (`params.yaml`, or a YAML/JSON file a pipeline next to it or above it names in `vars` or
 * `params`), model cards (`*.modelcard.yaml` or its JSON, `model_card.json`, a README.md with YAML front matter, and another
 * Markdown file named or keyed as a card or that a pipeline registers as one), and the README.md
 * of a Hugging Face Space (front matter with a top-level Space key such as `sdk`).
 */
import { isJsonCardName } from '../modelCard/cardNames';
import { extractFrontMatter, unclosedFrontMatterLine } from '../modelCard/frontMatter';
import type { FileKind, WorkspaceView } from '../languageTypes';
import { parseYaml } from '../yaml/parseYaml';
import { referencedCardFiles, referencedParamsFiles } from './paramsFiles';

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
  if (/\.modelcard\.ya?ml$/.test(lower) || isJsonCardName(base)) return 'model-card';
  if (lower === 'readme.md') return text === undefined ? undefined : markdownCardKind(text);
  return undefined;
}

/** The card kind of a Markdown file's front matter (a Space's or a model's), undefined without one. */
export function markdownCardKind(text: string): FileKind | undefined {
  const fm = extractFrontMatter(text);
  // Metadata opened and never closed: a card, whose first diagnostic says so.
  if (!fm) return unclosedFrontMatterLine(text) === undefined ? undefined : 'readme-model-card';
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
 * A key only a model card's front matter has (Hugging Face's card metadata), as a top-level key;
 * not `license`, `datasets` or `metrics`, which a docs page's front matter may hold too.
 */
const CARD_KEY = /^(model-index|library_name|pipeline_tag|base_model|model_name|model_type)\s*:/m;
/** The names a Markdown model card goes by (a Hugging Face card is the repository's README.md). */
const CARD_NAME = /^(readme|model[-_]?card|.*\.modelcard)(\.[\w-]+)?\.md$/i;

/**
 * Whether Markdown with this front matter is a model card by its name (README.md, MODEL_CARD.md) or
 * by a card's keys: not any page with front matter (a Jekyll or Hugo page has `layout` and `title`).
 * The editor's CodeLens and the language server go by it.
 */
export function isMarkdownCard(relPath: string, frontMatterYaml: string): boolean {
  return CARD_NAME.test(baseName(relPath)) || CARD_KEY.test(frontMatterYaml);
}

/**
 * The kind of a file, looking at the workspace for YAML/JSON files that a pipeline in the same
 * directory or an ancestor names in `vars` or `params` (those are params files too). A Markdown
 * file other than README.md with front matter is a model card by its name or keys (isMarkdownCard),
 * or when such a pipeline's `register` step names it as its `card` (other Markdown front matter, a
 * docs page's `title:`, is no card).
 */
export function classifyFile(relPath: string, text: string | undefined, workspace?: WorkspaceView): FileKind | undefined {
  const byName = fileKindByName(relPath, text);
  if (byName) return byName;
  if (/\.md$/i.test(relPath) && baseName(relPath).toLowerCase() !== 'readme.md') {
    // Its front matter read once: a Space's keys make no model card outside a README.md.
    const fm = text === undefined ? undefined : extractFrontMatter(text);
    if (!fm || SPACE_KEY.test(fm.yaml)) return undefined;
    if (isMarkdownCard(relPath, fm.yaml)) return 'readme-model-card';
    return workspace && namedByPipeline(relPath, workspace, referencedCardFiles) ? 'readme-model-card' : undefined;
  }
  if (!workspace || !/\.(ya?ml|json)$/i.test(relPath)) return undefined;
  return namedByPipeline(relPath, workspace, referencedParamsFiles) ? 'params' : undefined;
}

/** Whether a pipeline in the file's directory or an ancestor names it (as `names` reads a pipeline). */
function namedByPipeline(relPath: string, workspace: WorkspaceView, names: (doc: ReturnType<typeof parseYaml>, pipeline: string) => Set<string>): boolean {
  const base = baseName(relPath);
  let dir = dirName(relPath);
  for (let depth = 0; depth < 32; depth++) {
    for (const pipeline of pipelineFilesIn(workspace, dir)) {
      const pipelineText = workspace.readFile(pipeline);
      // Cheap filter before parsing: the pipeline must mention the file's name.
      if (!pipelineText || !pipelineText.includes(base)) continue;
      if (names(parseYaml(pipelineText), pipeline).has(relPath)) return true;
    }
    if (dir === '') break;
    dir = dirName(dir);
  }
  return false;
}
