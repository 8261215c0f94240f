/**
 * The e2e harness proved on a real, throwaway extension written here into a temporary extensions
 * dir: code-server loads and activates it, a command runs from the palette, a file is edited and
 * saved, and an extension's diagnostics, hover and completion reach the user. The template for the
 * Runwise extension's own e2e tests (which copy the built extension in with installExtension()).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { tempWorkspace } from '../support/tempWorkspace';
import {
  completionItems,
  goToPosition,
  hoverText,
  installExtension,
  openFile,
  openWorkbench,
  problemsPanelText,
  processGroupMembers,
  runCommand,
  saveActiveEditor,
  screenshotOnFailure,
  startCodeServer,
  typeInEditor,
  waitUntil,
  type CodeServer,
  type Workbench,
} from './codeServer';

/** A minimal extension: a command that writes a marker file, and hover/completion/diagnostics for *.smoke. */
function writeSmokeExtension(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify(
      {
        name: 'smoke',
        publisher: 'runwise-test',
        version: '0.0.1',
        engines: { vscode: '^1.103.0' },
        main: './extension.js',
        activationEvents: ['onStartupFinished'],
        contributes: { commands: [{ command: 'smoke.writeMarker', title: 'Smoke: Write Marker' }] },
      },
      null,
      2,
    ),
  );
  writeFileSync(
    path.join(dir, 'extension.js'),
    `const vscode = require('vscode');
const fs = require('fs');
const path = require('path');
exports.activate = (context) => {
  const root = vscode.workspace.workspaceFolders[0].uri.fsPath;
  context.subscriptions.push(vscode.commands.registerCommand('smoke.writeMarker', () => {
    fs.writeFileSync(path.join(root, 'marker.txt'), 'written by smoke.writeMarker in ' + process.version);
  }));
  const selector = { scheme: 'file', pattern: '**/*.smoke' };
  context.subscriptions.push(vscode.languages.registerHoverProvider(selector, {
    provideHover(doc, pos) {
      const range = doc.getWordRangeAtPosition(pos);
      return range && new vscode.Hover('Smoke hover for ' + doc.getText(range));
    },
  }));
  context.subscriptions.push(vscode.languages.registerCompletionItemProvider(selector, {
    provideCompletionItems: () => [new vscode.CompletionItem('smokeAlpha'), new vscode.CompletionItem('smokeBeta')],
  }));
  const diagnostics = vscode.languages.createDiagnosticCollection('smoke');
  const check = (doc) => {
    if (!doc.fileName.endsWith('.smoke')) return;
    const found = [];
    for (let i = doc.getText().indexOf('bad'); i >= 0; i = doc.getText().indexOf('bad', i + 3)) {
      found.push(new vscode.Diagnostic(new vscode.Range(doc.positionAt(i), doc.positionAt(i + 3)), 'smoke: "bad" is not allowed', vscode.DiagnosticSeverity.Error));
    }
    diagnostics.set(doc.uri, found);
  };
  vscode.workspace.textDocuments.forEach(check);
  context.subscriptions.push(diagnostics, vscode.workspace.onDidOpenTextDocument(check), vscode.workspace.onDidChangeTextDocument((e) => check(e.document)));
};
`,
  );
}

describe('code-server e2e harness (smoke)', { timeout: 600_000 }, () => {
  let root = '';
  let workspace = '';
  let server: CodeServer | undefined;
  let workbench: Workbench | undefined;
  const page = (): Page => {
    if (!workbench) throw new Error('the workbench did not open');
    return workbench.page;
  };

  before(async () => {
    root = tempWorkspace('e2e-smoke'); // removed when the test process ends
    workspace = path.join(root, 'workspace');
    mkdirSync(workspace);
    writeFileSync(path.join(workspace, 'notes.txt'), 'first line\n');
    writeFileSync(path.join(workspace, 'sample.smoke'), 'hello world\nthis is bad\n');
    const source = path.join(root, 'smoke-extension');
    writeSmokeExtension(source);
    const extensionsDir = path.join(root, 'extensions');
    installExtension(extensionsDir, source);
    server = await startCodeServer({ extensionsDir, workspace });
    workbench = await openWorkbench(server.url, workspace);
  });

  after(async () => {
    await workbench?.close();
    const pid = server?.pid;
    await server?.close();
    if (pid) assert.deepEqual(processGroupMembers(pid), [], 'code-server left no process behind');
  });

  it('runs a command contributed by the extension from the command palette', async (t) => {
    screenshotOnFailure(t, page, server);
    const marker = path.join(workspace, 'marker.txt');
    assert.equal(existsSync(marker), false);
    await runCommand(page(), 'Smoke: Write Marker');
    // Read once the file has its text: it exists a moment before writeFileSync has written it.
    const text = await waitUntil(() => (existsSync(marker) ? readFileSync(marker, 'utf8') : ''), 'the marker file written by the command', 30_000);
    // The extension host runs on code-server's Node (22), as desktop VS Code 1.103's Electron does.
    assert.match(text, /^written by smoke.writeMarker in v22\./);
  });

  it('opens a file with Quick Open, types into the editor and saves it', async (t) => {
    screenshotOnFailure(t, page, server);
    await openFile(page(), 'notes.txt');
    await goToPosition(page(), 2, 1);
    await typeInEditor(page(), 'typed by the e2e test\nsecond: line (kept as typed)');
    await saveActiveEditor(page());
    const file = path.join(workspace, 'notes.txt');
    await waitUntil(() => readFileSync(file, 'utf8').includes('second'), 'the saved file on disk', 10_000);
    assert.equal(readFileSync(file, 'utf8'), 'first line\ntyped by the e2e test\nsecond: line (kept as typed)');
  });

  it("shows the extension's diagnostics, hover and completion", async (t) => {
    screenshotOnFailure(t, page, server);
    await openFile(page(), 'sample.smoke');
    const problems = await waitUntil(
      async () => {
        const text = await problemsPanelText(page());
        return text.includes('smoke: "bad" is not allowed') ? text : '';
      },
      'the diagnostic in the Problems panel',
    );
    assert.match(problems, /Error: smoke: "bad" is not allowed at line 2 and character 9/);

    const hover = await hoverText(page(), { line: 1, column: 2 });
    assert.match(hover, /Smoke hover for hello/);

    await goToPosition(page(), 3, 1);
    await typeInEditor(page(), 'smoke');
    const items = await completionItems(page());
    assert.deepEqual(items.filter((i) => i.startsWith('smoke')).sort(), ['smokeAlpha', 'smokeBeta']);
  });
});
