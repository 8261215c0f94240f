/**
 * YAML text → YamlDocument (see yamlTree.ts). Never throws. The entry point of the parser, in layers:
 * - yamlPackageTree.ts: the `yaml` package's parseDocument (source tokens kept) converted into the
 *   tree: the reference, and the parser for whatever the fast path leaves alone (errors, tags,
 *   multi-line flow...);
 * - fastParser.ts (with fastScanner.ts): a hand-written parser for the YAML configuration files are
 *   made of, about 15–20× faster, which must give the same tree as the conversion whenever it
 *   accepts a text;
 * - blocks: the document is cut into top-level entries (and the entries of a big `stages:`-like
 *   mapping; blockPlanner.ts), each parsed alone (blockParse.ts) and assembled (blockAssembly.ts),
 *   which YamlDocumentCache (incrementalYaml.ts) uses to re-parse only what an edit touched. See
 *   bench/README.md, "YAML parsing", for the measurements.
 *
 * Post-passes shared by all paths (treePasses.ts): aliases linked to anchors, 'duplicate-key' on
 * later occurrences, 'alias-limit' when aliases would expand beyond ALIAS_NODE_LIMIT /
 * ALIAS_TOTAL_LIMIT nodes, 'unknown-alias', and 'nesting-limit' beyond MAX_NESTING levels. Plain
 * scalars resolve by the YAML 1.2 core schema (plainScalars.ts).
 *
 * Where PyYAML (what DVC and huggingface_hub read YAML with) accepts what strict YAML 1.2 rejects,
 * the tree holds PyYAML's reading (see pyyamlCompat.ts): lone CRs are line breaks on every path,
 * and a multi-line quoted scalar whose continuation lines are not indented more than its key is
 * read whole, with a 'yaml-compat' warning; the planner never cuts a block inside one.
 */
import { computeLineStarts } from '../text/lineIndex';
import type { YamlDocument, YamlNode } from './yamlTree';
import { assembleDocument } from './blockAssembly';
import { parseFast } from './fastParser';
import { parseWithYamlLib, type LibResult } from './yamlPackageTree';
import { checkAliasLimits, finishTree, hasRefs, sortErrors } from './treePasses';

export { assembleDocument };
export type { IncrementalState, ParseStats } from './blockParse';

/**
 * Parses a YAML document. Never throws. The text is split into blocks where that is safe (see
 * planBlocks): each top-level entry, and each entry of a top-level `key:` whose value is a block
 * mapping (say `stages:`), is parsed on its own by the fast parser, or by the `yaml` package when the
 * fast parser gives up; the blocks are then assembled into one tree. YamlDocumentCache reuses the
 * blocks of the previous version, which gives exactly this result.
 */
export function parseYaml(text: string): YamlDocument {
  try {
    return assembleDocument(text, null, undefined, false).doc;
  } catch (e) {
    // Not expected; a last resort so that parsing never throws.
    return {
      text,
      root: null,
      errors: [{ start: 0, end: text.length, code: 'yaml-syntax', message: `YAML parser failure: ${(e as Error).message}` }],
      lineStarts: computeLineStarts(text),
    };
  }
}

/** For tests: the two whole-text parsers, without post-passes. */
export const __testing = {
  lib: (text: string): LibResult => parseWithYamlLib(text),
  /** The whole text through the `yaml` package and the post-passes: what parseYaml must match on valid YAML. */
  reference: (text: string): YamlDocument => {
    const r = parseWithYamlLib(text);
    const errors = r.errors;
    const facts = finishTree(r.root, errors, hasRefs(text), true);
    checkAliasLimits([facts], errors, true);
    sortErrors(errors);
    return { text, root: r.root, errors, lineStarts: computeLineStarts(text) };
  },
  fast: (text: string): { root: YamlNode | null } | null => parseFast(text, 0, text.length),
};
