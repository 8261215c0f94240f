/**
 * The Compare Runs view, end to end, in headless Chromium under the webviews' Content-Security-Policy
 * (the bundle served by the webview test harness):
 *
 * 1. The table: 10,000 runs × 50 columns (6 attributes, 20 metrics, 20 params, 4 tags), built by
 *    core/views/runTableModel.ts on the host; then delivered to the page and timed from the message
 *    to the first painted frame (target < 500 ms); then scrolled, 240 px down and 130 px right per
 *    frame for 300 frames: each frame's cell building (the grid's data-render-ms), forced style and
 *    layout, and the interval between frames (target: frames under 16 ms); then the parallel
 *    coordinates of all 10,000 runs, drawn once scrolled into view.
 * 2. The chart: 100 runs whose metric has 1,000,000 steps each, in a real tracker database on disk;
 *    the host's query (core/views/metricSeries.ts: the last point per bucket from the rollups, as the
 *    panel runs it for 100 runs at 1,000 points: `metricSeriesColumns`, typed arrays, without min and
 *    max since the chart draws no bands for that many runs; alternated with it the same query with
 *    min and max, and the per-series `metricSeries`, for comparison) and the chart's render in the
 *    page from the message (its typed arrays, as VS Code hands them to the page) to the painted frame
 *    (target: both under 300 ms); then the render of BAND_MAX_RUNS of the runs with their min–max
 *    bands.
 *
 * The database for 2. is written once (one run logged through the tracker, its points and rollups
 * copied for the other 99 runs in SQL) and kept in the system's temporary folder for the next run of
 * the bench; `--fresh` writes it again. `--runs N` / `--steps N` change its size; `--only table` or
 * `--only chart` runs one part.
 *
 *   node --import tsx bench/webview/compareRuns.bench.ts
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Run } from '../../core/tracker/model';
import { Tracker } from '../../core/tracker/tracker';
import { metricSeries, metricSeriesColumns } from '../../core/views/metricSeries';
import { runTableOf } from '../../core/views/runTableModel';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../test/support/browser';
import { buildWebview, openWebview, type WebviewPage } from '../../test/webview/harness';
import { BAND_MAX_RUNS, type ChartSeries } from '../../webview/compareRuns/messages';
import { fmt, median } from '../stats';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const TABLE_RUNS = 10_000;
const CHART_RUNS = arg('--runs', 100);
const STEPS = arg('--steps', 1_000_000);
const ROUNDS = 5;
const SCROLL_FRAMES = 300;

function p(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** 10,000 runs with 20 metrics, 20 params and 4 tags each, as the tracker returns them. */
function tableRuns(): Run[] {
  const runs: Run[] = [];
  for (let i = 0; i < TABLE_RUNS; i++) {
    const runId = i.toString(16).padStart(32, '0');
    runs.push({
      info: { runId, runName: `run-${i}`, experimentId: '1', userId: 'ada', status: i % 50 === 0 ? 'RUNNING' : 'FINISHED', startTime: 1_700_000_000_000 + i * 1000, endTime: i % 50 === 0 ? null : 1_700_000_000_000 + i * 1000 + 60_000, artifactUri: '', lifecycleStage: 'active', parentRunId: null },
      metrics: Array.from({ length: 20 }, (_, k) => ({ key: `metric_${k}`, value: Math.sin(i * (k + 1)) * 100, timestamp: 0, step: 100 })),
      params: Array.from({ length: 20 }, (_, k) => ({ key: `param_${k}`, value: k % 2 ? String((i * 7 + k) % 13) : ['adam', 'sgd', 'rmsprop'][(i + k) % 3]! })),
      tags: Array.from({ length: 4 }, (_, k) => ({ key: `tag_${k}`, value: `value ${(i + k) % 5}` })),
      inputs: [],
    });
  }
  return runs;
}

/** The chart database: `CHART_RUNS` runs, each with `STEPS` steps of `loss`. */
function chartTracker(): { tracker: Tracker; runIds: string[]; writtenMs: number | null } {
  const ws = path.join(tmpdir(), `runwise-bench-compare-${CHART_RUNS}x${STEPS}`);
  const fresh = process.argv.includes('--fresh') || !existsSync(path.join(ws, '.runwise', 'tracker.db'));
  if (fresh) rmSync(ws, { recursive: true, force: true });
  mkdirSync(ws, { recursive: true });
  const tracker = Tracker.open(ws);
  if (!fresh) {
    const runIds = tracker.searchRuns({ maxResults: CHART_RUNS, orderBy: ['attributes.start_time ASC'] }).items.map((r) => r.info.runId);
    if (runIds.length === CHART_RUNS) return { tracker, runIds, writtenMs: null };
    throw new Error(`${ws} holds ${runIds.length} runs, not ${CHART_RUNS}: run with --fresh`);
  }
  const t0 = performance.now();
  const exp = tracker.createExperiment('bench').experimentId;
  const first = tracker.createRun({ experimentId: exp, runName: 'run-0', startTime: 1_700_000_000_000 }).info.runId;
  const batch = 1000;
  for (let s = 0; s < STEPS; s += batch) {
    const metrics = [];
    for (let i = s; i < Math.min(STEPS, s + batch); i++) metrics.push({ key: 'loss', value: 1 / (1 + i / 1000) + Math.sin(i / 97) * 0.01, step: i, timestamp: 1_700_000_000_000 + i * 10 });
    tracker.logBatch(first, { metrics });
  }
  tracker.updateRun(first, { status: 'FINISHED' });
  const runIds = [first];
  const db = tracker.db;
  const firstId = Number(db.prepare('SELECT id FROM runs WHERE run_uuid = ?').get(first)!.id);
  for (let r = 1; r < CHART_RUNS; r++) {
    const runId = tracker.createRun({ experimentId: exp, runName: `run-${r}`, startTime: 1_700_000_000_000 + r }).info.runId;
    const id = Number(db.prepare('SELECT id FROM runs WHERE run_uuid = ?').get(runId)!.id);
    db.transaction(() => {
      db.prepare('INSERT INTO metrics (run_id, key_id, step, timestamp, value) SELECT ?, key_id, step, timestamp, value + ? FROM metrics WHERE run_id = ?').run(id, r / 100, firstId);
      db.prepare(
        `INSERT INTO metric_rollups (run_id, key_id, level, block, min, max, last_step, last_timestamp, last_value, count)
         SELECT ?, key_id, level, block, min + ?, max + ?, last_step, last_timestamp, last_value + ?, count FROM metric_rollups WHERE run_id = ?`,
      ).run(id, r / 100, r / 100, r / 100, firstId);
      db.prepare('INSERT INTO latest_metrics (run_id, key_id, step, timestamp, value) SELECT ?, key_id, step, timestamp, value + ? FROM latest_metrics WHERE run_id = ?').run(id, r / 100, firstId);
    });
    tracker.updateRun(runId, { status: 'FINISHED' });
    runIds.push(runId);
    if (r % 10 === 0) process.stdout.write(`  written ${r + 1} of ${CHART_RUNS} runs (${fmt((performance.now() - t0) / 1000)} s)\r`);
  }
  return { tracker, runIds, writtenMs: performance.now() - t0 };
}

async function threadTimer(v: WebviewPage): Promise<() => Promise<number>> {
  const cdp = await v.page.context().newCDPSession(v.page);
  await cdp.send('Performance.enable');
  return async () => ((await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'ThreadTime')?.value ?? NaN) * 1000;
}

async function main(): Promise<void> {
  const built = await buildWebview('compareRuns');
  const browser = await launchChromium();
  try {
    // --- 1. The table (`--only chart` skips it).
    if (!process.argv.includes('--only') || process.argv.includes('table')) await tableBench(built.bundle, built.styles, browser);
    // --- 2. The chart (`--only table` skips it).
    if (!process.argv.includes('--only') || process.argv.includes('chart')) await chartBench(built.bundle, built.styles, browser);
    console.log(`load average while measuring: ${loadavg().map((x) => x.toFixed(1)).join(' ')} (1, 5, 15 min)`);
  } finally {
    await browser.close();
    built.remove();
  }
}

async function tableBench(bundle: string, styles: string, browser: Browser): Promise<void> {
  const built = { bundle, styles };
  {
    const runs = tableRuns();
    const hostMs: number[] = [];
    let table = runTableOf(runs);
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      table = runTableOf(runs);
      hostMs.push(performance.now() - t0);
    }
    const json = JSON.stringify({ type: 'table', title: 'bench', scope: { experimentIds: ['1'] }, tableJson: JSON.stringify(table) });
    console.log(`table: ${table.rows.length} runs × ${table.columns.length} columns; built on the host in median ${fmt(median(hostMs))} ms; message ${fmt(json.length / 1e6)} MB as JSON`);
    const first: number[] = [];
    const firstCpu: number[] = [];
    const phases: { received: number; rendered: number }[] = [];
    const sideMs: number[] = [];
    const renderMs: number[] = [];
    const layoutMs: number[] = [];
    const intervals: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const v = await openWebview({ bundle: built.bundle, styles: [built.styles], browser });
      await v.waitForMessage((m) => m.type === 'ready');
      const cpu = await threadTimer(v);
      const cpu0 = await cpu();
      first.push(
        (await v.page.evaluate(`(async () => {
          const message = ${json};
          const t0 = performance.now();
          window.postMessage(message, '*');
          while (performance.getEntriesByName('compare-table-rendered').length === 0) await new Promise((r) => setTimeout(r, 1));
          await new Promise((r) => requestAnimationFrame(r));
          const received = performance.getEntriesByName('compare-table-received')[0].startTime - t0;
          const rendered = performance.getEntriesByName('compare-table-rendered')[0].startTime - t0;
          window.__phases = { received, rendered };
          return performance.now() - t0;
        })()`)) as number,
      );
      phases.push((await v.page.evaluate('window.__phases')) as { received: number; rendered: number });
      firstCpu.push((await cpu()) - cpu0);
      // Scrolling, one step per frame: cell building, forced style + layout, frame intervals.
      const s = (await v.page.evaluate(`(async () => {
        const grid = document.getElementById('run-table');
        const render = [], layout = [], frames = [];
        let last = await new Promise((r) => requestAnimationFrame(r));
        for (let i = 0; i < ${SCROLL_FRAMES}; i++) {
          grid.scrollTop += 240;
          if (i % 3 === 0) grid.scrollLeft += 130;
          const now = await new Promise((r) => requestAnimationFrame(r));
          // The grid re-renders in its own frame callback after the scroll event.
          await new Promise((r) => requestAnimationFrame(r));
          const t0 = performance.now();
          void grid.offsetHeight;
          document.body.getBoundingClientRect();
          layout.push(performance.now() - t0);
          render.push(Number(grid.dataset.renderMs));
          frames.push(now - last);
          last = now;
        }
        return { render, layout, frames, rows: grid.querySelectorAll('.run-row').length, cells: grid.querySelectorAll('.cell').length };
      })()`)) as { render: number[]; layout: number[]; frames: number[]; rows: number; cells: number };
      renderMs.push(...s.render);
      layoutMs.push(...s.layout);
      intervals.push(...s.frames);
      if (r === 0) console.log(`  in the DOM while scrolling: ${s.rows} rows, ${s.cells} cells`);
      // Parallel coordinates over all 10,000 runs (drawn once scrolled into view).
      sideMs.push(
        (await v.page.evaluate(`(async () => {
          const pc = document.getElementById('parallel-coordinates');
          pc.scrollIntoView();
          while (pc.dataset.drawMs === undefined) await new Promise((r) => setTimeout(r, 5));
          return Number(pc.dataset.drawMs);
        })()`)) as number,
      );
      if ((await v.violations()).length > 0 || v.pageErrors.length > 0) throw new Error(`page problems: ${JSON.stringify(await v.violations())} ${v.pageErrors.join('; ')}`);
      await v.close();
    }
    console.log(`first render (message to painted frame): median ${fmt(median(first))} ms, rounds ${first.map((x) => fmt(x)).join(' / ')} (target < 500 ms); main-thread CPU median ${fmt(median(firstCpu))} ms`);
    console.log(`  of which: the message arriving (structured clone) median ${fmt(median(phases.map((x) => x.received)))} ms; handled (table built, first cells) by median ${fmt(median(phases.map((x) => x.rendered)))} ms`);
    console.log(`scrolling, per frame over ${renderMs.length} frames: cells built median ${fmt(median(renderMs), 2)} ms, p95 ${fmt(p(renderMs, 0.95), 2)}, max ${fmt(Math.max(...renderMs), 2)}; style + layout median ${fmt(median(layoutMs), 2)} ms, p95 ${fmt(p(layoutMs, 0.95), 2)}`);
    console.log(`  frame work (cells + layout) p95 ${fmt(p(renderMs, 0.95) + p(layoutMs, 0.95), 2)} ms (target < 16 ms); two-frame intervals median ${fmt(median(intervals))} ms, p95 ${fmt(p(intervals, 0.95))} ms`);

    console.log(`parallel coordinates of all ${TABLE_RUNS} runs (drawn when scrolled into view, after the table): median ${fmt(median(sideMs))} ms`);

  }
}

async function chartBench(bundle: string, styles: string, browser: Browser): Promise<void> {
  const built = { bundle, styles };
  {
    const { tracker, runIds, writtenMs } = chartTracker();
    if (writtenMs !== null) console.log(`\nchart database written: ${CHART_RUNS} runs × ${STEPS.toLocaleString('en-US')} steps in ${fmt(writtenMs / 1000)} s`);
    else console.log(`\nchart database reused: ${CHART_RUNS} runs × ${STEPS.toLocaleString('en-US')} steps`);
    const queryMs: number[] = [];
    const queryCpu: number[] = [];
    const minMaxMs: number[] = [];
    const minMaxCpu: number[] = [];
    const perSeriesMs: number[] = [];
    let series: ChartSeries[] = [];
    let banded: ChartSeries[] = [];
    /** Wall and CPU milliseconds of `fn`. */
    const timed = <T>(fn: () => T, wall: number[], cpu: number[]): T => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const out = fn();
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      return out;
    };
    // Alternated: the panel's query (no min and max for 100 runs), the same with min and max, then
    // the per-series one (row objects) for comparison.
    for (let r = 0; r < ROUNDS; r++) {
      series = timed(() => metricSeriesColumns(tracker, { runIds, key: 'loss', maxPoints: 1000, minMax: false }), queryMs, queryCpu);
      banded = timed(() => metricSeriesColumns(tracker, { runIds, key: 'loss', maxPoints: 1000, minMax: true }), minMaxMs, minMaxCpu);
      const t1 = performance.now();
      for (const runId of runIds) metricSeries(tracker, { runId, key: 'loss', maxPoints: 1000 });
      perSeriesMs.push(performance.now() - t1);
    }
    const zoomMs: number[] = [];
    const zoomCpu: number[] = [];
    const zoomMinMaxMs: number[] = [];
    const zoomMinMaxCpu: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (const minMax of [false, true]) {
        timed(() => metricSeriesColumns(tracker, { runIds, key: 'loss', maxPoints: 1000, minStep: 400_000, maxStep: 400_000 + STEPS / 100, minMax }), minMax ? zoomMinMaxMs : zoomMs, minMax ? zoomMinMaxCpu : zoomCpu);
      }
    }
    const chartRunsTable = runTableOf(runIds.map((id) => tracker.getRun(id)));
    const backend = tracker.db.backend;
    tracker.close();
    const points = series.reduce((n, s) => n + s.step.length, 0);
    console.log(`host query (${CHART_RUNS} series at ≤ 1,000 buckets: ${points.toLocaleString('en-US')} points of ${series.reduce((n, s) => n + s.totalPoints, 0).toLocaleString('en-US')}; no min and max): median ${fmt(median(queryMs))} ms, rounds ${queryMs.map((x) => fmt(x)).join(' / ')}; CPU median ${fmt(median(queryCpu))} ms (${backend})`);
    console.log(`  the same with min and max, alternated with it: median ${fmt(median(minMaxMs))} ms, CPU median ${fmt(median(minMaxCpu))} ms`);
    console.log(`  per-series metricSeries (row objects), alternated with it: median ${fmt(median(perSeriesMs))} ms`);
    console.log(`zoomed query (1 % of the steps, full detail): median ${fmt(median(zoomMs))} ms, CPU ${fmt(median(zoomCpu))} ms; with min and max (alternated) ${fmt(median(zoomMinMaxMs))} ms, CPU ${fmt(median(zoomMinMaxCpu))} ms`);
    const chartMs: number[] = [];
    const chartCpu: number[] = [];
    const bandMs: number[] = [];
    const bandCpu: number[] = [];
    const bandRuns = runIds.slice(0, BAND_MAX_RUNS);
    // Each round: the 100-line chart (the panel's message: no min and max), then BAND_MAX_RUNS runs with bands.
    for (let r = 0; r < ROUNDS * 2; r++) {
      const bands = r % 2 === 1;
      const state = { hidden: [], onlyDiffering: false, sort: null, filter: '', selected: bands ? bandRuns : runIds, baseline: null, groupBy: null, chart: { metric: 'loss', xAxis: 'step', logScale: false, smoothing: 0, scatterX: null, parallel: [] } };
      const v = await openWebview({ bundle: built.bundle, styles: [built.styles], browser, state });
      await v.waitForMessage((m) => m.type === 'ready');
      await v.deliver({ type: 'table', title: 'bench', scope: { experimentIds: ['1'] }, tableJson: JSON.stringify(chartRunsTable) });
      const request = await v.waitForMessage((m) => m.type === 'series');
      if (request.minMax !== bands) throw new Error(`the page asked for ${(request.runIds as string[]).length} runs with minMax ${String(request.minMax)}`);
      // The message as VS Code hands it to the page: its typed arrays rebuilt from the bytes sent.
      // (Here from a JSON literal, parsed before the clock and the CPU counter start.)
      const sent = bands ? banded.slice(0, BAND_MAX_RUNS) : series;
      const columns = sent.map((s) => ({ ...s, step: [...s.step], timestamp: [...s.timestamp], last: [...s.last], ...(s.min && s.max ? { min: [...s.min], max: [...s.max] } : {}) }));
      await v.page.evaluate(`(() => {
        window.__benchMessage = ${JSON.stringify({ type: 'series', requestId: request.requestId, key: 'loss', series: columns })};
        for (const s of window.__benchMessage.series) for (const k of ['step', 'timestamp', 'last', 'min', 'max']) if (s[k]) s[k] = Float64Array.from(s[k], (v) => (v === null ? NaN : v));
      })()`);
      const cpu = await threadTimer(v);
      const cpu0 = await cpu();
      (bands ? bandMs : chartMs).push(
        (await v.page.evaluate(`(async () => {
          const message = window.__benchMessage;
          const t0 = performance.now();
          window.postMessage(message, '*');
          while (performance.getEntriesByName('compare-chart-drawn').length === 0) await new Promise((r) => setTimeout(r, 1));
          await new Promise((r) => requestAnimationFrame(r));
          return performance.now() - t0;
        })()`)) as number,
      );
      (bands ? bandCpu : chartCpu).push((await cpu()) - cpu0);
      const chart = v.page.locator('#metric-chart');
      const [drawn, filled] = [await chart.getAttribute('data-series'), await chart.getAttribute('data-bands')];
      if (drawn !== String(sent.length) || filled !== String(bands ? sent.length : 0)) throw new Error(`the chart drew ${drawn} series and ${filled} bands for ${sent.length} runs`);
      await v.close();
    }
    console.log(`chart render (${CHART_RUNS} lines, message to painted frame): median ${fmt(median(chartMs))} ms, rounds ${chartMs.map((x) => fmt(x)).join(' / ')}; main-thread CPU median ${fmt(median(chartCpu))} ms`);
    console.log(`  ${BAND_MAX_RUNS} lines with their min–max bands, alternated with it: median ${fmt(median(bandMs))} ms, CPU median ${fmt(median(bandCpu))} ms`);
    console.log(`host query + chart render: ${fmt(median(queryMs) + median(chartMs))} ms (target < 300 ms)`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
