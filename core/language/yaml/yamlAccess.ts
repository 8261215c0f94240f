/**
 * Small read-only accessors over the YAML tree (yaml/yamlTree.ts): follow aliases, look up keys,
 * read scalars as text. Aliases are followed a bounded number of hops, so a cycle cannot hang.
 */
import { getPair, keyName } from './nodeAt';
import type { YamlMap, YamlNode, YamlPair, YamlScalar, YamlSeq } from './yamlTree';

export { keyName };

const MAX_ALIAS_HOPS = 16;

/** The node an alias stands for (the node itself when it is not an alias); null when unresolved. */
export function deref(node: YamlNode | null | undefined): Exclude<YamlNode, { kind: 'alias' }> | null {
  let n: YamlNode | null | undefined = node;
  for (let i = 0; n && n.kind === 'alias' && i < MAX_ALIAS_HOPS; i++) n = n.target;
  return n && n.kind !== 'alias' ? n : null;
}

export function asMap(node: YamlNode | null | undefined): YamlMap | null {
  const n = deref(node);
  return n && n.kind === 'map' ? n : null;
}

export function asSeq(node: YamlNode | null | undefined): YamlSeq | null {
  const n = deref(node);
  return n && n.kind === 'seq' ? n : null;
}

export function asScalar(node: YamlNode | null | undefined): YamlScalar | null {
  const n = deref(node);
  return n && n.kind === 'scalar' ? n : null;
}

/** The first pair with this key. */
export function pairOf(map: YamlMap | null | undefined, key: string): YamlPair | undefined {
  return (map && getPair(map, key)) ?? undefined;
}

export function valueOf(map: YamlMap | null | undefined, key: string): YamlNode | null {
  return pairOf(map, key)?.value ?? null;
}

/** A scalar's value as text (numbers and booleans spelled as YAML resolved them), or undefined. */
export function scalarText(node: YamlNode | null | undefined): string | undefined {
  const s = asScalar(node);
  if (!s || s.value === null) return undefined;
  return typeof s.value === 'string' ? s.value : String(s.value);
}

/** Where the text of a scalar's content starts and ends (inside quotes for quoted scalars). */
export function scalarContentSpan(s: YamlScalar): { start: number; end: number } {
  if ((s.style === 'single' || s.style === 'double') && s.end - s.start >= 2) return { start: s.start + 1, end: s.end - 1 };
  if (s.style === 'single' || s.style === 'double') return { start: s.start + 1, end: s.end };
  return { start: s.start, end: s.end };
}

export function isBlankScalar(node: YamlNode | null | undefined): boolean {
  return !node || (node.kind === 'scalar' && node.value === null && node.source.trim() === '');
}
