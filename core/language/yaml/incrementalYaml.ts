/**
 * Parsed YAML documents kept per URI for the language server, updated on every edit by reusing
 * the previous version's blocks (see blockAssembly.ts): only the blocks that overlap the change are
 * parsed again, the ones after it are shifted. The result is always exactly parseYaml(text).
 *
 * Like VS Code's JSON server (languageModelCache), it keeps the latest version of at most
 * `maxEntries` documents, least recently used evicted first.
 */
import { assembleDocument, parseYaml, type IncrementalState, type ParseStats } from './parseYaml';
import type { TextEdit } from '../text/textEdit';
import type { YamlDocument } from './yamlTree';

/** What the analysis takes over after an edit by (see blockParse.ts). */
export { copiedNode, SHIFT_LINKS, shiftedFrom } from './blockParse';

interface Entry {
  version: number;
  doc: YamlDocument;
  state: IncrementalState;
}

export class YamlDocumentCache {
  private readonly entries = new Map<string, Entry>();
  /** What the last update did (blocks parsed, reused, shifted), for benchmarks and tests. */
  lastStats: ParseStats | null = null;

  constructor(private readonly maxEntries = 16) {}

  /** The parsed document for this uri and version, if it is the cached one. */
  get(uri: string, version: number): YamlDocument | undefined {
    const e = this.entries.get(uri);
    if (!e || e.version !== version) return undefined;
    this.touch(uri, e);
    return e.doc;
  }

  /**
   * The parsed `text` (version `version` of `uri`). `changes`, when given, are the edits from the
   * cached version to this one; they only narrow where to look for the change and are verified.
   */
  update(uri: string, version: number, text: string, changes?: readonly TextEdit[]): YamlDocument {
    const e = this.entries.get(uri);
    if (e && e.version === version && e.doc.text === text) {
      this.touch(uri, e);
      this.lastStats = { parsed: 0, reused: 0, shifted: 0, whole: false };
      return e.doc;
    }
    const prev = e?.state ?? null;
    const hint = prev && changes ? hintFromChanges(prev.text.length, text.length, changes) : undefined;
    let entry: Entry;
    try {
      const r = assembleDocument(text, prev, hint);
      this.lastStats = r.stats;
      entry = { version, doc: r.doc, state: r.state };
    } catch {
      // Not expected: parse from scratch, as parseYaml does (it never throws), and keep nothing to reuse.
      const doc = parseYaml(text);
      this.lastStats = { parsed: 1, reused: 0, shifted: 0, whole: true };
      entry = { version, doc, state: { text, lineStarts: doc.lineStarts, lfLines: false, blocks: new Map(), whole: null } };
    }
    this.entries.delete(uri);
    this.entries.set(uri, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return entry.doc;
  }

  delete(uri: string): void {
    this.entries.delete(uri);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private touch(uri: string, e: Entry): void {
    this.entries.delete(uri);
    this.entries.set(uri, e);
  }
}

/** Unchanged prefix and suffix lengths implied by a sequence of changes; undefined if they do not add up. */
export function hintFromChanges(oldLength: number, newLength: number, changes: readonly TextEdit[]): { prefix: number; suffix: number } | undefined {
  let len = oldLength;
  let prefix = oldLength;
  let suffix = oldLength;
  for (const c of changes) {
    if (!(c.start >= 0 && c.start <= c.end && c.end <= len)) return undefined;
    prefix = Math.min(prefix, c.start);
    suffix = Math.min(suffix, len - c.end);
    len += c.text.length - (c.end - c.start);
  }
  if (len !== newLength) return undefined;
  const max = Math.min(oldLength, newLength);
  prefix = Math.min(prefix, max);
  return { prefix, suffix: Math.max(0, Math.min(suffix, max - prefix)) };
}
