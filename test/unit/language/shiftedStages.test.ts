/**
 * Edits that change the text's length: the stages after the edit are shifted copies of the
 * previous version's (blockParse.ts, shiftedFrom), moved rather than built again
 * (pipelineIndex.ts, movedStage), with their findings shifted (pipelineDiagnostics.ts). For random
 * edits (insert, delete, replace, several lines, several edits per change) on a realistic
 * pipeline (bench/lsp/generateDvcYaml.ts plus stages with matrix, inline foreach, stage vars,
 * wdir and findings of every kind), the incremental host must give exactly what a fresh host gives
 * on the same text: the same diagnostics, and an index whose stages refer to the same places.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { generateDvcYaml } from '../../../bench/lsp/generateDvcYaml';
import { AnalysisHost } from '../../../core/language/host/analysisHost';
import { movedStage, type PipelineIndex } from '../../../core/language/pipeline/pipelineIndex';
import { asMap, valueOf } from '../../../core/language/yaml/yamlAccess';
import { tempWorkspace } from '../../support/tempWorkspace';

const PARAMS = [
  'prepare:',
  '  seed: 1',
  '  split: 0.2',
  'featurize:',
  '  max_features: 100',
  '  ngrams: 1',
  'train:',
  '  seed: 1',
  '  n_est: 50',
  '  min_split: 0.01',
  'datasets:',
  '  - name: us',
  '    path: data/us.csv',
  '  - name: eu',
  '    path: data/eu.csv',
  '',
].join('\n');

/** Stages beyond the generated ones: every kind of scope and finding a moved stage must keep right. */
const EXTRA_STAGES = [
  '  grid:',
  '    matrix:',
  '      model: [cnn, rnn]',
  '      size: [16, 32]',
  '    cmd: python src/train.py ${item.model} ${item.size} ${item.missing}',
  '    deps: [src/train.py, data/${item.model}.csv]',
  '    outs: [models/${key}.pkl]',
  '  sweep:',
  '    foreach:',
  '      - {name: a, lr: 1}',
  '      - {name: b, lr: 2}',
  '    do:',
  '      cmd: python src/train.py ${item.lr} ${item.nope}',
  '      vars:',
  '        - local: {depth: 3}',
  '        - stage_vars.yaml',
  '      deps: [src/train.py]',
  '      params: [train.seed, train.absent, {other.yaml: [x.y]}]',
  '      outs: [sweep/${item.name}.json]',
  '  bad.name:',
  '    cmd: echo ${unclosed',
  '    wdir: ../outside',
  '    deps: [ds://nowhere, missing/file.txt, ../../etc/passwd]',
  '    outs: [eval/us/metrics.json]',
  '  broken:',
  '    outz: [x]',
  '    frozen: maybe',
  '    deps: {a: 1}',
].join('\n');

function pipelineText(lines: number): string {
  const text = generateDvcYaml(lines);
  const at = text.indexOf('stages:\n') + 'stages:\n'.length;
  const mid = text.indexOf('\n  ', Math.floor(text.length / 2)) + 1;
  return text.slice(0, at) + EXTRA_STAGES + '\n' + text.slice(at, mid) + EXTRA_STAGES.replace(/^ {2}(\w[\w.]*):/gm, '  $1_2:') + '\n' + text.slice(mid);
}

function workspace(text: string): string {
  return tempWorkspace('shifted', {
    'dvc.yaml': text,
    'params.yaml': PARAMS,
    'stage_vars.yaml': 'extra: 1\n',
    'src/prepare.py': '',
    'src/featurization.py': '',
    'src/train.py': '',
    'src/evaluate.py': '',
    'src/export.py': '',
    'data/data.xml': '',
    'data/us.csv': '',
    'models/model.pkl': '',
  });
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

const SNIPPETS = ['x', ' ', '${item.path}', '\n', '\n    # note', '\n      - src/extra.py', ': ', '-', '"', '{', '\n  added:\n    cmd: echo hi\n', 'data/us.csv'];

/** One random edit of `text`: mostly typing and deleting inside lines, sometimes several lines at once. */
function randomEdit(text: string, next: () => number): Edit {
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  const at = Math.floor(next() * (text.length + 1));
  const r = next();
  if (r < 0.35) return { start: at, end: at, text: pick(SNIPPETS) };
  if (r < 0.6) return { start: at, end: Math.min(text.length, at + 1 + Math.floor(next() * 3)), text: '' };
  if (r < 0.75) {
    // Several whole lines removed or duplicated.
    const lineStart = text.lastIndexOf('\n', at - 1) + 1;
    let lineEnd = lineStart;
    for (let n = 1 + Math.floor(next() * 4); n > 0 && lineEnd < text.length; n--) lineEnd = text.indexOf('\n', lineEnd) + 1 || text.length;
    return next() < 0.5 ? { start: lineStart, end: lineEnd, text: '' } : { start: lineStart, end: lineStart, text: text.slice(lineStart, lineEnd) };
  }
  return { start: at, end: Math.min(text.length, at + Math.floor(next() * 40)), text: pick(SNIPPETS) };
}

function apply(text: string, e: Edit): string {
  return text.slice(0, e.start) + e.text + text.slice(e.end);
}

/** The stages of an index with every YAML node as its kind and span: what features read from it. */
function indexShape(index: PipelineIndex | undefined): unknown {
  if (!index) return undefined;
  const shape = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (depth > 12) return '…';
    if (v instanceof Map) return [...v].map(([k, x]) => [k, shape(x, depth + 1)]);
    if (Array.isArray(v)) return v.map((x) => shape(x, depth + 1));
    const o = v as Record<string, unknown>;
    if (typeof o.kind === 'string' && ['map', 'seq', 'scalar', 'alias'].includes(o.kind) && typeof o.start === 'number') return `${o.kind}@${o.start}-${o.end}`;
    if ('key' in o && 'colon' in o) return `pair@${o.start}-${o.end}`;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) if (x !== undefined && k !== 'decl') out[k] = shape(x, depth + 1);
    return out;
  };
  return { stages: index.stages.map((d) => shape(d, 0)), varsEntries: shape(index.varsEntries, 0), graph: index.graph.stages };
}

describe('edits that change the length: shifted stages', () => {
  for (const seed of [1, 2, 3]) {
    test(`random edits give what a fresh analysis gives (seed ${seed})`, () => {
      const pristine = pipelineText(700);
      let text = pristine;
      const ws = workspace(text);
      const uri = pathToFileURL(path.join(ws, 'dvc.yaml')).href;
      const host = new AnalysisHost({ folders: [ws] });
      host.open(uri, 1, text);
      host.analysis(uri)!.diagnostics();
      const next = rng(seed);
      let version = 1;
      let moved = 0;
      let lengthChanged = 0;
      for (let step = 0; step < 60; step++) {
        // Random edits break the YAML more and more (an unclosed quote swallows what follows):
        // now and then the editor's whole text goes back to the first version, without edits.
        if (step % 12 === 11) {
          lengthChanged++;
          text = pristine;
          host.change(uri, ++version, undefined, text);
        }
        // One or two edits per change; now and then two changes before the next analysis.
        for (let change = next() < 0.15 ? 2 : 1; change > 0; change--) {
          const edits: Edit[] = [];
          let t = text;
          for (let n = next() < 0.2 ? 2 : 1; n > 0; n--) {
            const e = randomEdit(t, next);
            edits.push(e);
            t = apply(t, e);
          }
          if (t.length !== text.length) lengthChanged++;
          text = t;
          host.change(uri, ++version, edits, text);
        }
        const analysis = host.analysis(uri)!;
        const index = analysis.pipelineIndex();
        // Now and then a version is indexed but its diagnostics are never asked for (the server
        // indexes each version, and publishes after a pause in typing): the next one reaches back.
        if (next() < 0.2) continue;
        const got = analysis.diagnostics();
        for (const d of index?.stages ?? []) if (movedStage(d)) moved++;

        const fresh = new AnalysisHost({ folders: [ws] });
        fresh.open(uri, 1, text);
        const want = fresh.analysis(uri)!;
        assert.deepEqual(got, want.diagnostics(), `diagnostics after step ${step}`);
        assert.deepEqual(indexShape(index), indexShape(want.pipelineIndex()), `pipeline index after step ${step}`);
        // The stages are the current document's own pairs, not a previous version's.
        const pairs = asMap(valueOf(asMap(analysis.doc!.yaml.root), 'stages'))?.items ?? [];
        if (index?.complete) assert.deepEqual(index.stages.map((d) => d.pair), pairs.slice(0, index.stages.length), `stage pairs after step ${step}`);
      }
      // The case under test happened: stages were moved, not only built or taken over as they were.
      assert.ok(lengthChanged > 20, `${lengthChanged} length-changing changes`);
      assert.ok(moved > 100, `${moved} stages moved`);
    });
  }

  test('typing a character, then deleting it, before most stages: they are moved, with their findings', () => {
    let text = pipelineText(2000);
    const ws = workspace(text);
    const uri = pathToFileURL(path.join(ws, 'dvc.yaml')).href;
    const host = new AnalysisHost({ folders: [ws] });
    host.open(uri, 1, text);
    const before = host.analysis(uri)!.diagnostics();
    for (const code of ['missing-path', 'unresolved-variable', 'unknown-key', 'wrong-type', 'missing-key']) assert.ok(before.some((d) => d.code === code), `the pipeline has ${code} findings to move`);
    const at = text.indexOf('python ', text.indexOf('stages:')) + 1;
    for (let i = 0; i < 6; i++) {
      const edit = i % 2 ? { start: at, end: at + 1, text: '' } : { start: at, end: at, text: 'x' };
      text = apply(text, edit);
      host.change(uri, i + 2, [edit], text);
      const analysis = host.analysis(uri)!;
      const index = analysis.pipelineIndex()!;
      const movedCount = index.stages.filter((d) => movedStage(d)).length;
      // All but the edited stage and those before it.
      assert.ok(movedCount >= index.stages.length - 3, `${movedCount} of ${index.stages.length} stages moved`);
      const fresh = new AnalysisHost({ folders: [ws] });
      fresh.open(uri, 1, text);
      assert.deepEqual(analysis.diagnostics(), fresh.analysis(uri)!.diagnostics());
    }
  });

  test('a long run of edits keeps no more than the last few versions alive', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let text = pipelineText(600);
    const ws = workspace(text);
    const uri = pathToFileURL(path.join(ws, 'dvc.yaml')).href;
    const host = new AnalysisHost({ folders: [ws] });
    host.open(uri, 1, text);
    host.analysis(uri)!.diagnostics();
    const firstIndex = new WeakRef(host.analysis(uri)!.pipelineIndex()!);
    const firstStage = new WeakRef(host.analysis(uri)!.pipelineIndex()!.stages.at(-1)!);
    const at = text.indexOf('python ', text.indexOf('stages:')) + 1;
    for (let i = 0; i < 12; i++) {
      const edit = { start: at, end: at, text: 'x' };
      text = apply(text, edit);
      host.change(uri, i + 2, [edit], text);
      host.analysis(uri)!.diagnostics();
    }
    // WeakRef targets stay alive until the current job ends.
    await new Promise((r) => setTimeout(r, 0));
    gc();
    assert.equal(firstIndex.deref(), undefined, 'the first version\'s index is let go of');
    assert.equal(firstStage.deref(), undefined, 'a stage moved 12 times is not kept through every move');
  });
});
