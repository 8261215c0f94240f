/**
 * Models as exporters other than this project's write them: weights in an external data file, a
 * fixed batch size (torch.onnx.export without dynamic_axes), integer inputs and their ranges, logits
 * returned beside the probabilities, a soft-voting ensemble's labels, and onnxruntime's refusal
 * reported with its cause.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { evaluateModel, evaluationRunName } from '../../../core/evaluation/evaluate';
import { modelLineage } from '../../../core/tracker/modelRegistry';
import { Tracker } from '../../../core/tracker/tracker';
import { tempWorkspace } from '../../support/tempWorkspace';
import { castRegression, dataset, extractedLabels, imputedRegression, stringColumnRegression, twoMatrixInputs, logitsAndProbabilities, regression, regressionWithEmbedding, sigmoidHead, probabilitiesAtIrVersion, probabilitiesOnly, oddInput, softVoting, sumOfColumns, withExternalData, linearClassifier, slicedTargets, zipMap, zipMapColumns, type LinearClassifier } from './onnxTestModels';

const BINARY: LinearClassifier = { weights: [-1, 1, -0.5, 0.5], bias: [0.1, -0.1], features: 2, classes: 2 };
const MULTI: LinearClassifier = { weights: [-1, 0, 1, -0.5, 0, 0.5], bias: [0, 0.3, 0], features: 2, classes: 3 };

function workspace(rows = 300, classes = 2, labels?: number[]) {
  const ws = tempWorkspace('eval-variety');
  const { x, y } = dataset(rows, classes);
  const data = path.join(ws, 'data.csv');
  writeFileSync(data, `a,b,y\n${x.map((r, i) => `${r[0]},${r[1]},${labels ? labels[y[i]!] : y[i]}`).join('\n')}\n`);
  return { ws, data };
}

test('a model whose weights are in an external data file evaluates as the same model with them inside; a missing weight file is named', async () => {
  const { ws, data } = workspace();
  const { model, weights } = withExternalData(BINARY, 'weights.bin');
  writeFileSync(path.join(ws, 'external.onnx'), model);
  writeFileSync(path.join(ws, 'weights.bin'), weights);
  writeFileSync(path.join(ws, 'inline.onnx'), probabilitiesOnly(BINARY));
  const external = await evaluateModel({ model: path.join(ws, 'external.onnx'), data, target: 'y', workspace: ws });
  const inline = await evaluateModel({ model: path.join(ws, 'inline.onnx'), data, target: 'y', workspace: ws });
  assert.deepEqual(external.metrics, inline.metrics);
  writeFileSync(path.join(ws, 'lost.onnx'), withExternalData(BINARY, 'lost.bin').model);
  await assert.rejects(evaluateModel({ model: path.join(ws, 'lost.onnx'), data, target: 'y', workspace: ws }), /lost\.onnx: the model keeps its weights in 'lost\.bin' beside it \(external data\), and there is no such file/);
  // External data that is a named pipe or /dev/zero (through a link), or named outside the folder:
  // refused before a byte is read.
  execFileSync('mkfifo', [path.join(ws, 'pipe.bin')]);
  symlinkSync('/dev/zero', path.join(ws, 'zero.bin'));
  for (const [name, location, message] of [
    ['pipe', 'pipe.bin', /pipe\.onnx: the model names external data 'pipe\.bin', which is not a file/],
    ['zero', 'zero.bin', /zero\.onnx: the model names external data 'zero\.bin', which is not a file/],
    ['up', '../weights.bin', /up\.onnx: the model names external data '\.\.\/weights\.bin' outside its folder/],
  ] as const) {
    writeFileSync(path.join(ws, `${name}.onnx`), withExternalData(BINARY, location).model);
    await assert.rejects(evaluateModel({ model: path.join(ws, `${name}.onnx`), data, target: 'y', workspace: ws }), message);
  }
  // Weights that are a link to a cache elsewhere (DVC's symlink cache): onnxruntime refuses external
  // data outside the model's folder, so it is said first, plainly; a link within the folder is read.
  const cache = tempWorkspace('eval-cache');
  writeFileSync(path.join(cache, 'w.bin'), weights);
  mkdirSync(path.join(ws, 'cached', 'store'), { recursive: true });
  symlinkSync(path.join(cache, 'w.bin'), path.join(ws, 'cached', 'w.bin'));
  writeFileSync(path.join(ws, 'cached', 'model.onnx'), withExternalData(BINARY, 'w.bin').model);
  await assert.rejects(evaluateModel({ model: path.join(ws, 'cached', 'model.onnx'), data, target: 'y', workspace: ws }), /cached\/model\.onnx: its external data 'w\.bin' is a symbolic link to a file outside the model's folder, which onnxruntime refuses/);
  writeFileSync(path.join(ws, 'cached', 'store', 'w.bin'), weights);
  rmSync(path.join(ws, 'cached', 'w.bin'));
  symlinkSync(path.join('store', 'w.bin'), path.join(ws, 'cached', 'w.bin'));
  const cached = await evaluateModel({ model: path.join(ws, 'cached', 'model.onnx'), data, target: 'y', workspace: ws });
  assert.deepEqual(cached.metrics, external.metrics);
});

test('a fixed batch size ([1, F] and [32, F]) runs in batches of it, the last one padded: the metrics of a free batch dimension', async () => {
  const { ws, data } = workspace(300);
  writeFileSync(path.join(ws, 'free.onnx'), probabilitiesOnly(BINARY));
  const free = await evaluateModel({ model: path.join(ws, 'free.onnx'), data, target: 'y', workspace: ws });
  for (const fixed of [1, 32]) {
    const model = path.join(ws, `fixed${fixed}.onnx`);
    writeFileSync(model, probabilitiesOnly(BINARY, [fixed, 2]));
    const r = await evaluateModel({ model, data, target: 'y', workspace: ws });
    assert.equal(r.batches, Math.ceil(300 / fixed));
    assert.equal(r.rows, 300);
    assert.deepEqual(r.metrics, free.metrics);
    assert.deepEqual(r.confusion_matrix, free.confusion_matrix);
    const asked = await evaluateModel({ model, data, target: 'y', workspace: ws, batchSize: 100 });
    assert.ok(asked.warnings.includes(`batches of ${fixed} rows, the model's fixed batch size, not 100`), asked.warnings.join('; '));
  }
  writeFileSync(path.join(ws, 'zero.onnx'), probabilitiesOnly(BINARY, [0, 2]));
  await assert.rejects(evaluateModel({ model: path.join(ws, 'zero.onnx'), data, target: 'y', workspace: ws }), /zero\.onnx: the inputs fix a batch size that cannot be fed \('features' \[0, 2\]\)/);
  // A batch of 2^40 rows would be a typed array no engine allocates: refused by name, not a RangeError.
  writeFileSync(path.join(ws, 'huge.onnx'), probabilitiesOnly(BINARY, [2 ** 40, 2]));
  await assert.rejects(evaluateModel({ model: path.join(ws, 'huge.onnx'), data, target: 'y', workspace: ws }), /huge\.onnx: the inputs fix a batch size of 1099511627776 rows, more than the 1,000,000 a batch may hold/);
});

test('an int32 or int64 input: values fed exactly, and a value beyond the type\'s range an error naming the row and column, not wrapped', async () => {
  for (const elem of ['int32', 'int64'] as const) {
    const ws = tempWorkspace('eval-int');
    const model = path.join(ws, 'cast.onnx');
    writeFileSync(model, castRegression(elem));
    const data = path.join(ws, 'data.csv');
    writeFileSync(data, 'x,y\n1,1\n-7,-7\n2000000,2000000\n');
    const r = await evaluateModel({ model, data, target: 'y', workspace: ws });
    assert.equal(r.metrics.mae, 0);
    const big = elem === 'int32' ? '3000000000' : '1e19';
    writeFileSync(data, `x,y\n1,1\n${big},0\n`);
    await assert.rejects(evaluateModel({ model, data, target: 'y', workspace: ws }), new RegExp(`data\\.csv:3: data row 2, column 'x': ${elem === 'int32' ? '3000000000' : '10000000000000000000'} \\(as read into a double\\) is beyond the range of ${elem}`));
    writeFileSync(data, 'x,y\n1,1\n2,2\n5.5,5\n');
    await assert.rejects(evaluateModel({ model, data, target: 'y', workspace: ws }), new RegExp(`data\\.csv:4: data row 3, column 'x': 5\\.5 is not a whole number, and the model's input takes ${elem} values$`));
  }
});

test('features given: one 2-D input takes them, even beside a column of its name; inputs taken by name refuse a list that would rename them', async () => {
  const ws = tempWorkspace('eval-features');
  const data = path.join(ws, 'data.csv');
  writeFileSync(data, 'p,q,y\n1,5,5\n2,6,6\n3,7,7\n');
  const one = path.join(ws, 'p.onnx');
  writeFileSync(one, sumOfColumns(['p']));
  const byName = await evaluateModel({ model: one, data, target: 'y', workspace: ws });
  assert.deepEqual(byName.dataset.features, ['p']);
  assert.equal(byName.metrics.mae, 4);
  const given = await evaluateModel({ model: one, data, target: 'y', features: ['q'], workspace: ws });
  assert.deepEqual(given.dataset.features, ['q']);
  assert.equal(given.metrics.mae, 0);
  const two = path.join(ws, 'sum.onnx');
  writeFileSync(two, sumOfColumns(['p', 'q']));
  writeFileSync(data, 'q,p,z,y\n1,5,0,6\n2,6,0,8\n');
  for (const features of [undefined, ['p', 'q'], ['q', 'p']]) {
    const r = await evaluateModel({ model: two, data, target: 'y', workspace: ws, ...(features ? { features } : {}) });
    assert.equal(r.metrics.mae, 0);
    assert.deepEqual(r.dataset.features, ['p', 'q']);
  }
  await assert.rejects(evaluateModel({ model: one, data, target: 'y', features: ['q', 'q'], workspace: ws }), /^EvaluationError: 'q' is listed twice in the features/);
  for (const features of [['z'], ['p'], ['p', 'z'], ['p', 'q', 'z']]) {
    await assert.rejects(evaluateModel({ model: two, data, target: 'y', features, workspace: ws }), /sum\.onnx takes its inputs by name \('p', 'q'\), each from the column of that name; --features \(a pipeline's features:\) .* would not be what feeds it/);
  }
});

test('inputs no column can feed: none at all, no declared shape, rank 3: each said as such, not as a missing column', async () => {
  const ws = tempWorkspace('eval-odd-inputs');
  const data = path.join(ws, 'data.csv');
  writeFileSync(data, 'a,b,y\n1,2,0.5\n');
  const cases: [Parameters<typeof oddInput>[0], RegExp][] = [
    ['none', /^none\.onnx: the model takes no inputs, so no dataset can feed it$/],
    [undefined, /^unshaped\.onnx: input 'features' declares no shape, and no column is named 'features' to feed it as one value per row/],
    [['N', 2, 1], /^rank3\.onnx: input 'features' has shape \[N, 2, 1\]; a column can feed an input of shape \[N\] or \[N, 1\] and one input of shape \[N, F\] the features$/],
  ];
  for (const [dims, message] of cases) {
    const model = path.join(ws, `${dims === 'none' ? 'none' : dims ? 'rank3' : 'unshaped'}.onnx`);
    writeFileSync(model, oddInput(dims));
    await assert.rejects(evaluateModel({ model, data, target: 'y', workspace: ws }), (e: Error) => {
      assert.match(e.message, message);
      return true;
    });
  }
  // An input with no declared shape and a column of its name: fed from it, one value per row.
  writeFileSync(data, 'features,y\n1,1\n2,2.5\n');
  const fed = await evaluateModel({ model: path.join(ws, 'unshaped.onnx'), data, target: 'y', workspace: ws });
  assert.equal(fed.metrics.mae, 0.25);
});

test('an evaluation run is named for the model and the dataset, within MLflow\'s 250 characters', () => {
  assert.equal(evaluationRunName('/w/models/model.onnx', '/w/data/test.csv'), 'evaluate model.onnx on test.csv');
  const long = evaluationRunName(`/w/${'m'.repeat(131)}.onnx`, `/w/${'d'.repeat(124)}.csv`);
  assert.ok(long.length <= 250, String(long.length));
  assert.match(long, /^evaluate m+… on d+…$/);
});

test('logits returned before the probabilities: the Softmax\'s output is evaluated', async () => {
  const { ws, data } = workspace();
  writeFileSync(path.join(ws, 'both.onnx'), logitsAndProbabilities(BINARY));
  writeFileSync(path.join(ws, 'probs.onnx'), probabilitiesOnly(BINARY));
  const both = await evaluateModel({ model: path.join(ws, 'both.onnx'), data, target: 'y', workspace: ws });
  const probs = await evaluateModel({ model: path.join(ws, 'probs.onnx'), data, target: 'y', workspace: ws });
  assert.deepEqual(both.metrics, probs.metrics);
});

test('a soft-voting ensemble of classifiers declaring the same labels [2, 5, 7] (no ZipMap): its labels are the classes', async () => {
  const { ws, data } = workspace(300, 3, [2, 5, 7]);
  const model = path.join(ws, 'voting.onnx');
  writeFileSync(model, softVoting(MULTI, [2, 5, 7]));
  const r = await evaluateModel({ model, data, target: 'y', workspace: ws });
  assert.deepEqual(r.classes, [2, 5, 7]);
  assert.ok(r.metrics.accuracy! > 0.5);
});

test("scikit-learn-onnx's zipmap='columns' (one [N] output per class): read as the probabilities a ZipMap gives, its labels from the classifier or the names", async () => {
  for (const [m, labels] of [
    [MULTI, [3, 5, 7]],
    [BINARY, [0, 1]],
  ] as const) {
    const { ws, data } = workspace(300, m.classes, [...labels]);
    // The same probabilities as one tensor: a ZipMap over a Softmax, or the LinearClassifier's own.
    writeFileSync(path.join(ws, 'zipmap.onnx'), zipMap(m, [...labels]));
    writeFileSync(path.join(ws, 'classifier.onnx'), linearClassifier(m, [...labels]));
    for (const options of [{}, { classifier: true }, { double: true }]) {
      const reference = await evaluateModel({ model: path.join(ws, 'classifier' in options ? 'classifier.onnx' : 'zipmap.onnx'), data, target: 'y', workspace: ws });
      writeFileSync(path.join(ws, 'columns.onnx'), zipMapColumns(m, [...labels], options));
      const r = await evaluateModel({ model: path.join(ws, 'columns.onnx'), data, target: 'y', workspace: ws });
      const label = JSON.stringify(options);
      assert.deepEqual([r.task, r.classes, r.metrics, r.confusion_matrix], [reference.task, reference.classes, reference.metrics, reference.confusion_matrix], label);
    }
  }
});

test("outputs sliced from a tensor that is no classifier's probabilities (two regression targets) are not taken for zipmap='columns'", async () => {
  const { ws, data } = workspace();
  for (const [names, cast] of [
    [['score', 'spread'], false],
    [['i0', 'i1'], true],
    [['y0', 'y1'], false],
  ] as const) {
    const model = path.join(ws, 'targets.onnx');
    writeFileSync(model, slicedTargets([1, -1, 0.5, 0.25], [...names], cast));
    // The message of a model with several one-value outputs, naming them; not a load failure or invented classes.
    await assert.rejects(evaluateModel({ model, data, target: 'y', workspace: ws }), new RegExp(`no output to evaluate .*the model gives ${names[0]} float${cast ? '64' : '32'} \\[N\\]; ${names[1]}`));
  }
});

test("onnxruntime's refusal keeps its cause, the end of its message", async () => {
  const { ws, data } = workspace();
  const model = path.join(ws, 'ir99.onnx');
  writeFileSync(model, probabilitiesAtIrVersion(BINARY, 99));
  await assert.rejects(evaluateModel({ model, data, target: 'y', workspace: ws }), (e: Error) => {
    assert.match(e.message, /^ir99\.onnx: onnxruntime cannot load the model \(.*IR version: 99/);
    return true;
  });
});

test('registering an .onnx with external data keeps its weight file: both in the version, one hash for the evaluation and the version', async () => {
  const { ws, data } = workspace();
  const { model, weights } = withExternalData(BINARY, 'weights/w.bin');
  mkdirSync(path.join(ws, 'weights'));
  writeFileSync(path.join(ws, 'external.onnx'), model);
  writeFileSync(path.join(ws, 'weights', 'w.bin'), weights);
  const tracker = Tracker.open(ws);
  try {
    const r = await evaluateModel({ model: path.join(ws, 'external.onnx'), data, target: 'y', workspace: ws, tracker });
    const version = await tracker.registerModelFiles('scorer', path.join(ws, 'external.onnx'));
    assert.deepEqual(tracker.registry.versionFiles('scorer', version.version).map((f) => f.path), ['external.onnx', 'weights/w.bin']);
    assert.equal(version.sha256, r.model.sha256);
    assert.deepEqual(modelLineage(tracker, tracker.registry, 'scorer', version.version).evaluations.map((e) => e.runId), [r.run_id]);
    // Another weight file is another model.
    writeFileSync(path.join(ws, 'weights', 'w.bin'), Buffer.from(Float32Array.from([1, 1, 1, 1]).buffer));
    const changed = await evaluateModel({ model: path.join(ws, 'external.onnx'), data, target: 'y', workspace: ws });
    assert.notEqual(changed.model.sha256, r.model.sha256);
    rmSync(path.join(ws, 'weights', 'w.bin'));
    await assert.rejects(tracker.registerModelFiles('scorer', path.join(ws, 'external.onnx')), /keeps its weights in 'weights\/w\.bin' \(external data\), and there is no such file beside it/);
  } finally {
    tracker.close();
  }
});

test('an external data file whose name starts with two dots is inside the folder, not outside it', async () => {
  const { ws } = workspace();
  const { model, weights } = withExternalData(BINARY, '..weights.bin');
  writeFileSync(path.join(ws, 'dots.onnx'), model);
  writeFileSync(path.join(ws, '..weights.bin'), weights);
  const tracker = Tracker.open(ws);
  try {
    const version = await tracker.registerModelFiles('dots', path.join(ws, 'dots.onnx'));
    assert.deepEqual(tracker.registry.versionFiles('dots', version.version).map((f) => f.path), ['..weights.bin', 'dots.onnx']);
  } finally {
    tracker.close();
  }
});

test('labels a classifier keeps in a constant its label output indexes (ArgMax → ArrayFeatureExtractor, no ZipMap): its classes, a file missing one of them too', async () => {
  const { ws } = workspace();
  const { x, y } = dataset(300, 3);
  const model = path.join(ws, 'double-path.onnx');
  writeFileSync(model, extractedLabels(MULTI, [1, 2, 3]));
  const onLabels = path.join(ws, 'labels.csv');
  writeFileSync(onLabels, `a,b,y\n${x.map((r, i) => `${r[0]},${r[1]},${y[i]! + 1}`).join('\n')}\n`);
  const asIndices = path.join(ws, 'indices.csv');
  writeFileSync(asIndices, `a,b,y\n${x.map((r, i) => `${r[0]},${r[1]},${y[i]}`).join('\n')}\n`);
  const labelled = await evaluateModel({ model, data: onLabels, target: 'y', workspace: ws });
  const plain = path.join(ws, 'plain.onnx');
  writeFileSync(plain, probabilitiesOnly(MULTI));
  const reference = await evaluateModel({ model: plain, data: asIndices, target: 'y', workspace: ws });
  assert.deepEqual(labelled.classes, [1, 2, 3]);
  assert.deepEqual([labelled.metrics, labelled.confusion_matrix], [reference.metrics, reference.confusion_matrix], 'label k+1 is class k');
  // Rows of classes 1 and 2 only (a slice, a later file): still read as the labels, not as indices 0…2.
  const noThree = path.join(ws, 'no-three.csv');
  const keep = y.map((c, i) => [c, i] as const).filter(([c]) => c !== 2);
  writeFileSync(noThree, `a,b,y\n${keep.map(([c, i]) => `${x[i]![0]},${x[i]![1]},${c + 1}`).join('\n')}\n`);
  const partial = await evaluateModel({ model, data: noThree, target: 'y', workspace: ws });
  assert.deepEqual(partial.confusion_matrix![2], [0, 0, 0], 'no row of class 3');
  assert.equal(partial.confusion_matrix!.flat().reduce((a, b) => a + b, 0), keep.length);
  // String labels on the same path.
  writeFileSync(model, extractedLabels(MULTI, ['setosa', 'versicolor', 'virginica']));
  const names = path.join(ws, 'names.csv');
  writeFileSync(names, `a,b,y\n${x.map((r, i) => `${r[0]},${r[1]},${['setosa', 'versicolor', 'virginica'][y[i]!]}`).join('\n')}\n`);
  const named = await evaluateModel({ model, data: names, target: 'y', workspace: ws });
  assert.deepEqual([named.classes, named.metrics.accuracy], [['setosa', 'versicolor', 'virginica'], reference.metrics.accuracy]);
});

test('a Sigmoid head ([N, 1], or [N] through Squeeze, a logit beside it) is a binary classifier; a prediction beside an embedding is a regressor', async () => {
  const { ws, data } = workspace();
  const w = [1, -1];
  const asked = path.join(ws, 'asked.onnx');
  writeFileSync(asked, sigmoidHead(w, 0.1));
  const reference = await evaluateModel({ model: asked, data, target: 'y', workspace: ws, task: 'binary' });
  for (const [name, bytes] of [['sigmoid', sigmoidHead(w, 0.1)], ['flat', sigmoidHead(w, 0.1, { flat: true })], ['with-logit', sigmoidHead(w, 0.1, { withLogit: true })]] as const) {
    const model = path.join(ws, `${name}.onnx`);
    writeFileSync(model, bytes);
    const r = await evaluateModel({ model, data, target: 'y', workspace: ws });
    assert.equal(r.task, 'binary', `${name}: inferred from the Sigmoid`);
    assert.deepEqual(r.metrics, reference.metrics, name);
  }
  // Asked for as a regression, it is one.
  assert.equal((await evaluateModel({ model: asked, data, target: 'y', workspace: ws, task: 'regression' })).task, 'regression');
  const model = path.join(ws, 'embedding.onnx');
  writeFileSync(model, regressionWithEmbedding([2, 3], 1));
  const values = path.join(ws, 'values.csv');
  writeFileSync(values, 'a,b,y\n1,1,6\n2,0,5\n0,1,4\n');
  const r = await evaluateModel({ model, data: values, target: 'y', workspace: ws });
  assert.deepEqual([r.task, r.metrics.mae], ['regression', 0], 'the prediction, not the embedding');
});

test('a model with an Imputer (a SimpleImputer pipeline) is fed its features\' empty cells as NaN, which it fills; without one they are refused', async () => {
  const ws = tempWorkspace('eval-imputer');
  const model = path.join(ws, 'imputer.onnx');
  writeFileSync(model, imputedRegression([1, 2], 0, [10, 20]));
  const data = path.join(ws, 'data.csv');
  // y = a + 2b with a missing a filled by 10, a missing b by 20 (an empty cell, NA, a JSON null alike).
  writeFileSync(data, 'a,b,y\n1,1,3\n,1,12\n2,NA,42\n');
  const r = await evaluateModel({ model, data, target: 'y', workspace: ws });
  assert.deepEqual([r.task, r.metrics.mae], ['regression', 0]);
  const jsonl = path.join(ws, 'data.jsonl');
  writeFileSync(jsonl, '{"a": null, "b": 1, "y": 12}\n{"a": 1, "b": 1, "y": 3}\n');
  assert.equal((await evaluateModel({ model, data: jsonl, target: 'y', workspace: ws })).metrics.mae, 0);
  // The target is never imputed: a missing one stays an error.
  writeFileSync(data, 'a,b,y\n1,1,3\n1,1,\n');
  await assert.rejects(evaluateModel({ model, data, target: 'y', workspace: ws }), /data\.csv:3: column 'y' is empty/);
  const plain = path.join(ws, 'plain.onnx');
  writeFileSync(plain, regression([1, 2], 0));
  writeFileSync(data, 'a,b,y\n1,1,3\n,1,12\n');
  await assert.rejects(evaluateModel({ model: plain, data, target: 'y', workspace: ws }), /data\.csv:3: column 'a' is empty \(expected a number\)/);
});

test('a string input (a categorical column a pipeline encodes) is fed its column\'s text, beside a numeric one; with a fixed batch too', async () => {
  const ws = tempWorkspace('eval-strings');
  const model = path.join(ws, 'strings.onnx');
  writeFileSync(model, stringColumnRegression(['paris', 'lyon', 'nice, fr'], [100, 200, 300], -1));
  // y = x + code(city); a quoted city with a comma, an unknown one (-1), across batches of 2.
  const data = path.join(ws, 'data.csv');
  writeFileSync(data, 'x,city,y\n1,paris,101\n2,lyon,202\n3,"nice, fr",303\n4,rome,3\n5,paris,105\n');
  const r = await evaluateModel({ model, data, target: 'y', workspace: ws, batchSize: 2 });
  assert.deepEqual([r.task, r.rows, r.metrics.mae], ['regression', 5, 0]);
  // JSON Lines, and a file of 4 MiB or more (read in the dataset's worker thread).
  const rows = path.join(ws, 'rows.jsonl');
  writeFileSync(rows, ['paris', 'lyon', 'rome'].map((c, i) => JSON.stringify({ x: i, city: c, y: i + (c === 'paris' ? 100 : c === 'lyon' ? 200 : -1) })).join('\n') + '\n');
  assert.equal((await evaluateModel({ model, data: rows, target: 'y', workspace: ws })).metrics.mae, 0);
  const big = path.join(ws, 'big.csv');
  const cities = ['paris', 'lyon', '"nice, fr"', 'rome'];
  const code = [100, 200, 300, -1];
  writeFileSync(big, `x,city,y\n${Array.from({ length: 400_000 }, (_, i) => `${i % 1000},${cities[i % 4]},${(i % 1000) + code[i % 4]!}`).join('\n')}\n`);
  const threaded = await evaluateModel({ model, data: big, target: 'y', workspace: ws });
  assert.deepEqual([threaded.rows, threaded.metrics.mae], [400_000, 0]);
});

test('a model with two inputs of several columns each is said to be one evaluation cannot feed, with or without --features', async () => {
  const ws = tempWorkspace('eval-two-inputs');
  const model = path.join(ws, 'two.onnx');
  writeFileSync(model, twoMatrixInputs());
  const data = path.join(ws, 'data.csv');
  writeFileSync(data, 'a,b,c,d,e,y\n1,2,3,4,5,15\n');
  for (const features of [undefined, ['a', 'b', 'c', 'd', 'e']]) {
    await assert.rejects(
      evaluateModel({ model, data, target: 'y', workspace: ws, ...(features ? { features } : {}) }),
      /two\.onnx: input 'num' has shape \[N, 3\]: a model with several inputs is fed one column per input, so 'num', of 3 columns, cannot be fed; export the model with one \[N, F\] input of the features, or one input per column/,
    );
  }
});
