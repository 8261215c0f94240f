/**
 * The lineage view (webview/lineage/main.ts) in real Chromium: in the extension's HTML shell and
 * Content-Security-Policy with a scripted host, and as the offline page `runwise lineage --html`
 * writes, opened from file://. It lays the graph out with dagre under that policy (no eval, no
 * worker script), draws every node, highlights what is upstream and downstream of the hovered or
 * selected node, posts the open message with the node's target on a click or Enter, walks nodes
 * with the arrow keys, zooms and pans, updates stage states in place, shows hostile labels as text,
 * and loads nothing. Screenshots in the light and dark themes go to test-results/webview/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { selfContainedViewHtml } from '../../core/drift/driftHtml';
import type { LineageGraph } from '../../core/views/lineageGraphModel';
import { isLineageWebviewMessage, LINEAGE_DATA_ID, lineageGraphFromJson, type LineageHostMessage } from '../../webview/lineage/messages';
import { launchChromium, repoRoot, screenshotOnFailure } from '../support/browser';
import { buildWebview, openWebview, type BuiltWebview, type WebviewPage } from './harness';

const EVIL = '<script>alert(1)</script>';
const RUN_PREPARE = 'a'.repeat(32);
const RUN_TRAIN = 'b'.repeat(32);
const RUN_EVAL = 'c'.repeat(32);

/** raw.csv → prepare → train.csv → train → churn v1 → @champion; churn v1 and test.csv → evaluation. */
function sampleGraph(): LineageGraph {
  return {
    mode: 'lineage',
    title: 'Lineage of churn v1',
    focus: 'version:churn/1',
    nodes: [
      { id: 'data:data/raw.csv@aaaa', kind: 'dataset', label: 'data/raw.csv', detail: 'aaaa', target: { kind: 'file', path: 'data/raw.csv' } },
      { id: `run:${RUN_PREPARE}`, kind: 'run', label: 'prepare', detail: 'finished', state: 'finished', target: { kind: 'run', runId: RUN_PREPARE } },
      { id: 'data:data/train.csv@bbbb', kind: 'dataset', label: 'data/train.csv', detail: 'bbbb', target: { kind: 'file', path: 'data/train.csv' } },
      { id: `run:${RUN_TRAIN}`, kind: 'run', label: EVIL, detail: 'finished', state: 'finished', target: { kind: 'run', runId: RUN_TRAIN } },
      { id: 'version:churn/1', kind: 'model-version', label: 'churn v1', detail: 'sha256 0123', target: { kind: 'model-version', name: 'churn', version: '1' } },
      { id: 'alias:churn@champion', kind: 'alias', label: '@champion', detail: 'churn', target: { kind: 'model-version', name: 'churn', version: '1' } },
      { id: 'data:data/test.csv@dddd', kind: 'dataset', label: 'data/test.csv', detail: 'dddd', target: { kind: 'file', path: 'data/test.csv' } },
      { id: `run:${RUN_EVAL}`, kind: 'evaluation', label: 'eval', detail: 'finished', state: 'finished', target: { kind: 'run', runId: RUN_EVAL } },
    ],
    edges: [
      { from: 'data:data/raw.csv@aaaa', to: `run:${RUN_PREPARE}` },
      { from: `run:${RUN_PREPARE}`, to: 'data:data/train.csv@bbbb' },
      { from: 'data:data/train.csv@bbbb', to: `run:${RUN_TRAIN}` },
      { from: `run:${RUN_TRAIN}`, to: 'version:churn/1' },
      { from: 'version:churn/1', to: 'alias:churn@champion' },
      { from: 'version:churn/1', to: `run:${RUN_EVAL}` },
      { from: 'data:data/test.csv@dddd', to: `run:${RUN_EVAL}` },
    ],
    omitted: 0,
  };
}

function pipelineGraph(trainState: string, trainDetail: string): LineageGraph {
  return {
    mode: 'pipeline',
    title: 'Pipeline',
    nodes: [
      { id: 'stage:prepare', kind: 'stage', label: 'prepare', detail: 'up to date', state: 'up-to-date', target: { kind: 'file', path: 'runwise.yaml', line: 2 } },
      { id: 'stage:train', kind: 'stage', label: 'train', detail: trainDetail, state: trainState, target: { kind: 'file', path: 'runwise.yaml', line: 8 } },
    ],
    edges: [{ from: 'stage:prepare', to: 'stage:train' }],
    omitted: 0,
  };
}

/** What the page-side callbacks use of the browser (the tests compile without the DOM library). */
type BrowserGlobals = {
  document: {
    activeElement: { getAttribute(name: string): string | null } | null;
    body: { dataset: Record<string, string | undefined> };
    querySelector(selector: string): { getAttribute(name: string): string | null } | null;
    addEventListener(type: string, listener: (e: { effectiveDirective: string; blockedURI: string }) => void): void;
  };
  getComputedStyle(e: unknown): { backgroundColor: string };
};

const node = (v: WebviewPage, id: string) => v.page.locator(`g.node[data-id="${id}"]`);
const classesOf = async (v: WebviewPage, id: string) => ((await node(v, id).getAttribute('class')) ?? '').split(' ');
const scaleOf = async (v: WebviewPage) => Number(/scale\(([\d.]+)\)/.exec((await v.page.locator('g.viewport').getAttribute('transform')) ?? '')?.[1]);
const translateOf = async (v: WebviewPage) => /translate\(([-\d.]+) ([-\d.]+)\)/.exec((await v.page.locator('g.viewport').getAttribute('transform')) ?? '')!.slice(1).map(Number);
const activeId = (v: WebviewPage) => v.page.evaluate(() => (globalThis as unknown as BrowserGlobals).document.activeElement?.getAttribute('data-id') ?? null);

describe('lineage messages', () => {
  it('accepts only the page messages it types, with targets a host can act on', () => {
    assert.ok(isLineageWebviewMessage({ type: 'ready' }));
    assert.ok(isLineageWebviewMessage({ type: 'open', target: { kind: 'run', runId: RUN_TRAIN } }));
    assert.ok(isLineageWebviewMessage({ type: 'open', target: { kind: 'file', path: 'data/raw.csv', line: 3 } }));
    assert.ok(isLineageWebviewMessage({ type: 'open', target: { kind: 'model-version', name: 'churn', version: '2' } }));
    assert.ok(!isLineageWebviewMessage({ type: 'open', target: { kind: 'run', runId: 'not-a-run' } }));
    assert.ok(!isLineageWebviewMessage({ type: 'open', target: { kind: 'file', path: '' } }));
    assert.ok(!isLineageWebviewMessage({ type: 'open', target: { kind: 'model-version', name: 'churn', version: '../1' } }));
    assert.ok(!isLineageWebviewMessage({ type: 'open', target: { kind: 'command', id: 'workbench.action.terminal.new' } }));
    assert.ok(isLineageWebviewMessage({ type: 'showMore' }));
    assert.ok(!isLineageWebviewMessage(null));
  });

  it('reads a graph back checking every field: edges to unknown nodes and bad targets dropped', () => {
    const g = lineageGraphFromJson({
      title: 'x',
      nodes: [{ id: 'a', kind: 'run', label: 'A', detail: '', target: { kind: 'run', runId: 'bad' } }, { id: 'b', kind: 'weird', label: 3 }, { nope: 1 }],
      edges: [{ from: 'a', to: 'b' }, { from: 'a', to: 'zzz' }, { from: 'a', to: 'a' }],
      focus: 'zzz',
    });
    assert.deepEqual(g.nodes, [
      { id: 'a', kind: 'run', label: 'A', detail: '' },
      { id: 'b', kind: 'run', label: '3', detail: '' },
    ]);
    assert.deepEqual(g.edges, [{ from: 'a', to: 'b' }]);
    assert.equal(g.focus, undefined);
    assert.throws(() => lineageGraphFromJson({ nodes: 'x' }), /not a lineage graph/);
  });
});

describe('lineage view', { timeout: 240_000 }, () => {
  let built: BuiltWebview;
  let browser: Browser | undefined;
  let view: WebviewPage | undefined;

  before(async () => {
    built = await buildWebview('lineage');
    browser = await launchChromium();
  });

  after(async () => {
    await view?.close();
    await browser?.close();
    built?.remove();
  });

  const open = async (themeKind: 'vscode-dark' | 'vscode-light' = 'vscode-dark'): Promise<WebviewPage> => {
    await view?.close();
    view = await openWebview({ bundle: built.bundle, styles: [built.styles], browser, title: 'Lineage', themeKind });
    await view.waitForMessage((m) => m.type === 'ready');
    return view;
  };
  const show = async (v: WebviewPage, graph: LineageGraph) => {
    const before = await v.page.evaluate(() => (globalThis as unknown as BrowserGlobals).document.body.dataset.rendered ?? '0');
    await v.deliver({ type: 'graph', graph: JSON.parse(JSON.stringify(graph)) as LineageGraph } satisfies LineageHostMessage);
    await v.page.waitForFunction((b) => ((globalThis as unknown as BrowserGlobals).document.body.dataset.rendered ?? '0') !== b, before);
  };

  it('draws every node and link, the starting node marked, labels as text', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    const dialogs: string[] = [];
    v.page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await show(v, sampleGraph());
    assert.equal(await v.page.locator('g.node').count(), 8);
    assert.equal(await v.page.locator('path.edge').count(), 7);
    assert.equal(await v.page.locator('#lineage-title').innerText(), 'Lineage of churn v1');
    assert.equal(await v.page.title(), 'Lineage of churn v1');
    assert.match(await v.page.locator('#lineage-summary').innerText(), /^8 nodes · 7 links\./);
    assert.ok((await classesOf(v, 'version:churn/1')).includes('focus'));
    assert.ok((await classesOf(v, `run:${RUN_TRAIN}`)).includes('kind-run'));
    // Layers run left to right: raw data left of prepare, prepare left of the version.
    const x = async (id: string) => Number(/translate\(([-\d.]+)/.exec((await node(v, id).getAttribute('transform')) ?? '')![1]);
    assert.ok((await x('data:data/raw.csv@aaaa')) < (await x(`run:${RUN_PREPARE}`)));
    assert.ok((await x(`run:${RUN_PREPARE}`)) < (await x('version:churn/1')));
    // The hostile label is text: in the node's label and its tooltip, not an element.
    assert.equal(await node(v, `run:${RUN_TRAIN}`).locator('text.label').textContent(), EVIL);
    assert.equal(await node(v, `run:${RUN_TRAIN}`).locator('title').textContent(), `${EVIL}\nfinished`);
    assert.equal(await node(v, `run:${RUN_TRAIN}`).getAttribute('aria-label'), `Run, ${EVIL}, finished`);
    assert.equal(await v.page.locator('#root script').count(), 0);
    await v.page.waitForTimeout(200);
    assert.deepEqual(dialogs, []);
    assert.deepEqual(v.pageErrors, []);
    assert.deepEqual(await v.violations(), []);
  });

  it('hover highlights what is upstream and downstream; a click selects, announces and posts the open message', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await show(v, sampleGraph());
    await node(v, `run:${RUN_TRAIN}`).hover();
    assert.ok((await classesOf(v, 'data:data/raw.csv@aaaa')).includes('upstream'));
    assert.ok((await classesOf(v, `run:${RUN_PREPARE}`)).includes('upstream'));
    assert.ok((await classesOf(v, 'version:churn/1')).includes('downstream'));
    assert.ok((await classesOf(v, `run:${RUN_EVAL}`)).includes('downstream'));
    assert.ok((await classesOf(v, 'data:data/test.csv@dddd')).includes('dimmed'), 'the evaluation data is neither upstream nor downstream of train');
    assert.ok((await classesOf(v, `run:${RUN_TRAIN}`)).includes('selected'));
    assert.equal(await v.page.locator('path.edge.upstream').count(), 3);
    assert.equal(await v.page.locator('path.edge.downstream').count(), 3);
    // Leaving the node clears the highlight (nothing is selected yet).
    await v.page.mouse.move(2, 2);
    assert.equal(await v.page.locator('g.node.dimmed').count(), 0);

    await node(v, 'version:churn/1').click();
    const opened = await v.waitForMessage((m) => m.type === 'open');
    assert.deepEqual(opened, { type: 'open', target: { kind: 'model-version', name: 'churn', version: '1' } });
    assert.match(await v.page.locator('#lineage-status').textContent() ?? '', /^Selected Model version, churn v1, sha256 0123: 4 upstream, 2 downstream\.$/);
    await v.page.mouse.move(2, 2);
    assert.ok((await classesOf(v, 'version:churn/1')).includes('selected'), 'the selection stays highlighted after the pointer leaves');
    await node(v, 'data:data/raw.csv@aaaa').click();
    await v.waitForMessage((m) => m.type === 'open' && (m.target as { kind?: string }).kind === 'file');
    assert.deepEqual((await v.sent()).filter((m) => m.type === 'open').at(-1), { type: 'open', target: { kind: 'file', path: 'data/raw.csv' } });
    assert.deepEqual(await v.violations(), []);
  });

  it('keyboard: one tab stop into the nodes, arrows walk along links and within a layer, Enter opens, Escape clears', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await show(v, sampleGraph());
    await v.page.locator('.graph').focus();
    assert.equal(await v.page.locator('g.node[tabindex="0"]').count(), 1, 'one node is in the tab order');
    await v.page.keyboard.press('Home');
    assert.equal(await activeId(v), 'version:churn/1');
    await v.page.keyboard.press('ArrowLeft');
    assert.equal(await activeId(v), `run:${RUN_TRAIN}`);
    assert.ok((await classesOf(v, 'version:churn/1')).includes('downstream'), 'focus highlights as hover does');
    await v.page.keyboard.press('ArrowLeft');
    assert.equal(await activeId(v), 'data:data/train.csv@bbbb');
    await v.page.keyboard.press('ArrowRight');
    await v.page.keyboard.press('ArrowRight');
    assert.equal(await activeId(v), 'version:churn/1');
    // The version's two downstream nodes share a layer: ↓ and ↑ move between them.
    await v.page.keyboard.press('ArrowRight');
    const first = await activeId(v);
    assert.ok(first === 'alias:churn@champion' || first === `run:${RUN_EVAL}`, String(first));
    // Whichever of the two the layout put on top: one of ↓ and ↑ moves to the other.
    await v.page.keyboard.press('ArrowDown');
    if ((await activeId(v)) === first) await v.page.keyboard.press('ArrowUp');
    const second = await activeId(v);
    assert.ok(second !== first && (second === 'alias:churn@champion' || second === `run:${RUN_EVAL}`), `${first} then ${second}`);
    await v.page.keyboard.press('Home');
    await v.page.keyboard.press('ArrowLeft');
    await v.page.keyboard.press('Enter');
    assert.deepEqual(await v.waitForMessage((m) => m.type === 'open'), { type: 'open', target: { kind: 'run', runId: RUN_TRAIN } });
    assert.equal(await v.page.locator('g.node[tabindex="0"]').count(), 1);
    await v.page.keyboard.press('Escape');
    assert.equal(await v.page.locator('g.node.selected').count(), 0);
    assert.equal(await v.page.locator('#lineage-status').textContent(), 'Nothing selected.');
  });

  it('zoom and pan: + and - keys, the toolbar, the wheel and a drag change the transform; 0 fits again', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await show(v, sampleGraph());
    const fitted = await scaleOf(v);
    assert.ok(fitted > 0 && fitted <= 1, String(fitted));
    await v.page.locator('.graph').focus();
    await v.page.keyboard.press('+');
    assert.ok(Math.abs((await scaleOf(v)) - fitted * 1.25) < 1e-3, `${await scaleOf(v)} after + from ${fitted}`);
    await v.page.keyboard.press('-');
    await v.page.keyboard.press('-');
    assert.ok((await scaleOf(v)) < fitted);
    await v.page.locator('#zoom-in').click();
    const beforeWheel = await scaleOf(v);
    const box = (await v.page.locator('.graph').boundingBox())!;
    await v.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await v.page.mouse.wheel(0, -300);
    await v.page.waitForFunction((s) => !(globalThis as unknown as BrowserGlobals).document.querySelector('g.viewport')?.getAttribute('transform')?.includes(`scale(${s})`), beforeWheel.toFixed(4));
    assert.ok((await scaleOf(v)) > beforeWheel);
    const [x0, y0] = await translateOf(v);
    await v.page.locator('.graph').focus();
    await v.page.keyboard.press('ArrowRight');
    assert.equal((await translateOf(v))[0], x0! - 48, 'arrows pan when the canvas, not a node, has focus');
    // Drag from an empty corner of the canvas.
    await v.page.mouse.move(box.x + 5, box.y + 5);
    await v.page.mouse.down();
    await v.page.mouse.move(box.x + 65, box.y + 45, { steps: 4 });
    await v.page.mouse.up();
    const [x1, y1] = await translateOf(v);
    assert.ok(Math.abs(x1! - (x0! - 48 + 60)) < 1 && Math.abs(y1! - (y0! + 40)) < 1, `${x0},${y0} → ${x1},${y1}`);
    await v.page.keyboard.press('0');
    assert.equal(await scaleOf(v), fitted);
    assert.deepEqual(await v.violations(), []);
  });

  it('the pipeline graph: stage states as classes, updated in place when only states change', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await show(v, pipelineGraph('stale', 'stale: data/raw.csv changed'));
    assert.ok((await classesOf(v, 'stage:train')).includes('state-stale'));
    assert.ok((await classesOf(v, 'stage:prepare')).includes('state-up-to-date'));
    assert.deepEqual(await v.page.locator('.legend li').allInnerTexts(), ['up to date', 'stale', 'running', 'failed', 'never run']);
    const rendered = await v.page.evaluate(() => (globalThis as unknown as BrowserGlobals).document.body.dataset.rendered);
    const where = await node(v, 'stage:train').getAttribute('transform');
    await node(v, 'stage:train').click();
    await v.page.locator('.graph').focus();
    await v.page.keyboard.press('+');
    const zoomed = await scaleOf(v);
    await v.deliver({ type: 'graph', graph: pipelineGraph('running', 'running 0:03') } satisfies LineageHostMessage);
    await v.page.waitForFunction(() => (globalThis as unknown as BrowserGlobals).document.querySelector('g.node[data-id="stage:train"]')?.getAttribute('class')?.includes('state-running'));
    assert.equal(await node(v, 'stage:train').locator('text.detail').textContent(), 'running 0:03');
    assert.equal(await v.page.evaluate(() => (globalThis as unknown as BrowserGlobals).document.body.dataset.rendered), rendered, 'no new layout for a state change');
    assert.equal(await node(v, 'stage:train').getAttribute('transform'), where);
    assert.equal(await scaleOf(v), zoomed, 'the zoom stays');
    assert.ok((await classesOf(v, 'stage:train')).includes('selected'), 'the selection stays');
    await v.deliver({ type: 'graph', graph: pipelineGraph('failed', 'failed: exit 2') } satisfies LineageHostMessage);
    await v.page.waitForFunction(() => (globalThis as unknown as BrowserGlobals).document.querySelector('g.node[data-id="stage:train"]')?.getAttribute('class')?.includes('state-failed'));
    assert.deepEqual((await v.sent()).filter((m) => m.type === 'open'), [{ type: 'open', target: { kind: 'file', path: 'runwise.yaml', line: 8 } }]);
    // The last graph is kept for a panel restored after being hidden.
    assert.deepEqual(((await v.state()) as { graph: LineageGraph }).graph.nodes[1]!.state, 'failed');
  });

  it('a 500-node graph: every node drawn, highlighting and opening still work (timings: bench/webview/lineage.bench.ts)', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    // 100 chains of data → run → data → run → version; every run also reads one shared file.
    const nodes: LineageGraph['nodes'] = [{ id: 'data:shared', kind: 'dataset', label: 'shared.csv', detail: '', target: { kind: 'file', path: 'shared.csv' } }];
    const edges: LineageGraph['edges'] = [];
    for (let i = 0; i < 100; i++) {
      const ids = [`data:in${i}`, `run:a${i}`, `data:mid${i}`, `run:b${i}`, `version:m/${i + 1}`];
      nodes.push(
        { id: ids[0]!, kind: 'dataset', label: `in${i}.csv`, detail: '' },
        { id: ids[1]!, kind: 'run', label: `prepare ${i}`, detail: '' },
        { id: ids[2]!, kind: 'dataset', label: `mid${i}.csv`, detail: '' },
        { id: ids[3]!, kind: 'run', label: `train ${i}`, detail: '' },
        { id: ids[4]!, kind: 'model-version', label: `m v${i + 1}`, detail: '', target: { kind: 'model-version', name: 'm', version: String(i + 1) } },
      );
      for (let k = 0; k < 4; k++) edges.push({ from: ids[k]!, to: ids[k + 1]! });
      edges.push({ from: 'data:shared', to: ids[1]! });
    }
    await show(v, { mode: 'lineage', title: 'Big', nodes, edges, omitted: 0 });
    assert.equal(await v.page.locator('g.node').count(), 501);
    assert.equal(await v.page.locator('path.edge').count(), 500);
    await node(v, 'version:m/50').click();
    assert.deepEqual(await v.waitForMessage((m) => m.type === 'open'), { type: 'open', target: { kind: 'model-version', name: 'm', version: '50' } });
    // Upstream of m v50: its chain and the shared file; nothing of the other chains.
    assert.equal(await v.page.locator('g.node.upstream').count(), 5);
    assert.equal(await v.page.locator('g.node.dimmed').count(), 501 - 6);
    assert.deepEqual(v.pageErrors, []);
    assert.deepEqual(await v.violations(), []);
  });

  it('a "more…" node asks the host for more instead of opening anything', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    const graph = sampleGraph();
    graph.nodes.push({ id: 'more:data:data/raw.csv@aaaa:down', kind: 'more', label: '40 more…', detail: 'downstream', hidden: 40 });
    graph.edges.push({ from: 'data:data/raw.csv@aaaa', to: 'more:data:data/raw.csv@aaaa:down' });
    graph.omitted = 40;
    await show(v, graph);
    assert.match(await v.page.locator('#lineage-summary').innerText(), /40 more not shown/);
    await node(v, 'more:data:data/raw.csv@aaaa:down').click();
    await v.waitForMessage((m) => m.type === 'showMore');
    assert.deepEqual((await v.sent()).filter((m) => m.type !== 'ready'), [{ type: 'showMore' }]);
  });

  it('says why when there is nothing to show, or what it got is no graph', async (t) => {
    const v = await open();
    screenshotOnFailure(t, v.page, { dir: 'webview' });
    await v.deliver({ type: 'graphMissing', reason: "Registered Model with name=churn not found" } satisfies LineageHostMessage);
    assert.equal(await v.page.locator('#graph-missing').innerText(), 'Registered Model with name=churn not found');
    await v.deliver({ type: 'graph', graph: { nodes: 3 } as unknown as LineageGraph });
    assert.match(await v.page.locator('#graph-missing').innerText(), /not a lineage graph/);
  });

  it('looks right in the light and dark themes (screenshots kept in test-results/webview/)', async () => {
    const out = path.join(repoRoot, 'test-results', 'webview');
    mkdirSync(out, { recursive: true });
    for (const themeKind of ['vscode-light', 'vscode-dark'] as const) {
      const v = await open(themeKind);
      await show(v, sampleGraph());
      await node(v, `run:${RUN_TRAIN}`).hover();
      await v.page.screenshot({ path: path.join(out, `lineage-${themeKind.replace('vscode-', '')}.png`) });
      const background = await v.page.evaluate(() => (globalThis as unknown as BrowserGlobals).getComputedStyle((globalThis as unknown as BrowserGlobals).document.body).backgroundColor);
      assert.equal(background, themeKind === 'vscode-light' ? 'rgb(255, 255, 255)' : 'rgb(31, 31, 31)');
      assert.deepEqual(await v.violations(), []);
      assert.deepEqual(v.pageErrors, []);
    }
  });

  it('the offline page (runwise lineage --html) from file://: the graph drawn, no request, no violation', async (t) => {
    assert.ok(browser);
    const graph = sampleGraph();
    graph.nodes[0]!.label = `</script><script>alert(1)</script>`;
    const file = path.join(built.dir, 'lineage.html');
    writeFileSync(file, selfContainedViewHtml({ title: graph.title, assets: { script: readFileSync(built.bundle, 'utf8'), style: readFileSync(built.styles, 'utf8') }, dataId: LINEAGE_DATA_ID, data: graph }));
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    screenshotOnFailure(t, page, { dir: 'webview' });
    try {
      const requests: string[] = [];
      const errors: string[] = [];
      const dialogs: string[] = [];
      await page.route('**/*', (route) => {
        requests.push(route.request().url());
        return route.request().url().startsWith('file:') ? route.continue() : route.abort();
      });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.addInitScript(() => {
        const seen: string[] = [];
        (globalThis as { __violations?: string[] }).__violations = seen;
        (globalThis as unknown as BrowserGlobals).document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI}`));
      });
      const url = pathToFileURL(file).href;
      await page.goto(url, { waitUntil: 'load' });
      await page.waitForFunction(() => (globalThis as unknown as BrowserGlobals).document.body.dataset.rendered !== undefined);
      assert.equal(await page.locator('g.node').count(), 8);
      // Cut to fit the node; whole in its tooltip.
      assert.equal(await page.locator('g.node[data-id="data:data/raw.csv@aaaa"] text.label').textContent(), '</script><scr…t(1)</script>');
      assert.equal(await page.locator('g.node[data-id="data:data/raw.csv@aaaa"] title').textContent(), '</script><script>alert(1)</script>\naaaa');
      // Nodes select here (nothing to open them with): the highlight works offline too.
      await page.locator('g.node[data-id="version:churn/1"]').click();
      assert.match((await page.locator('g.node[data-id="version:churn/1"]').getAttribute('class')) ?? '', /\bselected\b/);
      await page.waitForTimeout(200);
      assert.deepEqual(requests, [url]);
      assert.deepEqual(errors, []);
      assert.deepEqual(dialogs, []);
      assert.deepEqual(await page.evaluate(() => (globalThis as { __violations?: string[] }).__violations), []);
    } finally {
      await page.close();
    }
  });
});
