/**
 * Runwise's built-in pipeline steps (`evaluate`, `register`, `drift`) and the top-level `gates`:
 * their configuration types, the metric names they produce, and their schema. The pipeline runner
 * imports the types and metric lists from here, so the editor and the runner agree.
 */
import {
  bool,
  enumOf,
  freeMap,
  int,
  listOf,
  num,
  str,
  strOrList,
  type MapSchema,
  type PropertySchema,
  type SchemaNode,
} from './schemaModel';
import { aliasProblem, modelNameProblem } from '../../tracker/registryNames';

export const CLASSIFICATION_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'average_precision', 'log_loss', 'f1_macro', 'f1_weighted', 'precision_macro', 'precision_weighted', 'recall_macro', 'recall_weighted'] as const;
/** What a binary evaluation gives (core/evaluation/metrics.ts binaryMetrics): of the positive class. */
export const BINARY_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'average_precision', 'log_loss'] as const;
/** What a multiclass evaluation gives (multiclassMetrics): averaged over the classes. */
export const MULTICLASS_METRICS = ['accuracy', 'precision_macro', 'precision_weighted', 'recall_macro', 'recall_weighted', 'f1_macro', 'f1_weighted', 'log_loss', 'roc_auc'] as const;
export const REGRESSION_METRICS = ['mae', 'mse', 'rmse', 'r2', 'mape'] as const;
export const DRIFT_METRICS = ['drift_share', 'drifted_columns'] as const;
/** core/evaluation's tasks; `classification` (binary or multiclass, from the model's output) is kept for pipelines written before. */
export const EVALUATION_TASKS = ['binary', 'multiclass', 'regression', 'classification'] as const;
/** core/drift's tests (DRIFT_TEST_NAMES there; the language layer does not import core/drift). */
export const DRIFT_TESTS = ['ks', 'wasserstein', 'chisquare', 'z', 'jensenshannon', 'psi', 'kl_div', 'hellinger', 'tvd', 'energy', 'mannwhitney'] as const;
export const GATE_OPERATORS = ['>', '>=', '<', '<=', '==', '!='] as const;
export const BUILTIN_STEPS = ['evaluate', 'register', 'drift'] as const;

export type ClassificationMetric = (typeof CLASSIFICATION_METRICS)[number];
export type RegressionMetric = (typeof REGRESSION_METRICS)[number];
export type DriftMetric = (typeof DRIFT_METRICS)[number];
export type DriftTest = (typeof DRIFT_TESTS)[number];
export type EvaluationTask = (typeof EVALUATION_TASKS)[number];
export type GateOperator = (typeof GATE_OPERATORS)[number];
export type BuiltinStep = (typeof BUILTIN_STEPS)[number];

/** Every metric name a built-in step can produce. */
export const BUILTIN_METRIC_NAMES: readonly string[] = [...CLASSIFICATION_METRICS, ...REGRESSION_METRICS, ...DRIFT_METRICS];

export const METRIC_DOCS: Readonly<Record<string, string>> = {
  accuracy: 'Share of correct predictions (classification).',
  precision: 'Precision of the positive class, at the threshold (binary).',
  recall: 'Recall of the positive class, at the threshold (binary).',
  f1: 'F1 score of the positive class, at the threshold (binary).',
  roc_auc: 'Area under the ROC curve; one-vs-rest for more than two classes (classification).',
  average_precision: 'Average precision: the area under the precision-recall curve (binary).',
  f1_macro: 'F1, unweighted mean over classes (multiclass).',
  f1_weighted: 'F1, mean over classes weighted by their support (multiclass).',
  precision_macro: 'Precision, unweighted mean over classes (multiclass).',
  precision_weighted: 'Precision, mean over classes weighted by their support (multiclass).',
  recall_macro: 'Recall, unweighted mean over classes (multiclass).',
  recall_weighted: 'Recall, mean over classes weighted by their support (multiclass).',
  mape: 'Mean absolute percentage error (regression).',
  log_loss: 'Cross-entropy of the predicted probabilities (classification; lower is better).',
  mae: 'Mean absolute error (regression).',
  mse: 'Mean squared error (regression).',
  rmse: 'Root mean squared error (regression).',
  r2: 'Coefficient of determination (regression).',
  drift_share: 'Share of compared columns whose drift test fired (drift).',
  drifted_columns: 'Number of columns whose drift test fired (drift).',
};

/**
 * The metrics an `evaluate` step gives for a task as written; `classification`, none or another
 * word (binary or multiclass, as the model's output says) may give either's.
 */
export function metricsForTask(task: string | undefined): readonly string[] {
  return task === 'regression' ? REGRESSION_METRICS : task === 'binary' ? BINARY_METRICS : task === 'multiclass' ? MULTICLASS_METRICS : CLASSIFICATION_METRICS;
}

export interface EvaluateStepConfig {
  model: string;
  data: string;
  target: string;
  /** Default: classification. */
  /** Default: inferred from the model's outputs. */
  task?: EvaluationTask;
  /** The metrics the stage's run logs (its gates read those); default: every metric of the task. */
  metrics?: (ClassificationMetric | RegressionMetric)[];
  features?: string[];
  threshold?: number;
  batch_size?: number;
  /** One column (a list of one is taken too). */
  slice_by?: string | string[];
  output?: string;
}

export interface RegisterStepConfig {
  model: string;
  name: string;
  card?: string;
  alias?: string;
  description?: string;
  tags?: Record<string, string>;
}

export interface DriftStepConfig {
  reference: string;
  current: string;
  columns?: string[];
  /** One test for every column, or a test per column. Default: chosen per column as Evidently's preset does. */
  tests?: DriftTest | Record<string, DriftTest>;
  /** One threshold for every column, or one per column. Default: each test's own. */
  threshold?: number | Record<string, number>;
  /** The share of drifted columns at which the dataset drifts. Default: 0.5. */
  drift_share?: number;
  /** Fail the stage when the dataset drifts. Default: false. */
  fail_on_drift?: boolean;
  output?: string;
}

export interface GateConfig {
  /** `metric`, `stage:metric` or `file:metric`. */
  metric: string;
  op: GateOperator;
  value: number;
  stage?: string;
  message?: string;
}

/** What core/dataset's openDataset reads (a .tsv is refused there). */
export const DATA_EXTENSIONS = ['.csv', '.jsonl', '.ndjson', '.parquet'] as const;

const evaluateSchema: MapSchema = {
  required: ['model', 'data', 'target'],
  properties: {
    model: str('The ONNX model to evaluate (a path relative to `wdir`).', { hint: 'input-path', extensions: ['.onnx'] }),
    data: str('The labelled dataset: CSV, JSON Lines or Parquet (a path relative to `wdir`).', { hint: 'input-path', extensions: DATA_EXTENSIONS }),
    target: str('The column of `data` that holds the true label or value.'),
    task: enumOf('`binary`, `multiclass` or `regression`; decides which metrics apply. Default: inferred from the model (a probability output of width 2: binary; wider: multiclass; one float output: regression; `binary` on a one-value output reads it as P(class 1), as a sigmoid gives it).', EVALUATION_TASKS),
    features: listOf({ scalar: { types: ['string'] } }, 'The columns that fill a model with one 2-D input, in order. Default: every column but `target`, in file order.', true),
    threshold: num('Decision threshold on the positive class probability (binary), from 0 to 1. Default: 0.5.', { min: 0, max: 1 }),
    slice_by: strOrList('A column whose values the metrics are also computed for, one slice per value, with the largest gap between slices (a fairness check). One column (a list of one is taken too).'),
    metrics: listOf(
      { scalar: { types: ['string'], enum: [...CLASSIFICATION_METRICS, ...REGRESSION_METRICS], hint: 'metric-name' } },
      'The metrics the stage\'s run logs, for its gates (the evaluation\'s own run and `output` keep every one). Binary: ' +
        BINARY_METRICS.map((m) => `\`${m}\``).join(', ') +
        '. Multiclass: ' +
        MULTICLASS_METRICS.map((m) => `\`${m}\``).join(', ') +
        '. Regression: ' +
        REGRESSION_METRICS.map((m) => `\`${m}\``).join(', ') +
        '. Default: all of the task.',
      true,
    ),
    batch_size: int('Rows per inference batch, from 1 to 1,000,000.', { min: 1, max: 1_000_000 }),
    output: str('Where to write the metrics as JSON (a path relative to `wdir`); it becomes an output of the stage.', {
      hint: 'output-path',
      extensions: ['.json'],
    }),
  },
};

const registerSchema: MapSchema = {
  required: ['model', 'name'],
  properties: {
    model: str('The model file to register (a path relative to `wdir`).', { hint: 'input-path' }),
    name: str('The registered model name in the Runwise registry. Gates comparing with an alias (`champion.roc_auc`) read this model when they name none.', { problem: modelNameProblem }),
    card: str(
      'A model card (README.md, *.modelcard.yaml or the Model Card Toolkit\'s model_card.json) stored with the version. Before registering, the latest evaluation of the model\'s bytes is written into it (as `runwise card update` does).',
      { hint: 'input-path', extensions: ['.md', '.yaml', '.yml'] },
    ),
    alias: str('An alias to point at the new version, e.g. `champion` or `staging` (used as `name@alias`).', {
      suggestions: ['champion', 'challenger', 'staging', 'production'],
      problem: aliasProblem,
    }),
    description: str('A description of the model version.'),
    tags: freeMap('Tags for the model version (`key: value`).'),
  },
};

const DRIFT_DATA_EXTENSIONS = [...DATA_EXTENSIONS, '.jsonl', '.ndjson'] as const;
const DRIFT_TESTS_DOC =
  'p-values (drift when below the threshold; `ks` at or below): `ks` (Kolmogorov–Smirnov), `chisquare` (chi-squared), `z` (two-proportion z), `mannwhitney` (Mann–Whitney U). Distances (drift at or above; `energy` above): `wasserstein` (normed by the reference standard deviation), `jensenshannon`, `psi` (population stability index), `kl_div` (Kullback–Leibler), `hellinger`, `tvd` (total variation distance), `energy`.';

const driftSchema: MapSchema = {
  required: ['reference', 'current'],
  properties: {
    reference: str('The reference dataset (what the model was trained on), CSV, Parquet or JSON Lines.', {
      hint: 'input-path',
      extensions: DRIFT_DATA_EXTENSIONS,
    }),
    current: str('The current dataset to compare with the reference, CSV, Parquet or JSON Lines.', { hint: 'input-path', extensions: DRIFT_DATA_EXTENSIONS }),
    columns: listOf({ scalar: { types: ['string'] } }, 'Columns to compare. Default: every column both datasets share.', true),
    tests: {
      description: `The drift test: one name for every column, or a map from column to test. ${DRIFT_TESTS_DOC} Default: per column as Evidently's data-drift preset (up to 1,000 reference rows: \`ks\` for numerical, \`chisquare\` for categorical, \`z\` for binary columns; above: \`wasserstein\` for numerical, \`jensenshannon\` for the rest).`,
      scalar: { types: ['string'], enum: DRIFT_TESTS },
      map: { properties: {}, additional: { scalar: { types: ['string'], enum: DRIFT_TESTS } }, additionalKeyDoc: 'A column and the drift test for it.' },
    },
    threshold: {
      description: 'The drift threshold: one number for every column, or a map from column to number. A p-value for `ks`, `chisquare`, `z` and `mannwhitney` (drift below it; default 0.05), a distance for the others (drift at or above it; default 0.1).',
      scalar: { types: ['number'] },
      map: { properties: {}, additional: { scalar: { types: ['number'] } }, additionalKeyDoc: 'A column and its drift threshold.' },
    },
    drift_share: num('The share of drifted columns at which the dataset counts as drifted (0 to 1). Default: 0.5. Gates can read the `drift_share` metric.'),
    fail_on_drift: bool('Fail the stage when the dataset drifts (the report and the run are still written). Default: false.', false),
    output: str('Where to write the drift report as JSON; it becomes an output of the stage.', {
      hint: 'output-path',
      extensions: ['.json'],
    }),
  },
};

export const STEP_SCHEMAS: Readonly<Record<BuiltinStep, PropertySchema>> = {
  evaluate: {
    description:
      'Built-in step: evaluate an ONNX model on a labelled dataset and log the metrics (instead of `cmd`).',
    map: evaluateSchema,
    snippet: 'evaluate:\n  model: ${1:models/model.onnx}\n  data: ${2:data/test.csv}\n  target: ${3:label}\n  task: ${4|binary,multiclass,regression|}\n  output: ${5:metrics.json}',
  },
  register: {
    description: 'Built-in step: register a model file as a new version in the Runwise registry (instead of `cmd`).',
    map: registerSchema,
    snippet: 'register:\n  model: ${1:models/model.onnx}\n  name: ${2:my-model}\n  card: ${3:README.md}\n  alias: ${4:candidate}',
  },
  drift: {
    description: 'Built-in step: compare a current dataset with a reference dataset column by column (instead of `cmd`).',
    map: driftSchema,
    snippet: 'drift:\n  reference: ${1:data/train.csv}\n  current: ${2:data/current.csv}\n  output: ${3:drift.json}',
  },
};

export const GATE_SCHEMA: SchemaNode = {
  description: 'A quality gate: the pipeline fails when the metric does not satisfy `op value`.',
  map: {
    required: ['metric', 'op', 'value'],
    properties: {
      metric: str(
        'The metric to check: a name (`accuracy`), or `stage:name` / `file:name` to say where it comes from (`evaluate:f1`, `metrics.json:auc`).',
        { hint: 'metric-ref' },
      ),
      op: enumOf('Comparison: `>`, `>=`, `<`, `<=`, `==` or `!=` (quote it in YAML: `op: \'>=\'`).', GATE_OPERATORS),
      value: {
        description:
          'The threshold: a number, or an expression over the metrics of another run, such as `previous.loss` (the last successful run of the same stage), `previous.loss * 1.05`, or `champion.roc_auc` (a registry alias: the latest evaluation of the version it points at, of the gate\'s `model`).',
        scalar: { types: ['number', 'string'], hint: 'gate-value' },
      },
      stage: str('The stage whose metrics the gate reads (when `metric` does not say).', { hint: 'stage-name' }),
      model: str(
        'The registered model whose aliases the value names (`champion.roc_auc`: the latest evaluation of the version `champion` points at). Default: the `name` of the file\'s `register` step. A missing alias passes, saying so.',
        { problem: modelNameProblem },
      ),
      message: str('Shown when the gate fails.'),
    },
  },
};

export const GATES_SCHEMA: PropertySchema = {
  description: 'Quality gates checked after the pipeline runs: each compares a metric with a threshold.',
  seq: { items: GATE_SCHEMA },
  snippet: "gates:\n  - metric: ${1:accuracy}\n    op: '${2|>=,>,<=,<,==,!=|}'\n    value: ${3:0.9}",
};
