/**
 * What the built-in steps and the gates say beyond what the loaded graph carries: each built-in
 * step's settings (`register: {model, name, card, alias}`, `${...}` substituted as in its stage's
 * scope) and each gate's `model:` (the registered model its alias references read). Read from the
 * pipeline files with the language service, as loadPipeline reads them; a stage whose graph entry
 * already carries `builtinConfig` keeps it.
 */
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { FileSystemWorkspace } from "../language/files/fileSystemWorkspace";
import { createLanguageService } from "../language/languageService";
import {
  interpolateString,
  type InterpolationScope,
} from "../language/pipeline/interpolation";
import { computeLineStarts, positionAt } from "../language/text/lineIndex";
import {
  asMap,
  asSeq,
  deref,
  scalarText,
  valueOf,
} from "../language/yaml/yamlAccess";
import type { YamlNode } from "../language/yaml/yamlTree";
import type { PipelineGraph, PipelineStage } from "./pipelineModel";

export interface BuiltinStepSettings {
  /** Settings of each built-in step, by stage id. */
  steps: Map<string, Record<string, unknown>>;
  /** A gate's `model:`, by `file:line` of the rule. */
  gateModels: Map<string, string>;
}

/** A YAML node as plain data, its strings substituted in `scope` (a string that does not resolve stays as written). */
function plain(
  node: YamlNode | null,
  scope: InterpolationScope | undefined,
): unknown {
  const n = deref(node);
  if (!n) return null;
  if (n.kind === "scalar")
    return typeof n.value === "string" && scope
      ? (interpolateString(n.value, scope) ?? n.value)
      : n.value;
  if (n.kind === "seq") return n.items.map((i) => plain(i, scope));
  if (n.kind === "map")
    return Object.fromEntries(
      n.items.map((p) => [String(p.key.value), plain(p.value, scope)]),
    );
  return null;
}

export function readBuiltinStepSettings(
  graph: Pick<PipelineGraph, "root" | "files" | "stages">,
): BuiltinStepSettings {
  const steps = new Map<string, Record<string, unknown>>();
  const gateModels = new Map<string, string>();
  const wanted = new Map<string, PipelineStage[]>();
  for (const s of graph.stages) {
    if (!s.builtin) continue;
    if (s.builtinConfig) steps.set(s.id, s.builtinConfig);
    else wanted.set(s.file, [...(wanted.get(s.file) ?? []), s]);
  }
  const view = new FileSystemWorkspace(graph.root);
  const service = createLanguageService(view);
  for (const file of graph.files) {
    const text = view.readFile(file);
    if (text === undefined) continue;
    const doc = service.analyze(
      pathToFileURL(path.join(graph.root, ...file.split("/"))).href,
      file,
      text,
    );
    if (!doc) continue;
    const lines = { lineStarts: computeLineStarts(doc.yaml.text) };
    for (const item of asSeq(valueOf(asMap(doc.yaml.root), "gates"))?.items ??
      []) {
      const model = scalarText(valueOf(asMap(item), "model"));
      if (item && model !== undefined)
        gateModels.set(
          `${file}:${positionAt(lines, item.start).line + 1}`,
          model,
        );
    }
    const stages = wanted.get(file);
    if (!stages) continue;
    const index = service.pipelineIndex(doc);
    for (const inst of index?.instances ?? []) {
      const stage = stages.find((s) => s.name === inst.name);
      if (!stage?.builtin) continue;
      const settings = plain(
        valueOf(inst.decl.body, stage.builtin),
        inst.scope,
      );
      steps.set(
        stage.id,
        settings && typeof settings === "object" && !Array.isArray(settings)
          ? (settings as Record<string, unknown>)
          : {},
      );
    }
  }
  return { steps, gateModels };
}

/** A setting as a string, or undefined when absent or not a scalar. */
export function settingText(
  settings: Record<string, unknown>,
  key: string,
): string | undefined {
  const v = settings[key];
  return typeof v === "string"
    ? v
    : typeof v === "number" || typeof v === "boolean"
      ? String(v)
      : undefined;
}
