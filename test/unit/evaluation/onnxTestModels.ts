/**
 * Small ONNX models for the evaluation tests (and the rows they are evaluated on), one per output
 * shape the evaluator handles, written
 * with protobufjs from ONNX's message definitions (examples/pipeline/onnx.proto). Each is a
 * linear model over a float input `features` [N, F]:
 *
 * - `probabilitiesOnly`: Softmax(x · W + b) → `probabilities` float [N, C]
 * - `labelAndProbabilities`: the same plus ArgMax → `label` int64 [N]
 * - `zipMap`: label int64 [N] + ZipMap (ai.onnx.ml) → `output_probability` seq(map(int64, float)),
 *   as scikit-learn-onnx writes a classifier
 * - `regression`: x · w + b → `variable` float [N, 1] (MatMul + Add), or [N] with `flat`
 * - `linearClassifier`: LinearClassifier (ai.onnx.ml, SOFTMAX) with `classlabels_ints` → `label`
 *   int64 [N] and `probabilities` float [N, C], no ZipMap (scikit-learn-onnx's zipmap=False)
 * - `passThrough`: the input `features` [N, W] as the output (`Identity`, or another unary op such as
 *   `Sqrt`), named `probabilities` when W ≥ 2 and `variable` for W = 1: outputs chosen row by row
 * - `castRegression`: an int32 or int64 input [N, 1] cast to float → `variable`: the prediction is the input
 * - `logitsAndProbabilities`: `logits` [N, C] before `probabilities` [N, C], as a network returns both
 * - `softVoting`: two LinearClassifiers declaring the same labels, their probabilities averaged (a
 *   soft-voting ensemble as scikit-learn-onnx writes it with zipmap=False)
 * - `withExternalData`: `probabilitiesOnly` with W kept in another file (ONNX external data)
 * - `doubleCastProbabilities`: `probabilitiesOnly`'s softmax cast to float64, as some converters write it
 * - `zipMapColumns`: scikit-learn-onnx's `zipmap='columns'`, one [N] output per class
 */
import * as path from 'node:path';
import protobuf from 'protobufjs';

const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;
const DOUBLE = 11;

let modelType: protobuf.Type | undefined;
function onnxModelType(): protobuf.Type {
  modelType ??= protobuf.loadSync(path.join(__dirname, '../../../examples/pipeline/onnx.proto')).lookupType('onnx.ModelProto');
  return modelType;
}

type Dim = number | string;
const shape = (dims: readonly Dim[]) => ({ dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) });
const tensorValue = (name: string, elemType: number, dims: readonly Dim[]) => ({ name, type: { tensorType: { elemType, shape: shape(dims) } } });
const floatTensor = (name: string, dims: number[], values: number[]) => ({ name, dataType: FLOAT, dims, floatData: values });
const int64Tensor = (name: string, dims: number[], values: number[]) => ({ name, dataType: INT64, dims, int64Data: values });
const node = (opType: string, inputs: string[], outputs: string[], attribute: object[] = [], domain = '') => ({ opType, domain, name: outputs[0], input: inputs, output: outputs, attribute });
const ints = (name: string, values: number[]) => ({ name, type: 'INTS', ints: values });
const int = (name: string, i: number) => ({ name, type: 'INT', i });
const floats = (name: string, values: number[]) => ({ name, type: 'FLOATS', floats: values });
const str = (name: string, value: string) => ({ name, type: 'STRING', s: Buffer.from(value) });

/** `mlDomain`: import ai.onnx.ml, at version 1 (true) or the version given (LabelEncoder's keys_* need 2). */
function encode(graph: object, inputElemType = FLOAT, mlDomain: boolean | number = false, irVersion = 8): Uint8Array {
  const Model = onnxModelType();
  const message = Model.fromObject({
    irVersion,
    opsetImport: [{ domain: '', version: 17 }, ...(mlDomain ? [{ domain: 'ai.onnx.ml', version: mlDomain === true ? 1 : mlDomain }] : [])],
    producerName: 'runwise-test',
    graph: { name: 'test_model', ...graph },
  });
  const problem = Model.verify(message);
  if (problem) throw new Error(problem);
  void inputElemType;
  return Model.encode(message).finish();
}

/** Weights W [F, C] (row-major) and bias b [C]. */
export interface LinearClassifier {
  weights: number[];
  bias: number[];
  features: number;
  classes: number;
}

function classifierNodes(m: LinearClassifier) {
  return {
    initializer: [floatTensor('W', [m.features, m.classes], m.weights), floatTensor('b', [m.classes], m.bias)],
    node: [node('MatMul', ['features', 'W'], ['scores']), node('Add', ['scores', 'b'], ['logits']), node('Softmax', ['logits'], ['probabilities'], [int('axis', 1)])],
  };
}

export function probabilitiesOnly(m: LinearClassifier, inputDims: Dim[] = ['N', m.features]): Uint8Array {
  const { initializer, node: nodes } = classifierNodes(m);
  return encode({
    initializer,
    node: nodes,
    input: [tensorValue('features', FLOAT, inputDims)],
    output: [tensorValue('probabilities', FLOAT, ['N', m.classes])],
  });
}

/** probabilitiesOnly with its weights W in the file `location` beside the model (raw float32, little-endian): the model bytes and the weight file's. */
export function withExternalData(m: LinearClassifier, location: string): { model: Uint8Array; weights: Buffer } {
  const { initializer, node: nodes } = classifierNodes(m);
  const weights = Buffer.from(Float32Array.from(m.weights).buffer);
  const external = { name: 'W', dataType: FLOAT, dims: [m.features, m.classes], dataLocation: 1, externalData: [{ key: 'location', value: location }, { key: 'offset', value: '0' }, { key: 'length', value: String(weights.length) }] };
  const model = encode({
    initializer: [external, ...initializer.slice(1)],
    node: nodes,
    input: [tensorValue('features', FLOAT, ['N', m.features])],
    output: [tensorValue('probabilities', FLOAT, ['N', m.classes])],
  });
  return { model, weights };
}

/** probabilitiesOnly with another IR version (an unsupported one makes onnxruntime refuse it). */
export function probabilitiesAtIrVersion(m: LinearClassifier, irVersion: number): Uint8Array {
  const { initializer, node: nodes } = classifierNodes(m);
  return encode({ initializer, node: nodes, input: [tensorValue('features', FLOAT, ['N', m.features])], output: [tensorValue('probabilities', FLOAT, ['N', m.classes])] }, FLOAT, false, irVersion);
}

/** `probabilitiesOnly`'s float32 softmax cast to double: `probabilities` float64 [N, C], each row's sum off 1 by float32 rounding. */
export function doubleCastProbabilities(m: LinearClassifier): Uint8Array {
  const { initializer, node: nodes } = classifierNodes(m);
  return encode({
    initializer,
    node: [...nodes.map((n) => (n.opType === 'Softmax' ? { ...n, output: ['p32'], name: 'p32' } : n)), node('Cast', ['p32'], ['probabilities'], [int('to', DOUBLE)])],
    input: [tensorValue('features', FLOAT, ['N', m.features])],
    output: [tensorValue('probabilities', DOUBLE, ['N', m.classes])],
  });
}

/** The logits [N, C] and then the probabilities [N, C], as a network that returns both. */
export function logitsAndProbabilities(m: LinearClassifier): Uint8Array {
  const { initializer, node: nodes } = classifierNodes(m);
  return encode({
    initializer,
    node: nodes,
    input: [tensorValue('features', FLOAT, ['N', m.features])],
    output: [tensorValue('logits', FLOAT, ['N', m.classes]), tensorValue('probabilities', FLOAT, ['N', m.classes])],
  });
}

/** An int input [N, 1] (`elem`: 'int32' or 'int64') cast to float: `variable` [N, 1] equals the input. */
export function castRegression(elem: 'int32' | 'int64'): Uint8Array {
  return encode({
    node: [node('Cast', ['features'], ['variable'], [int('to', FLOAT)])],
    input: [tensorValue('features', elem === 'int32' ? INT32 : INT64, ['N', 1])],
    output: [tensorValue('variable', FLOAT, ['N', 1])],
  });
}

/** The sum of float inputs of shape [N, 1] named `names` (taken by name, one column each), as `variable` [N, 1]. */
export function sumOfColumns(names: string[]): Uint8Array {
  return encode({
    node: [node(names.length === 1 ? 'Identity' : 'Sum', names, ['variable'])],
    input: names.map((n) => tensorValue(n, FLOAT, ['N', 1])),
    output: [tensorValue('variable', FLOAT, ['N', 1])],
  });
}

/** y = Identity(features) with the input declared as `dims` (undefined: no shape at all), or a Constant with no input when `dims` is 'none'. */
export function oddInput(dims: Dim[] | undefined | 'none'): Uint8Array {
  if (dims === 'none') {
    return encode({
      node: [node('Constant', [], ['variable'], [{ name: 'value', type: 'TENSOR', t: floatTensor('c', [1, 1], [0.5]) }])],
      output: [tensorValue('variable', FLOAT, [1, 1])],
    });
  }
  const input = dims ? tensorValue('features', FLOAT, dims) : { name: 'features', type: { tensorType: { elemType: FLOAT } } };
  // [N, F, 1] summed over its last two axes: an [N] output, so only the input is odd.
  if (dims?.length === 3) {
    return encode({
      initializer: [int64Tensor('axes', [2], [1, 2])],
      node: [node('ReduceSum', ['features', 'axes'], ['variable'], [int('keepdims', 0)])],
      input: [input],
      output: [tensorValue('variable', FLOAT, ['N'])],
    });
  }
  return encode({ node: [node('Identity', ['features'], ['variable'])], input: [input], output: [tensorValue('variable', FLOAT, ['N', 1])] });
}

export function labelAndProbabilities(m: LinearClassifier): Uint8Array {
  const { initializer, node: nodes } = classifierNodes(m);
  return encode({
    initializer,
    node: [...nodes, node('ArgMax', ['probabilities'], ['label'], [int('axis', 1), int('keepdims', 0)])],
    input: [tensorValue('features', FLOAT, ['N', m.features])],
    output: [tensorValue('label', INT64, ['N']), tensorValue('probabilities', FLOAT, ['N', m.classes])],
  });
}

/** scikit-learn-onnx's classifier shape: `output_label` int64 [N] and a ZipMap over class labels. */
export function zipMap(m: LinearClassifier, classLabels: number[]): Uint8Array {
  const { initializer, node: nodes } = classifierNodes(m);
  return encode(
    {
      initializer: [...initializer, int64Tensor('class_labels', [m.classes], classLabels)],
      node: [
        ...nodes,
        node('ArgMax', ['probabilities'], ['label_index'], [int('axis', 1), int('keepdims', 0)]),
        node('Gather', ['class_labels', 'label_index'], ['output_label'], [int('axis', 0)]),
        node('ZipMap', ['probabilities'], ['output_probability'], [ints('classlabels_int64s', classLabels)], 'ai.onnx.ml'),
      ],
      input: [tensorValue('features', FLOAT, ['N', m.features])],
      output: [
        tensorValue('output_label', INT64, ['N']),
        { name: 'output_probability', type: { sequenceType: { elemType: { mapType: { keyType: INT64, valueType: { tensorType: { elemType: FLOAT } } } } } } },
      ],
    },
    FLOAT,
    true,
  );
}

/** The input [N, width] through one unary node (`Identity` by default): the output is what the rows say. */
export function passThrough(width: number, op = 'Identity'): Uint8Array {
  const out = width >= 2 ? 'probabilities' : 'variable';
  return encode({
    node: [node(op, ['features'], [out])],
    input: [tensorValue('features', FLOAT, ['N', width])],
    output: [tensorValue(out, FLOAT, ['N', width])],
  });
}

/** y = x · w + b, as `variable` float [N, 1], or [N] when `flat`. */
export function regression(w: number[], b: number, flat = false): Uint8Array {
  return encode({
    initializer: [floatTensor('w', flat ? [w.length] : [w.length, 1], w), floatTensor('b', [1], [b])],
    node: [node('MatMul', ['features', 'w'], ['xw']), node('Add', ['xw', 'b'], ['variable'])],
    input: [tensorValue('features', FLOAT, ['N', w.length])],
    output: [tensorValue('variable', FLOAT, flat ? ['N'] : ['N', 1])],
  });
}

/** Softmax(x · W + b) by one LinearClassifier node that declares the classes `classLabels`; no ZipMap. */
export function linearClassifier(m: LinearClassifier, classLabels: number[]): Uint8Array {
  // LinearClassifier's coefficients are [C, F]: W transposed.
  const coefficients = Array.from({ length: m.classes * m.features }, (_, i) => m.weights[(i % m.features) * m.classes + Math.floor(i / m.features)]!);
  return encode(
    {
      node: [
        node(
          'LinearClassifier',
          ['features'],
          ['label', 'probabilities'],
          [ints('classlabels_ints', classLabels), floats('coefficients', coefficients), floats('intercepts', m.bias), str('post_transform', 'SOFTMAX')],
          'ai.onnx.ml',
        ),
      ],
      input: [tensorValue('features', FLOAT, ['N', m.features])],
      output: [tensorValue('label', INT64, ['N']), tensorValue('probabilities', FLOAT, ['N', m.classes])],
    },
    FLOAT,
    true,
  );
}

/**
 * Two LinearClassifiers (`m` and `m` with its bias shifted) declaring `classLabels`, their
 * probabilities averaged into `probabilities`; the label by ArgMax. No ZipMap.
 */
export function softVoting(m: LinearClassifier, classLabels: number[]): Uint8Array {
  const coefficients = Array.from({ length: m.classes * m.features }, (_, i) => m.weights[(i % m.features) * m.classes + Math.floor(i / m.features)]!);
  const classifier = (k: number, bias: number[]) =>
    node('LinearClassifier', ['features'], [`label_${k}`, `probabilities_${k}`], [ints('classlabels_ints', classLabels), floats('coefficients', coefficients), floats('intercepts', bias), str('post_transform', 'SOFTMAX')], 'ai.onnx.ml');
  return encode(
    {
      initializer: [floatTensor('half', [1], [0.5])],
      node: [
        classifier(0, m.bias),
        classifier(1, m.bias.map((b, c) => b + (c === 0 ? 0.2 : 0))),
        node('Add', ['probabilities_0', 'probabilities_1'], ['sum']),
        node('Mul', ['sum', 'half'], ['probabilities']),
        node('ArgMax', ['probabilities'], ['label'], [int('axis', 1), int('keepdims', 0)]),
      ],
      input: [tensorValue('features', FLOAT, ['N', m.features])],
      output: [tensorValue('label', INT64, ['N']), tensorValue('probabilities', FLOAT, ['N', m.classes])],
    },
    FLOAT,
    true,
  );
}

/** Rows x (2 features) with a deterministic pattern; class from the features, some noise. */
export function dataset(rows: number, classes: number): { x: number[][]; y: number[] } {
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < rows; i++) {
    const a = ((i * 37) % 101) / 10 - 5;
    const b = ((i * 53) % 97) / 10 - 4.5;
    x.push([a, b]);
    const score = a + 0.5 * b + (((i * 7) % 11) - 5) / 3;
    y.push(classes === 2 ? (score > 0 ? 1 : 0) : score < -1.5 ? 0 : score < 1.5 ? 1 : 2);
  }
  return { x, y };
}

/** Softmax(x · W + b) in float32 steps, as the model computes (close to, not bit-equal with, onnxruntime). */
export function softmaxRows(m: LinearClassifier, x: number[][]): Float64Array {
  const out = new Float64Array(x.length * m.classes);
  x.forEach((row, i) => {
    const logits = Array.from({ length: m.classes }, (_, c) => row.reduce((s, v, f) => s + v * m.weights[f * m.classes + c]!, m.bias[c]!));
    const max = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - max));
    const sum = e.reduce((s, v) => s + v, 0);
    e.forEach((v, c) => (out[i * m.classes + c] = Math.fround(v / sum)));
  });
  return out;
}

/** probabilitiesOnly's softmax, and the label taken from a constant by ArgMax → ArrayFeatureExtractor → Reshape (scikit-learn-onnx's double path). */
export function extractedLabels(m: LinearClassifier, classLabels: number[] | string[]): Uint8Array {
  const { initializer, node: nodes } = classifierNodes(m);
  const strings = typeof classLabels[0] === 'string';
  const classes = strings ? { name: 'classes', dataType: 8, dims: [classLabels.length], stringData: (classLabels as string[]).map((l) => Buffer.from(l)) } : int64Tensor('classes', [classLabels.length], classLabels as number[]);
  return encode({
    initializer: [...initializer, classes, int64Tensor('shape', [1], [-1])],
    node: [
      ...nodes,
      node('ArgMax', ['probabilities'], ['index'], [int('axis', 1)]),
      node('ArrayFeatureExtractor', ['classes', 'index'], ['picked'], [], 'ai.onnx.ml'),
      node('Reshape', ['picked', 'shape'], ['label']),
    ],
    input: [tensorValue('features', FLOAT, ['N', m.features])],
    output: [tensorValue('label', strings ? 8 : INT64, ['N']), tensorValue('probabilities', FLOAT, ['N', m.classes])],
  }, FLOAT, true);
}

/** Sigmoid(x · w + b) as `prob` [N, 1] ([N] when `flat`), after its `logit` [N, 1] when `withLogit`. */
export function sigmoidHead(w: number[], b: number, options: { flat?: boolean; withLogit?: boolean } = {}): Uint8Array {
  const squeeze = options.flat ? [node('Squeeze', ['p2', 'axes'], ['prob'])] : [];
  return encode({
    initializer: [floatTensor('w', [w.length, 1], w), floatTensor('b', [1], [b]), int64Tensor('axes', [1], [1])],
    node: [node('MatMul', ['features', 'w'], ['xw']), node('Add', ['xw', 'b'], ['logit']), node('Sigmoid', ['logit'], [options.flat ? 'p2' : 'prob']), ...squeeze],
    input: [tensorValue('features', FLOAT, ['N', w.length])],
    output: [...(options.withLogit ? [tensorValue('logit', FLOAT, ['N', 1])] : []), tensorValue('prob', FLOAT, options.flat ? ['N'] : ['N', 1])],
  });
}

/** x · w + b as `prediction` [N, 1], beside `embedding` x · E [N, 3] listed first. */
export function regressionWithEmbedding(w: number[], b: number): Uint8Array {
  const f = w.length;
  return encode({
    initializer: [floatTensor('w', [f, 1], w), floatTensor('b', [1], [b]), floatTensor('E', [f, 3], Array.from({ length: f * 3 }, (_, i) => (i % 5) - 2))],
    node: [node('MatMul', ['features', 'w'], ['xw']), node('Add', ['xw', 'b'], ['prediction']), node('MatMul', ['features', 'E'], ['embedding'])],
    input: [tensorValue('features', FLOAT, ['N', f])],
    output: [tensorValue('embedding', FLOAT, ['N', 3]), tensorValue('prediction', FLOAT, ['N', 1])],
  });
}

/** An ai.onnx.ml Imputer (NaN → `fill` per feature, as scikit-learn-onnx writes a SimpleImputer), then x · w + b → `variable` [N, 1]. */
export function imputedRegression(w: number[], b: number, fill: number[]): Uint8Array {
  return encode({
    initializer: [floatTensor('w', [w.length, 1], w), floatTensor('b', [1], [b])],
    node: [
      node('Imputer', ['features'], ['imputed'], [floats('imputed_value_floats', fill), { name: 'replaced_value_float', type: 'FLOAT', f: NaN }], 'ai.onnx.ml'),
      node('MatMul', ['imputed', 'w'], ['xw']),
      node('Add', ['xw', 'b'], ['variable']),
    ],
    input: [tensorValue('features', FLOAT, ['N', w.length])],
    output: [tensorValue('variable', FLOAT, ['N', 1])],
  }, FLOAT, true);
}

/**
 * Inputs by column as scikit-learn-onnx writes a pipeline over a DataFrame: `x` float [N, 1] and
 * `city` string [N, 1], the city encoded by an ai.onnx.ml LabelEncoder (`cities` → `values`,
 * anything else `fallback`) and added to x → `variable` [N, 1].
 */
export function stringColumnRegression(cities: string[], values: number[], fallback: number): Uint8Array {
  return encode({
    node: [
      node('LabelEncoder', ['city'], ['code'], [{ name: 'keys_strings', type: 'STRINGS', strings: cities.map((c) => Buffer.from(c)) }, floats('values_floats', values), { name: 'default_float', type: 'FLOAT', f: fallback }], 'ai.onnx.ml'),
      node('Add', ['x', 'code'], ['variable']),
    ],
    input: [tensorValue('x', FLOAT, ['N', 1]), tensorValue('city', 8, ['N', 1])],
    output: [tensorValue('variable', FLOAT, ['N', 1])],
  }, FLOAT, 2);
}

/** Two inputs of several columns, `num` [N, 3] and `extra` [N, 2], concatenated into a sum → `variable` [N, 1], as a network with two input heads. */
export function twoMatrixInputs(): Uint8Array {
  return encode({
    initializer: [floatTensor('w', [5, 1], [1, 1, 1, 1, 1])],
    node: [node('Concat', ['num', 'extra'], ['both'], [int('axis', 1)]), node('MatMul', ['both', 'w'], ['variable'])],
    input: [tensorValue('num', FLOAT, ['N', 3]), tensorValue('extra', FLOAT, ['N', 2])],
    output: [tensorValue('variable', FLOAT, ['N', 1])],
  });
}

/**
 * scikit-learn-onnx's `zipmap='columns'`: `output_label` and one [N] output per class, named
 * `i<label>`, each `Slice(axes=[1]) → Reshape(-1)` of the probabilities. With `classifier` a
 * LinearClassifier declares the labels; without, only the outputs' names say them. `double`: the
 * probabilities are cast to float64 before they are sliced.
 */
export function zipMapColumns(m: LinearClassifier, classLabels: number[], options: { classifier?: boolean; double?: boolean } = {}): Uint8Array {
  const coefficients = Array.from({ length: m.classes * m.features }, (_, i) => m.weights[(i % m.features) * m.classes + Math.floor(i / m.features)]!);
  const head = options.classifier
    ? {
        initializer: [] as object[],
        node: [
          node('LinearClassifier', ['features'], ['label', 'probabilities'], [ints('classlabels_ints', classLabels), floats('coefficients', coefficients), floats('intercepts', m.bias), str('post_transform', 'SOFTMAX')], 'ai.onnx.ml'),
          node('Identity', ['label'], ['output_label']),
        ],
      }
    : (() => {
        const { initializer, node: nodes } = classifierNodes(m);
        return {
          initializer: [...initializer, int64Tensor('class_labels', [m.classes], classLabels)],
          node: [...nodes, node('ArgMax', ['probabilities'], ['label_index'], [int('axis', 1), int('keepdims', 0)]), node('Gather', ['class_labels', 'label_index'], ['output_label'], [int('axis', 0)])],
        };
      })();
  const source = options.double ? 'probabilities64' : 'probabilities';
  const slices = classLabels.flatMap((label, k) => [
    node('Slice', [source, `s${k}`, `e${k}`, 'axes'], [`flat${k}`]),
    node('Reshape', [`flat${k}`, 'minus_one'], [`i${label}`]),
  ]);
  return encode(
    {
      initializer: [
        ...head.initializer,
        ...classLabels.flatMap((_, k) => [int64Tensor(`s${k}`, [1], [k]), int64Tensor(`e${k}`, [1], [k + 1])]),
        int64Tensor('axes', [1], [1]),
        int64Tensor('minus_one', [1], [-1]),
      ],
      node: [...head.node, ...(options.double ? [node('Cast', ['probabilities'], ['probabilities64'], [int('to', DOUBLE)])] : []), ...slices],
      input: [tensorValue('features', FLOAT, ['N', m.features])],
      output: [tensorValue('output_label', INT64, ['N']), ...classLabels.map((label) => tensorValue(`i${label}`, options.double ? DOUBLE : FLOAT, ['N']))],
    },
    FLOAT,
    true,
  );
}

/**
 * Two regression targets x · W + b sliced into one [N] output each (`names`), as a multi-output
 * regressor may be exported; `cast`: each cast to float64 after its reshape.
 */
export function slicedTargets(w: number[], names: [string, string], cast = false): Uint8Array {
  const features = w.length / 2;
  const nodes = names.flatMap((name, k) => [
    node('Slice', ['targets', `s${k}`, `e${k}`, 'axes'], [`flat${k}`]),
    node('Reshape', [`flat${k}`, 'minus_one'], [cast ? `r${k}` : name]),
    ...(cast ? [node('Cast', [`r${k}`], [name], [int('to', DOUBLE)])] : []),
  ]);
  return encode({
    initializer: [floatTensor('W', [features, 2], w), floatTensor('b', [2], [0.5, -0.5]), ...[0, 1].flatMap((k) => [int64Tensor(`s${k}`, [1], [k]), int64Tensor(`e${k}`, [1], [k + 1])]), int64Tensor('axes', [1], [1]), int64Tensor('minus_one', [1], [-1])],
    node: [node('MatMul', ['features', 'W'], ['xw']), node('Add', ['xw', 'b'], ['targets']), ...nodes],
    input: [tensorValue('features', FLOAT, ['N', features])],
    output: names.map((name) => tensorValue(name, cast ? DOUBLE : FLOAT, ['N'])),
  });
}
