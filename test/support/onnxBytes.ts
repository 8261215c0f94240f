/**
 * The bytes of a minimal ONNX model (y = Identity(x), float [N]) carrying `tag` as its doc_string:
 * a model the registry accepts, with distinct bytes (and hashes) per tag, for tests that register
 * files without running them.
 */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

const field = (number: number, body: Uint8Array | string): number[] => {
  const bytes = typeof body === 'string' ? [...Buffer.from(body, 'utf8')] : [...body];
  return [...varint(number * 8 + 2), ...varint(bytes.length), ...bytes];
};
const message = (...parts: number[][]) => Uint8Array.from(parts.flat());

export function onnxBytes(tag = 'model'): Buffer {
  // TypeProto { tensor_type { elem_type: FLOAT, shape { dim { dim_param: "N" } } } }
  const type = message(field(1, message([0x08, 0x01], field(2, message(field(1, message(field(2, 'N'))))))));
  const value = (name: string) => message(field(1, name), field(2, type));
  const graph = message(field(1, message(field(1, 'x'), field(2, 'y'), field(4, 'Identity'))), field(2, 'g'), field(11, value('x')), field(12, value('y')));
  // ModelProto { ir_version: 8, opset_import { version: 17 }, doc_string: tag, graph }
  return Buffer.from(message([0x08, 0x08], field(8, message([0x10, 17])), field(6, tag), field(7, graph)));
}
