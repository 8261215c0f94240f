/**
 * An ONNX model for evaluation: onnxruntime-node, required on first use (never at the CLI's or the
 * extension's start-up), its inputs and outputs read from the session, and what the outputs mean:
 *
 * - probabilities: a float tensor [N, C] (C ≥ 2), or the input of scikit-learn-onnx's ZipMap;
 * - class labels: the ZipMap's, or without one the classifier node's (`classlabels_strings`,
 *   `classlabels_int64s` or `classlabels_ints`); a model that declares none has classes 0…C−1;
 * - a label tensor [N] beside it (reported, not needed: the class is taken from the probabilities);
 * - a regression value: the only float output, [N] or [N, 1].
 *
 * A file onnxruntime cannot load (corrupt, truncated, not ONNX) is a ModelError naming the file.
 * A model that keeps its weights in external data files is loaded from its path (onnxruntime finds
 * them beside it), and its sha256 is the registry's hash of it with those files (contentHash), so an
 * evaluation and a registered version of the same files share one hash.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { contentHash, externalDataFile, sha256OfFile } from '../tracker/modelRegistry';
import { relativeInside } from '../workspace/workspacePath';
import { INTEGER_CLASS_OUTPUT, exposeZipMapInputs, onnxImpostor, originOp, type GraphFacts, type LabelledNode } from './onnxGraph';

export class ModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelError';
  }
}

export interface ModelInput {
  name: string;
  /** onnxruntime's element type: float32, float64, int64, int32, string… */
  type: string;
  shape: readonly (number | string)[];
}

export interface ModelOutputs {
  /** The float tensor [N, C] of class probabilities (the ZipMap's input for scikit-learn-onnx models). */
  probabilities?: string;
  /** Its width when the model states it. */
  classes?: number;
  /** The class of each probability column (the ZipMap's or the classifier node's labels); otherwise 0…C−1. */
  classLabels?: (number | string)[];
  label?: string;
  /** The regression output, [N] or [N, 1]. */
  value?: string;
  /** The one-value output is a Sigmoid's (reshaped or cast at most): P(class 1) of a binary classifier. */
  valueIsSigmoid?: boolean;
  /** The op the probabilities come from (Softmax, a classifier, a Sigmoid…), when the graph says. */
  probabilitiesFrom?: string;
  /** The element type of the probabilities or the value (float32 or float64). */
  dtype: string;
}

export interface OnnxModel {
  file: string;
  sha256: string;
  bytes: number;
  inputs: ModelInput[];
  outputs: ModelOutputs;
  /**
   * The model fills missing values itself (an ai.onnx.ml Imputer, as scikit-learn-onnx writes a
   * SimpleImputer): empty cells of its features are fed as NaN, as pandas reads them, not refused.
   */
  imputes: boolean;
  /** Every output as the model declares it, for the report. */
  declaredOutputs: { name: string; type: string; shape?: readonly (number | string)[] }[];
  /**
   * The feature columns, in order, that the model's metadata names for its one [N, F] input
   * (metadata_props `features` or `feature_names`: comma-separated, or a JSON list), as the
   * example's writer records them; undefined when it names none.
   */
  declaredFeatures?: string[];
  session: Ort.InferenceSession;
  ort: typeof Ort;
}

let ortModule: typeof Ort | undefined;
/** onnxruntime-node, loaded on first use. */
export function onnxRuntime(): typeof Ort {
  ortModule ??= require('onnxruntime-node') as typeof Ort;
  return ortModule;
}

interface Metadata {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: readonly (number | string)[];
}

/**
 * The class labels of a model exported without a ZipMap: those of the classifier node whose
 * probabilities output is `probabilities`, or else (a Normalizer or a Cast between them, as
 * scikit-learn-onnx writes some models) of the graph's only labelled node, when it declares as many
 * labels as the probabilities have columns (or their width is not stated).
 */
function classifierLabels(labelled: readonly LabelledNode[], probabilities: string, width: number | undefined): (number | string)[] | undefined {
  const direct = labelled.find((n) => n.outputs[1] === probabilities);
  if (direct) return direct.classLabels;
  // One labelled node, or several that all declare the same labels (a soft-voting or calibrated
  // ensemble averages its classifiers' probabilities).
  const first = labelled[0];
  const same = first && labelled.every((n) => n.classLabels.length === first.classLabels.length && n.classLabels.every((l, i) => l === first.classLabels[i]));
  if (first && same && (width === undefined || first.classLabels.length === width)) return first.classLabels;
  return undefined;
}

/** onnxruntime's message on one line, its start and its end kept (the cause is often last). */
function ortReason(e: unknown): string {
  const reason = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
  return reason.length > 420 ? `${reason.slice(0, 160)} … ${reason.slice(-240)}` : reason;
}

export interface ModelLoadOptions {
  /**
   * Another thread of this process keeps a core busy while the model runs (an evaluation reading its
   * dataset in a worker thread): onnxruntime then uses one thread fewer than the cores, and its
   * idle threads sleep instead of spinning, so that the two do not take turns on a core.
   */
  shareCores?: boolean;
}

export async function loadOnnxModel(file: string, displayName = file, options: ModelLoadOptions = {}): Promise<OnnxModel> {
  let raw: Buffer;
  try {
    // A named pipe or a device would block the read for good: only a regular file is read.
    if (!statSync(file).isFile()) throw new ModelError(`${displayName}: not a file (a folder, a pipe or a device); expected an .onnx file`);
    raw = readFileSync(file);
  } catch (e) {
    if (e instanceof ModelError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    // As a dataset's read error says it: a missing file in words, another by its code.
    throw new ModelError(`${displayName}: ${code === 'ENOENT' ? 'no such file' : `cannot read the model (${code ?? (e as Error).message})`}`);
  }
  if (raw.length === 0) throw new ModelError(`${displayName}: the model file is empty`);
  const impostor = onnxImpostor(raw);
  if (impostor) throw new ModelError(`${displayName}: ${impostor}`);
  let sha256 = createHash('sha256').update(raw).digest('hex');
  let graph: GraphFacts;
  try {
    graph = exposeZipMapInputs(raw);
  } catch (e) {
    throw new ModelError(`${displayName}: not a valid ONNX model (${(e as Error).message}): the file may be truncated or not an ONNX file`);
  }
  const { bytes, zipMaps, labelled, externalData, producers, metadata, extractedLabels, columnOutputs } = graph;
  const external = externalData.map((location) => ({ location, ...externalDataFile(file, location) }));
  // Checked before a byte is read: named inside the model's folder and, links followed, still in it
  // (as onnxruntime requires of external data), and a regular file (/dev/zero or a named pipe
  // would be read, and hashed, for ever).
  const folder = realpathSync(path.dirname(file));
  for (const { location, abs, rel } of external) {
    if (!rel || rel === '..' || rel.startsWith('../') || path.isAbsolute(rel)) {
      throw new ModelError(`${displayName}: the model names external data '${location}' outside its folder; its weights must be beside it`);
    }
    if (!existsSync(abs)) throw new ModelError(`${displayName}: the model keeps its weights in '${location}' beside it (external data), and there is no such file`);
    if (!statSync(abs).isFile()) throw new ModelError(`${displayName}: the model names external data '${location}', which is not a file`);
    if (relativeInside(folder, realpathSync(abs)) === undefined) {
      throw new ModelError(`${displayName}: its external data '${location}' is a symbolic link to a file outside the model's folder, which onnxruntime refuses; copy the weights beside the model`);
    }
  }
  // With external data the model is its files: hashed as the registry hashes a version of them.
  if (external.length > 0) {
    const files = [{ path: path.basename(file), sha256, size: raw.length }, ...external.map(({ abs, rel }) => ({ path: rel, sha256: sha256OfFile(abs, { followLinks: true }), size: 0 }))];
    sha256 = contentHash(files).sha256;
  }
  if (externalData.length > 0 && bytes !== raw) {
    throw new ModelError(
      `${displayName}: a model with ${zipMaps.length > 0 ? 'a ZipMap' : 'one probability output per class'} and external data ('${externalData[0]}') cannot be evaluated; save it with its tensors inside the .onnx file`,
    );
  }
  const ort = onnxRuntime();
  let session: Ort.InferenceSession;
  try {
    const shared = options.shareCores ? { intraOpNumThreads: Math.max(1, availableParallelism() - 1), extra: { session: { intra_op: { allow_spinning: '0' } } } } : {};
    // Errors are reported here, as one line: onnxruntime's own log would print them again (severity 4: fatal only).
    const sessionOptions: Ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', logSeverityLevel: 4, ...shared };
    // From the file when the bytes are unchanged, so that onnxruntime finds external data beside it.
    session = bytes === raw ? await ort.InferenceSession.create(file, sessionOptions) : await ort.InferenceSession.create(bytes, sessionOptions);
  } catch (e) {
    throw new ModelError(`${displayName}: onnxruntime cannot load the model (${ortReason(e)})`);
  }
  const meta = (list: readonly unknown[]) => list as readonly Metadata[];
  const inputs = meta(session.inputMetadata).map((m) => ({ name: m.name, type: m.type ?? 'unknown', shape: m.shape ?? [] }));
  const declared = meta(session.outputMetadata);
  const zipMapped = new Set(zipMaps.map((z) => z.output));
  const exposed = new Set([...zipMaps, ...columnOutputs].map((z) => z.probabilities));
  const columns = columnOutputs[0];
  const perClass = new Set(columns?.outputs);
  const declaredOutputs = declared
    .filter((m) => !exposed.has(m.name) || zipMapped.has(m.name))
    .map((m) => ({ name: m.name, type: m.isTensor ? (m.type ?? 'unknown') : 'sequence or map', ...(m.shape ? { shape: m.shape } : {}) }));
  const outputs: ModelOutputs = { dtype: 'float32' };
  const zip = zipMaps[0];
  if (zip) {
    outputs.probabilities = zip.probabilities;
    if (zip.classLabels.length > 0) {
      outputs.classLabels = zip.classLabels;
      outputs.classes = zip.classLabels.length;
    }
  }
  if (!zip && columns) {
    // One output per class: their source tensor is the probabilities, the classes those of the
    // classifier that writes it or, else, of the outputs' names (`i3`, `s<label>`).
    outputs.probabilities = columns.probabilities;
    outputs.dtype = declared.find((m) => m.name === columns.probabilities)?.type ?? 'float32';
    outputs.classes = columns.outputs.length;
    const labels = classifierLabels(labelled, columns.probabilities, outputs.classes) ?? labelsOfColumnNames(columns.outputs);
    if (labels?.length === outputs.classes) outputs.classLabels = labels;
  }
  const tensors = declared.filter((m) => m.isTensor && !zipMapped.has(m.name) && !exposed.has(m.name) && !perClass.has(m.name));
  const isFloat = (m: Metadata) => m.type === 'float32' || m.type === 'float64';
  // Of several float [N, C] outputs (a network returning its logits or an embedding beside the
  // probabilities), the one a Softmax or a classifier writes, or else named for probabilities, or else the first.
  const wide = (m: Metadata) => isFloat(m) && (m.shape ?? []).length === 2 && (typeof m.shape![1] !== 'number' || m.shape![1] >= 2);
  const candidates = outputs.probabilities ? [] : tensors.filter(wide);
  const probabilityOps = new Set(['Softmax', ...labelled.map((n) => n.opType)]);
  // One value per row, [N] or [N, 1]: a regression, or P(class 1) when a Sigmoid writes it.
  const values = tensors.filter((m) => isFloat(m) && ((m.shape ?? []).length === 1 || ((m.shape ?? []).length === 2 && m.shape![1] === 1)));
  const sigmoid = values.filter((m) => originOp(graph, m.name) === 'Sigmoid');
  // A wide output without a Softmax, a classifier or a name saying probabilities (an embedding, a
  // second regression target) is taken as probabilities only when there is no one-value output.
  const chosen =
    candidates.find((m) => probabilityOps.has(producers.get(m.name) ?? '')) ??
    candidates.find((m) => /prob/i.test(m.name)) ??
    (values.length === 0 ? candidates[0] : undefined);
  if (chosen) {
    outputs.probabilities = chosen.name;
    outputs.dtype = chosen.type!;
    if (typeof chosen.shape![1] === 'number') outputs.classes = chosen.shape![1] as number;
  }
  for (const m of tensors) {
    if (!outputs.label && !isFloat(m) && (m.shape ?? []).length <= 1) outputs.label = m.name;
  }
  if (outputs.probabilities && !outputs.classLabels) {
    // The classifier node's labels, or those its label output takes from a constant (`classes`).
    const extracted = outputs.label ? extractedLabels.get(outputs.label) : undefined;
    const labels = classifierLabels(labelled, outputs.probabilities, outputs.classes) ?? (extracted && (outputs.classes === undefined || extracted.length === outputs.classes) ? extracted : undefined);
    if (labels) {
      outputs.classLabels = labels;
      outputs.classes = labels.length;
    }
  }
  if (outputs.probabilities) outputs.probabilitiesFrom = originOp(graph, outputs.probabilities);
  if (!outputs.probabilities) {
    // Of several one-value outputs (a logit beside its sigmoid), the Sigmoid's.
    const value = values.length === 1 ? values[0] : sigmoid.length === 1 ? sigmoid[0] : undefined;
    if (value) {
      outputs.value = value.name;
      outputs.dtype = value.type!;
      if (sigmoid.includes(value)) outputs.valueIsSigmoid = true;
    }
  }
  if (!outputs.probabilities && !outputs.value) {
    const described = declaredOutputs.map((o) => `${o.name} ${o.type}${o.shape ? ` ${shownShape(o.shape)}` : ''}`).join('; ');
    const half = declaredOutputs.some((o) => o.type === 'float16') ? '; float16 outputs are not read: export the model in float32' : '';
    throw new ModelError(
      `${displayName}: no output to evaluate (expected class probabilities [N, C], a ZipMap, or one float regression output [N] or [N, 1]; the model gives ${described || 'no outputs'}${half})`,
    );
  }
  const declaredFeatures = metadataFeatures(metadata);
  const imputes = graph.nodes.some((n) => n.opType === 'Imputer');
  return { file: displayName, sha256, bytes: raw.length, inputs, outputs, declaredOutputs, imputes, session, ort, ...(declaredFeatures ? { declaredFeatures } : {}) };
}

/** A tensor's shape as messages show it: `[N, 3]`, a dimension without a name or size as `?`. */
export function shownShape(shape: readonly (number | string)[]): string {
  return `[${shape.map((d) => (typeof d === 'number' ? d : d || '?')).join(', ')}]`;
}

/** Class labels from scikit-learn-onnx's per-class output names: `i<integer>` or `s<text>`, all of one kind. */
function labelsOfColumnNames(names: readonly string[]): (number | string)[] | undefined {
  if (names.every((n) => INTEGER_CLASS_OUTPUT.test(n))) return names.map((n) => Number(n.slice(1)));
  if (names.every((n) => n.startsWith('s') && n.length > 1)) return names.map((n) => n.slice(1));
  return undefined;
}

/** The feature columns a model's metadata_props name (`features` or `feature_names`), undefined when they name none. */
export function metadataFeatures(metadata: ReadonlyMap<string, string>): string[] | undefined {
  return featureNames(metadata.get('features') ?? metadata.get('feature_names'));
}

/** Feature names as metadata holds them: a JSON list of strings, or names separated by commas. */
function featureNames(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (value.trim().startsWith('[')) {
    try {
      const list = JSON.parse(value) as unknown;
      if (Array.isArray(list) && list.length > 0 && list.every((n) => typeof n === 'string')) return list;
    } catch {
      /* not JSON: names separated by commas */
    }
  }
  const names = value.split(',').map((n) => n.trim());
  return names.every((n) => n !== '') ? names : undefined;
}
