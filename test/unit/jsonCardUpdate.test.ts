/**
 * Model Card Toolkit cards kept as JSON (`model_card.json`, what `ModelCard.to_json()` writes):
 * `updateCardText` edits `quantitative_analysis.performance_metrics` only, at the file's own
 * layout, replacing Runwise's entries (those of a metric type its evaluation writes) and keeping
 * every other entry's text; broken JSON is refused at its line and column; `card update` and
 * `card validate` on a real tracker, and the language server's diagnostics for such a file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { main } from '../../core/cli/main';
import { createLanguageService } from '../../core/language/languageService';
import { FileSystemWorkspace } from '../../core/language/files/fileSystemWorkspace';
import { fileKindByName } from '../../core/language/files/fileKinds';
import { CardUpdateError, cardFormatOf, checkCardYaml, updateCardText } from '../../core/modelCard/cardUpdate';
import { MODEL_SHA256_TAG } from '../../core/tracker/model';
import { Tracker } from '../../core/tracker/tracker';
import { onnxBytes } from '../support/onnxBytes';
import { sampleEvaluation } from '../support/cardEvaluation';
import { tempWorkspace } from '../support/tempWorkspace';

const evaluation = sampleEvaluation;

/** As the toolkit's `ModelCard.to_json()` writes a card: `json.dumps(..., indent=2)`. */
const TO_JSON = `{
  "model_details": {
    "name": "churn",
    "overview": "Predicts churn \\u2014 monthly.",
    "owners": [
      {
        "name": "ML team",
        "contact": "ml@example.com"
      }
    ]
  },
  "considerations": {
    "limitations": [
      {
        "description": "Trained on EU customers only."
      }
    ]
  }
}
`;

const update = (text: string, runId = 'a'.repeat(32), roc?: number, file = 'model_card.json') =>
  updateCardText(text, evaluation(runId, roc), { file, modelName: 'churn' }).text;

const metricsOf = (text: string) =>
  (JSON.parse(text.replace(/^\uFEFF/, '')) as { quantitative_analysis: { performance_metrics: Record<string, unknown>[] } }).quantitative_analysis.performance_metrics;

test('a card as to_json() writes it gets quantitative_analysis at its end, at its indentation; every byte before stays; updates replace their entries', () => {
  const first = update(TO_JSON);
  const cut = TO_JSON.lastIndexOf('\n  }\n}');
  assert.equal(first.slice(0, cut + 4), TO_JSON.slice(0, cut + 4), 'the card up to its last section is as it was');
  assert.ok(first.endsWith('\n}\n'), 'the file still ends as it did');
  assert.deepEqual(metricsOf(first), [
    { type: 'accuracy', value: '0.84', slice: 'overall' },
    { type: 'roc_auc', value: '0.912346', slice: 'overall' },
    { type: 'accuracy', value: '0.8', slice: 'region=EU' },
  ]);
  assert.match(first, /\n {2}"quantitative_analysis": \{\n {4}"performance_metrics": \[\n {6}\{\n {8}"type": "accuracy",\n {8}"value": "0\.84",/);
  // The \u escape in the user's text is kept as written.
  assert.ok(first.includes('churn \\u2014 monthly'));

  const second = update(first, 'b'.repeat(32), 0.95);
  assert.deepEqual(metricsOf(second).map((m) => m.value), ['0.84', '0.95', '0.8'], 'the second evaluation replaces the first');
  assert.equal(second.slice(0, second.indexOf('"quantitative_analysis"')), first.slice(0, first.indexOf('"quantitative_analysis"')));
  assert.equal(update(second, 'b'.repeat(32), 0.95), second, 'the same evaluation twice changes nothing');
});

test("entries Runwise does not write (other types, or its metric names on other slices) keep their text and place; Runwise's go where the first of them was", () => {
  const card = [
    '{',
    '    "quantitative_analysis": {',
    '        "performance_metrics": [',
    '            {"type": "binary_accuracy", "value": 0.5, "slice": ""},',
    '            {"type": "accuracy", "value": 0.1, "slice": "overall"},',
    '            {"type": "roc_auc", "value": 0.2, "slice": "region=US"},',
    '            {"type": "accuracy", "value": "0.91", "slice": "validation set (hand-measured)"},',
    '            {"type": "recall", "value": "0.7", "slice": "tenure>=24"},',
    '            {"type": "recall", "value": "0.6", "slice": "holdout (n=500)"},',
    '            {',
    '                "type": "latency",',
    '                "value": 12',
    '            }',
    '        ],',
    '        "graphics": {"description": "plots"}',
    '    },',
    '    "schema_version": "0.0.2"',
    '}',
  ].join('\r\n');
  const out = update(card);
  const types = metricsOf(out).map((m) => `${m.type} ${m.slice ?? ''}`.trim());
  assert.deepEqual(types, ['binary_accuracy', 'accuracy overall', 'roc_auc overall', 'accuracy region=EU', 'accuracy validation set (hand-measured)', 'recall tenure>=24', 'recall holdout (n=500)', 'latency']);
  assert.ok(out.includes('            {"type": "accuracy", "value": "0.91", "slice": "validation set (hand-measured)"},\r\n'), 'a metric Runwise computes, on a slice it does not write, is the user\'s');
  assert.ok(out.includes('            {"type": "binary_accuracy", "value": 0.5, "slice": ""},\r\n'), 'an entry Runwise does not write keeps its text');
  assert.ok(out.includes('            {\r\n                "type": "latency",\r\n                "value": 12\r\n            }\r\n        ],'), 'and its own layout');
  assert.ok(!/[^\r]\n/.test(out), 'every line break is the file\'s CRLF');
  assert.ok(out.endsWith('"graphics": {"description": "plots"}\r\n    },\r\n    "schema_version": "0.0.2"\r\n}'), 'what follows the list is as it was');
  assert.match(out, /\r\n {12}\{\r\n {16}"type": "accuracy",/, 'four-space indentation followed');
});

test('a card on one line stays on one line; a byte order mark stays first; an empty object and null sections are filled', () => {
  const compact = '{"model_details": {"name": "x"}}';
  const out = update(compact);
  assert.ok(!out.includes('\n'));
  assert.ok(out.startsWith('{"model_details": {"name": "x"}, "quantitative_analysis": {"performance_metrics": [{"type": "accuracy", "value": "0.84",'));
  assert.equal(update(out), out);
  // Packed (`,` alone between members), with `, ` inside a string: packed entries, as the file has them.
  const packed = update('{"model_details":{"name":"churn","overview":"fast, small"},"quantitative_analysis":{"performance_metrics":[]}}');
  assert.ok(packed.includes('"performance_metrics":[{"type":"accuracy","value":"0.84","slice":"overall"},{"type":'), packed);

  const bom = update(`\uFEFF${TO_JSON}`);
  assert.ok(bom.startsWith('\uFEFF{\n  "model_details"'));
  assert.equal(metricsOf(bom).length, 3);

  for (const card of ['{}\n', '{\n  "quantitative_analysis": null\n}\n', '{\n  "quantitative_analysis": {"performance_metrics": null}\n}\n', '{\n  "quantitative_analysis": {}\n}\n', '{\n  "quantitative_analysis": {\n    "performance_metrics": []\n  }\n}\n']) {
    const filled = update(card);
    assert.equal(metricsOf(filled).length, 3, card);
    assert.equal(update(filled), filled, card);
  }
});

test('a JSON card that cannot be edited safely is refused at its line and column, the text untouched', () => {
  const refused = (text: string, pattern: RegExp) => {
    assert.throws(() => update(text), (e: unknown) => e instanceof CardUpdateError && pattern.test(e.message), text);
  };
  refused('{\n  "model_details": {\n    "name": "x",\n  }\n}\n', /^model_card\.json:4:3: the card is not valid JSON: /);
  refused('{\n  "model_details": {"name": "x"}\n', /^model_card\.json:3:1: the card is not valid JSON/);
  refused('{\n  "quantitative_analysis": {},\n  "quantitative_analysis": {}\n}\n', /^model_card\.json:3:3: .*quantitative_analysis.*JSON reader keeps only the last/);
  refused('[]\n', /^model_card\.json:1: expected the card to be a JSON object/);
  refused('{\n  "quantitative_analysis": {\n    "performance_metrics": {"type": "accuracy"}\n  }\n}\n', /^model_card\.json:3: expected `quantitative_analysis\.performance_metrics` to be a list/);
  refused('{\n  "quantitative_analysis": 3\n}\n', /^model_card\.json:2: expected `quantitative_analysis` to be an object/);
  // The registration's check reads it as JSON too.
  assert.throws(() => checkCardYaml('{"a": 1,}', 'cards/model_card.json'), /^Error: cards\/model_card\.json:1:9: the card is not valid JSON|cards\/model_card\.json:1:9/);
  checkCardYaml(TO_JSON, 'model_card.json');
});

test('JSON card names: model_card.json, model-card.json, modelcard.json and names ending so are toolkit cards to the CLI, the language server and a register step', () => {
  for (const name of ['model_card.json', 'cards/model-card.json', 'MODELCARD.json', 'churn.modelcard.json', 'churn_model_card.json']) {
    assert.equal(cardFormatOf(name), 'model-card-toolkit', name);
    assert.equal(fileKindByName(name), 'model-card', name);
  }
  for (const name of ['card.json', 'params.json', 'model_card.json.bak']) {
    assert.equal(cardFormatOf(name), undefined, name);
    assert.equal(fileKindByName(name), undefined, name);
  }
  // The language server's check of a register step's card takes the same names the run does.
  const ws = tempWorkspace('json-card-names', { 'modelcard.json': '{}', 'churn_model_card.json': '{}', 'card.json': '{}', 'model.onnx': 'x' });
  const pipeline = (card: string) => `stages:\n  publish:\n    register:\n      model: model.onnx\n      name: churn\n      card: ${card}\n`;
  const service = createLanguageService(new FileSystemWorkspace(ws));
  const codes = (card: string) => service.diagnostics(service.analyze(pathToFileURL(path.join(ws, 'runwise.yaml')).href, 'runwise.yaml', pipeline(card))!).map((d) => d.code);
  assert.deepEqual(codes('modelcard.json'), []);
  assert.deepEqual(codes('churn_model_card.json'), []);
  assert.deepEqual(codes('card.json'), ['unexpected-file-type']);
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

test('card update and card validate on model_card.json, with a real tracker; the language server reads the same file', async () => {
  const ws = tempWorkspace('json-card', {
    'model.onnx': onnxBytes('model-bytes'),
    'model_card.json': TO_JSON.replace('"name": "churn",', '"name": "churn",\n    "colour": "blue",'),
  });
  const card = path.join(ws, 'model_card.json');
  const tracker = Tracker.open(ws);
  await tracker.registerModelFiles('churn', path.join(ws, 'model.onnx'));
  const run = tracker.createRun({ runName: 'evaluate', tags: [{ key: MODEL_SHA256_TAG, value: createHash('sha256').update(onnxBytes('model-bytes')).digest('hex') }] });
  tracker.logBatch(run.info.runId, { metrics: [{ key: 'accuracy', value: 0.75, timestamp: 1, step: 0 }] });
  tracker.logInputs(run.info.runId, [{ dataset: { name: 'test', digest: 'abcdef0123456789', sourceType: 'local', source: 'data/test.csv' }, tags: [] }]);
  tracker.updateRun(run.info.runId, { status: 'FINISHED' });
  tracker.close();

  const done = await cli('card', 'update', '--workspace', ws, card, '--from', 'churn/1');
  assert.equal(done.code, 0, done.err);
  assert.match(done.out, /^Updated model_card\.json from churn\/1/);
  const written = readFileSync(card, 'utf8');
  assert.deepEqual(metricsOf(written), [{ type: 'accuracy', value: '0.75', slice: 'overall' }]);
  const again = await cli('card', 'update', '--workspace', ws, card, '--from', 'churn/1');
  assert.match(again.out, /already carries the evaluation of churn\/1/);

  // The toolkit's from_json refuses a key its JSON schema does not name (additionalProperties: false): an error here.
  const valid = await cli('card', 'validate', '--workspace', ws, card);
  assert.equal(valid.code, 1, valid.out + valid.err);
  assert.match(valid.out, /^model_card\.json:4:5: error unknown-key Unknown key 'colour'/m);

  const service = createLanguageService(new FileSystemWorkspace(ws));
  const doc = service.analyze(pathToFileURL(card).href, 'model_card.json', written);
  assert.ok(doc, 'the language server analyses model_card.json');
  assert.deepEqual(service.diagnostics(doc).map((d) => d.code), ['unknown-key']);
  const typeAt = written.indexOf('"type"') + 2;
  assert.match(service.hover(doc, typeAt)?.contents ?? '', /\*\*type\*\*: Metric/);
  // Completion would write YAML (`key: `) into the JSON: none is offered there.
  assert.deepEqual(service.completion(doc, written.indexOf('"name"')), []);
  // JSON's own types: a number where the toolkit wants text, Hugging Face keys and unknown keys at any depth are errors.
  // A null is no text to its JSON schema either (a YAML card's empty key is read as not given); a
  // metric's value may be a number or text (the schema's revisions differ: number, then string).
  const strict =
    '{"model_details": {"name": 1, "overview": null}, "bogus": true, "license": "mit",\n "quantitative_analysis": {"performance_metrics": [{"type": "accuracy", "value": "0.9", "slic": "x"}, {"type": "f1", "value": 0.8}]}}\n';
  const strictDoc = service.analyze(pathToFileURL(card).href, 'model_card.json', strict)!;
  assert.deepEqual(
    service.diagnostics(strictDoc).map((d) => [d.severity, d.code, strict.slice(d.start, d.end)]),
    [['error', 'wrong-type', '1'], ['error', 'wrong-type', 'null'], ['error', 'unknown-key', '"bogus"'], ['error', 'unknown-key', '"license"'], ['error', 'unknown-key', '"slic"']],
  );

  writeFileSync(card, '{\n  "model_details": {\n');
  const broken = await cli('card', 'update', '--workspace', ws, card, '--from', 'churn/1');
  assert.equal(broken.code, 1);
  assert.match(broken.err, /model_card\.json:3:1: the card is not valid JSON/);
  assert.equal(readFileSync(card, 'utf8'), '{\n  "model_details": {\n', 'the broken card is left as it was');
});

test("what JSON refuses (a trailing comma, a comment) is an error in card validate and the editor, though YAML would read it", () => {
  const ws = tempWorkspace('json-card-strict', { 'model_card.json': '{\n  "model_details": {"name": "x",},\n  // a comment\n}\n' });
  const service = createLanguageService(new FileSystemWorkspace(ws));
  const text = readFileSync(path.join(ws, 'model_card.json'), 'utf8');
  const diagnostics = service.diagnostics(service.analyze(pathToFileURL(path.join(ws, 'model_card.json')).href, 'model_card.json', text)!);
  const invalid = diagnostics.filter((d) => d.code === 'invalid-json');
  assert.equal(invalid.length, 1, JSON.stringify(diagnostics));
  assert.equal(invalid[0]!.severity, 'error');
  assert.equal(text.slice(invalid[0]!.start, invalid[0]!.start + 1), '}', 'at the character JSON stops at');
  assert.doesNotMatch(invalid[0]!.message, /position/);
});

test("a JSON card starting with a byte order mark is an error: Python's json refuses it", () => {
  const ws = tempWorkspace('json-card-bom', { 'model_card.json': '\ufeff{"model_details": {"name": "x"}}\n', 'plain/model_card.json': '{"model_details": {"name": "x"}}\n' });
  const service = createLanguageService(new FileSystemWorkspace(ws));
  const codes = (rel: string) => {
    const text = readFileSync(path.join(ws, rel), 'utf8');
    return service.diagnostics(service.analyze(pathToFileURL(path.join(ws, rel)).href, rel, text)!).map((d) => [d.code, d.severity, d.start]);
  };
  assert.deepEqual(codes('model_card.json'), [['byte-order-mark', 'error', 0]]);
  assert.deepEqual(codes('plain/model_card.json'), []);
});

test("an entry with a field Runwise never writes (a confidence_interval) is the user's, on `overall` too; a kept entry written `[{ … }]` keeps its shape", () => {
  // As the toolkit's own test card (model_card_toolkit/template/test/full.json) writes its metrics.
  const card = [
    '{',
    '  "quantitative_analysis": {',
    '    "performance_metrics": [{',
    '      "type": "accuracy",',
    '      "value": "0.9",',
    '      "slice": "overall",',
    '      "confidence_interval": {',
    '        "lower_bound": "0.85",',
    '        "upper_bound": "0.95"',
    '      }',
    '    }],',
    '    "graphics": {}',
    '  }',
    '}',
    '',
  ].join('\n');
  const out = update(card);
  const metrics = metricsOf(out);
  assert.deepEqual(metrics[0], { type: 'accuracy', value: '0.9', slice: 'overall', confidence_interval: { lower_bound: '0.85', upper_bound: '0.95' } }, "the user's entry is kept whole, first");
  assert.ok(metrics.some((m) => m.type === 'accuracy' && m.slice === 'overall' && !('confidence_interval' in m)), "Runwise's own overall accuracy is added beside it");
  assert.ok(
    out.includes('    "performance_metrics": [\n      {\n        "type": "accuracy",\n        "value": "0.9",\n        "slice": "overall",\n        "confidence_interval": {\n          "lower_bound": "0.85",\n          "upper_bound": "0.95"\n        }\n      },\n      {\n'),
    `the kept entry is indented as one entry a line, its inner lines with it:\n${out}`,
  );
  // The next update replaces Runwise's entries only: the user's stays as the first update left it.
  const again = update(out, 'b'.repeat(32), 0.5);
  assert.deepEqual(metricsOf(again)[0], metrics[0]);
  assert.equal(metricsOf(again).filter((m) => m.type === 'accuracy' && m.slice === 'overall').length, 2);
});
