/**
 * The run details webview bundle (webview/runDetails/main.ts) in real Chromium, in the extension's
 * HTML shell and Content-Security-Policy, with a scripted host: it renders a run the host sends,
 * shows hostile run names, params, tags and notes as text (nothing executes), and its buttons (by
 * mouse and by keyboard) post the typed messages of webview/runDetails/messages.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { isRunDetailsWebviewMessage, type RunDetails, type RunDetailsHostMessage } from '../../webview/runDetails/messages';
import { launchChromium, screenshotOnFailure } from '../support/browser';
import { buildWebview, openWebview, type BuiltWebview, type WebviewPage } from './harness';

const XSS_NAME = '<img src=x onerror=alert(1)>';
/** The sample run's start time as a host in Asia/Kolkata (UTC+05:30) formats it: no page here is in that zone. */
const HOST_START_TEXT = '2025-01-02 08:34:05';

function sampleRun(overrides: Partial<RunDetails> = {}): RunDetails {
  return {
    runId: '0123456789abcdef0123456789abcdef',
    runName: 'lr=0.01 baseline',
    experimentId: '1',
    experimentName: 'churn',
    status: 'FINISHED',
    lifecycleStage: 'active',
    startTime: Date.UTC(2025, 0, 2, 3, 4, 5),
    // As the host formats it, in the host's time zone (not the page's).
    startTimeText: HOST_START_TEXT,
    endTime: Date.UTC(2025, 0, 2, 3, 4, 17),
    userId: 'ada',
    parentRunId: null,
    note: 'first try',
    params: [
      { key: 'lr', value: '0.01' },
      { key: 'optimizer', value: 'adam' },
    ],
    metrics: [
      { key: 'accuracy', value: 0.9123, step: 9, timestamp: 1 },
      { key: 'loss', value: 'NaN', step: 9, timestamp: 1 },
    ],
    tags: [{ key: 'team', value: 'ml' }],
    datasets: [{ name: 'train.csv', digest: 'a1b2c3', source: 'data/train.csv' }],
    loggedModels: [],
    ...overrides,
  };
}

describe('run details webview', { timeout: 180_000 }, () => {
  let built: BuiltWebview | undefined;
  let browser: Browser | undefined;
  let view: WebviewPage | undefined;

  before(async () => {
    built = await buildWebview('runDetails');
    browser = await launchChromium();
  });

  after(async () => {
    await view?.close();
    await browser?.close();
    built?.remove();
  });

  const open = async (state?: unknown): Promise<WebviewPage> => {
    await view?.close();
    view = await openWebview({ bundle: built!.bundle, styles: [built!.styles], browser, state, title: 'Run details' });
    await view.waitForMessage((m) => m.type === 'ready');
    return view;
  };
  const send = (v: WebviewPage, m: RunDetailsHostMessage) => v.deliver(m);

  it('says it is ready, then renders the run the host sends', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await send(v, { type: 'run', run: sampleRun() });
    const p = v.page;
    assert.equal(await p.locator('#run-name').innerText(), 'lr=0.01 baseline');
    assert.equal(await p.locator('#run-status').innerText(), 'finished');
    assert.equal(await p.locator('#run-note').innerText(), 'first try');
    const facts = await p.locator('dl.facts').innerText();
    assert.match(facts, /Run ID\s+0123456789abcdef0123456789abcdef/);
    assert.match(facts, /Experiment\s+churn \(1\)/);
    assert.match(facts, /Duration\s+12\.0 s/);
    assert.match(facts, new RegExp(`Started\\s+${HOST_START_TEXT}`), `the start time as the host formatted it, not in the page's own zone: ${facts}`);
    const tables = await p.locator('table').allInnerTexts();
    assert.match(tables[0]!, /lr\s+0\.01\s+optimizer\s+adam/);
    assert.match(tables[1]!, /accuracy\s+0\.9123\s+9\s+loss\s+NaN\s+9/);
    assert.match(tables[2]!, /team\s+ml/);
    assert.match(tables[3]!, /train\.csv\s+a1b2c3\s+data\/train\.csv/);
    assert.equal(await p.title(), 'Run lr=0.01 baseline');
    // What it keeps for a restore after the panel was hidden is the run itself.
    assert.deepEqual(((await v.state()) as { run: RunDetails }).run.runId, sampleRun().runId);
    assert.deepEqual(v.pageErrors, []);
    assert.deepEqual(await v.violations(), []);
  });

  it(`shows a run named ${XSS_NAME} as literal text, and nothing runs`, async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    const dialogs: string[] = [];
    v.page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await send(v, {
      type: 'run',
      run: sampleRun({
        runName: XSS_NAME,
        note: '<script>window.__pwned = "note"</script>',
        params: [{ key: '<b>lr</b>', value: '<img src=y onerror="window.__pwned = \'param\'">' }],
        tags: [{ key: 'x', value: '<svg onload="window.__pwned = \'tag\'">' }],
        experimentName: '<i>exp</i>',
      }),
    });
    const p = v.page;
    assert.equal(await p.locator('#run-name').innerText(), XSS_NAME);
    assert.equal(await p.locator('#run-name').textContent(), XSS_NAME);
    assert.equal(await p.locator('#run-note').innerText(), '<script>window.__pwned = "note"</script>');
    assert.match(await p.locator('table').first().innerText(), /<b>lr<\/b>\s+<img src=y onerror="window.__pwned = 'param'">/);
    // No element was made from the data: no img, script (other than the page's own), svg, b or i.
    assert.equal(await p.locator('#root img, #root script, #root svg, #root b, #root i').count(), 0);
    await p.waitForTimeout(300); // time for an injected image to fail and fire onerror
    assert.deepEqual(dialogs, []);
    assert.equal(await p.evaluate(() => (globalThis as { __pwned?: string }).__pwned), undefined);
    assert.deepEqual(v.pageErrors, []);
    assert.deepEqual(await v.violations(), [], 'nothing was even attempted against the CSP');
    assert.equal(await p.title(), `Run ${XSS_NAME}`);
  });

  it('is served with the nonce-based Content-Security-Policy', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    const csp = await v.page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    assert.ok(csp, 'a CSP meta tag');
    assert.match(csp, new RegExp(`script-src 'nonce-${v.server.nonce}'`));
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    // The bundle is the page's only script with the nonce (the harness's host script aside), and it ran.
    const scripts = await v.page.locator('script').evaluateAll((els) => els.map((e) => [e.getAttribute('src') ?? '', e.getAttribute('nonce') ?? (e as unknown as { nonce: string }).nonce]));
    const own = scripts.filter(([src]) => src?.includes('/bundle/'));
    assert.equal(own.length, 1);
    assert.equal(own[0]![1], v.server.nonce);
  });

  it('posts the typed run messages from its buttons, by mouse and by keyboard', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    const run = sampleRun();
    await send(v, { type: 'run', run });
    const p = v.page;
    const expect = [
      ['Rename…', 'renameRun'],
      ['Edit note…', 'editNote'],
      ['Copy run ID', 'copyRunId'],
      ['Delete…', 'deleteRun'],
    ] as const;
    for (const [label, type] of expect) {
      await p.getByRole('button', { name: label }).click();
      const m = await v.waitForMessage((x) => x.type === type);
      assert.deepEqual(m, { type, runId: run.runId });
    }
    // Keyboard: Tab reaches the first button; Enter and Space press buttons.
    const before = (await v.sent()).length;
    await p.locator('body').click({ position: { x: 5, y: 5 } });
    await p.keyboard.press('Tab');
    assert.equal(await p.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement.textContent), 'Rename…');
    await p.keyboard.press('Enter');
    await p.keyboard.press('Tab');
    await p.keyboard.press('Space');
    const sent = await v.sent();
    assert.deepEqual(sent.slice(before), [
      { type: 'renameRun', runId: run.runId },
      { type: 'editNote', runId: run.runId },
    ]);
    for (const m of sent) assert.ok(isRunDetailsWebviewMessage(m), `a message the host accepts: ${JSON.stringify(m)}`);
    assert.equal(isRunDetailsWebviewMessage({ type: 'deleteRun', runId: '../../etc' }), false, 'the host rejects a malformed run id');
    assert.equal(isRunDetailsWebviewMessage({ type: 'runCommand', command: 'x' }), false, 'and unknown message types');
  });

  it('lists the logged models with name, id, flavors, status and files, all as text', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await send(v, { type: 'run', run: sampleRun() });
    assert.match(await v.page.locator('#logged-models').innerText(), /^Logged models\s+No logged models\.$/);
    const modelId = 'm-0123456789abcdef0123456789abcdef';
    await send(v, {
      type: 'run',
      run: sampleRun({
        loggedModels: [
          {
            modelId,
            name: 'iris-clf',
            flavors: ['python_function', 'sklearn'],
            status: 'LOGGED_MODEL_READY',
            artifacts: [
              { path: 'MLmodel', isDir: false, fileSize: 102 },
              { path: 'metadata', isDir: true },
              { path: 'model.pkl', isDir: false, fileSize: 3000 },
            ],
          },
          { modelId: 'm-ffffffffffffffffffffffffffffffff', name: '<img src=x onerror=alert(1)>', status: 'LOGGED_MODEL_PENDING', artifacts: [] },
        ],
      }),
    });
    const p = v.page;
    const models = p.locator('#logged-models article');
    assert.equal(await models.count(), 2);
    const first = models.nth(0);
    assert.equal(await first.getByRole('heading', { level: 3 }).innerText(), 'iris-clf');
    const facts = await first.locator('dl.facts').innerText();
    assert.match(facts, new RegExp(`Model ID\\s+${modelId}\\s+Flavors\\s+python_function, sklearn\\s+Status\\s+ready`));
    assert.match(await first.locator('table').innerText(), /MLmodel\s+102 B\s+metadata\/\s+model\.pkl\s+2\.9 KiB/);
    assert.equal(await first.locator('table caption').innerText(), 'Files of iris-clf');
    const second = models.nth(1);
    assert.equal(await second.getByRole('heading', { level: 3 }).innerText(), '<img src=x onerror=alert(1)>');
    assert.match(await second.locator('dl.facts').innerText(), /Flavors\s+-\s+Status\s+pending/);
    assert.match(await second.innerText(), /No files\./);
    assert.equal(await p.locator('#root img').count(), 0);
    assert.deepEqual(v.pageErrors, []);
    assert.deepEqual(await v.violations(), []);
  });

  it('shows metric sparklines, artifacts with previews (image, JSON, CSV, text), the stage log and registered versions', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    const run = sampleRun({
      metrics: [
        { key: 'accuracy', value: 0.9123, step: 9, timestamp: 1, history: [0.5, 0.7, null, 0.8, 0.9123] },
        { key: 'loss', value: 'NaN', step: 9, timestamp: 1 },
      ],
      artifacts: [
        { path: 'plots/roc.png', size: 70 },
        { path: 'metrics.json', size: 20 },
        { path: 'eval/<b>preds</b>.csv', size: 40 },
        { path: 'runwise/stage.log', size: 30 },
      ],
      stageLog: { text: 'epoch 1\n<script>window.__pwned = 1</script>\ndone', truncated: true },
      modelVersions: [{ name: 'churn', version: '3', aliases: ['champion'], stage: 'None', status: 'READY', sha256: 'ab'.repeat(32) }],
    });
    await send(v, { type: 'run', run });
    const p = v.page;
    // One sparkline, two line pieces around the gap.
    const spark = p.locator('#metrics svg.sparkline');
    assert.equal(await spark.count(), 1);
    assert.equal(await spark.getAttribute('aria-label'), 'History of accuracy: 5 points');
    assert.equal(await spark.locator('polyline').count(), 2);
    const lineColour = await spark.locator('polyline').first().evaluate((e) => (globalThis as unknown as { getComputedStyle(x: unknown): { stroke: string } }).getComputedStyle(e).stroke);
    assert.notEqual(lineColour, 'none');
    // Artifacts: each listed, Preview posts its path; images get no Open button.
    const rows = p.locator('#artifacts tbody tr');
    assert.equal(await rows.count(), 4);
    assert.equal(await rows.nth(0).getByRole('button', { name: 'Open' }).count(), 0);
    await rows.nth(1).getByRole('button', { name: 'Preview' }).click();
    assert.deepEqual(await v.waitForMessage((m) => m.type === 'previewArtifact'), { type: 'previewArtifact', runId: run.runId, path: 'metrics.json' });
    await rows.nth(2).getByRole('button', { name: 'Open' }).click();
    assert.deepEqual(await v.waitForMessage((m) => m.type === 'openArtifact'), { type: 'openArtifact', runId: run.runId, path: 'eval/<b>preds</b>.csv' });
    const preview = p.locator('#artifact-preview');
    await send(v, { type: 'artifactPreview', runId: run.runId, preview: { kind: 'json', path: 'metrics.json', size: 20, text: '{\n  "acc": 0.9\n}', truncated: false } });
    assert.equal(await preview.locator('pre').innerText(), '{\n  "acc": 0.9\n}');
    await send(v, { type: 'artifactPreview', runId: run.runId, preview: { kind: 'csv', path: 'eval/<b>preds</b>.csv', size: 40, rows: [['id', 'label'], ['1', '<i>yes</i>'], ['2', 'no']], truncated: true } });
    assert.equal(await preview.locator('#artifact-preview-path').innerText(), 'eval/<b>preds</b>.csv');
    assert.match(await preview.locator('table').innerText(), /id\s+label\s+1\s+<i>yes<\/i>\s+2\s+no/);
    assert.match(await preview.innerText(), /Only the start of the file is shown\./);
    // A 1×1 PNG as the host sends it: a data: URI, which the policy allows.
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    await send(v, { type: 'artifactPreview', runId: run.runId, preview: { kind: 'image', path: 'plots/roc.png', size: 70, dataUri: `data:image/png;base64,${png}` } });
    const img = preview.locator('img');
    await p.waitForFunction("document.querySelector('#artifact-preview img')?.complete === true");
    assert.equal(await img.evaluate((e) => (e as unknown as { naturalWidth: number }).naturalWidth), 1, 'the image loaded');
    await send(v, { type: 'artifactPreview', runId: run.runId, preview: { kind: 'error', path: 'x.bin', message: 'No artifact' } });
    assert.equal(await preview.locator('.error').innerText(), 'No artifact');
    // The stage log, as text.
    assert.equal(await p.locator('#stage-log').innerText(), 'epoch 1\n<script>window.__pwned = 1</script>\ndone');
    assert.match(await p.locator('#stage-log-section').innerText(), /The end of the log:/);
    // Registered versions.
    assert.match(await p.locator('#model-versions table').innerText(), new RegExp(`churn\\s+3\\s+@champion\\s+None\\s+ready\\s+${'ab'.repeat(32)}`));
    assert.equal(await p.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
    assert.equal(await p.locator('#root b, #root i, #root script').count(), 0);
    assert.deepEqual(await v.violations(), []);
    assert.deepEqual(v.pageErrors, []);
    // The host accepts these messages; a path that is not text is refused.
    assert.equal(isRunDetailsWebviewMessage({ type: 'previewArtifact', runId: run.runId, path: 'metrics.json' }), true);
    assert.equal(isRunDetailsWebviewMessage({ type: 'previewArtifact', runId: run.runId, path: 7 }), false);
    assert.equal(isRunDetailsWebviewMessage({ type: 'openArtifact', runId: run.runId, path: '' }), false);
  });

  it('says when a run has no artifacts, stage log or registered versions', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await send(v, { type: 'run', run: sampleRun() });
    assert.match(await v.page.locator('#artifacts').innerText(), /No artifacts\./);
    assert.match(await v.page.locator('#stage-log-section').innerText(), /No stage log/);
    assert.match(await v.page.locator('#model-versions').innerText(), /No model versions registered from this run\./);
  });

  it('shows why a run is missing, and restores the last run from its saved state', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await send(v, { type: 'runMissing', runId: sampleRun().runId, reason: 'The run “<x>” was deleted.' });
    assert.equal(await v.page.locator('#run-missing').innerText(), 'The run “<x>” was deleted.');

    const restored = await open({ run: sampleRun({ runName: 'from saved state' }) });
    assert.equal(await restored.page.locator('#run-name').innerText(), 'from saved state');
  });
});
