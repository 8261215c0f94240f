/**
 * Passes over a parsed tree shared by every parsing path, and the limits they enforce: aliases
 * linked to the closest preceding anchor, 'duplicate-key' on later occurrences of a key,
 * 'collection-key' on a mapping used as a key,
 * 'alias-limit' when aliases would expand beyond ALIAS_NODE_LIMIT / ALIAS_TOTAL_LIMIT nodes,
 * 'unknown-alias', errors in document order, and MAX_NESTING, the depth beyond which a text is not
 * parsed at all ('nesting-limit', checked before parsing by tooDeep).
 *
 * Relies only on the tree types (yamlTree.ts) and charCodes.ts.
 */
import type { YamlAlias, YamlNode, YamlPair, YamlScalar, YamlSyntaxError } from './yamlTree';
import { CH_COLON, CH_DASH, CH_NL, CH_SP } from './charCodes';

/** Expansion budget: an alias whose target expands to more nodes than this is an 'alias-limit' error. */
export const ALIAS_NODE_LIMIT = 10_000;
/** Budget for the whole document: the nodes all aliases together expand to. */
export const ALIAS_TOTAL_LIMIT = 100_000;

/** Whether `text` may hold anchors or aliases (when not, finishTree skips the anchor work). */
export function hasRefs(text: string): boolean {
  return text.indexOf('&') >= 0 || text.indexOf('*') >= 0;
}

/** What one parsed piece of a document (the whole of it, or one block) knows after its post-pass. */
export interface TreeFacts {
  /** Aliases in document order, each linked to the closest preceding anchor of its name (or null). */
  aliases: YamlAlias[];
  /** Expanded node count of each alias's target (Infinity for a cycle), parallel to `aliases`. */
  aliasCost: number[];
  /** Aliases whose anchor was not found in this piece. */
  unresolved: number;
}

/**
 * One pre-order walk in document order: links aliases to anchors, reports duplicate keys in every
 * mapping, and computes each alias's expansion cost (memoised sizes, so a billion-laughs document
 * costs one pass over its own nodes). `hasRefs` false skips the anchor work.
 */
export function finishTree(root: YamlNode | null, errors: YamlSyntaxError[], hasRefs: boolean, rootDup = true): TreeFacts {
  const facts: TreeFacts = { aliases: [], aliasCost: [], unresolved: 0 };
  if (!root) return facts;
  if (!hasRefs) {
    dupWalk(root, errors, rootDup);
    return facts;
  }
  const anchors = new Map<string, YamlNode>();
  const size = new Map<YamlNode, number>();
  const walk = (n: YamlNode): number => {
    if (n.kind === 'alias') {
      const t = anchors.get(n.name) ?? null;
      n.target = t;
      let cost = 0;
      if (t) {
        const s = size.get(t);
        cost = s === undefined ? Infinity : s; // undefined: the target encloses the alias (a cycle)
      } else facts.unresolved++;
      facts.aliases.push(n);
      facts.aliasCost.push(cost);
      return cost;
    }
    if (n.anchor !== undefined) anchors.set(n.anchor, n);
    let total = 1;
    if (n.kind === 'map') {
      let seen: Map<unknown, true> | null = null;
      const items = n.items;
      for (let i = 0; i < items.length; i++) {
        const p = items[i]!;
        if (i > 0 && (rootDup || n !== root)) {
          if (!seen) {
            seen = new Map();
            seen.set(items[0]!.key.value, true);
          }
          if (seen.has(p.key.value)) errors.push(dupError(p.key));
          else seen.set(p.key.value, true);
        }
        checkKey(p.key, errors);
        total += walk(p.key);
        if (p.value) total += walk(p.value);
      }
    } else if (n.kind === 'seq') {
      for (const it of n.items) if (it) total += walk(it);
    }
    size.set(n, total);
    return total;
  };
  walk(root);
  return facts;
}

function dupError(key: YamlScalar): YamlSyntaxError {
  return {
    start: key.start,
    end: key.end,
    code: 'duplicate-key',
    message: `Duplicate key ${JSON.stringify(key.value === null ? null : String(key.value))} in this mapping`,
  };
}

/**
 * 'collection-key' on a key that is a flow mapping (`{model_id}: value`, a template's placeholder
 * left unfilled): YAML allows it, PyYAML (huggingface_hub) and ruamel.yaml's safe loader (DVC)
 * refuse the document ("found unhashable key"). A list key is left alone: ruamel.yaml makes it a
 * tuple. A plain scalar cannot start with `{`, so such a key's source does.
 */
function checkKey(key: YamlScalar, errors: YamlSyntaxError[]): void {
  if (key.style !== 'plain' || key.source.charCodeAt(0) !== 0x7b) return;
  errors.push({
    start: key.start,
    end: key.end,
    code: 'collection-key',
    message: `A mapping as a key (${key.source.length > 40 ? `${key.source.slice(0, 40)}…` : key.source}): PyYAML and ruamel.yaml, which huggingface_hub and DVC read YAML with, refuse the file (found unhashable key). A template placeholder left unfilled? Fill it in, or quote the key.`,
  });
}

function dupWalk(n: YamlNode, errors: YamlSyntaxError[], check = true): void {
  if (n.kind === 'map') {
    const items = n.items;
    if (check) checkDuplicates(items, errors);
    for (const p of items) checkKey(p.key, errors);
    for (const p of items) if (p.value && p.value.kind !== 'scalar') dupWalk(p.value, errors);
  } else if (n.kind === 'seq') {
    for (const it of n.items) if (it && it.kind !== 'scalar') dupWalk(it, errors);
  }
}

/** 'duplicate-key' on the second and later occurrences of a key among `items`. */
export function checkDuplicates(items: readonly YamlPair[], errors: YamlSyntaxError[]): void {
  if (items.length < 2) return;
  const seen = new Map<unknown, true>();
  for (const p of items) {
    if (seen.has(p.key.value)) errors.push(dupError(p.key));
    else seen.set(p.key.value, true);
  }
}

/** Document-level alias checks over the aliases of all pieces, in document order. */
export function checkAliasLimits(pieces: readonly TreeFacts[], errors: YamlSyntaxError[], reportUnresolved: boolean): void {
  let total = 0;
  let reported = false;
  for (const f of pieces) {
    for (let i = 0; i < f.aliases.length; i++) {
      const a = f.aliases[i]!;
      const cost = f.aliasCost[i]!;
      if (reportUnresolved && a.target === null) {
        errors.push({ start: a.start, end: a.end, code: 'unknown-alias', message: `Unknown alias *${a.name}: no anchor &${a.name} before it` });
      }
      total += cost;
      if (!reported && (cost > ALIAS_NODE_LIMIT || total > ALIAS_TOTAL_LIMIT)) {
        reported = true;
        errors.push({
          start: a.start,
          end: a.end,
          code: 'alias-limit',
          message:
            cost === Infinity
              ? `Alias *${a.name} refers to a node that contains it: expanding it never ends`
              : `Aliases expand to too many nodes (${cost > ALIAS_NODE_LIMIT ? `*${a.name} alone stands for ${cost}` : `over ${ALIAS_TOTAL_LIMIT} in total`}); not expanded`,
        });
      }
    }
  }
}

/** Follows an alias to the node it stands for (through alias chains, at most `budget` steps). */
export function resolveAlias(node: YamlNode | null, budget = 100): YamlNode | null {
  let n = node;
  let steps = 0;
  while (n && n.kind === 'alias') {
    if (steps++ >= budget) return null;
    n = n.target;
  }
  return n;
}

export function sortErrors(errors: YamlSyntaxError[]): void {
  errors.sort(
    (a, b) =>
      a.start - b.start ||
      a.end - b.end ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
}

/** Deepest nesting parsed at all: deeper documents would exhaust the stack of any recursive parser. */
export const MAX_NESTING = 400;

/**
 * Whether `t` may nest deeper than MAX_NESTING (an over-estimate: flow brackets open at once, plus
 * the spaces and `-`/`?`/`:` indicators at the start of a line). One pass over the characters.
 */
export function tooDeep(t: string): boolean {
  if (t.length < MAX_NESTING) return false;
  let flow = 0;
  let maxFlow = 0;
  let lineDepth = 0;
  let maxLine = 0;
  let atLineStart = true;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === CH_NL) {
      atLineStart = true;
      lineDepth = 0;
      continue;
    }
    if (c === 91 || c === 123) {
      if (++flow > maxFlow) maxFlow = flow;
    } else if (c === 93 || c === 125) {
      if (flow > 0) flow--;
    }
    if (atLineStart) {
      if (c === CH_SP || c === CH_DASH || c === 63 || c === CH_COLON || c === 9) {
        if (++lineDepth > maxLine) maxLine = lineDepth;
      } else atLineStart = false;
    }
  }
  return maxFlow + maxLine > MAX_NESTING;
}
