/**
 * Compare Runs in a real VS Code (code-server in headless Chromium): a workspace whose tracker holds
 * three runs of one experiment, each with a `loss` history of 50 steps; trusted:
 *   - in the Runs view, two runs are selected (click, then Ctrl+click) and "Compare Runs" is chosen
 *     from their context menu: a "Compare 2 runs" webview opens with just those two runs;
 *   - "Select shown" charts both: the host answers with their downsampled series and the chart
 *     draws two lines;
 *   - a filter in the tracker's search grammar goes through the host and narrows the table.
 * The extension is the freshly built bundles, copied into a fresh extensions dir.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Frame, Locator, Page } from 'playwright-core';
import { Tracker } from '../../core/tracker/tracker';
import { contextMenu, EditorSession, runCommand, screenshotOnFailure, waitUntil } from './codeServer';

const RUNS = ['alpha', 'beta', 'gamma'];

/** A workspace whose tracker has three finished runs in the experiment `e2e`, each with a loss history. */
function comparisonWorkspace(root: string): string {
  const ws = path.join(root, 'workspace');
  mkdirSync(ws, { recursive: true });
  const t = Tracker.open(ws);
  try {
    const exp = t.createExperiment('e2e').experimentId;
    RUNS.forEach((name, k) => {
      const id = t.createRun({ experimentId: exp, runName: name, startTime: Date.now() - 60_000 + k * 1000 }).info.runId;
      const metrics = Array.from({ length: 50 }, (_, s) => ({ key: 'loss', value: 1 / (1 + s) + k / 10, step: s, timestamp: Date.now() + s }));
      t.logBatch(id, { params: [{ key: 'lr', value: String(0.1 * (k + 1)) }], metrics });
      t.updateRun(id, { status: 'FINISHED', endTime: Date.now() });
    });
  } finally {
    t.close();
  }
  return ws;
}

function runsViewRows(page: Page): Locator {
  return page.locator('.pane', { has: page.locator('.pane-header', { hasText: /^Runs/ }) }).locator('.monaco-list-row');
}

/** The frame of the Compare Runs page (VS Code nests each webview in two iframes). */
async function compareFrame(page: Page): Promise<Frame> {
  return waitUntil(
    async () => {
      for (const f of page.frames()) {
        if (await f.locator('#run-table').count().catch(() => 0)) return f;
      }
      return undefined;
    },
    'the Compare Runs webview',
    30_000,
  );
}

describe('Compare Runs in the editor (code-server)', { timeout: 600_000 }, () => {
  const session = new EditorSession('compare');
  const page = session.page;
  before(() => session.open({ workspace: comparisonWorkspace, settings: { 'runwise.trackingServer.autoStart': false } }));
  after(() => session.close());

  it('compares two runs selected in the Runs view and charts them', async (t) => {
    screenshotOnFailure(t, page, session.server);
    const p = page();
    await runCommand(p, 'Runwise: Focus on Runs View');
    const alpha = runsViewRows(p).filter({ hasText: /^alpha/ }).first();
    const beta = runsViewRows(p).filter({ hasText: /^beta/ }).first();
    await alpha.waitFor({ state: 'visible', timeout: 30_000 });
    await alpha.click();
    await beta.click({ modifiers: ['ControlOrMeta'] });
    await waitUntil(async () => (await p.locator('.pane .monaco-list-row.selected').count()) === 2 || undefined, 'two runs selected', 10_000);
    await contextMenu(p, beta, 'Compare Runs');
    await p.locator('.tabs-container .tab', { hasText: 'Compare 2 runs' }).waitFor({ state: 'visible', timeout: 30_000 });

    const frame = await compareFrame(p);
    await frame.locator('#run-table .name-cell').first().waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await frame.locator('#summary').innerText(), /^2 of 2 runs shown/);
    const names = await frame.locator('#run-table .run-row .run-name').allInnerTexts();
    assert.deepEqual([...names].sort(), ['alpha', 'beta']);

    await frame.getByRole('button', { name: 'Select shown' }).click();
    await frame.locator('#metric-chart[data-series="2"]').waitFor({ state: 'attached', timeout: 30_000 });
    assert.match(await frame.locator('#chart-status').innerText(), /^loss: 2 runs, 100 points$/);
    assert.ok((await frame.locator('#metric-chart canvas').count()) >= 1, 'the chart is drawn on a canvas');

    // The filter runs in the tracker: beta's loss ends higher (1/50 + 0.1).
    await frame.locator('#filter input').fill('metrics.loss < 0.05');
    await frame.locator('#filter input').press('Enter');
    await waitUntil(async () => /^1 of 2 runs shown/.test(await frame.locator('#summary').innerText()) || undefined, 'the filtered table', 15_000);
    assert.deepEqual(await frame.locator('#run-table .run-row .run-name').allInnerTexts(), ['alpha']);
  });
});
