// Binary logistic regression by full-batch gradient descent, in plain JavaScript.
//
// Training standardizes the features (mean 0, standard deviation 1 on the training rows), which lets
// one learning rate suit features of any scale; the fitted model is then folded back to the raw
// features, so a model is just `{ coef, intercept }` with P(y = 1 | x) = sigmoid(x · coef + intercept).
// That is the same formula the ONNX graph computes (see onnxModel.js).
'use strict';
const { seededRandom } = require('./dataset');

const sigmoid = (z) => 1 / (1 + Math.exp(-z));

/** P(y = 1) for one row of raw features. */
function predictProbability(model, row) {
  let z = model.intercept;
  for (let j = 0; j < row.length; j++) z += row[j] * model.coef[j];
  return sigmoid(z);
}

/** Predicted class: 1 when P(y = 1) is above one half (a tie is class 0, as ONNX's ArgMax picks). */
const predictLabel = (model, row) => (predictProbability(model, row) > 0.5 ? 1 : 0);

/** Mean log-loss and accuracy of a model on rows `x` with labels `y`. */
function evaluate(model, x, y) {
  if (x.length === 0) throw new Error('cannot evaluate on no rows');
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < x.length; i++) {
    const p = Math.min(Math.max(predictProbability(model, x[i]), 1e-15), 1 - 1e-15);
    loss -= y[i] === 1 ? Math.log(p) : Math.log(1 - p);
    if ((p > 0.5 ? 1 : 0) === y[i]) correct++;
  }
  return { loss: loss / x.length, accuracy: correct / x.length };
}

/** Per-column mean and standard deviation (a constant column gets 1, so it scales to 0). */
function columnScales(x) {
  const width = x[0].length;
  const mean = new Array(width).fill(0);
  const std = new Array(width).fill(0);
  for (const row of x) for (let j = 0; j < width; j++) mean[j] += row[j] / x.length;
  for (const row of x) for (let j = 0; j < width; j++) std[j] += (row[j] - mean[j]) ** 2 / x.length;
  return { mean, std: std.map((v) => (v > 0 ? Math.sqrt(v) : 1)) };
}

/** The raw-feature model equal to weights `w` (bias last) on standardized features. */
function unscale(w, { mean, std }) {
  const width = mean.length;
  const coef = Array.from({ length: width }, (_, j) => w[j] / std[j]);
  let intercept = w[width];
  for (let j = 0; j < width; j++) intercept -= coef[j] * mean[j];
  return { coef, intercept };
}

/**
 * Fits a model to rows `x` (numbers) and labels `y` (0/1): `epochs` steps of gradient descent on the
 * mean log-loss plus `l2 / 2 · |w|²` (the bias is not penalized), from small random weights drawn
 * with `seed`. `onEpoch(epoch, model)` sees the model after each step.
 */
function fit(x, y, { lr, epochs, l2, seed }, onEpoch) {
  if (x.length === 0 || x.length !== y.length) throw new Error(`expected as many labels as rows, got ${y.length} and ${x.length}`);
  if (!(lr > 0) || !Number.isInteger(epochs) || epochs < 1 || !(l2 >= 0)) {
    throw new Error(`expected lr > 0, an integer epochs >= 1 and l2 >= 0, got lr=${lr} epochs=${epochs} l2=${l2}`);
  }
  const scales = columnScales(x);
  const z = x.map((row) => row.map((v, j) => (v - scales.mean[j]) / scales.std[j]));
  const width = scales.mean.length;
  const rand = seededRandom(seed);
  const w = Array.from({ length: width + 1 }, () => (rand() - 0.5) * 0.02);
  let model = unscale(w, scales);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const grad = new Array(width + 1).fill(0);
    for (let i = 0; i < z.length; i++) {
      let s = w[width];
      for (let j = 0; j < width; j++) s += w[j] * z[i][j];
      const err = sigmoid(s) - y[i];
      for (let j = 0; j < width; j++) grad[j] += (err * z[i][j]) / z.length;
      grad[width] += err / z.length;
    }
    for (let j = 0; j < width; j++) w[j] -= lr * (grad[j] + l2 * w[j]);
    w[width] -= lr * grad[width];
    model = unscale(w, scales);
    if (onEpoch) onEpoch(epoch, model);
  }
  return model;
}

module.exports = { fit, evaluate, predictProbability, predictLabel };
