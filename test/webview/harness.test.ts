/**
 * The webview harness itself, on a tiny webview bundled here with esbuild: messages both ways, state,
 * and the Content-Security-Policy the extension ships (nonce scripts only, no inline handlers, no
 * eval) enforced by real Chromium.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { contentSecurityPolicy, createNonce, webviewHtml } from '../../webview/shared/webviewHtml';
import { launchChromium, screenshotOnFailure } from '../support/browser';
import { tempWorkspace } from '../support/tempWorkspace';
import { openWebview, type WebviewPage } from './harness';

const fixture = path.join(__dirname, 'fixtures', 'echoWebview.ts');

/** The little of the DOM these tests touch inside page.evaluate (this project has no DOM lib). */
interface DomElement {
  textContent: string | null;
  innerHTML: string;
  complete?: boolean;
  setAttribute(name: string, value: string): void;
  appendChild(child: DomElement): void;
}
interface Dom {
  document: { body: DomElement; createElement(tag: string): DomElement; getElementById(id: string): DomElement | null; querySelector(selector: string): DomElement | null };
}

describe('webviewHtml', () => {
  it('puts the nonce on the script and the policy in a meta tag', () => {
    const nonce = createNonce();
    const html = webviewHtml({ nonce, cspSource: "'self' https://*.vscode-cdn.net", scriptUri: 'https://x/a.js', styleUris: ['https://x/a.css'], title: 'Runs <&>' });
    assert.match(html, new RegExp(`<script nonce="${nonce}" src="https://x/a.js"></script>`));
    assert.match(html, /<link rel="stylesheet" href="https:\/\/x\/a.css">/);
    assert.match(html, /<title>Runs &lt;&amp;&gt;<\/title>/);
    assert.ok(html.includes(`content="default-src &#39;none&#39;; img-src &#39;self&#39; https://*.vscode-cdn.net data:;`));
    assert.equal(
      contentSecurityPolicy(nonce, "'self' https://*.vscode-cdn.net"),
      `default-src 'none'; img-src 'self' https://*.vscode-cdn.net data:; style-src 'self' https://*.vscode-cdn.net 'nonce-${nonce}'; script-src 'nonce-${nonce}'; font-src 'self' https://*.vscode-cdn.net`,
    );
  });

  it('refuses a nonce or source that would change the policy', () => {
    assert.throws(() => contentSecurityPolicy('abc', 'https://x'), /nonce/);
    assert.throws(() => contentSecurityPolicy(`${createNonce()}' 'unsafe-inline`, 'https://x'), /nonce/);
    assert.throws(() => contentSecurityPolicy(createNonce(), "https://x; script-src 'unsafe-eval'"), /source/);
    assert.throws(() => contentSecurityPolicy(createNonce(), "'unsafe-inline'"), /source/);
    assert.throws(() => contentSecurityPolicy(createNonce(), ''), /source/);
  });

  it('makes a different 32-character nonce each time', () => {
    const nonces = new Set(Array.from({ length: 200 }, () => createNonce()));
    assert.equal(nonces.size, 200);
    for (const n of nonces) assert.match(n, /^[A-Za-z0-9]{32}$/);
  });
});

describe('webview harness in Chromium', { timeout: 180_000 }, () => {
  let outDir = '';
  let bundle = '';
  let browser: Browser | undefined;
  let view: WebviewPage | undefined;

  before(async () => {
    outDir = tempWorkspace('webview'); // removed when the test process ends
    bundle = path.join(outDir, 'echoWebview.js');
    await build({ entryPoints: [fixture], bundle: true, format: 'iife', platform: 'browser', target: 'chrome120', outfile: bundle, logLevel: 'silent' });
    browser = await launchChromium();
  });

  after(async () => {
    await view?.close();
    await browser?.close();
  });

  const open = async (state?: unknown): Promise<WebviewPage> => {
    await view?.close();
    view = await openWebview({ bundle, browser, state, title: 'echo' });
    await view.waitForMessage((m) => m.type === 'ready');
    return view;
  };

  it('carries messages both ways and keeps state', async (t) => {
    const v = await open({ restored: true });
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    const ready = await v.waitForMessage((m) => m.type === 'ready');
    assert.deepEqual(ready.state, { restored: true }, 'getState() returns the state the host restored');
    assert.equal(ready.theme, 'vscode-dark');

    await v.deliver({ type: 'ping', payload: { n: 1, s: 'é<b>' } });
    const pong = await v.waitForMessage((m) => m.type === 'pong');
    assert.deepEqual(pong.payload, { n: 1, s: 'é<b>' });

    await v.deliver({ type: 'saveState', state: { selected: ['run-1'] } });
    await v.waitForMessage((m) => m.type === 'stateSaved');
    assert.deepEqual(await v.state(), { selected: ['run-1'] });

    await v.deliver({ type: 'render', text: '<img src=x onerror=alert(1)> run' });
    await v.waitForMessage((m) => m.type === 'rendered');
    assert.equal(await v.page.locator('#root').textContent(), '<img src=x onerror=alert(1)> run');
    assert.equal(await v.page.locator('#root img').count(), 0);

    assert.deepEqual(v.pageErrors, []);
    assert.deepEqual(await v.violations(), [], 'the bundle itself runs without a CSP violation');
  });

  it('blocks an inline script without the nonce, an injected onerror= handler and a wrong nonce', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    type Probe = { __inline?: number; __wrongNonce?: number; __handler?: number };
    // A script element with no nonce (the way an injected <script> would arrive).
    await v.page.evaluate(() => {
      const { document } = globalThis as unknown as Dom;
      const s = document.createElement('script');
      s.textContent = 'window.__inline = 1;';
      document.body.appendChild(s);
      const w = document.createElement('script');
      w.setAttribute('nonce', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
      w.textContent = 'window.__wrongNonce = 1;';
      document.body.appendChild(w);
    });
    // An inline handler, injected through the webview's own (deliberately unsafe) innerHTML path;
    // `data:,` is an allowed image source that fails to decode, so the error event does fire.
    await v.deliver({ type: 'renderUnsafe', html: '<img id="bad" src="data:," onerror="window.__handler = 1">' });
    await v.waitForMessage((m) => m.type === 'rendered');
    await v.page.waitForFunction(() => (globalThis as unknown as Dom).document.querySelector('#bad')?.complete === true);

    await waitFor(async () => (await v.violations()).length >= 3, 10_000, async () => JSON.stringify(await v.violations()));
    const ran = await v.page.evaluate(() => {
      const w = globalThis as unknown as Probe;
      return { inline: w.__inline, wrongNonce: w.__wrongNonce, handler: w.__handler };
    });
    assert.deepEqual(ran, { inline: undefined, wrongNonce: undefined, handler: undefined }, 'nothing injected ran');
    const directives = (await v.violations()).map((x) => x.effectiveDirective).sort();
    assert.deepEqual(directives, ['script-src-attr', 'script-src-elem', 'script-src-elem']);
    assert.ok(v.console.some((line) => /Content Security Policy/.test(line)), `Chromium reports the refusals on the console: ${v.console.join('\n')}`);
  });

  it('blocks eval and new Function (no unsafe-eval)', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await v.deliver({ type: 'tryEval' });
    const result = await v.waitForMessage((m) => m.type === 'evalResult');
    assert.deepEqual(result.eval, { ran: false, error: 'EvalError' });
    assert.deepEqual(result.newFunction, { ran: false, error: 'EvalError' });
    const violations = await v.violations();
    assert.ok(violations.some((x) => x.effectiveDirective === 'script-src' && x.blockedURI === 'eval'), JSON.stringify(violations));
  });

  it('the same injections do run on a page without the policy (the checks above are not vacuous)', async (t) => {
    const page = await browser!.newPage();
    screenshotOnFailure(t, page, { dir: 'webview' });
    try {
      await page.setContent('<body><div id="root"></div></body>');
      const ran = await page.evaluate(async () => {
        const w = globalThis as unknown as { __inline?: number; __handler?: number; __eval?: number };
        const { document } = globalThis as unknown as Dom;
        const s = document.createElement('script');
        s.textContent = 'window.__inline = 1;';
        document.body.appendChild(s);
        document.getElementById('root')!.innerHTML = '<img id="bad" src="data:," onerror="window.__handler = 1">';
        await new Promise((r) => setTimeout(r, 200));
        w.__eval = (0, eval)('1 + 1');
        return { inline: w.__inline, handler: w.__handler, eval: w.__eval };
      });
      assert.deepEqual(ran, { inline: 1, handler: 1, eval: 2 });
    } finally {
      await page.close();
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, explain: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms; last seen: ${await explain()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
