/**
 * The evaluation report webview bundle (webview/evaluationReport/main.ts) in real Chromium, in the
 * extension's HTML shell and Content-Security-Policy, with a scripted host: it renders a report as
 * core/evaluation writes it (metrics, the confusion matrix with counts and row-normalised shading,
 * slices with the largest gap marked, latency), shows hostile class labels and slice values as text,
 * and its button (mouse and keyboard) posts the typed messages of webview/evaluationReport/messages.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { evaluationReportData, isEvaluationReportWebviewMessage, type EvaluationReportHostMessage, type EvaluationReportJson } from '../../webview/evaluationReport/messages';
import { launchChromium, screenshotOnFailure } from '../support/browser';
import { buildWebview, openWebview, type BuiltWebview, type WebviewPage } from './harness';

const RUN_ID = 'fedcba9876543210fedcba9876543210';

/** A binary evaluation's report.json as read back from a run (JSON turned NaN into null). */
function sampleReport(overrides: Partial<EvaluationReportJson> = {}): EvaluationReportJson {
  return {
    task: 'binary',
    task_inferred: true,
    rows: 100,
    metrics: { accuracy: 0.85, precision: 0.8, recall: 0.9, roc_auc: null, log_loss: 0.3512 },
    // true 0: 50 rows (40 right), true 1: 50 rows (45 right)
    confusion_matrix: [
      [40, 10],
      [5, 45],
    ],
    classes: [0, 1],
    threshold: 0.5,
    slices: {
      column: 'region',
      values: [
        { value: 'north', rows: 30, metrics: { accuracy: 0.7, precision: 0.6 } },
        { value: 'south', rows: 40, metrics: { accuracy: 0.95, precision: 0.9 } },
        { value: 'west', rows: 3, metrics: { accuracy: 0.85, precision: null } },
      ],
      largest_gap: { metric: 'accuracy', gap: 0.25, lowest: 'north', highest: 'south' },
    },
    latency_ms: { p50: 1.25, p95: 2.5, p99: 3.75 },
    rows_per_second: 80000,
    batches: 1,
    batch_size: 8192,
    warnings: [],
    model: { path: 'models/model.onnx', sha256: 'ab'.repeat(32) },
    dataset: { path: 'data/test.csv', sha256: 'cd'.repeat(32), format: 'csv', target: 'churned', features: ['tenure', 'spend'] },
    run_id: RUN_ID,
    ...overrides,
  };
}

describe('evaluation report messages', () => {
  it('carries NaN (null in report.json) as a wire string, labels as text', () => {
    const data = evaluationReportData(sampleReport());
    assert.deepEqual(data.metrics.find((m) => m.key === 'roc_auc'), { key: 'roc_auc', value: 'NaN' });
    assert.deepEqual(data.classes, ['0', '1']);
    assert.deepEqual(data.slices?.values[2]?.metrics, { accuracy: 0.85, precision: 'NaN' });
    assert.deepEqual(data.slices?.largestGap, { metric: 'accuracy', gap: 0.25, lowest: 'north', highest: 'south' });
    assert.equal(data.runId, RUN_ID);
  });

  it('accepts only the page messages it types', () => {
    assert.ok(isEvaluationReportWebviewMessage({ type: 'ready' }));
    assert.ok(isEvaluationReportWebviewMessage({ type: 'showRun', runId: RUN_ID }));
    assert.ok(!isEvaluationReportWebviewMessage({ type: 'showRun', runId: '../../etc' }));
    assert.ok(!isEvaluationReportWebviewMessage({ type: 'deleteRun', runId: RUN_ID }));
    assert.ok(!isEvaluationReportWebviewMessage(null));
  });
});

describe('evaluation report webview', { timeout: 180_000 }, () => {
  let built: BuiltWebview | undefined;
  let browser: Browser | undefined;
  let view: WebviewPage | undefined;

  before(async () => {
    built = await buildWebview('evaluationReport');
    browser = await launchChromium();
  });

  after(async () => {
    await view?.close();
    await browser?.close();
    built?.remove();
  });

  const open = async (): Promise<WebviewPage> => {
    await view?.close();
    view = await openWebview({ bundle: built!.bundle, styles: [built!.styles], browser, title: 'Evaluation report' });
    await view.waitForMessage((m) => m.type === 'ready');
    return view;
  };
  const send = (v: WebviewPage, m: EvaluationReportHostMessage) => v.deliver(m);

  it('renders metrics, the confusion matrix with row shading, slices with the largest gap, latency', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await send(v, { type: 'report', report: evaluationReportData(sampleReport()) });
    const p = v.page;
    assert.equal(await p.locator('#report-title').innerText(), 'Evaluation of models/model.onnx');
    assert.equal(await p.locator('#report-task').innerText(), 'binary');
    const facts = await p.locator('dl.facts').first().innerText();
    assert.match(facts, /Task\s+binary \(inferred from the model\)/);
    assert.match(facts, /Target\s+churned/);
    assert.match(facts, /Threshold\s+0\.5/);
    // An undefined metric is a dash (its hover and a screen reader say why).
    assert.match(await p.locator('#metrics table').innerText(), /accuracy\s+0\.85\s+precision\s+0\.8\s+recall\s+0\.9\s+roc_auc\s+–\s+log_loss\s+0\.3512/);
    assert.equal(await p.locator('#metrics td[aria-label="undefined"]').getAttribute('title'), 'Undefined for these rows (see Warnings)');

    // Counts as text, each cell shaded by its share of its row (40/50 → shade-8, 10/50 → shade-2).
    const cells = p.locator('#confusion-matrix tbody td.cell');
    assert.equal(await cells.count(), 4);
    const classes = await cells.evaluateAll((els) => els.map((e) => e.className));
    assert.deepEqual(classes, ['cell shade-8 diagonal', 'cell shade-2', 'cell shade-1', 'cell shade-9 diagonal']);
    assert.deepEqual(await p.locator('#confusion-matrix tbody td.cell .count').allInnerTexts(), ['40', '10', '5', '45']);
    assert.deepEqual(await p.locator('#confusion-matrix tbody td.total').allInnerTexts(), ['50', '50']);
    // The shading is real: the strongest share is darker than the weakest.
    type StyledWindow = { getComputedStyle(e: unknown): { backgroundColor: string } };
    const bg = await cells.evaluateAll((els) => els.map((e) => (globalThis as unknown as StyledWindow).getComputedStyle(e).backgroundColor));
    assert.notEqual(bg[3], bg[2]);

    // Slices: the gap named, the lowest and highest rows marked.
    assert.equal(await p.locator('#largest-gap').innerText(), 'Largest gap in accuracy: 0.25, between north (lowest, 30 rows) and south (highest, 40 rows).');
    assert.match(await p.locator('#slice-table tr.gap-lowest').innerText(), /north\s+▼ lowest\s+30\s+0\.7/);
    assert.match(await p.locator('#slice-table tr.gap-highest').innerText(), /south\s+▲ highest\s+40\s+0\.95/);
    assert.equal(await p.locator('#slice-table tbody tr:not(.gap-lowest):not(.gap-highest)').count(), 1);
    // A slice of a few rows is marked so; its undefined precision is a dash.
    assert.match(await p.locator('#slice-table tbody tr:not(.gap-lowest):not(.gap-highest)').innerText(), /west\s+3 \(few\)\s+0\.85\s+–/);

    const latency = await p.locator('#latency').innerText();
    assert.match(latency, /p50 per batch\s+1\.25 ms/);
    assert.match(latency, /p95 per batch\s+2\.5 ms/);
    assert.match(latency, /p99 per batch\s+3\.75 ms/);
    assert.equal(await p.title(), 'Evaluation of models/model.onnx');
    assert.deepEqual(v.pageErrors, []);
    assert.deepEqual(await v.violations(), []);
  });

  it('writes numbers one way: metrics in 4 significant digits (whole on hover), counts grouped, right-aligned; an empty row of the matrix has no share', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    const report = sampleReport({
      rows: 1234567,
      metrics: { accuracy: 0.41076079392649556, roc_auc: null },
      confusion_matrix: [
        [1234567, 0],
        [0, 0],
      ],
      rows_per_second: 3080000.4,
      batches: 151,
    });
    await send(v, { type: 'report', report: evaluationReportData(report, ['churn/2 (@champion)']) });
    const p = v.page;
    assert.match(await p.locator('dl.facts').first().innerText(), /Registered as\s+churn\/2 \(@champion\)/);
    const accuracy = p.locator('#metrics tbody tr').first().locator('td');
    assert.equal(await accuracy.innerText(), '0.4108');
    assert.equal(await accuracy.getAttribute('title'), '0.41076079392649556');
    assert.equal(await p.locator('#metrics tbody tr').nth(1).locator('td').getAttribute('title'), 'Undefined for these rows (see Warnings)');
    type Styled = { getComputedStyle(e: unknown): { textAlign: string } };
    assert.equal(await accuracy.evaluate((e) => (globalThis as unknown as Styled).getComputedStyle(e).textAlign), 'right');
    assert.match(await p.locator('dl.facts').first().innerText(), /Rows\s+1,234,567/);
    assert.deepEqual(await p.locator('#confusion-matrix tbody td.cell .count').allInnerTexts(), ['1,234,567', '0', '0', '0']);
    assert.deepEqual(await p.locator('#confusion-matrix tbody td.cell .share').allInnerTexts(), ['100%', '0%', '–', '–']);
    assert.deepEqual(await p.locator('#confusion-matrix tbody td.total').allInnerTexts(), ['1,234,567', '0']);
    const latency = await p.locator('#latency').innerText();
    assert.match(latency, /Rows per second\s+3,080,000/);
    assert.match(latency, /Batches\s+151 of up to 8,192 rows/);
    assert.deepEqual(v.pageErrors, []);
    assert.deepEqual(await v.violations(), []);
  });

  it('shows hostile class labels, slice values and paths as literal text; nothing runs', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    const dialogs: string[] = [];
    v.page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const evil = '<img src=x onerror="window.__pwned = 1">';
    await send(v, {
      type: 'report',
      report: evaluationReportData(
        sampleReport({
          classes: [evil, '<b>yes</b>'],
          model: { path: '<script>window.__pwned = 2</script>', sha256: 'ab' },
          slices: { column: '<i>col</i>', values: [{ value: evil, rows: 1, metrics: { accuracy: 1 } }], largest_gap: null },
        }),
      ),
    });
    const p = v.page;
    assert.equal(await p.locator('#report-title').textContent(), 'Evaluation of <script>window.__pwned = 2</script>');
    assert.equal(await p.locator('#confusion-matrix thead th').nth(1).textContent(), evil);
    assert.equal(await p.locator('#slice-table tbody th').first().textContent(), evil);
    assert.equal(await p.locator('#root img, #root script, #root b, #root i').count(), 0);
    await p.waitForTimeout(300);
    assert.deepEqual(dialogs, []);
    assert.equal(await p.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
    assert.deepEqual(await v.violations(), []);
  });

  it('is served with the nonce CSP; "Show run" posts showRun by mouse and keyboard; tables are keyboard reachable', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    const csp = await v.page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    assert.ok(csp);
    assert.match(csp, new RegExp(`script-src 'nonce-${v.server.nonce}'`));
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    await send(v, { type: 'report', report: evaluationReportData(sampleReport()) });
    const p = v.page;
    await p.getByRole('button', { name: 'Show run' }).click();
    assert.deepEqual(await v.waitForMessage((m) => m.type === 'showRun'), { type: 'showRun', runId: RUN_ID });
    const before = (await v.sent()).filter((m) => m.type === 'showRun').length;
    await p.locator('body').click({ position: { x: 5, y: 5 } });
    type Focus = { document: { activeElement: { tagName: string; textContent: string; getAttribute(name: string): string | null } | null } };
    const focused = () =>
      p.evaluate(() => {
        const a = (globalThis as unknown as Focus).document.activeElement;
        return a ? `${a.tagName}:${a.getAttribute('aria-label') ?? a.textContent}` : '';
      });
    await p.keyboard.press('Tab');
    assert.equal(await focused(), 'BUTTON:Show run');
    await p.keyboard.press('Enter');
    await p.keyboard.press('Tab');
    assert.equal(await focused(), 'DIV:Confusion matrix');
    await p.keyboard.press('Tab');
    assert.equal(await focused(), 'DIV:Metrics per value of region');
    assert.equal((await v.sent()).filter((m) => m.type === 'showRun').length, before + 1);
    assert.deepEqual(await v.violations(), []);
  });

  it('says how to get slices when the evaluation was not sliced', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await send(v, { type: 'report', report: evaluationReportData(sampleReport({ slices: null })) });
    assert.match(await v.page.locator('#slices').innerText(), /Not sliced: evaluate with a slice column/);
    assert.equal(await v.page.locator('#slice-table').count(), 0);
  });

  it('says why when there is no report', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await send(v, { type: 'reportMissing', reason: 'The run “x” has no evaluation/report.json.' });
    assert.equal(await v.page.locator('#report-missing').innerText(), 'The run “x” has no evaluation/report.json.');
  });
});
