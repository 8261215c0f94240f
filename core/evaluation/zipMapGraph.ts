/**
 * scikit-learn-onnx's classifiers end in a ZipMap (ai.onnx.ml): the probability tensor turned into
 * a sequence of {class: probability} maps. onnxruntime-node returns tensors only ("Non tensor type
 * is temporarily not supported"), so before the session is created the model's bytes gain one more
 * graph output: the ZipMap's input, the float tensor [N, C] itself. Nothing else in the model
 * changes. This reads and writes just the protobuf fields it needs (ModelProto.graph = 7,
 * GraphProto.node = 1 and output = 12, NodeProto input = 1, output = 2, op_type = 4, attribute = 5,
 * AttributeProto name = 1, ints = 8, strings = 9), so core needs no ONNX schema.
 */

export interface ZipMapOutput {
  /** The ZipMap's output (a sequence of maps). */
  output: string;
  /** Its input: the probability tensor, now also a graph output. */
  probabilities: string;
  /** `classlabels_int64s` or `classlabels_strings`: the class of each probability column. */
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

function lengthDelimited(field: number, body: Uint8Array): Uint8Array {
  return Uint8Array.from([...varint(field * 8 + 2), ...varint(body.length), ...body]);
}

function zipMapOf(buf: Uint8Array, node: Field): ZipMapOutput | undefined {
  let op = '';
  const inputs: string[] = [];
  const outputs: string[] = [];
  const labels: (number | string)[] = [];
  for (const f of fields(buf, node.valueStart, node.end)) {
    if (f.number === 4 && f.wire === 2) op = text(buf, f);
    else if (f.number === 1 && f.wire === 2) inputs.push(text(buf, f));
    else if (f.number === 2 && f.wire === 2) outputs.push(text(buf, f));
    else if (f.number === 5 && f.wire === 2) {
      let name = '';
      const ints: number[] = [];
      const strings: string[] = [];
      for (const a of fields(buf, f.valueStart, f.end)) {
        if (a.number === 1 && a.wire === 2) name = text(buf, a);
        else if (a.number === 8 && a.wire === 0) ints.push(a.value);
        else if (a.number === 8 && a.wire === 2) {
          let p = a.valueStart;
          while (p < a.end) {
            const [v, q] = readVarint(buf, p);
            ints.push(v);
            p = q;
          }
        } else if (a.number === 9 && a.wire === 2) strings.push(text(buf, a));
      }
      if (name === 'classlabels_int64s') labels.push(...ints);
      if (name === 'classlabels_strings') labels.push(...strings);
    }
  }
  if (op !== 'ZipMap' || inputs.length !== 1 || outputs.length !== 1) return undefined;
  return { output: outputs[0]!, probabilities: inputs[0]!, classLabels: labels };
}

/**
 * The model's ZipMaps, and the model bytes with each ZipMap's input added as a float tensor graph
 * output (the same bytes when there is none). Throws on bytes that are not a protobuf message.
 */
export function exposeZipMapInputs(model: Uint8Array): { bytes: Uint8Array; zipMaps: ZipMapOutput[] } {
  const graph = [...fields(model)].find((f) => f.number === 7 && f.wire === 2);
  if (!graph) return { bytes: model, zipMaps: [] };
  const zipMaps: ZipMapOutput[] = [];
  for (const f of fields(model, graph.valueStart, graph.end)) {
    if (f.number === 1 && f.wire === 2) {
      const z = zipMapOf(model, f);
      if (z) zipMaps.push(z);
    }
  }
  if (zipMaps.length === 0) return { bytes: model, zipMaps };
  const extra: Uint8Array[] = zipMaps.map((z) => {
    // ValueInfoProto { name = 1; type = 2 { tensor_type = 1 { elem_type = 1 (FLOAT) } } }
    const tensorType = Uint8Array.from([0x08, 0x01]);
    const type = lengthDelimited(1, tensorType);
    const name = lengthDelimited(1, new TextEncoder().encode(z.probabilities));
    return lengthDelimited(12, Uint8Array.from([...name, ...lengthDelimited(2, type)]));
  });
  const graphBody = Buffer.concat([model.subarray(graph.valueStart, graph.end), ...extra]);
  const head = Uint8Array.from([...varint(7 * 8 + 2), ...varint(graphBody.length)]);
  return { bytes: Buffer.concat([model.subarray(0, graph.start), head, graphBody, model.subarray(graph.end)]), zipMaps };
}
