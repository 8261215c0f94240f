/**
 * The language server over the protocol, side by side with its anchor in one run: Runwise's server
 * (`node dist/server.js --stdio`) and the Red Hat `yaml-language-server --stdio` (on Node 22, with
 * DVC's JSON schema for dvc.yaml, validation, completion and hover on), both on generated dvc.yaml
 * files of 10,000 and 50,000 lines. Medians of:
 * - diagnostics after an edit: didChange → the publishDiagnostics for that version (Runwise) or
 *   the first publish after the change (yaml-language-server, which sends no version). Both
 *   servers debounce (Runwise 15 ms, yaml-language-server 200 ms), included in the figure. Two
 *   edits: a character of a `cmd` toggled ('p' ↔ 'P', the text keeps its length: every block
 *   after it is the same), and a character typed then deleted (the file alternates between two
 *   sizes: every block after the edit moves), the common case;
 * - completion at a key position inside a stage (end of a `deps` key), document unchanged;
 * - completion right after an edit (didChange, then completion at once), the typing case;
 * - hover on a stage's `cmd` key.
 *
 * Open → first diagnostics is shown too. The workspace has the params and source files the
 * generated stages name, so what is reported is what the generated file really gets wrong.
 *
 *   node --import tsx bench/lsp/lsp.bench.ts [LINES...]     (default 10000 50000)
 *   node --import tsx bench/lsp/lsp.bench.ts --workspace-index   (the workspace pipeline index, 200 files)
 *   node --import tsx bench/lsp/lsp.bench.ts --edits [LINES]      (one edit in process: parse, index, diagnostics)
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LspClient } from '../../test/support/lspClient';
import { fmt, median } from '../stats';
import { generateDvcYaml } from './generateDvcYaml';
import { AnalysisHost } from '../../core/language/host/analysisHost';

const root = path.resolve(__dirname, '..', '..');

const SOURCES = ['src/prepare.py', 'src/featurization.py', 'src/train.py', 'src/evaluate.py', 'src/export.py', 'data/data.xml', 'data/us.csv', 'data/eu.csv', 'models/model.pkl'];

/** The params the generated stages name (`prepare.seed`, `${datasets}`...). */
const PARAMS = [
  'prepare:',
  '  seed: 20170428',
  '  split: 0.2',
  'featurize:',
  '  max_features: 100',
  '  ngrams: 1',
  'train:',
  '  seed: 20170428',
  '  n_est: 50',
  '  min_split: 0.01',
  'datasets:',
  '  - name: us',
  '    path: data/us.csv',
  '  - name: eu',
  '    path: data/eu.csv',
  '',
].join('\n');

interface Position {
  line: number;
  character: number;
}

interface Figures {
  open: number;
  diagnostics: number[];
  /** After typing a character, then after deleting it. */
  diagnosticsTyped: number[];
  completion: number[];
  completionAfterEdit: number[];
  hover: number[];
  diagnosticsCount: number;
  completionItems: number;
  hoverFound: boolean;
}

interface ServerSpec {
  name: string;
  command: string;
  args: string[];
  /** Sent after `initialized`. */
  configure?(client: LspClient): void;
  /** Answers `workspace/configuration` requests, by section. */
  settings?: Record<string, unknown>;
  initializationOptions?: unknown;
  /** Whether publishDiagnostics carries the document version. */
  versioned: boolean;
}

function node22(): string {
  const out = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', `import { ensureNode22 } from ${JSON.stringify(pathToFileURL(path.join(root, 'scripts', 'testTools.mjs')).href)}; console.log(ensureNode22());`],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return out.trim().split('\n').at(-1)!;
}

/** Finds the position of `needle` at or after the middle of the text (line/character, UTF-16). */
function positionOf(text: string, needle: string, from = Math.floor(text.length / 2)): { offset: number; pos: Position } {
  const offset = text.indexOf(needle, from);
  if (offset < 0) throw new Error(`'${needle.trim()}' not found in the generated file`);
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { offset, pos: { line, character: offset - (before.lastIndexOf('\n') + 1) } };
}

const verbose = process.env.RUNWISE_BENCH_VERBOSE === '1';
function progress(name: string, phase: string): void {
  if (verbose) console.error(`  [${name}] ${phase}`);
}

async function measure(spec: ServerSpec, ws: string, text: string, rounds: { diag: number; req: number }): Promise<Figures> {
  const uri = pathToFileURL(path.join(ws, 'dvc.yaml')).href;
  const client = new LspClient(spec.command, spec.args, {
    cwd: ws,
    onServerRequest: (method, params) =>
      method === 'workspace/configuration' ? (params as { items: { section?: string }[] }).items.map((i) => spec.settings?.[i.section ?? ''] ?? null) : null,
  });
  const stop = () => client.kill();
  process.once('exit', stop);
  try {
    await client.request('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(ws).href,
      workspaceFolders: [{ uri: pathToFileURL(ws).href, name: 'bench' }],
      capabilities: {
        textDocument: {
          synchronization: { dynamicRegistration: false },
          completion: { completionItem: { snippetSupport: true, documentationFormat: ['markdown', 'plaintext'] } },
          hover: { contentFormat: ['markdown', 'plaintext'] },
          publishDiagnostics: { versionSupport: true },
        },
        workspace: { workspaceFolders: true },
      },
      initializationOptions: spec.initializationOptions,
    });
    client.notify('initialized', {});
    spec.configure?.(client);

    progress(spec.name, 'open');
    // Open, and wait for the first diagnostics.
    let version = 1;
    const t0 = performance.now();
    const firstPublish = client.waitFor<{ uri: string }>('textDocument/publishDiagnostics', (p) => p.uri === uri, 120_000);
    client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version, text } });
    const first = await firstPublish;
    const open = first.at - t0;

    // The edit: a character inside a command near the middle, toggled so the file stays the same
    // size ('p' ↔ 'P'), or typed and deleted (an 'x' before it).
    const edit = positionOf(text, 'python ');
    const editPos = { line: edit.pos.line, character: edit.pos.character };
    const editRange = { start: editPos, end: { line: editPos.line, character: editPos.character + 1 } };
    let flip = false;
    let typed = false;
    const change = (kind: 'toggle' | 'type' = 'toggle') => {
      version++;
      let contentChanges;
      if (kind === 'toggle') {
        flip = !flip;
        contentChanges = [{ range: typed ? { start: editRange.end, end: { line: editPos.line, character: editPos.character + 2 } } : editRange, text: flip ? 'P' : 'p' }];
      } else {
        typed = !typed;
        contentChanges = [{ range: typed ? { start: editPos, end: editPos } : editRange, text: typed ? 'x' : '' }];
      }
      client.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges });
    };

    progress(spec.name, 'diagnostics');
    /** Back to the original text, with the server idle (its diagnostics for the last edit sent). */
    const settle = async () => {
      do {
        const v = version + 1;
        const published = client.waitFor<{ uri: string; version?: number }>(
          'textDocument/publishDiagnostics',
          (p) => p.uri === uri && (!spec.versioned || p.version === v),
          120_000,
        );
        change(typed ? 'type' : 'toggle');
        await published;
      } while (flip || typed);
      // yaml-language-server sends no versions: wait until no publish has come for 400 ms.
      if (!spec.versioned) {
        for (;;) {
          try {
            await client.waitFor('textDocument/publishDiagnostics', (p: { uri: string }) => p.uri === uri, 400);
          } catch {
            break;
          }
        }
      }
    };

    // Diagnostics after an edit: the toggle and the typed character, alternated round by round
    // (the machine's speed varies over a run).
    const diagnostics: number[] = [];
    const diagnosticsTyped: number[] = [];
    let diagnosticsCount = 0;
    const diagnosticsAfter = async (kind: 'toggle' | 'type') => {
      const v = version + 1;
      const published = client.waitFor<{ uri: string; version?: number; diagnostics: unknown[] }>(
        'textDocument/publishDiagnostics',
        (p) => p.uri === uri && (!spec.versioned || p.version === v),
        120_000,
      );
      const start = performance.now();
      change(kind);
      const n = await published;
      diagnosticsCount = n.params.diagnostics.length;
      await new Promise((r) => setTimeout(r, 30));
      return n.at - start;
    };
    for (let i = 0; i < rounds.diag + 1; i++) {
      for (const kind of ['toggle', 'type'] as const) {
        // Twice each: there and back (for the typed character, the two sizes of the file).
        for (let k = 0; k < 2; k++) {
          const ms = await diagnosticsAfter(kind);
          if (i > 0) (kind === 'toggle' ? diagnostics : diagnosticsTyped).push(ms); // the first round is a warm-up
        }
      }
    }
    await settle();

    progress(spec.name, 'completion');
    // Completion at a key position inside a stage: the end of a `deps` key near the middle.
    const deps = positionOf(text, '    deps:');
    const completionPos = { line: deps.pos.line, character: deps.pos.character + '    deps'.length };
    const completion: number[] = [];
    let completionItems = 0;
    const complete = async () => {
      const start = performance.now();
      const r = await client.request<{ items: unknown[] } | unknown[] | null>('textDocument/completion', {
        textDocument: { uri },
        position: completionPos,
        context: { triggerKind: 1 },
      });
      const ms = performance.now() - start;
      completionItems = Array.isArray(r) ? r.length : (r?.items.length ?? 0);
      return ms;
    };
    for (let i = 0; i < rounds.req + 2; i++) {
      const ms = await complete();
      if (i >= 2) completion.push(ms);
    }

    // Completion right after an edit (the document changed; the server sees the edit first).
    const completionAfterEdit: number[] = [];
    for (let i = 0; i < rounds.req + 1; i++) {
      change();
      const ms = await complete();
      if (i >= 1) completionAfterEdit.push(ms);
    }
    await settle();

    progress(spec.name, 'hover');
    // Hover on a stage's `cmd` key.
    const cmd = positionOf(text, '    cmd:');
    const hoverPos = { line: cmd.pos.line, character: cmd.pos.character + 5 };
    const hover: number[] = [];
    let hoverFound = false;
    for (let i = 0; i < rounds.req + 2; i++) {
      const start = performance.now();
      const h = await client.request<unknown>('textDocument/hover', { textDocument: { uri }, position: hoverPos });
      const ms = performance.now() - start;
      hoverFound = h != null;
      if (i >= 2) hover.push(ms);
    }

    await client.shutdown(10_000);
    return { open, diagnostics, diagnosticsTyped, completion, completionAfterEdit, hover, diagnosticsCount, completionItems, hoverFound };
  } finally {
    client.kill();
    process.off('exit', stop);
  }
}

/**
 * The workspace pipeline index (core, in this process): a workspace of `files` pipeline files of 5
 * stages each, every file reading an output of the one before it (cross-file dependencies), one of
 * them open in an AnalysisHost. Figures: the first diagnostics of the open file (walk, every other
 * file summarised, cross-file facts), then medians of: diagnostics after an edit of the open file
 * (one summary: its own, from its analysis), the same edit in a workspace holding that file alone
 * (what the index adds to an edit), and diagnostics after another file changed on disk (that file
 * summarised again).
 */
function workspaceIndexBench(files: number): void {
  const stagesPerFile = 5;
  const pipelineText = (i: number, variant = '') =>
    [
      'stages:',
      ...Array.from({ length: stagesPerFile }, (_, s) => {
        const input = s === 0 ? (i === 0 ? 'src/prepare.py' : `../p${i - 1}/out${stagesPerFile - 1}.csv`) : `out${s - 1}.csv`;
        return [`  s${s}:`, `    cmd: python src/step.py ${s}${variant}`, '    deps:', `      - ${input}`, '    outs:', `      - out${s}.csv`].join('\n');
      }),
      '',
    ].join('\n');
  const make = (count: number) => {
    const ws = mkdtempSync(path.join(tmpdir(), 'runwise-bench-index-'));
    mkdirSync(path.join(ws, 'src'));
    writeFileSync(path.join(ws, 'src', 'prepare.py'), '');
    for (let i = 0; i < count; i++) {
      mkdirSync(path.join(ws, `p${i}`));
      writeFileSync(path.join(ws, `p${i}`, 'dvc.yaml'), pipelineText(i));
    }
    return ws;
  };
  const openIndex = Math.floor(files / 2);
  const editRounds = (host: AnalysisHost, uri: string, rounds: number): number[] => {
    const times: number[] = [];
    let text = host.analysis(uri)!.lines.text;
    for (let r = 0; r < rounds; r++) {
      const at = text.indexOf('step.py 2') + 'step.py '.length;
      const next = text.slice(0, at) + (r % 2 ? '2' : '3') + text.slice(at + 1);
      const t0 = performance.now();
      host.change(uri, r + 2, [{ start: at, end: at + 1, text: next[at]! }], next);
      host.analysis(uri)!.diagnostics();
      times.push(performance.now() - t0);
      text = next;
    }
    return times;
  };
  const ws = make(files);
  const alone = mkdtempSync(path.join(tmpdir(), 'runwise-bench-index-alone-'));
  try {
    const rel = `p${openIndex}/dvc.yaml`;
    const uri = pathToFileURL(path.join(ws, rel)).href;
    const host = new AnalysisHost({ folders: [ws] });
    host.open(uri, 1, pipelineText(openIndex));
    const t0 = performance.now();
    const first = host.analysis(uri)!.diagnostics();
    const build = performance.now() - t0;
    const pipelines = host.pipelinesOf(uri)!;
    const builtBefore = pipelines.summariesBuilt;
    const edit = editRounds(host, uri, 40);
    const summariesPerEdit = (pipelines.summariesBuilt - builtBefore) / 40;

    // Another file changed on disk: it alone is summarised again.
    const disk: number[] = [];
    for (let r = 0; r < 20; r++) {
      const other = path.join(ws, `p${(openIndex + 7) % files}`, 'dvc.yaml');
      writeFileSync(other, pipelineText((openIndex + 7) % files, r % 2 ? '' : ' --fast'));
      const t1 = performance.now();
      host.filesChanged([{ path: other, kind: 'changed' }]);
      host.analysis(uri)!.diagnostics();
      disk.push(performance.now() - t1);
    }

    mkdirSync(path.join(alone, 'src'));
    writeFileSync(path.join(alone, 'src', 'prepare.py'), '');
    mkdirSync(path.join(alone, `p${openIndex}`));
    writeFileSync(path.join(alone, rel), pipelineText(openIndex));
    const aloneUri = pathToFileURL(path.join(alone, rel)).href;
    const single = new AnalysisHost({ folders: [alone] });
    single.open(aloneUri, 1, pipelineText(openIndex));
    single.analysis(aloneUri)!.diagnostics();
    const editAlone = editRounds(single, aloneUri, 40);

    console.log(`\nWorkspace pipeline index: ${files} pipeline files, ${files * stagesPerFile} stages (${first.length} diagnostics in the open file)`);
    console.log('| what | time |');
    console.log('|---|---|');
    console.log(`| first diagnostics of one open file (walk, ${builtBefore} files summarised, cross-file facts) | ${fmt(build)} ms |`);
    console.log(`| diagnostics after an edit of the open file (${summariesPerEdit} summaries per edit) | ${fmt(median(edit), 2)} ms |`);
    console.log(`| the same edit with the file alone in its workspace | ${fmt(median(editAlone), 2)} ms |`);
    console.log(`| diagnostics after another file changed on disk (it alone summarised again) | ${fmt(median(disk), 2)} ms |`);
  } finally {
    rmSync(ws, { recursive: true, force: true });
    rmSync(alone, { recursive: true, force: true });
  }
}

/** A workspace with a generated dvc.yaml of `lines` lines and the params and source files its stages name. */
function pipelineWorkspace(lines: number): { ws: string; text: string } {
  const ws = mkdtempSync(path.join(tmpdir(), 'runwise-bench-lsp-'));
  const text = generateDvcYaml(lines);
  writeFileSync(path.join(ws, 'dvc.yaml'), text);
  writeFileSync(path.join(ws, 'params.yaml'), PARAMS);
  // The files the stages read that no stage writes, as in a real project.
  for (const f of SOURCES) {
    mkdirSync(path.dirname(path.join(ws, f)), { recursive: true });
    writeFileSync(path.join(ws, f), '');
  }
  return { ws, text };
}

/**
 * One edit of the generated file in process (an AnalysisHost, no protocol): the toggled and the
 * typed-then-deleted character of the protocol benchmark, alternated, each followed by the
 * document's analysis, pipeline index and diagnostics. Medians of wall time per phase and of the
 * process's CPU time (which a loaded machine inflates less than the wall time).
 */
function editsBench(lines: number, rounds: number): void {
  const { ws, text: original } = pipelineWorkspace(lines);
  try {
    const uri = pathToFileURL(path.join(ws, 'dvc.yaml')).href;
    const host = new AnalysisHost({ folders: [ws] });
    host.open(uri, 1, original);
    const count = host.analysis(uri)!.diagnostics().length;
    const at = original.indexOf('python ', Math.floor(original.length / 2));
    let text = original;
    let version = 1;
    type Phases = { parse: number[]; index: number[]; diagnostics: number[]; total: number[]; cpu: number[] };
    const empty = (): Phases => ({ parse: [], index: [], diagnostics: [], total: [], cpu: [] });
    const figures = { toggle: empty(), type: empty() };
    const edit = (kind: 'toggle' | 'type', k: number) =>
      kind === 'toggle' ? { start: at, end: at + 1, text: k ? 'p' : 'P' } : k ? { start: at, end: at + 1, text: '' } : { start: at, end: at, text: 'x' };
    for (let r = 0; r < rounds + 2; r++) {
      for (const kind of ['toggle', 'type'] as const) {
        for (let k = 0; k < 2; k++) {
          const e = edit(kind, k);
          const next = text.slice(0, e.start) + e.text + text.slice(e.end);
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          host.change(uri, ++version, [e], next);
          const analysis = host.analysis(uri)!;
          const t1 = performance.now();
          analysis.pipelineIndex();
          const t2 = performance.now();
          analysis.diagnostics();
          const t3 = performance.now();
          const cpu = process.cpuUsage(cpu0);
          text = next;
          if (r < 2) continue; // warm-up
          const f = figures[kind];
          f.parse.push(t1 - t0);
          f.index.push(t2 - t1);
          f.diagnostics.push(t3 - t2);
          f.total.push(t3 - t0);
          f.cpu.push((cpu.user + cpu.system) / 1000);
        }
      }
    }
    console.log(`\nOne edit in process: dvc.yaml of ${lines.toLocaleString('en-US')} lines, ${count} diagnostics, medians of ${rounds * 2} edits each`);
    console.log('| edit | parse | pipeline index | diagnostics | total | CPU time |');
    console.log('|---|---|---|---|---|---|');
    for (const [name, f] of [
      ['a character toggled (same length)', figures.toggle],
      ['a character typed or deleted', figures.type],
    ] as const) {
      console.log(`| ${name} | ${fmt(median(f.parse))} ms | ${fmt(median(f.index))} ms | ${fmt(median(f.diagnostics))} ms | **${fmt(median(f.total))} ms** | ${fmt(median(f.cpu))} ms |`);
    }
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--workspace-index')) {
    workspaceIndexBench(200);
    return;
  }
  if (process.argv.includes('--edits')) {
    const n = process.argv.slice(2).map(Number).find((x) => x > 0);
    editsBench(n ?? 10_000, 50);
    return;
  }
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  const lines = sizes.length ? sizes : [10_000, 50_000];

  execFileSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'inherit' });
  const yls = path.join(root, 'node_modules', 'yaml-language-server', 'bin', 'yaml-language-server');
  const schema = path.join(__dirname, 'dvc.schema.json');
  const node = node22();

  const runwise: ServerSpec = {
    name: 'Runwise',
    command: process.execPath,
    args: [path.join(root, 'dist', 'server.js'), '--stdio'],
    versioned: true,
  };
  const anchor = (ws: string): ServerSpec => {
    const settings = {
      yaml: {
        schemas: { [pathToFileURL(path.join(ws, 'dvc.schema.json')).href]: ['dvc.yaml', '**/dvc.yaml'] },
        validate: true,
        completion: true,
        hover: true,
        format: { enable: false },
        // Never the network: no SchemaStore catalog.
        schemaStore: { enable: false },
        maxItemsComputed: 5000,
      },
    };
    return {
      name: 'yaml-language-server',
      command: node,
      args: [yls, '--stdio'],
      versioned: false,
      // It takes the settings from didChangeConfiguration and asks for them with workspace/configuration.
      settings,
      configure: (client) => client.notify('workspace/didChangeConfiguration', { settings }),
    };
  };

  const results: { lines: number; runwise: Figures; yls: Figures }[] = [];
  for (const n of lines) {
    const { ws, text } = pipelineWorkspace(n);
    try {
      copyFileSync(schema, path.join(ws, 'dvc.schema.json'));
      const rounds = n > 20_000 ? { diag: 5, req: 10 } : { diag: 10, req: 20 };
      console.log(`dvc.yaml of ${text.split('\n').length - 1} lines (${(text.length / 1e6).toFixed(1)} MB)`);
      const r = await measure(runwise, ws, text, rounds);
      const y = await measure(anchor(ws), ws, text, rounds);
      results.push({ lines: n, runwise: r, yls: y });
      for (const [name, f] of [
        ['Runwise', r],
        ['yaml-language-server', y],
      ] as const) {
        console.log(
          `  ${name}: ${f.diagnosticsCount} diagnostics, ${f.completionItems} completion items, hover ${f.hoverFound ? 'found' : 'empty'}; open → diagnostics ${fmt(f.open)} ms`,
        );
      }
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  }

  const rows: [string, (f: Figures) => number, string][] = [
    ['diagnostics after an edit, a character toggled (each server\'s debounce included: 15 / 200 ms)', (f) => median(f.diagnostics), '< 30 ms'],
    ['diagnostics after an edit, a character typed or deleted (debounce included)', (f) => median(f.diagnosticsTyped), '< 30 ms'],
    ['completion, key in a stage', (f) => median(f.completion), '< 15 ms'],
    ['completion right after an edit', (f) => median(f.completionAfterEdit), ''],
    ['hover on a key', (f) => median(f.hover), '< 15 ms'],
    ['open → first diagnostics', (f) => f.open, ''],
  ];
  console.log('\n| what | lines | Runwise | yaml-language-server | speed-up | target (10k) |');
  console.log('|---|---|---|---|---|---|');
  for (const [what, get, target] of rows) {
    for (const r of results) {
      const a = get(r.runwise);
      const b = get(r.yls);
      console.log(`| ${what} | ${r.lines.toLocaleString('en-US')} | **${fmt(a)} ms** | ${fmt(b)} ms | ${fmt(b / a)}× | ${r.lines === 10_000 ? target : ''} |`);
    }
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
