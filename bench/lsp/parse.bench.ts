/**
 * YAML parsing strategies for the language server, on generated dvc.yaml files of 10,000 and 50,000
 * lines: the `yaml` package's parseDocument, tree-sitter-yaml through web-tree-sitter (full parse and
 * incremental reparse after an edit), Runwise's parseYaml (block split + fast parser) and its
 * incremental YamlDocumentCache, and nodeAtOffset. Medians over repeats; prints a Markdown table.
 *
 *   node --no-warnings --import tsx bench/lsp/parse.bench.ts [lines...]
 *
 * Without arguments, 10,000 and 50,000 lines, each in a fresh process.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseDocument } from 'yaml';
import { Edit, Language, Parser, type Tree } from 'web-tree-sitter';
import { YamlDocumentCache } from '../../core/language/yaml/incrementalYaml';
import { findPath, nodeAtOffset } from '../../core/language/yaml/nodeAt';
import { parseYaml } from '../../core/language/yaml/parseYaml';
import { fmt, median, samples, timeMs } from '../stats';
import { generateDvcYaml } from './generateDvcYaml';

const root = path.resolve(__dirname, '..', '..');

// A full collection between sections, so that one section's garbage is not collected in the next one's time.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

interface Row {
  what: string;
  values: Record<number, string>;
}

/** An edit inside a stage in the middle of the file: insert one character, then remove it again. */
function editAt(text: string): number {
  const at = text.indexOf('python src/train.py', Math.floor(text.length / 2));
  return at + 'python src/'.length;
}

function pointAt(text: string, index: number): { row: number; column: number } {
  let row = 0;
  let last = -1;
  for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) {
    row++;
    last = i;
  }
  return { row, column: index - last - 1 };
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  if (sizes.length === 0) {
    // Each size in a fresh process, so that one size's heap does not slow the next one down.
    const all = [10_000, 50_000];
    const rows: Row[] = [];
    for (const lines of all) {
      const out = execFileSync(process.execPath, [...process.execArgv, __filename, String(lines), '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      for (const r of JSON.parse(out) as Row[]) {
        const have = rows.find((x) => x.what === r.what);
        if (have) Object.assign(have.values, r.values);
        else rows.push(r);
      }
    }
    printTable(all, rows);
    return;
  }
  const rows = await measure(sizes);
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(rows));
  else printTable(sizes, rows);
}

function printTable(lineCounts: number[], rows: Row[]): void {
  console.log(`| what | ${lineCounts.map((n) => `${n.toLocaleString('en-US')} lines`).join(' | ')} |`);
  console.log(`|---|${lineCounts.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.what} | ${lineCounts.map((n) => r.values[n] ?? '—').join(' | ')} |`);
}

async function measure(lineCounts: number[]): Promise<Row[]> {
  await Parser.init();
  const yamlLang = await Language.load(path.join(root, 'node_modules/@tree-sitter-grammars/tree-sitter-yaml/tree-sitter-yaml.wasm'));
  const rows: Row[] = [];
  const put = (what: string, lines: number, value: string): void => {
    let r = rows.find((x) => x.what === what);
    if (!r) rows.push((r = { what, values: {} }));
    r.values[lines] = value;
  };

  for (const lines of lineCounts) {
    const text = generateDvcYaml(lines);
    const at = editAt(text);
    const edited = text.slice(0, at) + 'x' + text.slice(at);
    const big = lines >= 50_000;
    console.error(`# ${lines} lines, ${text.length} chars`);

    // (a) the yaml package.
    put('`yaml` parseDocument (full parse)', lines, `${fmt(median(samples(big ? 5 : 11, () => parseDocument(text))))} ms`);

    collect();
    // (b) tree-sitter.
    const parser = new Parser();
    parser.setLanguage(yamlLang);
    put('tree-sitter full parse', lines, `${fmt(median(samples(big ? 5 : 11, () => parser.parse(text)!.delete())))} ms`);
    const p0 = pointAt(text, at);
    const tsIncremental: number[] = [];
    const tsWalk: number[] = [];
    let tree: Tree = parser.parse(text)!;
    let cur = text;
    for (let i = 0; i < 40; i++) {
      const insert = cur === text;
      const next = insert ? edited : text;
      const t0 = process.hrtime.bigint();
      tree.edit(
        new Edit({
          startIndex: at,
          oldEndIndex: insert ? at : at + 1,
          newEndIndex: insert ? at + 1 : at,
          startPosition: p0,
          oldEndPosition: insert ? p0 : { row: p0.row, column: p0.column + 1 },
          newEndPosition: insert ? { row: p0.row, column: p0.column + 1 } : p0,
        }),
      );
      const nt = parser.parse(next, tree)!;
      tsIncremental.push(Number(process.hrtime.bigint() - t0) / 1e6);
      tree.delete();
      tree = nt;
      cur = next;
      // What any consumer of the CST pays to get our tree out of it: one walk over every node.
      tsWalk.push(
        timeMs(() => {
          const c = tree.walk();
          let n = 0;
          for (;;) {
            n++;
            if (c.gotoFirstChild()) continue;
            while (!c.gotoNextSibling()) if (!c.gotoParent()) return n;
          }
        }),
      );
    }
    tree.delete();
    parser.delete();
    put('tree-sitter incremental reparse after a 1-char edit (`tree.edit` + `parse(text, oldTree)`)', lines, `${fmt(median(tsIncremental), 2)} ms`);
    put('tree-sitter: one TreeCursor walk over the new tree (converting it costs at least this)', lines, `${fmt(median(tsWalk))} ms`);

    // (c) Runwise: parseYaml (blocks + fast parser) and the incremental cache.
    collect();
    put('Runwise `parseYaml` (full parse)', lines, `${fmt(median(samples(big ? 15 : 31, () => parseYaml(text))))} ms`);
    collect();
    const cache = new YamlDocumentCache();
    cache.update('file:///dvc.yaml', 0, text);
    const inc: number[] = [];
    const incNoHint: number[] = [];
    let version = 0;
    let stats = '';
    for (let i = 0; i < 100; i++) {
      const insert = i % 2 === 0;
      const next = insert ? edited : text;
      const change = insert ? { start: at, end: at, text: 'x' } : { start: at, end: at + 1, text: '' };
      inc.push(timeMs(() => cache.update('file:///dvc.yaml', ++version, next, [change])));
      if (i === 0) stats = JSON.stringify(cache.lastStats);
    }
    for (let i = 0; i < 50; i++) {
      const next = i % 2 === 0 ? edited : text;
      incNoHint.push(timeMs(() => cache.update('file:///dvc.yaml', ++version, next)));
    }
    // Worst case: an edit in the first stage, so that every block after it moves.
    const first = text.indexOf('python src/prepare.py') + 7;
    const editedFirst = text.slice(0, first) + 'x' + text.slice(first);
    const incFirst: number[] = [];
    cache.update('file:///dvc.yaml', ++version, text);
    for (let i = 0; i < 50; i++) {
      const insert = i % 2 === 0;
      const change = insert ? { start: first, end: first, text: 'x' } : { start: first, end: first + 1, text: '' };
      incFirst.push(timeMs(() => cache.update('file:///dvc.yaml', ++version, insert ? editedFirst : text, [change])));
    }
    console.error(`  incremental update: ${stats}`);
    const p90 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;
    put('Runwise `YamlDocumentCache.update` after a 1-char edit inside a stage (with the change)', lines, `${fmt(median(inc), 2)} ms (p90 ${fmt(p90(inc))})`);
    put('the same without the change (prefix/suffix found by comparing texts)', lines, `${fmt(median(incNoHint), 2)} ms`);
    put('the same in the first stage (every later block shifted: the worst case)', lines, `${fmt(median(incFirst), 2)} ms (p90 ${fmt(p90(incFirst))})`);

    collect();
    // nodeAtOffset and findPath on the parsed document.
    const doc = parseYaml(text);
    let seed = 7;
    const offsets = Array.from({ length: 20_000 }, () => (seed = (seed * 16807) % 2147483647) % text.length);
    for (const o of offsets.slice(0, 2000)) nodeAtOffset(doc, o); // warm-up
    const perCall = samples(9, () => {
      for (const o of offsets) nodeAtOffset(doc, o);
    }).map((ms) => (ms * 1000) / offsets.length);
    put('Runwise `nodeAtOffset` (per call, 20,000 random offsets)', lines, `${fmt(median(perCall), 2)} µs`);
    const stageNames = (doc.root && doc.root.kind === 'map' && doc.root.items[1]?.value?.kind === 'map' ? doc.root.items[1].value.items : []).map((p) => String(p.key.value));
    const fp = samples(9, () => {
      for (const s of stageNames) findPath(doc, ['stages', s, 'cmd']);
    }).map((ms) => (ms * 1000) / Math.max(1, stageNames.length));
    put('Runwise `findPath(["stages", name, "cmd"])` (per call)', lines, `${fmt(median(fp), 2)} µs`);
  }

  return rows;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
