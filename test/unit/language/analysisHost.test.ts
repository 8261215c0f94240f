/**
 * The analysis host below the protocol: open/change/close sequences on real temporary workspaces,
 * incremental edits giving exactly what a fresh parse gives, unsaved text seen by the documents
 * that read it, files changing on disk, cancellation, folders; and the workspace's pipeline files
 * as one graph (test/fixtures/language/multi-pipeline): dependencies written by another file,
 * outputs declared in two files, cycles across files, what the walk skips.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AnalysisHost } from '../../../core/language/host/analysisHost';
import type { AnalysisDiagnostic } from '../../../core/language/languageTypes';
import { dvcIgnore } from '../../../core/language/pipeline/workspacePipelines';
import { parseYaml } from '../../../core/language/yaml/parseYaml';
import { tempWorkspace } from '../../support/tempWorkspace';
import { FIXTURES } from './languageHarness';

const PARAMS = 'train:\n  lr: 0.01\n';
const PIPELINE = [
  'stages:',
  '  train:',
  '    cmd: python train.py --lr ${train.lr}',
  '    deps:',
  '      - train.py',
  '    params:',
  '      - train.lr',
  '      - train.epochs',
  '    outs:',
  '      - model.pkl',
  '',
].join('\n');

function write(ws: string, rel: string, text: string): void {
  mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
  writeFileSync(path.join(ws, rel), text);
}

function uriOf(ws: string, rel: string): string {
  return pathToFileURL(path.join(ws, ...rel.split('/'))).href;
}

function basicWorkspace(): string {
  const ws = tempWorkspace('host');
  write(ws, 'params.yaml', PARAMS);
  write(ws, 'train.py', 'print(1)\n');
  write(ws, 'dvc.yaml', PIPELINE);
  return ws;
}

/** Copy of a multi-pipeline fixture in a fresh folder (so tests may change files on disk). */
function fixtureWorkspace(name: string): string {
  const ws = tempWorkspace(`multi-${name}`);
  cpSync(path.join(FIXTURES, 'multi-pipeline', name), ws, { recursive: true });
  return ws;
}

const codes = (list: AnalysisDiagnostic[]) => list.map((d) => d.code);

/** `code@line:col message` of each diagnostic, for comparing in one assertion. */
function described(text: string, list: AnalysisDiagnostic[]): string[] {
  return list.map((d) => {
    const before = text.slice(0, d.start);
    const line = before.split('\n').length;
    const col = d.start - before.lastIndexOf('\n');
    return `${d.code}@${line}:${col} ${d.message}`;
  });
}

function hostWithOpen(ws: string, rel: string, text?: string): { host: AnalysisHost; uri: string } {
  const host = new AnalysisHost({ folders: [ws] });
  const uri = uriOf(ws, rel);
  host.open(uri, 1, text ?? require('node:fs').readFileSync(path.join(ws, rel), 'utf8'));
  return { host, uri };
}

describe('open, change, close', () => {
  test('a document is analysed once per version, in file offsets', () => {
    const ws = basicWorkspace();
    const { host, uri } = hostWithOpen(ws, 'dvc.yaml');
    const a = host.analysis(uri)!;
    assert.equal(a.relPath, 'dvc.yaml');
    assert.equal(a.doc?.kind, 'dvc-pipeline');
    assert.equal(host.analysis(uri), a, 'the same version is not analysed twice');
    const found = a.diagnostics();
    assert.deepEqual(codes(found), ['missing-param']);
    assert.equal(PIPELINE.slice(found[0]!.start, found[0]!.end), 'train.epochs');
    host.change(uri, 2, [{ start: PIPELINE.indexOf('      - train.epochs\n'), end: PIPELINE.indexOf('    outs:'), text: '' }], PIPELINE.replace('      - train.epochs\n', ''));
    const b = host.analysis(uri)!;
    assert.notEqual(b, a);
    assert.equal(b.version, 2);
    assert.deepEqual(b.diagnostics(), []);
    host.close(uri);
    assert.equal(host.analysis(uri), undefined);
    assert.deepEqual(host.openDocuments(), []);
  });

  test('incremental edits give exactly what a fresh parse and a fresh host give', () => {
    const ws = basicWorkspace();
    const stages = Array.from({ length: 40 }, (_, i) =>
      [`  s${i}:`, `    cmd: python train.py ${i}`, '    deps:', '      - train.py', '    outs:', `      - out/${i}.pkl`].join('\n'),
    );
    let text = `stages:\n${stages.join('\n')}\n`;
    const { host, uri } = hostWithOpen(ws, 'dvc.yaml', text);
    assert.deepEqual(host.analysis(uri)!.diagnostics(), []);
    // Edits in several places, some breaking the YAML, some several to one version.
    const steps: { find: string; replace: string }[] = [
      { find: 'python train.py 7', replace: 'python train.py 77' },
      { find: '  s12:\n', replace: '  s12:\n    bogus: 1\n' },
      { find: '      - out/20.pkl', replace: '      - [out/20.pkl' },
      { find: '      - [out/20.pkl', replace: '      - out/20.pkl' },
      { find: '      - train.py\n    outs:\n      - out/39.pkl', replace: '      - missing.py\n    outs:\n      - out/39.pkl' },
      { find: 'stages:\n', replace: 'vars:\n  - x: 1\nstages:\n' },
    ];
    let version = 1;
    for (const step of steps) {
      const start = text.indexOf(step.find);
      assert.ok(start >= 0, step.find);
      const next = text.slice(0, start) + step.replace + text.slice(start + step.find.length);
      // Sent as two edits (delete, then insert) in the same version, as an editor may.
      host.change(uri, ++version, [{ start, end: start + step.find.length, text: '' }, { start, end: start, text: step.replace }], next);
      text = next;
      const a = host.analysis(uri)!;
      assert.equal(a.doc!.yaml.text, text);
      assert.deepEqual(JSON.parse(JSON.stringify(a.doc!.yaml.root)), JSON.parse(JSON.stringify(parseYaml(text).root)), step.find);
      const fresh = new AnalysisHost({ folders: [ws] });
      fresh.open(uri, 1, text);
      assert.deepEqual(described(text, a.diagnostics()), described(text, fresh.analysis(uri)!.diagnostics()), step.find);
      assert.deepEqual(a.foldingRanges(), fresh.analysis(uri)!.foldingRanges());
    }
    assert.deepEqual(
      codes(host.analysis(uri)!.diagnostics()).sort(),
      ['missing-path', 'unknown-key'],
      'the last version has the unknown key and the missing dependency',
    );
  });

  test('a whole-text change (no edits) is analysed like any other version', () => {
    const ws = basicWorkspace();
    const { host, uri } = hostWithOpen(ws, 'dvc.yaml');
    host.change(uri, 2, undefined, 'stages:\n  x:\n    cmd: echo\n    nope: 1\n');
    assert.deepEqual(codes(host.analysis(uri)!.diagnostics()), ['unknown-key']);
  });

  test('unsaved params text is seen by the pipeline that reads it, which is named for re-validation', () => {
    const ws = basicWorkspace();
    const { host, uri } = hostWithOpen(ws, 'dvc.yaml');
    assert.deepEqual(codes(host.analysis(uri)!.diagnostics()), ['missing-param']);
    const paramsUri = uriOf(ws, 'params.yaml');
    assert.deepEqual(host.open(paramsUri, 1, PARAMS), [], 'opening with the disk text changes nothing the pipeline read');
    const edited = `${PARAMS}  epochs: 3\n`;
    const revalidate = host.change(paramsUri, 2, [{ start: PARAMS.length, end: PARAMS.length, text: '  epochs: 3\n' }], edited);
    assert.deepEqual(revalidate, [uri]);
    assert.deepEqual(host.analysis(uri)!.diagnostics(), []);
    // Closed without saving: the disk text counts again.
    assert.deepEqual(host.close(paramsUri), [uri]);
    assert.deepEqual(codes(host.analysis(uri)!.diagnostics()), ['missing-param']);
  });

  test('a params file changed on disk re-validates the pipeline that reads it, not the others', () => {
    const ws = basicWorkspace();
    write(ws, 'notes/runwise.yaml', 'stages:\n  a:\n    cmd: echo\n');
    const { host, uri } = hostWithOpen(ws, 'dvc.yaml');
    const other = uriOf(ws, 'notes/runwise.yaml');
    host.open(other, 1, 'stages:\n  a:\n    cmd: echo\n');
    host.analysis(other)!.diagnostics();
    assert.deepEqual(codes(host.analysis(uri)!.diagnostics()), ['missing-param']);
    write(ws, 'params.yaml', `${PARAMS}  epochs: 3\n`);
    const revalidate = host.filesChanged([{ path: path.join(ws, 'params.yaml'), kind: 'changed' }]);
    assert.deepEqual(revalidate, [uri]);
    assert.deepEqual(host.analysis(uri)!.diagnostics(), []);
    // A file created may be a dependency that was missing: every open document is named.
    assert.deepEqual(host.filesChanged([{ path: path.join(ws, 'new.txt'), kind: 'created' }]).sort(), [uri, other].sort());
  });

  test('a cancelled analysis reports no pipeline findings and is not kept', () => {
    const ws = basicWorkspace();
    const { host, uri } = hostWithOpen(ws, 'dvc.yaml');
    const a = host.analysis(uri)!;
    assert.deepEqual(a.diagnostics(() => true), [], 'cancelled at once: nothing pipeline-specific');
    assert.deepEqual(codes(a.diagnostics()), ['missing-param'], 'the next request builds the full analysis');
    let polls = 0;
    const cancelledSoon = () => ++polls > 1;
    const partial = a.completion(PIPELINE.indexOf('      - train.py') + 8, cancelledSoon);
    assert.ok(Array.isArray(partial));
  });

  test('nested folders: the innermost wins; a loose file is its own folder; untitled is not analysed', () => {
    const ws = basicWorkspace();
    write(ws, 'inner/dvc.yaml', PIPELINE);
    write(ws, 'inner/train.py', '');
    const host = new AnalysisHost({ folders: [ws, path.join(ws, 'inner')] });
    const inner = uriOf(ws, 'inner/dvc.yaml');
    host.open(inner, 1, PIPELINE);
    assert.equal(host.analysis(inner)!.relPath, 'dvc.yaml');
    assert.equal(host.analysis(inner)!.rootPath, path.join(ws, 'inner'));
    // inner has no params.yaml: the params file is missing there, and `${train.lr}` with it.
    assert.deepEqual(codes(host.analysis(inner)!.diagnostics()), ['unresolved-variable', 'missing-params-file', 'missing-params-file']);

    const loose = tempWorkspace('loose');
    write(loose, 'runwise.yaml', 'stages:\n  a:\n    cmd: echo\n    deps:\n      - gone.txt\n');
    const looseUri = uriOf(loose, 'runwise.yaml');
    host.open(looseUri, 1, 'stages:\n  a:\n    cmd: echo\n    deps:\n      - gone.txt\n');
    assert.equal(host.analysis(looseUri)!.relPath, 'runwise.yaml');
    assert.deepEqual(codes(host.analysis(looseUri)!.diagnostics()), ['missing-path']);

    host.open('untitled:Untitled-1', 1, 'stages: {}\n');
    assert.equal(host.analysis('untitled:Untitled-1')!.doc, undefined);
    assert.deepEqual(host.analysis('untitled:Untitled-1')!.diagnostics(), []);
  });
});

describe('pipeline files as one graph', () => {
  test('a dependency another pipeline file writes is not missing, and its definition is that output', () => {
    const ws = fixtureWorkspace('cross-deps');
    const { host, uri } = hostWithOpen(ws, 'train/dvc.yaml');
    const a = host.analysis(uri)!;
    const text = a.lines.text;
    assert.deepEqual(described(text, a.diagnostics()), ["missing-path@7:9 'data/raw.csv' does not exist and no stage produces it."]);
    const defs = a.definition(text.indexOf('../data/prepared/train.csv') + 3);
    const producer = require('node:fs').readFileSync(path.join(ws, 'dvc.yaml'), 'utf8') as string;
    assert.deepEqual(defs, [{ relPath: 'dvc.yaml', span: { start: producer.indexOf('data/prepared'), end: producer.indexOf('data/prepared') + 'data/prepared'.length } }]);
    // A Runwise pipeline and a dvc.yaml are one graph too.
    const evaluate = uriOf(ws, 'evaluate.pipeline.yaml');
    host.open(evaluate, 1, require('node:fs').readFileSync(path.join(ws, 'evaluate.pipeline.yaml'), 'utf8'));
    const e = host.analysis(evaluate)!;
    assert.deepEqual(
      e.diagnostics().map((d) => `${d.code} ${e.lines.text.slice(d.start, d.end)}`),
      ['missing-path train/model.onnx'],
    );
  });

  test('without the other file the dependency is missing again (deleted on disk)', () => {
    const ws = fixtureWorkspace('cross-deps');
    const { host, uri } = hostWithOpen(ws, 'train/dvc.yaml');
    assert.equal(host.analysis(uri)!.diagnostics().length, 1);
    require('node:fs').rmSync(path.join(ws, 'dvc.yaml'));
    assert.deepEqual(host.filesChanged([{ path: path.join(ws, 'dvc.yaml'), kind: 'deleted' }]), [uri]);
    const text = host.analysis(uri)!.lines.text;
    assert.deepEqual(
      host.analysis(uri)!.diagnostics().map((d) => text.slice(d.start, d.end)),
      ['../data/prepared/train.csv', '../data/raw.csv'],
    );
  });

  test('one output in two files, or inside another file\'s output, is reported in each file', () => {
    const ws = fixtureWorkspace('overlap');
    const host = new AnalysisHost({ folders: [ws] });
    const read = (rel: string) => require('node:fs').readFileSync(path.join(ws, rel), 'utf8') as string;
    const report: Record<string, string[]> = {};
    for (const rel of ['a/dvc.yaml', 'b/dvc.yaml', 'runwise.yaml']) {
      host.open(uriOf(ws, rel), 1, read(rel));
      report[rel] = described(read(rel), host.analysis(uriOf(ws, rel))!.diagnostics());
    }
    assert.deepEqual(report, {
      'a/dvc.yaml': [
        "duplicate-output@5:9 'shared/features.csv' is also an output of stage 'features' in 'b/dvc.yaml'.",
      ],
      'b/dvc.yaml': [
        "duplicate-output@5:9 'shared/features.csv' is also an output of stage 'features' in 'a/dvc.yaml'.",
      ],
      'runwise.yaml': ["duplicate-output@5:9 'shared' contains 'shared/features.csv', an output of stage 'features' in 'a/dvc.yaml'."],
    });
    // The nested output is reported once per span: the first finding there wins.
    // Editing b so it writes elsewhere re-validates a (and the Runwise pipeline), and a is clean of b.
    const b = uriOf(ws, 'b/dvc.yaml');
    const bText = read('b/dvc.yaml');
    const at = bText.indexOf('../shared/features.csv');
    const revalidate = host.change(b, 2, [{ start: at, end: at + '../shared/features.csv'.length, text: '../b-features.csv' }], bText.replace('../shared/features.csv', '../b-features.csv'));
    assert.deepEqual(revalidate.sort(), [uriOf(ws, 'a/dvc.yaml'), uriOf(ws, 'runwise.yaml')].sort());
    assert.deepEqual(host.analysis(b)!.diagnostics(), []);
    assert.deepEqual(codes(host.analysis(uriOf(ws, 'a/dvc.yaml'))!.diagnostics()), ['duplicate-output']);
    assert.match(host.analysis(uriOf(ws, 'a/dvc.yaml'))!.diagnostics()[0]!.message, /inside 'shared', an output of stage 'collect' in 'runwise.yaml'/);
  });

  test('a cycle across files is reported on each participating stage, in each file', () => {
    const ws = fixtureWorkspace('cycle');
    const host = new AnalysisHost({ folders: [ws] });
    const read = (rel: string) => require('node:fs').readFileSync(path.join(ws, rel), 'utf8') as string;
    const found: string[] = [];
    for (const rel of ['dvc.yaml', 'sub/dvc.yaml']) {
      host.open(uriOf(ws, rel), 1, read(rel));
      for (const d of described(read(rel), host.analysis(uriOf(ws, rel))!.diagnostics())) found.push(`${rel} ${d}`);
    }
    assert.deepEqual(found, [
      "dvc.yaml stage-cycle@5:9 Dependency cycle across pipeline files: 'second.txt' is written by 'sub/dvc.yaml:second', which depends on this stage (dvc.yaml:first → sub/dvc.yaml:second → dvc.yaml:first).",
      "sub/dvc.yaml stage-cycle@5:9 Dependency cycle across pipeline files: 'first.txt' is written by 'dvc.yaml:first', which depends on this stage (dvc.yaml:first → sub/dvc.yaml:second → dvc.yaml:first).",
    ]);
  });

  test('a long cycle across files has a bounded message', () => {
    const ws = tempWorkspace('long-cycle');
    const n = 60;
    for (let i = 0; i < n; i++) {
      write(ws, `p${i}/dvc.yaml`, `stages:\n  s:\n    cmd: echo\n    deps:\n      - ../f${(i + n - 1) % n}.txt\n    outs:\n      - ../f${i}.txt\n`);
    }
    const { host, uri } = hostWithOpen(ws, 'p7/dvc.yaml');
    const found = host.analysis(uri)!.diagnostics();
    assert.deepEqual(codes(found), ['stage-cycle']);
    assert.match(found[0]!.message, /… \(55 more\) …/);
    assert.ok(found[0]!.message.length < 400, found[0]!.message);
  });

  test('hidden folders, node_modules, virtual environments and .dvcignore are not part of the graph', () => {
    const ws = fixtureWorkspace('ignored');
    const { host, uri } = hostWithOpen(ws, 'dvc.yaml');
    assert.deepEqual(host.pipelinesOf(uri)!.files(), ['dvc.yaml']);
    const text = host.analysis(uri)!.lines.text;
    // legacy.csv is written only by ignored pipelines: missing; out.csv is declared once.
    assert.deepEqual(described(text, host.analysis(uri)!.diagnostics()), ["missing-path@9:9 'legacy.csv' does not exist and no stage produces it."]);
  });

  test('an edit to one pipeline file summarises no other file again', () => {
    const ws = tempWorkspace('summaries');
    for (let i = 0; i < 20; i++) write(ws, `p${i}/dvc.yaml`, `stages:\n  s:\n    cmd: echo\n    outs:\n      - out${i}.txt\n`);
    const { host, uri } = hostWithOpen(ws, 'p3/dvc.yaml');
    host.analysis(uri)!.diagnostics();
    const pipelines = host.pipelinesOf(uri)!;
    const built = pipelines.summariesBuilt;
    assert.equal(built, 19, 'every file but the open one, which is summarised from its own analysis');
    const text = host.analysis(uri)!.lines.text;
    const at = text.indexOf('out3.txt');
    host.change(uri, 2, [{ start: at, end: at + 4, text: '../p4/out4' }], text.replace('out3.txt', '../p4/out4.txt'));
    assert.deepEqual(codes(host.analysis(uri)!.diagnostics()), ['duplicate-output']);
    assert.equal(pipelines.summariesBuilt, built, 'the edited file came from its analysis; no other file was read again');
    write(ws, 'p9/dvc.yaml', 'stages:\n  s:\n    cmd: echo\n    outs:\n      - out9b.txt\n');
    host.filesChanged([{ path: path.join(ws, 'p9/dvc.yaml'), kind: 'changed' }]);
    host.analysis(uri)!.diagnostics();
    assert.equal(pipelines.summariesBuilt, built + 1, 'a file changed on disk is summarised again, alone');
  });
});

describe('what an edit recomputes', () => {
  test('an edit that changes an output re-checks the other file\'s duplicate; one that changes no path recomputes no cross-file fact', () => {
    const ws = tempWorkspace('facts');
    const a = 'stages:\n  a:\n    cmd: echo a\n    outs:\n      - ../shared.txt\n';
    const b = 'stages:\n  b:\n    cmd: echo b\n    outs:\n      - ../b.txt\n';
    write(ws, 'a/dvc.yaml', a);
    write(ws, 'b/dvc.yaml', b);
    const host = new AnalysisHost({ folders: [ws] });
    const aUri = uriOf(ws, 'a/dvc.yaml');
    const bUri = uriOf(ws, 'b/dvc.yaml');
    host.open(aUri, 1, a);
    host.open(bUri, 1, b);
    assert.deepEqual(host.analysis(aUri)!.diagnostics(), []);
    assert.deepEqual(host.analysis(bUri)!.diagnostics(), []);
    const pipelines = host.pipelinesOf(aUri)!;
    const computed = pipelines.factsComputed;

    // b now writes a's output: a is named for re-validation and gets the duplicate.
    const at = b.indexOf('../b.txt');
    const b2 = b.replace('../b.txt', '../shared.txt');
    assert.deepEqual(host.change(bUri, 2, [{ start: at, end: at + '../b.txt'.length, text: '../shared.txt' }], b2), [aUri]);
    assert.deepEqual(codes(host.analysis(bUri)!.diagnostics()), ['duplicate-output']);
    assert.deepEqual(described(a, host.analysis(aUri)!.diagnostics()), ["duplicate-output@5:9 'shared.txt' is also an output of stage 'b' in 'b/dvc.yaml'."]);
    assert.equal(pipelines.factsComputed, computed + 1, 'the output changed: the facts are computed again, once');

    // A command edit that also moves the output down a line: same paths, facts kept, spans current.
    const b3 = b2.replace('    cmd: echo b\n', '    cmd: echo b --fast\n    # the output below\n');
    host.change(bUri, 3, undefined, b3);
    assert.deepEqual(described(b3, host.analysis(bUri)!.diagnostics()), ["duplicate-output@6:9 'shared.txt' is also an output of stage 'a' in 'a/dvc.yaml'."]);
    assert.deepEqual(described(a, host.analysis(aUri)!.diagnostics()), ["duplicate-output@5:9 'shared.txt' is also an output of stage 'b' in 'b/dvc.yaml'."]);
    // a's definition of the shared output goes to b's output where it is now.
    const producers = pipelines.producersOf('shared.txt', 'a/dvc.yaml');
    assert.deepEqual(producers.map((p) => `${p.relPath}:${p.stage} ${b3.slice(p.span.start, p.span.end)}`), ['b/dvc.yaml:b ../shared.txt']);
    assert.equal(pipelines.factsComputed, computed + 1, 'no path changed: no cross-file fact computed again');

    // Back to its own output: a is clean again.
    host.change(bUri, 4, undefined, b);
    assert.deepEqual(host.analysis(bUri)!.diagnostics(), []);
    assert.deepEqual(host.analysis(aUri)!.diagnostics(), []);
    assert.equal(pipelines.factsComputed, computed + 2);
  });

  test('an edit rebuilds only the stages it touched, and findings stay what a fresh host gives', () => {
    const ws = basicWorkspace();
    const stages = Array.from({ length: 30 }, (_, i) =>
      [`  s${i}:`, `    cmd: python train.py ${i}`, '    deps:', '      - train.py', `      - ${i % 3 ? 'params.yaml' : `missing${i}.csv`}`, '    outs:', `      - out/${i}.pkl`].join('\n'),
    );
    let text = `stages:\n${stages.join('\n')}\n`;
    const { host, uri } = hostWithOpen(ws, 'dvc.yaml', text);
    const first = host.analysis(uri)!.pipelineIndex()!;
    assert.deepEqual(codes(host.analysis(uri)!.diagnostics()), Array(10).fill('missing-path'));
    // Same length (the parse reuses every other block): all other stages are taken over.
    const at = text.indexOf('train.py 17');
    const next = text.slice(0, at) + 'Train.py 17' + text.slice(at + 'train.py 17'.length);
    host.change(uri, 2, [{ start: at, end: at + 1, text: 'T' }], next);
    const second = host.analysis(uri)!.pipelineIndex()!;
    const kept = second.stages.filter((d, i) => d === first.stages[i]).length;
    assert.equal(kept, 29, 'every stage but the edited one is the previous version\'s');
    assert.equal(second.graph, first.graph, 'same paths: the same graph');
    // An edit that adds a dependency on another stage's output: the graph is built again.
    text = next;
    const dep = text.indexOf('      - missing3.csv');
    const third = text.slice(0, dep) + '      - out/2.pkl\n' + text.slice(dep);
    host.change(uri, 3, [{ start: dep, end: dep, text: '      - out/2.pkl\n' }], third);
    assert.notEqual(host.analysis(uri)!.pipelineIndex()!.graph, first.graph);
    const fresh = new AnalysisHost({ folders: [ws] });
    fresh.open(uri, 1, third);
    assert.deepEqual(described(third, host.analysis(uri)!.diagnostics()), described(third, fresh.analysis(uri)!.diagnostics()));
    // A missing dependency created on disk is seen by the stages taken over.
    write(ws, 'missing6.csv', '');
    host.filesChanged([{ path: path.join(ws, 'missing6.csv'), kind: 'created' }]);
    assert.equal(host.analysis(uri)!.diagnostics().filter((d) => d.message.includes('missing6.csv')).length, 0);
  });

  test('a params file open in an editor is read from its current parse', () => {
    const ws = basicWorkspace();
    const { host, uri } = hostWithOpen(ws, 'dvc.yaml');
    const paramsUri = uriOf(ws, 'params.yaml');
    const edited = `${PARAMS}  epochs: 3\n`;
    host.open(paramsUri, 1, PARAMS);
    host.change(paramsUri, 2, [{ start: PARAMS.length, end: PARAMS.length, text: '  epochs: 3\n' }], edited);
    const params = host.analysis(paramsUri)!;
    const index = host.analysis(uri)!.pipelineIndex()!;
    assert.equal(index.paramsFile('params.yaml')!.doc, params.doc!.yaml, 'the editor\'s parse, not a second one');
    assert.deepEqual(host.analysis(uri)!.diagnostics(), []);
  });
});

test('.dvcignore simple patterns', () => {
  const ignored = dvcIgnore('# comment\nlegacy/\n/build\n*.tmp\ndata/**/cache\n!keep\n');
  assert.equal(ignored('legacy'), true);
  assert.equal(ignored('a/legacy/dvc.yaml'), true);
  assert.equal(ignored('build/dvc.yaml'), true);
  assert.equal(ignored('src/build/dvc.yaml'), false, 'a leading / anchors at the root');
  assert.equal(ignored('x/y.tmp'), true);
  assert.equal(ignored('data/a/b/cache/dvc.yaml'), true);
  assert.equal(ignored('data/cache'), true);
  assert.equal(ignored('src/dvc.yaml'), false);
  assert.equal(dvcIgnore(undefined)('anything'), false);
  // The last matching pattern decides: a negation takes back what an earlier pattern ignored.
  const negated = dvcIgnore('*.log\n!keep.log\n');
  assert.equal(negated('a/skip.log'), true);
  assert.equal(negated('a/keep.log'), false);
  assert.equal(dvcIgnore('!keep.log\n*.log\n')('keep.log'), true, 'a later pattern ignores it again');
});
