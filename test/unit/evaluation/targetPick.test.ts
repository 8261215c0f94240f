/**
 * The order the editor offers a dataset's columns as an evaluation's target: the model's own target
 * (its metadata) or the last column first, the model's features last.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { modelColumns, targetCandidates } from '../../../core/evaluation/targetPick';
import { probabilitiesOnly } from './onnxTestModels';

const EXAMPLE = path.join(__dirname, '../../../examples/pipeline');
const { logisticRegressionOnnx } = require(path.join(EXAMPLE, 'onnxModel.js')) as {
  logisticRegressionOnnx(m: { coef: number[]; intercept: number }, o: { features: string[]; target: string }): Uint8Array;
};

test("a model's metadata names its target and features; a model without them, or bytes that are no model, name none", () => {
  const bytes = logisticRegressionOnnx({ coef: [0.8, -1.2], intercept: 0.1 }, { features: ['tenure', 'spend'], target: 'churned' });
  assert.deepEqual(modelColumns(bytes), { target: 'churned', features: ['tenure', 'spend'] });
  assert.deepEqual(modelColumns(probabilitiesOnly({ weights: [1, -1, 0.5, -0.5], bias: [0, 0], features: 2, classes: 2 })), {});
  assert.deepEqual(modelColumns(Buffer.from('version https://git-lfs.github.com/spec/v1\n')), {});
});

test("the target is offered first: the model's own, else the last column unless the model reads it; the model's features last", () => {
  const order = (columns: string[], options: Parameters<typeof targetCandidates>[1]) => targetCandidates(columns, options).map((c) => (c.note ? `${c.column} (${c.note})` : c.column));
  const model = { target: 'churned', features: ['tenure', 'spend'] };
  // The target in the middle of the file, an id after it: the model's target first, not the id.
  assert.deepEqual(order(['tenure', 'churned', 'spend', 'id'], { lastIsLikely: true, model }), [
    "churned (the model's target (its metadata))",
    'id',
    'tenure (a feature of the model)',
    'spend (a feature of the model)',
  ]);
  // A target the file does not have: the last column first, unless it is one of the model's features.
  assert.deepEqual(order(['label', 'tenure', 'spend'], { lastIsLikely: true, model: { ...model, target: 'y' } }), ['label', 'tenure (a feature of the model)', 'spend (a feature of the model)']);
  assert.deepEqual(order(['tenure', 'spend', 'label'], { lastIsLikely: true, model: {} }), ['label (last column)', 'tenure', 'spend']);
  // JSON Lines: the key order says nothing of the target.
  assert.deepEqual(order(['tenure', 'spend', 'label'], { lastIsLikely: false }), ['tenure', 'spend', 'label']);
});
