#!/usr/bin/env node
// A small training script: logistic regression on a synthetic two-moons-like dataset, by gradient
// descent. It logs params, a metric per epoch, its input dataset and the trained model through the
// Runwise Node client, which reads MLFLOW_TRACKING_URI / MLFLOW_TRACKING_TOKEN / MLFLOW_RUN_ID.
//
//   node examples/train.js --lr 0.1 --epochs 60 --l2 0.001
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const rw = require('runwise/client');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const params = { lr: arg('lr', 0.1), epochs: arg('epochs', 50), l2: arg('l2', 0), seed: arg('seed', 7) };

// A deterministic generator, so every run sees the same data.
function mulberry32(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeData(n, seed) {
  const rand = mulberry32(seed);
  const rows = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const angle = Math.PI * rand();
    const x = label ? 1 - Math.cos(angle) : Math.cos(angle);
    const y = (label ? 0.5 - Math.sin(angle) : Math.sin(angle)) + (rand() - 0.5) * 0.6;
    rows.push([x + (rand() - 0.5) * 0.6, y, label]);
  }
  return rows;
}

const data = makeData(600, 1234);
const train = data.slice(0, 480);
const test = data.slice(480);
const digest = crypto.createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 16);

const sigmoid = (z) => 1 / (1 + Math.exp(-z));
function predict(w, [x, y]) {
  return sigmoid(w[0] + w[1] * x + w[2] * y + w[3] * x * y);
}
function evaluate(w, rows) {
  let loss = 0;
  let correct = 0;
  for (const r of rows) {
    const p = Math.min(Math.max(predict(w, r), 1e-12), 1 - 1e-12);
    loss -= r[2] ? Math.log(p) : Math.log(1 - p);
    if ((p >= 0.5 ? 1 : 0) === r[2]) correct++;
  }
  return { loss: loss / rows.length, accuracy: correct / rows.length };
}

async function main() {
  await rw.startRun({ runName: `lr=${params.lr}` });
  rw.logParams(params);
  rw.logInput({ name: 'moons', digest, source: 'examples/train.js#makeData', context: 'training' });

  const rand = mulberry32(params.seed);
  const w = [0, 0, 0, 0].map(() => (rand() - 0.5) * 0.1);
  for (let epoch = 0; epoch < params.epochs; epoch++) {
    const grad = [0, 0, 0, 0];
    for (const r of train) {
      const err = predict(w, r) - r[2];
      const f = [1, r[0], r[1], r[0] * r[1]];
      for (let j = 0; j < 4; j++) grad[j] += (err * f[j]) / train.length;
    }
    for (let j = 0; j < 4; j++) w[j] -= params.lr * (grad[j] + params.l2 * w[j]);
    const tr = evaluate(w, train);
    const te = evaluate(w, test);
    rw.logMetrics({ 'train/loss': tr.loss, 'test/loss': te.loss, 'test/accuracy': te.accuracy }, epoch);
  }

  const final = evaluate(w, test);
  const modelFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'runwise-train-')), 'model.json');
  fs.writeFileSync(modelFile, JSON.stringify({ kind: 'logistic-regression', weights: w }, null, 2));
  rw.logArtifact(modelFile, 'model');
  rw.setTag('model.kind', 'logistic-regression');
  await rw.flush();
  console.log(`lr=${params.lr} epochs=${params.epochs}: test accuracy ${final.accuracy.toFixed(3)}, loss ${final.loss.toFixed(4)}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
