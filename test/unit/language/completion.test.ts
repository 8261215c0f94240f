/**
 * Completion fixtures: text with a `<|>` cursor, the labels that must (and must not) be offered, and
 * for some the text that replacing the range with the insert text gives.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { CompletionEntry } from '../../../core/language/languageTypes';
import { loadFixture, open, withCursor } from './languageHarness';

function complete(fixture: string, file: string, edit: [string, string], files = loadFixture(fixture)): { entries: CompletionEntry[]; text: string } {
  const original = files.get(file)!;
  assert.ok(original.includes(edit[0]), `fixture contains ${JSON.stringify(edit[0])}`);
  const { text, offset } = withCursor(original.replace(edit[0], edit[1]));
  const s = open(files, file, text);
  const entries = s.service.completion(s.doc, offset);
  for (const e of entries) assert.ok(0 <= e.replace.start && e.replace.start <= e.replace.end && e.replace.end <= text.length);
  return { entries, text };
}

const labels = (entries: CompletionEntry[]) => entries.map((e) => e.label);

function applyEntry(text: string, e: CompletionEntry): string {
  return text.slice(0, e.replace.start) + e.insertText + text.slice(e.replace.end);
}

describe('completion', () => {
  test('keys of a stage: missing ones only, never a second command', () => {
    const { entries } = complete('get-started', 'dvc.yaml', ['    deps:\n    - data/prepared\n    - src/featurization.py', '    <|>\n    deps:\n    - data/prepared\n    - src/featurization.py']);
    const got = labels(entries);
    for (const k of ['wdir', 'metrics', 'plots', 'vars', 'frozen', 'always_changed', 'desc', 'meta']) assert.ok(got.includes(k), k);
    for (const k of ['cmd', 'deps', 'outs', 'params', 'evaluate', 'foreach', 'checkpoint']) assert.ok(!got.includes(k), k);
    const frozen = entries.find((e) => e.label === 'frozen')!;
    assert.equal(frozen.insertText, 'frozen: ${1|true,false|}');
    assert.ok(frozen.documentation?.includes('never runs'));
  });

  test('keys of a stage with a built-in step, and of the step', () => {
    const { entries } = complete('runwise', 'runwise.yaml', ['  drift:\n    drift:\n', '  drift:\n    <|>\n    drift:\n']);
    const got = labels(entries);
    assert.ok(got.includes('deps') && got.includes('desc'));
    assert.ok(!got.includes('cmd') && !got.includes('evaluate'), 'drift is already the command');
    const steps = complete('runwise', 'forecast.pipeline.yaml', ['      target: sales\n', '      target: sales\n      <|>\n']);
    assert.deepEqual(labels(steps.entries), ['features', 'threshold', 'slice_by', 'batch_size']);
  });

  test('a partially typed key under a stage with no keys yet', () => {
    const { entries, text } = complete('runwise', 'runwise.yaml', ['\ngates:\n', '\n  score:\n    eva<|>\ngates:\n']);
    const evaluate = entries.find((e) => e.label === 'evaluate')!;
    assert.ok(evaluate.snippet);
    assert.ok(applyEntry(text, evaluate).includes('  score:\n    evaluate:\n  model: ${1:models/model.onnx}'));
    assert.ok(labels(entries).includes('cmd') && labels(entries).includes('foreach') && labels(entries).includes('matrix'));
  });

  test('whole-stage snippets where a stage name goes', () => {
    const { entries } = complete('runwise', 'runwise.yaml', ['\n  train:\n', '\n  <|>\n  train:\n']);
    assert.deepEqual(labels(entries), [
      'stage',
      'stage (params, metrics, plots)',
      'stage (foreach/do)',
      'stage (matrix)',
      'stage (evaluate)',
      'stage (register)',
      'stage (drift)',
    ]);
    assert.ok(entries[2]!.insertText.includes('\\${item\\}'), '${item} is escaped in the snippet');
    const dvc = complete('get-started', 'dvc.yaml', ['  featurize:\n', '  <|>\n  featurize:\n']);
    assert.ok(!labels(dvc.entries).includes('stage (evaluate)'), 'no built-in steps in dvc.yaml');
  });

  test('top-level keys not yet present', () => {
    const { entries } = complete('get-started', 'dvc.yaml', ['stages:\n', '<|>\nstages:\n']);
    assert.deepEqual(labels(entries).sort(), ['datasets', 'params', 'vars']);
    const rw = complete('runwise', 'runwise.yaml', ['\ngates:\n', '\n<|>\n']);
    assert.ok(labels(rw.entries).includes('vars'));
  });

  test('param keys from the stage params file', () => {
    const { entries, text } = complete('get-started', 'dvc.yaml', ['    - prepare.seed', '    - prepare.s<|>']);
    assert.deepEqual(labels(entries), ['prepare', 'prepare.split', 'prepare.seed', 'featurize', 'featurize.max_features', 'featurize.ngrams', 'train', 'train.seed', 'train.n_est', 'train.min_split']);
    const seed = entries.find((e) => e.label === 'prepare.seed')!;
    assert.equal(seed.detail, '20170428 (params.yaml)');
    assert.ok(applyEntry(text, seed).includes('    - prepare.seed\n    - prepare.split'));
  });

  test('param keys of a named params file', () => {
    const { entries } = complete('templating', 'dvc.yaml', ['          - seed\n', '          - <|>\n']);
    assert.deepEqual(labels(entries), ['seed']);
  });

  test('file paths relative to wdir', () => {
    const { entries, text } = complete('get-started', 'dvc.yaml', ['    - src/prepare.py', '    - src/pr<|>']);
    assert.deepEqual(labels(entries), ['evaluate.py', 'featurization.py', 'prepare.py', 'train.py']);
    assert.ok(applyEntry(text, entries.find((e) => e.label === 'prepare.py')!).includes('    - src/prepare.py\n'));
    const root = complete('get-started', 'dvc.yaml', ['    - src/prepare.py', '    - <|>']);
    assert.deepEqual(labels(root.entries), ['data/', 'dvc.yaml', 'params.yaml', 'src/']);
    assert.equal(root.entries.find((e) => e.label === 'src/')!.kind, 'folder');
    const wdir = complete('templating', 'dvc.yaml', ['    wdir: .\n    deps:\n      - models\n', '    wdir: src\n    deps:\n      - <|>\n']);
    assert.deepEqual(labels(wdir.entries), ['clean.py', 'report.py', 'train.py']);
  });

  test('datasets as ds:// dependencies', () => {
    const files = loadFixture('get-started');
    files.set('dvc.yaml', files.get('dvc.yaml')! + 'datasets:\n- name: dogs\n  url: dvcx://dogs\n  type: dvcx\n');
    const { entries } = complete('get-started', 'dvc.yaml', ['    - src/prepare.py', '    - <|>'], files);
    assert.ok(labels(entries).includes('ds://dogs'));
  });

    test('enum values, quoted where YAML needs it', () => {
    const task = complete('runwise', 'runwise.yaml', ['      task: classification', '      task: <|>']);
    assert.deepEqual(labels(task.entries), ['binary', 'multiclass', 'regression', 'classification']);
    const op = complete('runwise', 'runwise.yaml', ["    op: '<'", '    op: <|>']);
    assert.deepEqual(labels(op.entries), ['>', '>=', '<', '<=', '==', '!=']);
    assert.equal(op.entries[1]!.insertText, "'>='");
    const quoted = complete('runwise', 'runwise.yaml', ["    op: '<'", "    op: '<|>'"]);
    assert.equal(quoted.entries[1]!.insertText, '>=');
    assert.equal(quoted.text.slice(quoted.entries[1]!.replace.start - 1, quoted.entries[1]!.replace.end + 1), "''");
    const tmpl = complete('get-started', 'dvc.yaml', ['    template: confusion', '    template: <|>']);
    assert.ok(labels(tmpl.entries).includes('confusion_normalized'));
  });

  test('metric names known to the built-in steps', () => {
    const evalMetrics = complete('runwise', 'forecast.pipeline.yaml', ['      metrics: [mae, rmse, r2]', '      metrics:\n        - <|>']);
    assert.deepEqual(labels(evalMetrics.entries), ['mae', 'mse', 'rmse', 'r2', 'mape'], 'regression task');
    const gate = complete('runwise', 'runwise.yaml', ['  - metric: evaluate:accuracy', '  - metric: <|>']);
    const got = labels(gate.entries);
    for (const m of ['accuracy', 'log_loss', 'rmse', 'drift_share', 'drifted_columns', 'evaluate:accuracy', 'evaluate:f1', 'evaluate:roc_auc', 'drift:drift_share']) assert.ok(got.includes(m), m);
    assert.ok(!got.includes('evaluate:precision'), 'evaluate lists its metrics');
    // A gate that names its stage is offered that stage's metrics only.
    const staged = complete('runwise', 'runwise.yaml', ['  - metric: drift_share', '  - metric: <|>']);
    assert.deepEqual(labels(staged.entries), ['drift_share', 'drifted_columns']);
  });

  test("a gate's value: the stage's metrics of the previous run and of the aliases the file's register steps set", () => {
    const { entries, text } = complete('runwise', 'runwise.yaml', ['    value: 0.85', '    value: <|>']);
    assert.deepEqual(labels(entries), ['previous.accuracy', 'staging.accuracy', 'previous.f1', 'staging.f1', 'previous.roc_auc', 'staging.roc_auc']);
    assert.ok(applyEntry(text, entries.find((e) => e.label === 'staging.accuracy')!).includes('    value: staging.accuracy\n'));
    const drift = complete('runwise', 'runwise.yaml', ['    value: 0.3', '    value: prev<|>']);
    assert.deepEqual(labels(drift.entries).filter((l) => l.startsWith('previous.')), ['previous.drift_share', 'previous.drifted_columns']);
  });

  test('stage names in gates', () => {
    const { entries } = complete('runwise', 'runwise.yaml', ['    stage: drift', '    stage: <|>']);
    assert.deepEqual(labels(entries), ['prepare', 'train', 'evaluate', 'drift', 'register']);
  });

  test('keys of a new gate list item', () => {
    const { entries } = complete('runwise', 'runwise.yaml', ['  - metric: metrics/eval.json:f1\n', '  - <|>\n  - metric: metrics/eval.json:f1\n']);
    assert.deepEqual(labels(entries).sort(), ['message', 'metric', 'model', 'op', 'stage', 'value']);
    const sibling = complete('runwise', 'runwise.yaml', ['    message: Accuracy fell below 85%\n', '    <|>\n']);
    assert.deepEqual(labels(sibling.entries).sort(), ['message', 'model', 'stage']);
  });

  test('${ expressions: vars, params, item, key', () => {
    const top = complete('templating', 'dvc.yaml', ['${thresholds.us}', '${thr<|>}']);
    const got = labels(top.entries);
    for (const k of ['thresholds', 'thresholds.us', 'desc', 'seed', 'data_dir', 'out_dir', 'models', 'train.lr']) assert.ok(got.includes(k), k);
    assert.ok(!got.includes('unused'), 'vars file key filter');
    assert.ok(!got.includes('item'), 'no item outside foreach');
    const inForeach = complete('templating', 'dvc.yaml', ['--thresh ${item.thresh}', '--thresh ${item.<|>}']);
    assert.deepEqual(labels(inForeach.entries), ['item.thresh', 'item.filename']);
    const key = complete('templating', 'dvc.yaml', ['--thresh ${item.thresh}', '--thresh ${<|>}']);
    assert.ok(labels(key.entries).includes('key') && labels(key.entries).includes('item'));
    const matrix = complete('templating', 'dvc.yaml', ['${item.feature} ${item.model}', '${item.<|>}']);
    assert.deepEqual(labels(matrix.entries), ['item.model', 'item.feature']);
    const unclosed = complete('templating', 'dvc.yaml', ['${thresholds.us}', '${thresholds.<|>']);
    assert.deepEqual(unclosed.entries.map((e) => e.insertText), ['thresholds.us}', 'thresholds.gb}']);
  });

  test('model cards: keys, licenses, pipeline tags', () => {
    const key = complete('hf-cards', 'distilbert-imdb/README.md', ['tags:\n', 'lib<|>\ntags:\n']);
    assert.ok(labels(key.entries).includes('library_name'));
    assert.ok(!labels(key.entries).includes('license'), 'already present');
    assert.ok(!labels(key.entries).includes('model_details'), 'Model Card Toolkit sections only in *.modelcard.yaml');
    const lic = complete('hf-cards', 'distilbert-imdb/README.md', ['license: apache-2.0', 'license: <|>']);
    assert.ok(labels(lic.entries).includes('apache-2.0') && labels(lic.entries).includes('llama2') && labels(lic.entries).includes('other'));
    const offsetInMarkdown = lic.text.indexOf('license: ') + 'license: '.length;
    assert.equal(lic.entries[0]!.replace.start, offsetInMarkdown, 'file offsets in the Markdown');
    const mct = complete('modelcard', 'churn.modelcard.yaml', ['  overview:', '  <|>\n  overview:']);
    assert.deepEqual(labels(mct.entries), ['documentation', 'regulatory_requirements']);
    // Languages: ISO 639-1 codes offered, as one value or a list item.
    const one = complete('hf-cards', 'distilbert-imdb/README.md', ['license: apache-2.0', 'license: apache-2.0\nlanguage: <|>']);
    assert.ok(labels(one.entries).includes('en') && labels(one.entries).includes('fr') && labels(one.entries).includes('multilingual'));
    const item = complete('hf-cards', 'distilbert-imdb/README.md', ['license: apache-2.0', 'license: apache-2.0\nlanguage:\n- en\n- <|>']);
    assert.ok(labels(item.entries).includes('de'), labels(item.entries).slice(0, 5).join(', '));
    const relation = complete('hf-cards', 'llama-finetune/README.md', ['base_model_relation: finetune', 'base_model_relation: <|>']);
    assert.deepEqual(labels(relation.entries), ['adapter', 'merge', 'quantized', 'finetune']);
  });

  test('nothing in comments', () => {
    const { entries } = complete('get-started', 'dvc.yaml', ['stages:\n', '# a comment <|>\nstages:\n']);
    assert.deepEqual(entries, []);
  });
});
