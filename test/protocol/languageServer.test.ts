/**
 * The bundled language server (`node dist/server.js --stdio`) spoken to over real JSON-RPC on stdio:
 * diagnostics with codes and ranges, completion, hover, definition into params.yaml, incremental
 * edits, a params file changing on disk, cancellation, garbage that must not kill it, and a clean
 * shutdown. Below the protocol, the features have their own unit tests; these check the shell.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LspClient, LspResponseError } from '../support/lspClient';
import { repoRoot } from '../support/processes';
import { tempWorkspace } from '../support/tempWorkspace';

interface Range {
  start: { line: number; character: number };
  end: { line: number; character: number };
}
interface Diagnostic {
  range: Range;
  severity: number;
  code: string;
  message: string;
  source: string;
}
interface PublishParams {
  uri: string;
  version?: number;
  diagnostics: Diagnostic[];
}

const PARAMS = 'train:\n  lr: 0.01\n  epochs: 10\n';

/** Two errors: an unknown stage key (line 9) and a `${...}` naming a param that does not exist (line 2). */
const BROKEN = [
  'stages:',
  '  train:',
  '    cmd: python train.py --lr ${train.lr} --bs ${train.batch}',
  '    deps:',
  '      - train.py',
  '    params:',
  '      - train.lr',
  '    outs:',
  '      - model.pkl',
  '    outz:',
  '      - extra.pkl',
  '',
].join('\n');

function serverProcess(ws: string): LspClient {
  return new LspClient(process.execPath, [path.join(repoRoot, 'dist', 'server.js'), '--stdio'], { cwd: ws });
}

async function initialize(client: LspClient, ws: string): Promise<{ capabilities: Record<string, unknown> }> {
  const r = await client.request<{ capabilities: Record<string, unknown> }>('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(ws).href,
    workspaceFolders: [{ uri: pathToFileURL(ws).href, name: 'ws' }],
    capabilities: {
      textDocument: {
        completion: { completionItem: { snippetSupport: true } },
        hover: { contentFormat: ['markdown'] },
        publishDiagnostics: { versionSupport: true },
      },
      workspace: { workspaceFolders: true, didChangeWatchedFiles: { dynamicRegistration: true } },
    },
  });
  client.notify('initialized', {});
  return r;
}

function workspace(): string {
  const ws = tempWorkspace('lsp');
  writeFileSync(path.join(ws, 'params.yaml'), PARAMS);
  writeFileSync(path.join(ws, 'train.py'), 'print("training")\n');
  mkdirSync(path.join(ws, 'data'));
  return ws;
}

const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle));
const colOf = (text: string, needle: string) => text.split('\n')[lineOf(text, needle)]!.indexOf(needle);

before(() => {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, `the build failed:\n${r.stderr}`);
});

describe('the language server over stdio', () => {
  let ws: string;
  let client: LspClient;
  let uri: string;
  let version = 1;
  let opened: PublishParams;

  before(async () => {
    ws = workspace();
    writeFileSync(path.join(ws, 'runwise.yaml'), BROKEN);
    client = serverProcess(ws);
    uri = pathToFileURL(path.join(ws, 'runwise.yaml')).href;
  });

  after(async () => {
    client.kill();
  });

  test('initialize announces incremental sync and the features', async () => {
    const { capabilities } = await initialize(client, ws);
    assert.deepEqual((capabilities.textDocumentSync as { change: number }).change, 2);
    const completion = capabilities.completionProvider as { triggerCharacters: string[] };
    for (const c of ['$', '{', '.', '/']) assert.ok(completion.triggerCharacters.includes(c), `trigger ${c}`);
    for (const k of ['hoverProvider', 'definitionProvider', 'referencesProvider', 'documentSymbolProvider', 'foldingRangeProvider']) {
      assert.ok(capabilities[k], k);
    }
    assert.deepEqual((capabilities.codeActionProvider as { codeActionKinds: string[] }).codeActionKinds, ['quickfix']);
    // The server asks to be told about file changes on disk (params and dependency files).
    await waitUntil(() => client.serverRequests.some((r) => r.method === 'client/registerCapability'));
  });

  test('didOpen of a broken runwise.yaml publishes its errors with codes and ranges', async () => {
    const published = client.waitFor<PublishParams>('textDocument/publishDiagnostics', (p) => p.uri === uri);
    client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version, text: BROKEN } });
    opened = (await published).params;
    assert.equal(opened.version, 1);
    const byCode = new Map(opened.diagnostics.map((d) => [d.code, d]));
    const unknown = byCode.get('unknown-key');
    assert.ok(unknown, `an unknown-key diagnostic in ${JSON.stringify(opened.diagnostics)}`);
    const outz = lineOf(BROKEN, 'outz:');
    assert.deepEqual(unknown.range, { start: { line: outz, character: 4 }, end: { line: outz, character: 8 } });
    assert.equal(unknown.severity, 1);
    assert.equal(unknown.source, 'runwise');
    const missing = opened.diagnostics.find((d) => d.range.start.line === 2);
    assert.ok(missing, `a diagnostic for \${train.batch} in ${JSON.stringify(opened.diagnostics)}`);
    assert.equal(missing.code, 'unresolved-variable');
    const batch = colOf(BROKEN, 'train.batch');
    assert.ok(missing.range.start.character <= batch && missing.range.end.character >= batch + 'train.batch'.length, JSON.stringify(missing.range));
    assert.equal(missing.range.end.line, 2);
  });

  test('completion inside ${...} offers the params', async () => {
    const line = lineOf(BROKEN, '${train.lr}');
    const character = colOf(BROKEN, '${train.lr}') + '${train.'.length;
    const r = await client.request<{ items: { label: string; textEdit?: { range: Range } }[] }>('textDocument/completion', {
      textDocument: { uri },
      position: { line, character },
      context: { triggerKind: 2, triggerCharacter: '.' },
    });
    const labels = r.items.map((i) => i.label);
    const lr = r.items.find((i) => /(^|\.)lr$/.test(i.label));
    assert.ok(lr && labels.some((l) => /(^|\.)epochs$/.test(l)), JSON.stringify(labels));
    assert.ok(lr.textEdit, 'a text edit replacing what was typed');
    assert.equal(lr.textEdit.range.start.line, line);
    assert.ok(lr.textEdit.range.start.character <= character && lr.textEdit.range.end.character >= character);
  });

  test('completion at a key position in a stage offers stage keys', async () => {
    const line = lineOf(BROKEN, 'outz:');
    const r = await client.request<{ items: { label: string }[] }>('textDocument/completion', {
      textDocument: { uri },
      position: { line, character: 6 },
      context: { triggerKind: 1 },
    });
    const labels = r.items.map((i) => i.label);
    // Keys the stage does not have yet.
    assert.ok(labels.includes('metrics') && labels.includes('wdir'), JSON.stringify(labels));
    assert.ok(!labels.includes('cmd'), JSON.stringify(labels));
  });

  test('hover on a key shows its documentation over the key', async () => {
    const h = await client.request<{ contents: { kind: string; value: string }; range: Range } | null>('textDocument/hover', {
      textDocument: { uri },
      position: { line: 2, character: 5 },
    });
    assert.ok(h, 'a hover on cmd');
    assert.equal(h.contents.kind, 'markdown');
    assert.match(h.contents.value, /command/i);
    assert.equal(h.range.start.line, 2);
    assert.ok(h.range.start.character <= 5 && h.range.end.character >= 6);
  });

  test('definition of ${train.lr} goes to params.yaml', async () => {
    const line = lineOf(BROKEN, '${train.lr}');
    const character = colOf(BROKEN, '${train.lr}') + '${train.l'.length;
    const r = await client.request<{ uri: string; range: Range }[]>('textDocument/definition', { textDocument: { uri }, position: { line, character } });
    assert.equal(r.length, 1, JSON.stringify(r));
    assert.equal(r[0]!.uri, pathToFileURL(path.join(ws, 'params.yaml')).href);
    assert.equal(r[0]!.range.start.line, 1);
  });

  test('document symbols and folding ranges come back in LSP shapes', async () => {
    const symbols = await client.request<{ name: string; range: Range; selectionRange: Range; children?: unknown[] }[]>('textDocument/documentSymbol', {
      textDocument: { uri },
    });
    assert.ok(JSON.stringify(symbols).includes('"train"'), JSON.stringify(symbols));
    const folds = await client.request<{ startLine: number; endLine: number }[]>('textDocument/foldingRange', { textDocument: { uri } });
    assert.ok(folds.some((f) => f.startLine === 1 && f.endLine >= 9), JSON.stringify(folds));
  });

  test('a quick fix for the unknown key edits the document', async () => {
    const unknown = opened.diagnostics.find((d) => d.code === 'unknown-key')!;
    const actions = await client.request<{ title: string; kind: string; edit?: { changes?: Record<string, { newText: string }[]>; documentChanges?: unknown[] } }[]>(
      'textDocument/codeAction',
      { textDocument: { uri }, range: unknown.range, context: { diagnostics: [unknown], only: ['quickfix'] } },
    );
    for (const a of actions) assert.equal(a.kind, 'quickfix');
    const rename = actions.find((a) => a.edit?.changes?.[uri]?.some((e) => e.newText === 'outs'));
    assert.ok(rename, JSON.stringify(actions));
  });

  test('an incremental didChange that fixes both errors clears the diagnostics', async () => {
    const line = lineOf(BROKEN, '${train.batch}');
    const col = colOf(BROKEN, 'train.batch') + 'train.'.length;
    const outz = lineOf(BROKEN, 'outz:');
    version++;
    const published = client.waitFor<PublishParams>('textDocument/publishDiagnostics', (p) => p.uri === uri && p.version === version);
    client.notify('textDocument/didChange', {
      textDocument: { uri, version },
      contentChanges: [
        // Applied in order: the later line first, so the earlier range still holds.
        { range: { start: { line: outz, character: 0 }, end: { line: outz + 2, character: 0 } }, text: '' },
        { range: { start: { line, character: col }, end: { line, character: col + 'batch'.length } }, text: 'epochs' },
      ],
    });
    const p = (await published).params;
    assert.deepEqual(p.diagnostics, [], JSON.stringify(p.diagnostics));
  });

  test('a params file changed on disk re-validates the open pipeline', async () => {
    const published = client.waitFor<PublishParams>(
      'textDocument/publishDiagnostics',
      (p) => p.uri === uri && p.diagnostics.length > 0,
    );
    writeFileSync(path.join(ws, 'params.yaml'), 'train:\n  lr: 0.01\n');
    client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(path.join(ws, 'params.yaml')).href, type: 2 }] });
    const p = (await published).params;
    assert.ok(p.diagnostics.some((d) => d.range.start.line === 2 && d.message.includes('epochs')), JSON.stringify(p.diagnostics));
    writeFileSync(path.join(ws, 'params.yaml'), PARAMS);
    const cleared = client.waitFor<PublishParams>('textDocument/publishDiagnostics', (q) => q.uri === uri && q.diagnostics.length === 0);
    client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(path.join(ws, 'params.yaml')).href, type: 2 }] });
    await cleared;
  });

  test('unsaved edits to params.yaml in the editor re-validate the pipeline; closing it reverts to disk', async () => {
    const paramsUri = pathToFileURL(path.join(ws, 'params.yaml')).href;
    client.notify('textDocument/didOpen', { textDocument: { uri: paramsUri, languageId: 'yaml', version: 1, text: PARAMS } });
    const broken = client.waitFor<PublishParams>('textDocument/publishDiagnostics', (p) => p.uri === uri && p.diagnostics.length > 0);
    client.notify('textDocument/didChange', {
      textDocument: { uri: paramsUri, version: 2 },
      contentChanges: [{ range: { start: { line: 2, character: 0 }, end: { line: 3, character: 0 } }, text: '' }],
    });
    const p = (await broken).params;
    assert.ok(p.diagnostics.some((d) => d.code === 'unresolved-variable' && d.message.includes('epochs')), JSON.stringify(p.diagnostics));
    const cleared = client.waitFor<PublishParams>('textDocument/publishDiagnostics', (q) => q.uri === uri && q.diagnostics.length === 0);
    client.notify('textDocument/didClose', { textDocument: { uri: paramsUri } });
    await cleared;
  });

  test('a cancelled request gets RequestCancelled or its result, and the server carries on', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const pending = client.send('textDocument/completion', { textDocument: { uri }, position: { line: 2, character: 40 } });
      client.cancel(pending.id);
      try {
        const r = await pending.result;
        assert.ok(r === null || typeof r === 'object');
        outcomes.push('result');
      } catch (e) {
        assert.ok(e instanceof LspResponseError, String(e));
        assert.equal(e.error.code, -32800);
        outcomes.push('cancelled');
      }
    }
    assert.ok(outcomes.includes('cancelled'), `at least one of ${outcomes.length} cancels took effect`);
    const h = await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 2, character: 5 } });
    assert.ok(h);
    assert.ok(client.alive);
  });

  test('garbage documents and bad requests do not kill it', async () => {
    const junk = [
      '\u0000\u0001\uffff: [{{{',
      'stages: {a: [1, 2',
      'x: &a [*a, *a, *a]',
      `${'['.repeat(5000)}`,
      'stages:\n\ttrain:\n\t\tcmd: "unterminated',
      '---\n...\n---\nstages: 3\n',
      '\ud83d\ude00: ${${${}}}\n  - : :\n',
    ];
    for (const [i, text] of junk.entries()) {
      const garbageUri = pathToFileURL(path.join(ws, `g${i}.pipeline.yaml`)).href;
      const published = client.waitFor<PublishParams>('textDocument/publishDiagnostics', (p) => p.uri === garbageUri);
      client.notify('textDocument/didOpen', { textDocument: { uri: garbageUri, languageId: 'yaml', version: 1, text } });
      await published;
      for (const position of [
        { line: 0, character: 0 },
        { line: 0, character: 3 },
        { line: 9999, character: 9999 },
        { line: -1, character: -5 },
      ]) {
        await client.request('textDocument/completion', { textDocument: { uri: garbageUri }, position });
        await client.request('textDocument/hover', { textDocument: { uri: garbageUri }, position });
        await client.request('textDocument/definition', { textDocument: { uri: garbageUri }, position });
      }
      await client.request('textDocument/documentSymbol', { textDocument: { uri: garbageUri } });
      await client.request('textDocument/foldingRange', { textDocument: { uri: garbageUri } });
      client.notify('textDocument/didClose', { textDocument: { uri: garbageUri } });
    }
    // Malformed requests get an error answer, not a crash.
    const bad = await client.request('textDocument/hover', {}).catch((e: unknown) => e);
    assert.ok(bad === null || bad instanceof LspResponseError, String(bad));
    await assert.rejects(client.request('no/such/method', {}), LspResponseError);
    client.notify('textDocument/didChange', { textDocument: { uri: 'file:///nowhere.yaml' }, contentChanges: [{ text: 'x' }] });
    // A document that is not open, and one Runwise does not analyse.
    assert.equal(await client.request('textDocument/hover', { textDocument: { uri: 'file:///not/open.yaml' }, position: { line: 0, character: 0 } }), null);
    const other = pathToFileURL(path.join(ws, 'notes.txt')).href;
    client.notify('textDocument/didOpen', { textDocument: { uri: other, languageId: 'plaintext', version: 1, text: 'hello' } });
    assert.deepEqual(await client.request('textDocument/documentSymbol', { textDocument: { uri: other } }), []);
    const h = await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 2, character: 5 } });
    assert.ok(h);
    assert.ok(client.alive, client.stderr());
  });

  test('shutdown then exit ends the process with code 0', async () => {
    const r = await client.shutdown();
    assert.deepEqual(r, { code: 0, signal: null });
  });
});

test('a README.md model card gets diagnostics in Markdown positions', async () => {
  const ws = workspace();
  const client = serverProcess(ws);
  try {
    await initialize(client, ws);
    const text = '---\nlicense: apache-2.0\nlanguagee: en\n---\n# My model\n';
    const uri = pathToFileURL(path.join(ws, 'README.md')).href;
    const published = client.waitFor<PublishParams>('textDocument/publishDiagnostics', (p) => p.uri === uri);
    client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'markdown', version: 1, text } });
    const p = (await published).params;
    for (const d of p.diagnostics) assert.ok(d.range.start.line >= 1 && d.range.end.line <= 3, JSON.stringify(d));
    assert.ok(p.diagnostics.some((d) => d.range.start.line === 2), JSON.stringify(p.diagnostics));
    assert.deepEqual(await client.shutdown(), { code: 0, signal: null });
  } finally {
    client.kill();
  }
});

async function waitUntil(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
