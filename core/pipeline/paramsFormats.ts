/**
 * Params files the runner reads values from, in every format DVC reads: YAML and JSON through the
 * language analysis' params index, TOML (tomlParams.ts) and Python (pythonParams.ts) through their
 * readers, whose values are then given the same tree so that dotted keys, list indexes and glob keys
 * are looked up the same way whatever the format.
 */
import type { WorkspaceView } from '../language/languageTypes';
import { loadParamsFile, type ParamsFile } from '../language/files/paramsIndex';
import { parseYaml } from '../language/yaml/parseYaml';
import { parsePythonParams } from './pythonParams';
import { parseToml } from './tomlParams';

/** The params file with its values as a tree; undefined when it does not exist; ParamsSyntaxError for broken TOML or Python. */
export function loadParamsValues(workspace: WorkspaceView, relPath: string): ParamsFile | undefined {
  const lower = relPath.toLowerCase();
  const reader = lower.endsWith('.toml') ? parseToml : lower.endsWith('.py') ? parsePythonParams : undefined;
  if (!reader) return loadParamsFile(workspace, relPath);
  const text = workspace.readFile(relPath);
  if (text === undefined) return undefined;
  // The tree is made from the values (`text` stays the file's own, for what shows it).
  return { relPath, text, doc: parseYaml(flowYaml(reader(text))) };
}

/** A value as one YAML flow node (JSON, with YAML's words for infinities and NaN). */
function flowYaml(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return Number.isNaN(v) ? '.nan' : v === Infinity ? '.inf' : v === -Infinity ? '-.inf' : JSON.stringify(v);
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(flowYaml).join(', ')}]`;
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${JSON.stringify(k)}: ${flowYaml(x)}`)
    .join(', ')}}`;
}
