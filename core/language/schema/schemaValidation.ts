/**
 * Checks a document against its schema: unknown keys (with "did you mean"), wrong types, enum
 * values, required keys, mutually exclusive keys, deprecated keys, duplicate list entries. Every
 * node is visited once; an alias is checked for its kind only (its anchor is checked where it is
 * written), so alias-heavy documents stay bounded. Spans are YAML offsets.
 *
 * The findings under each entry of the root mapping and of the mappings right under it (each
 * stage of `stages:`) are kept with the entry: an entry the incremental parse reused (the same
 * object), or shifted (a copy of the previous version's, blockParse.ts shiftedFrom), with the same
 * schema and options, has the same findings, shifted by as much as the entry moved.
 */
import { didYouMean } from './didYouMean';
import { isWholeInterpolation } from '../pipeline/interpolation';
import type { AnalysisDiagnostic, Cancelled } from '../languageTypes';
import { describeExpected, effectiveMapSchema, type MapSchema, type ScalarSchema, type SchemaNode } from './schemaModel';
import { MERGE_KEY, mergedMaps, presentKeys, propertyOf } from './schemaNavigation';
import { BUILTIN_STEPS } from './builtinSteps';
import { deref, keyName } from '../yaml/yamlAccess';
import { shiftedFrom } from '../yaml/incrementalYaml';
import type { Span, YamlMap, YamlNode, YamlPair, YamlScalar, YamlSeq } from '../yaml/yamlTree';

export interface ValidationOptions {
  /** A whole `${...}` string may stand for any value (pipelines). */
  interpolation: boolean;
  /** Numbers and booleans are accepted where a string is expected (free-form metadata). */
  lenientStrings: boolean;
  /**
   * A key that is not required may be left empty (`key:`, `null`, `~`, `''`): card metadata, which
   * the Hub and `huggingface_hub` read as "not given". An empty item in a list (`tags: [null]`) is
   * then a warning, not a type error: the Hub drops null entries from list metadata, so the card
   * is accepted, but the item says nothing and is best removed.
   */
  emptyOptionalKeys?: boolean;
  /** Keys that exist only in Runwise pipelines, for a better message in dvc.yaml. */
  runwiseOnlyKeys?: ReadonlySet<string>;
  cancelled: Cancelled;
}

export const RUNWISE_ONLY_KEYS: ReadonlySet<string> = new Set([...BUILTIN_STEPS, 'gates']);

/** Entries at most this deep (0: the root mapping's) keep their findings (a pipeline's stages are at 1). */
const KEPT_FINDINGS_DEPTH = 1;

/** The findings under one entry's value, and what they were computed with. */
interface EntryFindings {
  schema: SchemaNode;
  depth: number;
  interpolation: boolean;
  lenientStrings: boolean;
  emptyOptionalKeys: boolean | undefined;
  runwiseOnlyKeys: ReadonlySet<string> | undefined;
  list: AnalysisDiagnostic[];
}

const entryFindings = new WeakMap<YamlPair, EntryFindings>();
const hasEntryFindings = (pair: YamlPair) => entryFindings.has(pair);

function sameValidation(k: EntryFindings, schema: SchemaNode, depth: number, o: ValidationOptions): boolean {
  return (
    k.schema === schema &&
    k.depth === depth &&
    k.interpolation === o.interpolation &&
    k.lenientStrings === o.lenientStrings &&
    k.emptyOptionalKeys === o.emptyOptionalKeys &&
    k.runwiseOnlyKeys === o.runwiseOnlyKeys
  );
}

/** The findings kept for `pair` (or for the entry it is a shifted copy of, shifted), if they still hold. */
function keptFindings(pair: YamlPair, schema: SchemaNode, depth: number, o: ValidationOptions): AnalysisDiagnostic[] | undefined {
  const own = entryFindings.get(pair);
  if (own) return sameValidation(own, schema, depth, o) ? own.list : undefined;
  const original = shiftedFrom(pair, hasEntryFindings);
  const k = original && entryFindings.get(original);
  if (!original || !k || !sameValidation(k, schema, depth, o)) return undefined;
  // Every finding lies in the entry; one that does not is not shifted blindly.
  if (!k.list.every((d) => d.start >= original.start && d.end <= original.end)) return undefined;
  const delta = pair.start - original.start;
  const list = k.list.map((d) => ({ ...d, start: d.start + delta, end: d.end + delta }));
  entryFindings.set(pair, { ...k, list });
  return list;
}

export function validateAgainstSchema(root: YamlNode | null, schema: SchemaNode, options: ValidationOptions): AnalysisDiagnostic[] {
  const out: AnalysisDiagnostic[] = [];
  let visited = 0;
  const visit = (node: YamlNode | null, s: SchemaNode, depth: number, owner: Span | undefined): boolean => {
    if ((++visited & 1023) === 0 && options.cancelled()) return false;
    if (s.any || depth > 200) return true;
    if (node === null) {
      if (!accepts(s, 'null')) out.push(diag(owner ?? null, 'wrong-type', `Expected ${describeExpected(s)}.`));
      return true;
    }
    if (node.kind === 'alias') {
      const target = deref(node);
      if (target) checkKind(target, node, s);
      return true;
    }
    if (node.kind === 'scalar') return checkScalar(node, s), true;
    if (node.kind === 'seq') {
      if (!s.seq) return wrongKind(node, s), true;
      return visitSeq(node, s, depth);
    }
    if (!s.map) return wrongKind(node, s), true;
    return visitMap(node, s.map, depth, owner);
  };

  const visitSeq = (seq: YamlSeq, s: SchemaNode, depth: number): boolean => {
    const itemSchema = s.seq!.items;
    const seen = s.seq!.unique ? new Map<string, true>() : undefined;
    for (const item of seq.items) {
      if (item === null || (item.kind === 'scalar' && item.value === null && !accepts(itemSchema, 'null'))) {
        if (options.emptyOptionalKeys) out.push(droppedItem(item ?? seq, item !== null));
        else if (item !== null) checkScalar(item, itemSchema);
        continue;
      }
      if (!visit(item, itemSchema, depth + 1, item)) return false;
      if (seen && item.kind === 'scalar' && item.value !== null) {
        const k = String(item.value);
        if (seen.has(k)) out.push({ ...span(item), severity: 'warning', code: 'duplicate-entry', message: `'${k}' is listed twice.` });
        else seen.set(k, true);
      }
    }
    return true;
  };

  const visitMap = (map: YamlMap, declared: MapSchema, depth: number, owner: Span | undefined): boolean => {
    const ownerSpan = owner && owner.end <= map.start ? owner : { start: map.start, end: firstLineEnd(map) };
    const keys = presentKeys(map);
    const ms = effectiveMapSchema(declared, keys);
    for (const pair of map.items) {
      const key = keyName(pair);
      // A YAML merge brings in keys checked where their anchor is written (presentKeys counts them).
      if (key === MERGE_KEY && mergedMaps(pair.value)) continue;
      const prop = propertyOf(ms, key);
      if (!prop) {
        reportUnknownKey(pair.key, key, ms, Object.keys(ms.properties));
        continue;
      }
      if (options.emptyOptionalKeys && isEmptyValue(pair.value)) {
        if (!ms.required?.includes(key)) continue;
        // A required key left empty is read as not given (huggingface_hub drops it when it writes the card back).
        if (prop.schema.any) {
          out.push({ ...span(pair.key), severity: 'error', code: 'missing-value', message: `Required key '${key}' is empty: give it a value.`, data: { key } });
          continue;
        }
      }
      if (prop.declared && prop.schema.deprecated) {
        out.push({ ...span(pair.key), severity: 'warning', code: 'deprecated-key', message: `'${key}' is deprecated: ${prop.schema.deprecated}` });
      }
      if (depth > KEPT_FINDINGS_DEPTH) {
        if (!visit(pair.value, prop.schema, depth + 1, pair.key)) return false;
        continue;
      }
      const kept = keptFindings(pair, prop.schema, depth, options);
      if (kept) {
        for (const d of kept) out.push({ ...d });
        continue;
      }
      const first = out.length;
      if (!visit(pair.value, prop.schema, depth + 1, pair.key)) return false;
      const { interpolation, lenientStrings, emptyOptionalKeys, runwiseOnlyKeys } = options;
      const list = out.slice(first).map((d) => ({ ...d }));
      entryFindings.set(pair, { schema: prop.schema, depth, interpolation, lenientStrings, emptyOptionalKeys, runwiseOnlyKeys, list });
    }
    for (const req of ms.required ?? []) {
      if (!keys.has(req)) {
        out.push({
          ...span(ownerSpan),
          severity: 'error',
          code: 'missing-key',
          message: `Missing required key '${req}'.${ms.requiredHints?.[req] ? ` ${ms.requiredHints[req]}` : ''}`,
          data: { key: req, mapping: mappingExtent(map, ownerSpan) },
        });
      }
    }
    for (const group of ms.exclusive ?? []) {
      const present = group.keys.filter((k) => keys.has(k));
      if (present.length > 1) {
        for (const pair of map.items) {
          const k = keyName(pair);
          if (present.indexOf(k) > 0) {
            out.push({
              ...span(pair.key),
              severity: 'error',
              code: 'conflicting-keys',
              message: `'${k}' cannot be used together with '${present[0]}': a stage has exactly one of ${group.keys.map((x) => `'${x}'`).join(', ')}.`,
            });
          }
        }
      } else if (present.length === 0 && group.required) {
        out.push({
          ...span(ownerSpan),
          severity: 'error',
          code: 'missing-key',
          message: group.keys.length === 1 ? `Missing required key '${group.keys[0]}'.` : `Missing one of ${group.keys.map((x) => `'${x}'`).join(', ')}.`,
          data: { key: group.keys[0], mapping: mappingExtent(map, ownerSpan) },
        });
      }
    }
    return true;
  };

  const reportUnknownKey = (keyNode: YamlScalar, key: string, ms: MapSchema, known: string[]) => {
    const mode = ms.unknownKeys ?? 'error';
    const suggestion = didYouMean(key, known);
    if (mode === 'suggest' && (suggestion === undefined || suggestion === key)) return;
    if (options.runwiseOnlyKeys?.has(key) && !known.includes(key)) {
      out.push({
        ...span(keyNode),
        severity: 'error',
        code: 'unknown-key',
        message: `'${key}' is a Runwise built-in and is not allowed in dvc.yaml; use it in runwise.yaml or a *.pipeline.yaml.`,
      });
      return;
    }
    out.push({
      ...span(keyNode),
      severity: mode === 'error' ? 'error' : 'warning',
      code: 'unknown-key',
      message: suggestion ? `Unknown key '${key}'. Did you mean '${suggestion}'?` : `Unknown key '${key}'. Expected one of: ${known.join(', ')}.`,
      data: suggestion ? { suggestion } : undefined,
    });
  };

  const checkKind = (target: YamlNode, at: YamlNode, s: SchemaNode) => {
    if (s.any) return;
    if (target.kind === 'scalar') return checkScalar(target, s, at);
    if ((target.kind === 'seq' && !s.seq) || (target.kind === 'map' && !s.map)) wrongKind(at, s);
  };

  const checkScalar = (node: YamlScalar, s: SchemaNode, at: YamlNode = node) => {
    const v = node.value;
    if (typeof v === 'string' && (options.interpolation || s.interpolated) && isWholeInterpolation(v) && (s.scalar || s.seq || s.map)) return;
    const sc = s.scalar;
    if (!sc) return wrongKind(at, s);
    const type = scalarType(v);
    if (!sc.types.some((t) => typeMatches(t, type, v, options.lenientStrings))) {
      if (v === null && node.source.trim() === '' && (s.seq || s.map)) return void out.push(diag(at, 'wrong-type', `Expected ${describeExpected(s)}.`));
      return void out.push(diag(at, 'wrong-type', `Expected ${describeExpected(s)}, not ${describeValueType(type)}.`));
    }
    // Cards are read by PyYAML (huggingface_hub), which follows YAML 1.1: `no`, `on`, `yes`, `off`
    // unquoted are booleans there (Norwegian's `language: no` becomes False), text in YAML 1.2.
    if (options.lenientStrings && node.style === 'plain' && typeof v === 'string' && YAML11_BOOLEAN.test(v) && !sc.types.includes('boolean'))
      out.push({
        ...diag(at, 'yaml11-boolean', `PyYAML (YAML 1.1, as huggingface_hub and yaml.safe_load read cards) reads unquoted '${v}' as ${/^(yes|on)$/i.test(v) ? 'true' : 'false'}, not as text: quote it ("${v}").`),
        severity: 'warning',
      });
    checkEnum(node, sc, at);
    checkRange(node, sc, at);
    // A value with a `${...}` in it (`${env}-champion`) is checked as the run resolves it, not as written.
    const interpolated = typeof v === 'string' && (options.interpolation || s.interpolated) && v.includes('${');
    const problem = typeof v === 'string' && !interpolated ? sc.problem?.(v) : undefined;
    if (problem) out.push(diag(at, 'invalid-value', problem));
  };

  const checkRange = (node: YamlScalar, sc: ScalarSchema, at: YamlNode) => {
    const v = node.value;
    if (typeof v !== 'number' || (sc.min === undefined && sc.max === undefined)) return;
    if ((sc.min === undefined || v >= sc.min) && (sc.max === undefined || v <= sc.max)) return;
    const range = sc.min !== undefined && sc.max !== undefined ? `from ${sc.min} to ${sc.max}` : sc.min !== undefined ? `of at least ${sc.min}` : `of at most ${sc.max}`;
    out.push(diag(at, 'out-of-range', `Expected a number ${range}, not ${v}.`));
  };

  const checkEnum = (node: YamlScalar, sc: ScalarSchema, at: YamlNode) => {
    if (!sc.enum || node.value === null) return;
    if (sc.enum.includes(node.value as string)) return;
    const value = String(node.value);
    if (typeof node.value !== 'string' && sc.enum.includes(value)) return;
    // `op: >=` unquoted: YAML reads `>` as the start of a folded block of text, not as the value.
    if (node.style === 'folded' || node.style === 'literal') {
      const mark = node.style === 'folded' ? '>' : '|';
      const meant = sc.enum.map(String).filter((e) => e.startsWith(mark));
      out.push(diag(at, 'invalid-value', `Unquoted, '${mark}' starts a YAML block of text here, not a value: quote it${meant.length ? ` (${meant.map((e) => `'${e}'`).join(' or ')})` : ''}.`));
      return;
    }
    const suggestion = didYouMean(value, sc.enum.map(String));
    const listed = sc.enum.length <= 12 ? ` Expected one of: ${sc.enum.join(', ')}.` : '';
    out.push({
      ...span(at),
      severity: sc.openEnum ? 'warning' : 'error',
      code: sc.hint === 'license' ? 'unknown-license' : sc.openEnum ? 'unknown-value' : 'invalid-value',
      message:
        (sc.hint === 'license' ? `Unknown license id '${value}'.` : `'${value}' is not ${sc.openEnum ? 'a known' : 'an allowed'} value.`) +
        (suggestion ? ` Did you mean '${suggestion}'?` : listed),
      data: suggestion ? { suggestion } : undefined,
    });
  };

  const wrongKind = (node: YamlNode, s: SchemaNode) => {
    const what = node.kind === 'seq' ? 'a list' : node.kind === 'map' ? 'a mapping' : node.kind === 'scalar' ? describeValueType(scalarType(node.value)) : 'this value';
    out.push(diag(node, 'wrong-type', `Expected ${describeExpected(s)}, not ${what}.${placeholderHint(node)}`));
  };

  visit(root, schema, 0, undefined);
  return out;
}

/**
 * Where the mapping a missing key belongs in lies, from the finding's own start (so that it holds
 * when kept findings are moved with their entry): see nearSyntaxError.
 */
function mappingExtent(map: YamlMap, at: Span): [number, number] {
  return [map.start - at.start, map.end - at.start];
}

/**
 * Whether a missing-key finding's mapping holds a syntax error (its first line's indentation
 * included) or ends on the line before one (the parser cut it there: the key it lacks is likely on
 * the next lines), in `text`'s offsets.
 */
export function nearSyntaxError(d: AnalysisDiagnostic, errorStarts: readonly number[], text: string): boolean {
  const mapping = (d.data as { mapping?: [number, number] } | undefined)?.mapping;
  if (!mapping) return false;
  // From the start of the mapping's first line (an error may stand in its indentation).
  const start = text.lastIndexOf('\n', d.start + mapping[0] - 1) + 1;
  let end = d.start + mapping[1];
  // Through the end of the line after the mapping's last.
  for (let lines = 0; lines < 2 && end < text.length; end++) if (text.charCodeAt(end) === 10) lines++;
  return errorStarts.some((e) => e >= start && e <= end);
}

/**
 * After a wrong-type message, a flow mapping that is a template's placeholder left unfilled
 * (`{license}`; `{{ model_id }}`, whose one key is the inner mapping, kept as its text) said as
 * such; '' for any other value.
 */
function placeholderHint(node: YamlNode): string {
  if (node.kind !== 'map' || !node.flow || node.items.length !== 1) return '';
  const only = node.items[0]!;
  const name = only.value === null && only.key.style === 'plain' ? /^(?:\{\s*)?([\w.-]+)(?:\s*\})?$/.exec(only.key.source)?.[1] : undefined;
  if (!name) return '';
  return ` A template placeholder left unfilled (${only.key.source.startsWith('{') ? `{{ ${name} }}` : `{${name}}`} is a mapping in YAML)? Fill it in, or quote it.`;
}

/** The booleans of YAML 1.1 (PyYAML's resolver) that YAML 1.2 reads as text. */
const YAML11_BOOLEAN = /^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$/;

type ValueType = 'string' | 'integer' | 'float' | 'boolean' | 'null';

function scalarType(v: string | number | boolean | null): ValueType {
  if (v === null) return 'null';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  return Number.isInteger(v) ? 'integer' : 'float';
}

function typeMatches(t: string, type: ValueType, _v: unknown, lenientStrings: boolean): boolean {
  switch (t) {
    case 'string':
      return type === 'string' || (lenientStrings && type !== 'null');
    case 'number':
      return type === 'integer' || type === 'float';
    case 'integer':
      return type === 'integer';
    case 'boolean':
      return type === 'boolean';
    case 'null':
      return type === 'null';
  }
  return false;
}

/** No value, `null`, `~` or an empty string. */
function isEmptyValue(node: YamlNode | null): boolean {
  return node === null || (node.kind === 'scalar' && (node.value === null || node.value === ''));
}

function accepts(s: SchemaNode, t: 'null'): boolean {
  return !!s.any || !!s.scalar?.types.includes(t);
}

function describeValueType(t: ValueType): string {
  return t === 'float' ? 'a number' : t === 'integer' ? 'a number' : t === 'null' ? 'an empty value' : `a ${t}`;
}

/** A null item in card list metadata, which the Hub drops (see `emptyOptionalKeys`). */
function droppedItem(at: Span, written: boolean): AnalysisDiagnostic {
  return {
    ...span(at),
    severity: 'warning',
    code: 'empty-list-item',
    message: `${written ? 'This null item' : 'An empty item'} is dropped by the Hugging Face Hub; remove it.`,
  };
}

function span(node: { start: number; end: number }): { start: number; end: number } {
  return { start: node.start, end: node.end };
}

function diag(node: Span | null, code: string, message: string): AnalysisDiagnostic {
  return { start: node?.start ?? 0, end: node?.end ?? 0, severity: 'error', code, message };
}

/** A map's first line (its first key), for "missing key" ranges that do not cover the whole block. */
function firstLineEnd(map: YamlMap): number {
  const first = map.items[0];
  return first ? first.key.end : map.end;
}
