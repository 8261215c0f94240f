/**
 * `runwise lineage`: the graph as JSON and as text around a version, a run and a file; usage and
 * user errors; `--html` through the built CLI (dist/cli.js, whose lineage bundle finds the built
 * view beside it: `npm run build` first, as the test layers do) writing one self-contained page;
 * `runwise dag --html` writing the pipeline graph with stage states the same way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { lineageOptions } from '../../core/cli/commands/lineage';
import { commandOptions, main } from '../../core/cli/main';
import { writeStageGroupRecord } from '../../core/pipeline/stageGroupRecords';
import { OUTPUTS_ARTIFACT } from '../../core/pipeline/stageTracking';
import { STAGE_TAG } from '../../core/tracker/model';
import { Tracker } from '../../core/tracker/tracker';
import type { LineageGraph } from '../../core/views/lineageGraphModel';
import { tempWorkspace } from '../support/tempWorkspace';
import { onnxBytes } from '../support/onnxBytes';

const repo = path.join(__dirname, '..', '..');

async function cli(ws: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main([...argv, '--workspace', ws], { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

/** data/train.csv → train → churn v1 (@champion); the training run named `<script>alert(1)</script>`. */
async function workspace(): Promise<{ ws: string; train: string }> {
  const ws = tempWorkspace('lineage-cli', { 'model.onnx': onnxBytes('bytes'), 'data/train.csv': 'a,b\n1,2\n' });
  const tracker = Tracker.open(ws);
  try {
    const train = tracker.createRun({ runName: '<script>alert(1)</script>', tags: [{ key: STAGE_TAG, value: 'train' }] }).info.runId;
    tracker.logInputs(train, [{ dataset: { name: 'data/train.csv', digest: 'abcd1234', sourceType: 'local', source: 'data/train.csv' }, tags: [] }]);
    await tracker.putArtifact(train, OUTPUTS_ARTIFACT, Buffer.from(JSON.stringify([{ path: 'model.onnx', kind: 'out', md5: 'ffff', size: 5 }])));
    tracker.updateRun(train, { status: 'FINISHED' });
    await tracker.registerModelFiles('churn', path.join(ws, 'model.onnx'), { runId: train, alias: 'champion' });
    return { ws, train };
  } finally {
    tracker.close();
  }
}

test('the command map lists the options the module takes', () => {
  assert.deepEqual(commandOptions('lineage'), lineageOptions);
});

test('--json: the graph around a version by number, by alias and the latest; around a run; around a file', async () => {
  const { ws, train } = await workspace();
  for (const ref of ['churn/1', 'churn@champion', 'churn']) {
    const r = await cli(ws, 'lineage', ref, '--json');
    assert.equal(r.code, 0, r.err);
    const g = JSON.parse(r.out) as LineageGraph;
    assert.equal(g.title, 'Lineage of churn v1');
    assert.equal(g.focus, 'version:churn/1');
    assert.deepEqual(g.nodes.map((n) => n.id).sort(), ['alias:churn@champion', 'data:data/train.csv@abcd1234', `run:${train}`, 'version:churn/1']);
  }
  const byRun = JSON.parse((await cli(ws, 'lineage', '--run', train.slice(0, 8), '--json')).out) as LineageGraph;
  assert.equal(byRun.focus, `run:${train}`);
  assert.ok(byRun.nodes.some((n) => n.id === 'data:model.onnx@ffff'));
  const byFile = JSON.parse((await cli(ws, 'lineage', '--file', 'data/train.csv', '--json')).out) as LineageGraph;
  assert.equal(byFile.focus, 'data:data/train.csv@abcd1234');
  assert.deepEqual(byFile.nodes.map((n) => n.id).sort(), ['alias:churn@champion', 'data:data/train.csv@abcd1234', 'data:model.onnx@ffff', `run:${train}`, 'version:churn/1']);
});

test('text: nodes upstream first, each with what feeds it; the starting node marked', async () => {
  const { ws, train } = await workspace();
  const r = await cli(ws, 'lineage', 'churn/1');
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trimEnd().split('\n');
  assert.equal(lines[0], 'Lineage of churn v1 (4 nodes, 3 links)');
  assert.match(lines[1]!, /^data\s+data\/train\.csv {2}\(abcd1234\)$/);
  assert.match(lines[2]!, /^run\s+train {2}\(<script>alert\(1\)<\/script> · finished · [0-9a-f]{8}\)$/);
  assert.match(lines[3]!, /^\s+from data\/train\.csv$/);
  assert.match(lines[4]!, /^version\s+churn v1 {2}\(sha256 [0-9a-f]{12}\) {2}←$/);
  // A run is named with its short id where it feeds something (two runs of one stage read alike).
  assert.equal(lines[5], `${' '.repeat(12)}from train ${train.slice(0, 8)}`);
  assert.match(lines[6]!, /^alias\s+@champion {2}\(churn\)$/);
});

test('errors: no start, two starts, an unknown version, a file outside the workspace, a bad --max-nodes', async () => {
  const { ws } = await workspace();
  let r = await cli(ws, 'lineage');
  assert.equal(r.code, 2);
  assert.match(r.err, /name one of/);
  r = await cli(ws, 'lineage', 'churn', '--run', 'abcd');
  assert.equal(r.code, 2);
  r = await cli(ws, 'lineage', 'churn/7');
  assert.equal(r.code, 1);
  assert.match(r.err, /churn/);
  assert.doesNotMatch(r.err, /internal error/);
  r = await cli(ws, 'lineage', '--file', '../../etc/passwd');
  assert.equal(r.code, 1);
  assert.match(r.err, /outside the workspace/);
  r = await cli(ws, 'lineage', '--file', 'data/nope.csv');
  assert.equal(r.code, 1);
  assert.match(r.err, /--file data\/nope\.csv: no such file \(data\/nope\.csv in the workspace\), and no run recorded it/);
  // With the folder recorded as a whole: a file in it gets the folder's lineage, a misspelt one is still refused.
  const t = Tracker.open(ws);
  const reader = t.createRun({ runName: 'reader' }).info.runId;
  t.logInputs(reader, [{ dataset: { name: 'data', digest: 'feed.dir', sourceType: 'local', source: 'data' }, tags: [] }]);
  t.close();
  const inFolder = await cli(ws, 'lineage', '--file', 'data/train.csv', '--json');
  assert.equal(inFolder.code, 0);
  r = await cli(ws, 'lineage', '--file', 'data/typo.csv');
  assert.equal(r.code, 1);
  assert.match(r.err, /--file data\/typo\.csv: no such file/);
  r = await cli(ws, 'lineage', 'churn', '--max-nodes', '0');
  assert.equal(r.code, 2);
  assert.match(r.err, /--max-nodes/);
});

test('--html through the built CLI: one page, the view and the graph inlined, a strict policy, no outside reference', async () => {
  const { ws } = await workspace();
  const out = path.join(ws, 'lineage.html');
  const printed = execFileSync(process.execPath, [path.join(repo, 'dist', 'cli.js'), 'lineage', 'churn@champion', '--html', out, '--workspace', ws], { encoding: 'utf8' });
  assert.match(printed, /^Lineage written to /);
  const html = readFileSync(out, 'utf8');
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
  assert.match(csp, /^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
  assert.match(html, /<title>Lineage of churn v1<\/title>/);
  const data = /<script type="application\/json" id="runwise-lineage-graph">(.*?)<\/script>/s.exec(html)?.[1];
  assert.ok(data, 'the graph is in the page');
  // The run's name stays inside the JSON block, its `<` escaped: nothing in it can end the element.
  assert.ok(!data.includes('<'));
  const graph = JSON.parse(data) as LineageGraph;
  assert.ok(graph.nodes.some((n) => n.detail.startsWith('<script>alert(1)</script>')));
  assert.doesNotMatch(html, /sourceMappingURL|<link |src="http/);
  // Without --html nothing is written and the text goes to stdout; a file that cannot be written is one line.
  writeFileSync(path.join(ws, 'blocker'), '');
  let failure = '';
  try {
    execFileSync(process.execPath, [path.join(repo, 'dist', 'cli.js'), 'lineage', 'churn', '--html', path.join(ws, 'blocker', 'x.html'), '--workspace', ws], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    failure = String((e as { stderr?: string }).stderr);
  }
  assert.match(failure, /^runwise: --html .*blocker\/x\.html: ENOTDIR/);
});

test('dag --html through the built CLI: the pipeline graph with each stage\'s state; a live runner\'s stage is running', () => {
  const ws = tempWorkspace('lineage-dag', {
    'data/raw.txt': 'a\n',
    'runwise.yaml': ['stages:', '  prepare:', '    cmd: cp data/raw.txt data/clean.txt', '    deps: [data/raw.txt]', '    outs: [data/clean.txt]', '  fit:', '    cmd: wc -l data/clean.txt > fit.txt', '    deps: [data/clean.txt]', '    outs: [fit.txt]', ''].join('\n'),
  });
  const cli = path.join(repo, 'dist', 'cli.js');
  const graphIn = (file: string) => JSON.parse(/<script type="application\/json" id="runwise-lineage-graph">(.*?)<\/script>/s.exec(readFileSync(file, 'utf8'))![1]!) as LineageGraph;
  const out = path.join(ws, 'dag.html');
  assert.match(execFileSync(process.execPath, [cli, 'dag', '--html', out, '--workspace', ws], { encoding: 'utf8' }), /^Pipeline graph written to /);
  let g = graphIn(out);
  assert.equal(g.mode, 'pipeline');
  assert.deepEqual(g.nodes.map((n) => [n.id, n.state, n.detail]), [
    ['stage:prepare', 'never-run', 'never run'],
    ['stage:fit', 'never-run', 'never run'],
  ]);
  assert.deepEqual(g.edges, [{ from: 'stage:prepare', to: 'stage:fit' }]);
  // This process stands for a `runwise run` in a terminal, running prepare now.
  writeStageGroupRecord(ws, { pgid: process.pid, stage: 'prepare', runId: 'c'.repeat(32) });
  execFileSync(process.execPath, [cli, 'dag', '--html', out, '--workspace', ws], { encoding: 'utf8' });
  g = graphIn(out);
  assert.equal(g.nodes[0]!.state, 'running');
  assert.match(g.nodes[0]!.detail, /^running \d+:\d\d$/);
  const both = (() => {
    try {
      execFileSync(process.execPath, [cli, 'dag', '--html', out, '--json', '--workspace', ws], { encoding: 'utf8', stdio: 'pipe' });
      return '';
    } catch (e) {
      return String((e as { stderr?: string }).stderr);
    }
  })();
  assert.match(both, /--html writes a page/);
});
