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

/**
 * Colours of VS Code's "Light Modern" and "Dark High Contrast" themes that the page and its
 * components use, as the editor sets them on a webview's page (the harness sets only a few; the
 * components' own defaults are the dark theme's).
 */
const THEME_COLOURS: Partial<Record<'vscode-light' | 'vscode-high-contrast', Record<string, string>>> = {
  'vscode-light': {
    '--vscode-descriptionForeground': '#3b3b3b',
    '--vscode-focusBorder': '#005fb8',
    '--vscode-button-background': '#005fb8',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-secondaryBackground': '#e5e5e5',
    '--vscode-button-secondaryForeground': '#3b3b3b',
    '--vscode-button-secondaryHoverBackground': '#cccccc',
    '--vscode-settings-checkboxBackground': '#f8f8f8',
    '--vscode-settings-checkboxBorder': '#cecece',
    '--vscode-settings-checkboxForeground': '#3b3b3b',
    '--vscode-settings-dropdownBackground': '#ffffff',
    '--vscode-settings-dropdownBorder': '#cecece',
    '--vscode-settings-dropdownForeground': '#3b3b3b',
    '--vscode-settings-dropdownListBorder': '#c8c8c8',
    '--vscode-settings-textInputBackground': '#ffffff',
    '--vscode-settings-textInputBorder': '#cecece',
    '--vscode-settings-textInputForeground': '#3b3b3b',
    '--vscode-input-placeholderForeground': '#767676',
    '--vscode-list-activeSelectionBackground': '#e8e8e8',
    '--vscode-list-activeSelectionForeground': '#000000',
    '--vscode-list-hoverBackground': '#f2f2f2',
    '--vscode-list-hoverForeground': '#000000',
  },
  'vscode-high-contrast': {
    '--vscode-editor-background': '#000000',
    '--vscode-foreground': '#ffffff',
    '--vscode-descriptionForeground': '#ffffff',
    '--vscode-contrastBorder': '#6fc3df',
    '--vscode-contrastActiveBorder': '#f38518',
    '--vscode-focusBorder': '#f38518',
    '--vscode-panel-border': '#6fc3df',
    '--vscode-button-background': '#000000',
    '--vscode-button-border': '#6fc3df',
    '--vscode-button-secondaryBackground': '#000000',
    '--vscode-button-secondaryForeground': '#ffffff',
    '--vscode-settings-checkboxBackground': '#000000',
    '--vscode-settings-checkboxBorder': '#6fc3df',
    '--vscode-settings-dropdownBackground': '#000000',
    '--vscode-settings-dropdownBorder': '#6fc3df',
    '--vscode-settings-dropdownListBorder': '#6fc3df',
    '--vscode-settings-textInputBackground': '#000000',
    '--vscode-settings-textInputBorder': '#6fc3df',
    '--vscode-settings-textInputForeground': '#ffffff',
  },
};

/** Each run's series as the host sends it: with min and max (0.2 either side of the line) when asked for. */
function seriesFor(runIds: readonly string[], minMax = false): ChartSeries[] {
  return runIds.map((runId, k) => {
    const step = Float64Array.from({ length: 100 }, (_, i) => i * 10);
    const last = step.map((s) => Math.log1p(s) / 10 + k / 100);
    const band = minMax ? { min: last.map((v) => v - 0.2), max: last.map((v) => v + 0.2) } : {};
    return { runId, step, timestamp: step.map((s) => 1_700_000_000_000 + s * 1000), last, ...band, totalPoints: 1000, stepRange: [0, 990] };
  });
}

/** Pixels of the metric chart's canvas that are not transparent (grid, lines, bands). */
const PAINTED_PIXELS = `(() => {
  const c = document.querySelector('#metric-chart canvas');
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
  return n;
})()`;

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

  const open = async (options: { state?: unknown; themeKind?: 'vscode-dark' | 'vscode-light' | 'vscode-high-contrast' } = {}): Promise<WebviewPage> => {
    await view?.close();
    view = await openWebview({ bundle: built!.bundle, styles: [built!.styles], browser, state: options.state, themeKind: options.themeKind, title: 'Compare runs' });
    await view.waitForMessage((m) => m.type === 'ready');
    const colours = options.themeKind && options.themeKind !== 'vscode-dark' ? THEME_COLOURS[options.themeKind] : undefined;
    if (colours) await view.page.evaluate(`(() => { const s = document.documentElement.style; for (const [k, x] of ${JSON.stringify(Object.entries(colours))}) s.setProperty(k, x); })()`);
    return view;
  };
  const send = (v: WebviewPage, m: CompareRunsHostMessage) => v.deliver(m);
  const showTable = async (v: WebviewPage) => {
    await send(v, { type: 'table', title: 'Compare runs: churn', scope: { experimentIds: ['1'] }, tableJson: JSON.stringify(table) });
    await v.page.locator('#run-table .run-row .name-cell').first().waitFor();
  };
  /** The parallel coordinates scrolled into view and drawn (over lr, optimizer and acc). */
  const showParallel = async (v: WebviewPage) => {
    const pc = v.page.locator('#parallel-coordinates');
    const canvas = pc.locator('canvas');
    await canvas.scrollIntoViewIfNeeded();
    await v.page.waitForFunction("document.querySelector('#parallel-coordinates').dataset.axes !== undefined");
    assert.equal(await pc.getAttribute('data-axes'), '3', 'lr, optimizer (they differ) and the metric acc');
    return { pc, canvas };
  };
  const summary = (v: WebviewPage) => v.page.locator('#summary').innerText();
  const names = (v: WebviewPage) => v.page.locator('#run-table .run-row:not(.baseline-row) .run-name').allInnerTexts();
  const header = (v: WebviewPage, label: string) => v.page.locator('#run-table .header-cell', { has: v.page.locator('.label', { hasText: new RegExp(`^${label}$`) }) });
  /** Ticks or unticks a checkbox (a vscode-checkbox) by the keyboard: focus, then Space. */
  const setChecked = async (v: WebviewPage, name: string, on: boolean) => {
    const box = v.page.getByRole('checkbox', { name, exact: true });
    if ((await box.isChecked()) !== on) {
      await box.focus();
      await v.page.keyboard.press('Space');
    }
    assert.equal(await box.isChecked(), on, `${name} is ${on ? 'ticked' : 'unticked'}`);
  };
  const postedAfter = async (v: WebviewPage, count: number, match: (m: Message) => boolean) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = (await v.sent()).slice(count).filter(match);
      if (found.length > 0) return found.at(-1)!;
      if (Date.now() > deadline) throw new Error(`no matching message after #${count}: ${JSON.stringify((await v.sent()).slice(count))}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  /** The page's request for the series of `runs` runs, sent after message #`count`. */
  const seriesRequest = async (v: WebviewPage, count: number, runs: number) =>
    (await postedAfter(v, count, (m) => m.type === 'series' && Array.isArray(m.runIds) && m.runIds.length === runs)) as SeriesRequest;
  /** Selects the runs named in the table; the series request that follows. */
  const selectRuns = async (v: WebviewPage, names: string[]) => {
    const n = (await v.sent()).length;
    for (const name of names) await v.page.locator('#run-table .run-row', { hasText: name }).locator('.select-box').click();
    return seriesRequest(v, n, names.length);
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
    await v.page.locator('#filter input').fill("params.optimizer = 'sgd'");
    await v.page.locator('#filter input').press('Enter');
    const asked = await postedAfter(v, n, (m) => m.type === 'filter');
    assert.deepEqual(asked, { type: 'filter', filter: "params.optimizer = 'sgd'" });
    const sgd = table.rows.filter((r) => r.values[table.columns.findIndex((c) => c.id === 'params.optimizer')] === 'sgd').map((r) => r.runId);
    await send(v, { type: 'filterResult', filter: "params.optimizer = 'sgd'", runIds: sgd });
    // The table redraws on the next frame after the message.
    await v.page.waitForFunction("document.querySelector('#summary')?.textContent?.startsWith('20 of 60 runs shown')", undefined, { timeout: 5000 }).catch(() => undefined);
    assert.match(await summary(v), /^20 of 60 runs shown/);
    assert.equal((await names(v))[0], 'run-01');

    const bad = 'metrics.acc >> 0.5';
    await v.page.locator('#filter input').fill(bad);
    await v.page.locator('#filter input').press('Enter');
    await postedAfter(v, n, (m) => m.type === 'filter' && m.filter === bad);
    await send(v, { type: 'filterError', filter: bad, position: 13, message: "Invalid filter at position 13: expected a value, found '>'" });
    assert.equal(await v.page.locator('#filter-error-message').innerText(), "Invalid filter at position 13: expected a value, found '>'");
    assert.equal(await v.page.locator('#filter-error-mark').innerText(), '>', 'the offending character is marked');
    assert.equal(await v.page.locator('#filter-error .filter-text').innerText(), bad);
    assert.equal(await v.page.locator('#filter').getAttribute('aria-invalid'), 'true');
    assert.match(await summary(v), /^20 of 60 runs shown/, 'a bad filter keeps the last good result');
    await v.page.locator('#filter input').fill('');
    await v.page.locator('#filter input').press('Enter');
    assert.match(await summary(v), /^60 of 60 runs shown/);
    assert.equal(await v.page.locator('#filter-error').innerText(), '');
  });

  it('"only columns that differ" hides the columns every shown run has the same value in', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    assert.equal(await header(v, 'dataset').count(), 1);
    await setChecked(v, 'Only columns that differ', true);
    assert.equal(await header(v, 'dataset').count(), 0, 'dataset is v1 everywhere');
    assert.equal(await header(v, 'User').count(), 0, 'no run has a user');
    assert.equal(await header(v, 'acc').count(), 1);
    assert.equal(await header(v, 'optimizer').count(), 1);
    assert.match(await summary(v), / · 7 of 10 columns · /);
    // The column picker hides one more.
    await v.page.getByRole('button', { name: /^Columns/ }).click();
    await setChecked(v, 'params.optimizer', false);
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
    const request = await seriesRequest(v, n, 50);
    assert.ok(isCompareRunsWebviewMessage(request), 'a message the host accepts');
    assert.equal(request.key, 'acc');
    assert.equal(request.minMax, false, 'no min and max for 50 runs: the chart draws no bands for them');
    await send(v, { type: 'series', requestId: request.requestId, key: 'acc', series: seriesFor(request.runIds) });
    const chart = v.page.locator('#metric-chart');
    await v.page.waitForFunction("document.querySelector('#metric-chart')?.getAttribute('data-series') === '50'");
    assert.match(await v.page.locator('#chart-status').innerText(), /^acc: 50 runs, 50,000 points$/);
    assert.equal(await chart.getAttribute('data-bands'), '0');
    // The canvas has lines on it: count the pixels that are not the background.
    const painted = await v.page.evaluate<number>(PAINTED_PIXELS);
    assert.ok(painted > 5000, `the chart drew on its canvas: ${painted} pixels`);
    // Smoothing and log scale redraw without asking the host again.
    const before = (await v.sent()).length;
    await v.page.locator('#chart-smoothing').fill('0.9');
    await setChecked(v, 'Log scale', true);
    assert.equal(await chart.getAttribute('data-series'), '50');
    assert.equal((await v.sent()).slice(before).filter((m) => m.type === 'series').length, 0);
    // Dragging over the chart asks the host again, for the steps in the dragged range only.
    await setChecked(v, 'Log scale', false);
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

  it('draws min–max bands behind the lines of a few runs, asking the host for min and max only then', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    const request = await selectRuns(v, ['run-00', 'run-01', 'run-02']);
    assert.equal(request.minMax, true, 'three runs: min and max asked for');
    assert.ok(isCompareRunsWebviewMessage(request));
    assert.ok(!isCompareRunsWebviewMessage({ ...request, minMax: 'yes' }) && !isCompareRunsWebviewMessage({ ...request, minMax: undefined }), 'minMax must be a boolean');
    // The same three lines without min and max (as for many runs), then with them: the bands fill
    // the area 0.2 either side of each line, in the run's colour at low opacity.
    await send(v, { type: 'series', requestId: request.requestId, key: 'acc', series: seriesFor(request.runIds) });
    await v.page.waitForFunction("(c => c?.dataset.series === '3' && c.dataset.bands === '0')(document.querySelector('#metric-chart'))");
    const linesOnly = await v.page.evaluate<number>(PAINTED_PIXELS);
    await send(v, { type: 'series', requestId: request.requestId, key: 'acc', series: seriesFor(request.runIds, true) });
    await v.page.waitForFunction("document.querySelector('#metric-chart')?.dataset.bands === '3'");
    const withBands = await v.page.evaluate<number>(PAINTED_PIXELS);
    assert.ok(withBands > linesOnly + 20_000, `bands filled behind the lines: ${withBands} painted pixels, ${linesOnly} without`);
    // Translucent: no band pixel is opaque. Count the pixels of run-00's colour between its band's edges
    // at the plot's middle column, all of them partly transparent.
    const column = await v.page.evaluate<{ translucent: number; opaque: number }>(`(() => {
      const c = document.querySelector('#metric-chart canvas');
      const ctx = c.getContext('2d');
      const x = Math.round(c.width * 0.6);
      const data = ctx.getImageData(x, 0, 1, c.height).data;
      let translucent = 0, opaque = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0 && data[i] < 200) translucent++; else if (data[i] >= 200) opaque++;
      return { translucent, opaque };
    })()`);
    assert.ok(column.translucent > 50, `a column through the bands is mostly translucent: ${JSON.stringify(column)}`);
    // Smoothing and log scale keep the bands (smoothing moves only the lines; on a log scale the
    // non-positive minima near step 0 are gaps), without asking the host again.
    const before = (await v.sent()).length;
    await v.page.locator('#chart-smoothing').fill('0.9');
    await setChecked(v, 'Log scale', true);
    await v.page.waitForFunction("document.querySelector('#metric-chart')?.dataset.bands === '3'");
    assert.equal((await v.sent()).slice(before).filter((m) => m.type === 'series').length, 0);
    await setChecked(v, 'Log scale', false);
    // Every shown run (60): no min and max asked for, and none drawn even when sent.
    const many = (await v.sent()).length;
    await v.page.getByRole('button', { name: 'Select shown' }).click();
    const all = await seriesRequest(v, many, RUNS);
    assert.equal(all.minMax, false, `${RUNS} runs: no min and max`);
    await send(v, { type: 'series', requestId: all.requestId, key: 'acc', series: seriesFor(all.runIds, true) });
    await v.page.waitForFunction(`(c => c?.dataset.series === '${RUNS}' && c.dataset.bands === '0')(document.querySelector('#metric-chart'))`);
    assert.deepEqual(v.pageErrors, []);
  });

  it('shows the values at the cursor in a tooltip over the metric chart, hidden when the mouse leaves', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    const request = await selectRuns(v, ['run-00', 'run-01', 'run-02']);
    const series = seriesFor(request.runIds, true);
    await send(v, { type: 'series', requestId: request.requestId, key: 'acc', series });
    await v.page.waitForFunction("document.querySelector('#metric-chart')?.dataset.bands === '3'");
    const nameOf = new Map(table.rows.map((r) => [r.runId, String(r.values[0])]));
    const tooltip = v.page.locator('#metric-chart .chart-tooltip');
    assert.equal(await tooltip.getAttribute('aria-hidden'), 'true', 'the keyboard path announces; the tooltip is not read');
    await assert.rejects(tooltip.waitFor({ state: 'visible', timeout: 200 }), 'no tooltip before the mouse is over the plot');
    const over = v.page.locator('#metric-chart .u-over');
    await over.scrollIntoViewIfNeeded();
    const box = (await over.boundingBox())!;
    /** The tooltip's header, rows (run name, value, swatch colour) and "+N more" line. */
    const TOOLTIP = `(() => {
      const e = document.querySelector('#metric-chart .chart-tooltip');
      const more = e.querySelector('.chart-tooltip-more');
      return {
        x: e.querySelector('.chart-tooltip-x').textContent,
        rows: [...e.querySelectorAll('.chart-tooltip-run')].filter((r) => !r.hidden).map((r) => ({
          name: r.querySelector('.chart-tooltip-name').textContent,
          value: r.querySelector('.chart-tooltip-value').textContent,
          swatch: getComputedStyle(r.querySelector('.chart-tooltip-swatch')).backgroundColor,
        })),
        more: more.hidden ? '' : more.textContent,
      };
    })()`;
    type Shown = { x: string; rows: { name: string; value: string; swatch: string }[]; more: string };
    /** The tooltip once it shows the cursor at (fx, fy) of the plot (its text changed from before the move). */
    const hover = async (fx: number, fy: number) => {
      const previous = await v.page.evaluate<string>("document.querySelector('#metric-chart .chart-tooltip')?.textContent ?? ''");
      await v.page.mouse.move(box.x + box.width * fx, box.y + box.height * fy, { steps: 3 });
      await tooltip.waitFor({ state: 'visible' });
      await v.page.waitForFunction(`document.querySelector('#metric-chart .chart-tooltip').textContent !== ${JSON.stringify(previous)}`);
      return v.page.evaluate<Shown>(TOOLTIP);
    };
    const format = (x: number) => String(Number(x.toPrecision(6)));
    /** What the tooltip should say of the run at `k` in the series posted, at step `step`. */
    const expected = (k: number, step: number) => {
      const s = series[k]!;
      const j = s.step.indexOf(step);
      assert.ok(j >= 0, `step ${step} is one of the run's buckets`);
      return { name: nameOf.get(s.runId)!, value: `${format(s.last[j]!)} (${format(s.min![j]!)}–${format(s.max![j]!)})` };
    };
    for (const [fx, fy] of [[0.5, 0.5], [0.2, 0.1], [0.85, 0.9]] as const) {
      const shown = await hover(fx, fy);
      const m = /^Step (\d+)$/.exec(shown.x);
      assert.ok(m, `the step at the cursor: ${shown.x}`);
      const step = Number(m[1]);
      assert.ok(Math.abs(step - 990 * fx) < 60, `step ${step} near ${fx} of 0..990`);
      assert.equal(shown.rows.length, 3, 'each of the 3 runs listed');
      assert.equal(shown.more, '');
      assert.deepEqual(
        shown.rows.map(({ name, value }) => ({ name, value })).sort((a, b) => a.name.localeCompare(b.name)),
        [0, 1, 2].map((k) => expected(k, step)).sort((a, b) => a.name.localeCompare(b.name)),
      );
      assert.equal(new Set(shown.rows.map((r) => r.swatch)).size, 3, 'each run its colour');
      // Nearest the cursor's y first: near the top the highest line (run k = 2 is 0.02 above run 0), near the bottom the lowest.
      assert.equal(shown.rows[0]!.name, expected(fy < 0.5 ? 2 : 0, step).name);
    }
    // Off the plot: hidden.
    await v.page.mouse.move(box.x + box.width / 2, box.y + box.height + 60);
    await tooltip.waitFor({ state: 'hidden' });
    // Every run (60): the 8 nearest the cursor, then how many more.
    const many = (await v.sent()).length;
    await v.page.getByRole('button', { name: 'Select shown' }).click();
    const all = await seriesRequest(v, many, RUNS);
    await send(v, { type: 'series', requestId: all.requestId, key: 'acc', series: seriesFor(all.runIds) });
    await v.page.waitForFunction(`document.querySelector('#metric-chart')?.dataset.series === '${RUNS}'`);
    const crowded = await hover(0.6, 0.5);
    assert.equal(crowded.rows.length, 8);
    assert.equal(crowded.more, `+${RUNS - 8} more`);
    await v.page.mouse.move(0, 0);
    await tooltip.waitFor({ state: 'hidden' });
    assert.deepEqual(v.pageErrors, []);
    assert.deepEqual(await v.violations(), []);
  });

  it('zooms and pans the metric chart by keyboard, asking the host for each new step range', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    const n = (await v.sent()).length;
    await v.page.getByRole('button', { name: 'Select shown' }).click();
    const first = (await postedAfter(v, n, (m) => m.type === 'series')) as SeriesRequest;
    await send(v, { type: 'series', requestId: first.requestId, key: 'acc', series: seriesFor(first.runIds) });
    await v.page.waitForFunction("document.querySelector('#metric-chart')?.getAttribute('data-series') === '60'");
    const chart = v.page.locator('#metric-chart');
    assert.match((await chart.getAttribute('aria-label'))!, /^acc of 60 runs against step\. Plus and minus zoom/);
    const status = () => v.page.locator('#chart-status').innerText();
    /** Presses `key` on the focused chart; returns the series request it sent, answered. */
    const press = async (key: string): Promise<SeriesRequest> => {
      const before = (await v.sent()).length;
      await v.page.keyboard.press(key);
      const request = (await postedAfter(v, before, (m) => m.type === 'series')) as SeriesRequest;
      assert.ok(isCompareRunsWebviewMessage(request), 'a message the host accepts');
      assert.equal(request.runIds.length, 60);
      await send(v, { type: 'series', requestId: request.requestId, key: 'acc', series: seriesFor(request.runIds) });
      return request;
    };
    await chart.focus();
    // Steps 0..990 (each run's stepRange): + halves the range around its centre.
    const zoomedIn = await press('+');
    assert.deepEqual([zoomedIn.minStep, zoomedIn.maxStep], [247, 743]);
    await v.page.waitForFunction("document.querySelector('#chart-status').textContent.endsWith('steps 247 to 743')");
    // An arrow pans by a quarter of the shown range (496 steps: 124).
    const panned = await press('ArrowRight');
    assert.deepEqual([panned.minStep, panned.maxStep], [371, 867]);
    // Left three times: back to 247, then 123, then it stops at step 0, keeping the width.
    await press('ArrowLeft');
    const left = await press('ArrowLeft');
    assert.deepEqual([left.minStep, left.maxStep], [123, 619]);
    const atStart = await press('ArrowLeft');
    assert.deepEqual([atStart.minStep, atStart.maxStep], [0, 496]);
    const still = (await v.sent()).length;
    await v.page.keyboard.press('ArrowLeft');
    assert.equal(await status(), 'Already at the start.');
    assert.equal((await v.sent()).slice(still).filter((m) => m.type === 'series').length, 0);
    const asked = (await v.sent()).length;
    await v.page.keyboard.press('+');
    assert.equal(await status(), 'Zoomed in: step 124 to 372.', 'announced while the host is asked');
    const zoomedTwice = (await postedAfter(v, asked, (m) => m.type === 'series')) as SeriesRequest;
    assert.deepEqual([zoomedTwice.minStep, zoomedTwice.maxStep], [124, 372]);
    await send(v, { type: 'series', requestId: zoomedTwice.requestId, key: 'acc', series: seriesFor(zoomedTwice.runIds) });
    await v.page.waitForFunction("document.querySelector('#chart-status').textContent.endsWith('steps 124 to 372')");
    // - doubles it back; 0 zooms out to the whole series.
    const zoomedOut = await press('-');
    assert.deepEqual([zoomedOut.minStep, zoomedOut.maxStep], [0, 496]);
    const whole = await press('0');
    assert.equal(whole.minStep, undefined, 'the whole series again');
    await v.page.waitForFunction("document.querySelector('#chart-status').textContent === 'acc: 60 runs, 60,000 points'");
    assert.equal(await v.page.getByRole('button', { name: 'Reset zoom' }).getAttribute('aria-disabled'), 'true');
    // Zoomed out already: 0 and - say so and ask nothing.
    const quiet = (await v.sent()).length;
    await v.page.keyboard.press('-');
    assert.equal(await status(), 'Showing the whole step range.');
    assert.equal((await v.sent()).slice(quiet).filter((m) => m.type === 'series').length, 0);
    assert.equal(await v.page.locator('#chart-status').getAttribute('aria-live'), 'polite', 'changes are announced');
    // On the wall-time axis the chart zooms into what it has: no new request.
    await v.page.locator('#chart-x-axis').click();
    await v.page.getByRole('option', { name: 'Wall time' }).click();
    const timeRequest = (await postedAfter(v, quiet, (m) => m.type === 'series')) as SeriesRequest;
    await send(v, { type: 'series', requestId: timeRequest.requestId, key: 'acc', series: seriesFor(timeRequest.runIds) });
    await v.page.waitForFunction("/ against time\\./.test(document.querySelector('#metric-chart').getAttribute('aria-label'))");
    const local = (await v.sent()).length;
    await chart.focus();
    await v.page.keyboard.press('+');
    assert.match(await status(), /^Zoomed in: time 2023-11-14 22:\d\d:\d\d UTC to 2023-11-14 22:\d\d:\d\d UTC\.$/);
    await v.page.keyboard.press('0');
    assert.equal(await status(), 'Zoomed out: the whole time range, 2023-11-14 22:13:20 UTC to 2023-11-14 22:29:50 UTC.');
    assert.equal((await v.sent()).slice(local).filter((m) => m.type === 'series').length, 0);
  });

  it('brushes the parallel coordinates by keyboard: an axis picked with arrows, Shift+Down grows, Down moves, Escape clears', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    const { pc, canvas } = await showParallel(v);
    await canvas.focus();
    assert.match((await canvas.getAttribute('aria-label'))!, /^Parallel coordinates of 60 runs, axis 1 of 3: lr: not brushed\./);
    await v.page.keyboard.press('End');
    assert.equal(await pc.getAttribute('data-focused-axis'), '2');
    assert.match((await canvas.getAttribute('aria-label'))!, /axis 3 of 3: acc: not brushed\./);
    const accCol = table.columns.findIndex((c) => c.id === 'metrics.acc');
    const accOf = (id: string) => table.rows.find((r) => r.runId === id)!.values[accCol] as number;
    const selected = async () => ((await v.state()) as { selected: string[] }).selected;
    // Five presses: the upper half of the acc axis (0.5 .. 0.795): acc ≥ 0.6475, runs 30..59.
    for (let i = 0; i < 5; i++) await v.page.keyboard.press('Shift+ArrowDown');
    let chosen = await selected();
    assert.equal(chosen.length, 30);
    assert.ok(chosen.every((id) => accOf(id) >= 0.6475), 'only the upper half');
    assert.match(await summary(v), / · 30 selected$/);
    const live = v.page.locator('#parallel-status');
    assert.equal(await live.getAttribute('aria-live'), 'polite');
    assert.equal(await live.innerText(), 'acc: brushed from 0.6475 to 0.795. 30 runs inside the brushes.');
    // Down moves the brush a tenth lower, keeping its height: positions 0.4..0.9, runs 24..53.
    await v.page.keyboard.press('ArrowDown');
    chosen = await selected();
    const accs = chosen.map(accOf).sort((a, b) => a - b);
    assert.deepEqual([chosen.length, accs[0], accs.at(-1)], [30, 0.5 + 24 / 200, 0.5 + 53 / 200]);
    // A second brush, on optimizer (left once from acc): only the 'sgd' runs within the first.
    await v.page.keyboard.press('ArrowLeft');
    // Categories adam, rmsprop, sgd at 0, 0.5, 1: four presses brush 0..0.4.
    for (let i = 0; i < 4; i++) await v.page.keyboard.press('Shift+ArrowUp');
    const optimizerCol = table.columns.findIndex((c) => c.id === 'params.optimizer');
    chosen = await selected();
    assert.ok(chosen.length > 0 && chosen.length < 30, `narrowed by the second brush: ${chosen.length}`);
    assert.deepEqual(new Set(chosen.map((id) => table.rows.find((r) => r.runId === id)!.values[optimizerCol])), new Set(['adam']), 'adam is at the bottom of the sorted categories');
    assert.equal(await pc.getAttribute('data-highlighted'), String(chosen.length));
    // Escape clears the brush on the focused axis: the acc brush alone again.
    await v.page.keyboard.press('Escape');
    assert.equal((await selected()).length, 30);
    assert.match(await live.innerText(), /^optimizer: not brushed\. 30 runs inside the brushes\.$/);
    await v.page.keyboard.press('ArrowRight');
    await v.page.keyboard.press('Escape');
    assert.match(await live.innerText(), /^acc: not brushed\. No brush left/);
    assert.deepEqual(await v.violations(), []);
  });

  it('reaches the scatter points by keyboard: arrows go across and up, the point is announced, Space selects, Enter opens', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    const sp = v.page.locator('#scatter-plot');
    const canvas = sp.locator('canvas');
    await canvas.scrollIntoViewIfNeeded();
    // Drawn once scrolled into view (after the table).
    for (let i = 0; i < 200 && (await sp.getAttribute('data-points')) !== '60'; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(await sp.getAttribute('data-points'), '60');
    assert.match((await canvas.getAttribute('aria-label'))!, /^Scatter of acc against lr: 60 runs\. Left and right arrows go across/);
    const live = v.page.locator('#scatter-status');
    assert.equal(await live.getAttribute('aria-live'), 'polite');
    const nameCol = table.columns.findIndex((c) => c.id === 'attributes.run_name');
    const idOf = (name: string) => table.rows.find((r) => r.values[nameCol] === name)!.runId;
    const focused = () => sp.getAttribute('data-focused-run');
    // Focus lands on the first point across: lowest lr (0.001: runs 0, 10, …, 50), then lowest acc.
    await canvas.focus();
    assert.equal(await focused(), idOf('run-00'));
    assert.equal(await live.innerText(), 'run-00: lr 0.001, acc 0.5. Point 1 of 60 across.');
    assert.equal(await sp.locator('.point-focus').isVisible(), true, 'the focused point is ringed');
    await v.page.keyboard.press('ArrowRight');
    assert.equal(await focused(), idOf('run-10'));
    assert.equal(await live.innerText(), 'run-10: lr 0.001, acc 0.55. Point 2 of 60 across.');
    await v.page.keyboard.press('End');
    assert.equal(await focused(), idOf('run-59'));
    assert.match(await live.innerText(), /^run-59: lr 0\.09\d*, acc 0\.79\d*\. Point 60 of 60 across\.$/);
    await v.page.keyboard.press('ArrowRight');
    assert.match(await live.innerText(), /^run-59: .*\. No point further that way\.$/);
    // Down: the next point lower (acc 0.79, run 58); up again: run 59.
    await v.page.keyboard.press('ArrowDown');
    assert.equal(await focused(), idOf('run-58'));
    await v.page.keyboard.press('ArrowUp');
    await v.page.keyboard.press('ArrowDown');
    assert.equal(await focused(), idOf('run-58'));
    // Space selects the run, as a click on its dot does; Space again deselects it.
    await v.page.keyboard.press('Space');
    assert.deepEqual(((await v.state()) as { selected: string[] }).selected, [idOf('run-58')]);
    assert.equal(await live.innerText(), 'run-58 selected.');
    // Enter opens the run.
    const before = (await v.sent()).length;
    await v.page.keyboard.press('Enter');
    const opened = await postedAfter(v, before, (m) => m.type === 'openRun');
    assert.equal(opened.runId, idOf('run-58'));
    assert.ok(isCompareRunsWebviewMessage(opened));
    await v.page.keyboard.press('Space');
    assert.deepEqual(((await v.state()) as { selected: string[] }).selected, []);
    assert.equal(await live.innerText(), 'run-58 deselected.');
    assert.deepEqual(await v.violations(), []);
  });

  it('uses @vscode-elements components, reached with Tab, under the Content-Security-Policy', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    const tags = await v.page.evaluate<Record<string, string>>(
      "Object.fromEntries(['filter', 'only-differing', 'columns-button', 'group-by', 'select-shown', 'chart-metric', 'chart-x-axis', 'chart-log', 'reset-zoom', 'clear-brushes', 'scatter-x'].map((id) => [id, document.getElementById(id).tagName.toLowerCase()]))",
    );
    assert.deepEqual(tags, {
      filter: 'vscode-textfield',
      'only-differing': 'vscode-checkbox',
      'columns-button': 'vscode-button',
      'group-by': 'vscode-single-select',
      'select-shown': 'vscode-button',
      'chart-metric': 'vscode-single-select',
      'chart-x-axis': 'vscode-single-select',
      'chart-log': 'vscode-checkbox',
      'reset-zoom': 'vscode-button',
      'clear-brushes': 'vscode-button',
      'scatter-x': 'vscode-single-select',
    });
    // They styled themselves (constructable stylesheets, which the policy allows) and rendered.
    const styled = await v.page.evaluate<number>("document.getElementById('select-shown').shadowRoot.adoptedStyleSheets.length");
    assert.ok(styled > 0, 'the button adopted its stylesheets');
    assert.notEqual(await v.page.evaluate<string>("getComputedStyle(document.getElementById('select-shown')).display"), 'inline', 'the component is upgraded');
    // Tab from the filter goes through the table's controls in order, each with a name.
    await v.page.locator('#filter input').focus();
    const reached: string[] = [];
    for (let i = 0; i < 8; i++) {
      await v.page.keyboard.press('Tab');
      reached.push(await v.page.evaluate<string>("(() => { const a = document.activeElement; return a.id || a.tagName.toLowerCase(); })()"));
    }
    assert.deepEqual(reached.slice(0, 6), ['only-differing', 'columns-button', 'group-by', 'select-shown', 'clear-selection', 'export-csv'], 'disabled Unpin baseline is skipped');
    // The column picker opens by keyboard; its checkboxes carry the column names.
    await v.page.locator('#columns-button').focus();
    await v.page.keyboard.press('Enter');
    assert.equal(await v.page.locator('#columns-button').getAttribute('aria-expanded'), 'true');
    assert.equal(await v.page.getByRole('checkbox', { name: 'metrics.acc', exact: true }).isChecked(), true);
    await v.page.getByRole('searchbox', { name: 'Find a column' }).fill('param');
    assert.equal(await v.page.locator('#column-picker vscode-checkbox:visible').count(), 3, 'lr, optimizer, dataset');
    // A drop-down by keyboard: the metric picker lists acc.
    await v.page.locator('#group-by').focus();
    await v.page.keyboard.press('Enter');
    await v.page.getByRole('option', { name: 'lr' }).waitFor();
    await v.page.keyboard.press('Escape');
    assert.deepEqual(await v.violations(), [], 'no Content-Security-Policy violation with the components in use');
    assert.deepEqual(v.pageErrors, []);
  });

  it('brushing an axis of the parallel coordinates narrows the selection to the runs inside', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await showTable(v);
    const { pc, canvas } = await showParallel(v);
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
    await v.page.locator('#group-by').click();
    await v.page.getByRole('option', { name: 'optimizer' }).click();
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
    await setChecked(v, 'Only columns that differ', true);
    const state = await v.state();
    const restored = await open({ state });
    await showTable(restored);
    assert.equal((await names(restored))[0], 'run-59');
    assert.equal(await restored.page.getByRole('checkbox', { name: 'Only columns that differ' }).isChecked(), true);
    assert.equal(await header(restored, 'dataset').count(), 0);
  });

  it('looks right in the light, dark and high-contrast themes (screenshots kept in test-results/webview/)', async () => {
    const out = path.join(repoRoot, 'test-results', 'webview');
    mkdirSync(out, { recursive: true });
    for (const themeKind of ['vscode-light', 'vscode-dark', 'vscode-high-contrast'] as const) {
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
      assert.equal(background, themeKind === 'vscode-light' ? 'rgb(255, 255, 255)' : themeKind === 'vscode-dark' ? 'rgb(31, 31, 31)' : 'rgb(0, 0, 0)');
      if (themeKind === 'vscode-high-contrast') {
        // The selected rows are edged (dashed) in the active contrast colour, not shaded; buttons outlined.
        const border = await v.page.evaluate<string>("(() => { const s = getComputedStyle(document.querySelector('#run-table .run-row.selected .cell')); return `${s.borderBottomStyle} ${s.borderBottomColor} ${s.backgroundColor}`; })()");
        assert.equal(border, 'dashed rgb(243, 133, 24) rgba(0, 0, 0, 0)');
        const outline = await v.page.evaluate<string>("getComputedStyle(document.getElementById('select-shown')).outlineColor");
        assert.equal(outline, 'rgb(111, 195, 223)');
      }
      assert.deepEqual(await v.violations(), []);
      assert.deepEqual(v.pageErrors, []);
    }
  });
});
