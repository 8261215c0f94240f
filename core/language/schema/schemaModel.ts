/**
 * A small schema model for the YAML files Runwise understands: per YAML node kind (scalar, map,
 * sequence) what is allowed, with short Markdown docs for hover, enum values, required keys and
 * completion snippets. A node of a kind the schema does not list is a type error; a key a map does
 * not list is an unknown key (unless the map accepts any key).
 */

export type ScalarType = 'string' | 'number' | 'integer' | 'boolean' | 'null';

/**
 * What a value means beyond its type, for completion, navigation and the semantic checks:
 * - input-path / output-path: a workspace path relative to the stage's `wdir` (read / written);
 * - params-file: a params file; param-key: a dot-separated key in the stage's params file;
 * - vars-file: a file named in `vars` (optionally `file:key1,key2`);
 * - metric-ref: `[stage-or-file:]metric`; metric-name: a metric known to the built-in steps;
 * - stage-name: a stage of this pipeline; license: a Hugging Face license id;
 * - command: a shell command; dataset-id / model-id: Hub ids.
 */
export type ValueHint =
  | 'input-path'
  | 'output-path'
  | 'params-file'
  | 'param-key'
  | 'vars-file'
  | 'metric-ref'
  | 'gate-value'
  | 'metric-name'
  | 'stage-name'
  | 'license'
  | 'command'
  | 'url';

export interface ScalarSchema {
  types: readonly ScalarType[];
  /** Allowed values. With `openEnum`, other values are only a warning ('unknown-value'). */
  enum?: readonly (string | number | boolean)[];
  openEnum?: boolean;
  /** Values offered by completion without being enforced. */
  suggestions?: readonly string[];
  hint?: ValueHint;
  /** For paths: the expected file extensions (lower case, with dot); others get a warning. */
  extensions?: readonly string[];
  /** For numbers: the smallest and largest allowed value (inclusive). */
  min?: number;
  max?: number;
  /** For text: what is wrong with a value (an 'invalid-value' error at it), or undefined when it is fine. */
  problem?: (value: string) => string | undefined;
}

export interface MapSchema {
  properties: Readonly<Record<string, PropertySchema>>;
  /** The schema of keys not in `properties`; undefined means no other keys are allowed. */
  additional?: SchemaNode;
  /** What a key not in `properties` is (for hover), when `additional` is set. */
  additionalKeyDoc?: string;
  additionalKeyHint?: ValueHint;
  /**
   * How an unknown key is reported: 'error' (pipelines), 'warning', or 'suggest' (open-ended
   * metadata such as a model card: only a near miss of a known key is reported, as a warning).
   */
  unknownKeys?: 'error' | 'warning' | 'suggest';
  required?: readonly string[];
  /** Said after "Missing required key 'k'." for a required key: how it is usually filled. */
  requiredHints?: Readonly<Record<string, string>>;
  /** Groups of keys of which at most one may be present (exactly one when `required`). */
  exclusive?: readonly { keys: readonly string[]; required: boolean }[];
  /** Picks a more specific map schema from the keys present (e.g. a foreach stage). */
  variant?: (presentKeys: ReadonlySet<string>) => MapSchema;
}

export interface SeqSchema {
  items: SchemaNode;
  unique?: boolean;
}

export interface SchemaNode {
  /** Markdown shown on hover. */
  description?: string;
  scalar?: ScalarSchema;
  map?: MapSchema;
  seq?: SeqSchema;
  /** Anything goes below this node (free-form metadata). */
  any?: boolean;
  /** Accepted but no longer meaningful; the text says what to do instead. */
  deprecated?: string;
  /** A whole string `${...}` stands for a value of any kind (DVC templating). */
  interpolated?: boolean;
}

export interface PropertySchema extends SchemaNode {
  /** Completion insert text for the key and its value skeleton (a snippet with $1 placeholders). */
  snippet?: string;
  default?: string | number | boolean;
}

// ---- builders, to keep the schema tables short ----

export const str = (description?: string, extra: Partial<ScalarSchema> = {}): PropertySchema => ({
  description,
  scalar: { types: ['string'], ...extra },
});
export const num = (description?: string, range: { min?: number; max?: number } = {}): PropertySchema => ({ description, scalar: { types: ['number'], ...range } });
export const int = (description?: string, range: { min?: number; max?: number } = {}): PropertySchema => ({ description, scalar: { types: ['integer'], ...range } });
export const bool = (description?: string, dflt?: boolean): PropertySchema => ({
  description,
  scalar: { types: ['boolean'] },
  ...(dflt === undefined ? {} : { default: dflt }),
});
export const anyValue = (description?: string): PropertySchema => ({ description, any: true });
export const enumOf = (description: string, values: readonly string[], extra: Partial<ScalarSchema> = {}): PropertySchema => ({
  description,
  scalar: { types: ['string'], enum: values, ...extra },
});
export const listOf = (items: SchemaNode, description?: string, unique = false): PropertySchema => ({
  description,
  seq: { items, unique },
});
export const mapOf = (map: MapSchema, description?: string): PropertySchema => ({ description, map });
/** A string or a list of strings (e.g. HF `language`, `tags`). */
export const strOrList = (description?: string, extra: Partial<ScalarSchema> = {}): PropertySchema => ({
  description,
  scalar: { types: ['string'], ...extra },
  seq: { items: { scalar: { types: ['string'], ...extra } } },
});
/** Any map of string keys to scalars. */
export const freeMap = (description?: string): PropertySchema => ({ description, map: { properties: {}, additional: { any: true } } });

/** Which kinds a schema node accepts, for messages ("expected a string or a list"). */
export function describeExpected(node: SchemaNode): string {
  const parts: string[] = [];
  if (node.scalar) {
    for (const t of node.scalar.types) parts.push(t === 'integer' ? 'an integer' : t === 'null' ? 'nothing (null)' : `a ${t}`);
  }
  if (node.seq) parts.push('a list');
  if (node.map) parts.push('a mapping');
  if (parts.length <= 1) return parts[0] ?? 'nothing';
  return `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

/** The map schema for a map node, after picking its variant from the keys present. */
export function effectiveMapSchema(map: MapSchema, presentKeys: ReadonlySet<string>): MapSchema {
  return map.variant ? map.variant(presentKeys) : map;
}
