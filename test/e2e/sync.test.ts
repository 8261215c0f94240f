/**
 * Pushing runs from the editor, in a real VS Code (code-server in headless Chromium), to a second
 * `runwise serve` (another workspace) as the remote. The workspace's tracker holds a finished run
 * and `.runwise/config` names the remote `team`, whose token is in an environment variable the
 * extension host sees. Then:
 *   - Runwise: Push Runs to Remote… → "All runs" → `team`: the notification says one run was
 *     created there, the remote has it (found by its runwise.source_run_id tag, with its metric),
 *     and the Runs view marks the run "☁ team";
 *   - pushing again sends nothing new: the notification says it was up to date.
 * The extension is the freshly built bundles, copied into a fresh extensions dir.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { MLFLOW_API_PREFIX } from '../../core/mlflow/restApi';
import { addRemote } from '../../core/sync/remoteConfig';
import { SOURCE_RUN_TAG } from '../../core/sync/syncTags';
import { Tracker } from '../../core/tracker/tracker';
import { startServeProcess, type ServerProcess } from '../support/processes';
import { tempWorkspace } from '../support/tempWorkspace';
import { EditorSession, notificationTexts, runCommand, screenshotOnFailure, waitUntil } from './codeServer';

const TOKEN = 'e2e-remote-token-0123456789';

/** The workspace: one finished run with a metric, and the remote `team` whose token is in $E2E_TEAM_TOKEN. */
function syncWorkspace(root: string, remoteUri: string): { ws: string; runId: string } {
  const ws = path.join(root, 'workspace');
  mkdirSync(ws, { recursive: true });
  const tracker = Tracker.open(ws);
  try {
    const exp = tracker.createExperiment('churn');
    const runId = tracker.createRun({ experimentId: exp.experimentId, runName: 'baseline', startTime: 1_700_000_000_000 }).info.runId;
    tracker.logBatch(runId, { metrics: [{ key: 'accuracy', value: 0.875, timestamp: 1_700_000_000_500, step: 0 }], params: [{ key: 'lr', value: '0.1' }] });
    tracker.updateRun(runId, { status: 'FINISHED', endTime: 1_700_000_001_000 });
    addRemote(ws, 'team', remoteUri, { tokenEnv: 'E2E_TEAM_TOKEN' });
    return { ws, runId };
  } finally {
    tracker.close();
  }
}

/** Picks the row of the open quick pick whose label is `label`. */
async function pickItem(page: Page, label: string): Promise<void> {
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ state: 'visible', timeout: 20_000 });
  await row.click();
}

describe('Push runs to a remote from the editor (code-server)', { timeout: 600_000 }, () => {
  const session = new EditorSession('sync');
  const page = session.page;
  let runId = '';
  let remote: ServerProcess | undefined;
  before(async () => {
    remote = await startServeProcess(tempWorkspace('e2e-sync-remote'), TOKEN);
    await session.open({
      workspace: (root) => {
        const made = syncWorkspace(root, remote!.uri);
        runId = made.runId;
        return made.ws;
      },
      env: { E2E_TEAM_TOKEN: TOKEN },
      settings: { 'runwise.trackingServer.autoStart': false },
    });
  });
  after(async () => {
    await session.close();
    remote?.child.kill('SIGTERM');
  });

  it('pushes the runs with Push Runs to Remote…, the remote has them, and the Runs view marks them', async (t) => {
    screenshotOnFailure(t, page, session.server);
    const p = page();
    await runCommand(p, 'Runwise: Push Runs to Remote…');
    await pickItem(p, 'All runs');
    await pickItem(p, 'team');
    const said = await waitUntil(async () => (await notificationTexts(p)).find((n) => /pushed 1 run\(s\) to team/.test(n)), 'the push to finish', 60_000);
    assert.match(said, /1 created, 0 updated, 0 up to date; 1 metric points/);

    const post = async (route: string, body: unknown) =>
      (await fetch(`${remote!.uri}${MLFLOW_API_PREFIX}${route}`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).json();
    const experiments = (await post('/experiments/search', { max_results: 100 })) as { experiments: { experiment_id: string; name: string }[] };
    const churn = experiments.experiments.find((e) => e.name === 'churn');
    assert.ok(churn, 'the remote has the experiment churn');
    const found = (await post('/runs/search', { experiment_ids: [churn.experiment_id], filter: `tags.\`${SOURCE_RUN_TAG}\` = '${runId}'` })) as { runs?: { info: { run_name: string }; data: { metrics?: { key: string; value: number }[] } }[] };
    assert.equal(found.runs?.length, 1, 'the remote has the run');
    assert.equal(found.runs![0]!.info.run_name, 'baseline');
    assert.deepEqual(found.runs![0]!.data.metrics?.map((m) => [m.key, m.value]), [['accuracy', 0.875]]);

    await runCommand(p, 'Runwise: Focus on Runs View');
    const pane = p.locator('.pane', { has: p.locator('.pane-header', { hasText: /^Runs/ }) });
    const experiment = pane.locator('.monaco-list-row', { hasText: /^churn/ }).first();
    await experiment.waitFor({ state: 'visible', timeout: 30_000 });
    const row = pane.locator('.monaco-list-row', { hasText: /baseline/ }).first();
    if (!(await row.isVisible())) await experiment.click();
    await waitUntil(async () => /☁ team/.test(await row.innerText()), 'the run marked as pushed to team', 30_000);
  });

  it('a second push finds the run up to date on the remote', async (t) => {
    screenshotOnFailure(t, page, session.server);
    const p = page();
    // Under a loaded CI machine a pick can be lost to the quick input's redraw (no push starts, no
    // notification): the push is asked again once; a second push of the same run is the same answer.
    for (let attempt = 1; ; attempt++) {
      await runCommand(p, 'Runwise: Push Runs to Remote…');
      await pickItem(p, 'All runs');
      await pickItem(p, 'team');
      try {
        await waitUntil(async () => (await notificationTexts(p)).find((n) => /0 created, 0 updated, 1 up to date; 0 metric points/.test(n)), 'the second push to say it was up to date', 40_000);
        break;
      } catch (e) {
        if (attempt === 2) throw new Error(`${(e as Error).message}; notifications shown: ${JSON.stringify(await notificationTexts(p))}`);
        await p.keyboard.press('Escape');
      }
    }
  });
});
