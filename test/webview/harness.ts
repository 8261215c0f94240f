/**
 * The webview test harness: a webview bundle in real (Debian) Chromium, in the same HTML shell and
 * under the same Content-Security-Policy the extension uses (webview/shared/webviewHtml.ts), with a
 * scripted host in place of VS Code:
 *   - `acquireVsCodeApi()` returns `{ postMessage, getState, setState }`; what the webview posts is
 *     recorded (after a JSON round trip, as the real host serializes it) for the test to read;
 *   - the test delivers host→webview messages as VS Code does, as `message` events on window
 *     (`window.postMessage(msg, '*')`);
 *   - Content-Security-Policy violations (`securitypolicyviolation` events), console messages and
 *     uncaught page errors are recorded too.
 *
 *   const view = await openWebview({ bundle: '/abs/runs.js' });
 *   await view.waitForMessage((m) => m.type === 'ready');
 *   await view.deliver({ type: 'runs', runs: [...] });
 *   ...
 *   await view.close();
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { createNonce, webviewHtml } from '../../webview/shared/webviewHtml';
import { launchChromium } from '../support/browser';

/** A message as the webview posted it (JSON data). */
export type Message = { type?: unknown; [key: string]: unknown };

export interface CspViolation {
  /** e.g. 'script-src-elem', 'script-src-attr', 'script-src' (eval). */
  effectiveDirective: string;
  violatedDirective: string;
  blockedURI: string;
  sample: string;
}

export interface WebviewServerOptions {
  /** Absolute path of the webview bundle JS (a classic script, e.g. esbuild iife output). */
  bundle: string;
  /** Absolute paths of stylesheets, served beside the bundle. */
  styles?: string[];
  title?: string;
  /** What `getState()` returns before the first `setState()` (VS Code restores this on reload). */
  state?: unknown;
  /** The theme class VS Code puts on <body>: 'vscode-dark' (default), 'vscode-light', 'vscode-high-contrast'. */
  themeKind?: 'vscode-dark' | 'vscode-light' | 'vscode-high-contrast';
}

export interface WebviewServer {
  url: string;
  origin: string;
  nonce: string;
  /** The page's Content-Security-Policy source for the extension's resources (here: this server). */
  cspSource: string;
  close(): Promise<void>;
}

/** The page-side host: defines acquireVsCodeApi() and records what the test reads. */
function hostScript(initialState: unknown, themeKind: string): string {
  return `(() => {
  'use strict';
  const host = { sent: [], violations: [], state: ${initialState === undefined ? 'undefined' : JSON.stringify(initialState)}, acquired: false };
  Object.defineProperty(window, '__runwiseHost', { value: host });
  document.addEventListener('securitypolicyviolation', (e) => {
    host.violations.push({ effectiveDirective: e.effectiveDirective, violatedDirective: e.violatedDirective, blockedURI: e.blockedURI, sample: e.sample || '' });
  });
  const api = Object.freeze({
    postMessage(message) {
      // The real host serializes messages; what JSON cannot carry does not arrive.
      host.sent.push(JSON.parse(JSON.stringify(message === undefined ? null : message)));
    },
    getState() { return host.state; },
    setState(state) { host.state = JSON.parse(JSON.stringify(state)); return state; },
  });
  window.acquireVsCodeApi = () => {
    if (host.acquired) throw new Error('An instance of the VS Code API has already been acquired');
    host.acquired = true;
    return api;
  };
  document.body.classList.add(${JSON.stringify(themeKind)});
  document.body.setAttribute('data-vscode-theme-kind', ${JSON.stringify(themeKind)});
  const root = document.documentElement.style;
  root.setProperty('--vscode-font-family', 'sans-serif');
  root.setProperty('--vscode-font-size', '13px');
  root.setProperty('--vscode-foreground', ${JSON.stringify(themeKind === 'vscode-light' ? '#3b3b3b' : '#cccccc')});
  root.setProperty('--vscode-editor-background', ${JSON.stringify(themeKind === 'vscode-light' ? '#ffffff' : '#1f1f1f')});
})();
`;
}

/** Serves the webview page on 127.0.0.1 (a free port). */
export async function startWebviewServer(options: WebviewServerOptions): Promise<WebviewServer> {
  const nonce = createNonce();
  const styles = options.styles ?? [];
  let origin = '';
  const page = (): string => {
    const html = webviewHtml({
      nonce,
      cspSource: origin,
      scriptUri: `${origin}/bundle/${path.basename(options.bundle)}`,
      styleUris: styles.map((s, i) => `${origin}/style/${i}/${path.basename(s)}`),
      title: options.title ?? 'Runwise webview test',
    });
    // The host script goes first in <body>, as VS Code's own host script comes before the webview's.
    const withHost = html.replace(/<body[^>]*>/, (body) => `${body}\n    <script nonce="${nonce}" src="${origin}/__host.js"></script>`);
    if (withHost === html) throw new Error('webviewHtml() produced no <body> to put the host script in');
    return withHost;
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    const send = (status: number, type: string, body: string | Buffer): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    try {
      if (url.pathname === '/' || url.pathname === '/index.html') return send(200, 'text/html; charset=utf-8', page());
      if (url.pathname === '/__host.js') return send(200, 'text/javascript', hostScript(options.state, options.themeKind ?? 'vscode-dark'));
      if (url.pathname === `/bundle/${path.basename(options.bundle)}`) return send(200, 'text/javascript', readFileSync(options.bundle));
      const style = /^\/style\/(\d+)\//.exec(url.pathname);
      const stylePath = style ? styles[Number(style[1])] : undefined;
      if (stylePath) return send(200, 'text/css', readFileSync(stylePath));
      // Anything else a test points at (an image, a probe) is a plain 404 on this origin.
      return send(404, 'text/plain', 'not found');
    } catch (e) {
      return send(500, 'text/plain', String(e));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/`,
    origin,
    nonce,
    cspSource: origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface WebviewPage {
  browser: Browser;
  page: Page;
  server: WebviewServer;
  /** Messages the webview has posted to the host, oldest first. */
  sent(): Promise<Message[]>;
  /** Waits until the webview has posted a message that matches; returns it. */
  waitForMessage(match: (m: Message) => boolean, timeoutMs?: number): Promise<Message>;
  /** Delivers a host→webview message (a `message` event on window, as VS Code does). */
  deliver(message: unknown): Promise<void>;
  /** The state the webview last stored with setState(). */
  state(): Promise<unknown>;
  /** Content-Security-Policy violations reported in the page. */
  violations(): Promise<CspViolation[]>;
  /** Console messages (`type: text`) and uncaught errors seen so far. */
  console: string[];
  pageErrors: Error[];
  close(): Promise<void>;
}

interface HostWindow {
  __runwiseHost: { sent: Message[]; violations: CspViolation[]; state: unknown };
  postMessage(message: unknown, targetOrigin: string): void;
}

/** Serves a bundle and opens it in headless Chromium; resolves once the page has loaded. */
export async function openWebview(options: WebviewServerOptions & { browser?: Browser }): Promise<WebviewPage> {
  const server = await startWebviewServer(options);
  let browser: Browser | undefined;
  const ownBrowser = !options.browser;
  try {
    browser = options.browser ?? (await launchChromium());
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const consoleLines: string[] = [];
    const pageErrors: Error[] = [];
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => pageErrors.push(e));
    await page.goto(server.url, { waitUntil: 'load', timeout: 30_000 });
    const host = (): Promise<HostWindow['__runwiseHost']> =>
      page.evaluate(() => {
        const h = (globalThis as unknown as HostWindow).__runwiseHost;
        return { sent: h.sent, violations: h.violations, state: h.state };
      });
    const b = browser;
    return {
      browser: b,
      page,
      server,
      console: consoleLines,
      pageErrors,
      sent: async () => (await host()).sent,
      async waitForMessage(match, timeoutMs = 10_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const found = (await host()).sent.find(match);
          if (found) return found;
          if (Date.now() > deadline) {
            throw new Error(`the webview posted no matching message within ${timeoutMs} ms; it posted: ${JSON.stringify((await host()).sent)}; page errors: ${pageErrors.map((e) => e.message).join('; ') || 'none'}`);
          }
          await new Promise((r) => setTimeout(r, 25));
        }
      },
      deliver: (message) => page.evaluate((m) => (globalThis as unknown as HostWindow).postMessage(m, '*'), message),
      state: async () => (await host()).state,
      violations: async () => (await host()).violations,
      async close() {
        await page.close().catch(() => undefined);
        if (ownBrowser) await b.close().catch(() => undefined);
        await server.close();
      },
    };
  } catch (e) {
    if (ownBrowser) await browser?.close().catch(() => undefined);
    await server.close();
    throw e;
  }
}

/** A page's bundle built for a test: its script, the stylesheet its imports add up to, and the folder they are in. */
export interface BuiltWebview {
  dir: string;
  bundle: string;
  styles: string;
  /** Deletes the folder. */
  remove(): void;
}

/**
 * Bundles webview/<name>/main.ts with the options esbuild.mjs uses for webview entries, into a fresh
 * temporary folder: <name>.js, and <name>.css from the stylesheets it imports.
 */
export async function buildWebview(name: string): Promise<BuiltWebview> {
  const entry = path.join(__dirname, '..', '..', 'webview', name, 'main.ts');
  const dir = mkdtempSync(path.join(tmpdir(), `runwise-webview-${name}-`));
  const bundle = path.join(dir, `${name}.js`);
  try {
    await build({ entryPoints: [entry], bundle: true, format: 'iife', platform: 'browser', target: 'es2022', outfile: bundle, logLevel: 'silent' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return { dir, bundle, styles: path.join(dir, `${name}.css`), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
