/** The small modules below the features: front matter, file kinds, `${...}`, paths, did-you-mean, the stage graph. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { didYouMean, editDistance } from '../../../core/language/schema/didYouMean';
import { classifyFile, fileKindByName } from '../../../core/language/files/fileKinds';
import { extractFrontMatter } from '../../../core/language/modelCard/frontMatter';
import { interpolateString, isWholeInterpolation, scanInterpolations } from '../../../core/language/pipeline/interpolation';
import { splitVarsEntry } from '../../../core/language/files/paramsFiles';
import { splitKeyPath } from '../../../core/language/files/paramsIndex';
import { StageGraph } from '../../../core/language/pipeline/stageGraph';
import { ancestorsOf, relativePath, resolveWorkspacePath } from '../../../core/language/files/workspacePaths';
import { parseYaml } from '../../../core/language/yaml/parseYaml';
import { memoryWorkspace } from './languageHarness';

describe('front matter', () => {
  test('offset of the YAML inside the Markdown', () => {
    const md = '---\nlicense: mit\n---\n# Title\n';
    assert.deepEqual(extractFrontMatter(md), { yaml: 'license: mit\n', offset: 4 });
    assert.deepEqual(extractFrontMatter('\ufeff---\r\na: 1\r\n---\r\n'), { yaml: 'a: 1\r\n', offset: 6 });
    assert.equal(extractFrontMatter('---\na: 1\n...\n'), undefined, '`...` does not close it on the Hub');
    assert.equal(extractFrontMatter('# no front matter\n---\na: 1\n---\n'), undefined);
    assert.equal(extractFrontMatter('---\na: 1\n'), undefined, 'unclosed');
  });
});

describe('file kinds', () => {
  test('by name', () => {
    assert.equal(fileKindByName('runwise.yaml'), 'runwise-pipeline');
    assert.equal(fileKindByName('pipelines/train.pipeline.yaml'), 'runwise-pipeline');
    assert.equal(fileKindByName('sub/dvc.yaml'), 'dvc-pipeline');
    assert.equal(fileKindByName('params.yaml'), 'params');
    assert.equal(fileKindByName('models/churn.modelcard.yaml'), 'model-card');
    assert.equal(fileKindByName('README.md', '---\nlicense: mit\n---\n'), 'readme-model-card');
    assert.equal(fileKindByName('README.md', '# Project\n'), undefined);
    assert.equal(fileKindByName('config.yaml'), undefined);
  });

  test('a file named in vars or params of a pipeline next to it or above it', () => {
    const ws = memoryWorkspace({
      'dvc.yaml': 'vars:\n  - conf/train.yaml:lr\nstages:\n  a:\n    cmd: x\n    wdir: sub\n    params:\n      - extra.json:\n',
      'conf/train.yaml': 'lr: 1\n',
      'sub/extra.json': '{}',
      'conf/other.yaml': 'x: 1\n',
    });
    assert.equal(classifyFile('conf/train.yaml', undefined, ws), 'params');
    assert.equal(classifyFile('sub/extra.json', undefined, ws), 'params');
    assert.equal(classifyFile('conf/other.yaml', undefined, ws), undefined);
  });
});

describe('interpolation', () => {
  test('tokens with spans, escapes, malformed and unclosed tokens', () => {
    const toks = scanInterpolations('a ${x.y[0]} \\${lit} ${ b } ${no[good} ${open', 10);
    assert.deepEqual(
      toks.map((t) => [t.start, t.end, t.expr, t.segments, t.unclosed]),
      [
        [12, 21, 'x.y[0]', ['x', 'y', 0], false],
        [30, 36, 'b', ['b'], false],
        [37, 47, 'no[good', undefined, false],
        [48, 54, 'open', undefined, true],
      ],
    );
  });

  test('substitution', () => {
    const root = parseYaml('a: 1\nb: {c: x}\nl: [p, q]\n').root;
    const scope = { layers: [{ relPath: 'params.yaml', root }] };
    assert.equal(interpolateString('v${a}-${b.c}-${l[1]} \\${a}', scope), 'v1-x-q ${a}');
    assert.equal(interpolateString('${nope}', scope), undefined);
    assert.equal(interpolateString('${b}', scope), undefined, 'a mapping is not a string');
    assert.ok(isWholeInterpolation(' ${a.b} '));
    assert.ok(!isWholeInterpolation('${a}-${b}'));
  });

  test('key paths and vars entries', () => {
    assert.deepEqual(splitKeyPath('train.layers[2].units'), ['train', 'layers', 2, 'units']);
    assert.deepEqual(splitVarsEntry('config.yaml:train,prepare'), { file: 'config.yaml', keys: ['train', 'prepare'] });
    assert.deepEqual(splitVarsEntry('params.yaml'), { file: 'params.yaml', keys: undefined });
  });
});

describe('workspace paths', () => {
  test('resolution against wdir', () => {
    assert.deepEqual(resolveWorkspacePath('sub', 'data/x.csv'), { kind: 'inside', path: 'sub/data/x.csv' });
    assert.deepEqual(resolveWorkspacePath('sub', './../data/'), { kind: 'inside', path: 'data' });
    assert.deepEqual(resolveWorkspacePath('', '../x'), { kind: 'outside', reason: 'leaves the workspace' });
    assert.equal(resolveWorkspacePath('', '/etc/passwd').kind, 'outside');
    assert.equal(resolveWorkspacePath('', 'C:\\x').kind, 'outside');
    assert.deepEqual(resolveWorkspacePath('', 's3://bucket/x'), { kind: 'external', scheme: 's3' });
    assert.deepEqual(ancestorsOf('a/b/c'), ['a/b', 'a']);
    assert.equal(relativePath('a/b', 'a/c/d'), '../c/d');
  });
});

describe('did you mean', () => {
  test('closest candidate within a distance that grows with the word', () => {
    assert.equal(editDistance('deps', 'dpes'), 1, 'transposition');
    assert.equal(didYouMean('dep', ['deps', 'outs']), 'deps');
    assert.equal(didYouMean('always_change', ['always_changed', 'frozen']), 'always_changed');
    assert.equal(didYouMean('model-index', ['model_index']), 'model_index');
    assert.equal(didYouMean('xyz', ['deps', 'outs']), undefined);
  });
});

describe('stage graph', () => {
  const g = new StageGraph([
    { name: 'prepare', inputs: ['data/raw'], outputs: ['data/prepared'] },
    { name: 'train', inputs: ['data/prepared/train.csv'], outputs: ['model.pkl'] },
    { name: 'eval', inputs: ['model.pkl', 'data'], outputs: ['eval/metrics.json'] },
    { name: 'loop', inputs: ['eval/metrics.json'], outputs: ['data/raw'] },
  ]);
  test('producers: exact, containing directory, contained output', () => {
    assert.deepEqual(g.producersOf('data/prepared/train.csv'), [0]);
    assert.deepEqual(g.producersOf('data').sort(), [0, 3]);
    assert.ok(g.isProduced('data/prepared/x') && !g.isProduced('src'));
    assert.deepEqual(g.downstream(0).sort(), [1, 2]);
  });
  test('cycles', () => {
    assert.deepEqual(g.cycles(), [[0, 1, 2, 3]]);
    assert.deepEqual(new StageGraph([{ name: 'a', inputs: ['x'], outputs: ['x'] }]).cycles(), [[0]]);
  });
  test('overlapping outputs', () => {
    const o = new StageGraph([
      { name: 'a', inputs: [], outputs: ['out', 'm.json'] },
      { name: 'b', inputs: [], outputs: ['out/sub/x', 'm.json'] },
    ]).overlappingOutputs();
    assert.deepEqual(o.map((x) => [x.kind, x.first, x.second, x.secondPath]), [
      ['same', 0, 1, 'm.json'],
      ['nested', 0, 1, 'out/sub/x'],
    ]);
  });
});
