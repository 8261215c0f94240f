/** Code actions: each fix applied to the fixture gives the expected text, and clears the diagnostic. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { CodeActionEntry } from '../../../core/language/languageTypes';
import { applyEdits, diagnosticsOf, loadFixture, open } from './languageHarness';

function actionsFor(fixture: string, file: string, edit: [string, string], code: string, files = loadFixture(fixture)) {
  const text = files.get(file)!.replace(edit[0], edit[1]);
  const s = open(files, file, text);
  const diags = diagnosticsOf(s);
  const d = diags.find((x) => x.code === code);
  assert.ok(d, `a ${code} diagnostic in ${diags.map((x) => x.code).join(', ')}`);
  const actions = s.service.codeActions(s.doc, { start: d.start, end: d.end }, diags);
  return { s, actions, files: s.workspace.files };
}

function only(actions: CodeActionEntry[]): CodeActionEntry {
  assert.equal(actions.length, 1, actions.map((a) => a.title).join(', '));
  return actions[0]!;
}

describe('code actions', () => {
  test('fix a misspelled key', () => {
    const { s, actions } = actionsFor('get-started', 'dvc.yaml', ['    outs:\n    - model.pkl', '    oust:\n    - model.pkl'], 'unknown-key');
    const a = only(actions);
    assert.equal(a.title, "Change to 'outs'");
    assert.ok(a.isPreferred);
    const fixed = applyEdits(s.text, 'dvc.yaml', a.edits);
    assert.equal(fixed, loadFixture('get-started').get('dvc.yaml'));
  });

  test('fix a misspelled enum value and license id (Markdown offsets)', () => {
    const v = actionsFor('runwise', 'runwise.yaml', ['      task: classification', '      task: clasification'], 'invalid-value');
    assert.ok(applyEdits(v.s.text, 'runwise.yaml', only(v.actions).edits).includes('      task: classification\n'));
    const l = actionsFor('hf-cards', 'distilbert-imdb/README.md', ['license: apache-2.0', 'license: apache2'], 'unknown-license');
    assert.equal(applyEdits(l.s.text, 'distilbert-imdb/README.md', only(l.actions).edits), loadFixture('hf-cards').get('distilbert-imdb/README.md'));
  });

  test('add a missing param to params.yaml, under its existing group', () => {
    const { actions, files } = actionsFor('get-started', 'dvc.yaml', ['    - train.seed', '    - train.seed\n    - train.max_depth'], 'missing-param');
    const a = only(actions);
    assert.equal(a.title, "Add 'train.max_depth' to params.yaml");
    assert.equal(
      applyEdits(files.get('params.yaml')!, 'params.yaml', a.edits),
      'prepare:\n  split: 0.20\n  seed: 20170428\n\nfeaturize:\n  max_features: 100\n  ngrams: 1\n\ntrain:\n  seed: 20170428\n  n_est: 50\n  min_split: 0.01\n  max_depth: null\n',
    );
  });

  test('add a missing nested param as a new group, then it resolves', () => {
    const { actions, files } = actionsFor('get-started', 'dvc.yaml', ['    - train.seed', '    - train.seed\n    - tune.search.trials'], 'missing-param');
    const next = applyEdits(files.get('params.yaml')!, 'params.yaml', only(actions).edits);
    assert.ok(next.endsWith('  min_split: 0.01\ntune:\n  search:\n    trials: null\n'), next);
    const map = new Map(files);
    map.set('params.yaml', next);
    const again = open(map, 'dvc.yaml');
    assert.deepEqual(diagnosticsOf(again).map((d) => d.code), []);
  });

  test('add a param to a params file that does not exist creates it', () => {
    const { actions } = actionsFor('templating', 'dvc.yaml', ['      - custom_params.yaml:\n', '      - tuning.yaml:\n'], 'missing-params-file');
    assert.deepEqual(only(actions).edits, [{ relPath: 'tuning.yaml', newText: 'seed: null\n', createFile: true }]);
  });

  test('create a missing dependency file', () => {
    const { actions } = actionsFor('get-started', 'dvc.yaml', ['    - src/train.py\n', '    - src/tune.py\n'], 'missing-path');
    assert.deepEqual(only(actions), { title: "Create file 'src/tune.py'", kind: 'quickfix', fixes: ['missing-path'], edits: [{ relPath: 'src/tune.py', newText: '', createFile: true }] });
  });

  test('add a missing required key', () => {
    const { s, actions } = actionsFor('get-started', 'dvc.yaml', ['    cmd: python src/train.py data/features model.pkl\n', ''], 'missing-key');
    const fixed = applyEdits(s.text, 'dvc.yaml', only(actions).edits);
    assert.ok(fixed.includes('    outs:\n    - model.pkl\n    cmd: \n  evaluate:'), fixed);
    const card = actionsFor('hf-cards', 'llama-finetune/README.md', ['license_name: llama3\n', ''], 'missing-key');
    assert.ok(applyEdits(card.s.text, 'llama-finetune/README.md', only(card.actions).edits).startsWith('---\nlanguage:\n- en\nlicense: other\nlicense_name: \nlicense_link: LICENSE\n'));
  });

  test('no actions outside the range', () => {
    const files = loadFixture('get-started');
    const text = files.get('dvc.yaml')!.replace('    - prepare.seed', '    - prepare.sed');
    const s = open(files, 'dvc.yaml', text);
    assert.deepEqual(s.service.codeActions(s.doc, { start: 0, end: 5 }, diagnosticsOf(s)), []);
  });
});
