/**
 * Model cards from the registry: `updateCardText` on every corpus card (a pure insertion that leaves
 * every other byte as it was; a second update replaces its own entry; the same evaluation twice
 * changes nothing; no new diagnostics), cards it must refuse with file:line, and the `card update` /
 * `card validate` commands against a real tracker and registry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isScalar, parse, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import { main } from '../../core/cli/main';
import { createLanguageService } from '../../core/language/languageService';
import { FileSystemWorkspace } from '../../core/language/files/fileSystemWorkspace';
import { extractFrontMatter } from '../../core/language/modelCard/frontMatter';
import { betterWhen, comparableEvaluations, latestEvaluationsByData, metricChange, worseOnSameData, type CardEvaluation } from '../../core/modelCard/cardEvaluation';
import { CardUpdateError, EMPTY_FRONT_MATTER, HF_SOURCE_NAME, cardModelName, checkCardYaml, MCT_NAME_PREFIX, toolkitMetrics, updateCardText, withoutRunwiseEntries } from '../../core/modelCard/cardUpdate';
import { MODEL_SHA256_TAG } from '../../core/tracker/model';
import { Tracker } from '../../core/tracker/tracker';
import { sampleEvaluation } from '../support/cardEvaluation';
import { tempWorkspace } from '../support/tempWorkspace';
import { onnxBytes } from '../support/onnxBytes';

const CORPUS = path.join(__dirname, '..', 'fixtures', 'language', 'corpus', 'cards');

const evaluation = sampleEvaluation;

/** For each `quantitative_analysis.performance_metrics` item of a toolkit card: whether its `type` carries Runwise's `# runwise` mark (a note after it too). */
function toolkitMarks(text: string): boolean[] {
  const doc = parseDocument(text);
  const seq = (doc.getIn(['quantitative_analysis', 'performance_metrics'], true) as YAMLSeq<YAMLMap> | undefined)?.items ?? [];
  return seq.map((item) => {
    const type = item.items.find((p) => isScalar(p.key) && p.key.value === 'type')?.value;
    return isScalar(type) && /^runwise(;|$)/.test(type.comment?.trim() ?? '');
  });
}

function corpusCards(): { dir: string; file: string; text: string }[] {
  return readdirSync(CORPUS).flatMap((dir) =>
    readdirSync(path.join(CORPUS, dir))
      .filter((f) => /\.md$|\.modelcard\.ya?ml$/i.test(f))
      .map((file) => ({ dir, file, text: readFileSync(path.join(CORPUS, dir, file), 'utf8') })),
  );
}

/** The card's YAML as data (a README.md's front matter). */
function cardData(file: string, text: string): Record<string, unknown> {
  const yaml = file.endsWith('.md') ? (extractFrontMatter(text)?.yaml ?? '') : text;
  return (parse(yaml) ?? {}) as Record<string, unknown>;
}

function errorsOf(dir: string, file: string, text: string): string[] {
  const service = createLanguageService(new FileSystemWorkspace(path.join(CORPUS, dir)));
  const doc = service.analyze(pathToFileURL(path.join(CORPUS, dir, file)).href, file, text);
  if (!doc) return [];
  return service
    .diagnostics(doc)
    .filter((d) => d.severity === 'error')
    .map((d) => `${d.code}: ${d.message}`);
}

test('every corpus card: one insertion, every other byte kept; a second update replaces its entry; the same one twice changes nothing', () => {
  const cards = corpusCards();
  assert.ok(cards.length >= 30, `the corpus has its cards (${cards.length})`);
  for (const { dir, file, text } of cards) {
    const what = `${dir}/${file}`;
    const first = updateCardText(text, evaluation('a'.repeat(32)), { file, modelName: 'churn' });
    assert.equal(first.edits.length, 1, what);
    const edit = first.edits[0]!;
    // Empty front matter as written (`---` then `---`) is filled in place: those two lines become the block.
    const empty = EMPTY_FRONT_MATTER.exec(text)?.[0].length ?? 0;
    assert.equal(edit.end - edit.start, empty, `${what}: a card without Runwise's entry only gains one`);
    assert.equal(first.text.slice(0, edit.start) + text.slice(edit.start, edit.end) + first.text.slice(edit.start + edit.text.length), text, `${what}: the rest is byte-identical`);
    if (text.includes('\r\n')) assert.doesNotMatch(edit.text.replace(/\r\n/g, ''), /\n/, `${what}: written with the file's CRLF line breaks`);

    assert.equal(updateCardText(first.text, evaluation('a'.repeat(32)), { file, modelName: 'churn' }).text, first.text, `${what}: the same evaluation again is a byte-identical round trip`);

    const second = updateCardText(first.text, evaluation('b'.repeat(32), 0.95), { file, modelName: 'churn' });
    // Runwise's entry is brought up to date in place: the values that changed (roc_auc, a result's run) rewritten, nothing else.
    assert.ok(second.edits.length >= 1 && second.edits.every((e) => !e.text.includes('accuracy')), `${what}: only the changed values are rewritten`);
    const data = cardData(file, second.text);
    if (file.endsWith('.md')) {
      const results = (data['model-index'] as { results: { source?: { name?: string; url?: string }; metrics: { type: string; value: number }[] }[] }[]).flatMap((m) => m.results);
      const ours = results.filter((r) => r.source?.name === HF_SOURCE_NAME);
      assert.equal(ours.length, 1, `${what}: replaced, not duplicated`);
      assert.equal(ours[0]!.source!.url, `runs:/${'b'.repeat(32)}`);
      assert.deepEqual(
        ours[0]!.metrics.map((m) => [m.type, m.value]),
        [
          ['accuracy', 0.84],
          ['roc_auc', 0.95],
        ],
      );
    } else {
      const metrics = (data.quantitative_analysis as { performance_metrics: { name?: string; type: string; value: number; slice: string }[] }).performance_metrics;
      const ours = metrics.filter((_, i) => toolkitMarks(second.text)[i]);
      // Only the toolkit's PerformanceMetric fields: its ModelCard.from_json refuses any other key.
      for (const m of ours) assert.deepEqual(Object.keys(m).filter((k) => !['type', 'value', 'slice'].includes(k)), [], what);
      assert.deepEqual(
        ours.map((m) => [m.type, m.value, m.slice]),
        [
          ['accuracy', '0.84', 'overall'],
          ['roc_auc', '0.95', 'overall'],
          ['accuracy', '0.8', 'region=EU'],
        ],
        what,
      );
      assert.ok(metrics.some((_, i) => !toolkitMarks(second.text)[i]), `${what}: the user's own metrics stay`);
    }
    assert.deepEqual(errorsOf(dir, file, second.text), errorsOf(dir, file, text), `${what}: no new errors`);
  }
});

test("comments inside the list Runwise writes into survive, and its entry is replaced where it was", () => {
  const text = [
    '---',
    'model-index:',
    '- name: churn   # the model',
    '  results:',
    '  # measured by hand',
    '  - task: {type: tabular-classification}',
    '    dataset: {type: csv, name: holdout}',
    '    metrics: [{type: accuracy, value: 0.5}]',
    '---',
    'Body text.',
    '',
  ].join('\n');
  const once = updateCardText(text, evaluation('a'.repeat(32)), { file: 'README.md', modelName: 'churn' }).text;
  const twice = updateCardText(once, evaluation('c'.repeat(32)), { file: 'README.md', modelName: 'churn' }).text;
  assert.ok(twice.startsWith(text.split('---\nBody')[0]!.slice(0, text.indexOf('  - task'))), 'everything before the new entry is as written');
  assert.match(twice, /# measured by hand\n {2}- task: \{type: tabular-classification\}/);
  assert.match(twice, /\n {2}- task:\n {6}type: tabular-classification\n {6}name: Binary classification\n/, 'indented like the list it joins');
  assert.equal(twice.match(/Runwise evaluation/g)?.length, 1);
  assert.ok(twice.endsWith('---\nBody text.\n'));
});

test("a comment closing Runwise's entry stays, and the entry after it is left whole (Hugging Face and Model Card Toolkit)", () => {
  for (const indent of ['', '      ', '        ', '          ']) {
    const text = [
      '---',
      'model-index:',
      '  - name: churn',
      '    results:',
      '      - task:',
      '          type: tabular-classification',
      '        metrics:',
      '          - type: accuracy',
      '            value: 0.1',
      '        source:',
      `          name: ${HF_SOURCE_NAME}`,
      '          url: runs:/0000',
      `${indent}# a comment after Runwise's entry`,
      '      - task:',
      '          type: other',
      '        dataset: {type: x, name: y}',
      '        metrics: []',
      '---',
      '',
    ].join('\n');
    const once = updateCardText(text, evaluation('a'.repeat(32)), { file: 'README.md', modelName: 'churn' }).text;
    const what = `comment at column ${indent.length}`;
    const results = (cardData('README.md', once)['model-index'] as { results: { task: { type: string }; dataset: { name: string } }[] }[])[0]!.results;
    assert.deepEqual(results.map((r) => r.task.type), ['tabular-classification', 'other'], what);
    assert.equal(results[1]!.dataset.name, 'y', what);
    // Deeper than the entry's keys (column 10), the parser counts the comment as part of the entry's
    // last value, which is replaced with it; the next entry is whole either way.
    const kept = indent.length <= 8 ? `${indent}# a comment after Runwise's entry\n` : '';
    assert.ok(once.includes(`${kept}      - task:\n          type: other\n`), `${what}: the comment and the next entry as written`);
    assert.equal(updateCardText(once, evaluation('a'.repeat(32)), { file: 'README.md', modelName: 'churn' }).text, once, `${what}: the same evaluation again changes nothing`);
  }
  const toolkit = [
    'quantitative_analysis:',
    '  performance_metrics:',
    `    - type: accuracy`,
    `      value: 0.1`,
    `      name: '${MCT_NAME_PREFIX}Accuracy'`,
    '      # reviewed by hand below',
    '    - type: accuracy',
    '      value: 0.7',
    '      name: Human review',
    '',
  ].join('\n');
  const updated = updateCardText(toolkit, evaluation('a'.repeat(32)), { file: 'churn.modelcard.yaml', modelName: 'churn' }).text;
  // A block scalar's own lines that start with '#' are text, not comments: they go with the entry.
  const block = toolkit.replace('      # reviewed by hand below\n', '      description: |\n        Reviewed.\n        # Not a comment\n');
  const blockUpdated = parse(updateCardText(block, evaluation('a'.repeat(32)), { file: 'churn.modelcard.yaml', modelName: 'churn' }).text) as { quantitative_analysis: { performance_metrics: { name: string; description?: string }[] } };
  assert.ok(!blockUpdated.quantitative_analysis.performance_metrics.some((m) => m.description !== undefined), 'the replaced entry takes its description with it');
  assert.deepEqual(blockUpdated.quantitative_analysis.performance_metrics.filter((m) => m.name === 'Human review').length, 1);
  const metrics = (parse(updated) as { quantitative_analysis: { performance_metrics: { name: string; value: number }[] } }).quantitative_analysis.performance_metrics;
  assert.deepEqual(metrics.filter((m) => m.name === 'Human review').map((m) => m.value), [0.7]);
  assert.ok(updated.includes('      # reviewed by hand below\n    - type: accuracy\n      value: 0.7\n'));
});

test('cards that cannot be edited safely are refused with file:line and what was expected', () => {
  assert.throws(
    () => updateCardText('---\nmodel-index: [{name: churn, results: [{task: {type: x}}]}]\n---\n', evaluation('a'.repeat(32)), { file: 'README.md', modelName: 'churn' }),
    (e: unknown) => e instanceof CardUpdateError && /^README\.md:2: expected `model-index` written as a block list/.test(e.message),
  );
  assert.throws(
    () => updateCardText('a: [1\nb: 2\n', evaluation('a'.repeat(32)), { file: 'm.modelcard.yaml', modelName: 'churn' }),
    (e: unknown) => e instanceof CardUpdateError && /^m\.modelcard\.yaml:\d+:\d+: the card's YAML does not parse/.test(e.message),
  );
  // The file's line and column, not the YAML's (which starts a line after the front matter's `---`), and no dangling colon.
  assert.throws(
    () => updateCardText('---\nlicense: mit\nmodel-index:\n- name: x\n  results: [\n---\n# Card\n', evaluation('a'.repeat(32)), { file: 'README.md', modelName: 'churn' }),
    (e: unknown) => e instanceof CardUpdateError && /^README\.md:6:1: the card's YAML does not parse: [^\n]*[^:]$/.test(e.message),
  );
  // A key given twice (`card validate`'s duplicate-key error): either could be the one an update reads.
  assert.throws(
    () => updateCardText('---\nlicense: mit\nlicense: apache-2.0\n---\n', evaluation('a'.repeat(32)), { file: 'README.md', modelName: 'churn' }),
    (e: unknown) => e instanceof CardUpdateError && /^README\.md:3:1: the card's YAML does not parse: Map keys must be unique/.test(e.message),
  );
  assert.throws(
    () => updateCardText('quantitative_analysis: [1]\n', evaluation('a'.repeat(32)), { file: 'm.modelcard.yaml', modelName: 'churn' }),
    (e: unknown) => e instanceof CardUpdateError && /^m\.modelcard\.yaml:1: expected `quantitative_analysis` to be a mapping/.test(e.message),
  );
  assert.throws(() => updateCardText('x', evaluation('a'.repeat(32)), { file: 'notes.txt', modelName: 'churn' }), /not a model card/);
  // Front matter opened and never closed (or closed with `...`, which the Hub does not read as the end).
  for (const text of ['---\nlicense: mit\n# Title\n', '---\nlicense: mit\n...\n# Title\n', '\n\n---\r\nlicense: mit\r\n', '---\n# kept\nlicense: mit\n']) {
    assert.throws(
      () => updateCardText(text, evaluation('a'.repeat(32)), { file: 'README.md', modelName: 'churn' }),
      (e: unknown) => e instanceof CardUpdateError && /^README\.md:\d: the front matter opened here is never closed/.test(e.message),
      JSON.stringify(text),
    );
  }
});

test("an alias with no anchor is named at its line; an anchor in Runwise's entry that a key outside it uses is refused, not written dangling", async () => {
  const e = evaluation('a'.repeat(32));
  for (const [file, text, line] of [
    ['README.md', '---\nlicense: mit\ndescription: "see *nope"  # or *nope\ntags: *nope\n---\n', 4],
    ['churn.modelcard.yaml', 'model_details:\n  name: *nope\n', 2],
  ] as const) {
    assert.throws(() => updateCardText(text, e, { file, modelName: 'churn' }), new RegExp(`^CardUpdateError: ${file.replace('.', '\\.')}:${line}: the card's YAML uses the alias \\*nope with no anchor &nope before it`));
  }
  // Runwise's result holds `&ds`, which `eval_data` outside it uses: rewriting the result would leave `*ds` dangling.
  const anchored = [
    '---',
    'model-index:',
    '  - name: churn',
    '    results:',
    '      - task: {type: tabular-classification}',
    '        dataset: &ds {type: data/test.csv, name: test}',
    '        metrics: [{type: accuracy, value: 0.8}]',
    `        source: {name: ${HF_SOURCE_NAME}, url: "runs:/old"}`,
    'eval_data: *ds',
    '---',
    '',
  ].join('\n');
  assert.throws(() => updateCardText(anchored, e, { file: 'README.md', modelName: 'churn' }), /README\.md: the anchor &ds is set inside Runwise's entry, which the update rewrites, and \*ds uses it elsewhere: move the anchor out of Runwise's entry/);
  assert.throws(() => withoutRunwiseEntries(anchored, 'README.md'), /the anchor &ds is set inside Runwise's entry/);
  // The CLI says it as its one-line error, not an internal error with a stack.
  const ws = tempWorkspace('card-alias', { 'model.onnx': onnxBytes('alias-model'), 'README.md': '---\nlicense: *nope\n---\n' });
  const tracker = Tracker.open(ws);
  const v = await tracker.registerModelFiles('churn', path.join(ws, 'model.onnx'));
  const run = tracker.createRun({ runName: 'evaluate', tags: [{ key: MODEL_SHA256_TAG, value: v.sha256 }] });
  tracker.logBatch(run.info.runId, { metrics: [{ key: 'roc_auc', value: 0.8, timestamp: 1, step: 0 }] });
  tracker.updateRun(run.info.runId, { status: 'FINISHED' });
  tracker.close();
  const r = await cli('card', 'update', '--workspace', ws, path.join(ws, 'README.md'), '--from', 'churn/1');
  assert.deepEqual([r.code, r.err], [1, "runwise: README.md:2: the card's YAML uses the alias *nope with no anchor &nope before it: no YAML reader can load the card\n"]);
});

test('a horizontal rule above the text is not front matter: the card gets its metadata on top', () => {
  for (const text of ['---\n\n# Title\n\nText: with a colon\n', '---\nSome words\n', '---\nNote: this model is a research prototype.\n\n# Churn\n', '---\n\nWarning: not for production\n']) {
    const updated = updateCardText(text, evaluation('a'.repeat(32)), { file: 'README.md', modelName: 'churn' }).text;
    assert.ok(updated.startsWith('---\nmodel-index:\n') && updated.endsWith(`---\n${text}`), updated);
  }
});

test('empty front matter as written (`---` then `---`) and as huggingface_hub writes empty card data (`{}`) is filled in place', () => {
  const e = evaluation('a'.repeat(32));
  const entry = /model-index:[^]*url: runs:\/a{32}(\r?\n)/;
  const cases: [string, string][] = [
    // The Hub reads LF `---`/`---` as no front matter, CRLF as an empty one: either way one block, no rule left in the text.
    ['---\n---\n\n# Model\n', '---\nE---\n\n# Model\n'],
    ['---\r\n---\r\n\r\n# Model\r\n', '---\r\nE---\r\n\r\n# Model\r\n'],
    ['---\n---', '---\nE---\n'],
    // ModelCard.from_template(ModelCardData()): a comment, then `{}`.
    ['---\n# For reference on model card metadata, see the spec\n{}\n---\n\n# Model\n', '---\n# For reference on model card metadata, see the spec\nE---\n\n# Model\n'],
    ['---\r\n{}  \r\n---\r\n', '---\r\nE---\r\n'],
  ];
  for (const [text, expected] of cases) {
    const out = updateCardText(text, e, { file: 'README.md', modelName: 'churn' }).text;
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    assert.equal(out.replace(entry, 'E'), expected, JSON.stringify(out));
    assert.ok(!out.replace(/\r\n/g, '').includes('\n') || eol === '\n', `the file's line breaks: ${JSON.stringify(out)}`);
    assert.ok(Array.isArray((parse(extractFrontMatter(out)!.yaml) as Record<string, unknown>)['model-index']), 'the Hub reads the result');
  }
  // A flow mapping with content, or a comment after `{}`, is still refused (it cannot be kept as written).
  assert.throws(() => updateCardText('---\n{license: mit}\n---\n', e, { file: 'README.md', modelName: 'churn' }), /README\.md:2: expected a block mapping/);
  // The toolkit's YAML card: an empty `quantitative_analysis: {}` filled.
  const mct = updateCardText('model_details: {name: x}\nquantitative_analysis: {}\n', e, { file: 'm.modelcard.yaml', modelName: 'churn' }).text;
  assert.match(mct, /^model_details: \{name: x\}\nquantitative_analysis:\n {2}performance_metrics:\n {4}- type: accuracy # runwise\n/);
});

test('where the metadata is added: before a document end marker `...`, at the root keys\' own indentation, with the front matter\'s line breaks', () => {
  const e = evaluation('a'.repeat(32));
  const read = (text: string) => parse(extractFrontMatter(text)!.yaml) as Record<string, unknown>;
  // `...` ends the YAML document inside the front matter: the entry goes before it, so the Hub's
  // yaml.safe_load still reads one document.
  const dots = updateCardText('---\nlicense: mit\n...\n---\n# Body\n', e, { file: 'README.md', modelName: 'churn' }).text;
  assert.ok(dots.startsWith('---\nlicense: mit\nmodel-index:\n'), dots);
  assert.ok(dots.endsWith('...\n---\n# Body\n'));
  assert.equal(read(dots).license, 'mit');
  assert.ok(Array.isArray(read(dots)['model-index']));
  // A root mapping indented by two spaces: the new key at the same indentation.
  const indented = updateCardText('---\n  license: mit\n  tags:\n    - churn\n---\n', e, { file: 'README.md', modelName: 'churn' }).text;
  assert.match(indented, /\n {2}model-index:\n {4}- name: churn\n/);
  assert.deepEqual(Object.keys(read(indented)), ['license', 'tags', 'model-index']);
  // A byte order mark stays first, and the new front matter comes right after it.
  const bom = updateCardText('\uFEFF# Churn\r\nText.\r\n', e, { file: 'README.md', modelName: 'churn' }).text;
  assert.ok(bom.startsWith('\uFEFF---\r\nmodel-index:'), JSON.stringify(bom.slice(0, 20)));
  assert.ok(bom.endsWith('---\r\n# Churn\r\nText.\r\n'));
  assert.equal(bom.split('\uFEFF').length, 2, 'one byte order mark');
  // LF front matter in a file whose body uses CRLF: the inserted lines use LF.
  const mixed = updateCardText('---\nlicense: mit\n---\r\n# Body\r\nmore\r\n', e, { file: 'README.md', modelName: 'churn' });
  assert.doesNotMatch(mixed.edits[0]!.text, /\r/);
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

test('card update --from NAME/VERSION writes the latest finished evaluation; card validate prints the diagnostics', async () => {
  const ws = tempWorkspace('card', {
    'model.onnx': onnxBytes('model-bytes'),
    'README.md': '---\n# kept\nlicense: mit\n---\n# Churn\n',
    'bad/README.md': '---\nlicense: not-a-license-id\nmodel-index: 3\n---\n',
  });
  const tracker = Tracker.open(ws);
  await tracker.registerModelFiles('churn', path.join(ws, 'model.onnx'));
  const sha = createHash('sha256').update(onnxBytes('model-bytes')).digest('hex');
  const evalRun = (roc: number, status: 'FINISHED' | 'FAILED') => {
    const run = tracker.createRun({ runName: 'evaluate', tags: [{ key: MODEL_SHA256_TAG, value: sha }] });
    tracker.logBatch(run.info.runId, { metrics: [{ key: 'roc_auc', value: roc, timestamp: 1, step: 0 }] });
    tracker.logInputs(run.info.runId, [{ dataset: { name: 'test', digest: 'abcdef0123456789', sourceType: 'local', source: 'data/test.csv' }, tags: [] }]);
    tracker.updateRun(run.info.runId, { status });
    return run.info.runId;
  };
  const picked = evalRun(0.77, 'FINISHED');
  const good = evalRun(0.88, 'FINISHED');
  evalRun(0.1, 'FAILED');
  const unrelated = tracker.createRun({ runName: 'train' }).info.runId;
  tracker.close();

  const missing = await cli('card', 'update', '--workspace', ws, 'README.md', '--from', 'nobody/1');
  assert.equal(missing.code, 1, missing.err);
  const done = await cli('card', 'update', '--workspace', ws, path.join(ws, 'README.md'), '--from', 'churn/1');
  assert.equal(done.code, 0, done.err);
  assert.match(done.out, new RegExp(`Updated README\\.md from churn/1 \\(evaluation run ${good} on data/test\\.csv\\): roc_auc 0\\.88`));
  const card = readFileSync(path.join(ws, 'README.md'), 'utf8');
  assert.ok(card.startsWith('---\n# kept\nlicense: mit\nmodel-index:\n'));
  assert.match(card, /value: 0\.88/, 'the failed evaluation is not used');
  const again = await cli('card', 'update', '--workspace', ws, path.join(ws, 'README.md'), '--from', 'churn/1');
  assert.match(again.out, /already carries the evaluation of churn\/1/);
  assert.equal(readFileSync(path.join(ws, 'README.md'), 'utf8'), card);
  // --run picks another evaluation of the same bytes (its data, threshold or task); --json says which.
  const byRun = await cli('card', 'update', '--workspace', ws, path.join(ws, 'README.md'), '--from', 'churn/1', '--run', picked.slice(0, 8), '--json');
  assert.equal(byRun.code, 0, byRun.err);
  const shown = JSON.parse(byRun.out);
  assert.deepEqual([shown.run_id, shown.data, shown.changed, shown.metrics], [picked, { path: 'data/test.csv', sha256: 'abcdef0123456789' }, true, { roc_auc: 0.77 }]);
  assert.match(readFileSync(path.join(ws, 'README.md'), 'utf8'), /value: 0\.77/);
  const notAnEvaluation = await cli('card', 'update', '--workspace', ws, path.join(ws, 'README.md'), '--from', 'churn/1', '--run', unrelated);
  assert.equal(notAnEvaluation.code, 1);
  assert.match(notAnEvaluation.err, new RegExp(`run ${unrelated.slice(0, 8)} is not a finished evaluation of churn/1`));
  await cli('card', 'update', '--workspace', ws, path.join(ws, 'README.md'), '--from', 'churn/1');
  assert.equal(readFileSync(path.join(ws, 'README.md'), 'utf8'), card, 'back to the latest');

  // A link in the workspace to a card outside it: refused, the file outside left as it was.
  const outside = tempWorkspace('card-outside', { 'README.md': '---\nlicense: mit\n---\n' });
  const { symlinkSync } = await import('node:fs');
  symlinkSync(path.join(outside, 'README.md'), path.join(ws, 'linked.md'));
  const linked = await cli('card', 'update', '--workspace', ws, path.join(ws, 'linked.md'), '--from', 'churn/1');
  assert.equal(linked.code, 1, linked.out);
  assert.match(linked.err, /linked\.md' is a link to .*README\.md, outside the workspace/);
  assert.equal(readFileSync(path.join(outside, 'README.md'), 'utf8'), '---\nlicense: mit\n---\n');

  const valid = await cli('card', 'validate', '--workspace', ws, path.join(ws, 'README.md'));
  assert.equal(valid.code, 0, valid.out + valid.err);
  const invalid = await cli('card', 'validate', '--workspace', ws, path.join(ws, 'bad', 'README.md'));
  assert.equal(invalid.code, 1);
  assert.match(invalid.out, /^bad\/README\.md:3:\d+: error /m);
});

test('card validate and card update on files named as cards: any Markdown name, never-closed front matter, binary or non-UTF-8 files, a required value left empty', async () => {
  const latin1 = Buffer.concat([Buffer.from('---\nlicense: mit\n---\nCaf'), Buffer.from([0xe9]), Buffer.from('\n')]);
  const binary = Buffer.from([0x2d, 0x2d, 0x2d, 0x0a, 0x00, 0x01, 0x02, 0x0a, 0x2d, 0x2d, 0x2d, 0x0a]);
  const ws = tempWorkspace('card-files', {
    'model.onnx': onnxBytes('model-bytes'),
    'MODEL_CARD.md': '---\nlicense: mit\nmodel-index: 3\n---\n# Churn\n',
    'unclosed.md': '---\nlicense: mit\n# Churn\n',
    'plain.md': '# Churn\nNo metadata.\n',
    'empty-value.md': '---\nmodel-index:\n  - name: churn\n    results:\n      - task:\n          type: tabular-classification\n        dataset:\n          type: csv\n          name: test\n        metrics:\n          - type: accuracy\n            value:\n---\n',
  });
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path.join(ws, 'latin1.md'), latin1);
  writeFileSync(path.join(ws, 'binary.md'), binary);
  // A Markdown card not named README.md is validated, not skipped.
  const named = await cli('card', 'validate', '--workspace', ws, path.join(ws, 'MODEL_CARD.md'));
  assert.equal(named.code, 1, named.out + named.err);
  assert.match(named.out, /^MODEL_CARD\.md:3:\d+: error /m);
  const unclosed = await cli('card', 'validate', '--workspace', ws, path.join(ws, 'unclosed.md'));
  assert.equal(unclosed.code, 1);
  assert.match(unclosed.out, /^unclosed\.md:1:1: error unclosed-front-matter The front matter opened here is never closed/);
  // --json too: the diagnostic as check gives it, not only a line on stderr.
  const unclosedJson = await cli('card', 'validate', '--workspace', ws, path.join(ws, 'unclosed.md'), '--json');
  assert.equal(unclosedJson.code, 1);
  assert.deepEqual(JSON.parse(unclosedJson.out).map((f: { code: string; line: number }) => [f.code, f.line]), [['unclosed-front-matter', 1]]);
  const plain = await cli('card', 'validate', '--workspace', ws, path.join(ws, 'plain.md'));
  assert.equal(plain.code, 1);
  assert.match(plain.err, /plain\.md: no YAML front matter/);
  writeFileSync(path.join(ws, 'emptyfm.md'), '---\n---\n# Churn\n');
  const emptyFront = await cli('card', 'validate', '--workspace', ws, path.join(ws, 'emptyfm.md'));
  assert.match(emptyFront.err, /emptyfm\.md: the front matter is empty/);
  // What stops a card being read is said.
  const { mkdirSync } = await import('node:fs');
  mkdirSync(path.join(ws, 'folder.md'));
  assert.match((await cli('card', 'validate', '--workspace', ws, path.join(ws, 'folder.md'))).err, /Model card 'folder\.md' cannot be read: it is a folder, not a file/);
  assert.match((await cli('card', 'validate', '--workspace', ws, path.join(ws, 'missing.md'))).err, /cannot be read: there is no such file/);
  const empty = await cli('card', 'validate', '--workspace', ws, path.join(ws, 'empty-value.md'));
  assert.equal(empty.code, 1);
  assert.match(empty.out, /empty-value\.md:12:\d+: error missing-value Required key 'value' is empty/);
  for (const [file, message] of [['latin1.md', /latin1\.md: not UTF-8 text/], ['binary.md', /binary\.md: not a text file \(a NUL byte at offset 4\)/]] as const) {
    const v = await cli('card', 'validate', '--workspace', ws, path.join(ws, file));
    assert.equal(v.code, 1, file);
    assert.match(v.err, message);
  }

  // card update refuses the same files and leaves every byte as it was.
  const tracker = Tracker.open(ws);
  await tracker.registerModelFiles('churn', path.join(ws, 'model.onnx'));
  const run = tracker.createRun({ runName: 'evaluate', tags: [{ key: MODEL_SHA256_TAG, value: createHash('sha256').update(onnxBytes('model-bytes')).digest('hex') }] });
  tracker.logBatch(run.info.runId, { metrics: [{ key: 'roc_auc', value: 0.9, timestamp: 1, step: 0 }] });
  tracker.updateRun(run.info.runId, { status: 'FINISHED' });
  tracker.close();
  for (const [file, bytes, message] of [
    ['latin1.md', latin1, /not UTF-8 text/],
    ['binary.md', binary, /not a text file/],
    ['unclosed.md', Buffer.from('---\nlicense: mit\n# Churn\n'), /never closed/],
  ] as const) {
    const u = await cli('card', 'update', '--workspace', ws, path.join(ws, file), '--from', 'churn/1');
    assert.equal(u.code, 1, file);
    assert.match(u.err, message);
    assert.deepEqual(readFileSync(path.join(ws, file)), bytes, `${file} is left as it was`);
  }
  // A card with another name is updated.
  const other = await cli('card', 'update', '--workspace', ws, path.join(ws, 'plain.md'), '--from', 'churn/1');
  assert.equal(other.code, 0, other.err);
  assert.ok(readFileSync(path.join(ws, 'plain.md'), 'utf8').startsWith('---\nmodel-index:\n'));
});

test("a Model Card Toolkit card gets the toolkit's PerformanceMetric fields only, the value as text: no threshold (its from_json refuses one)", () => {
  const metrics = toolkitMetrics(evaluation('a'.repeat(32)));
  assert.deepEqual(metrics, [
    { type: 'accuracy', value: '0.84', slice: 'overall' },
    { type: 'roc_auc', value: '0.912346', slice: 'overall' },
    { type: 'accuracy', value: '0.8', slice: 'region=EU' },
  ]);
});

test('two versions compared on one dataset when both were evaluated on it, else said not comparable', () => {
  const ws = tempWorkspace('compare-evaluations');
  const tracker = Tracker.open(ws);
  try {
    let clock = 1000;
    const evaluate = (sha: string, source: string, digest: string) => {
      const run = tracker.createRun({ runName: 'evaluate', startTime: (clock += 10), tags: [{ key: MODEL_SHA256_TAG, value: sha }] });
      tracker.logInputs(run.info.runId, [{ dataset: { name: source, digest, sourceType: 'local', source }, tags: [] }]);
      tracker.updateRun(run.info.runId, { status: 'FINISHED' });
      return run.info.runId;
    };
    const v1OnTest = evaluate('a'.repeat(64), 'data/test.csv', 'd1');
    const v1OnBig = evaluate('a'.repeat(64), 'data/big.csv', 'd2');
    const v3OnTest = evaluate('b'.repeat(64), 'data/test.csv', 'd1');
    // v1's latest is on big.csv, v3's only one on test.csv: the shared dataset's pair is taken.
    const shared = comparableEvaluations(tracker, 'a'.repeat(64), 'b'.repeat(64))!;
    assert.deepEqual([shared.a, shared.b, shared.shared, shared.datasets[0]?.source], [v1OnTest, v3OnTest, true, 'data/test.csv']);
    assert.notEqual(shared.a, v1OnBig);
    // No shared dataset: each one's latest, and not comparable.
    const v4 = evaluate('c'.repeat(64), 'data/other.csv', 'd9');
    const apart = comparableEvaluations(tracker, 'a'.repeat(64), 'c'.repeat(64))!;
    assert.deepEqual([apart.a, apart.b, apart.shared], [v1OnBig, v4, false]);
    assert.equal(comparableEvaluations(tracker, 'a'.repeat(64), 'e'.repeat(64)), undefined);
    // Worse on the same data, by the first metric both have: higher roc_auc is better, lower log_loss.
    const withMetrics = (sha: string, metrics: Record<string, number>) => {
      const id = evaluate(sha, 'data/test.csv', 'd1');
      tracker.logBatch(id, { metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, timestamp: 1, step: 0 })) });
    };
    withMetrics('f'.repeat(64), { roc_auc: 0.85, log_loss: 0.3 });
    withMetrics('0'.repeat(64), { roc_auc: 0.81, log_loss: 0.2 });
    assert.deepEqual(worseOnSameData(tracker, 'f'.repeat(64), '0'.repeat(64), ['roc_auc', 'log_loss']), { metric: 'roc_auc', from: 0.85, to: 0.81, dataset: 'data/test.csv' });
    assert.equal(worseOnSameData(tracker, '0'.repeat(64), 'f'.repeat(64), ['roc_auc']), undefined, 'better is not worse');
    assert.deepEqual(worseOnSameData(tracker, '0'.repeat(64), 'f'.repeat(64), ['log_loss'])?.metric, 'log_loss', 'a higher log loss is worse');
    assert.equal(worseOnSameData(tracker, 'f'.repeat(64), 'c'.repeat(64), ['roc_auc']), undefined, 'not on the same data: not judged');
    // The same file at another threshold is not the same measurement.
    const otherThreshold = evaluate('1'.repeat(64), 'data/test.csv', 'd1');
    tracker.logBatch(otherThreshold, { params: [{ key: 'threshold', value: '0.3' }], metrics: [{ key: 'roc_auc', value: 0.5, timestamp: 1, step: 0 }] });
    assert.equal(comparableEvaluations(tracker, 'f'.repeat(64), '1'.repeat(64))!.shared, false);
  } finally {
    tracker.close();
  }
});

test('a second YAML document in a card is named at its line, without the parser\'s advice to its caller', () => {
  assert.throws(
    () => checkCardYaml('model_details:\n  name: churn\n---\nother: 1\n', 'churn.modelcard.yaml'),
    (e: Error) => e instanceof CardUpdateError && e.message === "churn.modelcard.yaml:3:1: the card's YAML does not parse: a second YAML document starts here (a `---` or `...` line); a card holds one",
  );
});

test('a metric change says its sign and whether it is better for that metric', () => {
  const f = (v: number) => String(Number(v.toPrecision(4)));
  assert.equal(metricChange('accuracy', 0.8525, 0.8325, f), '−0.02 (worse)');
  assert.equal(metricChange('accuracy', 0.8325, 0.8525, f), '+0.02 (better)');
  assert.equal(metricChange('log_loss', 0.41, 0.4, f), '−0.01 (better)');
  assert.equal(metricChange('latency_p50_ms', 2, 3, f), '+1 (worse)');
  assert.equal(metricChange('rows', 100, 200, f), '+100');
  assert.equal(metricChange('f1', 0.5, 0.5, f), '0');
  assert.equal(metricChange('roc_auc', Number.NaN, 0.5, f), '');
  assert.deepEqual(['mae', 'rmse', 'r2', 'f1_macro', 'rows_per_second'].map(betterWhen), ['lower', 'lower', 'higher', 'higher', 'higher']);
});

test("a Model Card Toolkit card gets only the toolkit's fields, marked by a comment; entries an earlier version named are replaced", () => {
  const card = 'model_details:\n  name: churn\nquantitative_analysis:\n  performance_metrics: []  # none yet\n';
  const once = updateCardText(card, evaluation('a'.repeat(32)), { file: 'churn.modelcard.yaml', modelName: 'churn' }).text;
  assert.equal(
    once,
    [
      'model_details:',
      '  name: churn',
      'quantitative_analysis:',
      '  performance_metrics: # none yet',
      '    - type: accuracy # runwise',
      '      value: "0.84"',
      '      slice: overall',
      '    - type: roc_auc # runwise',
      '      value: "0.912346"',
      '      slice: overall',
      '    - type: accuracy # runwise',
      '      value: "0.8"',
      '      slice: region=EU',
      '',
    ].join('\n'),
    "the comment on the emptied key's line stays",
  );
  assert.equal(updateCardText(once, evaluation('a'.repeat(32)), { file: 'churn.modelcard.yaml', modelName: 'churn' }).text, once, 'found again by its mark: nothing changes');
  // A card an earlier Runwise wrote (`name: 'Runwise: …'`, which the toolkit's loader refuses): its entries replaced by marked ones.
  const legacy = `quantitative_analysis:\n  performance_metrics:\n  - type: accuracy\n    value: 0.1\n    slice: overall\n    name: '${MCT_NAME_PREFIX}Accuracy'\n  - type: recall\n    value: 0.5\n`;
  const migrated = updateCardText(legacy, evaluation('a'.repeat(32)), { file: 'churn.modelcard.yaml', modelName: 'churn' }).text;
  assert.ok(!migrated.includes('name:'), migrated);
  assert.deepEqual(toolkitMarks(migrated), [true, true, true, false]);
  assert.ok(migrated.includes('  - type: accuracy # runwise\n    value: "0.84"\n'), `written at the card's own list indentation:\n${migrated}`);
});

test('a Hugging Face card: a dataset outside the workspace is named by its file alone; Runwise results in two model-index items become one', () => {
  const outside = { ...evaluation('a'.repeat(32)), dataset: { name: 'held_out', path: '/home/ana/private/held_out.csv', sha256: 'ab'.repeat(32) } };
  const written = updateCardText('---\nlicense: mit\n---\n', outside, { file: 'README.md', modelName: 'churn' }).text;
  assert.ok(written.includes('      type: held_out.csv\n'), written);
  assert.ok(!written.includes('/home/ana'), written);
  const merged = [
    '---',
    'model-index:',
    '- name: churn',
    '  results:',
    '  - task: {type: tabular-classification}',
    '    dataset: {type: a.csv, name: a}',
    '    metrics: [{type: accuracy, value: 0.6}]',
    `    source: {name: ${HF_SOURCE_NAME}, url: 'runs:/old1'}`,
    '- name: churn-copy',
    '  results:',
    '  - task: {type: tabular-classification}',
    '    dataset: {type: b.csv, name: b}',
    '    metrics: [{type: accuracy, value: 0.6}]',
    `    source: {name: ${HF_SOURCE_NAME}, url: 'runs:/old2'}`,
    '  - task: {type: other}',
    '    dataset: {type: mine, name: mine}',
    '    metrics: [{type: f1, value: 0.1}]',
    '---',
    '',
  ].join('\n');
  const once = updateCardText(merged, evaluation('b'.repeat(32)), { file: 'README.md', modelName: 'churn' }).text;
  const index = parse(extractFrontMatter(once)!.yaml)['model-index'] as { name: string; results: { source?: { url: string }; task: { type: string } }[] }[];
  assert.deepEqual(index.map((m) => [m.name, m.results.map((r) => r.source?.url ?? r.task.type)]), [['churn', [`runs:/${'b'.repeat(32)}`]], ['churn-copy', ['other']]]);
  // When an item had only Runwise's result, its list is left empty, not missing.
  const only = merged.replace("  - task: {type: other}\n    dataset: {type: mine, name: mine}\n    metrics: [{type: f1, value: 0.1}]\n", '');
  const emptied = parse(extractFrontMatter(updateCardText(only, evaluation('b'.repeat(32)), { file: 'README.md', modelName: 'churn' }).text)!.yaml)['model-index'] as { results: unknown[] }[];
  assert.deepEqual(emptied[1]!.results, []);
});

test("the list style is read from the card's lists, not from a block scalar's text", () => {
  const card = [
    '---',
    'widget_notes: |',
    '  Notes:',
    '  - first',
    'model-index:',
    '  - name: churn',
    '    results:',
    '      - task:',
    '          type: other',
    '        metrics:',
    '          - type: f1',
    '            value: 0.1',
    '---',
    '',
  ].join('\n');
  const updated = updateCardText(card, evaluation('a'.repeat(32)), { file: 'README.md', modelName: 'churn' }).text;
  assert.ok(updated.includes('        metrics:\n          - type: accuracy\n'), updated);
});

test("cardModelName: the model a card names, for a registration's suggested name", () => {
  assert.equal(cardModelName('---\nlicense: mit\nmodel-index:\n  - name: acme/churn-small\n    results: []\n---\n# c\n', 'README.md'), 'churn-small');
  assert.equal(cardModelName('---\nmodel_name: churn\n---\n', 'MODEL_CARD.md'), 'churn');
  assert.equal(cardModelName('model_details:\n  name: churn-mct\n', 'churn.modelcard.yaml'), 'churn-mct');
  assert.equal(cardModelName('# no front matter\n', 'README.md'), undefined);
  assert.equal(cardModelName('---\nmodel-index: [oops\n---\n', 'README.md'), undefined, 'YAML that does not parse');
  assert.equal(cardModelName('---\nlicense: mit\n---\n', 'README.md'), undefined);
});

test("text PyYAML would read as another type (a dataset no.csv, a model named on) is quoted; card validate warns of an unquoted `no`", async () => {
  const e: CardEvaluation = { ...evaluation('a'.repeat(32)), dataset: { name: 'no', path: 'data/2024-01-01.csv', sha256: 'ab'.repeat(32) } };
  const out = updateCardText('---\nlicense: mit\n---\n', e, { file: 'README.md', modelName: 'on' }).text;
  assert.match(out, /- name: "on"\n/);
  assert.match(out, /name: "no"\n/);
  assert.match(out, /type: data\/2024-01-01\.csv\n/, 'a path PyYAML reads as text stays plain');
  const equals = updateCardText('---\nlicense: mit\n---\n', { ...e, dataset: { name: '=', path: 'data/=.csv', sha256: 'ab'.repeat(32) } }, { file: 'README.md', modelName: 'churn' }).text;
  assert.match(equals, /name: "="\n/, "'=' alone is PyYAML's value key");
  assert.match(out, /value: 0\.84\n/, 'numbers stay numbers');
  const data = parse(extractFrontMatter(out)!.yaml, { version: '1.1' }) as { 'model-index': { name: unknown; results: { dataset: { name: unknown } }[] }[] };
  assert.equal(data['model-index'][0]!.name, 'on');
  assert.equal(data['model-index'][0]!.results[0]!.dataset.name, 'no');

  const ws = tempWorkspace('card-yaml11', { 'README.md': '---\nlanguage:\n  - en\n  - no\n  - "no"\nlicense: mit\n---\n' });
  const checked = await cli('card', 'validate', '--workspace', ws, path.join(ws, 'README.md'));
  assert.equal(checked.code, 0, checked.err);
  const warnings = checked.out.split('\n').filter((l) => l.includes('yaml11-boolean'));
  assert.equal(warnings.length, 1, checked.out);
  assert.match(warnings[0]!, /^README\.md:4:5: warning yaml11-boolean PyYAML \(YAML 1\.1, as huggingface_hub and yaml\.safe_load read cards\) reads unquoted 'no' as false/);
});

test('card validate warns of a byte order mark before a README\'s front matter (huggingface_hub finds no metadata after it); none without one', async () => {
  const ws = tempWorkspace('card-bom', { 'README.md': '\uFEFF---\nlicense: mit\n---\n# Churn\n', 'plain/README.md': '---\nlicense: mit\n---\n# Churn\n' });
  const checked = await cli('card', 'validate', '--workspace', ws, path.join(ws, 'README.md'));
  assert.equal(checked.code, 0, checked.err);
  assert.match(checked.out, /^README\.md:1:1: warning byte-order-mark The file starts with a byte order mark: huggingface_hub \(ModelCard\.load, metadata_load\) finds no metadata after it\./m);
  const plain = await cli('card', 'validate', '--workspace', ws, path.join(ws, 'plain/README.md'));
  assert.equal(plain.code, 0, plain.err);
  assert.doesNotMatch(plain.out, /byte-order-mark/);
  // A relative path not found from the current folder is read from the workspace, as check reads it.
  const relative = await cli('card', 'validate', '--workspace', ws, 'plain/README.md');
  assert.equal(relative.code, 0, relative.err);
});

test('a Hugging Face card gets averaged metrics as the spec has them: `type: f1` with `args: {average: macro}`; the toolkit keeps scikit-learn\'s names', () => {
  const multiclass: CardEvaluation = {
    ...evaluation('a'.repeat(32)),
    task: 'multiclass',
    metrics: [
      { key: 'accuracy', value: 0.8 },
      { key: 'f1_macro', value: 0.75 },
      { key: 'precision_weighted', value: 0.81 },
      { key: 'roc_auc_macro', value: 0.9 },
      { key: 'log_loss', value: 0.4 },
    ],
    threshold: undefined,
    slices: [],
  };
  const out = updateCardText('---\nlicense: mit\n---\n', multiclass, { file: 'README.md', modelName: 'churn' }).text;
  const index = (parse(extractFrontMatter(out)!.yaml) as { 'model-index': { results: { metrics: Record<string, unknown>[] }[] }[] })['model-index'];
  assert.deepEqual(index[0]!.results[0]!.metrics, [
    { type: 'accuracy', value: 0.8, name: 'Accuracy' },
    { type: 'f1', value: 0.75, name: 'F1 (macro)', args: { average: 'macro' } },
    { type: 'precision', value: 0.81, name: 'Precision (weighted)', args: { average: 'weighted' } },
    { type: 'roc_auc', value: 0.9, name: 'ROC AUC (macro)', args: { average: 'macro', multi_class: 'ovr' } },
    { type: 'log_loss', value: 0.4, name: 'Log loss' },
  ]);
  // The next update replaces the entry (it is Runwise's by its source), metrics and all.
  const again = updateCardText(out, evaluation('b'.repeat(32)), { file: 'README.md', modelName: 'churn' }).text;
  assert.equal((again.match(/Runwise evaluation/g) ?? []).length, 1);
  assert.doesNotMatch(again, /average/);
  const mct = toolkitMetrics(multiclass).map((m) => m.type);
  assert.deepEqual(mct, ['accuracy', 'f1_macro', 'precision_weighted', 'roc_auc_macro', 'log_loss']);
});

test("a Hugging Face result's dataset has no `args` (the card spec keeps it for load_dataset()'s arguments; a row count is none)", () => {
  const out = updateCardText('---\nlicense: mit\n---\n', evaluation('a'.repeat(32)), { file: 'README.md', modelName: 'churn' }).text;
  const data = parse(extractFrontMatter(out)!.yaml) as { 'model-index': { results: { dataset: Record<string, unknown> }[] }[] };
  assert.deepEqual(Object.keys(data['model-index'][0]!.results[0]!.dataset), ['type', 'name', 'revision']);
});

test("withoutRunwiseEntries: Runwise's results and metrics leave the card, every other byte stays (Hugging Face, the toolkit's YAML and JSON)", () => {
  const e = evaluation('a'.repeat(32));
  const hfBefore = '---\n# kept\nlicense: mit\nmodel-index:\n- name: churn\n  results:\n  - task: {type: tabular-classification}\n    dataset: {name: hand, type: hand}\n    metrics:\n    - {type: accuracy, value: 0.5}\n---\n# Body\n';
  const hf = updateCardText(hfBefore, e, { file: 'README.md', modelName: 'churn' }).text;
  assert.equal(withoutRunwiseEntries(hf, 'README.md').text, hfBefore, "the hand-written result stays; Runwise's goes");
  assert.equal(withoutRunwiseEntries(hfBefore, 'README.md').text, hfBefore);
  assert.equal(withoutRunwiseEntries('# No front matter\n', 'README.md').text, '# No front matter\n');

  const mctBefore = 'model_details:\n  name: churn\nquantitative_analysis:\n  performance_metrics:\n    - type: latency  # by hand\n      value: "12"\n';
  const mct = updateCardText(mctBefore, e, { file: 'churn.modelcard.yaml', modelName: 'churn' }).text;
  assert.notEqual(mct, mctBefore);
  assert.equal(withoutRunwiseEntries(mct, 'churn.modelcard.yaml').text, mctBefore);

  const jsonBefore = '{\n  "quantitative_analysis": {\n    "performance_metrics": [\n      {"type": "latency", "value": "12"}\n    ]\n  }\n}\n';
  const json = updateCardText(jsonBefore, e, { file: 'model_card.json', modelName: 'churn' }).text;
  assert.equal(withoutRunwiseEntries(json, 'model_card.json').text, jsonBefore);
  assert.equal(withoutRunwiseEntries('{"model_details": {}}', 'model_card.json').text, '{"model_details": {}}', 'nothing added where there is nothing to remove');
});

test('a card with classic Mac line ends (a lone CR) is read as YAML reads it and written with its own line ends', () => {
  const card = '---\rlicense: mit\rtags: [a]\r---\r# Churn\r';
  const out = updateCardText(card, evaluation('a'.repeat(32)), { file: 'README.md', modelName: 'churn' }).text;
  assert.ok(out.startsWith('---\rlicense: mit\rtags: [a]\rmodel-index:\r  - name: churn\r'), JSON.stringify(out.slice(0, 80)));
  assert.ok(!out.includes('\n'), 'no LF added');
  assert.ok(out.endsWith('---\r# Churn\r'));
  assert.equal(updateCardText(out, evaluation('a'.repeat(32)), { file: 'README.md', modelName: 'churn' }).text, out);
  checkCardYaml('model_details:\r  name: churn\r', 'churn.modelcard.yaml');
});

test('card update keeps a byte order mark first and warns of it, as card validate does', async () => {
  const ws = tempWorkspace('card-bom', { 'model.onnx': onnxBytes('bom-model'), 'README.md': '\ufeff---\nlicense: mit\n---\n# Churn\n' });
  const tracker = Tracker.open(ws);
  await tracker.registerModelFiles('churn', path.join(ws, 'model.onnx'));
  const sha = createHash('sha256').update(onnxBytes('bom-model')).digest('hex');
  const run = tracker.createRun({ runName: 'evaluate', tags: [{ key: MODEL_SHA256_TAG, value: sha }] });
  tracker.logBatch(run.info.runId, { metrics: [{ key: 'roc_auc', value: 0.8, timestamp: 1, step: 0 }] });
  tracker.updateRun(run.info.runId, { status: 'FINISHED' });
  tracker.close();
  const r = await cli('card', 'update', '--workspace', ws, path.join(ws, 'README.md'), '--from', 'churn/1');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^runwise: warning: README\.md starts with a byte order mark: huggingface_hub .* finds no metadata after it; save it as UTF-8 without BOM\n/);
  const text = readFileSync(path.join(ws, 'README.md'), 'utf8');
  assert.ok(text.startsWith('\ufeff---\nlicense: mit\nmodel-index:'), text.slice(0, 40));
  // A *.modelcard.yaml is read by YAML parsers, which take the mark: no warning.
  writeFileSync(path.join(ws, 'churn.modelcard.yaml'), '\ufeffmodel_details:\n  name: churn\n');
  const yaml = await cli('card', 'update', '--workspace', ws, path.join(ws, 'churn.modelcard.yaml'), '--from', 'churn/1');
  assert.equal(yaml.code, 0, yaml.err);
  assert.doesNotMatch(yaml.err, /byte order mark/);
  // The mark is no indentation: the new root key starts its line, as `model_details` does.
  const written = readFileSync(path.join(ws, 'churn.modelcard.yaml'), 'utf8');
  assert.ok(written.includes('\nquantitative_analysis:\n  performance_metrics:\n'), written);
  assert.equal(((parse(written) as { quantitative_analysis: { performance_metrics: unknown[] } }).quantitative_analysis.performance_metrics).length > 0, true);
});

test('card update on a version never evaluated says the command that evaluates its own bytes, quoted for the shell', async () => {
  const ws = tempWorkspace('card-hint', { 'model.onnx': onnxBytes('hint-model'), 'README.md': '---\nlicense: mit\n---\n' });
  const tracker = Tracker.open(ws);
  await tracker.registerModelFiles("churn's model", path.join(ws, 'model.onnx'));
  tracker.close();
  const r = await cli('card', 'update', '--workspace', ws, path.join(ws, 'README.md'), '--from', "churn's model/1");
  assert.equal(r.code, 1);
  assert.match(r.err, /run `runwise evaluate 'models:\/churn'\\''s model\/1' --data FILE --target COLUMN` first/);
});

test('card update refuses a version whose stored copy changed, as every read of a version does', async () => {
  const ws = tempWorkspace('card-tampered', { 'model.onnx': onnxBytes('tamper-model'), 'README.md': '---\nlicense: mit\n---\n' });
  const tracker = Tracker.open(ws);
  const v = await tracker.registerModelFiles('churn', path.join(ws, 'model.onnx'));
  const run = tracker.createRun({ runName: 'evaluate', tags: [{ key: MODEL_SHA256_TAG, value: v.sha256 }] });
  tracker.logBatch(run.info.runId, { metrics: [{ key: 'roc_auc', value: 0.8, timestamp: 1, step: 0 }] });
  tracker.updateRun(run.info.runId, { status: 'FINISHED' });
  const blob = tracker.artifacts.blobPath(v.sha256);
  tracker.close();
  const { appendFileSync, chmodSync } = await import('node:fs');
  chmodSync(blob, 0o644);
  appendFileSync(blob, 'x');
  const r = await cli('card', 'update', '--workspace', ws, path.join(ws, 'README.md'), '--from', 'churn/1');
  assert.equal(r.code, 1);
  assert.match(r.err, /churn.*1.*model\.onnx.*sha256/s);
  assert.equal(readFileSync(path.join(ws, 'README.md'), 'utf8'), '---\nlicense: mit\n---\n');
});

test('a card with many references to one anchor is taken; one whose aliases explode is refused', async () => {
  const { checkCardYaml, CardUpdateError, CARD_ALIAS_LIMIT } = await import('../../core/modelCard/cardUpdate');
  const { ALIAS_NODE_LIMIT } = await import('../../core/language/yaml/treePasses');
  assert.equal(CARD_ALIAS_LIMIT, ALIAS_NODE_LIMIT, "the card check's limit is card validate's");
  const many = `model_details:\n  name: &n churn\n  owners:\n${Array.from({ length: 150 }, () => '    - name: *n').join('\n')}\n`;
  assert.doesNotThrow(() => checkCardYaml(many, 'many.modelcard.yaml'));
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`)].join('\n');
  assert.throws(() => checkCardYaml(`model_details:\n  name: churn\n${laughs}\n`, 'bomb.modelcard.yaml'), (e: unknown) => e instanceof CardUpdateError && /expands its aliases too far/.test((e as Error).message));
});

test("card update says what the Hub cannot read in the user's model-index (kept as written), and which earlier Runwise result on other data it replaces", async () => {
  // huggingface_hub's own fixture (tests/fixtures/cards/sample_invalid_model_index.md): a result without `dataset`.
  const ws = tempWorkspace('card-warn', {
    'model.onnx': onnxBytes('model-bytes'),
    'README.md': ['---', 'license: mit', 'model-index:', '- name: my-cool-model', '  results:', '  - task:', '      type: image-classification', '    metrics:', '    - type: acc', '      value: 0.9', '---', '# Invalid Model Index', ''].join('\n'),
  });
  const tracker = Tracker.open(ws);
  await tracker.registerModelFiles('churn', path.join(ws, 'model.onnx'));
  const sha = createHash('sha256').update(onnxBytes('model-bytes')).digest('hex');
  const evalRun = (source: string) => {
    const run = tracker.createRun({ runName: 'evaluate', tags: [{ key: MODEL_SHA256_TAG, value: sha }] });
    tracker.logBatch(run.info.runId, { metrics: [{ key: 'accuracy', value: 0.8, timestamp: 1, step: 0 }] });
    tracker.logInputs(run.info.runId, [{ dataset: { name: path.basename(source, '.csv'), digest: 'abcdef0123456789', sourceType: 'local', source }, tags: [] }]);
    tracker.updateRun(run.info.runId, { status: 'FINISHED' });
    return run.info.runId;
  };
  const onTest = evalRun('data/test.csv');
  const onLive = evalRun('data/live.csv');
  tracker.close();
  const first = await cli('card', 'update', '--workspace', ws, path.join(ws, 'README.md'), '--from', 'churn/1', '--run', onTest);
  assert.equal(first.code, 0, first.err);
  assert.match(first.err, /^runwise: warning: README\.md:6: a result without `dataset`: huggingface_hub cannot read the card's `model-index`/m);
  assert.doesNotMatch(first.out, /replacing/);
  const text = readFileSync(path.join(ws, 'README.md'), 'utf8');
  assert.ok(text.includes('  - task:\n      type: image-classification\n    metrics:\n    - type: acc\n      value: 0.9\n'), "the user's result is kept as written");
  const second = await cli('card', 'update', '--workspace', ws, path.join(ws, 'README.md'), '--from', 'churn/1', '--run', onLive);
  assert.match(second.out, new RegExp(`^  replacing its earlier Runwise result on data/test\\.csv \\(run ${onTest}\\): a card holds one`, 'm'));
  const json = await cli('card', 'update', '--workspace', ws, path.join(ws, 'README.md'), '--from', 'churn/1', '--run', onTest, '--json');
  assert.deepEqual(JSON.parse(json.out).replaced, [{ data: 'data/live.csv', run_id: onLive }]);
  // A card the Hub reads whole: no warning.
  writeFileSync(path.join(ws, 'README.md'), '---\nlicense: mit\n---\n');
  const clean = await cli('card', 'update', '--workspace', ws, path.join(ws, 'README.md'), '--from', 'churn/1');
  assert.equal(clean.err, '');
});

test('latestEvaluationsByData: the latest finished evaluation of the bytes on each file, the latest first (what a card is updated from is picked, not swapped)', async () => {
  const ws = tempWorkspace('card-by-data', { 'model.onnx': onnxBytes('model-bytes') });
  const tracker = Tracker.open(ws);
  await tracker.registerModelFiles('churn', path.join(ws, 'model.onnx'));
  const sha = createHash('sha256').update(onnxBytes('model-bytes')).digest('hex');
  const evalRun = (source: string, accuracy: number, status: 'FINISHED' | 'FAILED' = 'FINISHED') => {
    const run = tracker.createRun({ runName: 'evaluate', tags: [{ key: MODEL_SHA256_TAG, value: sha }] });
    tracker.logBatch(run.info.runId, { metrics: [{ key: 'accuracy', value: accuracy, timestamp: 1, step: 0 }] });
    tracker.logInputs(run.info.runId, [{ dataset: { name: path.basename(source, '.csv'), digest: 'abcdef0123456789', sourceType: 'local', source }, tags: [] }]);
    tracker.updateRun(run.info.runId, { status });
    return run.info.runId;
  };
  evalRun('data/test.csv', 0.8);
  const test2 = evalRun('data/test.csv', 0.85);
  const live = evalRun('data/live.csv', 0.7);
  evalRun('data/other.csv', 0.1, 'FAILED');
  const byData = latestEvaluationsByData(tracker, sha, 'churn/1');
  assert.deepEqual(byData.map((e) => [e.runId, e.dataset.path, e.metrics[0]!.value]), [[live, 'data/live.csv', 0.7], [test2, 'data/test.csv', 0.85]]);
  tracker.close();
});

test('a metric written with an exponent has a dot and a signed exponent, as PyYAML (YAML 1.1) reads a float: 1e-7 is text to it', () => {
  const e: CardEvaluation = { ...evaluation('a'.repeat(32)), task: 'regression', metrics: [{ key: 'mse', value: 1e-7 }, { key: 'mae', value: 3e-8 }, { key: 'rmse', value: 2.5e21 }, { key: 'r2', value: 0.5 }] };
  const text = updateCardText('---\nlicense: mit\n---\n', e, { file: 'README.md', modelName: 'churn' }).text;
  const values = [...text.matchAll(/value: (\S+)/g)].map((m) => m[1]!);
  assert.deepEqual(values, ['1.0e-7', '3.0e-8', '2.5e+21', '0.5']);
  // PyYAML's float resolver (yaml/resolver.py), which each must match to be a number to huggingface_hub.
  const pyyamlFloat = /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
  for (const v of values) assert.match(v, pyyamlFloat);
  // And the same numbers to a YAML 1.2 reader.
  const data = cardData('README.md', text) as { 'model-index': { results: { metrics: { value: number }[] }[] }[] };
  assert.deepEqual(data['model-index'][0]!.results[0]!.metrics.map((m) => m.value), [1e-7, 3e-8, 2.5e21, 0.5]);
});

test("modelIndexProblems reads the model-index as PyYAML loads it: a task given by an alias or a merge key is no problem; a real one is still found at its line", async () => {
  const { modelIndexProblems } = await import('../../core/modelCard/cardUpdate');
  const aliased = ['---', 'base: &t {type: tabular-classification}', 'defaults: &d', '  task: {type: tabular-classification}', '  dataset: {type: my/holdout, name: holdout}', 'model-index:', '  - name: churn', '    results:', '      - task: *t', '        dataset: {type: my/holdout, name: holdout}', '        metrics: [{type: accuracy, value: 0.84}]', '      - <<: *d', '        metrics: [{type: f1, value: 0.8}]', '---', ''].join('\n');
  assert.deepEqual(modelIndexProblems(aliased, 'README.md'), []);
  const broken = aliased.replace('      - <<: *d\n', '      - task: *t\n');
  assert.deepEqual(modelIndexProblems(broken, 'README.md').map((p) => p.split(': huggingface_hub')[0]), ['README.md:12: a result without `dataset`']);
  const metricless = aliased.replace('[{type: f1, value: 0.8}]', '[{type: f1}]');
  assert.deepEqual(modelIndexProblems(metricless, 'README.md').map((p) => p.split(': huggingface_hub')[0]), ['README.md:13: a metric without `value`']);
});

test("Runwise's entry is brought up to date in place: the user's comments and keys inside it stay, only changed values are rewritten", () => {
  const once = updateCardText('---\nlicense: mit\n---\n', evaluation('a'.repeat(32)), { file: 'README.md', modelName: 'churn' }).text;
  // The user annotates Runwise's result: comment lines, trailing comments, keys of their own.
  const annotated = once
    .replace('        metrics:\n', '        # measured on the held-out split\n        metrics:\n')
    .replace('            value: 0.84\n', '            value: 0.84 # above the gate\n            verified: false\n')
    .replace('          - type: roc_auc\n', '          # the curve, not the threshold\n          - type: roc_auc\n')
    .replace('          name: test\n', '          name: test\n          split: test  # added by hand\n')
    .replace(`          url: runs:/${'a'.repeat(32)}\n`, `          url: runs:/${'a'.repeat(32)} # the first run\n`);
  const next = updateCardText(annotated, evaluation('b'.repeat(32), 0.95), { file: 'README.md', modelName: 'churn' }).text;
  for (const kept of ['        # measured on the held-out split\n', '            value: 0.84 # above the gate\n            verified: false\n', '          # the curve, not the threshold\n', '          split: test  # added by hand\n']) {
    assert.ok(next.includes(kept), `kept: ${JSON.stringify(kept)}\n${next}`);
  }
  assert.ok(next.includes(`          url: runs:/${'b'.repeat(32)} # the first run\n`), next);
  assert.ok(next.includes('            value: 0.95\n'), next);
  // Only what changed differs: the value and the run.
  const changed = annotated.split('\n').filter((l, i) => l !== next.split('\n')[i]);
  assert.deepEqual(changed, ['            value: 0.912346', `          url: runs:/${'a'.repeat(32)} # the first run`]);
  // A metric the evaluation no longer gives goes, a new one comes after the result's last metric.
  const regression = { ...evaluation('c'.repeat(32)), metrics: [{ key: 'accuracy', value: 0.5 }, { key: 'f1', value: 0.4 }] };
  const swapped = updateCardText(next, regression, { file: 'README.md', modelName: 'churn' }).text;
  const data = cardData('README.md', swapped) as { 'model-index': { results: { metrics: { type: string; value: number }[] }[] }[] };
  assert.deepEqual(data['model-index'][0]!.results[0]!.metrics.map((m) => [m.type, m.value]), [['accuracy', 0.5], ['f1', 0.4]]);
  assert.ok(swapped.includes('            value: 0.5 # above the gate\n            verified: false\n'), swapped);
  // `key: # note` left for Runwise to fill keeps its note.
  const noted = updateCardText('---\nlicense: mit\nmodel-index: # filled by Runwise\n---\n', evaluation('a'.repeat(32)), { file: 'README.md', modelName: 'churn' }).text;
  assert.ok(noted.startsWith('---\nlicense: mit\nmodel-index: # filled by Runwise\n  - name: churn\n'), noted);
});

test("a toolkit card's Runwise entries are updated in place: a comment on a value or between entries stays; a note after the mark keeps it Runwise's", () => {
  const once = updateCardText('model_details:\n  name: churn\n', evaluation('a'.repeat(32)), { file: 'churn.modelcard.yaml', modelName: 'churn' }).text;
  const annotated = once
    .replace('      value: "0.84"\n', '      value: "0.84" # above the gate\n')
    .replace('    - type: roc_auc # runwise\n', '    # the curve\n    - type: roc_auc # runwise; on the test split\n');
  const next = updateCardText(annotated, evaluation('b'.repeat(32), 0.95), { file: 'churn.modelcard.yaml', modelName: 'churn' }).text;
  assert.equal(next, annotated.replace('      value: "0.912346"\n', '      value: "0.95"\n'));
  assert.deepEqual(toolkitMarks(next), [true, true, true]);
});

test("in place, as the review found it must: empty values keep their note, one-line items, metrics the user added, PyYAML's reading, lists that end in comments", () => {
  const update = (text: string, e: CardEvaluation) => updateCardText(text, e, { file: 'README.md', modelName: 'churn' }).text;
  const e = evaluation('b'.repeat(32), 0.95);
  const once = update('---\nlicense: mit\n---\n', evaluation('a'.repeat(32)));
  const metricsOf = (text: string) => (cardData('README.md', text) as { 'model-index': { results: { metrics: Record<string, unknown>[]; dataset: { name: unknown } }[] }[] })['model-index'][0]!.results[0]!;
  // An empty value left with a note, and one with none: filled, the note kept on its line.
  const empty = once.replace('            value: 0.84\n', '            value: # measured below\n').replace('          name: test\n', '          name:\n');
  const filled = update(empty, e);
  assert.ok(filled.includes('            value: 0.84 # measured below\n') && filled.includes('          name: test\n'), filled);
  assert.equal(update(filled, e), filled, 'the same evaluation again changes nothing');
  // A metric written as a flow mapping on its line: rewritten where it is; the others keep their notes.
  const flow = once.replace(/          - type: roc_auc\n            value: 0\.912346\n            name: ROC AUC\n/, '          - {type: roc_auc, value: 0.912346, name: ROC AUC}\n').replace('            value: 0.84\n', '            value: 0.84 # headline\n            verified: false\n');
  const fromFlow = update(flow, e);
  assert.ok(fromFlow.includes('            value: 0.84 # headline\n            verified: false\n'), fromFlow);
  assert.deepEqual(metricsOf(fromFlow).metrics.map((m) => [m.type, m.value]), [['accuracy', 0.84], ['roc_auc', 0.95]]);
  // Metrics the user measured and added to Runwise's result, and an argument of their own: kept.
  const multiclass: CardEvaluation = { ...evaluation('c'.repeat(32)), task: 'multiclass', metrics: [{ key: 'accuracy', value: 0.7 }, { key: 'f1_macro', value: 0.6 }] };
  const mc = update('---\nlicense: mit\n---\n', multiclass);
  const added = mc
    .replace('              average: macro\n', '              average: macro\n              zero_division: 0\n')
    .replace('        source:\n', '          - type: latency_ms\n            value: 12.5\n          - type: accuracy\n            value: 0.66\n            name: Accuracy (validation)\n        source:\n');
  const next = update(added, { ...multiclass, metrics: [{ key: 'accuracy', value: 0.72 }, { key: 'f1_macro', value: 0.61 }] });
  assert.deepEqual(metricsOf(next).metrics.map((m) => [m.type, m.value, m.name]), [
    ['accuracy', 0.72, 'Accuracy'],
    ['f1', 0.61, 'F1 (macro)'],
    ['latency_ms', 12.5, undefined],
    ['accuracy', 0.66, 'Accuracy (validation)'],
  ]);
  assert.ok(next.includes('              average: macro\n              zero_division: 0\n'), next);
  // The user's metric of a type Runwise writes, before Runwise's: not paired with it, left as written.
  const before = once.replace('        metrics:\n', '        metrics:\n          - type: accuracy\n            value: 0.5\n            name: Accuracy (validation)\n');
  assert.deepEqual(metricsOf(update(before, e)).metrics.map((m) => [m.type, m.value, m.name]), [
    ['accuracy', 0.5, 'Accuracy (validation)'],
    ['accuracy', 0.84, 'Accuracy'],
    ['roc_auc', 0.95, 'ROC AUC'],
  ]);
  // Flow mappings Runwise writes into keep the user's keys: `args`, and a metric on one line with its note.
  const flowArgs = update(mc.replace(/            args:\n              average: macro\n/, '            args: {average: macro, zero_division: 0}\n'), { ...multiclass, metrics: [{ key: 'f1_macro', value: 0.5 }] });
  assert.deepEqual(metricsOf(flowArgs).metrics.map((m) => m.args), [{ average: 'macro', zero_division: 0 }]);
  const flowNote = update(flow.replace('{type: roc_auc, value: 0.912346, name: ROC AUC}', '{type: roc_auc, value: 0.912346, name: ROC AUC, verified: false}  # threshold-free'), e);
  assert.ok(flowNote.includes('          - type: roc_auc # threshold-free\n            value: 0.95\n            name: ROC AUC\n            verified: false\n'), flowNote);
  // On a metric Runwise writes with no arguments (a binary f1), the user's `args` stay too.
  const binaryF1 = (v: number) => ({ ...evaluation('d'.repeat(32)), metrics: [{ key: 'f1', value: v }] });
  const f1 = update('---\nlicense: mit\n---\n', binaryF1(0.5)).replace('            name: F1\n', '            name: F1\n            args:\n              zero_division: 0\n');
  assert.ok(update(f1, binaryF1(0.6)).includes('            value: 0.6\n            name: F1\n            args:\n              zero_division: 0\n'));
  // Text PyYAML reads otherwise (a date, an exponent without a dot), though equal to YAML 1.2: written as it reads it.
  const yaml11 = once.replace('          name: test\n', '          name: 2024-01-01\n');
  assert.ok(update(yaml11, { ...evaluation('a'.repeat(32)), dataset: { ...evaluation('a'.repeat(32)).dataset, name: '2024-01-01' } }).includes('          name: "2024-01-01"\n'));
  // A comment closing the list's last metric stays after it when metrics are added; one introducing a next item stays before it.
  const closed = once.replace('            name: ROC AUC\n', '            name: ROC AUC\n            # threshold-free\n');
  const more = update(closed, { ...evaluation('b'.repeat(32)), metrics: [...evaluation('b'.repeat(32)).metrics, { key: 'f1', value: 0.5 }] });
  assert.ok(more.includes('            name: ROC AUC\n            # threshold-free\n          - type: f1\n'), more);
  // A result that lacks `task` and ends with its metrics gets both, in their places.
  const taskless = [
    '---',
    'model-index:',
    '  - name: churn',
    '    results:',
    '      - source:',
    `          name: ${HF_SOURCE_NAME}`,
    '          url: runs:/x',
    '        dataset:',
    '          type: data/test.csv',
    '          name: test',
    '        metrics:',
    '          - type: accuracy',
    '            value: 0.84',
    '---',
    '',
  ].join('\n');
  const repaired = update(taskless, { ...evaluation('b'.repeat(32)), metrics: [...evaluation('b'.repeat(32)).metrics, { key: 'f1', value: 0.5 }] });
  const result = metricsOf(repaired) as unknown as { task: { type: string }; metrics: { type: string }[] };
  assert.equal(result.task.type, 'tabular-classification');
  assert.deepEqual(result.metrics.map((m) => m.type), ['accuracy', 'roc_auc', 'f1']);
  // A stale Runwise result in another item's flow list is refused, not left beside the new one.
  const mirrored = once.replace('---\n\n', '').replace(/\n---\n$/, `\n  - name: mirror\n    results: [{task: {type: x}, dataset: {type: y, name: z}, metrics: [], source: {name: ${HF_SOURCE_NAME}, url: "runs:/old"}}]\n---\n`);
  assert.throws(() => update(mirrored, e), /expected `results` that hold a Runwise result written as a block list/);
});

test("the toolkit's mark is `# runwise` alone or with a note after `;`: a comment that only starts with the word is the user's", () => {
  const card = 'quantitative_analysis:\n  performance_metrics:\n    - type: latency_ms # runwise does not measure this\n      value: "12"\n      slice: overall\n';
  const updated = updateCardText(card, evaluation('a'.repeat(32)), { file: 'churn.modelcard.yaml', modelName: 'churn' }).text;
  assert.ok(updated.startsWith(card), updated);
  assert.deepEqual(toolkitMarks(updated), [false, true, true, true]);
});
