/**
 * The schema of pipeline files: `dvc.yaml` as DVC defines it (cross-checked with DVC's published
 * JSON schema, iterative/dvcyaml-schema, plus the top-level `datasets` DVC accepts), and Runwise
 * pipelines (`runwise.yaml`, `*.pipeline.yaml`), which add the built-in steps and `gates`.
 */
import { GATES_SCHEMA, STEP_SCHEMAS } from './builtinSteps';
import {
  anyValue,
  bool,
  enumOf,
  freeMap,
  listOf,
  str,
  type MapSchema,
  type PropertySchema,
  type SchemaNode,
} from './schemaModel';

const stringItem: SchemaNode = { scalar: { types: ['string'] } };

const VARS: PropertySchema = {
  description:
    'Values for `${...}` substitution: paths to params files (`params.yaml`, `config.yaml:train,prepare` for some keys) or inline mappings. `params.yaml` next to the pipeline is always loaded.',
  seq: {
    items: {
      scalar: { types: ['string'], hint: 'vars-file' },
      map: { properties: {}, additional: { any: true }, additionalKeyDoc: 'A variable for `${...}` substitution.' },
    },
  },
  snippet: 'vars:\n  - ${1:params.yaml}',
};

const OUT_FLAGS: Record<string, PropertySchema> = {
  cache: bool('Whether DVC caches the output (default `true`). Metrics and plots are usually `cache: false` to keep them in Git.', true),
  persist: bool('Keep the output between runs instead of deleting it before the command runs (default `false`).', false),
  remote: str('Name of the remote to push to / fetch from for this output.'),
  push: bool('Whether `dvc push` uploads this output (default `true`).', true),
  desc: str('A description of the output.'),
  type: str('A user-assigned type for the output (e.g. `model`).'),
  labels: listOf(stringItem, 'User-assigned labels.', true),
  meta: anyValue('Custom metadata for the output.'),
  checkpoint: {
    ...bool('Marks an in-code checkpoint output.'),
    deprecated: '`checkpoint` outputs were removed in DVC 3; use DVCLive to track checkpoints.',
  },
};

const PLOT_FLAGS: Record<string, PropertySchema> = {
  ...OUT_FLAGS,
  template: str('Plot template: `linear`, `simple`, `scatter`, `smooth`, `confusion`, `confusion_normalized`, `bar_horizontal`, `bar_horizontal_sorted`, or a path to a custom template.', {
    suggestions: ['linear', 'simple', 'scatter', 'smooth', 'confusion', 'confusion_normalized', 'bar_horizontal', 'bar_horizontal_sorted'],
  }),
  x: str('Field name used as x-axis data (default: the row index, `step`).'),
  y: str('Field name used as y-axis data (default: the last field).'),
  x_label: str('Label for the x-axis.'),
  y_label: str('Label for the y-axis.'),
  title: str('Plot title.'),
  header: bool('Whether the CSV/TSV file has a header row (default `true`).'),
};

/**
 * A path, or `path: {flags}`. With `flagLists`, the flags may also be a list of flag mappings (DVC's
 * PLOT_PSTAGE_SCHEMA, `{str: Any(PLOT_PROPS_SCHEMA, [PLOT_PROPS_SCHEMA])}`: several plots of one file).
 */
function pathWithFlags(hint: 'input-path' | 'output-path', flags: Record<string, PropertySchema>, doc: string, flagLists = false): SchemaNode {
  const flagMap: MapSchema = { properties: flags };
  return {
    description: doc,
    scalar: { types: ['string'], hint },
    map: {
      properties: {},
      additional: { map: flagMap, scalar: { types: ['null'] }, ...(flagLists ? { seq: { items: { map: flagMap } } } : {}) },
      additionalKeyHint: hint,
      additionalKeyDoc: doc,
    },
  };
}

const OUT = pathWithFlags('output-path', OUT_FLAGS, 'An output file or directory of the stage (relative to `wdir`), optionally with flags.');
const PLOT = pathWithFlags(
  'output-path',
  PLOT_FLAGS,
  'A plots file (JSON/YAML/CSV/TSV data, or a JPEG/GIF/PNG/SVG image) or directory, optionally with flags (a list of flag mappings draws several plots of the file).',
  true,
);

const PARAM_ENTRY: SchemaNode = {
  description: 'A parameter the stage depends on: a dot-separated key in `params.yaml`, or `{file: [keys]}` for another params file (an empty value tracks every key).',
  scalar: { types: ['string'], hint: 'param-key' },
  map: {
    properties: {},
    additional: { seq: { items: { scalar: { types: ['string'], hint: 'param-key' } }, unique: true }, scalar: { types: ['null'] } },
    additionalKeyHint: 'params-file',
    additionalKeyDoc: 'A params file (YAML/JSON/TOML/Python), relative to `wdir`, with the keys tracked from it (all keys when empty).',
  },
};

const STAGE_PROPS: Record<string, PropertySchema> = {
  cmd: {
    description: 'The command to run (anything your shell can run); a list runs its commands one after another. `${...}` is substituted.',
    scalar: { types: ['string'], hint: 'command' },
    seq: { items: { scalar: { types: ['string'], hint: 'command' } } },
    snippet: 'cmd: ${1:python src/train.py}',
  },
  wdir: { ...str('Working directory for `cmd`, relative to the pipeline file. Paths in `deps`, `outs`, `params`, `metrics` and `plots` are relative to it.'), snippet: 'wdir: ${1:.}' },
  deps: {
    description: 'Files and directories the stage reads (relative to `wdir`). When one changes, the stage is out of date. `ds://name` refers to a dataset in `datasets`.',
    seq: { items: { scalar: { types: ['string'], hint: 'input-path' } }, unique: true },
    snippet: 'deps:\n  - ${1:src/train.py}',
  },
  params: {
    description: 'Parameters the stage depends on: dot-separated keys in `params.yaml` (in `wdir`), or `{file: [keys]}` for other params files.',
    seq: { items: PARAM_ENTRY, unique: true },
    snippet: 'params:\n  - ${1:train}',
  },
  outs: {
    description: 'Files and directories the stage writes (relative to `wdir`), cached by default; other stages may depend on them.',
    seq: { items: OUT, unique: true },
    snippet: 'outs:\n  - ${1:model.pkl}',
  },
  metrics: {
    description: 'Metrics files the stage writes (JSON/TOML/YAML), shown by `runwise metrics` and the Runs view.',
    seq: { items: OUT, unique: true },
    snippet: 'metrics:\n  - ${1:metrics.json}:\n      cache: false',
  },
  plots: {
    description: 'Plots files the stage writes (JSON/YAML/CSV/TSV data or images), with optional `x`, `y`, `template`...',
    seq: { items: PLOT, unique: true },
    snippet: 'plots:\n  - ${1:plots.csv}:\n      x: ${2:step}\n      y: ${3:loss}',
  },
  vars: { ...VARS, description: 'Stage-local values for `${...}` substitution: params files (relative to `wdir`) or inline mappings.' },
  frozen: bool('A frozen stage never runs; its outputs are taken as they are (default `false`).', false),
  always_changed: bool('Always consider the stage out of date, e.g. for a stage that fetches live data (default `false`).', false),
  desc: str('A description of the stage.'),
  meta: anyValue('Additional information or metadata; not used by the runner.'),
};

const FOREACH: PropertySchema = {
  description: 'Generates one stage per item: a list, a mapping, or a `${...}` reference to one. In `do`, `${item}` is the item and `${key}` its key (for a mapping). The generated stages are named `name@key` (`train@0`, `train@us`).',
  scalar: { types: ['string'] },
  seq: { items: { any: true } },
  map: { properties: {}, additional: { any: true } },
  interpolated: true,
};

const MATRIX: PropertySchema = {
  description: 'Generates one stage per combination of the listed values; `${item.<name>}` is the value of each. The generated stages are named `name@v1-v2`.',
  map: {
    properties: {},
    additional: { seq: { items: { any: true } }, scalar: { types: ['string'] }, interpolated: true },
    additionalKeyDoc: 'A matrix dimension: a list of values or a `${...}` reference to one; `${item.<name>}` in the stage.',
  },
  snippet: 'matrix:\n  ${1:model}: [${2:a, b}]',
};

function stageMap(withSteps: boolean): { plain: MapSchema; matrix: MapSchema; foreachDo: MapSchema; any: MapSchema } {
  const steps = withSteps ? STEP_SCHEMAS : {};
  const commandKeys = ['cmd', ...Object.keys(steps)];
  const exclusive = [{ keys: commandKeys, required: true }];
  const plain: MapSchema = { properties: { ...STAGE_PROPS, ...steps }, exclusive };
  const matrix: MapSchema = { properties: { ...STAGE_PROPS, ...steps, matrix: MATRIX }, exclusive, required: ['matrix'] };
  const doBody: PropertySchema = {
    description: 'The stage definition generated for each item of `foreach`; `${item}` and `${key}` are substituted.',
    map: plain,
    snippet: 'do:\n  cmd: ${1:python src/train.py \\${item\\}}',
  };
  const foreachDo: MapSchema = {
    properties: { foreach: { ...FOREACH, snippet: 'foreach: ${1:[a, b]}' }, do: doBody },
    required: ['foreach', 'do'],
  };
  // For completion in a stage with no keys yet: every key a stage may have.
  const any: MapSchema = {
    properties: { ...STAGE_PROPS, ...steps, matrix: MATRIX, foreach: FOREACH, do: doBody },
    exclusive,
    variant: (keys) => (keys.has('foreach') || keys.has('do') ? foreachDo : keys.has('matrix') ? matrix : keys.size ? plain : any),
  };
  return { plain, matrix, foreachDo, any };
}

const TOP_PLOT_FLAGS: MapSchema = {
  properties: {
    x: {
      description: 'The x-axis field: a column name, or `{file: column}` per data source.',
      scalar: { types: ['string'] },
      map: { properties: {}, additional: { scalar: { types: ['string'] } }, additionalKeyHint: 'input-path' },
    },
    y: {
      description: 'The y-axis field(s): a column name, a list, or `{file: column or [columns]}` per data source.',
      scalar: { types: ['string'] },
      seq: { items: stringItem },
      map: {
        properties: {},
        additional: { scalar: { types: ['string'] }, seq: { items: stringItem } },
        additionalKeyHint: 'input-path',
      },
    },
    x_label: str('Label for the x-axis.'),
    y_label: str('Label for the y-axis.'),
    title: str('Plot title.'),
    template: PLOT_FLAGS.template!,
  },
};

// DVC 3 reads top-level plots as a list only (a mapping was DVC 2's form).
const TOP_PLOTS: PropertySchema = {
  description: 'Top-level plot definitions: a list whose items are file paths or `{id: {x, y, template, title...}}` (the id may be a file path).',
  seq: {
    items: {
      scalar: { types: ['string'], hint: 'input-path' },
      map: { properties: {}, additional: { map: TOP_PLOT_FLAGS, scalar: { types: ['null'] } }, additionalKeyDoc: 'A plot id or a data file path.' },
    },
  },
  snippet: 'plots:\n  - ${1:plots/metrics.csv}:\n      x: ${2:step}\n      y: ${3:loss}',
};

const ARTIFACTS: PropertySchema = {
  description: 'Artifacts of the project (for the model registry): `name: {path, type, desc, labels, meta}`.',
  map: {
    properties: {},
    additional: {
      map: {
        required: ['path'],
        properties: {
          path: str('Path to the artifact.', { hint: 'input-path' }),
          type: str('Type of the artifact, e.g. `model`.', { suggestions: ['model', 'dataset'] }),
          desc: str('Description of the artifact.'),
          meta: freeMap('Custom metadata for the artifact.'),
          labels: listOf(stringItem, 'Labels for the artifact.', true),
        },
      },
    },
    additionalKeyDoc: 'An artifact name (lower case letters, digits, `-` and `/`).',
  },
  snippet: 'artifacts:\n  ${1:model}:\n    path: ${2:models/model.pkl}\n    type: ${3:model}',
};

const DATASETS: PropertySchema = {
  description: 'Datasets the stages refer to as `ds://<name>` in `deps`.',
  seq: {
    items: {
      map: {
        required: ['name', 'url', 'type'],
        properties: {
          name: str('The name used in `ds://<name>`.'),
          url: str('Where the dataset lives: a Git repository (`type: dvc`), a DataChain dataset (`dvcx://name`), or a cloud URL.', { hint: 'url' }),
          type: enumOf('`dvc` (a DVC repository), `dvcx` (DataChain) or `url` (cloud storage).', ['dvc', 'dvcx', 'url']),
          path: str('Path inside the repository (`type: dvc`).'),
          rev: str('Git revision (`type: dvc`).'),
          version: { description: 'Dataset version (`type: dvcx`).', scalar: { types: ['integer', 'string'] } },
        },
      },
    },
  },
  snippet: 'datasets:\n  - name: ${1:dogs}\n    url: ${2:dvcx://dogs}\n    type: ${3|dvcx,dvc,url|}',
};

function pipelineSchema(runwise: boolean): SchemaNode {
  const stage = stageMap(runwise).any;
  const properties: Record<string, PropertySchema> = {
    stages: {
      description: 'The stages of the pipeline, by name. Each runs a command (or a built-in step) and declares what it reads and writes.',
      map: { properties: {}, additional: { map: stage }, additionalKeyDoc: 'A stage name.' },
      snippet: 'stages:\n  ${1:train}:\n    cmd: ${2:python src/train.py}',
    },
    vars: VARS,
    params: { ...listOf({ scalar: { types: ['string'], hint: 'params-file' } }, 'Params files for the whole project, beyond `params.yaml`.', true), snippet: 'params:\n  - ${1:params.yaml}' },
    metrics: { ...listOf({ scalar: { types: ['string'], hint: 'input-path' } }, 'Metrics files of the project not written by a stage.', true), snippet: 'metrics:\n  - ${1:metrics.json}' },
    plots: TOP_PLOTS,
    artifacts: ARTIFACTS,
    datasets: DATASETS,
  };
  if (runwise) properties.gates = GATES_SCHEMA;
  // DVC reads an empty (or comment-only) dvc.yaml as an empty pipeline.
  return runwise ? { map: { properties } } : { map: { properties }, scalar: { types: ['null'] } };
}

export const DVC_PIPELINE_SCHEMA: SchemaNode = pipelineSchema(false);
export const RUNWISE_PIPELINE_SCHEMA: SchemaNode = pipelineSchema(true);

/** Snippets for a whole new stage, offered where a stage name goes. */
export function stageSnippets(runwise: boolean): { label: string; detail: string; body: string }[] {
  const snippets = [
    {
      label: 'stage',
      detail: 'a stage with cmd, deps and outs',
      body: '${1:train}:\n  cmd: ${2:python src/${1}.py}\n  deps:\n    - ${3:src/${1}.py}\n  outs:\n    - ${4:model.pkl}',
    },
    {
      label: 'stage (params, metrics, plots)',
      detail: 'a training stage in the style of the DVC docs',
      body: '${1:train}:\n  cmd: ${2:python src/train.py}\n  deps:\n    - ${3:data/prepared}\n  params:\n    - ${4:train}\n  outs:\n    - ${5:model.pkl}\n  metrics:\n    - ${6:metrics.json}:\n        cache: false\n  plots:\n    - ${7:plots.csv}:\n        x: ${8:step}\n        y: ${9:loss}',
    },
    {
      label: 'stage (foreach/do)',
      detail: 'one stage per item',
      body: '${1:train}:\n  foreach: ${2:[us, eu]}\n  do:\n    cmd: ${3:python src/train.py --region \\${item\\}}\n    outs:\n      - ${4:model-\\${item\\}.pkl}',
    },
    {
      label: 'stage (matrix)',
      detail: 'one stage per combination',
      body: '${1:train}:\n  matrix:\n    ${2:model}: [${3:cnn, xgb}]\n  cmd: ${4:python src/train.py --model \\${item.${2}\\}}\n  outs:\n    - ${5:model-\\${item.${2}\\}.pkl}',
    },
  ];
  if (runwise) {
    snippets.push(
      {
        label: 'stage (evaluate)',
        detail: 'built-in: evaluate an ONNX model',
        body: '${1:evaluate}:\n  evaluate:\n    model: ${2:models/model.onnx}\n    data: ${3:data/test.csv}\n    target: ${4:label}\n    task: ${5|classification,regression|}\n    output: ${6:metrics.json}',
      },
      {
        label: 'stage (register)',
        detail: 'built-in: register a model version',
        body: '${1:register}:\n  register:\n    model: ${2:models/model.onnx}\n    name: ${3:my-model}\n    alias: ${4:staging}',
      },
      {
        label: 'stage (drift)',
        detail: 'built-in: a drift report',
        body: '${1:drift}:\n  drift:\n    reference: ${2:data/train.csv}\n    current: ${3:data/current.csv}\n    output: ${4:drift.json}',
      },
    );
  }
  return snippets;
}

