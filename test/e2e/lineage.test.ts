/**
 * The lineage view in a real VS Code (code-server in headless Chromium). The workspace's tracker
 * holds, written here before the editor opens: a `train` stage run that read data/train.csv (with
 * its hash) and wrote model.onnx, and churn version 1 registered from that run with @champion. Then:
 *   - the Models view's version row → Show Lineage Graph: the lineage panel opens with the data file, the
 *     run, the version and its alias drawn in the webview;
 *   - a click on the run node opens the run's details; Enter on the data file node opens the file;
 *   - Runwise: Show Pipeline Graph draws the workspace's two stages, never run; Run Pipeline turns
 *     the slow stage "running" in the open graph, then both "up to date", without a new layout.
 * The extension is the freshly built bundles, copied into a fresh extensions dir.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OUTPUTS_ARTIFACT } from '../../core/pipeline/stageTracking';
import { STAGE_TAG } from '../../core/tracker/model';
import { Tracker } from '../../core/tracker/tracker';
import { contextMenu, EditorSession, runCommand, screenshotOnFailure, waitUntil } from './codeServer';
import { onnxBytes } from '../support/onnxBytes';

/** The workspace and its tracker: data/train.csv → train (run) → churn v1 @champion. */
async function lineageWorkspace(root: string): Promise<{ ws: string; runId: string }> {
  const ws = path.join(root, 'workspace');
  mkdirSync(path.join(ws, 'data'), { recursive: true });
  writeFileSync(path.join(ws, 'data', 'train.csv'), 'x,y\n1,0\n2,1\n');
  writeFileSync(path.join(ws, 'model.onnx'), onnxBytes('onnx-bytes'));
  writeFileSync(
    path.join(ws, 'runwise.yaml'),
    ['stages:', '  prepare:', '    cmd: sleep 5 && cp data/train.csv data/clean.csv', '    deps:', '      - data/train.csv', '    outs:', '      - data/clean.csv', '  fit:', '    cmd: wc -l data/clean.csv > fit.txt', '    deps:', '      - data/clean.csv', '    outs:', '      - fit.txt', ''].join('\n'),
  );
  const tracker = Tracker.open(ws);
  try {
    const runId = tracker.createRun({ runName: 'train-run', tags: [{ key: STAGE_TAG, value: 'train' }] }).info.runId;
    tracker.logInputs(runId, [{ dataset: { name: 'data/train.csv', digest: '0123456789abcdef', sourceType: 'local', source: 'data/train.csv' }, tags: [] }]);
    await tracker.putArtifact(runId, OUTPUTS_ARTIFACT, Buffer.from(JSON.stringify([{ path: 'model.onnx', kind: 'out', md5: 'fedcba', size: 10 }])));
    tracker.updateRun(runId, { status: 'FINISHED' });
    await tracker.registerModelFiles('churn', path.join(ws, 'model.onnx'), { runId, alias: 'champion' });
    return { ws, runId };
  } finally {
    tracker.close();
  }
}

describe('Lineage in the editor (code-server)', { timeout: 600_000 }, () => {
  const session = new EditorSession('lineage');
  const page = session.page;
  let runId = '';
  before(() =>
    session.open({
      workspace: async (root) => {
        const made = await lineageWorkspace(root);
        runId = made.runId;
        return made.ws;
      },
      settings: { 'runwise.trackingServer.autoStart': false },
    }),
  );
  after(() => session.close());

  it('opens the lineage of a registered model from its version row, and its nodes open the run and the file', async (t) => {
    screenshotOnFailure(t, page, session.server);
    const p = page();
    await runCommand(p, 'Runwise: Focus on Models View');
    const pane = p.locator('.pane', { has: p.locator('.pane-header', { hasText: /^Models/ }) });
    const model = pane.locator('.monaco-list-row', { hasText: /^churn/ }).first();
    await model.waitFor({ state: 'visible', timeout: 30_000 });
    const version = pane.locator('.monaco-list-row', { hasText: /^Version 1/ }).first();
    if (!(await version.isVisible())) await model.click();
    await version.waitFor({ state: 'visible', timeout: 20_000 });
    await contextMenu(p, version, 'Show Lineage Graph');

    await p.locator('.tabs-container .tab', { hasText: 'Lineage: churn v1' }).waitFor({ state: 'visible', timeout: 30_000 });
    // The webview lives in nested iframes (VS Code's webview host, then the page).
    const inner = p.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    await inner.locator('#lineage-title').waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await inner.locator('#lineage-title').innerText(), 'Lineage of churn v1');
    await waitUntil(async () => ((await inner.locator('g.node').count()) === 4 ? true : undefined), 'four nodes drawn', 30_000);
    const labels = await inner.locator('g.node text.label').allTextContents();
    assert.deepEqual([...labels].sort(), ['@champion', 'churn v1', 'data/train.csv', 'train']);
    assert.match((await inner.locator('g.node.focus').getAttribute('data-id')) ?? '', /^version:churn\/1$/);

    // The run node opens the run's details.
    await inner.locator(`g.node[data-id="run:${runId}"]`).click();
    await p.locator('.tabs-container .tab', { hasText: 'Run: train-run' }).waitFor({ state: 'visible', timeout: 30_000 });

    // Back in the lineage tab, Enter on the data file node opens the file.
    await p.locator('.tabs-container .tab', { hasText: 'Lineage: churn v1' }).click();
    const again = p.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    const data = again.locator('g.node[data-id="data:data/train.csv@0123456789abcdef"]');
    await data.waitFor({ state: 'visible', timeout: 30_000 });
    await data.focus();
    await data.press('Enter');
    await p.locator('.tabs-container .tab', { hasText: 'train.csv' }).waitFor({ state: 'visible', timeout: 30_000 });
  });

  it('shows the pipeline graph and follows a run live: never run, running, up to date', async (t) => {
    screenshotOnFailure(t, page, session.server);
    const p = page();
    await runCommand(p, 'Runwise: Show Pipeline Graph');
    await p.locator('.tabs-container .tab', { hasText: 'Pipeline Graph' }).waitFor({ state: 'visible', timeout: 30_000 });
    const inner = p.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    const stateOf = async (id: string) => /\bstate-([a-z-]+)/.exec((await inner.locator(`g.node[data-id="stage:${id}"]`).getAttribute('class')) ?? '')?.[1];
    await waitUntil(async () => ((await inner.locator('g.node').count()) === 2 ? true : undefined), 'two stages drawn', 30_000);
    assert.equal(await inner.locator('#lineage-title').innerText(), 'Pipeline');
    assert.equal(await stateOf('prepare'), 'never-run');
    assert.equal(await stateOf('fit'), 'never-run');
    assert.equal(await inner.locator('path.edge').count(), 1);
    const rendered = await inner.locator('body').getAttribute('data-rendered');

    await runCommand(p, 'Runwise: Run Pipeline');
    // The state and its detail line read in one go: the stage may end between two reads.
    const runningDetail = await waitUntil(async () => {
      const [cls, detail] = await inner
        .locator('g.node[data-id="stage:prepare"]')
        .evaluate((el) => [el.getAttribute('class') ?? '', el.querySelector('text.detail')?.textContent ?? '']);
      return /\bstate-running\b/.test(cls!) ? detail : undefined;
    }, 'prepare running in the graph', 30_000);
    assert.match(runningDetail!, /^running \d+:\d\d$/);
    await waitUntil(async () => ((await stateOf('prepare')) === 'up-to-date' && (await stateOf('fit')) === 'up-to-date' ? true : undefined), 'both stages up to date', 60_000);
    assert.equal(await inner.locator('body').getAttribute('data-rendered'), rendered, 'the states changed in place, without a new layout');
  });
});
