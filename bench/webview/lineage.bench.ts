/**
 * A 500-node lineage graph, end to end: read from a real tracker by core/views/lineageGraph.ts, then
 * laid out (dagre, layered) and drawn (SVG) by the lineage view's bundle in headless Chromium under
 * the webviews' Content-Security-Policy; then what keeps it interactive: highlighting a node's
 * upstream and downstream on hover, and a zoom step. Target: layout and render under 1 s.
 *
 * The tracker: one raw data file read by 120 `prepare` runs, each writing its own training file,
 * each read by a `train` run that registers a model version; every 8th version is evaluated on a
 * shared test file and every 20th has an alias. The graph is walked from the raw file.
 *
 *   node --import tsx bench/webview/lineage.bench.ts
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { OUTPUTS_ARTIFACT } from '../../core/pipeline/stageTracking';
import { MODEL_SHA256_TAG, STAGE_TAG } from '../../core/tracker/model';
import { Tracker } from '../../core/tracker/tracker';
import { dataFileLineageGraph } from '../../core/views/lineageGraph';
import type { LineageGraph } from '../../core/views/lineageGraphModel';
import { launchChromium } from '../../test/support/browser';
import { tempWorkspace } from '../../test/support/tempWorkspace';
import { buildWebview, openWebview } from '../../test/webview/harness';
import { fmt, median } from '../stats';

const CHAINS = 120;
const ROUNDS = 5;

async function lineageTracker(): Promise<{ ws: string; tracker: Tracker }> {
  const ws = tempWorkspace('bench-lineage');
  const tracker = Tracker.open(ws);
  const input = (p: string, digest: string) => ({ dataset: { name: p, digest, sourceType: 'local', source: p }, tags: [] });
  for (let i = 0; i < CHAINS; i++) {
    const prepare = tracker.createRun({ runName: `prepare-${i}`, tags: [{ key: STAGE_TAG, value: 'prepare' }] }).info.runId;
    tracker.logInputs(prepare, [input('data/raw.csv', 'raw0001')]);
    await tracker.putArtifact(prepare, OUTPUTS_ARTIFACT, Buffer.from(JSON.stringify([{ path: `data/train-${i}.csv`, kind: 'out', md5: `t${i}`, size: 1 }])));
    tracker.updateRun(prepare, { status: 'FINISHED' });
    const train = tracker.createRun({ runName: `train-${i}`, tags: [{ key: STAGE_TAG, value: 'train' }] }).info.runId;
    tracker.logInputs(train, [input(`data/train-${i}.csv`, `t${i}`)]);
    tracker.updateRun(train, { status: 'FINISHED' });
    const model = path.join(ws, `model-${i}.onnx`);
    writeFileSync(model, `model bytes ${i}`);
    const v = await tracker.registerModelFiles('churn', model, { runId: train, ...(i % 20 === 0 ? { alias: `a${i}` } : {}) });
    if (i % 8 === 0) {
      const evaluation = tracker.createRun({ runName: `eval-${i}`, tags: [{ key: MODEL_SHA256_TAG, value: v.sha256 }] }).info.runId;
      tracker.logInputs(evaluation, [input('data/test.csv', 'test0001')]);
      tracker.updateRun(evaluation, { status: 'FINISHED' });
    }
  }
  return { ws, tracker };
}

async function main(): Promise<void> {
  const { tracker } = await lineageTracker();
  const buildMs: number[] = [];
  let graph: LineageGraph | undefined;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    graph = dataFileLineageGraph(tracker, 'data/raw.csv', { maxNodes: 1000 });
    buildMs.push(performance.now() - t0);
  }
  tracker.close();
  const g = graph!;
  console.log(`graph: ${g.nodes.length} nodes, ${g.edges.length} links (walked from data/raw.csv)`);
  console.log(`read from the tracker (core/views/lineageGraph.ts): median ${fmt(median(buildMs))} ms over ${ROUNDS}`);

  const built = await buildWebview('lineage');
  const browser = await launchChromium();
  try {
    const layout: number[] = [];
    const render: number[] = [];
    const total: number[] = [];
    const cpu: number[] = [];
    const hover: number[] = [];
    const zoom: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const v = await openWebview({ bundle: built.bundle, styles: [built.styles], browser });
      await v.waitForMessage((m) => m.type === 'ready');
      // As the host does it: on 'ready' it reads the graph (here: waits as long as the median read
      // above), then sends it; the page meanwhile warms its layout engine up.
      await new Promise((r) => setTimeout(r, median(buildMs)));
      // The renderer's main-thread CPU time (CDP's ThreadTime) over the same span: on a shared,
      // loaded machine the wall time includes waiting for a core, this does not.
      const cdp = await v.page.context().newCDPSession(v.page);
      await cdp.send('Performance.enable');
      const threadTime = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'ThreadTime')?.value ?? NaN;
      const cpu0 = await threadTime();
      // From the message's arrival to the drawing on screen (a frame painted after it). Page code is
      // given as text: it runs in the browser, not here.
      const t = (await v.page.evaluate(`(async () => {
        const t0 = performance.now();
        window.postMessage({ type: 'graph', graph: ${JSON.stringify(g)} }, '*');
        while (!document.body.dataset.rendered) await new Promise((r) => setTimeout(r, 1));
        await new Promise((r) => requestAnimationFrame(r));
        return { total: performance.now() - t0, layout: Number(document.body.dataset.layoutMs), render: Number(document.body.dataset.renderMs) };
      })()`)) as { total: number; layout: number; render: number };
      cpu.push(((await threadTime()) - cpu0) * 1000);
      layout.push(t.layout);
      render.push(t.render);
      total.push(t.total);
      if ((await v.page.locator('g.node').count()) !== g.nodes.length) throw new Error('not every node was drawn');
      // Hover: the highlight of a run in the graph, to the next frame.
      const middle = g.nodes.find((n) => n.kind === 'run')!.id;
      hover.push(
        (await v.page.evaluate(`(async () => {
          const node = document.querySelector('g.node[data-id=' + JSON.stringify(${JSON.stringify(middle)}) + ']');
          const t0 = performance.now();
          node.dispatchEvent(new PointerEvent('pointerover', { bubbles: true }));
          await new Promise((r) => requestAnimationFrame(r));
          return performance.now() - t0;
        })()`)) as number,
      );
      zoom.push(
        (await v.page.evaluate(`(async () => {
          const graphEl = document.querySelector('.graph');
          graphEl.focus();
          const t0 = performance.now();
          graphEl.dispatchEvent(new KeyboardEvent('keydown', { key: '+', bubbles: true }));
          await new Promise((r) => requestAnimationFrame(r));
          return performance.now() - t0;
        })()`)) as number,
      );
      if ((await v.violations()).length > 0 || v.pageErrors.length > 0) throw new Error(`page problems: ${JSON.stringify(await v.violations())} ${v.pageErrors.join('; ')}`);
      await v.close();
    }
    console.log(`layout (dagre layered): median ${fmt(median(layout))} ms; rounds ${layout.map((x) => fmt(x)).join(' / ')}`);
    console.log(`render (SVG): median ${fmt(median(render))} ms`);
    console.log(`message to painted frame: median ${fmt(median(total))} ms; main-thread CPU time for it: median ${fmt(median(cpu))} ms`);
    console.log(`page ready to painted frame (the host's read, then layout and drawing): median ${fmt(median(buildMs) + median(total))} ms (target < 1000 ms)`);
    console.log(`hover highlight to next frame: median ${fmt(median(hover))} ms; zoom step to next frame: median ${fmt(median(zoom))} ms`);
    // Two cores shared with whatever else runs: the figures mean little when this is far above 2.
    console.log(`load average while measuring: ${loadavg().map((x) => x.toFixed(1)).join(' ')} (${'1, 5, 15 min'})`);
  } finally {
    await browser.close();
    built.remove();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
