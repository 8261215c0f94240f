/**
 * The Runwise extension in a real VS Code (code-server in headless Chromium), used as a user would:
 * packaged with vsce and installed from the .vsix into a fresh extensions dir, a fresh copy of
 * test/fixtures/e2e-workspace opened and trusted, then
 *   (a) a new integrated terminal runs `python3 train.py`, which logs through the tracking endpoint
 *       the extension started (MLFLOW_TRACKING_URI/TOKEN come from the terminal environment), and
 *       the run appears in the Runs view with its metrics, without a reload;
 *   (b) the run is renamed from the view's context menu, and the tracker on disk has the new name;
 *   (c) the language server: a broken runwise.yaml shows its problem in the Problems panel, a stage
 *       offers its keys as completions, and hovering a key shows its documentation.
 * Screenshots of failures go to test-results/e2e/.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { Tracker } from '../../core/tracker/tracker';
import { repoRoot } from '../support/browser';
import {
  completionItems,
  goToPosition,
  hoverText,
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
  withFreshBuild,
  type CodeServer,
  type Workbench,
} from './codeServer';

const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
const extensionFolderName = `${manifest.publisher}.${manifest.name}-${manifest.version}`;

/**
 * Builds the bundles and packages them with vsce; returns the .vsix path. RUNWISE_E2E_VSIX=/path
 * tests a .vsix made elsewhere instead (e.g. the `npm run package` release build).
 */
function packageExtension(outDir: string): string {
  if (process.env.RUNWISE_E2E_VSIX) return path.resolve(process.env.RUNWISE_E2E_VSIX);
  const vsix = path.join(outDir, `${manifest.name}-${manifest.version}.vsix`);
  const vsce = path.join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');
  // Built and packed while no other suite builds (withFreshBuild).
  withFreshBuild(() => execFileSync(process.execPath, [vsce, 'package', '--allow-missing-repository', '--out', vsix], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] }));
  return vsix;
}

/** Installs a .vsix the way VS Code lays it out: its `extension/` folder as `<publisher>.<name>-<version>`. */
function installVsix(vsix: string, extensionsDir: string): string {
  const unpacked = mkdtempSync(path.join(tmpdir(), 'runwise-vsix-'));
  execFileSync('unzip', ['-q', vsix, '-d', unpacked]);
  mkdirSync(extensionsDir, { recursive: true });
  const target = path.join(extensionsDir, extensionFolderName);
  rmSync(target, { recursive: true, force: true });
  renameSync(path.join(unpacked, 'extension'), target);
  rmSync(unpacked, { recursive: true, force: true });
  return target;
}

/** A fresh copy of the fixture workspace, with Runwise's one-file Python client next to train.py. */
function fixtureWorkspace(root: string): string {
  const workspace = path.join(root, 'workspace');
  cpSync(path.join(repoRoot, 'test', 'fixtures', 'e2e-workspace'), workspace, { recursive: true });
  cpSync(path.join(repoRoot, 'core', 'trackingClient', 'runwise_tracking.py'), path.join(workspace, 'runwise_tracking.py'));
  return workspace;
}

/** The Runwise output channel's log file in code-server's logs (LogOutputChannel writes one). */
function runwiseLog(userDataDir: string): string {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 6 || !existsSync(dir)) return;
    for (const e of readdirSync(dir)) {
      const p = path.join(dir, e);
      if (statSync(p).isDirectory()) walk(p, depth + 1);
      else if (e === 'Runwise.log') found.push(p);
    }
  };
  walk(path.join(userDataDir, 'logs'), 0);
  return found.map((f) => readFileSync(f, 'utf8')).join('\n');
}

/** The Runs view's rows (tree rows inside the view pane titled "Runs"). */
function runsViewRows(page: Page): Locator {
  return page.locator('.pane', { has: page.locator('.pane-header', { hasText: /^Runs/ }) }).locator('.monaco-list-row');
}

async function showRunsView(page: Page): Promise<void> {
  await runCommand(page, 'Runwise: Focus on Runs View');
  await page.locator('.pane-header', { hasText: /^Runs/ }).first().waitFor({ state: 'visible' });
}

describe('Runwise extension in code-server', { timeout: 900_000 }, () => {
  let root = '';
  let workspace = '';
  let server: CodeServer | undefined;
  let workbench: Workbench | undefined;
  const page = (): Page => {
    if (!workbench) throw new Error('the workbench did not open');
    return workbench.page;
  };

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'runwise-e2e-ext-'));
    workspace = fixtureWorkspace(root);
    const vsix = packageExtension(root);
    const extensionsDir = path.join(root, 'extensions');
    const installed = installVsix(vsix, extensionsDir);
    // The worker threads' bundles, which the extension host starts by path (not imported, so not bundled).
    for (const worker of ['dist/driftSideWorker.js', 'dist/datasetWorker.js']) assert.ok(existsSync(path.join(installed, worker)), `the .vsix holds ${worker}`);
    server = await startCodeServer({ extensionsDir, workspace });
    workbench = await openWorkbench(server.url, workspace);
  });

  after(async () => {
    await workbench?.close();
    const pid = server?.pid;
    await server?.close();
    if (pid) assert.deepEqual(processGroupMembers(pid), [], 'code-server left no process behind');
    if (!process.env.RUNWISE_KEEP_TEST_DIRS) rmSync(root, { recursive: true, force: true });
  });

  it('activates on the workspace, logs its activation time and starts the tracking endpoint', async (t) => {
    screenshotOnFailure(t, page, server);
    const log = await waitUntil(() => {
      const text = runwiseLog(server!.userDataDir);
      return /tracking server listening on http:\/\/127\.0\.0\.1:\d+/.test(text) ? text : '';
    }, 'the Runwise log saying the tracking server listens', 60_000);
    const activation = /Runwise activated in ([\d.]+) ms/.exec(log);
    assert.ok(activation, `no activation time in the Runwise log:\n${log}`);
    console.log(`# Runwise activation (own work in activate()): ${activation[1]} ms`);
    // code-server's extension host runs on Node 22, where the better-sqlite3 addon packaged for
    // Node 20 does not load: the tracker falls back to node:sqlite, as in desktop VS Code.
    assert.match(log, /opened \S+tracker\.db with node:sqlite in \d+ ms/);
    assert.ok(existsSync(path.join(workspace, '.runwise', 'tracker.db')), 'the tracker was created in the trusted workspace');
    await showRunsView(page());
    // The empty Runs view says what to do next.
    await page().getByText('No runs yet. Open a new terminal').waitFor({ state: 'visible', timeout: 30_000 });
  });

  it('(a) a script run in a new terminal logs a run that appears in the Runs view with its metrics', async (t) => {
    screenshotOnFailure(t, page, server);
    await runCommand(page(), 'Terminal: Create New Terminal');
    const terminal = page().locator('.terminal-wrapper.active .xterm');
    await terminal.waitFor({ state: 'visible', timeout: 30_000 });
    // Give the shell a moment to print its prompt before typing into it.
    await page().waitForTimeout(1500);
    await terminal.click();
    await page().keyboard.type('python3 train.py\n');
    await waitUntil(() => {
      const t = Tracker.open(workspace, { skipRecovery: true });
      try {
        return t.searchRuns({ filter: "attributes.status = 'FINISHED'" }).items.length === 1;
      } finally {
        t.close();
      }
    }, 'the run logged by train.py to finish in the tracker', 60_000);

    await showRunsView(page());
    const row = runsViewRows(page()).filter({ hasText: 'e2e-lr-0.05' });
    await row.first().waitFor({ state: 'visible', timeout: 10_000 });
    const description = await waitUntil(async () => {
      const d = await row.first().locator('.label-description').innerText();
      return /accuracy 0\.7891/.test(d) ? d : '';
    }, 'the run row to show its accuracy', 10_000);
    assert.match(description, /accuracy 0\.7891 · loss 0\.4219/);
    // Its experiment row counts it.
    const experiment = runsViewRows(page()).filter({ hasText: /^e2e/ }).first();
    assert.match(await experiment.innerText(), /1 run/);
  });

  it('(b) renaming the run from the Runs view context menu changes it in the tracker', async (t) => {
    screenshotOnFailure(t, page, server);
    await showRunsView(page());
    const row = runsViewRows(page()).filter({ hasText: 'e2e-lr-0.05' }).first();
    await row.click({ button: 'right' });
    // VS Code's menu ignores a click that lands right after it opened; pointing at the item and
    // pressing Enter is what a keyboard user does and works every time.
    const item = page().locator('.context-view .monaco-menu .action-item', { hasText: 'Rename Run' });
    await item.hover();
    await page().keyboard.press('Enter');
    const input = page().locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    assert.equal(await input.inputValue(), 'e2e-lr-0.05');
    await input.fill('baseline <b>bold</b>');
    await page().keyboard.press('Enter');

    const renamed = await waitUntil(() => {
      const tr = Tracker.open(workspace, { skipRecovery: true });
      try {
        const run = tr.searchRuns().items[0];
        return run && run.info.runName !== 'e2e-lr-0.05' ? run.info.runName : '';
      } finally {
        tr.close();
      }
    }, 'the new run name in the tracker', 15_000);
    assert.equal(renamed, 'baseline <b>bold</b>');
    // The view shows the new name as text.
    await runsViewRows(page()).filter({ hasText: 'baseline <b>bold</b>' }).first().waitFor({ state: 'visible', timeout: 5_000 });
  });

  it('(c) the language server: diagnostics in the Problems panel, completion of stage keys, hover documentation', async (t) => {
    screenshotOnFailure(t, page, server);
    await openFile(page(), 'runwise.yaml');
    // Line 6 is `    deps:` of stage `train`; a misspelt key goes above it.
    await goToPosition(page(), 6, 1);
    await typeInEditor(page(), '    outz:\n');
    await saveActiveEditor(page());
    const problems = await waitUntil(async () => {
      const text = await problemsPanelText(page());
      return /Unknown key 'outz'/.test(text) ? text : '';
    }, "the language server's diagnostic for the unknown key in the Problems panel", 60_000);
    assert.match(problems, /Unknown key 'outz'\. Did you mean 'outs'\?/);

    // Completion inside the stage, on the line of the bad key: the stage keys it does not have yet.
    await goToPosition(page(), 6, 5);
    const items = await completionItems(page());
    for (const key of ['outs', 'plots', 'wdir']) assert.ok(items.includes(key), `completion offers '${key}': ${JSON.stringify(items)}`);
    assert.ok(!items.includes('cmd'), `'cmd' is already in the stage: ${JSON.stringify(items)}`);

    // Hover over `cmd` (line 4) shows its documentation.
    const hover = await hoverText(page(), { line: 4, column: 6 });
    assert.match(hover, /The command to run/);
  });

  it('restarts the language server when its process dies', async (t) => {
    screenshotOnFailure(t, page, server);
    const serverPids = () =>
      processGroupMembers(server!.pid).filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((a) => a.endsWith(path.join(extensionFolderName, 'dist', 'server.js')));
        } catch {
          return false;
        }
      });
    const [first] = await waitUntil(() => (serverPids().length === 1 ? serverPids() : undefined), 'one running language server process');
    process.kill(first!, 'SIGKILL');
    const second = await waitUntil(() => serverPids().find((p) => p !== first), 'a new language server process', 30_000);
    assert.ok(second > 0 && second !== first);
    await waitUntil(() => /the language server stopped unexpectedly; restarting it/.test(runwiseLog(server!.userDataDir)), 'the restart in the Runwise log', 10_000);
    // The new server answers: the hover over `cmd` works again.
    await openFile(page(), 'runwise.yaml');
    const hover = await waitUntil(async () => {
      const h = await hoverText(page(), { line: 4, column: 6 }, 5_000);
      return /The command to run/.test(h) ? h : '';
    }, 'a hover from the restarted server', 30_000);
    assert.match(hover, /The command to run/);
  });

  it('opens the run details webview from the Runs view, with the run name as text', async (t) => {
    screenshotOnFailure(t, page, server);
    await showRunsView(page());
    await runsViewRows(page()).filter({ hasText: 'baseline <b>bold</b>' }).first().click();
    // The webview lives in nested iframes (VS Code's webview host, then the page).
    const outer = page().frameLocator('iframe.webview.ready');
    const inner = outer.frameLocator('iframe#active-frame');
    const name = inner.locator('#run-name');
    await name.waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await name.innerText(), 'baseline <b>bold</b>');
    assert.equal(await inner.locator('#run-name b').count(), 0, 'the name was not parsed as HTML');
    assert.match(await inner.locator('table').first().innerText(), /lr\s+0\.05/);
  });
});

describe('Runwise extension in an untrusted workspace (Restricted Mode)', { timeout: 600_000 }, () => {
  let root = '';
  let workspace = '';
  let server: CodeServer | undefined;
  let workbench: Workbench | undefined;
  let runId = '';
  const page = (): Page => {
    if (!workbench) throw new Error('the workbench did not open');
    return workbench.page;
  };

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'runwise-e2e-untrusted-'));
    workspace = fixtureWorkspace(root);
    // A tracker with one finished run, as if logged earlier.
    const t = Tracker.open(workspace);
    try {
      const run = t.createRun({ runName: 'logged-before', experimentId: t.createExperiment('earlier').experimentId });
      t.logBatch(run.info.runId, { params: [{ key: 'lr', value: '0.1' }], metrics: [{ key: 'accuracy', value: 0.5, step: 0, timestamp: Date.now() }] });
      t.updateRun(run.info.runId, { status: 'FINISHED' });
      runId = run.info.runId;
    } finally {
      t.close();
    }
    const vsix = packageExtension(root);
    const extensionsDir = path.join(root, 'extensions');
    installVsix(vsix, extensionsDir);
    server = await startCodeServer({ extensionsDir, workspace });
    workbench = await openWorkbench(server.url, workspace, { trust: 'restricted' });
  });

  after(async () => {
    await workbench?.close();
    await server?.close();
    if (!process.env.RUNWISE_KEEP_TEST_DIRS) rmSync(root, { recursive: true, force: true });
  });

  it('shows the runs read-only, starts no endpoint and refuses to start one', async (t) => {
    screenshotOnFailure(t, page, server);
    await showRunsView(page());
    const row = runsViewRows(page()).filter({ hasText: 'logged-before' }).first();
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await row.locator('.label-description').innerText(), /accuracy 0\.5/);
    const log = await waitUntil(() => {
      const text = runwiseLog(server!.userDataDir);
      return /untrusted: analysis and viewing only/.test(text) ? text : '';
    }, 'the Runwise log of the untrusted activation', 30_000);
    assert.doesNotMatch(log, /tracking server listening/);
    assert.match(log, /read-only \(untrusted workspace\)/);

    await runCommand(page(), 'Runwise: Start Tracking Server');
    const note = await waitUntil(async () => (await page().locator('.notification-toast').allInnerTexts()).find((x) => /untrusted workspace/.test(x)), 'the Restricted Mode message', 15_000);
    assert.match(note, /does not start the tracking server in an untrusted workspace/);
    assert.doesNotMatch(runwiseLog(server!.userDataDir), /tracking server listening/);
    // A command that would write is there and says why it does nothing (not greyed out unexplained).
    await runCommand(page(), 'Runwise: Evaluate Model…');
    const refused = await waitUntil(async () => (await page().locator('.notification-toast').allInnerTexts()).find((x) => /does not evaluate models in an untrusted workspace/.test(x)), 'the Evaluate Model refusal', 15_000);
    assert.match(refused, /Manage Workspace Trust/);
    // Nothing was written: the run is as it was.
    const tr = Tracker.open(workspace, { skipRecovery: true });
    try {
      assert.equal(tr.getRun(runId).info.runName, 'logged-before');
    } finally {
      tr.close();
    }
  });
});
