/**
 * One evaluation: an ONNX model over a dataset, batch by batch, into scikit-learn's metrics, logged
 * as a tracker run.
 *
 * Columns map to the model's inputs by input name; a model with one 2-D input takes the `features`
 * list, or else the columns its metadata names as its features (metadata_props `features`, as the
 * example's writer records them) by name, or else every column except the target, in file order. The task is the one given, or
 * inferred: probabilities of width 2 → binary, wider → multiclass, one float output → regression.
 * A classifier's target is read as text and matched to the model's classes (TargetClasses): its
 * declared labels, such as `yes`/`no`, or the class indices 0…C−1 when it declares none.
 *
 * Runs and errors: an error found before the first batch has been read, checked and run through the
 * model (the model does not load, a column is missing, the widths or types disagree, a bad value or
 * an unknown class in the first batch) creates no run. After that a run exists; a later error (a bad
 * value in row 50 000, an inference failure) ends it FAILED with the reason in the
 * `runwise.failure_reason` tag and no metrics or report, and the error is rethrown.
 */
import * as path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { DatasetError, FileDigests, NULL_CELL, booleanOf, isMissingCell, checkColumns, headerLooksLikeData, columnNamed, decimalOf, expectedRows, fileBytes, fileDigests, isNamedColumn, isNumberText, openDataset, shownCell, shownColumns, withColumns, type ColumnRequest, type DatasetReader } from '../dataset/dataset';
import { readInThread, warmDatasetThread } from '../dataset/datasetThread';
import { formatFeatureList } from './featureList';
import { BinaryCounts, CurveArrays, FLOAT32_EPS, FLOAT64_EPS, binaryMetrics, multiclassMetrics, regressionMetrics } from './metrics';
import { ModelError, loadOnnxModel, shownShape, type OnnxModel } from './onnxModel';
import { TargetClasses } from './targetClasses';
import { MAX_RUN_NAME_LENGTH } from '../tracker/limits';
import { EVALUATION_REPORT_ARTIFACT, MODEL_SHA256_TAG, PARENT_RUN_TAG } from '../tracker/model';
import { FAILURE_REASON_TAG, type Tracker } from '../tracker/tracker';
import { lineOfDataRow } from '../dataset/dataRowLine';
import { relativeInside } from '../workspace/workspacePath';

export type EvaluationTask = 'binary' | 'multiclass' | 'regression';
export const EVALUATION_TASKS: readonly EvaluationTask[] = ['binary', 'multiclass', 'regression'];
export const DEFAULT_BATCH_SIZE = 8192;

export interface EvaluationOptions {
  model: string;
  data: string;
  target: string;
  task?: EvaluationTask;
  threshold?: number;
  features?: string[];
  sliceBy?: string;
  batchSize?: number;
  /** Paths in the report and the run are relative to it when inside it. */
  workspace: string;
  /**
   * What the model is called in messages, the run's name and its `model` param, instead of its path
   * (a registered version evaluated from the registry's copy: `models:/churn/1`).
   */
  modelName?: string;
  /** Where the run is logged; none: nothing is logged (run_id null). */
  tracker?: Tracker;
  experimentId?: string;
  /** The run the evaluation's run is a child of (a pipeline's evaluate stage run). */
  parentRunId?: string;
  /**
   * Stops the evaluation between batches: it throws EvaluationCancelledError; a run already
   * started ends KILLED (with the reason in `runwise.failure_reason`).
   */
  signal?: AbortSignal;
  /** Told after each batch: the rows evaluated so far, and the rows the file is expected to hold (an estimate from its size). */
  onProgress?: (rows: number, expectedRows: number) => void;
  /**
   * Read the dataset in a worker thread, overlapping parsing with inference (see datasetThread.ts):
   * by default for a file of `THREAD_ABOVE_BYTES` or more.
   */
  readInThread?: boolean;
}

/** A dataset file of this many bytes or more is read in a worker thread (starting one costs ~20–40 ms). */
export const THREAD_ABOVE_BYTES = 4 << 20;

export interface SliceReport {
  value: string;
  rows: number;
  metrics: Record<string, number>;
}

export interface EvaluationReport {
  task: EvaluationTask;
  task_inferred: boolean;
  rows: number;
  metrics: Record<string, number>;
  confusion_matrix: number[][] | null;
  classes: (number | string)[] | null;
  threshold: number | null;
  /**
   * Metrics per value of the slice column; `gaps` per metric (highest − lowest slice), and
   * `largest_gap` for the task's headline metric (accuracy, or mae for regression).
   */
  slices: {
    column: string;
    values: SliceReport[];
    gaps: Record<string, { gap: number; lowest: string; highest: string }>;
    largest_gap: { metric: string; gap: number; lowest: string; highest: string } | null;
  } | null;
  latency_ms: { p50: number; p95: number; p99: number };
  rows_per_second: number;
  batches: number;
  batch_size: number;
  warnings: string[];
  model: { path: string; sha256: string; inputs: { name: string; type: string; shape: readonly (number | string)[] }[]; outputs: OnnxModel['declaredOutputs'] };
  /** `md5` is the hash the pipeline runner records for the file (the dataset input's digest); `sha256` the report's. */
  dataset: { path: string; format: string; sha256: string; md5: string; features: string[]; target: string };
  run_id: string | null;
}

/** A mistake in what was asked (a task that does not fit the model, a bad threshold). */
export class EvaluationError extends Error {
  /**
   * The error without its advice to the user (`advice`, after a `; ` in `message`): for a caller
   * whose user cannot follow it (a champion measured as the candidate was: baselineEvaluation.ts).
   */
  readonly fact: string;
  constructor(
    fact: string,
    readonly advice?: string,
    /** `feature-count`: the model's input takes another number of features than the data gives it. */
    readonly kind?: 'feature-count',
    /** With `feature-count`: the number of features a row the model takes. */
    readonly expectedFeatures?: number,
  ) {
    super(advice ? `${fact}; ${advice}` : fact);
    this.name = 'EvaluationError';
    this.fact = fact;
  }
}

/** The evaluation was stopped through its `signal`. */
export class EvaluationCancelledError extends Error {
  constructor(what: string) {
    super(`the evaluation of ${what} was cancelled`);
    this.name = 'EvaluationCancelledError';
  }
}

type ColumnData = Float64Array | Float32Array | Uint8Array;

/**
 * A typed array that batches append to: allocated once for the rows expected (see `expectedRows`),
 * doubled only when more arrive.
 */
class GrowingColumn<T extends ColumnData> {
  data: T;
  length = 0;
  constructor(private readonly make: (size: number) => T, capacity: number) {
    this.data = make(Math.max(capacity, 1024));
  }
  /** Room for `count` more values; returns where they go (the caller writes them, then adds to `length`). */
  reserve(count: number): number {
    if (this.length + count > this.data.length) {
      let size = this.data.length * 2;
      while (size < this.length + count) size *= 2;
      const next = this.make(size);
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    return this.length;
  }
  push(values: Float32Array | Float64Array, count: number): void {
    const at = this.reserve(count);
    this.data.set(count === values.length ? values : values.subarray(0, count), at);
    this.length += count;
  }
  values(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

/** The most rows in one batch: `--batch-size`'s limit, and a fixed batch size's. */
export const MAX_BATCH_ROWS = 1_000_000;

/**
 * The batch size the model's inputs fix (their first dimension a number), or undefined when it is
 * free (a name, -1, or none). A fixed 0, or inputs fixing different sizes, cannot be fed.
 */
function fixedBatchSize(model: OnnxModel, modelName: string): number | undefined {
  const fixed = model.inputs.map((i) => i.shape[0]).filter((d): d is number => typeof d === 'number' && d !== -1);
  if (fixed.length === 0) return undefined;
  if (fixed.some((d) => d !== fixed[0]) || fixed[0]! < 1) {
    const shapes = model.inputs.map((i) => `'${i.name}' [${i.shape.join(', ')}]`).join(', ');
    throw new ModelError(`${modelName}: the inputs fix a batch size that cannot be fed (${shapes}); export the model with a free batch dimension (torch.onnx.export's dynamic_axes)`);
  }
  if (fixed[0]! > MAX_BATCH_ROWS) {
    throw new ModelError(`${modelName}: the inputs fix a batch size of ${fixed[0]} rows, more than the ${MAX_BATCH_ROWS.toLocaleString('en-US')} a batch may hold (--batch-size's limit); export the model with a free batch dimension (torch.onnx.export's dynamic_axes)`);
  }
  return fixed[0];
}

/**
 * An evaluation run's name: `evaluate model.onnx on test.csv`, each name shortened with an ellipsis
 * when the whole would pass MLflow's 250-character limit on run names.
 */
export function evaluationRunName(model: string, data: string, modelIsName = false): string {
  const [m, d] = [modelIsName ? model : path.basename(model), path.basename(data)];
  const whole = `evaluate ${m} on ${d}`;
  if (whole.length <= MAX_RUN_NAME_LENGTH) return whole;
  const room = Math.floor((MAX_RUN_NAME_LENGTH - 'evaluate  on '.length) / 2) - 1;
  const cut = (s: string) => (s.length > room ? `${s.slice(0, room)}…` : s);
  return `evaluate ${cut(m)} on ${cut(d)}`;
}

/** The slice of rows whose slice column is missing (empty, NA, NaN, …): one group, as pandas' groupby(dropna=False) makes it. */
const MISSING_SLICE = '(missing)';
/** Its key while grouping: no cell's text (a NUL cannot be in one), so a value spelled '(missing)' stays its own slice. */
const MISSING_KEY = '\u0000missing';
/** More distinct slice values than this gets a warning. */
const MANY_SLICES = 50;
/** A slice with fewer rows than this setting the largest gap gets a warning. */
const FEW_SLICE_ROWS = 30;

/**
 * Rows grouped by their slice column's value as pandas would group the parsed column: when every
 * present value is a number, by the number (`1`, `1.0`, ` 1` and `+1` are one slice, in numeric
 * order; integers exactly, as int64 or uint64, when all are integers and none is missing); when every one is a boolean in pandas'
 * spellings, by True/False; otherwise by the text. Missing cells are one slice: in a CSV pandas'
 * missing words as written (` ` or ` NA` is text), in JSON Lines and Parquet a null only
 * (NULL_CELL; the string "NA" is a value there).
 */
function sliceGroups(texts: readonly string[], format: DatasetReader['format'], storedAsText = false): { groups: Map<string, number[]>; numeric: boolean; integers: boolean } {
  const distinct = new Map<string, string>();
  for (const t of texts) if (!distinct.has(t)) distinct.set(t, t);
  // A column the file stores as text (a Parquet string) stays text, as pandas.read_parquet keeps it:
  // '007' and '7' are two slices.
  const missing = format === 'csv' ? isMissingCell : (t: string) => t === NULL_CELL;
  const present = [...distinct.keys()].filter((t) => !missing(t));
  const numeric = !storedAsText && present.length > 0 && present.every((t) => isNumberText(t));
  // All integers within int64, or all within uint64 (ids, nanosecond timestamps), and none missing:
  // pandas keeps them exact, not as doubles; with a missing cell the column is float64 to it.
  const whole = numeric && distinct.size === present.length && present.every((t) => INTEGER_TEXT.test(t.trim())) ? present.map((t) => BigInt(t.trim())) : undefined;
  const integers = whole !== undefined && (whole.every((v) => v >= INT64_MIN && v <= INT64_MAX) || whole.every((v) => v >= 0n && v <= UINT64_MAX));
  const booleans = !storedAsText && !numeric && present.length > 0 && present.every((t) => booleanOf(t.trim()) !== undefined);
  for (const t of distinct.keys()) {
    if (missing(t)) distinct.set(t, MISSING_KEY);
    else if (integers) distinct.set(t, BigInt(t.trim()).toString());
    else if (numeric) distinct.set(t, String(decimalOf(t.trim())));
    else if (booleans) distinct.set(t, booleanOf(t.trim()) ? 'True' : 'False');
  }
  const groups = new Map<string, number[]>();
  texts.forEach((t, i) => {
    const key = distinct.get(t)!;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(i);
  });
  return { groups, numeric, integers };
}

const INTEGER_TEXT = /^[+-]?\d{1,20}$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

interface InputPlan {
  /** For each model input, the dataset columns that fill it (one per column of a 2-D input). */
  inputs: { name: string; type: string; columns: string[]; dims: 'matrix' | 'column' | 'vector' }[];
  features: string[];
}

function planInputs(model: OnnxModel, columns: readonly string[], target: string, features: string[] | undefined, dataName: string, format: DatasetReader['format'], declared?: readonly string[]): InputPlan {
  // Strings too (a categorical column scikit-learn-onnx feeds to its encoders), one column an input.
  const supported = new Set(['float32', 'float64', 'int64', 'int32', 'string']);
  for (const input of model.inputs) {
    if (!supported.has(input.type)) {
      throw new ModelError(`${model.file}: input '${input.name}' takes ${input.type} values; evaluation feeds numeric inputs (float32, float64, int64, int32) and text (string)`);
    }
  }
  const twice = features?.find((f, i) => features.indexOf(f) !== i);
  if (twice !== undefined) throw new EvaluationError(`'${twice}' is listed twice in the features (--features, a pipeline's features:): each column feeds the model once`);
  if (model.inputs.length === 0) throw new ModelError(`${model.file}: the model takes no inputs, so no dataset can feed it`);
  // An input that declares no shape is fed as [N] from the column of its name, when there is one.
  for (const input of model.inputs) {
    if (input.shape.length === 0 && !columns.includes(input.name)) {
      throw new ModelError(`${model.file}: input '${input.name}' declares no shape, and no column is named '${input.name}' to feed it as one value per row; evaluation feeds an input of shape [N, F] (the features) or [N] / [N, 1] (one column): export the model with its input shapes`);
    }
  }
  const only = model.inputs.length === 1 ? model.inputs[0]! : undefined;
  // One 2-D input takes the features given, even when a column bears the input's name.
  if (only && only.shape.length === 2 && (features || declared || !columns.includes(only.name))) {
    const width = only.shape[1];
    if (!features && declared && (typeof width !== 'number' || width === declared.length)) {
      const missing = declared.filter((name) => !columns.includes(name));
      if (missing.length > 0) {
        throw new EvaluationError(
          `${dataName} has no column ${missing.map((m) => `'${shownCell(m, 80)}'`).join(', ')}, which the model's metadata names among its features (${shownColumns(declared)}): it is fed those columns by name, in that order`,
          "rename the data's columns, or name the columns to feed with --features (a pipeline's features:)",
        );
      }
      if (declared.includes(target)) throw new EvaluationError(`the target column '${target}' is one of the features the model's metadata names (${shownColumns(declared)})`);
      return { inputs: [{ name: only.name, type: only.type, columns: [...declared], dims: 'matrix' }], features: [...declared] };
    }
    // A column with no name (the row index pandas' to_csv and R's write.csv write first, a
    // spreadsheet's trailing empty columns) is not a feature unless named.
    // A column without a name between named ones (pandas would call it 'Unnamed: 2' and feed it)
    // would shift every feature after it if left out: the features are said, not guessed. The first
    // column (an index pandas' to_csv writes) and trailing ones (a spreadsheet's) are not data.
    if (!features) {
      const first = columns.findIndex(isNamedColumn);
      const last = columns.length - 1 - [...columns].reverse().findIndex(isNamedColumn);
      const gap = columns.findIndex((c, i) => i > first && i < last && !isNamedColumn(c));
      if (first >= 0 && gap > 0) {
        // Named by the nearest named columns on either side (two unnamed ones may sit together).
        const before = columns.slice(0, gap).reverse().find(isNamedColumn)!;
        const after = columns.slice(gap + 1).find(isNamedColumn)!;
        throw new EvaluationError(`${dataName}: column ${gap + 1} has no name (between '${shownCell(before, 80)}' and '${shownCell(after, 80)}'), and the features are every column but the target, in file order: name it in the header, or list the features with --features (a pipeline's features:)`);
      }
    }
    const chosen = features ?? columns.filter((c) => c !== target && isNamedColumn(c));
    if (features) checkColumns(dataName, columns, features.map((name) => ({ name })), format);
    // The model's own names in another order: each column would feed another feature's weights
    // (scikit-learn refuses feature names out of their fit order). Other names map columns to it.
    const own = model.declaredFeatures;
    if (features && own && own.length === features.length && own.join('\u0000') !== features.join('\u0000') && [...own].sort().join('\u0000') === [...features].sort().join('\u0000')) {
      throw new EvaluationError(
        `the features are listed in another order (${shownColumns(features)}) than the model's metadata names them (${shownColumns(own)}): each column would feed another feature's weights`,
        "list them in the model's order, or leave --features (a pipeline's features:) out and the model's names choose the columns",
      );
    }
    if (chosen.includes(target)) throw new EvaluationError(`the target column '${target}' is also listed as a feature`);
    if (typeof width === 'number' && width !== chosen.length) {
      throw new EvaluationError(
        `${model.file}: input '${only.name}' takes ${width} features per row, but ${chosen.length} columns would feed it (${shownColumns(chosen)})`,
        "name them with --features (a pipeline's features:)",
        'feature-count',
        width,
      );
    }
    if (only.type === 'string' && chosen.length !== 1) throw new ModelError(`${model.file}: input '${only.name}' takes a matrix of strings; evaluation feeds a string input from one column`);
    return { inputs: [{ name: only.name, type: only.type, columns: chosen, dims: 'matrix' }], features: chosen };
  }
  // Inputs taken by name, one column each: an input of several columns beside others cannot be fed
  // (said before any word about --features, which cannot change that).
  for (const input of model.inputs) {
    const wide = input.shape.length === 2 ? input.shape[1] : 1;
    if (input.shape.length > 2 || (typeof wide === 'number' && wide !== 1)) {
      const several = model.inputs.length > 1 && input.shape.length === 2 ? `: a model with several inputs is fed one column per input, so '${input.name}', of ${wide} columns, cannot be fed; export the model with one [N, F] input of the features, or one input per column` : `; a column can feed an input of shape [N] or [N, 1]${only ? ' and one input of shape [N, F] the features' : ''}`;
      throw new EvaluationError(`${model.file}: input '${input.name}' has shape ${shownShape(input.shape)}${several}`);
    }
  }
  // A features list can only name those columns (in any order), not rename them.
  const names = model.inputs.map((i) => i.name);
  if (features && (features.length !== names.length || !features.every((f) => names.includes(f)))) {
    throw new EvaluationError(
      `${model.file} takes its inputs by name (${names.map((n) => `'${n}'`).join(', ')}), each from the column of that name; --features (a pipeline's features:) ${features.map((f) => `'${f}'`).join(', ')} would not be what feeds it: leave it out, or name exactly those columns`,
    );
  }
  const inputs = model.inputs.map((input) => {
    if (!columns.includes(input.name)) {
      throw new DatasetError(`${dataName}: no column '${input.name}' for the model's input '${input.name}' (the columns are: ${shownColumns(columns)})`);
    }
    return { name: input.name, type: input.type, columns: [input.name], dims: input.shape.length === 2 ? ('column' as const) : ('vector' as const) };
  });
  return { inputs, features: inputs.map((i) => i.name) };
}

type InputData = Float32Array | Float64Array | BigInt64Array | Int32Array;

/**
 * A model input's tensor, filled batch after batch into one buffer allocated for the first batch
 * (onnxruntime-node reads the data during `run` and keeps no reference to it afterwards).
 */
class InputTensor {
  private data: InputData | undefined;
  private full: Ort.Tensor | undefined;

  constructor(
    private readonly ort: typeof Ort,
    private readonly type: string,
    private readonly width: number,
    private readonly dims: 'matrix' | 'column' | 'vector',
    private readonly names: readonly string[],
    /** The model's fixed batch size: a shorter batch is padded to it. */
    private readonly padTo?: number,
  ) {}

  /** `rows` rows of the columns, the first of them row `firstRow` (1-based) of `dataName`. */
  fill(columns: Float64Array[], rows: number, capacity: number, dataName: string, firstRow: number): Ort.Tensor {
    const width = this.width;
    const type = this.type;
    if (!this.data || this.data.length < rows * width) {
      const size = Math.max(capacity, rows) * width;
      this.data = type === 'float32' ? new Float32Array(size) : type === 'float64' ? new Float64Array(size) : type === 'int64' ? new BigInt64Array(size) : new Int32Array(size);
      this.full = undefined;
    }
    const data = this.data;
    const shapeRows = Math.max(rows, this.padTo ?? 0);
    if (data instanceof Float32Array || data instanceof Float64Array) {
      let inRange: boolean;
      if (width === 1) {
        data.set(columns[0]!.subarray(0, rows));
        inRange = !(data instanceof Float32Array) || withinFloat32(columns[0]!, rows);
      } else inRange = interleave(columns, rows, data) || data instanceof Float64Array;
      // A number beyond float32's range would become ±Infinity in the tensor: refused, naming it.
      if (!inRange) {
        for (let c = 0; c < width; c++) {
          const r = columns[c]!.subarray(0, rows).findIndex((v) => Math.abs(v) >= FLOAT32_OVERFLOW);
          if (r >= 0) throw new DatasetError(`${dataName} data row ${firstRow + r}, column '${this.names[c]}': ${columns[c]![r]} is beyond the range of float32, the type of the model's input (±${FLOAT32_MAX})`);
        }
      }
    } else {
      const big = data instanceof BigInt64Array;
      for (let c = 0; c < width; c++) {
        const col = columns[c]!;
        for (let r = 0; r < rows; r++) {
          const v = col[r]!;
          if (!Number.isInteger(v)) throw new DatasetError(`${dataName} data row ${firstRow + r}, column '${this.names[c]}': ${v} is not a whole number, and the model's input takes ${type} values`);
          if (big ? !(v >= -(2 ** 63) && v < 2 ** 63) : !(v >= -(2 ** 31) && v < 2 ** 31)) {
            throw new DatasetError(`${dataName} data row ${firstRow + r}, column '${this.names[c]}': ${v} (as read into a double) is beyond the range of ${type}, the type of the model's input`);
          }
          data[r * width + c] = (big ? BigInt(v) : v) as never;
        }
      }
    }
    // Rows past `rows` in a padded batch hold the last batch's values: their outputs are dropped.
    const shape = this.dims === 'vector' ? [shapeRows] : [shapeRows, width];
    if (shapeRows * width === data.length) {
      this.full ??= new this.ort.Tensor(type as 'float32', data as Float32Array, shape);
      return this.full;
    }
    return new this.ort.Tensor(type as 'float32', data.subarray(0, shapeRows * width) as Float32Array, shape);
  }
}

/** A string input's tensor: the column's first `rows` texts ([N] or [N, 1]), padded to a fixed batch with the last. */
function stringTensor(ort: typeof Ort, column: readonly string[], rows: number, dims: 'matrix' | 'column' | 'vector', padTo?: number): Ort.Tensor {
  const shapeRows = Math.max(rows, padTo ?? 0);
  const values = column.slice(0, rows);
  while (values.length < shapeRows) values.push(values[values.length - 1] ?? '');
  return new ort.Tensor('string', values, dims === 'vector' ? [shapeRows] : [shapeRows, 1]);
}

const FLOAT32_MAX = 3.4028234663852886e38;
/** The smallest double that rounds to Infinity as a float32 (FLOAT32_MAX plus half an ulp of it). */
const FLOAT32_OVERFLOW = 3.4028235677973366e38;

/**
 * `rows` rows of the columns into `data` row by row (row-major, as a [rows, columns] tensor); false
 * when a value is beyond float32's range. Like copyPositiveColumn, a small function of its own, so
 * that its loop is optimised on its own rather than as part of the evaluation's long async function.
 */
function interleave(columns: Float64Array[], rows: number, data: Float32Array | Float64Array): boolean {
  const width = columns.length;
  let inRange = true;
  for (let c = 0; c < width; c++) {
    const col = columns[c]!;
    for (let r = 0; r < rows; r++) {
      const v = col[r]!;
      if (v >= FLOAT32_OVERFLOW || v <= -FLOAT32_OVERFLOW) inRange = false;
      data[r * width + c] = v;
    }
  }
  return inRange;
}

/** Whether the first `rows` values of a column are within float32's range. */
function withinFloat32(column: Float64Array, rows: number): boolean {
  for (let r = 0; r < rows; r++) {
    const v = column[r]!;
    if (v >= FLOAT32_OVERFLOW || v <= -FLOAT32_OVERFLOW) return false;
  }
  return true;
}

/**
 * P(class 1) of `rows` rows of [N, 2] probabilities into `into` from `at` (see interleave), and
 * P(class 0) into `negatives` (the log loss takes the pair as given); false when a row is not a
 * probability pair (checkProbabilities then names it).
 */
function copyPositiveColumn(probabilities: Float32Array | Float64Array, rows: number, into: Float32Array | Float64Array, negatives: Float32Array | Float64Array, at: number, tolerance: number): boolean {
  let ok = true;
  const [low, high] = [-tolerance, 1 + tolerance];
  for (let i = 0; i < rows; i++) {
    const p0 = probabilities[2 * i]!;
    const p1 = probabilities[2 * i + 1]!;
    if (!(p0 >= low && p1 >= low && p0 <= high && p1 <= high && Math.abs(p0 + p1 - 1) <= tolerance)) ok = false;
    into[at + i] = p1;
    negatives[at + i] = p0;
  }
  return ok;
}

/**
 * np.allclose's bound for a row of probabilities summing to 1, as scikit-learn's log_loss checks it
 * (rtol √eps), with float32's eps at the least: a float32 softmax cast to double (a converter's
 * double output, a `.double()` at the end of a network) carries float32's rounding in float64
 * values, which scikit-learn takes (it at most warns) and which is no sign of raw scores.
 */
function sumTolerance(eps: number): number {
  return 1e-8 + Math.sqrt(Math.max(eps, FLOAT32_EPS));
}

/**
 * Refuses a classifier's output that is not class probabilities: every value within [0, 1] and each
 * row summing to 1 as scikit-learn's log_loss requires it (np.allclose with rtol √eps of the output's
 * type); a width of 1 is P(class 1) alone. The range has the same slack as the sum: float32 rounding
 * gives 1.0000001 (ten votes of 0.1 summed), which scikit-learn's metrics take, clipping it. A model that gives raw scores (a decision function, an
 * ONNX LinearClassifier without a LOGISTIC or SOFTMAX post-transform) would otherwise be thresholded
 * as if they were probabilities, and NaN would reach the metrics.
 */
function checkProbabilities(values: Float32Array | Float64Array, rows: number, width: number, eps: number, output: string, row: (i: number) => string, from?: string): void {
  const tolerance = sumTolerance(eps);
  const [low, high] = [-tolerance, 1 + tolerance];
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    let inRange = true;
    for (let c = 0; c < width; c++) {
      const v = values[i * width + c]!;
      if (!(v >= low && v <= high)) inRange = false;
      sum += v;
    }
    if (inRange && (width === 1 || Math.abs(sum - 1) <= tolerance)) continue;
    const shownRow = `[${Array.from(values.subarray(i * width, i * width + width)).join(', ')}]`;
    const why = !inRange ? (shownRow.includes('NaN') ? 'NaN' : 'a value outside [0, 1]') : `a sum of ${sum}, not 1`;
    if (from === 'Sigmoid' && width > 1 && inRange) {
      throw new ModelError(
        `${output} is not class probabilities: for ${row(i)} it gave ${shownRow} (${why}), a Sigmoid per class: a multi-label model (each class on its own), ` +
          'which this evaluation does not measure: it evaluates single-label classifiers (rows of probabilities summing to 1) and regressors',
      );
    }
    throw new ModelError(
      `${output} is not class probabilities: for ${row(i)} it gave ${shownRow} (${why}). ` +
        'The metrics need probabilities; a model that outputs raw scores (logits, a decision function, an ONNX LinearClassifier with post_transform NONE) needs a probability output: ' +
        'export it with a final Softmax (a Sigmoid for one value per row), or with scikit-learn-onnx keep the probability output',
    );
  }
}

/** Refuses a regressor's NaN or infinite prediction, as scikit-learn's metrics do. */
function checkFinite(values: Float32Array | Float64Array, modelName: string, row: (i: number) => string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) throw new ModelError(`${modelName} predicted ${v} for ${row(i)}: the metrics need finite predictions`);
  }
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  // Linear interpolation between closest ranks (numpy.percentile's default).
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function shown(workspace: string, file: string): string {
  return relativeInside(path.resolve(workspace), path.resolve(file)) ?? path.resolve(file);
}

interface Scores {
  task: EvaluationTask;
  classes: number;
  eps: number;
}

/**
 * `predictions`: the predicted values (regression), P(class 1) per row (binary), or the class
 * probabilities row by row (multiclass); `target` the true values or class indices.
 */
function computeMetrics(scores: Scores, target: ColumnData, predictions: Float32Array | Float64Array, threshold: number, arrays: CurveArrays | undefined, counts?: BinaryCounts, negatives?: Float32Array | Float64Array) {
  if (scores.task === 'regression') return { ...regressionMetrics(target, predictions), confusionMatrix: null };
  if (scores.task === 'binary') return binaryMetrics(target, predictions, threshold, scores.eps, arrays, counts, negatives);
  return multiclassMetrics(target, predictions, scores.classes, scores.eps);
}

/** Runs an evaluation and returns its report (logged as a run when a tracker is given). */
export async function evaluateModel(options: EvaluationOptions): Promise<EvaluationReport> {
  try {
    return await evaluateModelOnce(options);
  } catch (e) {
    throw locatedRow(e, options.data, shown(options.workspace, options.data));
  }
}

/** The run an evaluation had started when it failed (ended FAILED, or KILLED when cancelled), by its error. */
const endedRuns = new WeakMap<object, string>();

/** The id of the run a failed evaluation left FAILED (or KILLED), when it had started one. */
export function runEndedBy(e: unknown): string | undefined {
  return e !== null && typeof e === 'object' ? endedRuns.get(e) : undefined;
}

/**
 * A DatasetError naming a data row (`data.csv data row 50: …`, found after the rows were read)
 * said at the row's line as well (`data.csv:71: data row 50: …`), as the readers say theirs: the
 * two differ where quoted fields hold line breaks. Parquet has no lines.
 */
function locatedRow(e: unknown, file: string, dataName: string): unknown {
  const ext = path.extname(file).toLowerCase();
  const format = ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : undefined;
  const prefix = `${dataName} data row `;
  if (!(e instanceof DatasetError) || format === undefined || !e.message.startsWith(prefix)) return e;
  const row = /^\d+/.exec(e.message.slice(prefix.length))?.[0];
  const line = row === undefined ? undefined : lineOfDataRow(file, format, Number(row));
  if (line === undefined) return e;
  const located = new DatasetError(`${dataName}:${line}: data row ${row}${e.message.slice(prefix.length + row!.length)}`, e.textIn);
  located.stack = e.stack;
  return located;
}

async function evaluateModelOnce(options: EvaluationOptions): Promise<EvaluationReport> {
  const askedBatchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(askedBatchSize) || askedBatchSize < 1 || askedBatchSize > MAX_BATCH_ROWS) throw new EvaluationError(`batch size must be a whole number of rows, from 1 to ${MAX_BATCH_ROWS.toLocaleString('en-US')} (got ${askedBatchSize})`);
  const threshold = options.threshold ?? 0.5;
  if (!(threshold >= 0 && threshold <= 1)) throw new EvaluationError(`threshold must be between 0 and 1 (got ${threshold})`);
  const modelName = options.modelName ?? shown(options.workspace, options.model);
  const dataName = shown(options.workspace, options.data);
  // Decided first: the worker starts while the model loads, and the model leaves it a core.
  const threaded = options.readInThread ?? (await fileBytes(options.data)) >= THREAD_ABOVE_BYTES;
  if (threaded) warmDatasetThread();
  const model = await loadOnnxModel(options.model, modelName, { shareCores: threaded });
  // A model exported with a fixed batch size (torch.onnx.export without dynamic_axes: [1, 4]) runs
  // in batches of that size, the last one padded (its extra rows' outputs are dropped).
  const fixedBatch = fixedBatchSize(model, modelName);
  const batchSize = fixedBatch ?? askedBatchSize;
  const batchNote = fixedBatch !== undefined && options.batchSize !== undefined && options.batchSize !== fixedBatch ? `batches of ${fixedBatch} rows, the model's fixed batch size, not ${options.batchSize}` : undefined;
  const reader = await openDataset(options.data, dataName);
  const named = (name: string) => columnNamed(reader.columns, name);
  options = { ...options, target: named(options.target), ...(options.sliceBy !== undefined ? { sliceBy: named(options.sliceBy) } : {}), ...(options.features ? { features: options.features.map(named) } : {}) };
  // The columns the evaluation names (a one-matrix model's input name is no column: not looked for).
  const byName = !(model.inputs.length === 1 && model.inputs[0]!.shape.length === 2);
  // A model whose metadata names its features (as the example's writer records them) is fed those
  // columns by name, in that order, wherever they are in the file: never others by their position.
  const declared = !options.features && !byName ? model.declaredFeatures?.map(named) : undefined;
  await withColumns(reader, [options.target, options.sliceBy, ...(options.features ?? declared ?? []), ...(byName ? model.inputs.map((i) => i.name) : [])]);
  checkColumns(dataName, reader.columns, [{ name: options.target }, ...(options.sliceBy ? [{ name: options.sliceBy }] : [])], reader.format);
  const plan = planInputs(model, reader.columns, options.target, options.features, dataName, reader.format, declared);
  const out = model.outputs;
  let task: EvaluationTask;
  // A model with one value per row is a regressor, unless asked for `binary` or the value is a
  // Sigmoid's (a network's binary head): it is then P(class 1).
  const oneScore = out.value !== undefined && (options.task === 'binary' || (options.task === undefined && out.valueIsSigmoid === true));
  if (out.value) {
    if (options.task && options.task !== 'regression' && !oneScore) {
      throw new EvaluationError(`${modelName} gives one value per row: task '${options.task}' does not fit (regression, or binary when the value is P(class 1))`);
    }
    task = oneScore ? 'binary' : 'regression';
  } else {
    if (options.task === 'regression') throw new EvaluationError(`${modelName} gives class probabilities: task 'regression' does not fit`);
    if (out.classes !== undefined) {
      const inferred = out.classes === 2 ? 'binary' : 'multiclass';
      // Two classes may be asked for as multiclass (macro and weighted averages), as scikit-learn computes them.
      const fits = options.task === undefined || options.task === inferred || (options.task === 'multiclass' && out.classes === 2);
      if (!fits) throw new EvaluationError(`${modelName} gives probabilities for ${out.classes} classes: task '${options.task}' does not fit`);
      task = options.task ?? inferred;
    } else task = options.task ?? 'binary';
  }
  // A classifier's target is read as text, coded (see TargetClasses); a slice by the target itself shares it.
  const classifying = task !== 'regression';
  // A model that imputes takes a feature's missing cell as NaN (its Imputer's replaced value), as pandas reads it.
  const fed = new Set(plan.inputs.filter((i) => i.type !== 'string').flatMap((i) => i.columns));
  const imputed = (name: string) => model.imputes && fed.has(name) && name !== options.target;
  const request: ColumnRequest[] = [...new Set([...fed, ...(classifying ? [] : [options.target])])].map((name) => ({ name, ...(imputed(name) ? { missing: true } : {}) }));
  if (classifying) request.push({ name: options.target, text: true, coded: true });
  if (options.sliceBy && !(classifying && options.sliceBy === options.target)) request.push({ name: options.sliceBy, text: true, nulls: true });
  // A string input's column, as text (after the target's and the slice's, whose places are fixed).
  const stringColumns = [...new Set(plan.inputs.filter((i) => i.type === 'string').flatMap((i) => i.columns))];
  const textsBefore = request.filter((r) => r.text).length;
  const textIndex = new Map(stringColumns.map((name, i) => [name, textsBefore + i]));
  for (const name of stringColumns) request.push({ name, text: true });
  checkColumns(dataName, reader.columns, request, reader.format);
  const numberIndex = new Map(request.filter((r) => !r.text).map((r, i) => [r.name, i]));
  const targetSlot = classifying ? 0 : -1;
  // Text columns in request order: the target (when classifying), then the slice column unless it is the target.
  const sliceSlot = classifying && options.sliceBy !== options.target ? 1 : 0;
  // The CSV and JSON Lines readers hash the file as they read it; Parquet is hashed apart.
  const thread = threaded ? readInThread(options.data, dataName, request, batchSize, reader.hashesFile) : undefined;
  const datasetHash = !thread && reader.hashesFile ? new FileDigests() : undefined;

  // Created at the first batch, when the task and the output's type are known.
  let targetColumn: GrowingColumn<ColumnData> | undefined;
  let predictionColumn: GrowingColumn<Float32Array | Float64Array> | undefined;
  // A binary model's P(class 0) as it gives it, beside P(class 1), when its output has two columns.
  let negativeColumn: GrowingColumn<Float32Array | Float64Array> | undefined;
  const rowsExpected = reader.rows ?? (await expectedRows(options.data, reader.format));
  const sliceValues: string[] = [];
  const latencies: number[] = [];
  let classes = oneScore ? 2 : (out.classes ?? 0);
  const labels = out.classLabels;
  // Created at the first batch, when the number of classes is known.
  let targetClasses: TargetClasses | undefined;
  const tensors = plan.inputs.map((input) => ({ input, tensor: new InputTensor(model.ort, input.type, input.columns.length, input.dims, input.columns, fixedBatch) }));
  const fetches = [out.probabilities ?? out.value!];
  const outputName = `${modelName}: output '${fetches[0]}'`;
  const tracker = options.tracker;
  let runId: string | null = null;
  let inferenceMs = 0;
  const eps = out.dtype === 'float64' ? FLOAT64_EPS : FLOAT32_EPS;
  // A row is positive when P(class 1) > threshold, compared in the scores' own precision (as numpy
  // compares a float32 column with a Python float): a score that is the threshold, as the model
  // writes it, is negative at any threshold (float32(0.3) is not above 0.3 taken as a float32).
  const cut = out.dtype === 'float64' ? threshold : Math.fround(threshold);
  const binaryPass = new BinaryCounts(cut, eps);
  let curveArrays: CurveArrays | undefined;
  const startRun = () => {
    if (!tracker || runId) return;
    const run = tracker.createRun({
      ...(options.experimentId ? { experimentId: options.experimentId } : {}),
      runName: evaluationRunName(options.modelName ?? options.model, options.data, options.modelName !== undefined),
      tags: [
        { key: MODEL_SHA256_TAG, value: model.sha256 },
        { key: 'runwise.evaluation.task', value: task },
        ...(options.parentRunId ? [{ key: PARENT_RUN_TAG, value: options.parentRunId }] : []),
      ],
    });
    runId = run.info.runId;
  };
  const checkCancelled = () => {
    if (options.signal?.aborted) throw new EvaluationCancelledError(modelName);
  };
  try {
    checkCancelled();
    let rowBase = 0;
    for await (const batch of thread ? thread.batches : reader.batches(request, batchSize, datasetHash)) {
      checkCancelled();
      const rows = batch.rows;
      const feeds: Record<string, Ort.Tensor> = {};
      const where = `${dataName} rows ${rowBase + 1}–${rowBase + rows}`;
      const rowOf = (i: number) => `${dataName} data row ${rowBase + i + 1}`;
      for (const { input, tensor } of tensors) {
        feeds[input.name] =
          input.type === 'string'
            ? stringTensor(model.ort, batch.texts[textIndex.get(input.columns[0]!)!]!, rows, input.dims, fixedBatch)
            : tensor.fill(input.columns.map((c) => batch.numbers[numberIndex.get(c)!]!), rows, batchSize, dataName, rowBase + 1);
      }
      const t0 = performance.now();
      let result: Ort.InferenceSession.ReturnType;
      try {
        result = await model.session.run(feeds, fetches);
      } catch (e) {
        throw new ModelError(`${modelName}: inference failed on ${where}: ${(e as Error).message}`);
      }
      const ms = performance.now() - t0;
      latencies.push(ms);
      inferenceMs += ms;
      const tensor = result[fetches[0]!]!;
      let values = tensor.data as Float32Array | Float64Array;
      // A padded last batch: the outputs of its real rows only.
      if (fixedBatch !== undefined && rows < fixedBatch && tensor.dims[0] === fixedBatch) values = values.subarray(0, (values.length / fixedBatch) * rows);
      if (oneScore) {
        if (values.length !== rows) throw new ModelError(`${modelName}: expected one P(class 1) per row, shape [${rows}] or [${rows}, 1], got [${tensor.dims.join(', ')}]`);
        checkProbabilities(values, rows, 1, eps, outputName, rowOf);
      } else if (task === 'regression') checkFinite(values, modelName, rowOf);
      else {
        const width = tensor.dims[1] ?? 0;
        if (classes === 0) {
          classes = width;
          if (!options.task) task = classes === 2 ? 'binary' : 'multiclass';
        }
        if (width !== classes || tensor.dims.length !== 2) throw new ModelError(`${modelName}: expected probabilities of shape [${tensor.dims[0]}, ${classes}], got [${tensor.dims.join(', ')}]`);
        if (task === 'binary' && classes !== 2) throw new EvaluationError(`${modelName} gives probabilities for ${classes} classes: task 'binary' does not fit`);
        if (task === 'multiclass' && classes < 2) throw new EvaluationError(`${modelName} gives ${classes} probability column: not a classifier`);
        // A binary output is checked as its column of P(class 1) is copied (below).
        if (task === 'multiclass') checkProbabilities(values, rows, classes, eps, outputName, rowOf, out.probabilitiesFrom);
      }
      if (!targetColumn || !predictionColumn) {
        const capacity = Math.max(rowsExpected, rows);
        // Binary class indices (0, 1) as bytes; P(class 1) kept alone, in the output's own type.
        targetColumn = task === 'binary' ? new GrowingColumn<ColumnData>((n) => new Uint8Array(n), capacity) : new GrowingColumn<ColumnData>((n) => new Float64Array(n), capacity);
        const width = task === 'multiclass' ? classes : 1;
        // The binary metrics' row pass and curve keys are made batch by batch (see below).
        if (task === 'binary') curveArrays = new CurveArrays(capacity);
        // In the output's own type.
        const make = values instanceof Float32Array ? (n: number) => new Float32Array(n) : (n: number) => new Float64Array(n);
        predictionColumn = new GrowingColumn<Float32Array | Float64Array>(make, capacity * width);
        if (task === 'binary' && !oneScore) negativeColumn = new GrowingColumn<Float32Array | Float64Array>(make, capacity * width);
      }
      if (task !== 'regression') {
        targetClasses ??= new TargetClasses({ data: dataName, column: options.target, model: modelName }, labels, classes, reader.format === 'csv');
        const at = targetColumn.reserve(rows);
        targetClasses.write(batch, targetSlot, rows, rowBase, targetColumn.data as Uint8Array | Float64Array, at);
        targetColumn.length += rows;
      } else targetColumn.push(batch.numbers[numberIndex.get(options.target)!]!, rows);
      if (task === 'binary') {
        const at = predictionColumn.reserve(rows);
        const positive = predictionColumn.data;
        let negative: Float32Array | Float64Array | undefined;
        if (oneScore) positive.set(values.subarray(0, rows), at);
        else {
          negativeColumn!.reserve(rows);
          negative = negativeColumn!.data;
          if (!copyPositiveColumn(values, rows, positive, negative, at, sumTolerance(eps))) checkProbabilities(values, rows, 2, eps, outputName, rowOf, out.probabilitiesFrom);
          negativeColumn!.length += rows;
        }
        predictionColumn.length += rows;
        // The metrics' pass over these rows, while the next batch is read (by the reader's thread, if any).
        binaryPass.add(targetColumn.data, positive, at, at + rows, undefined, negative);
        if (positive instanceof Float32Array) curveArrays!.prepare(targetColumn.data, positive, at, rows);
      } else predictionColumn.push(values, values.length);
      if (options.sliceBy) {
        const codes = batch.codes?.[sliceSlot];
        if (codes) {
          const texts = batch.labels![sliceSlot]!;
          for (let i = 0; i < rows; i++) sliceValues.push(texts[codes[i]!]!);
        } else for (let i = 0; i < rows; i++) sliceValues.push(batch.texts[sliceSlot]![i]!);
      }
      rowBase += rows;
      options.onProgress?.(rowBase, Math.max(rowsExpected, rowBase));
      // The run starts once the first batch has been read, checked and evaluated (see the top).
      startRun();
    }
    checkCancelled();
    const datasetDigests = (thread ? thread.digests() : datasetHash?.digests()) ?? (await fileDigests(options.data));
    const scores: Scores = { task, classes, eps };
    const targets = targetColumn ? targetColumn.values() : new Float64Array(0);
    const predictions = predictionColumn ? predictionColumn.values() : new Float64Array(0);
    const negatives = negativeColumn?.values();
    // The batches' curve arrays (binary only), unless more rows came than they were sized for.
    const arrays = curveArrays && curveArrays.capacity >= targets.length ? curveArrays : task === 'binary' ? new CurveArrays(targets.length) : undefined;
    const overall = computeMetrics(scores, targets, predictions, cut, arrays, binaryPass, negatives);
    const warnings = [...(batchNote ? [batchNote] : []), ...overall.warnings];
    // Features taken "in file order" from JSON Lines whose rows order their keys differently (not
    // when the model's metadata named them: those are found by name in every row).
    if (reader.columnOrderVaries && !options.features && !declared && plan.inputs.some((i) => i.dims === 'matrix')) {
      warnings.push(`${dataName}: its rows list their keys in different orders; the features were taken in the order the first rows give (${shownColumns(plan.features)}): name them with --features (features:) in the order the model was trained on`);
    }
    // A CSV whose first row is numbers was most likely written without a header (pandas' header=False).
    if (reader.format === 'csv' && headerLooksLikeData(reader.columns)) {
      warnings.push(`the first row of ${dataName} is all numbers (${shownColumns(reader.columns.slice(0, 5))}${reader.columns.length > 5 ? ', …' : ''}): if it is data written without a header, it was read as the column names and left out of the evaluation; write the file with a header naming the columns`);
    }
    // A threshold only decides a binary classifier's predictions: said, not silently ignored.
    if (options.threshold !== undefined && task !== 'binary') {
      warnings.push(`the threshold ${options.threshold} was not used: it decides P(class 1) > threshold for a binary classifier, and this evaluation's task is ${task}${task === 'multiclass' ? ' (each row predicted as its most probable class)' : ''}`);
    }
    // A one-value model read as a regressor against a 0/1 target is most likely a sigmoid classifier.
    if (task === 'regression' && !options.task && targets.length > 0 && targets.every((t) => t === 0 || t === 1)) {
      warnings.push(
        `'${options.target}' holds no value but 0 and 1 (or False and True): if the model's one value per row is P(class 1), evaluate it as a classifier with task binary (--task binary); giving task regression (--task regression) says it is a regressor and drops this warning`,
      );
    }
    // scikit-learn's mape divides by max(|y|, 2.2e-16): a target of 0 makes it astronomical.
    if (task === 'regression') {
      let zeros = 0;
      for (const t of targets) if (Math.abs(t) < FLOAT64_EPS) zeros++;
      if (zeros > 0) {
        warnings.push(`${zeros} row${zeros === 1 ? '' : 's'} of '${options.target}' ${zeros === 1 ? 'is' : 'are'} 0: mape divides each error by max(|y|, 2.2e-16), as scikit-learn does, so ${zeros === 1 ? 'it dominates' : 'they dominate'} it (${Number(overall.metrics.mape!.toPrecision(4))}); mae and rmse are the errors to read`);
      }
    }
    let slices: EvaluationReport['slices'] = null;
    if (options.sliceBy) {
      const { groups, numeric, integers } = sliceGroups(sliceValues, reader.format, reader.textColumns?.has(options.sliceBy) ?? false);
      if (groups.size > MANY_SLICES) warnings.push(`'${options.sliceBy}' has ${groups.size} distinct values: slices compare a handful of groups, and the gaps between ${groups.size} small ones say little`);
      const width = task === 'multiclass' ? classes : 1;
      const compare = <T extends string | bigint>(a: T, b: T) => (a < b ? -1 : a > b ? 1 : 0);
      const byValue = integers ? (a: string, b: string) => compare(BigInt(a), BigInt(b)) : numeric ? (a: string, b: string) => Number(a) - Number(b) : compare<string>;
      const order = (a: string, b: string) => (a === MISSING_KEY ? 1 : b === MISSING_KEY ? -1 : byValue(a, b));
      const values: SliceReport[] = [...groups.entries()]
        .sort((a, b) => order(a[0], b[0]))
        .map(([key, idx]) => {
          const value = key !== MISSING_KEY ? key : groups.has(MISSING_SLICE) ? `${MISSING_SLICE} cells` : MISSING_SLICE;
          const t = Float64Array.from(idx, (i) => targets[i]!);
          const p = new Float64Array(idx.length * width);
          idx.forEach((i, k) => p.set(predictions.subarray(i * width, i * width + width), k * width));
          const n = negatives ? Float64Array.from(idx, (i) => negatives[i]!) : undefined;
          return { value, rows: idx.length, metrics: computeMetrics(scores, t, p, cut, arrays, undefined, n).metrics };
        });
      const gaps: NonNullable<EvaluationReport['slices']>['gaps'] = {};
      // Gaps between slices of FEW_SLICE_ROWS rows or more when two such slices have the metric: a
      // slice of one row is right or wrong by chance (it is said, below, when it is left out).
      const leftOut = new Set<string>();
      for (const key of Object.keys(overall.metrics)) {
        const all = values.filter((s) => Number.isFinite(s.metrics[key]));
        const sized = all.filter((s) => s.rows >= FEW_SLICE_ROWS);
        const finite = sized.length >= 2 ? sized : all;
        if (finite !== all) for (const s of all) if (s.rows < FEW_SLICE_ROWS) leftOut.add(`'${s.value}' (${s.rows} row${s.rows === 1 ? '' : 's'})`);
        if (finite.length < 2) continue;
        const lowest = finite.reduce((a, b) => (b.metrics[key]! < a.metrics[key]! ? b : a));
        const highest = finite.reduce((a, b) => (b.metrics[key]! > a.metrics[key]! ? b : a));
        gaps[key] = { gap: highest.metrics[key]! - lowest.metrics[key]!, lowest: lowest.value, highest: highest.value };
      }
      const headline = task === 'regression' ? 'mae' : 'accuracy';
      slices = { column: options.sliceBy, values, gaps, largest_gap: gaps[headline] ? { metric: headline, ...gaps[headline] } : null };
      // A gap set by a slice of a few rows says more about that slice's size than about the model.
      const gap = slices.largest_gap;
      const small = gap ? values.filter((v) => (v.value === gap.lowest || v.value === gap.highest) && v.rows < FEW_SLICE_ROWS) : [];
      if (leftOut.size > 0) {
        warnings.push(`the gaps between '${options.sliceBy}' slices leave out those of fewer than ${FEW_SLICE_ROWS} rows (${[...leftOut].join(', ')}): their metrics are listed, but so few rows make them noise more than signal`);
      }
      if (small.length > 0) {
        warnings.push(`the largest ${headline} gap between '${options.sliceBy}' slices involves ${small.map((v) => `'${v.value}' (${v.rows} row${v.rows === 1 ? '' : 's'})`).join(' and ')}: fewer than ${FEW_SLICE_ROWS} rows make a slice's ${headline} noise more than signal`);
      }
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const report: EvaluationReport = {
      task,
      task_inferred: options.task === undefined,
      rows: targets.length,
      metrics: overall.metrics,
      confusion_matrix: overall.confusionMatrix,
      classes: task === 'regression' ? null : (labels ?? Array.from({ length: classes }, (_, c) => c)),
      threshold: task === 'binary' ? threshold : null,
      slices,
      latency_ms: { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), p99: percentile(sorted, 0.99) },
      rows_per_second: inferenceMs > 0 ? targets.length / (inferenceMs / 1000) : 0,
      batches: latencies.length,
      batch_size: batchSize,
      warnings,
      model: { path: modelName, sha256: model.sha256, inputs: model.inputs, outputs: model.declaredOutputs },
      dataset: { path: dataName, format: reader.format, sha256: datasetDigests.sha256, md5: datasetDigests.md5, features: plan.features, target: options.target },
      run_id: runId,
    };
    checkCancelled();
    if (tracker && runId) await logEvaluation(tracker, runId, report, options);
    return report;
  } catch (caught) {
    const e = locatedRow(caught, options.data, dataName);
    if (tracker && runId) {
      if (e !== null && typeof e === 'object') endedRuns.set(e, runId);
      const reason = (e as Error).message ?? String(e);
      tracker.updateRun(runId, { status: e instanceof EvaluationCancelledError ? 'KILLED' : 'FAILED' });
      tracker.setTag(runId, { key: FAILURE_REASON_TAG, value: reason.slice(0, 5000) });
    }
    throw e;
  } finally {
    await model.session.release().catch(() => undefined);
  }
}

async function logEvaluation(tracker: Tracker, runId: string, report: EvaluationReport, options: EvaluationOptions): Promise<void> {
  const now = Date.now();
  const metrics = Object.entries(report.metrics)
    .filter(([, v]) => Number.isFinite(v))
    .map(([key, value]) => ({ key, value, timestamp: now, step: 0 }));
  metrics.push(
    { key: 'rows', value: report.rows, timestamp: now, step: 0 },
    { key: 'rows_per_second', value: report.rows_per_second, timestamp: now, step: 0 },
    { key: 'latency_p50_ms', value: report.latency_ms.p50, timestamp: now, step: 0 },
    { key: 'latency_p95_ms', value: report.latency_ms.p95, timestamp: now, step: 0 },
    { key: 'latency_p99_ms', value: report.latency_ms.p99, timestamp: now, step: 0 },
  );
  const params = [
    { key: 'model', value: report.model.path },
    { key: 'data', value: report.dataset.path },
    { key: 'target', value: report.dataset.target },
    { key: 'task', value: report.task },
    { key: 'batch_size', value: String(report.batch_size) },
    ...(report.threshold !== null ? [{ key: 'threshold', value: String(report.threshold) }] : []),
    ...(options.features ? [{ key: 'features', value: formatFeatureList(options.features) }] : []),
    ...(options.sliceBy ? [{ key: 'slice_by', value: options.sliceBy }] : []),
  ];
  tracker.logBatch(runId, { metrics, params });
  tracker.logInputs(runId, [
    {
      dataset: {
        name: path.basename(options.data).replace(/\.[^.]+$/, ''),
        // The runner's (DVC's) md5: the same file version as a stage's dependency or output, in lineage.
        digest: report.dataset.md5,
        sourceType: 'local',
        source: report.dataset.path,
        schema: JSON.stringify({ columns: [...report.dataset.features, report.dataset.target] }),
      },
      tags: [
        { key: 'mlflow.data.context', value: 'evaluation' },
        { key: 'runwise.sha256', value: report.dataset.sha256 },
      ],
    },
  ]);
  await tracker.putArtifact(runId, EVALUATION_REPORT_ARTIFACT, Buffer.from(`${JSON.stringify(report, null, 2)}\n`));
  tracker.updateRun(runId, { status: 'FINISHED' });
}
