/**
 * The editor (e2e) test harness: a real VS Code build (code-server, installed by
 * scripts/e2eTools.mjs) in headless Debian Chromium, driven by playwright-core the way a user drives
 * it: the command palette, Quick Open, the keyboard, the Problems panel, hovers, the suggest widget.
 *
 *   const server = await startCodeServer({ extensionsDir, workspace });
 *   const { page } = await openWorkbench(server.url, workspace);
 *   await runCommand(page, 'Runwise: Start Tracking Server');
 *   ...
 *   await closeWorkbench(); await server.close();
 *
 * code-server runs in its own process group, killed whole on close() and when this process exits,
 * so no extension host or file watcher outlives a test. It runs on the Node 22 of the test-tool cache
 * (code-server 4.103.2 requires it), and so do its extension hosts and the language servers they
 * start: the tracker's better-sqlite3 addon, built for the project's Node 20, does not load there and
 * the tracker uses node:sqlite, as in desktop VS Code.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium, loadE2eTools, repoRoot, screenshotOnFailure as saveOnFailure, type E2eTools } from '../support/browser';

// ---------------------------------------------------------------------------------------------
// code-server

/**
 * User settings for a quiet, deterministic workbench. Workspace Trust stays enabled (the Runwise
 * security model depends on it); openWorkbench() answers the trust dialog the way a user would.
 * Typing aids that would rewrite what a test types (auto-closing, auto-indent, accepting a
 * suggestion on Enter, suggestions popping up while typing) are off; a test can override any of
 * these through `settings`.
 */
export const defaultSettings: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.editor.enablePreview': false,
  'security.workspace.trust.enabled': true,
  'security.workspace.trust.startupPrompt': 'always',
  'telemetry.telemetryLevel': 'off',
  'extensions.ignoreRecommendations': true,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'update.showReleaseNotes': false,
  'git.enabled': false,
  'git.autoRepositoryDetection': false,
  'chat.commandCenter.enabled': false,
  'files.autoSave': 'off',
  'editor.autoClosingBrackets': 'never',
  'editor.autoClosingQuotes': 'never',
  'editor.autoSurround': 'never',
  'editor.autoIndent': 'none',
  'editor.formatOnType': false,
  'editor.acceptSuggestionOnEnter': 'off',
  'editor.quickSuggestions': { other: 'off', comments: 'off', strings: 'off' },
  'editor.suggestOnTriggerCharacters': false,
  'editor.parameterHints.enabled': false,
  'editor.hover.delay': 100,
};

export interface CodeServerOptions {
  /** Passed as --extensions-dir: every extension folder in it is loaded (installExtension()). */
  extensionsDir: string;
  /** The folder to open (also passed on the command line, so the bare URL opens it). */
  workspace: string;
  /** Passed as --user-data-dir; a fresh temporary one by default (removed on close). */
  userDataDir?: string;
  /** Merged over defaultSettings into <userDataDir>/User/settings.json. */
  settings?: Record<string, unknown>;
  /** Extra environment for code-server and so for the extension host. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for code-server to listen (default 90 s: a cold start is 10–30 s here). */
  startTimeoutMs?: number;
}

export interface CodeServer {
  url: string;
  port: number;
  pid: number;
  userDataDir: string;
  /** Everything code-server printed so far. */
  logs(): string;
  /** Kills code-server's whole process group (extension hosts, watchers) and removes temp dirs. */
  close(): Promise<void>;
}

/** code-servers still running (process group → its temp dir), killed if this process ends first. */
const liveGroups = new Map<number, string>();
let exitHooksInstalled = false;

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* already gone */
  }
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', () => {
    for (const [g, dir] of liveGroups) {
      killGroup(g, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      // exit runs the hook above (and playwright's, which closes Chromium).
      process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const)[signal]);
    });
  }
}

/** Live (non-zombie) processes whose process group is `pgid` (Linux /proc). */
export function processGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(entry));
    } catch {
      /* exited while we looked */
    }
  }
  return members;
}

async function waitUntilGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (processGroupMembers(pgid).length > 0) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** Starts code-server on a free loopback port; resolves once it listens. */
export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const tools = (await loadE2eTools()) as E2eTools & { codeServerNode(): string };
  const entry = await tools.ensureCodeServer();
  const node = tools.codeServerNode();
  const own = mkdtempSync(path.join(tmpdir(), 'runwise-cs-'));
  const userDataDir = options.userDataDir ?? path.join(own, 'user-data');
  const settingsFile = path.join(userDataDir, 'User', 'settings.json');
  mkdirSync(path.dirname(settingsFile), { recursive: true });
  mkdirSync(options.extensionsDir, { recursive: true });
  let existing: Record<string, unknown> = {};
  if (existsSync(settingsFile)) {
    try {
      existing = JSON.parse(readFileSync(settingsFile, 'utf8')) as Record<string, unknown>;
    } catch {
      /* not plain JSON (comments): replaced */
    }
  }
  writeFileSync(settingsFile, JSON.stringify({ ...defaultSettings, ...existing, ...options.settings }, null, 2));
  // An explicit config file, or code-server writes ~/.config/code-server/config.yaml with a password.
  const config = path.join(own, 'config.yaml');
  writeFileSync(config, 'auth: none\ncert: false\n');

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(own, 'xdg-config'),
    XDG_DATA_HOME: path.join(own, 'xdg-data'),
    XDG_CACHE_HOME: path.join(own, 'xdg-cache'),
    ...options.env,
  };
  delete env.NODE_TEST_CONTEXT; // set by `node --test` for test files, not for what they start
  delete env.PASSWORD;
  delete env.HASHED_PASSWORD;

  const args = [
    entry,
    '--config', config,
    '--auth', 'none',
    '--bind-addr', '127.0.0.1:0',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--user-data-dir', userDataDir,
    '--extensions-dir', options.extensionsDir,
    options.workspace,
  ];
  // Its own process group (detached), so close() can kill the extension hosts and watchers too.
  const child: ChildProcess = spawn(node, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid!;
  installExitHooks();
  liveGroups.set(pid, own);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    killGroup(pid, 'SIGTERM');
    const gone = await Promise.race([exited.then(() => waitUntilGone(pid, 5_000)), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))]);
    if (!gone) killGroup(pid, 'SIGKILL');
    await waitUntilGone(pid, 5_000);
    liveGroups.delete(pid);
    rmSync(own, { recursive: true, force: true });
  };

  const timeoutMs = options.startTimeoutMs ?? 90_000;
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`code-server did not listen within ${timeoutMs} ms`)), timeoutMs);
      const look = (): void => {
        const m = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      child.stdout!.on('data', look);
      child.stderr!.on('data', look);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`code-server exited (${code ?? signal}) before it listened`));
      });
    });
    return { url: `http://127.0.0.1:${port}/`, port, pid, userDataDir, logs: () => output, close };
  } catch (e) {
    await close();
    throw new Error(`${(e as Error).message}; its output:\n${output}`);
  }
}

/**
 * Copies an extension folder (with its package.json) into an extensions dir under the name VS Code
 * gives installed extensions, `<publisher>.<name>-<version>`; returns the new folder.
 */
export function installExtension(extensionsDir: string, sourceDir: string, filter?: (source: string) => boolean): string {
  const manifest = JSON.parse(readFileSync(path.join(sourceDir, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
  const target = path.join(extensionsDir, `${manifest.publisher}.${manifest.name}-${manifest.version}`.toLowerCase());
  rmSync(target, { recursive: true, force: true });
  cpSync(sourceDir, target, { recursive: true, filter: filter ?? (() => true), dereference: true });
  return target;
}

/**
 * This checkout's extension, freshly built (esbuild), copied into `extensionsDir`: the bundles,
 * manifest and assets; with `onnxRuntime`, also onnxruntime-node (which the bundles load from
 * node_modules) with only this machine's native addon.
 */
export function installBuiltExtension(extensionsDir: string, options: { onnxRuntime?: boolean } = {}): void {
  withFreshBuild(() => installBuiltFiles(extensionsDir, options));
}

/**
 * Builds the extension (esbuild) and runs `read` (what packs or copies dist/ right after) while no
 * other e2e process does: the layer runs two suites at a time, and esbuild rewrites dist/ in place,
 * so a suite zipping or copying dist/ while another builds read a file mid-write ("file data stream
 * has unexpected number of bytes" from vsce). A lock directory (atomic mkdir) beside the system's
 * temporary files, named for this checkout, serialises them; one left by a killed run is taken
 * after two minutes.
 */
export function withFreshBuild<T>(read: () => T): T {
  const lock = path.join(tmpdir(), `runwise-e2e-build-${createHash('sha1').update(repoRoot).digest('hex').slice(0, 12)}.lock`);
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* released meanwhile */
      }
      if (Date.now() > deadline) throw new Error(`another e2e suite has held ${lock} for 5 minutes`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: repoRoot, stdio: 'inherit' });
    return read();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function installBuiltFiles(extensionsDir: string, options: { onnxRuntime?: boolean }): void {
  const keep = ['package.json', 'README.md', 'LICENSE', 'dist', 'media', 'syntaxes', ...(options.onnxRuntime ? ['node_modules/onnxruntime-common', 'node_modules/onnxruntime-node'] : [])];
  installExtension(extensionsDir, repoRoot, (source) => {
    const rel = path.relative(repoRoot, source);
    const parts = rel.split(path.sep);
    if (rel === '' || (options.onnxRuntime && rel === 'node_modules')) return true;
    // node_modules/onnxruntime-node/bin/napi-vN/<os>/<arch>: only this machine's addon.
    if (parts[1] === 'onnxruntime-node' && parts[2] === 'bin') {
      if (parts.length >= 5 && parts[4] !== process.platform) return false;
      if (parts.length >= 6 && parts[5] !== process.arch) return false;
    }
    return keep.some((k) => rel === k.split('/').join(path.sep) || rel.startsWith(`${k.split('/').join(path.sep)}${path.sep}`));
  });
}

// ---------------------------------------------------------------------------------------------
// The workbench in Chromium

export interface Workbench {
  browser: Browser;
  page: Page;
  close(): Promise<void>;
}

export interface OpenWorkbenchOptions {
  /**
   * How to answer the Workspace Trust dialog: 'trust' (default), 'restricted' (restricted mode), or
   * 'no-dialog' when the settings turned trust off. Trust cannot be granted ahead: VS Code in the
   * browser keeps trusted folders in the browser's storage, which is new for every test.
   */
  trust?: 'trust' | 'restricted' | 'no-dialog';
  timeoutMs?: number;
  browser?: Browser;
}

/** Opens `folder` in the workbench at `url`; resolves once the workbench and its extensions are up. */
export async function openWorkbench(url: string, folder: string, options: OpenWorkbenchOptions = {}): Promise<Workbench> {
  const timeout = options.timeoutMs ?? 90_000;
  const ownBrowser = !options.browser;
  const browser = options.browser ?? (await launchChromium());
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const target = new URL(url);
    target.searchParams.set('folder', path.resolve(folder));
    await page.goto(target.href, { timeout });
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout });
    const trust = options.trust ?? 'trust';
    if (trust !== 'no-dialog') {
      const name = trust === 'trust' ? 'Yes, I trust the authors' : "No, I don't trust the authors";
      await page.locator('.monaco-dialog-box').getByRole('button', { name }).click({ timeout });
      await page.locator('.monaco-dialog-box').waitFor({ state: 'hidden', timeout });
    }
    if (trust === 'trust') {
      await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).waitFor({ state: 'hidden', timeout });
    }
    // The workbench marks its phases with performance marks: extensions scanned and the last
    // startup phase reached.
    await page.waitForFunction(
      () => {
        const names = new Set(performance.getEntriesByType('mark').map((m) => m.name));
        return names.has('code/didLoadExtensions') && names.has('code/LifecyclePhase/Eventually');
      },
      undefined,
      { timeout, polling: 200 },
    );
    return {
      browser,
      page,
      close: async () => {
        await context.close().catch(() => undefined);
        if (ownBrowser) await browser.close().catch(() => undefined);
      },
    };
  } catch (e) {
    if (ownBrowser) await browser.close().catch(() => undefined);
    throw e;
  }
}

const quickInput = (page: Page): Locator => page.locator('.quick-input-widget');
const quickInputBox = (page: Page): Locator => page.locator('.quick-input-widget .quick-input-box input');

async function closeQuickInput(page: Page): Promise<void> {
  if (await quickInput(page).isVisible()) {
    await page.keyboard.press('Escape');
    await quickInput(page).waitFor({ state: 'hidden', timeout: 5_000 });
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Runs a command by its palette title (e.g. 'Runwise: Start Tracking Server'): F1, type, click the
 * row whose label is exactly that title. Commands an extension contributes can appear a moment
 * after the workbench is up, so the palette is reopened until the command is there.
 */
export async function runCommand(page: Page, title: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const exact = new RegExp(`^${escapeRegExp(title)}$`);
  for (let attempt = 1; ; attempt++) {
    await closeQuickInput(page);
    await page.keyboard.press('F1');
    const opened = await quickInputBox(page)
      .waitFor({ state: 'visible', timeout: Math.max(1_000, Math.min(5_000, deadline - Date.now())) })
      .then(() => true, () => false);
    if (!opened) {
      // Focus inside a webview (a Markdown preview, a report) can keep F1 from the workbench: the
      // side bar's title (inert) takes the focus back, and the palette is opened again.
      if (Date.now() > deadline) throw new Error(`the command palette did not open for "${title}" within ${timeoutMs} ms`);
      await page.locator('.part.sidebar .composite.title, .part.statusbar').first().click({ position: { x: 40, y: 5 } }).catch(() => undefined);
      continue;
    }
    // The palette can close as soon as it opened (a preview that finishes loading takes the focus):
    // then it is opened again rather than waited on.
    const filled = await quickInputBox(page)
      .fill(`>${title}`, { timeout: 3_000 })
      .then(() => true, () => false);
    if (!filled) {
      if (Date.now() > deadline) throw new Error(`the command palette closed before "${title}" could be typed, for ${timeoutMs} ms`);
      continue;
    }
    const row = page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: page.locator('.label-name', { hasText: exact }) })
      .first();
    try {
      await row.waitFor({ state: 'visible', timeout: Math.max(1_000, Math.min(5_000, deadline - Date.now())) });
      // A click bounded, so that a try that cannot land leaves time for the next; a row that does
      // not take the pointer (the list redrawn under it) but has the list's focus is chosen with
      // Enter, as a user would.
      const clicked = await row.click({ timeout: Math.max(1_000, Math.min(5_000, deadline - Date.now())) }).then(() => true, () => false);
      if (clicked) return;
      const focused = page.locator('.quick-input-list .monaco-list-row.focused').filter({ has: page.locator('.label-name', { hasText: exact }) });
      if ((await focused.count()) > 0) {
        await page.keyboard.press('Enter');
        return;
      }
      throw new Error(`the row "${title}" took no click and had not the list's focus`);
    } catch (e) {
      if (Date.now() > deadline) {
        const shown = await page.locator('.quick-input-list .monaco-list-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label')));
        await closeQuickInput(page);
        throw new Error(`no command "${title}" in the command palette after ${attempt} tries (${timeoutMs} ms); it showed: ${JSON.stringify(shown)} (${(e as Error).message.split('\n')[0]})`);
      }
    }
  }
}

/** The active editor's tab and its text area (a textarea, or the EditContext div in newer builds). */
function activeEditorInput(page: Page): Locator {
  return page.locator('.editor-group-container.active .editor-instance .monaco-editor').first().locator('textarea.inputarea, .native-edit-context').first();
}

/** Opens a workspace file by its path relative to the folder, through Quick Open (Ctrl+P). */
export async function openFile(page: Page, relPath: string, timeoutMs = 30_000): Promise<void> {
  const base = path.basename(relPath);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await closeQuickInput(page);
    await page.keyboard.press('Control+P');
    await quickInputBox(page).waitFor({ state: 'visible' });
    await quickInputBox(page).fill(relPath);
    // Quick Open ranks the exact path first; its row's label is the file name.
    const first = page.locator('.quick-input-list .monaco-list-row').first();
    try {
      await first.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(base)}$`) }).waitFor({ timeout: Math.max(1_000, Math.min(5_000, deadline - Date.now())) });
      break;
    } catch (e) {
      // A file created a moment ago may not be in the file search yet.
      if (Date.now() > deadline) throw new Error(`Quick Open found no ${relPath} within ${timeoutMs} ms: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: base }).waitFor({ state: 'visible' });
  await activeEditorInput(page).waitFor({ state: 'attached' });
}

/** Moves the cursor in the active editor to a 1-based line and column (Go to Line, Ctrl+G). */
export async function goToPosition(page: Page, line: number, column = 1): Promise<void> {
  await closeQuickInput(page);
  await page.keyboard.press('Control+G');
  await quickInputBox(page).waitFor({ state: 'visible' });
  await quickInputBox(page).fill(`:${line}:${column}`);
  await page.keyboard.press('Enter');
  await quickInput(page).waitFor({ state: 'hidden' });
}

/**
 * Types into the active editor at its cursor, key by key (so an extension sees real typing). With
 * `{ insert: true }` the text arrives in one piece, like a paste, without key handling.
 */
export async function typeInEditor(page: Page, text: string, options: { insert?: boolean } = {}): Promise<void> {
  await closeQuickInput(page);
  const input = activeEditorInput(page);
  await input.focus();
  if (options.insert) await page.keyboard.insertText(text);
  else await page.keyboard.type(text);
}

/** Saves the active editor (Ctrl+S) and waits until its tab is no longer dirty. */
export async function saveActiveEditor(page: Page): Promise<void> {
  await activeEditorInput(page).focus();
  await page.keyboard.press('Control+S');
  await page.locator('.tabs-container .tab.active.dirty').waitFor({ state: 'detached' });
}

/** The Problems panel's rows (file rows and problem rows, as their accessible labels), one a line. */
export async function problemsPanelText(page: Page): Promise<string> {
  const panel = page.locator('.markers-panel');
  if (!(await panel.isVisible())) {
    await closeQuickInput(page);
    await page.keyboard.press('Control+Shift+M');
    await panel.waitFor({ state: 'visible' });
  }
  const rows = await panel.locator('.monaco-list-row').evaluateAll((els) => els.map((el) => el.getAttribute('aria-label') ?? el.textContent ?? ''));
  return rows.join('\n');
}

/** The hover at a position of the active editor (Ctrl+K Ctrl+I, "Show Hover"); '' when none shows. */
export async function hoverText(page: Page, position?: { line: number; column: number }, timeoutMs = 10_000): Promise<string> {
  if (position) await goToPosition(page, position.line, position.column);
  await activeEditorInput(page).focus();
  await page.keyboard.press('Control+K');
  await page.keyboard.press('Control+I');
  const hover = page.locator('.monaco-editor .monaco-hover:not(.hidden)').first();
  try {
    await hover.waitFor({ state: 'visible', timeout: timeoutMs });
  } catch {
    return '';
  }
  const deadline = Date.now() + timeoutMs;
  let text = await hover.innerText();
  while (/^\s*Loading\.\.\.\s*$/.test(text) && Date.now() < deadline) {
    await page.waitForTimeout(50);
    text = await hover.innerText();
  }
  await page.keyboard.press('Escape');
  return text.trim();
}

/**
 * The labels in the suggest widget after Ctrl+Space at the cursor (or at `position`); [] when it
 * says there are no suggestions. Only the rows the widget renders (about a dozen) are read: type a
 * prefix first to narrow a long list.
 */
export async function completionItems(page: Page, position?: { line: number; column: number }, timeoutMs = 15_000): Promise<string[]> {
  if (position) await goToPosition(page, position.line, position.column);
  await activeEditorInput(page).focus();
  await page.keyboard.press('Control+Space');
  const widget = page.locator('.editor-widget.suggest-widget.visible');
  await widget.waitFor({ state: 'visible', timeout: timeoutMs });
  const rows = widget.locator('.monaco-list-row');
  const none = widget.locator('.message', { hasText: /No suggestions/ });
  await rows.first().or(none).waitFor({ state: 'visible', timeout: timeoutMs });
  const labels = (await none.isVisible()) ? [] : await rows.locator('.label-name').allInnerTexts();
  await page.keyboard.press('Escape');
  return labels.map((l) => l.trim());
}

/** The texts of the notification toasts now showing (e.g. an extension's showInformationMessage). */
export async function notificationTexts(page: Page): Promise<string[]> {
  return page.locator('.notification-toast .notification-list-item-message').allInnerTexts();
}

export interface EditorSessionOptions {
  /** Writes the workspace under `root` (a fresh temporary folder) and returns its path. */
  workspace: (root: string) => string | Promise<string>;
  /** Puts the extension under test into `extensionsDir`; default: installBuiltExtension. */
  install?: (extensionsDir: string) => void;
  trust?: OpenWorkbenchOptions['trust'];
  settings?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
}

/**
 * One suite's editor: a temporary root holding the workspace and an extensions dir, code-server
 * serving it with the extension installed, and its workbench in Chromium. `page()` throws until
 * `open()` has opened it; `close()` ends both and removes the root (unless RUNWISE_KEEP_TEST_DIRS).
 */
export class EditorSession {
  root = '';
  workspace = '';
  server: CodeServer | undefined;
  workbench: Workbench | undefined;

  constructor(private readonly label: string) {}

  async open(options: EditorSessionOptions): Promise<void> {
    this.root = mkdtempSync(path.join(tmpdir(), `runwise-e2e-${this.label}-`));
    this.workspace = await options.workspace(this.root);
    const extensionsDir = path.join(this.root, 'extensions');
    (options.install ?? installBuiltExtension)(extensionsDir);
    this.server = await startCodeServer({ extensionsDir, workspace: this.workspace, ...(options.settings ? { settings: options.settings } : {}), ...(options.env ? { env: options.env } : {}) });
    this.workbench = await openWorkbench(this.server.url, this.workspace, { trust: options.trust ?? 'trust' });
  }

  readonly page = (): Page => {
    if (!this.workbench) throw new Error('the workbench did not open');
    return this.workbench.page;
  };

  async close(): Promise<void> {
    await this.workbench?.close();
    await this.server?.close();
    if (this.root && !process.env.RUNWISE_KEEP_TEST_DIRS) rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * Right-clicks `row` and picks the menu item whose label starts with `item`. A click that lands while
 * the menu is still settling can leave it open with the item only highlighted: then the highlighted
 * item is chosen with the keyboard, as a user would.
 */
export async function contextMenu(page: Page, row: Locator, item: string): Promise<void> {
  await row.click({ button: 'right' });
  const entry = page.locator('.monaco-menu .action-item', { hasText: new RegExp(`^${item.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) }).first();
  await entry.waitFor({ state: 'visible', timeout: 10_000 });
  await entry.click();
  const menu = page.locator('.monaco-menu').first();
  const closed = await menu.waitFor({ state: 'hidden', timeout: 3_000 }).then(
    () => true,
    () => false,
  );
  if (!closed) {
    await entry.hover();
    await page.keyboard.press('Enter');
    await menu.waitFor({ state: 'hidden', timeout: 5_000 });
  }
}

/** Polls `check` until it returns a truthy value; throws with `what` when the time is up. */
export async function waitUntil<T>(check: () => T | Promise<T>, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Call at the start of a test: if it fails, saves a screenshot of the workbench (and code-server's
 * output) to test-results/e2e/.
 */
export function screenshotOnFailure(t: TestContext, page: Page | (() => Page | undefined), server?: CodeServer): void {
  saveOnFailure(t, page, { dir: 'e2e', logs: server ? () => ({ 'code-server.log': server.logs() }) : undefined });
}
