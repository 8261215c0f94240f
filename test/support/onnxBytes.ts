/**
 * The bytes of a minimal ONNX model (y = Identity(x), float [N]) carrying `tag` as its doc_string:
 * a model the registry accepts, with distinct bytes (and hashes) per tag, for tests that register
 * files without running them.
 */
import { lengthDelimited } from '../../core/evaluation/onnxGraph';

// Encoded with the project's own protobuf writer (the one that rewrites a ZipMap model).
const field = (number: number, body: Uint8Array | string): number[] => [...lengthDelimited(number, typeof body === 'string' ? Buffer.from(body, 'utf8') : body)];
const message = (...parts: number[][]) => Uint8Array.from(parts.flat());

export function onnxBytes(tag = 'model'): Buffer {
  // TypeProto { tensor_type { elem_type: FLOAT, shape { dim { dim_param: "N" } } } }
  const type = message(field(1, message([0x08, 0x01], field(2, message(field(1, message(field(2, 'N'))))))));
  const value = (name: string) => message(field(1, name), field(2, type));
  const graph = message(field(1, message(field(1, 'x'), field(2, 'y'), field(4, 'Identity'))), field(2, 'g'), field(11, value('x')), field(12, value('y')));
  // ModelProto { ir_version: 8, opset_import { version: 17 }, doc_string: tag, graph }
  return Buffer.from(message([0x08, 0x08], field(8, message([0x10, 17])), field(6, tag), field(7, graph)));
}
