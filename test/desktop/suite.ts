/**
 * The desktop VS Code suite (run by runDesktopTests.mjs through @vscode/test-electron): the checks of
 * test/e2e/extension.test.ts, through the extension's API and VS Code's commands instead of the
 * mouse. Bundled with esbuild and loaded by the extension host, which calls `run()`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunwiseApi } from '../../client/extension';
import type { RunsTreeNode } from '../../core/views/runsTreeModel';

const workspace = process.env.RUNWISE_DESKTOP_WORKSPACE ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
const tests: [string, () => Promise<void>][] = [];
const test = (name: string, fn: () => Promise<void>) => tests.push([name, fn]);

async function waitUntil<T>(check: () => T | Promise<T>, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let api: RunwiseApi;

function runNodes(): RunsTreeNode[] {
  const walk = (n: RunsTreeNode): RunsTreeNode[] => api.runs.children(n).flatMap((c) => (c.kind === 'run' ? [c, ...walk(c)] : []));
  return api.runs.roots().flatMap(walk);
}

/** Reads a run's name from .runwise/tracker.db in another process (Python's sqlite3). */
function runNameOnDisk(runId: string): string {
  const script = 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute("select name from runs where run_uuid=?", (sys.argv[2],)).fetchone()[0])';
  const r = spawnSync('python3', ['-c', script, path.join(workspace, '.runwise', 'tracker.db'), runId], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`reading the tracker with python3 failed: ${r.stderr}`);
  return r.stdout.trim();
}

test('activates, logs its activation time and starts the tracking endpoint', async () => {
  const ext = vscode.extensions.getExtension<RunwiseApi>('runwise.runwise');
  assert.ok(ext, 'the extension runwise.runwise is installed');
  api = await ext.activate();
  await api.ready;
  console.log(`# Runwise activation (own work in activate()): ${api.activationMs.toFixed(1)} ms`);
  const endpoint = api.endpoint();
  assert.ok(endpoint, 'the tracking endpoint runs');
  assert.match(endpoint.uri, /^http:\/\/127\.0\.0\.1:\d+$/);
});

test('(a) a script run in a new terminal appears in the Runs view with its metrics', async () => {
  const terminal = vscode.window.createTerminal({ name: 'train', cwd: workspace });
  terminal.show();
  terminal.sendText('python3 train.py');
  const node = await waitUntil(
    () => runNodes().find((n) => n.label === 'e2e-lr-0.05' && /accuracy 0\.7891/.test(n.description)),
    'the run with its accuracy in the Runs view model',
    60_000,
  );
  assert.match(node.description, /accuracy 0\.7891 · loss 0\.4219/);
  assert.equal(node.icon, 'FINISHED');
  terminal.dispose();
});

test('(b) renaming the run through the command changes it in the tracker', async () => {
  const node = runNodes().find((n) => n.label === 'e2e-lr-0.05');
  assert.ok(node?.runId);
  await vscode.commands.executeCommand('runwise.renameRun', { runId: node.runId, name: 'baseline <b>bold</b>' });
  assert.equal(runNameOnDisk(node.runId), 'baseline <b>bold</b>');
  await api.refreshRuns();
  assert.equal(api.runs.getRun(node.runId)?.runName, 'baseline <b>bold</b>');
});

test('(c) the language server: diagnostics, completion of stage keys, hover documentation', async () => {
  await waitUntil(() => api.isLanguageServerRunning(), 'the language server to run', 30_000);
  const uri = vscode.Uri.file(path.join(workspace, 'runwise.yaml'));
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc);
  const edit = new vscode.WorkspaceEdit();
  edit.insert(uri, new vscode.Position(5, 0), '    outz:\n');
  await vscode.workspace.applyEdit(edit);
  await doc.save();
  const diagnostic = await waitUntil(
    () => vscode.languages.getDiagnostics(uri).find((d) => /Unknown key 'outz'/.test(d.message)),
    "the diagnostic for the unknown key 'outz'",
    30_000,
  );
  assert.match(diagnostic.message, /Did you mean 'outs'\?/);

  const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, new vscode.Position(5, 4));
  const labels = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
  for (const key of ['outs', 'plots', 'wdir']) assert.ok(labels.includes(key), `completion offers '${key}': ${JSON.stringify(labels)}`);

  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(3, 5));
  const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
  assert.match(text, /The command to run/);
});

test('the run details panel opens for a run', async () => {
  const node = runNodes()[0];
  assert.ok(node?.runId);
  await vscode.commands.executeCommand('runwise.showRunDetails', { runId: node.runId });
  await waitUntil(
    () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.label.startsWith('Run')),
    'a run details tab',
    10_000,
  );
});

export async function run(): Promise<void> {
  const failures: string[] = [];
  for (const [name, fn] of tests) {
    try {
      await fn();
      console.log(`ok - ${name}`);
    } catch (e) {
      failures.push(name);
      console.error(`not ok - ${name}\n${e instanceof Error ? e.stack : String(e)}`);
    }
  }
  console.log(`# pass ${tests.length - failures.length}\n# fail ${failures.length}`);
  if (failures.length) throw new Error(`${failures.length} desktop test(s) failed: ${failures.join('; ')}`);
}
