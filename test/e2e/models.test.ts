/**
 * Evaluation and the registry in the editor, in a real VS Code (code-server in headless Chromium):
 * a workspace holding the example pipeline's model, made by running examples/pipeline's prepare.js
 * and train.js with node; trusted:
 *   - the Explorer's context menu on models/model.onnx → Evaluate Model…: the dataset picked
 *     (data/test.csv), the target column offered from its header (churned), the task inferred, a
 *     slice column picked (support_calls); the
 *     evaluation lands in the tracker as a FINISHED run and its report opens in a webview;
 *   - the same menu → Register Model…: a new name typed (churn), no alias → version 1;
 *   - the Models view lists churn → Version 1 with its evaluation's accuracy;
 *   - Set Model Alias… on the version row: `champion` → the registry and the row say @champion.
 * The extension is the freshly built bundles, copied into a fresh extensions dir.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { Tracker } from '../../core/tracker/tracker';
import { repoRoot } from '../support/browser';
import { probabilitiesOnly } from '../unit/evaluation/onnxTestModels';
import { contextMenu, EditorSession, installBuiltExtension, openFile, runCommand, screenshotOnFailure, waitUntil } from './codeServer';

const EXAMPLE_FILES = ['prepare.js', 'train.js', 'dataset.js', 'commandLine.js', 'logisticRegression.js', 'onnxModel.js', 'onnx.proto'];

/** The example pipeline's scripts, run with node: data/{train,test,live}.csv and models/model.onnx. */
function modelWorkspace(root: string): string {
  const ws = path.join(root, 'workspace');
  mkdirSync(ws, { recursive: true });
  for (const f of EXAMPLE_FILES) copyFileSync(path.join(repoRoot, 'examples', 'pipeline', f), path.join(ws, f));
  // The scripts require the repository's packages (protobufjs), as they do inside examples/pipeline.
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: path.join(repoRoot, 'node_modules') };
  delete env.MLFLOW_TRACKING_URI;
  delete env.MLFLOW_RUN_ID;
  execFileSync(process.execPath, ['prepare.js', '--rows', '600', '--seed', '42', '--shift', '0.5'], { cwd: ws, env, stdio: 'pipe' });
  execFileSync(process.execPath, ['train.js', '--lr', '0.5', '--epochs', '60', '--l2', '0.001', '--seed', '7'], { cwd: ws, env, stdio: 'pipe' });
  // The test set with an id column first: for a model whose metadata does not name its features
  // (plain.onnx, a softmax classifier over 4 inputs, as converters write them), every column but the
  // target is one too many.
  const lines = readFileSync(path.join(ws, 'data', 'test.csv'), 'utf8').trimEnd().split('\n');
  writeFileSync(path.join(ws, 'data', 'with_id.csv'), `${lines.map((l, i) => `${i === 0 ? 'customer_id' : `c${i}`},${l}`).join('\n')}\n`);
  writeFileSync(path.join(ws, 'models', 'plain.onnx'), probabilitiesOnly({ weights: [0.05, -0.05, -0.02, 0.02, -0.4, 0.4, 0.03, -0.03], bias: [0.5, -0.5], features: 4, classes: 2 }));
  return ws;
}

/** Reads the workspace's tracker in this process (the extension host has its own connection). */
function withTracker<T>(workspace: string, read: (t: Tracker) => T): T {
  const tr = Tracker.open(workspace, { skipRecovery: true });
  try {
    return read(tr);
  } finally {
    tr.close();
  }
}

const explorerRow = (page: Page, label: string): Locator => page.locator('.explorer-folders-view .monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${label.replace(/\./g, '\\.')}$`) }) }).first();

/** Waits for the quick input, types `text` and accepts the first row (or the typed value). */
/**
 * Types `text` into the open quick input and presses Enter; `title`: wait for the input of that title
 * first (a pick followed by an input box share one widget, so "visible" alone can be the one closing).
 */
async function answer(page: Page, text: string, expectRow?: RegExp, title?: RegExp): Promise<void> {
  if (title) await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: 15_000 });
  const box = page.locator('.quick-input-widget .quick-input-box input');
  await box.waitFor({ state: 'visible', timeout: 15_000 });
  await box.fill(text);
  if (expectRow) await page.locator('.quick-input-list .monaco-list-row', { hasText: expectRow }).first().waitFor({ state: 'visible', timeout: 10_000 });
  await page.keyboard.press('Enter');
}

describe('Evaluation and the registry in the editor (code-server)', { timeout: 600_000 }, () => {
  const session = new EditorSession('models');
  const page = session.page;
  let workspace = '';
  before(async () => {
    await session.open({ workspace: modelWorkspace, install: (dir) => installBuiltExtension(dir, { onnxRuntime: true }), settings: { 'runwise.trackingServer.autoStart': false } });
    workspace = session.workspace;
  });
  after(() => session.close());

  it('evaluates models/model.onnx from the Explorer: dataset, target from the header, a FINISHED run, the report', async (t) => {
    screenshotOnFailure(t, page, session.server);
    const p = page();
    await runCommand(p, 'View: Show Explorer');
    await explorerRow(p, 'models').click();
    const model = explorerRow(p, 'model.onnx');
    await model.waitFor({ state: 'visible', timeout: 15_000 });
    await contextMenu(p, model, 'Evaluate Model…');
    await answer(p, 'data/test.csv', /test\.csv/);
    // The target column is offered from the file's header, the model's own target (its metadata)
    // first, its features last: Enter takes it.
    await p.locator('.quick-input-list .monaco-list-row', { hasText: 'churned' }).first().waitFor({ state: 'visible', timeout: 15_000 });
    const offered = await p.locator('.quick-input-list .monaco-list-row .label-name').allInnerTexts();
    assert.deepEqual(offered, ['churned', 'tenure_months', 'monthly_spend', 'support_calls', 'usage_hours']);
    const notes = await p.locator('.quick-input-list .monaco-list-row .label-description').allInnerTexts();
    assert.ok(/the model's target/.test(notes[0] ?? '') && notes.slice(1).every((n) => /a feature of the model/.test(n)), JSON.stringify(notes));
    await p.keyboard.press('Enter');
    // The task: inferred from the model (the first row).
    await p.locator('.quick-input-list .monaco-list-row', { hasText: 'Infer from the model' }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await p.keyboard.press('Enter');
    // The slice column (optional): offered from the header, the target left out.
    await p.locator('.quick-input-list .monaco-list-row', { hasText: 'No slices' }).first().waitFor({ state: 'visible', timeout: 10_000 });
    const slices = await p.locator('.quick-input-list .monaco-list-row .label-name').allInnerTexts();
    assert.deepEqual(slices, ['No slices', 'tenure_months', 'monthly_spend', 'support_calls', 'usage_hours']);
    await answer(p, 'support_calls', /support_calls/);

    const run = await waitUntil(
      () =>
        withTracker(workspace, (tr) => {
          const found = tr.searchRuns({ filter: "attributes.status = 'FINISHED'" }).items.find((r) => r.tags.some((x) => x.key === 'runwise.model.sha256'));
          return found ? { runId: found.info.runId, metrics: Object.fromEntries(found.metrics.map((m) => [m.key, m.value])), params: Object.fromEntries(found.params.map((m) => [m.key, m.value])) } : undefined;
        }),
      'the evaluation run to finish in the tracker',
      60_000,
    ).catch(async (e: Error) => {
      throw new Error(`${e.message}; notifications: ${JSON.stringify(await p.locator('.notification-toast').allInnerTexts())}`);
    });
    assert.ok(run.metrics.accuracy! > 0.6 && run.metrics.accuracy! <= 1, `accuracy ${run.metrics.accuracy}`);
    assert.equal(run.metrics.rows, 120, 'data/test.csv has 20% of 600 rows');
    assert.equal(run.params.slice_by, 'support_calls');
    await p.locator('.tabs-container .tab', { hasText: 'Evaluation: model.onnx' }).waitFor({ state: 'visible', timeout: 15_000 });
    const toast = await waitUntil(async () => (await p.locator('.notification-toast').allInnerTexts()).find((x) => /evaluated models\/model\.onnx/.test(x)), 'the evaluation message', 10_000);
    assert.match(toast, /binary, 120 rows\): accuracy 0\.\d+/);
  });

  it('registers it from the Explorer as a new model, and the Models view lists the version with its accuracy', async (t) => {
    screenshotOnFailure(t, page, session.server);
    const p = page();
    await runCommand(p, 'View: Show Explorer');
    await contextMenu(p, explorerRow(p, 'model.onnx'), 'Register Model…');
    await answer(p, 'churn', /churn/);
    // The alias: none.
    await answer(p, '', undefined, /Register models\/model\.onnx as churn$/);
    const version = await waitUntil(
      () =>
        withTracker(workspace, (tr) => {
          try {
            return tr.registry.getModelVersion('churn', 1);
          } catch {
            return undefined;
          }
        }),
      'churn version 1 in the registry',
      20_000,
    );
    assert.equal(version.source, 'models/model.onnx');
    assert.deepEqual(version.aliases, []);

    await runCommand(p, 'Runwise: Focus on Models View');
    const pane = p.locator('.pane', { has: p.locator('.pane-header', { hasText: /^Models/ }) });
    await pane.locator('.monaco-list-row', { hasText: /^churn/ }).first().waitFor({ state: 'visible', timeout: 20_000 });
    const row = pane.locator('.monaco-list-row', { hasText: /^Version 1/ }).first();
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    assert.match(await row.innerText(), /accuracy 0\.\d+/);
    assert.match(await row.innerText(), /on \S+\.csv/, 'the dataset the numbers are on');
  });

  it('sets champion on the version from its context menu', async (t) => {
    screenshotOnFailure(t, page, session.server);
    const p = page();
    const pane = p.locator('.pane', { has: p.locator('.pane-header', { hasText: /^Models/ }) });
    const row = pane.locator('.monaco-list-row', { hasText: /^Version 1/ }).first();
    await contextMenu(p, row, 'Set Model Alias…');
    await answer(p, 'champion', /champion/);
    // Watched from now: the toast hides itself after a while, which the waits below can outlast on a loaded machine.
    const noted = waitUntil(async () => (await p.locator('.notification-toast').allInnerTexts()).find((x) => /churn@champion → version 1/.test(x)), 'the alias message', 30_000);
    noted.catch(() => undefined); // awaited below; not unhandled if a wait before it fails first
    await waitUntil(
      () => withTracker(workspace, (tr) => (tr.registry.getRegisteredModel('churn').aliases.some((a) => a.alias === 'champion' && a.version === '1') ? true : undefined)),
      'churn@champion → 1 in the registry',
      15_000,
    );
    await waitUntil(async () => /@champion/.test(await row.innerText()), 'the version row to show @champion', 15_000);
    // The model's row says the same to a screen reader.
    const modelRow = pane.locator('.monaco-list-row', { hasText: /^churn/ }).first();
    await waitUntil(async () => (await modelRow.getAttribute('aria-label')) === 'churn, 1 version, alias champion on version 1' || undefined, "the model row's label to name the alias", 15_000);
    assert.match(await noted, /churn@champion → version 1/);
  });

  it('removes the alias from the same menu, after a confirmation', async (t) => {
    screenshotOnFailure(t, page, session.server);
    const p = page();
    const pane = p.locator('.pane', { has: p.locator('.pane-header', { hasText: /^Models/ }) });
    const row = pane.locator('.monaco-list-row', { hasText: /^Version 1/ }).first();
    await contextMenu(p, row, 'Remove Model Alias…');
    const confirm = p.locator('.monaco-dialog-box .monaco-button', { hasText: 'Remove Alias' }).first();
    await confirm.waitFor({ state: 'visible', timeout: 15_000 });
    await confirm.click();
    await waitUntil(
      () => withTracker(workspace, (tr) => (tr.registry.getRegisteredModel('churn').aliases.length === 0 ? true : undefined)),
      'churn@champion removed from the registry',
      15_000,
    );
    await waitUntil(async () => !/@champion/.test(await row.innerText()), 'the version row without @champion', 15_000);
  });

  it('Compare Model Metrics on two selected versions opens one rendered table, not its Markdown source; again, the same one', async (t) => {
    screenshotOnFailure(t, page, session.server);
    const p = page();
    // A second version (the same bytes: both have the evaluation of the first test).
    const tr = Tracker.open(workspace, { skipRecovery: true });
    try {
      await tr.registerModelFiles('churn', path.join(workspace, 'models', 'model.onnx'));
    } finally {
      tr.close();
    }
    // The view follows the tracker: the new version appears.
    const pane = p.locator('.pane', { has: p.locator('.pane-header', { hasText: /^Models/ }) });
    const v2 = pane.locator('.monaco-list-row', { hasText: /^Version 2/ }).first();
    const v1 = pane.locator('.monaco-list-row', { hasText: /^Version 1/ }).first();
    await v2.waitFor({ state: 'visible', timeout: 20_000 });
    await v2.click();
    await v1.click({ modifiers: ['Control'] });
    await contextMenu(p, v1, 'Compare Model Metrics');
    const previewTab = p.locator('.tabs-container .tab', { hasText: /Preview churn-\d-vs-churn-\d\.md/ });
    await previewTab.first().waitFor({ state: 'visible', timeout: 20_000 });
    const sourceTabs = p.locator('.tabs-container .tab', { hasText: /^churn-\d-vs-churn-\d\.md/ });
    assert.equal(await sourceTabs.count(), 0, 'the Markdown source is not opened');
    await runCommand(p, 'Runwise: Compare Model Metrics');
    await p.waitForTimeout(1500);
    assert.equal(await previewTab.count(), 1, 'the same pair again reveals the one preview');
    assert.equal(await sourceTabs.count(), 0);
  });

  it('Evaluate Model Version… on a version never evaluated: its registry copy, named models:/NAME/N, and the row gets its numbers', async (t) => {
    screenshotOnFailure(t, page, session.server);
    const p = page();
    // Other bytes than the evaluated model's (a doc_string, field 6, added): a model of its own, never evaluated.
    // In a folder the Explorer shows collapsed: its rows do not move under the next test's clicks.
    const other = path.join(workspace, 'data', 'other.onnx');
    writeFileSync(other, Buffer.concat([readFileSync(path.join(workspace, 'models', 'model.onnx')), Buffer.from([0x32, 0x01, 0x78])]));
    const tr = Tracker.open(workspace, { skipRecovery: true });
    try {
      await tr.registerModelFiles('fresh', other);
    } finally {
      tr.close();
    }
    const pane = p.locator('.pane', { has: p.locator('.pane-header', { hasText: /^Models/ }) });
    const freshModel = pane.locator('.monaco-list-row', { hasText: /^fresh/ }).first();
    await freshModel.waitFor({ state: 'visible', timeout: 20_000 });
    const row = pane.locator('.monaco-list-row[aria-label^="fresh version 1"]').first();
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    assert.doesNotMatch(await row.innerText(), /accuracy/, 'not evaluated yet');
    await contextMenu(p, row, 'Evaluate Model Version…');
    await answer(p, 'data/test.csv', /test\.csv/, /Evaluate Model Version… \(1\/4\)/);
    await p.locator('.quick-input-list .monaco-list-row', { hasText: 'churned' }).first().waitFor({ state: 'visible', timeout: 15_000 });
    await p.keyboard.press('Enter');
    await p.locator('.quick-input-list .monaco-list-row', { hasText: 'Infer from the model' }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await p.keyboard.press('Enter');
    await answer(p, '', /No slices/);
    await p.locator('.tabs-container .tab', { hasText: 'Evaluation: fresh/1 on test.csv' }).waitFor({ state: 'visible', timeout: 30_000 });
    const params = await waitUntil(
      () =>
        withTracker(workspace, (t2) => {
          const found = t2.searchRuns({ filter: "attributes.status = 'FINISHED'" }).items.find((r) => r.params.some((x) => x.key === 'model' && x.value === 'models:/fresh/1'));
          return found ? Object.fromEntries(found.params.map((x) => [x.key, x.value])) : undefined;
        }),
      'the evaluation of models:/fresh/1 to finish',
      30_000,
    );
    assert.equal(params.data, 'data/test.csv');
    await waitUntil(async () => /accuracy 0\.\d+/.test(await row.innerText()) || undefined, 'the version row to show its accuracy', 20_000);
  });

  it('a model that does not name its features and a dataset with one column too many (an id): the features are picked, the id left out at first, and the evaluation runs', async (t) => {
    screenshotOnFailure(t, page, session.server);
    const p = page();
    await runCommand(p, 'View: Show Explorer');
    await contextMenu(p, explorerRow(p, 'plain.onnx'), 'Evaluate Model…');
    await answer(p, 'data/with_id.csv', /with_id\.csv/);
    await p.locator('.quick-input-list .monaco-list-row', { hasText: 'churned' }).first().waitFor({ state: 'visible', timeout: 15_000 });
    await p.keyboard.press('Enter');
    await p.locator('.quick-input-list .monaco-list-row', { hasText: 'Infer from the model' }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await p.keyboard.press('Enter');
    await answer(p, '', /No slices/);
    // The model takes 4 features: the pick offers the 5 columns, the four that are no id picked.
    const title = p.locator('.quick-input-widget .quick-input-title', { hasText: /the model takes 4 features a row; with_id\.csv has 5 columns besides 'churned'/ });
    await title.waitFor({ state: 'visible', timeout: 20_000 });
    const checked = await p.locator('.quick-input-list .monaco-list-row[aria-checked="true"] .label-name').allInnerTexts();
    assert.deepEqual(checked, ['tenure_months', 'monthly_spend', 'support_calls', 'usage_hours']);
    await p.keyboard.press('Enter');
    const run = await waitUntil(
      () =>
        withTracker(workspace, (tr) => {
          const found = tr.searchRuns({ filter: "attributes.status = 'FINISHED'" }).items.find((r) => r.params.some((x) => x.key === 'data' && x.value.endsWith('with_id.csv')));
          return found ? Object.fromEntries(found.params.map((x) => [x.key, x.value])) : undefined;
        }),
      'the evaluation of with_id.csv to finish',
      60_000,
    );
    assert.equal(run.features, 'tenure_months,monthly_spend,support_calls,usage_hours');
  });
  it("a Model Card Toolkit JSON card: its CodeLens offers Evaluate, Register, Update from Latest Evaluation; Update writes churn/1's metrics into it, unsaved", async (t) => {
    screenshotOnFailure(t, page, session.server);
    const p = page();
    const cardText = '{\n  "model_details": {\n    "name": "churn"\n  }\n}\n';
    writeFileSync(path.join(workspace, 'model_card.json'), cardText);
    await openFile(p, 'model_card.json');
    const lens = p.locator('.editor-group-container.active .codelens-decoration').first();
    await waitUntil(async () => /Update from Latest Evaluation/.test((await lens.count()) ? await lens.innerText() : ''), 'the card lens', 30_000);
    assert.match((await lens.innerText()).replace(/\s+/g, ' '), /^Evaluate \| Register \| Update from Latest Evaluation$/);
    // Several versions are registered, none with this card: the version is picked. (A lens drawn
    // again under the pointer can swallow a click: clicked again until the pick shows.)
    const pickTitle = p.locator('.quick-input-widget .quick-input-title', { hasText: /Update model_card\.json from the latest evaluation of/ });
    await waitUntil(
      async () => {
        await lens.getByText('Update from Latest Evaluation', { exact: true }).click();
        return pickTitle.waitFor({ state: 'visible', timeout: 4_000 }).then(() => true, () => false);
      },
      'the version pick of Update from Latest Evaluation',
      30_000,
    );
    await answer(p, 'churn/1', /churn\/1/, /Update model_card\.json from the latest evaluation of/);
    const lines = p.locator('.editor-group-container.active .view-lines');
    const text = await waitUntil(
      async () => {
        const t = await lines.innerText();
        return /performance_metrics/.test(t) ? t : '';
      },
      'the card to get its metrics',
      15_000,
    );
    assert.match(text.replace(/\u00a0/g, ' '), /"type": "accuracy",\s*"value": "0\.\d+",\s*"slice": "overall"/);
    assert.equal(readFileSync(path.join(workspace, 'model_card.json'), 'utf8'), cardText, 'left unsaved for review');
    await p.locator('.tabs-container .tab.active.dirty', { hasText: 'model_card.json' }).waitFor({ state: 'visible', timeout: 5_000 });
    await runCommand(p, 'File: Revert File');
  });
});
