/**
 * Finding the schema that applies at a place in a document: along a path of keys and indices from
 * the root, picking map variants (a foreach stage, a matrix stage) from the keys actually present.
 */
import { asMap, asSeq, deref, keyName, pairOf } from '../yaml/yamlAccess';
import type { YamlMap, YamlNode } from '../yaml/yamlTree';
import { effectiveMapSchema, type MapSchema, type PropertySchema, type SchemaNode } from './schemaModel';

/** The keys of a map, with those a YAML merge key (`<<: *anchor`) brings in. */
export function presentKeys(map: YamlMap | null): Set<string> {
  const keys = new Set<string>();
  for (const p of map?.items ?? []) {
    const merged = keyName(p) === MERGE_KEY ? mergedMaps(p.value) : undefined;
    if (merged) for (const m of merged) for (const q of m.items) keys.add(keyName(q));
    else keys.add(keyName(p));
  }
  return keys;
}

/** The key of a YAML 1.1 merge (`<<: *defaults`), which PyYAML and ruamel.yaml (DVC, huggingface_hub) resolve. */
export const MERGE_KEY = '<<';

/**
 * The maps a merge key's value brings in: one map (usually an alias) or a list of them; undefined
 * when the value is not a merge (then `<<` is an ordinary key).
 */
export function mergedMaps(value: YamlNode | null): YamlMap[] | undefined {
  const one = asMap(deref(value));
  if (one) return [one];
  const seq = asSeq(value);
  if (!seq || seq.items.length === 0) return undefined;
  const maps = seq.items.map((i) => asMap(deref(i)));
  return maps.every((m) => m !== null) ? (maps as YamlMap[]) : undefined;
}

/** The map schema of a schema node for an actual map (variant picked), if it allows maps. */
export function mapSchemaFor(schema: SchemaNode | undefined, map: YamlMap | null): MapSchema | undefined {
  if (!schema?.map) return undefined;
  return effectiveMapSchema(schema.map, presentKeys(map));
}

export interface PropertyMatch {
  schema: SchemaNode;
  /** Listed in `properties` (false: matched `additional`). */
  declared: boolean;
}

export function propertyOf(map: MapSchema, key: string): PropertyMatch | undefined {
  if (Object.prototype.hasOwnProperty.call(map.properties, key)) return { schema: map.properties[key]! as PropertySchema, declared: true };
  if (map.additional) return { schema: map.additional, declared: false };
  return undefined;
}

export interface SchemaStep {
  /** Schema of the node reached. */
  schema: SchemaNode | undefined;
  /** The actual node reached (null when absent). */
  node: YamlNode | null;
}

/**
 * The schema and node at `path` (a string segment descends into a map, a number into a list).
 * `schema` is undefined when the path leaves the schema (unknown key, free-form data).
 */
export function schemaAtPath(rootSchema: SchemaNode, root: YamlNode | null, path: readonly (string | number)[]): SchemaStep {
  let schema: SchemaNode | undefined = rootSchema;
  let node: YamlNode | null = root;
  for (const seg of path) {
    if (!schema) return { schema: undefined, node: null };
    if (schema.any) return { schema, node: null };
    if (typeof seg === 'string') {
      const map = asMap(node);
      const ms = mapSchemaFor(schema, map);
      if (!ms) return { schema: undefined, node: null };
      schema = propertyOf(ms, seg)?.schema;
      node = pairOf(map, seg)?.value ?? null;
    } else {
      if (!schema.seq) return { schema: undefined, node: null };
      schema = schema.seq.items;
      node = asSeq(node)?.items[seg] ?? null;
    }
  }
  return { schema, node };
}
