/**
 * Debian's Chromium driven by playwright-core, for the webview and editor (e2e) test layers. The
 * install (apt-get) is done by scripts/e2eTools.mjs; a missing browser makes the test fail loudly.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const repoRoot = path.resolve(__dirname, '..', '..');

/** scripts/e2eTools.mjs, which is plain ESM (loaded with import(), not require()). */
export interface E2eTools {
  chromiumPath: string;
  codeServerVersion: string;
  codeServerEntry: string;
  ensureChromium(): Promise<string>;
  ensureCodeServer(): Promise<string>;
}

export function loadE2eTools(): Promise<E2eTools> {
  return import(pathToFileURL(path.join(repoRoot, 'scripts', 'e2eTools.mjs')).href) as Promise<E2eTools>;
}

/**
 * What Debian's Chromium needs as root on these machines (closed network, no GPU). playwright's
 * launch() adds a fresh temporary --user-data-dir itself (and removes it on close).
 */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Launches headless Chromium (installing Debian's package first if it is missing). */
export async function launchChromium(): Promise<Browser> {
  const tools = await loadE2eTools();
  const executablePath = await tools.ensureChromium();
  try {
    // playwright closes the browser itself when this process exits or gets SIGINT/SIGTERM/SIGHUP.
    return await chromium.launch({ executablePath, args: chromiumArgs, headless: true, timeout: 60_000 });
  } catch (e) {
    throw new Error(`could not launch ${executablePath} through playwright-core: ${(e as Error).message}`);
  }
}

export interface FailureArtifacts {
  /** Subfolder of test-results/ (kept as CI artifacts): 'e2e', 'webview'. */
  dir: string;
  /** Extra text files to write beside the screenshot (e.g. a server log), name → content. */
  logs?: () => Record<string, string>;
}

/**
 * Registers, at the start of a test, a screenshot of `page` (and any logs) saved to
 * test-results/<dir>/ if the test fails. Node's test runner calls the hook after the test with
 * `t.passed` known.
 */
export function screenshotOnFailure(t: TestContext, page: Page | (() => Page | undefined), artifacts: FailureArtifacts): void {
  t.after(async () => {
    const passed = (t as TestContext & { passed?: boolean }).passed;
    if (passed === true) return;
    const out = path.join(repoRoot, 'test-results', artifacts.dir);
    mkdirSync(out, { recursive: true });
    const base = `${t.name.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 80)}-${Date.now()}`;
    const p = typeof page === 'function' ? page() : page;
    try {
      if (p && !p.isClosed()) {
        const file = path.join(out, `${base}.png`);
        await p.screenshot({ path: file, fullPage: true, timeout: 10_000 });
        console.error(`screenshot of the failed test: ${file}`);
      }
    } catch (e) {
      console.error(`could not take a screenshot for ${t.name}: ${(e as Error).message}`);
    }
    for (const [name, text] of Object.entries(artifacts.logs?.() ?? {})) {
      writeFileSync(path.join(out, `${base}-${name}`), text);
    }
  });
}
