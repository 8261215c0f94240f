/**
 * Pipelines in the editor, in a real VS Code (code-server in headless Chromium): a workspace with a
 * two-stage pipeline (prepare → train, shell commands only), trusted:
 *   - the CodeLens over `prepare` says "never run"; clicking its "Run" runs it (the lens shows
 *     "running 0:0x" meanwhile), then says "up to date", and its run appears in the Runs view under
 *     the pipeline run; the Pipeline view lists both stages with their states;
 *   - writing its dependency on disk turns the lens "stale: data/raw.txt changed" (the file watcher);
 *   - the task "runwise: train" (Tasks: Run Task) runs the stale prepare, then train;
 *   - with unsaved lines typed above it, a stage's lens still stands on its key's line;
 *   - Cancel in the progress notification stops a running stage's processes (slow.pipeline.yaml);
 * and untrusted (Restricted Mode): the lens says "Run (trust the workspace to run)", clicking it
 * explains why, and nothing runs.
 * The extension is the freshly built bundles, copied into a fresh extensions dir.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { hashCachePath } from '../../core/pipeline/hashCache';
import { Tracker } from '../../core/tracker/tracker';
import { EditorSession, openFile, runCommand, screenshotOnFailure, waitUntil, type CodeServer } from './codeServer';

const PIPELINE = [
  'stages:',
  '  prepare:',
  "    cmd: sleep 5 && tr a-z A-Z < data/raw.txt > data/clean.txt",
  '    deps:',
  '      - data/raw.txt',
  '    outs:',
  '      - data/clean.txt',
  '  train:',
  '    cmd: wc -l data/clean.txt > model.txt',
  '    deps:',
  '      - data/clean.txt',
  '    outs:',
  '      - model.txt',
  '',
].join('\n');

/** How long the slow stage sleeps: a number no other process here sleeps for, to find it by. */
const SLOW_SECONDS = 617;

/** Live processes running `sleep SLOW_SECONDS`. */
function slowSleepers(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args[0]?.endsWith('sleep') && args[1] === String(SLOW_SECONDS)) found.push(Number(entry));
    } catch {
      /* exited while we looked */
    }
  }
  return found;
}

function pipelineWorkspace(root: string): string {
  const ws = path.join(root, 'workspace');
  mkdirSync(path.join(ws, 'data'), { recursive: true });
  writeFileSync(path.join(ws, 'runwise.yaml'), PIPELINE);
  writeFileSync(path.join(ws, 'data', 'raw.txt'), 'alpha\nbeta\n');
  // A second pipeline file with a stage that runs until it is cancelled.
  writeFileSync(path.join(ws, 'slow.pipeline.yaml'), `stages:\n  wait:\n    cmd: sleep ${SLOW_SECONDS} && echo done > slow.txt\n    outs:\n      - slow.txt\n`);
  return ws;
}

/** The CodeLens rows of the active editor; `train`'s is the one offering "Run with Dependencies". */
function lensRow(page: Page, stage: 'prepare' | 'train'): Locator {
  const rows = page.locator('.editor-group-container.active .codelens-decoration');
  return stage === 'train' ? rows.filter({ hasText: 'Run with Dependencies' }) : rows.filter({ hasNotText: 'Run with Dependencies' });
}

async function lensText(page: Page, stage: 'prepare' | 'train'): Promise<string> {
  const row = lensRow(page, stage).first();
  return (await row.count()) ? (await row.innerText()).replace(/\s+/g, ' ').trim() : '';
}

/** A fresh pipeline workspace in code-server with the built extension; `page()` is its workbench's page. */
class PipelineSession extends EditorSession {
  constructor(label: string, private readonly trust: 'trust' | 'restricted', private readonly workspaceOf: (root: string) => string = pipelineWorkspace) {
    super(label);
  }

  start(): Promise<void> {
    // A task without a problem matcher would first ask which one to scan its output with; the
    // terminal draws with the DOM renderer, so its text can be read.
    return this.open({ workspace: this.workspaceOf, trust: this.trust, settings: { 'task.problemMatchers.neverPrompt': true, 'terminal.integrated.gpuAcceleration': 'off' } });
  }

  override async close(): Promise<void> {
    await super.close();
    // A stage left running by a failed test (its process group outlives code-server's).
    for (const pid of slowSleepers()) process.kill(pid, 'SIGKILL');
  }
}

describe('Pipelines in the editor (code-server)', { timeout: 600_000 }, () => {
  const session = new PipelineSession('pipeline', 'trust');
  const page = session.page;
  let workspace = '';
  let server: CodeServer | undefined;
  before(async () => {
    await session.start();
    ({ workspace, server } = session);
  });
  after(() => session.close());

  it('runs a stage from its CodeLens: running, then up to date, its run in the Runs view', async (t) => {
    screenshotOnFailure(t, page, server);
    await openFile(page(), 'runwise.yaml');
    await waitUntil(async () => /never run/.test(await lensText(page(), 'prepare')), 'the prepare lens to say never run', 60_000);
    assert.match(await lensText(page(), 'train'), /^Run \| Run with Dependencies \| never run$/);

    await lensRow(page(), 'prepare').first().getByText('Run', { exact: true }).click();
    const running = await waitUntil(async () => {
      const text = await lensText(page(), 'prepare');
      return /running 0:0\d/.test(text) ? text : '';
    }, 'the prepare lens to show it running', 15_000);
    assert.match(running, /Stop \| running 0:0\d/);
    await waitUntil(async () => /up to date/.test(await lensText(page(), 'prepare')), 'the prepare lens to say up to date', 30_000);
    assert.equal(readFileSync(path.join(workspace, 'data', 'clean.txt'), 'utf8'), 'ALPHA\nBETA\n');
    assert.ok(existsSync(path.join(workspace, 'runwise.lock')), 'the lock entry was written');
    // train only ran nothing: it still never ran, and now reads prepare's output.
    assert.match(await lensText(page(), 'train'), /never run/);

    // The tracker has the stage's run, FINISHED, under a pipeline run.
    const { parentName } = await waitUntil(() => {
      const tr = Tracker.open(workspace, { skipRecovery: true });
      try {
        const stage = tr.searchRuns({ filter: "tags.`runwise.stage` = 'prepare' and attributes.status = 'FINISHED'" }).items[0];
        const parentId = stage?.info.parentRunId;
        return parentId ? { parentName: tr.getRun(parentId).info.runName } : undefined;
      } finally {
        tr.close();
      }
    }, 'the finished stage run in the tracker', 15_000);

    // The Runs view shows it live: the pipeline run, and the stage run under it.
    await runCommand(page(), 'Runwise: Focus on Runs View');
    const runsPane = page().locator('.pane', { has: page().locator('.pane-header', { hasText: /^Runs/ }) });
    const parentRow = runsPane.locator('.monaco-list-row', { hasText: parentName }).first();
    await parentRow.waitFor({ state: 'visible', timeout: 30_000 });
    if ((await parentRow.getAttribute('aria-expanded')) !== 'true') await parentRow.locator('.monaco-tl-twistie').click();
    await runsPane.locator('.monaco-list-row', { hasText: /^prepare/ }).first().waitFor({ state: 'visible', timeout: 15_000 });

    // The Pipeline view lists both stages with their states.
    await runCommand(page(), 'Runwise: Focus on Pipeline View');
    const pipelinePane = page().locator('.pane', { has: page().locator('.pane-header', { hasText: /^Pipeline/ }) });
    const prepareRow = pipelinePane.locator('.monaco-list-row', { hasText: /^prepare/ }).first();
    await prepareRow.waitFor({ state: 'visible', timeout: 15_000 });
    assert.match(await prepareRow.innerText(), /up to date/);
    assert.match(await pipelinePane.locator('.monaco-list-row', { hasText: /^train/ }).first().innerText(), /never run/);
  });

  it('turns the lens stale when a dependency changes on disk', async (t) => {
    screenshotOnFailure(t, page, server);
    await openFile(page(), 'runwise.yaml');
    assert.match(await lensText(page(), 'prepare'), /up to date/);
    writeFileSync(path.join(workspace, 'data', 'raw.txt'), 'alpha\nbeta\ngamma\n');
    const stale = await waitUntil(async () => {
      const text = await lensText(page(), 'prepare');
      return /stale/.test(text) ? text : '';
    }, 'the prepare lens to turn stale', 15_000);
    assert.match(stale, /stale: data\/raw\.txt changed/);
  });

  it('runs the task "runwise: train": the stale prepare and then train, both up to date after', async (t) => {
    screenshotOnFailure(t, page, server);
    await runCommand(page(), 'Tasks: Run Task');
    const pick = page().locator('.quick-input-widget');
    await pick.getByText('runwise', { exact: true }).click();
    const labels = await waitUntil(async () => {
      const l = await pick.locator('.monaco-list-row').allInnerTexts();
      return l.some((x) => /train/.test(x)) ? l : undefined;
    }, 'the runwise tasks in the task pick', 30_000);
    assert.ok(labels.some((x) => /run pipeline/.test(x)), `the pick offers "run pipeline": ${JSON.stringify(labels)}`);
    assert.ok(labels.some((x) => /prepare/.test(x)), `the pick offers "prepare": ${JSON.stringify(labels)}`);
    await pick.locator('.monaco-list-row', { hasText: /train/ }).first().click();
    await waitUntil(() => existsSync(path.join(workspace, 'model.txt')), 'train to write model.txt', 30_000);
    assert.equal(readFileSync(path.join(workspace, 'data', 'clean.txt'), 'utf8'), 'ALPHA\nBETA\nGAMMA\n', 'prepare ran again first: its dependency had changed');
    await openFile(page(), 'runwise.yaml');
    await waitUntil(async () => /up to date/.test(await lensText(page(), 'train')) && /up to date/.test(await lensText(page(), 'prepare')), 'both lenses to say up to date', 30_000);
    // The task's terminal shows the run's output, under the task's name.
    const terminalText = await waitUntil(async () => {
      const text = (await page().locator('.xterm-rows').allInnerTexts()).join('\n');
      return /✔ Done/.test(text) ? text : '';
    }, "the task terminal's output", 10_000);
    assert.match(terminalText, /Executing task: runwise: train/);
    assert.match(terminalText, /▶ train: never ran; upstream stage prepare runs/);
  });

  it('keeps each lens on its stage while the file has unsaved edits above it', async (t) => {
    screenshotOnFailure(t, page, server);
    await openFile(page(), 'runwise.yaml');
    await waitUntil(async () => /up to date/.test(await lensText(page(), 'train')), 'the train lens', 30_000);
    // Three comment lines typed at the top and not saved: the graph (from disk) still says train is
    // on line 8; the lens must stand above the buffer's line 11.
    await page().locator('.editor-group-container.active .view-lines').first().click();
    await page().keyboard.press('Control+Home');
    await page().keyboard.type('# one\n# two\n# three\n');
    let seen = 'nothing yet';
    const gap = await waitUntil(async () => {
      const lens = await lensRow(page(), 'train').first().boundingBox();
      const line = await page().locator('.editor-group-container.active .view-line', { hasText: /^\s*train:\s*$/ }).first().boundingBox();
      seen = `lens ${JSON.stringify(lens)}, train: line ${JSON.stringify(line)}`;
      if (!lens || !line) return undefined;
      // The lens's zone sits between the line before and `train:`: its text ends less than a line above it.
      const g = line.y - (lens.y + lens.height);
      return g >= 0 && g < line.height ? { g } : undefined;
    }, 'the train lens to stand right above the moved `train:` line', 15_000).catch((e: Error) => {
      throw new Error(`${e.message} (${seen})`);
    });
    assert.ok(gap.g >= 0);
    assert.doesNotMatch(readFileSync(path.join(workspace, 'runwise.yaml'), 'utf8'), /# one/, 'the edit was not saved');
    await runCommand(page(), 'File: Revert File');
  });

  it("Cancel in the run's notification stops the stage's processes; the lens says cancelled", async (t) => {
    screenshotOnFailure(t, page, server);
    await openFile(page(), 'slow.pipeline.yaml');
    const lens = page().locator('.editor-group-container.active .codelens-decoration').first();
    await waitUntil(async () => /never run/.test(await lens.innerText()), 'the wait lens to say never run', 30_000);
    await lens.getByText('Run', { exact: true }).click();
    await waitUntil(() => slowSleepers().length > 0, 'the stage to start sleeping', 15_000);
    await waitUntil(async () => /running 0:0\d/.test(await lens.innerText()), 'the wait lens to show it running', 10_000);
    const toast = page().locator('.notification-toast', { hasText: /Runwise: running slow\.pipeline\.yaml:wait/ });
    await toast.getByRole('button', { name: 'Cancel' }).click();
    await waitUntil(async () => /cancelled/.test(await lens.innerText()), 'the wait lens to say cancelled', 15_000);
    assert.deepEqual(slowSleepers(), [], 'no process of the stage is left');
    assert.ok(!existsSync(path.join(workspace, 'slow.txt')), 'the stage did not finish');
    await page().locator('.notification-toast', { hasText: 'the pipeline run was cancelled' }).waitFor({ state: 'visible', timeout: 10_000 });
  });
});

/**
 * The pipeline workspace with a lock file for `slow.pipeline.yaml`, written a minute ago: the
 * editor parses it for the stages' status, and a trusted one records the parse in
 * `.runwise/cache/locks.json`; an untrusted one must not.
 */
function lockedPipelineWorkspace(root: string): string {
  const ws = pipelineWorkspace(root);
  const lock = path.join(ws, 'slow.pipeline.lock');
  writeFileSync(lock, `schema: '2.0'\nstages:\n  wait:\n    cmd: sleep ${SLOW_SECONDS} && echo done > slow.txt\n    outs:\n    - path: slow.txt\n      hash: md5\n      md5: 6a0b1e2a5ba8b2b2bd1d1a7e0b5ae4c4\n      size: 5\n`);
  const minuteAgo = new Date(Date.now() - 60_000);
  utimesSync(lock, minuteAgo, minuteAgo);
  return ws;
}

describe('Pipelines in an untrusted workspace (Restricted Mode)', { timeout: 600_000 }, () => {
  const session = new PipelineSession('pipeline-untrusted', 'restricted', lockedPipelineWorkspace);
  const page = session.page;
  let workspace = '';
  let server: CodeServer | undefined;
  before(async () => {
    await session.start();
    ({ workspace, server } = session);
  });
  after(() => session.close());

  it('the lens asks for trust, clicking it explains why, and nothing runs', async (t) => {
    screenshotOnFailure(t, page, server);
    await openFile(page(), 'runwise.yaml');
    const text = await waitUntil(async () => {
      const s = await lensText(page(), 'prepare');
      return /Run \(trust the workspace to run\)/.test(s) && /never run/.test(s) ? s : '';
    }, 'the prepare lens in Restricted Mode', 60_000);
    assert.match(text, /^Run \(trust the workspace to run\) \| never run$/);
    // A lens drawn again under the pointer can swallow a click: clicked again until the message shows.
    const note = await waitUntil(
      async () => {
        const shown = (await page().locator('.notification-toast').allInnerTexts()).find((x) => /untrusted workspace/.test(x));
        if (!shown) await lensRow(page(), 'prepare').first().getByText('Run (trust the workspace to run)').click({ timeout: 5_000 }).catch(() => undefined);
        return shown;
      },
      'the Restricted Mode message',
      20_000,
    );
    assert.match(note, /does not run pipeline stages in an untrusted workspace/);
    assert.match(note, /Manage Workspace Trust/);
    await page().waitForTimeout(1_000);
    assert.ok(!existsSync(path.join(workspace, 'data', 'clean.txt')), 'nothing ran');
    assert.ok(!existsSync(path.join(workspace, 'runwise.lock')), 'no lock file was written');
    assert.ok(!existsSync(hashCachePath(workspace)), 'no hash cache was written');
    assert.ok(!existsSync(path.join(workspace, '.runwise', 'cache', 'locks.json')), 'no parsed lock file was recorded');
  });
});
