#!/usr/bin/env node
// Stage `train`: a logistic regression on data/train.csv, by gradient descent in plain JavaScript.
//
//   node train.js --lr 0.5 --epochs 100 --l2 0.001 --seed 7
//
// Writes models/model.onnx (inputs and outputs described in onnxModel.js) and metrics.json (test
// accuracy and log-loss, and the same on the training rows). When MLFLOW_TRACKING_URI is set, as
// `runwise run` sets it with MLFLOW_TRACKING_TOKEN and MLFLOW_RUN_ID for each stage, it logs its
// params, its datasets, and the test `loss` and `accuracy` after every epoch through Runwise's Node
// client; without it, it logs nothing and only prints the result.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { FEATURES, TARGET, readCsv } = require('./dataset');
const { fit, evaluate } = require('./logisticRegression');
const { logisticRegressionOnnx } = require('./onnxModel');
const { numberArguments } = require('./commandLine');

const params = numberArguments(process.argv.slice(2), ['lr', 'epochs', 'l2', 'seed'], 'node train.js --lr X --epochs N --l2 X --seed N');
const file = (rel) => path.join(__dirname, rel);
// The md5 of the file: the hash the runner records for the stage's dependencies, so these inputs
// and the stage's are one file version in lineage.
const digestOf = (rel) => crypto.createHash('md5').update(fs.readFileSync(file(rel))).digest('hex');

async function main() {
  // Loaded only when there is an endpoint to log to: the client refuses to start without one.
  const tracking = process.env.MLFLOW_TRACKING_URI ? require('runwise/client') : undefined;
  if (tracking) {
    await tracking.startRun({ runName: 'train' });
    tracking.logParams(params);
    for (const [rel, context] of [['data/train.csv', 'training'], ['data/test.csv', 'eval']]) {
      tracking.logInput({ name: path.basename(rel, '.csv'), digest: digestOf(rel), source: rel, sourceType: 'local', context });
    }
  }

  const train = readCsv(file('data/train.csv'));
  const test = readCsv(file('data/test.csv'));
  const model = fit(train.x, train.y, params, (epoch, current) => {
    if (!tracking) return;
    const { loss, accuracy } = evaluate(current, test.x, test.y);
    tracking.logMetrics({ loss, accuracy }, epoch);
  });

  const onTest = evaluate(model, test.x, test.y);
  const onTrain = evaluate(model, train.x, train.y);
  const onnx = logisticRegressionOnnx(model, {
    features: FEATURES,
    target: TARGET,
    docString: `Logistic regression predicting '${TARGET}' (lr=${params.lr}, epochs=${params.epochs}, l2=${params.l2}, seed=${params.seed}).`,
  });
  fs.mkdirSync(file('models'), { recursive: true });
  fs.writeFileSync(file('models/model.onnx'), onnx);
  const metrics = { accuracy: onTest.accuracy, loss: onTest.loss, train_accuracy: onTrain.accuracy, train_loss: onTrain.loss };
  fs.writeFileSync(file('metrics.json'), JSON.stringify(metrics, null, 2) + '\n');

  if (tracking) {
    tracking.setTag('model.kind', 'logistic-regression');
    await tracking.flush();
  }
  console.log(
    `train: test accuracy ${onTest.accuracy.toFixed(3)}, loss ${onTest.loss.toFixed(4)} after ${params.epochs} epochs; ` +
      `wrote models/model.onnx (${onnx.length} bytes) and metrics.json${tracking ? '' : ' (MLFLOW_TRACKING_URI not set: nothing logged)'}`,
  );
}

main().catch((e) => {
  console.error(`train: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
