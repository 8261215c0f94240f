/**
 * What evaluation and the registry read from an ONNX model's graph, without an ONNX schema.
 *
 * scikit-learn-onnx's classifiers end in a ZipMap (ai.onnx.ml): the probability tensor turned into
 * a sequence of {class: probability} maps. onnxruntime-node returns tensors only ("Non tensor type
 * is temporarily not supported"), so before the session is created the model's bytes gain one more
 * graph output: the ZipMap's input, the float tensor [N, C] itself. Nothing else in the model
 * changes. With `zipmap='columns'` the tensor the per-class outputs are sliced from is added the same
 * way. Exported without a ZipMap (`zipmap=False`), the classifier node itself (LinearClassifier,
 * TreeEnsembleClassifier, SVMClassifier…) still declares the class labels: `classlabels_strings`,
 * or as numbers `classlabels_int64s` (TreeEnsembleClassifier) or `classlabels_ints` (LinearClassifier,
 * SVMClassifier).
 * This reads and writes just the protobuf fields it needs (ModelProto.graph = 7, GraphProto.node = 1,
 * initializer = 5 and output = 12, NodeProto input = 1, output = 2, op_type = 4, attribute = 5,
 * AttributeProto name = 1, ints = 8, strings = 9, TensorProto external_data = 13 and
 * data_location = 14, ModelProto.metadata_props = 14, StringStringEntryProto key = 1 and value = 2),
 * so core needs no ONNX schema.
 * It also tells which files an initializer's data lives in (a model saved with external data) and
 * which operator writes each node output.
 */

export interface ZipMapOutput {
  /** The ZipMap's output (a sequence of maps). */
  output: string;
  /** Its input: the probability tensor, now also a graph output. */
  probabilities: string;
  /** `classlabels_int64s` or `classlabels_strings`: the class of each probability column. */
  classLabels: (number | string)[];
}

/**
 * scikit-learn-onnx's `zipmap='columns'`: the probability tensor [N, C] sliced into one graph output
 * [N] per class (`Slice(axes=[1]) → Reshape(-1)`), named `i<label>` or `s<label>`, in class order.
 */
export interface ColumnOutputs {
  /** The per-class outputs, in the graph's order (the classes' order). */
  outputs: string[];
  /** The tensor they are sliced from, now also a graph output. */
  probabilities: string;
}

/** A node other than a ZipMap that declares class labels: a classifier (its outputs are label, probabilities). */
export interface LabelledNode {
  opType: string;
  outputs: string[];
  /** `classlabels_strings`, or `classlabels_int64s` / `classlabels_ints`. */
  classLabels: (number | string)[];
}

interface Field {
  number: number;
  wire: number;
  start: number;
  end: number;
  /** Value start (after the length for wire type 2). */
  valueStart: number;
  value: number;
}

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++]!;
    result += (b & 0x7f) * shift;
    if (b < 0x80) return [result, pos];
    shift *= 128;
    if (shift > 2 ** 63) throw new Error('varint too long');
  }
}

function* fields(buf: Uint8Array, start = 0, end = buf.length): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const fieldStart = pos;
    const [key, p] = readVarint(buf, pos);
    pos = p;
    const wire = key % 8;
    const number = Math.floor(key / 8);
    // Field numbers start at 1: a 0 here (a run of zero bytes, a damaged file) is no message, and
    // reading on would walk every zero byte of a large file.
    if (number === 0) throw new Error('field number 0: not a protobuf message');
    let value = 0;
    let valueStart = pos;
    if (wire === 0) [value, pos] = readVarint(buf, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [length, q] = readVarint(buf, pos);
      valueStart = q;
      pos = q + length;
      value = length;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    if (pos > end) throw new Error('truncated field');
    yield { number, wire, start: fieldStart, end: pos, valueStart, value };
  }
}

const text = (buf: Uint8Array, f: Field) => Buffer.from(buf.subarray(f.valueStart, f.end)).toString('utf8');

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A length-delimited protobuf field (wire type 2): its key, its length, its bytes. */
export function lengthDelimited(field: number, body: Uint8Array): Uint8Array {
  return Uint8Array.from([...varint(field * 8 + 2), ...varint(body.length), ...body]);
}

/** An int64 varint (two's complement in 10 bytes when negative) at `pos`, exactly: [value, next]. */
function readInt64(buf: Uint8Array, pos: number): [number, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return [Number(BigInt.asIntN(64, result)), pos];
    shift += 7n;
    if (shift > 63n) throw new Error('varint too long');
  }
}

export interface GraphNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  /** From `classlabels_strings`, `classlabels_int64s` (ZipMap, TreeEnsembleClassifier) or `classlabels_ints` (LinearClassifier, SVMClassifier); empty when the node has none. */
  classLabels: (number | string)[];
}

function nodeOf(buf: Uint8Array, node: Field): GraphNode {
  let opType = '';
  const inputs: string[] = [];
  const outputs: string[] = [];
  const classLabels: (number | string)[] = [];
  for (const f of fields(buf, node.valueStart, node.end)) {
    if (f.number === 4 && f.wire === 2) opType = text(buf, f);
    else if (f.number === 1 && f.wire === 2) inputs.push(text(buf, f));
    else if (f.number === 2 && f.wire === 2) outputs.push(text(buf, f));
    else if (f.number === 5 && f.wire === 2) {
      let name = '';
      const ints: number[] = [];
      const strings: string[] = [];
      for (const a of fields(buf, f.valueStart, f.end)) {
        if (a.number === 1 && a.wire === 2) name = text(buf, a);
        else if (a.number === 8 && a.wire === 0) ints.push(readInt64(buf, a.valueStart)[0]);
        else if (a.number === 8 && a.wire === 2) {
          let p = a.valueStart;
          while (p < a.end) {
            const [v, q] = readInt64(buf, p);
            ints.push(v);
            p = q;
          }
        } else if (a.number === 9 && a.wire === 2) strings.push(text(buf, a));
      }
      if (name === 'classlabels_int64s' || name === 'classlabels_ints') classLabels.push(...ints);
      if (name === 'classlabels_strings') classLabels.push(...strings);
    }
  }
  return { opType, inputs, outputs, classLabels };
}

/** A StringStringEntryProto's key and value. */
function keyValue(buf: Uint8Array, entry: Field): [string, string] {
  let key = '';
  let value = '';
  for (const e of fields(buf, entry.valueStart, entry.end)) {
    if (e.number === 1 && e.wire === 2) key = text(buf, e);
    else if (e.number === 2 && e.wire === 2) value = text(buf, e);
  }
  return [key, value];
}

/** Ops that pass a tensor's values on unchanged in number and order (a shape or type change only). */
const PASS_THROUGH = new Set(['Reshape', 'Cast', 'Identity', 'Squeeze', 'Unsqueeze', 'Flatten']);

/** The most elements an initializer may hold to be read as class labels. */
const LABELS_LIMIT = 100_000;

/**
 * A 1-D initializer of int64, int32 or strings, as class labels (TensorProto dims = 1, data_type =
 * 2, int32_data = 5, string_data = 6, int64_data = 7, name = 8, raw_data = 9); undefined for any
 * other tensor. Data types: INT32 = 6, INT64 = 7, STRING = 8.
 */
function labelTensor(buf: Uint8Array, tensor: Field): { name: string; values: (number | string)[] } | undefined {
  let name = '';
  const dims: number[] = [];
  let dataType = 0;
  const values: (number | string)[] = [];
  let raw: Field | undefined;
  // dims (1) and data_type (2) come before the data (serialisers write fields in number order): a
  // tensor that cannot be labels is left before its data is read (a model's large int64 weights).
  const cannotBeLabels = () => dims.length !== 1 || dims[0]! > LABELS_LIMIT || ![6, 7, 8].includes(dataType);
  for (const f of fields(buf, tensor.valueStart, tensor.end)) {
    if ((f.number === 5 || f.number === 6 || f.number === 7) && cannotBeLabels()) return undefined;
    if (f.number === 1 && f.wire === 0) dims.push(f.value);
    else if (f.number === 1 && f.wire === 2) for (let p = f.valueStart; p < f.end; ) [dims[dims.length], p] = readVarint(buf, p);
    else if (f.number === 2 && f.wire === 0) dataType = f.value;
    else if (f.number === 8 && f.wire === 2) name = text(buf, f);
    else if (f.number === 9 && f.wire === 2) raw = f;
    else if (f.number === 6 && f.wire === 2) values.push(text(buf, f));
    else if ((f.number === 5 || f.number === 7) && f.wire === 0) values.push(readInt64(buf, f.valueStart)[0]);
    else if ((f.number === 5 || f.number === 7) && f.wire === 2) {
      for (let p = f.valueStart; p < f.end; ) {
        const [v, q] = readInt64(buf, p);
        values.push(v);
        p = q;
      }
    }
    if (values.length > LABELS_LIMIT) return undefined;
  }
  if (cannotBeLabels()) return undefined;
  if (raw && values.length === 0 && dataType !== 8) {
    const width = dataType === 7 ? 8 : 4;
    if (raw.end - raw.valueStart !== dims[0]! * width) return undefined;
    const view = new DataView(buf.buffer, buf.byteOffset + raw.valueStart, raw.end - raw.valueStart);
    for (let i = 0; i < dims[0]!; i++) values.push(width === 8 ? Number(view.getBigInt64(i * 8, true)) : view.getInt32(i * 4, true));
  }
  return values.length === dims[0] ? { name, values } : undefined;
}

/**
 * The class labels of a classifier that keeps them in a constant its label output indexes:
 * scikit-learn-onnx's `ArgMax → ArrayFeatureExtractor(classes, …)` (every classifier on its double
 * path, MLPClassifier…), its output passed on by Reshape, Cast and the like to a graph output.
 * Keyed by that output.
 */
function extractedLabels(nodes: readonly GraphNode[], initializers: ReadonlyMap<string, (number | string)[]>): Map<string, (number | string)[]> {
  const out = new Map<string, (number | string)[]>();
  const byInput = new Map<string, GraphNode[]>();
  for (const n of nodes) {
    for (const i of n.inputs) {
      const readers = byInput.get(i);
      if (readers) readers.push(n);
      else byInput.set(i, [n]);
    }
  }
  for (const n of nodes) {
    const labels = n.opType === 'ArrayFeatureExtractor' ? initializers.get(n.inputs[0] ?? '') : undefined;
    if (!labels || n.outputs.length !== 1) continue;
    // The extractor's output and what passes it on unchanged: any of them may be the graph's label output.
    let name = n.outputs[0]!;
    for (let hops = 0; hops < 16; hops++) {
      out.set(name, labels);
      const next = byInput.get(name) ?? [];
      if (next.length !== 1 || !PASS_THROUGH.has(next[0]!.opType) || next[0]!.inputs[0] !== name || next[0]!.outputs.length !== 1) break;
      name = next[0]!.outputs[0]!;
    }
  }
  return out;
}

/** The op a tensor comes from, looking back through ops that only reshape or cast it (a Sigmoid's [N, 1] squeezed to [N]). */
export function originOp(facts: { nodes: readonly GraphNode[] }, tensor: string): string | undefined {
  const writer = new Map<string, GraphNode>();
  for (const n of facts.nodes) for (const o of n.outputs) writer.set(o, n);
  let node = writer.get(tensor);
  for (let hops = 0; node && PASS_THROUGH.has(node.opType) && hops < 16; hops++) node = writer.get(node.inputs[0] ?? '');
  return node?.opType;
}

/** The `location` of an initializer whose data is in another file (TensorProto.data_location EXTERNAL), else undefined. */
function externalLocation(buf: Uint8Array, tensor: Field): string | undefined {
  let location: string | undefined;
  let external = false;
  for (const f of fields(buf, tensor.valueStart, tensor.end)) {
    if (f.number === 14 && f.wire === 0) external = f.value === 1;
    else if (f.number === 13 && f.wire === 2) {
      const [key, value] = keyValue(buf, f);
      if (key === 'location') location = value;
    }
  }
  return external ? location : undefined;
}

export interface GraphFacts {
  /** The model bytes, with each ZipMap's input added as a graph output (the same bytes when there is none). */
  bytes: Uint8Array;
  zipMaps: ZipMapOutput[];
  labelled: LabelledNode[];
  /** The files (relative to the model's folder, as the model names them) that hold initializers' data. */
  externalData: string[];
  /** The operator that writes each node output (Softmax, LinearClassifier, …). */
  producers: Map<string, string>;
  /** The model's metadata_props (ModelProto field 14): `features`, `target`, a converter's notes. */
  metadata: Map<string, string>;
  /** Every node of the graph, in order. */
  nodes: GraphNode[];
  /** Class labels a label output takes from a constant (see extractedLabels), by that output. */
  extractedLabels: Map<string, (number | string)[]>;
  /** Probabilities given as one output per class (see ColumnOutputs); empty when there are none. */
  columnOutputs: ColumnOutputs[];
}

/**
 * Graph outputs that are each one column of the same tensor (`Slice → Reshape`, as scikit-learn-onnx's
 * `zipmap='columns'` writes them), two or more of one tensor that is not itself a graph output.
 */
function columnOutputs(nodes: readonly GraphNode[], graphOutputs: readonly string[]): ColumnOutputs[] {
  const writer = new Map<string, GraphNode>();
  for (const n of nodes) for (const o of n.outputs) writer.set(o, n);
  const bySource = new Map<string, string[]>();
  for (const output of graphOutputs) {
    // A reshape that keeps the type: the output's declared type is then the source's.
    const reshape = writer.get(output);
    if (!reshape || !COLUMN_RESHAPES.has(reshape.opType)) continue;
    const slice = writer.get(reshape.inputs[0] ?? '');
    if (slice?.opType !== 'Slice' || slice.outputs.length !== 1) continue;
    const source = slice.inputs[0]!;
    bySource.set(source, [...(bySource.get(source) ?? []), output]);
  }
  // Class probabilities, not any sliced tensor (a regression's targets, a network's heads): named as
  // scikit-learn-onnx names integer classes (`i3`), or cut from what a classifier, a Softmax or a
  // Normalizer writes.
  const classifierOps = new Set(['Softmax', 'Normalizer', ...nodes.filter((n) => n.classLabels.length > 0).map((n) => n.opType)]);
  const probabilities = (source: string, outputs: readonly string[]) => outputs.every((o) => INTEGER_CLASS_OUTPUT.test(o)) || classifierOps.has(originOp({ nodes }, source) ?? '');
  return [...bySource]
    .filter(([source, outputs]) => outputs.length >= 2 && !graphOutputs.includes(source) && probabilities(source, outputs))
    .map(([source, outputs]) => ({ outputs, probabilities: source }));
}

/** Ops between a per-class Slice and its graph output, none of which changes the element type. */
const COLUMN_RESHAPES = new Set(['Reshape', 'Squeeze', 'Flatten', 'Identity']);

/** A graph output's name and its tensor element type (ValueInfoProto name = 1, type = 2 → tensor_type = 1 → elem_type = 1); 0 when it is no tensor. */
function valueInfo(buf: Uint8Array, info: Field): { name: string; elemType: number } {
  let name = '';
  let elemType = 0;
  for (const f of fields(buf, info.valueStart, info.end)) {
    if (f.number === 1 && f.wire === 2) name = text(buf, f);
    else if (f.number === 2 && f.wire === 2) {
      for (const t of fields(buf, f.valueStart, f.end)) {
        if (t.number !== 1 || t.wire !== 2) continue;
        for (const e of fields(buf, t.valueStart, t.end)) if (e.number === 1 && e.wire === 0) elemType = e.value;
      }
    }
  }
  return { name, elemType };
}

/**
 * The model's ZipMaps, its other nodes that declare class labels, its external data files, and the
 * model bytes with each ZipMap's input (and the tensor that per-class outputs are sliced from) added
 * as a tensor graph output. Throws on bytes that are not a protobuf message.
 */
export function exposeZipMapInputs(model: Uint8Array): GraphFacts {
  const graph = [...fields(model)].find((f) => f.number === 7 && f.wire === 2);
  const zipMaps: ZipMapOutput[] = [];
  const labelled: LabelledNode[] = [];
  const external = new Set<string>();
  const producers = new Map<string, string>();
  const metadata = new Map<string, string>();
  const nodes: GraphNode[] = [];
  const initializers = new Map<string, (number | string)[]>();
  const graphOutputs: { name: string; elemType: number }[] = [];
  for (const [key, value] of metadataProps(model)) metadata.set(key, value);
  if (!graph) return { bytes: model, zipMaps, labelled, externalData: [], producers, metadata, nodes, extractedLabels: new Map(), columnOutputs: [] };
  for (const f of fields(model, graph.valueStart, graph.end)) {
    if (f.number === 1 && f.wire === 2) {
      const node = nodeOf(model, f);
      nodes.push(node);
      for (const o of node.outputs) producers.set(o, node.opType);
      if (node.opType === 'ZipMap') {
        if (node.inputs.length === 1 && node.outputs.length === 1) zipMaps.push({ output: node.outputs[0]!, probabilities: node.inputs[0]!, classLabels: node.classLabels });
      } else if (node.classLabels.length > 0) labelled.push({ opType: node.opType, outputs: node.outputs, classLabels: node.classLabels });
    } else if (f.number === 5 && f.wire === 2) {
      const location = externalLocation(model, f);
      if (location !== undefined) external.add(location);
      else {
        const labels = labelTensor(model, f);
        if (labels) initializers.set(labels.name, labels.values);
      }
    } else if (f.number === 12 && f.wire === 2) graphOutputs.push(valueInfo(model, f));
  }
  const externalData = [...external];
  const columns = zipMaps.length === 0 ? columnOutputs(nodes, graphOutputs.map((o) => o.name)) : [];
  const facts = { zipMaps, labelled, externalData, producers, metadata, nodes, extractedLabels: extractedLabels(nodes, initializers), columnOutputs: columns };
  // ZipMap's input is float (TensorProto FLOAT = 1); sliced columns have their source's type.
  const exposed = [
    ...zipMaps.map((z) => ({ name: z.probabilities, elemType: 1 })),
    ...columns.map((c) => ({ name: c.probabilities, elemType: graphOutputs.find((o) => o.name === c.outputs[0])?.elemType || 1 })),
  ];
  if (exposed.length === 0) return { bytes: model, ...facts };
  const extra: Uint8Array[] = exposed.map(({ name, elemType }) => {
    // ValueInfoProto { name = 1; type = 2 { tensor_type = 1 { elem_type = 1 } } }
    const type = lengthDelimited(1, Uint8Array.from([0x08, ...varint(elemType)]));
    const nameField = lengthDelimited(1, new TextEncoder().encode(name));
    return lengthDelimited(12, Uint8Array.from([...nameField, ...lengthDelimited(2, type)]));
  });
  const graphBody = Buffer.concat([model.subarray(graph.valueStart, graph.end), ...extra]);
  const head = Uint8Array.from([...varint(7 * 8 + 2), ...varint(graphBody.length)]);
  return { bytes: Buffer.concat([model.subarray(0, graph.start), head, graphBody, model.subarray(graph.end)]), ...facts };
}

/**
 * What a file is when its first bytes already show it is no model: empty, or a Git LFS pointer left
 * where the model should be (a clone without `git lfs pull`); undefined otherwise. Needs only the
 * file's first 64 bytes.
 */
export function onnxImpostor(head: Uint8Array): string | undefined {
  if (head.length === 0) return 'an empty file, not an ONNX model';
  if (Buffer.from(head.subarray(0, 64)).toString('latin1').startsWith('version https://git-lfs.github.com/spec/')) {
    return 'a Git LFS pointer, not the model itself: fetch it (git lfs pull)';
  }
  return undefined;
}

/**
 * Why `bytes` are not an ONNX model, or undefined when they are one: a ModelProto with an
 * `ir_version` and a `graph` that has an output; the impostors first (onnxImpostor).
 */
export function onnxModelProblem(bytes: Uint8Array): string | undefined {
  const impostor = onnxImpostor(bytes);
  if (impostor) return impostor;
  try {
    let irVersion = false;
    let graph: Field | undefined;
    for (const f of fields(bytes)) {
      if (f.number === 1 && f.wire === 0) irVersion = true;
      else if (f.number === 7 && f.wire === 2) graph = f;
    }
    if (!irVersion || !graph) return `not an ONNX model (no ${irVersion ? 'graph' : 'ir_version'})`;
    for (const f of fields(bytes, graph.valueStart, graph.end)) if (f.number === 12 && f.wire === 2) return undefined;
    return 'not an ONNX model (its graph has no output)';
  } catch (e) {
    return `not an ONNX model (${(e as Error).message})`;
  }
}

/** The model's metadata_props (ModelProto field 14), read from its top-level fields only; empty for bytes that are no protobuf message. */
export function onnxMetadata(bytes: Uint8Array): Map<string, string> {
  try {
    return new Map(metadataProps(bytes));
  } catch {
    return new Map(); // not a model: no metadata
  }
}

/** The model's metadata_props (ModelProto field 14) as key–value pairs; throws on bytes that are no protobuf message. */
function metadataProps(model: Uint8Array): [string, string][] {
  const props: [string, string][] = [];
  for (const f of fields(model)) if (f.number === 14 && f.wire === 2) props.push(keyValue(model, f));
  return props;
}

/** scikit-learn-onnx's name for an integer class's output under `zipmap='columns'` (`i3`); a text class's is `s<label>`. */
export const INTEGER_CLASS_OUTPUT = /^i-?\d+$/;

/**
 * onnxModelProblem for a file known by its first bytes only (`head`, less than the whole file): the
 * impostors, and a message whose first fields do not read as protobuf (a run of zero bytes, a
 * damaged start); what the head cuts short is not held against it.
 */
export function onnxHeadProblem(head: Uint8Array): string | undefined {
  const impostor = onnxImpostor(head);
  if (impostor) return impostor;
  try {
    for (const f of fields(head)) void f;
  } catch (e) {
    const message = (e as Error).message;
    if (!message.startsWith('truncated')) return `not an ONNX model (${message})`;
  }
  return undefined;
}

/**
 * The files (as the model names them, relative to its folder) that hold a model's initializers'
 * data, read from the model's bytes; empty for a model that keeps them inside. Throws on bytes
 * that are not a protobuf message.
 */
export function onnxExternalData(model: Uint8Array): string[] {
  return exposeZipMapInputs(model).externalData;
}
