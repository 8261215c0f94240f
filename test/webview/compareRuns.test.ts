/**
 * The Compare Runs webview bundle (webview/compareRuns/main.ts) in real Chromium, in the extension's
 * HTML shell and Content-Security-Policy, with a scripted host that sends a table built by
 * core/views/runTableModel.ts from a real tracker's runs: sorting, the filter (the host's answer and
 * a parse error shown at its position), "only columns that differ", baseline deltas, 50 runs
 * charted, brushing in parallel coordinates, keyboard navigation and inline edits, grouping, view
 * state kept with setState; screenshots in the light and dark themes go to test-results/webview/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { Run } from '../../core/tracker/model';
import { Tracker } from '../../core/tracker/tracker';
import { runTableOf, type RunTable } from '../../core/views/runTableModel';
import { isCompareRunsWebviewMessage, type ChartSeries, type CompareRunsHostMessage, type CompareRunsWebviewMessage } from '../../webview/compareRuns/messages';
import { launchChromium, repoRoot, screenshotOnFailure } from '../support/browser';
import { tempWorkspace } from '../support/tempWorkspace';
import { buildWebview, openWebview, type Message, type WebviewPage } from './harness';

const RUNS = 60;
type SeriesRequest = Extract<CompareRunsWebviewMessage, { type: 'series' }>;
const OPTIMIZERS = ['adam', 'sgd', 'rmsprop'];

/** 60 runs: lr and optimizer vary, `dataset` is the same for all, acc = 0.5 + i/200. */
function sampleRuns(): Run[] {
  let clock = 1_700_000_000_000;
  const t = Tracker.open(tempWorkspace(), { now: () => (clock += 1000) });
  try {
    const exp = t.createExperiment('churn').experimentId;
    const ids: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const id = t.createRun({ experimentId: exp, runName: `run-${String(i).padStart(2, '0')}` }).info.runId;
      t.logBatch(id, {
        params: [
          { key: 'lr', value: String((i % 10) / 100 + 0.001) },
          { key: 'optimizer', value: OPTIMIZERS[i % 3]! },
          { key: 'dataset', value: 'v1' },
        ],
        metrics: [{ key: 'acc', value: 0.5 + i / 200, step: 10, timestamp: clock }],
      });
      if (i < RUNS - 1) t.updateRun(id, { status: 'FINISHED', endTime: clock + 500 });
      ids.push(id);
    }
    return ids.map((id) => t.getRun(id));
  } finally {
    t.close();
  }
}

function seriesFor(runIds: readonly string[]): ChartSeries[] {
  return runIds.map((runId, k) => {
    const step = Array.from({ length: 100 }, (_, i) => i * 10);
    const last = step.map((s) => Math.log1p(s) / 10 + k / 100);
    return { runId, step, timestamp: step.map((s) => 1_700_000_000_000 + s * 1000), last, min: last, max: last, totalPoints: 1000, stepRange: [0, 990] };
  });
}

describe('compare runs webview', { timeout: 240_000 }, () => {
  let built: Awaited<ReturnType<typeof buildWebview>> | undefined;
  let browser: Browser | undefined;
  let view: WebviewPage | undefined;
  let table: RunTable;

  before(async () => {
    table = runTableOf(sampleRuns(), 1_700_000_100_000);
    built = await buildWebview('compareRuns');
    browser = await launchChromium();
  });

  after(async () => {
    await view?.close();
    await browser?.close();
    built?.remove();
  });

  const open = async (options: { state?: unknown; themeKind?: 'vscode-dark' | 'vscode-light' } = {}): Promise<WebviewPage> => {
    await view?.close();
    view = await openWebview({ bundle: built!.bundle, styles: [built!.styles], browser, state: options.state, themeKind: options.themeKind, title: 'Compare runs' });
    await view.waitForMessage((m) => m.type === 'ready');
    return view;
  };
  const send = (v: WebviewPage, m: CompareRunsHostMessage) => v.deliver(m);
  const showTable = async (v: WebviewPage) => {
    await send(v, { type: 'table', title: 'Compare runs: churn', scope: { experimentIds: ['1'] }, tableJson: JSON.stringify(table) });
    await v.page.locator('#run-table .run-row .name-cell').first().waitFor();
  };
  const summary = (v: WebviewPage) => v.page.locator('#summary').innerText();
  const names = (v: WebviewPage) => v.page.locator('#run-table .run-row:not(.baseline-row) .run-name').allInnerTexts();
  const header = (v: WebviewPage, label: string) => v.page.locator('#run-table .header-cell', { has: v.page.locator('.label', { hasText: new RegExp(`^${label}$`) }) });
  const postedAfter = async (v: WebviewPage, count: number, match: (m: Message) => boolean) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = (await v.sent()).slice(count).filter(match);
      if (found.length > 0) return found.at(-1)!;
      if (Date.now() > deadline) throw new Error(`no matching message after #${count}: ${JSON.stringify((await v.sent()).slice(count))}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  it('renders a virtualised table of the runs: only the rows in view exist, every column counted', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    assert.match(await summary(v), /^60 of 60 runs shown · 10 of 10 columns · 0 selected$/);
    const grid = v.page.locator('#run-table');
    assert.equal(await grid.getAttribute('role'), 'grid');
    assert.equal(await grid.getAttribute('aria-rowcount'), '61');
    const rendered = await v.page.locator('#run-table .run-row').count();
    assert.ok(rendered > 5 && rendered < RUNS, `only the rows in view are in the DOM: ${rendered}`);
    assert.equal(await v.page.title(), 'Compare runs: churn');
    assert.deepEqual(v.pageErrors, []);
    assert.deepEqual(await v.violations(), [], 'no Content-Security-Policy violation (uPlot, canvases, CSSOM positions)');
  });

  it('sorts by a column, ascending then descending, and marks it for screen readers', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    await header(v, 'acc').click();
    assert.equal(await header(v, 'acc').getAttribute('aria-sort'), 'ascending');
    assert.equal((await names(v))[0], 'run-00');
    await header(v, 'acc').click();
    assert.equal(await header(v, 'acc').getAttribute('aria-sort'), 'descending');
    assert.equal((await names(v))[0], 'run-59');
    await header(v, 'lr').click();
    const lrFirst = (await names(v)).slice(0, 6);
    assert.deepEqual(lrFirst, ['run-00', 'run-10', 'run-20', 'run-30', 'run-40', 'run-50'], 'lr 0.001 first, numerically');
    assert.deepEqual(((await v.state()) as { sort: unknown }).sort, { column: 'params.lr', descending: false });
  });

  it('filters through the host, and shows a parse error at its position', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    const n = (await v.sent()).length;
    await v.page.locator('#filter').fill("params.optimizer = 'sgd'");
    await v.page.locator('#filter').press('Enter');
    const asked = await postedAfter(v, n, (m) => m.type === 'filter');
    assert.deepEqual(asked, { type: 'filter', filter: "params.optimizer = 'sgd'" });
    const sgd = table.rows.filter((r) => r.values[table.columns.findIndex((c) => c.id === 'params.optimizer')] === 'sgd').map((r) => r.runId);
    await send(v, { type: 'filterResult', filter: "params.optimizer = 'sgd'", runIds: sgd });
    assert.match(await summary(v), /^20 of 60 runs shown/);
    assert.equal((await names(v))[0], 'run-01');

    const bad = 'metrics.acc >> 0.5';
    await v.page.locator('#filter').fill(bad);
    await v.page.locator('#filter').press('Enter');
    await postedAfter(v, n, (m) => m.type === 'filter' && m.filter === bad);
    await send(v, { type: 'filterError', filter: bad, position: 13, message: "Invalid filter at position 13: expected a value, found '>'" });
    assert.equal(await v.page.locator('#filter-error-message').innerText(), "Invalid filter at position 13: expected a value, found '>'");
    assert.equal(await v.page.locator('#filter-error-mark').innerText(), '>', 'the offending character is marked');
    assert.equal(await v.page.locator('#filter-error .filter-text').innerText(), bad);
    assert.equal(await v.page.locator('#filter').getAttribute('aria-invalid'), 'true');
    assert.match(await summary(v), /^20 of 60 runs shown/, 'a bad filter keeps the last good result');
    await v.page.locator('#filter').fill('');
    await v.page.locator('#filter').press('Enter');
    assert.match(await summary(v), /^60 of 60 runs shown/);
    assert.equal(await v.page.locator('#filter-error').innerText(), '');
  });

  it('"only columns that differ" hides the columns every shown run has the same value in', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    assert.equal(await header(v, 'dataset').count(), 1);
    await v.page.getByLabel('Only columns that differ').check();
    assert.equal(await header(v, 'dataset').count(), 0, 'dataset is v1 everywhere');
    assert.equal(await header(v, 'User').count(), 0, 'no run has a user');
    assert.equal(await header(v, 'acc').count(), 1);
    assert.equal(await header(v, 'optimizer').count(), 1);
    assert.match(await summary(v), / · 7 of 10 columns · /);
    // The column picker hides one more.
    await v.page.getByRole('button', { name: /^Columns/ }).click();
    await v.page.getByLabel('params.optimizer').uncheck();
    assert.equal(await header(v, 'optimizer').count(), 0);
    assert.deepEqual(((await v.state()) as { hidden: string[] }).hidden, ['params.optimizer']);
  });

  it('pins a baseline run under the header and shows deltas against it', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    await v.page.locator('#run-table .run-row', { hasText: 'run-10' }).locator('.pin').click();
    const baseline = v.page.locator('#run-table .baseline-row');
    assert.equal(await baseline.locator('.run-name').innerText(), 'run-10');
    const row = v.page.locator('#run-table .run-row:not(.baseline-row)', { hasText: 'run-12' });
    const accCol = table.columns.findIndex((c) => c.id === 'metrics.acc');
    const cell = row.locator(`[data-column="${accCol}"]`);
    assert.equal(await cell.innerText(), '0.56 +0.01', 'acc 0.56 against 0.55');
    const lower = v.page.locator('#run-table .run-row:not(.baseline-row)', { hasText: 'run-05' }).locator(`[data-column="${accCol}"] .delta`);
    assert.equal(await lower.innerText(), ' −0.025');
    assert.equal(await lower.getAttribute('class'), 'delta down');
    assert.equal(((await v.state()) as { baseline: string }).baseline, table.rows[10]!.runId);
  });

  it('charts 50 selected runs: one request for all of them, 50 lines drawn on the canvas', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    const n = (await v.sent()).length;
    // The first 50 by name: select run-00, then shift-select run-49 after scrolling to it.
    await v.page.locator('#run-table .run-row', { hasText: 'run-00' }).locator('.select-box').click();
    await v.page.locator('#run-table').evaluate((e) => (e.scrollTop = 49 * 24 - 100));
    await v.page.locator('#run-table .run-row', { hasText: 'run-49' }).locator('.select-box').click({ modifiers: ['Shift'] });
    assert.match(await summary(v), / · 50 selected$/);
    const request = (await postedAfter(v, n, (m) => m.type === 'series' && Array.isArray(m.runIds) && m.runIds.length === 50)) as SeriesRequest;
    assert.ok(isCompareRunsWebviewMessage(request), 'a message the host accepts');
    assert.equal(request.key, 'acc');
    await send(v, { type: 'series', requestId: request.requestId, key: 'acc', series: seriesFor(request.runIds) });
    const chart = v.page.locator('#metric-chart');
    await v.page.waitForFunction("document.querySelector('#metric-chart')?.getAttribute('data-series') === '50'");
    assert.match(await v.page.locator('#chart-status').innerText(), /^acc: 50 runs, 50,000 points$/);
    // The canvas has lines on it: count the pixels that are not the background.
    const painted = await v.page.evaluate<number>(`(() => {
      const c = document.querySelector('#metric-chart canvas');
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return n;
    })()`);
    assert.ok(painted > 5000, `the chart drew on its canvas: ${painted} pixels`);
    // Smoothing and log scale redraw without asking the host again.
    const before = (await v.sent()).length;
    await v.page.locator('#chart-smoothing').fill('0.9');
    await v.page.getByLabel('Log scale').check();
    assert.equal(await chart.getAttribute('data-series'), '50');
    assert.equal((await v.sent()).slice(before).filter((m) => m.type === 'series').length, 0);
    // Dragging over the chart asks the host again, for the steps in the dragged range only.
    await v.page.getByLabel('Log scale').uncheck();
    const over = chart.locator('.u-over');
    await over.scrollIntoViewIfNeeded();
    const box = (await over.boundingBox())!;
    await v.page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2);
    await v.page.mouse.down();
    await v.page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
    await v.page.mouse.up();
    const zoomed = (await postedAfter(v, before, (m) => m.type === 'series' && m.minStep !== undefined)) as SeriesRequest;
    assert.ok(isCompareRunsWebviewMessage(zoomed));
    const [lo, hi] = [zoomed.minStep!, zoomed.maxStep!];
    assert.ok(lo > 150 && lo < 350 && hi > 400 && hi < 600, `about the second quarter of steps 0..990: ${lo}..${hi}`);
    assert.equal((zoomed.runIds).length, 50);
    await send(v, { type: 'series', requestId: zoomed.requestId, key: 'acc', series: seriesFor(zoomed.runIds) });
    assert.match(await v.page.locator('#chart-status').innerText(), new RegExp(`, steps ${lo} to ${hi}$`));
    const zoomedOut = (await v.sent()).length;
    await v.page.getByRole('button', { name: 'Reset zoom' }).click();
    const whole = await postedAfter(v, zoomedOut, (m) => m.type === 'series');
    assert.equal(whole.minStep, undefined, 'zoomed out: the whole series again');
    assert.deepEqual(await v.violations(), []);
  });

  it('brushing an axis of the parallel coordinates narrows the selection to the runs inside', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    const pc = v.page.locator('#parallel-coordinates');
    const canvas = pc.locator('canvas');
    await canvas.scrollIntoViewIfNeeded();
    await v.page.waitForFunction("document.querySelector('#parallel-coordinates').dataset.axes !== undefined");
    assert.equal(await pc.getAttribute('data-axes'), '3', 'lr, optimizer (they differ) and the metric acc');
    const box = (await canvas.boundingBox())!;
    // The last axis (acc) is at the right padding; brush its upper half: acc above ~0.65.
    const x = box.x + box.width - 60;
    await v.page.mouse.move(x, box.y + 28);
    await v.page.mouse.down();
    await v.page.mouse.move(x, box.y + 60, { steps: 4 });
    await v.page.mouse.move(x, box.y + 28 + (260 - 28 - 24) / 2, { steps: 4 });
    await v.page.mouse.up();
    const selected = ((await v.state()) as { selected: string[] }).selected;
    assert.ok(selected.length > 20 && selected.length < 40, `about the upper half of 60 runs: ${selected.length}`);
    const acc = table.columns.findIndex((c) => c.id === 'metrics.acc');
    const values = selected.map((id) => table.rows.find((r) => r.runId === id)!.values[acc] as number);
    assert.ok(Math.min(...values) >= 0.5 + 29 / 200 - 0.01, `only high-acc runs: min ${Math.min(...values)}`);
    assert.match(await summary(v), new RegExp(` · ${selected.length} selected$`));
    assert.equal(await pc.getAttribute('data-highlighted'), String(selected.length));
  });

  it('is driven by the keyboard: arrows move the active cell, Space selects, Enter edits or opens', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    const grid = v.page.locator('#run-table');
    await grid.focus();
    const active = () => grid.getAttribute('aria-activedescendant');
    assert.equal(await active(), 'cell-0-0');
    await v.page.keyboard.press('ArrowDown');
    await v.page.keyboard.press('ArrowDown');
    assert.equal(await active(), 'cell-2-0');
    await v.page.keyboard.press('Space');
    assert.deepEqual(((await v.state()) as { selected: string[] }).selected, [table.rows[2]!.runId]);
    // Enter on the run name edits it inline; Enter again saves through the host.
    const n = (await v.sent()).length;
    await v.page.keyboard.press('Enter');
    const editor = v.page.locator('#cell-editor');
    assert.equal(await editor.inputValue(), 'run-02');
    await editor.fill('best <b>run</b>');
    await editor.press('Enter');
    const edit = await postedAfter(v, n, (m) => m.type === 'editCell');
    assert.deepEqual(edit, { type: 'editCell', runId: table.rows[2]!.runId, column: 'attributes.run_name', value: 'best <b>run</b>' });
    assert.equal(await v.page.locator('#cell-2-0 .run-name').innerText(), 'best <b>run</b>', 'shown as text at once');
    assert.equal(await v.page.locator('#run-table b').count(), 0);
    // Right to a metric column, Enter opens the run.
    for (let i = 0; i < 6; i++) await v.page.keyboard.press('ArrowRight');
    assert.equal(await active(), 'cell-2-6');
    await v.page.keyboard.press('Enter');
    assert.deepEqual(await postedAfter(v, n, (m) => m.type === 'openRun'), { type: 'openRun', runId: table.rows[2]!.runId });
    // PageDown scrolls the active row into view.
    await v.page.keyboard.press('PageDown');
    await v.page.keyboard.press('PageDown');
    const id = (await active())!;
    assert.match(id, /^cell-\d+-6$/);
    assert.equal(await v.page.locator(`#${id}`).count(), 1, 'the active cell is rendered');
    for (const m of await v.sent()) assert.ok(isCompareRunsWebviewMessage(m), `a message the host accepts: ${JSON.stringify(m).slice(0, 200)}`);
  });

  it('groups by a param with mean, min and max per group', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    await v.page.locator('#group-by').selectOption('params.optimizer');
    const groups = v.page.locator('#run-table .group-row');
    assert.equal(await groups.first().locator('.name-cell').innerText(), 'optimizer = adam (20 runs)');
    const accCol = table.columns.findIndex((c) => c.id === 'metrics.acc');
    const position = [...table.columns.keys()].filter((i) => i > 0).indexOf(accCol);
    // adam runs are i = 0, 3, …, 57: acc mean 0.5 + 28.5/200, min 0.5, max 0.785.
    assert.equal(await groups.first().locator(`[aria-colindex="${position + 2}"]`).innerText(), 'μ 0.6425 [0.5, 0.785]');
  });

  it('updates live: a new table from the host keeps the selection and asks for the chart again', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    const running = table.rows[RUNS - 1]!;
    await v.page.locator('#run-table').evaluate((e) => (e.scrollTop = 10_000));
    await v.page.locator('#run-table .run-row', { hasText: 'run-59' }).locator('.select-box').click();
    const n = (await v.sent()).length;
    const acc = table.columns.findIndex((c) => c.id === 'metrics.acc');
    const next: RunTable = { ...table, rows: table.rows.map((r) => (r === running ? { ...r, values: r.values.map((x, i) => (i === acc ? 0.999 : x)) } : r)) };
    await send(v, { type: 'table', title: 'Compare runs: churn', scope: { experimentIds: ['1'] }, tableJson: JSON.stringify(next) });
    const again = (await postedAfter(v, n, (m) => m.type === 'series')) as SeriesRequest;
    assert.deepEqual(again.runIds, [running.runId]);
    assert.match(await summary(v), / · 1 selected$/);
    assert.equal(await v.page.locator('#run-table .run-row', { hasText: 'run-59' }).locator(`[data-column="${acc}"]`).innerText(), '0.999');
  });

  it('keeps its view state and restores it when reopened', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    await header(v, 'acc').click();
    await header(v, 'acc').click();
    await v.page.getByLabel('Only columns that differ').check();
    const state = await v.state();
    const restored = await open({ state });
    await showTable(restored);
    assert.equal((await names(restored))[0], 'run-59');
    assert.equal(await restored.page.getByLabel('Only columns that differ').isChecked(), true);
    assert.equal(await header(restored, 'dataset').count(), 0);
  });

  it('looks right in the light and dark themes (screenshots kept in test-results/webview/)', async () => {
    const out = path.join(repoRoot, 'test-results', 'webview');
    mkdirSync(out, { recursive: true });
    for (const themeKind of ['vscode-light', 'vscode-dark'] as const) {
      const v = await open({ themeKind });
      await showTable(v);
      await v.page.locator('#run-table .run-row', { hasText: 'run-03' }).locator('.pin').click();
      await v.page.getByRole('button', { name: 'Select shown' }).click();
      const request = (await v.waitForMessage((m) => m.type === 'series' && (m.runIds as string[]).length === RUNS)) as SeriesRequest;
      await send(v, { type: 'series', requestId: request.requestId, key: 'acc', series: seriesFor(request.runIds) });
      await v.page.waitForFunction("document.querySelector('#metric-chart')?.getAttribute('data-series') === '60'");
      const file = path.join(out, `compareRuns-${themeKind.replace('vscode-', '')}.png`);
      await v.page.screenshot({ path: file, fullPage: true });
      const background = await v.page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
      assert.equal(background, themeKind === 'vscode-light' ? 'rgb(255, 255, 255)' : 'rgb(31, 31, 31)');
      assert.deepEqual(await v.violations(), []);
      assert.deepEqual(v.pageErrors, []);
    }
  });
});
