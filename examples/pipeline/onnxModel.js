// A logistic regression as an ONNX model, encoded with protobufjs from ONNX's own message definitions
// (onnx.proto beside this file), so any ONNX runtime loads it; onnxruntime-node is what Runwise's
// evaluate step uses.
//
// The model, in the shape skl2onnx gives a scikit-learn LogisticRegression with zipmap disabled:
//
//   input   features       float32 [N, F]   the feature columns, in the order of metadata `features`
//   output  label          int64   [N]      the predicted class, 0 or 1 (ArgMax: a tie is class 0)
//   output  probabilities  float32 [N, 2]   P(class 0), P(class 1) for each row; each row sums to 1
//
//   features ─MatMul(coef [F,1])─Add(intercept [1])─Sigmoid─▶ p1 [N,1]
//   p0 = Sub(1, p1);  probabilities = Concat(p0, p1, axis 1);  label = ArgMax(probabilities, axis 1)
//
// Metadata (ModelProto.metadata_props): `features` (the column names, comma-separated), `target` (the
// label column the model was trained for) and `classes` ("0,1"). IR version 8 with the default
// operator set at version 17: onnxruntime 1.14 and later load it, and so do skl2onnx-era tools.
'use strict';
const path = require('node:path');
const protobuf = loadProtobuf();

/**
 * protobufjs: the workspace's own, or else (a copy of this example outside Runwise's folder, run by
 * `runwise run`, which lets stages require 'runwise/client') the one installed with Runwise.
 */
function loadProtobuf() {
  try {
    return require('protobufjs');
  } catch (e) {
    let beside;
    try {
      beside = require.resolve('protobufjs', { paths: [path.dirname(require.resolve('runwise/client'))] });
    } catch {
      throw e;
    }
    return require(beside);
  }
}

const IR_VERSION = 8;
const OPSET_VERSION = 17;
const FLOAT = 'FLOAT';
const INT64 = 'INT64';

let messages;
/** The ONNX message types, parsed from onnx.proto on first use. */
function onnxMessages() {
  if (!messages) {
    const root = protobuf.loadSync(path.join(__dirname, 'onnx.proto'));
    messages = { Model: root.lookupType('onnx.ModelProto') };
  }
  return messages;
}

const dim = (d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d });
const tensorValue = (name, elemType, dims) => ({
  name,
  type: { tensorType: { elemType: elemType === FLOAT ? 1 : 7, shape: { dim: dims.map(dim) } } },
});
const floatTensor = (name, dims, values) => ({ name, dataType: 1, dims, floatData: values });
const node = (opType, inputs, outputs, attribute = []) => ({ opType, name: outputs[0], input: inputs, output: outputs, attribute });
const intAttribute = (name, i) => ({ name, type: 'INT', i });

/**
 * The ONNX bytes of a model `{ coef, intercept }` (P(y = 1) = sigmoid(x · coef + intercept)) over
 * the columns `features`. Coefficients are stored as float32, as ONNX runtimes compute.
 */
function logisticRegressionOnnx(model, { features, target, docString = '' }) {
  const width = model.coef.length;
  if (width === 0 || features.length !== width) {
    throw new Error(`expected one feature name per coefficient, got ${features.length} names for ${width} coefficients`);
  }
  if (![...model.coef, model.intercept].every(Number.isFinite)) throw new Error('the model has a coefficient that is not a finite number');
  const proto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    producerName: 'runwise-example',
    producerVersion: '0.1.0',
    docString,
    metadataProps: [
      { key: 'features', value: features.join(',') },
      { key: 'target', value: target },
      { key: 'classes', value: '0,1' },
    ],
    graph: {
      name: 'logistic_regression',
      initializer: [floatTensor('coef', [width, 1], model.coef), floatTensor('intercept', [1], [model.intercept]), floatTensor('one', [1], [1])],
      node: [
        node('MatMul', ['features', 'coef'], ['linear']),
        node('Add', ['linear', 'intercept'], ['logit']),
        node('Sigmoid', ['logit'], ['p1']),
        node('Sub', ['one', 'p1'], ['p0']),
        node('Concat', ['p0', 'p1'], ['probabilities'], [intAttribute('axis', 1)]),
        node('ArgMax', ['probabilities'], ['label'], [intAttribute('axis', 1), intAttribute('keepdims', 0)]),
      ],
      input: [tensorValue('features', FLOAT, ['N', width])],
      output: [tensorValue('label', INT64, ['N']), tensorValue('probabilities', FLOAT, ['N', 2])],
    },
  };
  const { Model } = onnxMessages();
  const message = Model.fromObject(proto);
  const problem = Model.verify(message);
  if (problem) throw new Error(`could not build the ONNX model: ${problem}`);
  return Model.encode(message).finish();
}

/** An ONNX file's ModelProto as a plain object (enums by name, 64-bit integers as numbers). */
function readOnnxModel(bytes) {
  const { Model } = onnxMessages();
  return Model.toObject(Model.decode(bytes), { enums: String, longs: Number, defaults: false });
}

module.exports = { logisticRegressionOnnx, readOnnxModel, IR_VERSION, OPSET_VERSION };
