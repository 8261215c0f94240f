/**
 * Hover, go to definition and find references, as fixtures: a cursor in a real-world pipeline and
 * the Markdown shown or the locations (file + the text the span covers) returned.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { TargetLocation } from '../../../core/language/languageTypes';
import { loadFixture, open, type Session } from './languageHarness';

/** A session on a fixture file with the cursor `at` characters into the first match of `needle`. */
function at(fixture: string, file: string, needle: string, into = 1): { s: Session; offset: number; files: Map<string, string> } {
  const files = loadFixture(fixture);
  const s = open(files, file);
  const i = s.text.indexOf(needle);
  assert.ok(i >= 0, `${file} contains ${JSON.stringify(needle)}`);
  return { s, offset: i + into, files };
}

/** `relPath: 'covered text'` per location, reading the target file's text. */
function describeTargets(files: Map<string, string>, targets: TargetLocation[]): string[] {
  return targets.map((t) => `${t.relPath}: '${(files.get(t.relPath) ?? '').slice(t.span.start, t.span.end)}'`);
}

describe('hover', () => {
  test('a key shows its docs', () => {
    const { s, offset } = at('get-started', 'dvc.yaml', '    outs:', 5);
    const h = s.service.hover(s.doc, offset)!;
    assert.equal(s.text.slice(h.start, h.end), 'outs');
    assert.match(h.contents, /^\*\*outs\*\*: Files and directories the stage writes/);
  });

  test('a key with a default', () => {
    const { s, offset } = at('templating', 'dvc.yaml', 'always_changed', 3);
    assert.match(s.service.hover(s.doc, offset)!.contents, /Default: `false`/);
  });

  test('a stage name shows what it reads, writes, and its neighbours', () => {
    const { s, offset } = at('get-started', 'dvc.yaml', '  featurize:', 4);
    assert.equal(
      s.service.hover(s.doc, offset)!.contents,
      '**stage featurize**  \nreads `data/prepared`, `src/featurization.py`  \nwrites `data/features`  \nafter `prepare`  \nbefore `train`, `evaluate`',
    );
  });

  test('a param shows its value from params.yaml', () => {
    const { s, offset } = at('get-started', 'dvc.yaml', 'train.n_est', 3);
    const h = s.service.hover(s.doc, offset)!;
    assert.equal(h.contents, '**train.n_est** = `50`  \nfrom `params.yaml`');
    assert.equal(s.text.slice(h.start, h.end), 'train.n_est');
  });

  test('${...} shows the resolved value, per generated stage when it differs', () => {
    const one = at('templating', 'dvc.yaml', '${thresholds.us}', 3);
    const h = one.s.service.hover(one.s.doc, one.offset)!;
    assert.equal(h.contents, '`${thresholds.us}` = `10`');
    assert.equal(one.s.text.slice(h.start, h.end), '${thresholds.us}');
    const each = at('templating', 'dvc.yaml', '${item.thresh}', 3);
    assert.equal(each.s.service.hover(each.s.doc, each.offset)!.contents, '`${item.thresh}` = `train@us`: `10` — `params.yaml`  \n`train@gb`: `15` — `params.yaml`');
    const file = at('templating', 'dvc.yaml', '${data_dir}', 3);
    assert.equal(file.s.service.hover(file.s.doc, file.offset)!.contents, '`${data_dir}` = `"data"` — `config/paths.yaml`');
  });

  test('a dependency shows the stages producing it', () => {
    const { s, offset } = at('templating', 'dvc.yaml', '      - models\n', 9);
    assert.equal(s.service.hover(s.doc, offset)!.contents, 'input `models`  \nproduced by `train@us`, `train@gb`');
  });

  test('gates: a metric name, a stage', () => {
    const metric = at('runwise', 'runwise.yaml', 'metric: drift_share', 10);
    assert.match(metric.s.service.hover(metric.s.doc, metric.offset)!.contents, /Share of compared columns/);
    const stage = at('runwise', 'runwise.yaml', 'metric: evaluate:accuracy', 10);
    assert.match(stage.s.service.hover(stage.s.doc, stage.offset)!.contents, /^\*\*stage evaluate\*\* \(built-in `evaluate`\)/);
  });

  test('model card: a key and a license, with offsets in the Markdown', () => {
    const { s, offset } = at('hf-cards', 'whisper/README.md', 'pipeline_tag', 2);
    const h = s.service.hover(s.doc, offset)!;
    assert.equal(s.text.slice(h.start, h.end), 'pipeline_tag');
    assert.match(h.contents, /decides the inference widget/);
    const lic = at('hf-cards', 'whisper/README.md', 'apache-2.0', 2);
    assert.equal(lic.s.service.hover(lic.s.doc, lic.offset)!.contents, 'License `apache-2.0` (a Hugging Face license id)');
  });
});

describe('definition', () => {
  test('a param goes to its line in params.yaml', () => {
    const { s, offset, files } = at('get-started', 'dvc.yaml', 'train.min_split', 8);
    assert.deepEqual(describeTargets(files, s.service.definition(s.doc, offset)), ["params.yaml: 'min_split'"]);
  });

  test('a param of a named file, and the file itself', () => {
    const { s, offset, files } = at('templating', 'dvc.yaml', '          - seed', 12);
    assert.deepEqual(describeTargets(files, s.service.definition(s.doc, offset)), ["custom_params.yaml: 'seed'"]);
    const file = at('templating', 'dvc.yaml', '      - custom_params.yaml:', 10);
    assert.deepEqual(file.s.service.definition(file.s.doc, file.offset), [{ relPath: 'custom_params.yaml', span: { start: 0, end: 0 } }]);
  });

  test('${...} goes to the variable: params.yaml, a vars file, inline vars, the foreach item', () => {
    const p = at('templating', 'dvc.yaml', '${item.thresh}', 8);
    assert.deepEqual(describeTargets(p.files, p.s.service.definition(p.s.doc, p.offset)), ["params.yaml: 'thresh'"]);
    const v = at('templating', 'dvc.yaml', '${out_dir}', 3);
    assert.deepEqual(describeTargets(v.files, v.s.service.definition(v.s.doc, v.offset)), ["config/paths.yaml: 'out_dir'"]);
    const inline = at('templating', 'dvc.yaml', '${desc}', 3);
    assert.deepEqual(describeTargets(inline.files, inline.s.service.definition(inline.s.doc, inline.offset)), ["dvc.yaml: 'desc'"]);
    const item = at('templating', 'dvc.yaml', '"${item}"', 4);
    assert.deepEqual(describeTargets(item.files, item.s.service.definition(item.s.doc, item.offset)), ["dvc.yaml: 'raw1'"]);
  });

  test('a dependency goes to the file and to the stage output producing it', () => {
    const src = at('get-started', 'dvc.yaml', '    - src/train.py', 8);
    assert.deepEqual(describeTargets(src.files, src.s.service.definition(src.s.doc, src.offset)), ["src/train.py: ''"]);
    const produced = at('get-started', 'dvc.yaml', '    - data/features\n    - src/train.py', 8);
    const targets = produced.s.service.definition(produced.s.doc, produced.offset);
    assert.deepEqual(describeTargets(produced.files, targets), ["dvc.yaml: 'data/features'"]);
    assert.equal(targets[0]!.span.start, produced.s.text.indexOf('    outs:\n    - data/features') + 16);
  });

  test('a vars file entry goes to the file; a gate stage to the stage', () => {
    const v = at('templating', 'dvc.yaml', 'config/paths.yaml:', 2);
    assert.deepEqual(v.s.service.definition(v.s.doc, v.offset), [{ relPath: 'config/paths.yaml', span: { start: 0, end: 0 } }]);
    const g = at('runwise', 'runwise.yaml', '    stage: drift', 12);
    assert.deepEqual(describeTargets(g.files, g.s.service.definition(g.s.doc, g.offset)), ["runwise.yaml: 'drift'"]);
    const m = at('runwise', 'runwise.yaml', 'metric: evaluate:accuracy', 10);
    const t = m.s.service.definition(m.s.doc, m.offset);
    assert.deepEqual(describeTargets(m.files, t), ["runwise.yaml: 'evaluate'"]);
    assert.equal(t[0]!.span.start, m.s.text.indexOf('  evaluate:\n') + 2);
  });
});

describe('references', () => {
  test('a stage to the dependencies of the stages consuming its outputs', () => {
    const { s, offset, files } = at('get-started', 'dvc.yaml', '  featurize:', 4);
    const refs = s.service.references(s.doc, offset);
    assert.deepEqual(describeTargets(files, refs), ["dvc.yaml: 'data/features'", "dvc.yaml: 'data/features'"]);
    const lines = refs.map((r) => s.text.slice(0, r.span.start).split('\n').length);
    assert.deepEqual(lines, [25, 36], 'the deps of train and evaluate');
  });

  test('a stage named in gates', () => {
    const { s, offset, files } = at('runwise', 'runwise.yaml', '  evaluate:\n', 4);
    assert.deepEqual(describeTargets(files, s.service.references(s.doc, offset)), ["runwise.yaml: 'metrics/eval.json'", "runwise.yaml: 'evaluate'"]);
  });

  test('a key in params.yaml to its uses in the pipeline', () => {
    const { s, offset, files } = at('templating', 'params.yaml', '  lr:', 3);
    assert.deepEqual(describeTargets(files, s.service.references(s.doc, offset)), ["dvc.yaml: 'train.lr'"]);
    const thresh = at('templating', 'params.yaml', 'thresh', 2);
    assert.deepEqual(describeTargets(thresh.files, thresh.s.service.references(thresh.s.doc, thresh.offset)), ["dvc.yaml: '${item.thresh}'"]);
    const seed = at('get-started', 'params.yaml', '  seed: 20170428\n\nfeaturize', 3);
    assert.deepEqual(describeTargets(seed.files, seed.s.service.references(seed.s.doc, seed.offset)), ["dvc.yaml: 'prepare.seed'"]);
  });
});

describe('params entry with a glob (DVC matches it with dpath)', () => {
  test('hover lists the matched keys and their values', () => {
    const { s, offset } = at('dvc-templating-edge', 'dvc.yaml', 'dataset_kwargs.india*', 3);
    const h = s.service.hover(s.doc, offset)!;
    assert.equal(s.text.slice(h.start, h.end), 'dataset_kwargs.india*');
    assert.equal(
      h.contents,
      '`dataset_kwargs.india*` matches in `params.yaml`:  \n`dataset_kwargs.india_north` = `{rows: 1000}`  \n`dataset_kwargs.india_south` = `{rows: 800}`',
    );
  });

  test('definition goes to every matched key in the params file', () => {
    const { s, offset, files } = at('dvc-templating-edge', 'dvc.yaml', 'dataset_kwargs.india*', 3);
    assert.deepEqual(describeTargets(files, s.service.definition(s.doc, offset)), ["params.yaml: 'india_north'", "params.yaml: 'india_south'"]);
  });

  test('a glob that matches nothing says so, and has no definition', () => {
    const files = new Map([
      ['params.yaml', 'train:\n  lr: 0.1\n'],
      ['dvc.yaml', 'stages:\n  a:\n    cmd: echo\n    params:\n    - eval.*\n'],
    ]);
    const s = open(files, 'dvc.yaml');
    const offset = s.text.indexOf('eval.*') + 2;
    assert.equal(s.service.hover(s.doc, offset)!.contents, '`eval.*` matches no key in `params.yaml`');
    assert.deepEqual(s.service.definition(s.doc, offset), []);
  });

  test('`**` matches keys at any depth, list items by index', () => {
    const files = new Map([
      ['params.yaml', 'model:\n  lr: 0.1\n  layers:\n  - lr: 0.2\nlr: 0.3\n'],
      ['dvc.yaml', 'stages:\n  a:\n    cmd: echo\n    params:\n    - "**.lr"\n'],
    ]);
    const s = open(files, 'dvc.yaml');
    const offset = s.text.indexOf('**.lr') + 3;
    assert.deepEqual(describeTargets(files, s.service.definition(s.doc, offset)), ["params.yaml: 'lr'", "params.yaml: 'lr'", "params.yaml: 'lr'"]);
    assert.match(s.service.hover(s.doc, offset)!.contents, /^`\*\*\.lr` matches in `params\.yaml`: {2}\n`model\.lr` = `0\.1` {2}\n`model\.layers\.0\.lr` = `0\.2` {2}\n`lr` = `0\.3`$/);
  });
});
