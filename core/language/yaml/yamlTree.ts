/**
 * The YAML syntax tree every language feature reads: plain data with source offsets, no editor
 * types. Parsing never fails: a broken document is a tree (as much of it as could be recovered)
 * plus errors. Offsets are UTF-16 code-unit offsets into the document text, `end` exclusive.
 */

export interface Span {
  start: number;
  end: number;
}

export type YamlNode = YamlMap | YamlSeq | YamlScalar | YamlAlias;

export interface YamlMap extends Span {
  kind: 'map';
  items: YamlPair[];
  /** `{ a: 1 }` rather than block style. */
  flow: boolean;
  /** Name of the anchor (`&name`) on this node; absent when there is none. */
  anchor?: string;
}

export interface YamlPair extends Span {
  key: YamlScalar;
  /** null for `key:` with nothing after it. */
  value: YamlNode | null;
  /** Offset of the `:` after the key. */
  colon: number;
}

export interface YamlSeq extends Span {
  kind: 'seq';
  items: (YamlNode | null)[];
  flow: boolean;
  /** Name of the anchor (`&name`) on this node; absent when there is none. */
  anchor?: string;
}

export type ScalarStyle = 'plain' | 'single' | 'double' | 'literal' | 'folded';

export interface YamlScalar extends Span {
  kind: 'scalar';
  /** The value as YAML 1.2's core schema resolves it (plain `true` → boolean, `3` → number, `~` → null). */
  value: string | number | boolean | null;
  /** The raw source text of the scalar, quotes and block indicators included. */
  source: string;
  style: ScalarStyle;
  /** Name of the anchor (`&name`) on this node; absent when there is none. */
  anchor?: string;
}

export interface YamlAlias extends Span {
  kind: 'alias';
  name: string;
  /** The node the alias stands for, when its anchor was found earlier in the document. */
  target: YamlNode | null;
}

export interface YamlSyntaxError extends Span {
  message: string;
  /** Stable code, e.g. 'yaml-syntax', 'duplicate-key', 'alias-limit', 'yaml-compat'. */
  code: string;
  /**
   * 'warning' for what tools built on PyYAML (DVC, huggingface_hub) read but strict YAML 1.2
   * rejects ('yaml-compat'); absent for an error.
   */
  severity?: 'warning';
}

export interface YamlDocument {
  text: string;
  /** The root node; null for an empty document. */
  root: YamlNode | null;
  errors: YamlSyntaxError[];
  /** Offsets where each line starts (lineStarts[0] === 0), for offset ↔ line/column. */
  lineStarts: number[];
}

/** The innermost node whose span contains `offset`, with the path of pairs/indices leading to it. */
export interface NodeAtOffset {
  node: YamlNode | null;
  /** Keys and indices from the root, e.g. ['stages', 'train', 'deps', 0]. */
  path: (string | number)[];
  /** The pair whose key (not value) contains the offset, if any. */
  inKeyOf: YamlPair | null;
  /** The enclosing pairs, outermost first. */
  pairs: YamlPair[];
}
