/**
 * The drift report bundle (webview/driftReport/main.ts) in real Chromium: in the extension's HTML
 * shell and Content-Security-Policy with a scripted host, and as the offline HTML file
 * core/drift/driftHtml.ts writes, opened from file://. It shows the right verdict and counts,
 * orders columns by their normalised margin past the threshold (not the raw score), draws both
 * distributions on one axis, shows hostile column names and labels as text, and loads nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import type { DriftColumn, DriftReport } from '../../core/drift/driftReport';
import { driftHtml, type DriftViewAssets } from '../../core/drift/driftHtml';
import { isDriftReportWebviewMessage, type DriftReportHostMessage } from '../../webview/driftReport/messages';
import { launchChromium, screenshotOnFailure } from '../support/browser';
import { openWebview, type WebviewPage } from './harness';

const entry = path.join(__dirname, '..', '..', 'webview', 'driftReport', 'main.ts');
const EVIL = '<script>alert(1)</script>';

function numeric(name: string, test: DriftColumn['test'], score: number, threshold: number, drifted: boolean): DriftColumn {
  const edges = [0, 1, 2, 3, 4];
  return {
    name,
    type: 'numerical',
    test,
    score,
    threshold,
    drifted,
    reference: { count: 100, missing: 0, distinct: 80, mean: 1.5, std: 1, min: 0, median: 1.5, max: 4, histogram: { kind: 'numeric', edges, counts: [40, 30, 20, 10] } },
    current: { count: 50, missing: 5, distinct: 40, mean: 2.5, std: 1, min: 0, median: 2.5, max: 4, histogram: { kind: 'numeric', edges, counts: [5, 10, 15, 15] } },
  };
}

/**
 * Three drifted and two stable columns, one skipped. By raw score the order would be
 * stable_ks (0.5), wasserstein (0.5), psi (0.15), ...; by margin it is ks p=0.001 (×50 past),
 * wasserstein 0.5 (×5), psi 0.15 (×1.5), then the stable ones: js 0.05 (×2 within), ks 0.5 (×10 within).
 */
function sampleReport(): DriftReport {
  return {
    dataset_drift: true,
    drift_share: 0.6,
    n_drifted: 3,
    n_columns: 5,
    drift_share_threshold: 0.5,
    reference_file: 'data/train.csv',
    current_file: 'data/prod.csv',
    columns: [
      numeric('stable_ks', 'ks', 0.5, 0.05, false),
      numeric('psi_col', 'psi', 0.15, 0.1, true),
      numeric('far_ks', 'ks', 0.001, 0.05, true),
      { ...numeric('created', null, 0, 0, false), type: 'datetime', test: null, score: null, threshold: null, skipped: 'datetime columns are not checked' },
      numeric('wass', 'wasserstein', 0.5, 0.1, true),
      {
        name: 'city',
        type: 'categorical',
        test: 'jensenshannon',
        score: 0.05,
        threshold: 0.1,
        drifted: false,
        reference: { count: 100, missing: 0, distinct: 2, top: 'Paris', histogram: { kind: 'categorical', labels: ['Paris', EVIL], counts: [70, 30] } },
        current: { count: 50, missing: 0, distinct: 2, top: 'Paris', histogram: { kind: 'categorical', labels: ['Paris', EVIL], counts: [30, 20] } },
      },
    ],
  };
}

/** What the page-side callbacks use of the browser (the tests compile without the DOM library). */
type Styled = { querySelector(selector: string): unknown };
type BrowserGlobals = {
  getComputedStyle(e: unknown): { fill: string; position: string };
  document: { addEventListener(type: string, listener: (e: { effectiveDirective: string; blockedURI: string }) => void): void };
};

const ORDER = ['far_ks', 'wass', 'psi_col', 'city', 'stable_ks', 'created'];

describe('drift report messages', () => {
  it('accepts only the page messages it types', () => {
    assert.ok(isDriftReportWebviewMessage({ type: 'ready' }));
    assert.ok(!isDriftReportWebviewMessage({ type: 'openFile', path: '/etc/passwd' }));
    assert.ok(!isDriftReportWebviewMessage(null));
  });
});

describe('drift report view', { timeout: 180_000 }, () => {
  let outDir = '';
  let assets: DriftViewAssets;
  let browser: Browser | undefined;
  let view: WebviewPage | undefined;

  before(async () => {
    outDir = mkdtempSync(path.join(tmpdir(), 'runwise-drift-report-'));
    // The same options as esbuild.mjs uses for webview entries (with its source map comment).
    await build({ entryPoints: [entry], bundle: true, format: 'iife', platform: 'browser', target: 'es2022', sourcemap: true, outfile: path.join(outDir, 'driftReport.js'), logLevel: 'silent' });
    assets = { script: readFileSync(path.join(outDir, 'driftReport.js'), 'utf8'), style: readFileSync(path.join(outDir, 'driftReport.css'), 'utf8') };
    browser = await launchChromium();
  });

  after(async () => {
    await view?.close();
    await browser?.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  const open = async (): Promise<WebviewPage> => {
    await view?.close();
    view = await openWebview({ bundle: path.join(outDir, 'driftReport.js'), styles: [path.join(outDir, 'driftReport.css')], browser, title: 'Drift report' });
    await view.waitForMessage((m) => m.type === 'ready');
    return view;
  };
  const send = (v: WebviewPage, m: DriftReportHostMessage) => v.deliver(m);

  it('shows the verdict and counts, orders columns by margin past the threshold, draws both distributions', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    // Through JSON, as the real host posts it.
    await send(v, { type: 'report', report: JSON.parse(JSON.stringify(sampleReport())) as DriftReport });
    const p = v.page;
    assert.equal(await p.locator('#verdict').innerText(), 'Dataset drift detected: 3 of 5 columns drifted (60%; dataset drift at 50%).');
    assert.equal(await p.locator('#skipped-note').innerText(), '1 column not checked (see the table for why).');
    assert.deepEqual(await p.locator('#drift-columns tbody th').allInnerTexts(), ORDER);
    assert.deepEqual(await p.locator('#drift-columns tbody tr').evaluateAll((rows) => rows.map((r) => r.className)), ['drifted', 'drifted', 'drifted', 'stable', 'stable', 'skipped']);
    assert.match(await p.locator('#drift-columns tbody tr').first().innerText(), /far_ks\s+numerical\s+ks \(p-value\)\s+0\.001\s+0\.05\s+×50 past\s+Drifted/);
    assert.match(await p.locator('#drift-columns tbody tr').nth(4).innerText(), /stable_ks.*×10 within\s+No drift/);
    assert.match(await p.locator('#drift-columns tbody tr').last().innerText(), /created\s+datetime\s+not checked.*datetime columns are not checked/);
    // One axis, both sides: 4 bins × 2 series for a numeric column, 2 values × 2 for the categorical one.
    assert.equal(await p.locator('#column-0 svg .series.reference rect').count(), 4);
    assert.equal(await p.locator('#column-0 svg .series.current rect').count(), 4);
    assert.equal(await p.locator('#column-3 svg rect').count(), 4);
    // Shares, not counts: reference 40/100 of its rows in bin 0 is drawn higher than current 5/45.
    const heights = await p.locator('#column-0 svg rect').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('height'))));
    assert.ok(heights[0]! > heights[4]!, `reference bin 0 (${heights[0]}) should be taller than current bin 0 (${heights[4]})`);
    assert.match(await p.locator('#column-0 .side-stats').innerText(), /Missing\s+0 \(0%\)\s+5 \(10%\)/);
    // The two series are drawn in different colours.
    const fills = await p.locator('#column-0 svg g.series').evaluateAll((gs) => gs.map((g) => (globalThis as unknown as BrowserGlobals).getComputedStyle((g as unknown as Styled).querySelector('rect')).fill));
    assert.notEqual(fills[0], fills[1]);
    assert.equal(await p.title(), 'Drift: data/prod.csv against data/train.csv');
    assert.deepEqual(v.pageErrors, []);
    assert.deepEqual(await v.violations(), []);
  });

  it('shows a column named <script>alert(1)</script> and hostile labels as text; nothing runs', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    const dialogs: string[] = [];
    v.page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const report = sampleReport();
    report.columns[0] = { ...report.columns[0]!, name: EVIL };
    report.columns[5] = { ...report.columns[5]!, name: '<img src=x onerror="window.__pwned = 1">' };
    await send(v, { type: 'report', report });
    const p = v.page;
    assert.ok((await p.locator('#drift-columns tbody th').allTextContents()).includes(EVIL));
    assert.equal(await p.locator('#column-4 .column-name').textContent(), EVIL);
    assert.ok((await p.locator('#distributions svg text').allTextContents()).some((t) => t.startsWith('<scr')));
    assert.equal(await p.locator('#root script, #root img').count(), 0);
    await p.waitForTimeout(300);
    assert.deepEqual(dialogs, []);
    assert.equal(await p.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
    assert.deepEqual(await v.violations(), []);
  });

  it('draws the drift share over batches when opened from a watched folder, names as text', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    const p = v.page;
    await send(v, { type: 'report', report: sampleReport() });
    assert.equal(await p.locator('#history').count(), 0, 'no chart for a single comparison');
    const history = [
      { batch: 'batches/b1.csv', drift_share: 0, dataset_drift: false },
      { batch: 'batches/b2.csv', drift_share: 0.2, dataset_drift: false },
      { batch: EVIL, drift_share: 0.6, dataset_drift: true },
      { batch: 'batches/b4.csv', drift_share: 0.8, dataset_drift: true },
    ];
    await send(v, { type: 'report', report: sampleReport(), history: JSON.parse(JSON.stringify(history)) as typeof history });
    assert.equal(await p.locator('#history-summary').innerText(), '4 batches in this watched folder, 2 with dataset drift; latest 80%.');
    assert.equal(await p.locator('#history svg circle').count(), 4);
    assert.equal(await p.locator('#history svg circle.drifted').count(), 2);
    // The line rises with the share: higher shares are drawn higher (smaller y).
    const ys = await p.locator('#history svg circle').evaluateAll((cs) => cs.map((c) => Number(c.getAttribute('cy'))));
    assert.ok(ys[0]! > ys[1]! && ys[1]! > ys[2]! && ys[2]! > ys[3]!, `cy should fall as the share rises: ${ys.join(', ')}`);
    assert.equal((await p.locator('#history svg polyline').getAttribute('points'))?.split(' ').length, 4);
    const labels = await p.locator('#history svg text').allTextContents();
    assert.ok(labels.includes('0%') && labels.includes('100%') && labels.includes('batches/b1.csv') && labels.includes('batches/b4.csv'), labels.join(' | '));
    assert.ok((await p.locator('#history svg circle title').allTextContents()).includes(`${EVIL}: 60% (dataset drift)`));
    assert.equal(await p.locator('#root script').count(), 0);
    assert.deepEqual(v.pageErrors, []);
    assert.deepEqual(await v.violations(), []);
  });

  it('says why when there is no report, or what it got is none', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await send(v, { type: 'reportMissing', reason: 'data/prod.csv: line 3 has 4 fields, expected 5' });
    assert.equal(await v.page.locator('#report-missing').innerText(), 'data/prod.csv: line 3 has 4 fields, expected 5');
    await send(v, { type: 'report', report: { columns: 'nope' } as unknown as DriftReport });
    assert.match(await v.page.locator('#report-missing').innerText(), /not a drift report/);
  });

  it('renders as an offline HTML file from file:// with no network request and no CSP violation', async (t) => {
    assert.ok(browser);
    const report = sampleReport();
    report.columns[0] = { ...report.columns[0]!, name: `</script><script>alert(1)</script>` };
    const file = path.join(outDir, 'report.html');
    writeFileSync(file, driftHtml(report, assets));
    const html = readFileSync(file, 'utf8');
    assert.doesNotMatch(html, /sourceMappingURL/);
    const page = await browser.newPage();
    screenshotOnFailure(t, page, { dir: 'webview' });
    try {
      const requests: string[] = [];
      const errors: string[] = [];
      const dialogs: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.addInitScript(() => {
        const seen: string[] = [];
        (globalThis as { __violations?: string[] }).__violations = seen;
        (globalThis as unknown as BrowserGlobals).document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI}`));
      });
      const url = pathToFileURL(file).href;
      await page.goto(url, { waitUntil: 'load' });
      assert.equal(await page.locator('#verdict').innerText(), 'Dataset drift detected: 3 of 5 columns drifted (60%; dataset drift at 50%).');
      assert.equal(await page.locator('#drift-columns tbody tr').count(), 6);
      assert.ok((await page.locator('#drift-columns tbody th').allTextContents()).includes('</script><script>alert(1)</script>'));
      assert.equal(await page.locator('#column-0 svg rect').count(), 8);
      // The stylesheet applied (its hash is in the policy): the caption class hides the caption.
      assert.equal(await page.locator('#drift-columns caption').evaluate((c) => (globalThis as unknown as BrowserGlobals).getComputedStyle(c).position), 'absolute');
      await page.waitForTimeout(200);
      assert.deepEqual(requests, [url]);
      assert.deepEqual(errors, []);
      assert.deepEqual(dialogs, []);
      assert.deepEqual(await page.evaluate(() => (globalThis as { __violations?: string[] }).__violations), []);
    } finally {
      await page.close();
    }
  });
});
