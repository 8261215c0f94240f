/**
 * A built-in step's settings (`register: {model, name, card, alias}`) as plain data, the way
 * loadPipeline records them in `PipelineStage.builtinConfig` (the lock's `runwise:register {...}`
 * command, so a changed setting reruns the step) and the step reads them when it runs.
 */
import { interpolateString, isWholeInterpolation, resolveSegments, wholeSegments, type InterpolationScope } from '../language/pipeline/interpolation';
import { deref } from '../language/yaml/yamlAccess';
import type { YamlNode } from '../language/yaml/yamlTree';

/**
 * A YAML node as plain data, its strings substituted in `scope` (a string that does not resolve
 * stays as written). A value that is exactly one `${...}` keeps the type of what it names, as DVC
 * keeps it (`threshold: ${evaluate.threshold}` is the number 0.4, `features: ${cols}` the list).
 */
function plainValue(node: YamlNode | null, scope: InterpolationScope | undefined): unknown {
  const n = deref(node);
  if (!n) return null;
  if (n.kind === 'scalar' && typeof n.value === 'string' && scope && isWholeInterpolation(n.value)) {
    const segments = wholeSegments(n);
    const r = segments ? resolveSegments(segments, scope) : undefined;
    if (r?.kind === 'found' && r.text === undefined && r.node) return plainValue(r.node, undefined);
  }
  if (n.kind === 'scalar') return typeof n.value === 'string' && scope ? (interpolateString(n.value, scope) ?? n.value) : n.value;
  if (n.kind === 'seq') return n.items.map((i) => plainValue(i, scope));
  if (n.kind === 'map') return Object.fromEntries(n.items.map((p) => [String(p.key.value), plainValue(p.value, scope)]));
  return null;
}

/** A built-in step's settings node (`evaluate: {...}`) as plain data in its stage's scope; {} when it is not a map. */
export function builtinStepSettings(node: YamlNode | null, scope: InterpolationScope | undefined): Record<string, unknown> {
  const settings = plainValue(node, scope);
  return settings && typeof settings === 'object' && !Array.isArray(settings) ? (settings as Record<string, unknown>) : {};
}

/** A setting as a string, or undefined when absent or not a scalar. */
export function settingText(settings: Record<string, unknown>, key: string): string | undefined {
  const v = settings[key];
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}
