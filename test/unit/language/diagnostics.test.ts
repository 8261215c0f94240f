/**
 * Broken variants of the real-world fixtures: each asserts the diagnostic codes, the exact text each
 * range covers, and (for most) the message and severity.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { describeDiagnostic, diagnosticsOf, loadFixture, open } from './languageHarness';

interface Case {
  name: string;
  fixture: string;
  file: string;
  /** [search, replacement] applied to the fixture file (each must match). */
  edits: [string, string][];
  expect: string[];
  messages?: string[];
  severities?: string[];
}

const cases: Case[] = [
  {
    name: 'YAML syntax error keeps the other diagnostics',
    fixture: 'get-started',
    file: 'dvc.yaml',
    edits: [
      ['    - prepare.seed', '    - prepare.sed'],
      ['  evaluate:\n    cmd: python src/evaluate.py model.pkl data/features', '  evaluate:\n    cmd: "python src/evaluate.py'],
    ],
    expect: ["missing-param 'prepare.sed'", 'yaml-syntax'],
  },
  {
    name: 'unknown key with did-you-mean',
    fixture: 'get-started',
    file: 'dvc.yaml',
    edits: [['    deps:\n    - data/prepared\n    - src/featurization.py', '    dep:\n    - data/prepared\n    - src/featurization.py']],
    expect: ["unknown-key 'dep'"],
    messages: ["Unknown key 'dep'. Did you mean 'deps'?"],
    severities: ['error'],
  },
  {
    name: 'unknown top-level key',
    fixture: 'get-started',
    file: 'dvc.yaml',
    edits: [['metrics:\n- eval/metrics.json', 'metric:\n- eval/metrics.json']],
    expect: ["unknown-key 'metric'"],
    messages: ["Unknown key 'metric'. Did you mean 'metrics'?"],
  },
  {
    name: 'unknown output flag',
    fixture: 'templating',
    file: 'dvc.yaml',
    edits: [['          cache: true\n', '          cach: true\n']],
    expect: ["unknown-key 'cach'"],
    messages: ["Unknown key 'cach'. Did you mean 'cache'?"],
  },
  {
    name: 'wrong types',
    fixture: 'get-started',
    file: 'dvc.yaml',
    edits: [['    cmd: python src/prepare.py data/data.xml\n', '    cmd: python src/prepare.py data/data.xml\n    frozen: maybe\n    always_changed: 3\n    deps_x: 1\n']],
    expect: ["wrong-type 'maybe'", "wrong-type '3'", "unknown-key 'deps_x'"],
    messages: ['Expected a boolean, not a string.', 'Expected a boolean, not a number.', "Unknown key 'deps_x'. Did you mean 'deps'?"],
  },
  {
    name: 'a list where a string is expected, and an empty value',
    fixture: 'get-started',
    file: 'dvc.yaml',
    edits: [
      ['    cmd: python src/train.py data/features model.pkl', '    cmd: python src/train.py data/features model.pkl\n    desc: [a, b]'],
      ['    outs:\n    - eval\n', '    outs:\n'],
    ],
    expect: ["wrong-type '[a, b]'", "wrong-type 'outs'"],
    messages: ['Expected a string, not a list.', 'Expected a list.'],
  },
  {
    name: 'enum values (built-in steps)',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [
      ['      task: classification', '      task: clasification'],
      ['        age: ks', '        age: kolmogorov'],
    ],
    expect: ["invalid-value 'clasification'", "invalid-value 'kolmogorov'"],
    messages: ["'clasification' is not an allowed value. Did you mean 'classification'?", "'kolmogorov' is not an allowed value. Expected one of: ks, wasserstein, chisquare, z, jensenshannon, psi, kl_div, hellinger, tvd, energy, mannwhitney."],
  },
  {
    name: 'gate operator must be one of the comparisons',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [["    op: '>='", "    op: '=>'"]],
    expect: ["invalid-value ''=>''"],
    messages: ["'=>' is not an allowed value. Did you mean '>='?"],
  },
  {
    name: 'an unquoted >= is a YAML block scalar: said so, with the quoting',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [["    op: '>='", '    op: >=']],
    expect: ["invalid-value '>='", 'yaml-syntax'],
    messages: ["Unquoted, '>' starts a YAML block of text here, not a value: quote it ('>' or '>=')."],
  },
  {
    name: 'a gate value may be an expression over the previous run; a broken one is an error',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [
      ['    value: 0.85', "    value: 'previous.accuracy * 0.98'"],
      ['    value: 0.3', "    value: 'previous.drift_share +'"],
      ['    value: 0.7', "    value: 'latest.f1'"],
    ],
    expect: ["invalid-gate-value ''previous.drift_share +''", "invalid-gate-value ''latest.f1''"],
    messages: [
      'Invalid gate value: expected a number or a reference such as previous.loss, found the end (at character 23).',
      "Invalid gate value: 'latest' cannot be a reference; a reference is previous.<metric> or <alias>.<metric> (a registry alias such as champion) (at character 1).",
    ],
  },
  {
    name: 'a regression metric with a classification task',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [['      metrics: [accuracy, f1, roc_auc]', '      metrics: [accuracy, rmse]']],
    expect: ["invalid-value 'rmse'"],
    messages: ["'rmse' is not a classification metric; with task 'classification' use accuracy, precision, recall, f1, roc_auc, average_precision, log_loss, f1_macro, f1_weighted, precision_macro, precision_weighted, recall_macro, recall_weighted."],
  },
  {
    name: 'numbers out of their range: an evaluate threshold past 1, a batch size of 0',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [['      batch_size: 256', '      batch_size: 0\n      threshold: 1.5']],
    expect: ["out-of-range '0'", "out-of-range '1.5'"],
    messages: ['Expected a number from 1 to 1000000, not 0.', 'Expected a number from 0 to 1, not 1.5.'],
  },
  {
    name: "registry names the registry would refuse: a '/' in the model's name, a reserved or spaced alias",
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [['      name: churn-classifier\n      alias: staging', '      name: team/churn\n      alias: v2']],
    expect: ["invalid-value 'team/churn'", "invalid-value 'v2'"],
    messages: ["Invalid registered model name 'team/churn': it may not contain '/' or control characters.", "Version alias name 'v2' is reserved."],
  },
  {
    name: 'an alias with a space, and latest',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [['      alias: staging', "      alias: 'my champion'"]],
    expect: ["invalid-value ''my champion''"],
    messages: ["Invalid alias name: 'my champion'. Names may only contain alphanumerics, underscores (_), and dashes (-)."],
  },
  {
    name: 'an alias built by interpolation is checked when the run resolves it, not as written',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [['      alias: staging', '      alias: ${prepare.split}-champion']],
    expect: [],
  },
  {
    name: 'the reserved alias latest',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [['      alias: staging', '      alias: Latest']],
    expect: ["invalid-value 'Latest'"],
    messages: ["'latest' alias name (case insensitive) is reserved."],
  },
  {
    name: 'required fields',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [
      ['      target: churned\n', ''],
      ['    value: 0.85\n', ''],
    ],
    expect: ["missing-key 'evaluate'", "missing-key 'metric'"],
    messages: ["Missing required key 'target'.", "Missing required key 'value'."],
  },
  {
    name: 'a stage without cmd',
    fixture: 'get-started',
    file: 'dvc.yaml',
    edits: [['    cmd: python src/train.py data/features model.pkl\n', '']],
    expect: ["missing-key 'train'"],
    messages: ["Missing required key 'cmd'."],
  },
  {
    name: 'a Runwise stage with neither cmd nor a built-in step, and one with two',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [
      ['    cmd: python src/prepare.py --split ${prepare.split}\n', ''],
      ['    register:\n      model:', '    cmd: echo\n    register:\n      model:'],
    ],
    expect: ["missing-key 'prepare'", "conflicting-keys 'register'"],
    messages: ["Missing one of 'cmd', 'evaluate', 'register', 'drift'.", "'register' cannot be used together with 'cmd': a stage has exactly one of 'cmd', 'evaluate', 'register', 'drift'."],
  },
  {
    name: 'built-in steps are not allowed in dvc.yaml',
    fixture: 'get-started',
    file: 'dvc.yaml',
    edits: [['    cmd: python src/evaluate.py model.pkl data/features\n', '    evaluate:\n      model: model.onnx\n']],
    expect: ["missing-key 'evaluate'", "unknown-key 'evaluate'"],
  },
  {
    name: 'foreach needs do',
    fixture: 'templating',
    file: 'dvc.yaml',
    edits: [['    foreach: ${models}\n    do:\n', '    foreach: ${models}\n    dont:\n']],
    // Without `do` the stage writes nothing, so `models` (read by report) is produced by no stage.
    expect: ["missing-key 'train'", "unknown-key 'dont'", "missing-path 'models'"],
    messages: ["Missing required key 'do'.", "Unknown key 'dont'. Did you mean 'do'?", "'models' does not exist and no stage produces it."],
  },
  {
    name: '${...} that resolves to nothing',
    fixture: 'templating',
    file: 'dvc.yaml',
    edits: [
      ['${thresholds.us}', '${thresholds.eu}'],
      ['--thresh ${item.thresh}', '--thresh ${item.threshold}'],
      ['${item.feature} ${item.model}', '${item.features} ${item.model}'],
      ['python src/report.py ${train}', 'python src/report.py ${train} ${item}'],
    ],
    expect: ["unresolved-variable '${thresholds.eu}'", "unresolved-variable '${item.threshold}'", "unresolved-variable '${item.features}'", "unresolved-variable '${item}'"],
    messages: [
      "'thresholds.eu' is not defined in vars or params.",
      "'item.threshold' is not defined in vars or params (in train@us).",
      "'features' is not a matrix dimension (model, feature) (in sweep@cnn-feature1).",
      "'item' is only defined inside foreach/do or matrix.",
    ],
  },
  {
    name: 'vars keys filter and escapes',
    fixture: 'templating',
    file: 'dvc.yaml',
    edits: [
      ['config/paths.yaml:data_dir,out_dir', 'config/paths.yaml:data_dir'],
      ['"\\${HOME} stays literal"', '"${HOME"'],
    ],
    expect: ["unresolved-variable '${out_dir}'", "interpolation-syntax '${HOME\"'"],
  },
  {
    name: 'params keys missing from their file',
    fixture: 'templating',
    file: 'dvc.yaml',
    edits: [
      ['        - train.lr\n', '        - train.momentum\n'],
      ['          - seed\n', '          - seeds\n'],
      ['config/paths.yaml:data_dir,out_dir', 'config/paths.yaml:data_dir,out_dir,tmp_dir'],
    ],
    expect: ["missing-param 'config/paths.yaml:data_dir,out_dir,tmp_dir'", "missing-param 'train.momentum'", "missing-param 'seeds'"],
    messages: ["'tmp_dir' is not defined in 'config/paths.yaml'.", "'train.momentum' is not defined in 'params.yaml'.", "'seeds' is not defined in 'custom_params.yaml'."],
  },
  {
    name: 'missing params and vars files',
    fixture: 'templating',
    file: 'dvc.yaml',
    edits: [
      ['  - custom_params.yaml\n', '  - custom_params.yml\n'],
      ['      - custom_params.yaml:\n', '      - other_params.yaml:\n'],
    ],
    expect: ["missing-vars-file 'custom_params.yml'", "unresolved-variable '${seed}'", "missing-params-file 'other_params.yaml'"],
  },
  {
    name: 'paths that do not exist (warning) and paths that leave the workspace (error)',
    fixture: 'get-started',
    file: 'dvc.yaml',
    edits: [
      ['    - src/train.py\n', '    - src/trian.py\n'],
      ['    - src/evaluate.py\n', '    - ../secrets/key.txt\n    - /etc/passwd\n'],
      ['    outs:\n    - eval\n', '    outs:\n    - eval\n    - ../../outside\n'],
      ['      eval/plots/sklearn/cm/test.json: predicted', '      ../cm/test.json: predicted'],
    ],
    expect: [
      "missing-path 'src/trian.py'",
      "path-outside-workspace '../secrets/key.txt'",
      "path-outside-workspace '/etc/passwd'",
      "path-outside-workspace '../../outside'",
      "path-outside-workspace '../cm/test.json'",
    ],
    messages: [
      "'src/trian.py' does not exist and no stage produces it.",
      "'../secrets/key.txt' leaves the workspace.",
      "'/etc/passwd' is absolute; paths in a pipeline are relative to its directory.",
      "'../../outside' leaves the workspace.",
      "'../cm/test.json' leaves the workspace.",
    ],
    severities: ['warning', 'error', 'error', 'error', 'error'],
  },
  {
    name: 'paths are relative to wdir',
    fixture: 'templating',
    file: 'dvc.yaml',
    edits: [['    wdir: .\n    deps:\n      - models\n', '    wdir: src\n    deps:\n      - train.py\n      - models\n']],
    // deps and params files (including the implicit params.yaml) now resolve under src/.
    expect: ["missing-path 'models'", "missing-params-file 'custom_params.yaml'", "missing-params-file 'params.yaml'"],
    messages: [
      "'src/models' does not exist and no stage produces it.",
      "Params file 'src/custom_params.yaml' does not exist.",
      "Params file 'src/params.yaml' does not exist.",
    ],
  },
  {
    name: 'model and data paths of built-in steps',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [
      ['      current: data/current.parquet', '      current: data/current.xlsx'],
      ['      data: data/test.csv', '      data: ../test.csv'],
    ],
    expect: ["path-outside-workspace '../test.csv'", "unexpected-file-type 'data/current.xlsx'", "missing-path 'data/current.xlsx'"],
  },
  {
    name: 'two stages writing the same output',
    fixture: 'get-started',
    file: 'dvc.yaml',
    edits: [['    outs:\n    - data/prepared\n', '    outs:\n    - data/prepared\n    - data/features\n']],
    expect: ["duplicate-output 'data/features'"],
    messages: ["'data/features' is also an output of stage 'prepare'."],
  },
  {
    name: 'an output inside another output, and a foreach output that ignores ${item}',
    fixture: 'templating',
    file: 'dvc.yaml',
    edits: [
      ['        - ${out_dir}/${item}.cln', '        - ${out_dir}/all.cln'],
      ['      - report/confusion.png', '      - build/model-us.hdf5/x.png'],
    ],
    expect: ["duplicate-output '${out_dir}/all.cln'", "duplicate-output 'build/model-us.hdf5/x.png'"],
    messages: ["Every stage generated from 'cleanups' writes 'clean/all.cln'; make the path depend on ${item}.", "'build/model-us.hdf5/x.png' is inside 'build/model-us.hdf5', an output of stage 'build-us'."],
  },
  {
    name: 'dependency cycle between stages',
    fixture: 'get-started',
    file: 'dvc.yaml',
    edits: [['    - data/prepared\n    - src/featurization.py', '    - data/prepared\n    - model.pkl\n    - src/featurization.py']],
    expect: ["stage-cycle 'model.pkl'", "stage-cycle 'data/features'"],
    messages: [
      "Dependency cycle: 'model.pkl' is written by 'train', which depends on this stage (featurize → train → featurize).",
      "Dependency cycle: 'data/features' is written by 'featurize', which depends on this stage (featurize → train → featurize).",
    ],
  },
  {
    name: 'a top-level plots mapping (DVC 3 requires a list)',
    fixture: 'dvc-empty',
    file: 'empty/dvc.yaml',
    edits: [['', 'plots:\n  ROC:\n    x: fpr\n']],
    expect: ["wrong-type 'ROC:\n    x: fpr'"],
    messages: ['Expected a list, not a mapping.'],
    severities: ['error'],
  },
  {
    name: 'a top-level params entry that is a directory',
    fixture: 'get-started',
    file: 'dvc.yaml',
    edits: [['stages:\n', 'params:\n- src\n- params.yaml\nstages:\n']],
    expect: ["params-file-is-directory 'src'"],
    messages: ["'src' is a directory; DVC expects a params file (YAML, JSON, TOML or Python)."],
    severities: ['error'],
  },
  {
    name: 'DVC-style interpolation that does not resolve: a list index out of range, a glob matching nothing, key fields',
    fixture: 'dvc-templating-edge',
    file: 'dvc.yaml',
    edits: [
      ['${item.labels.0}', '${item.labels.1}'],
      ['        - dataset_kwargs.india*\n', '        - dataset_kwargs.chile*\n'],
      ['--run ${key}', '--run ${key.region}'],
      ['${nested.item[index]}', '${nested.item[shard]}'],
    ],
    expect: ["unresolved-variable '${item.labels.1}'", "unresolved-variable '${nested.item[shard]}'", "missing-param 'dataset_kwargs.chile*'", "unresolved-variable '${key.region}'"],
    messages: [
      "'item.labels.1' is not defined in vars or params (in prepare@1).",
      "'nested.item.shard' is not defined in vars or params (in prepare@0).",
      "'dataset_kwargs.chile*' matches no key in 'params.yaml'.",
      "'key.region' is not defined in vars or params (in train@north-small).",
    ],
  },
  {
    name: 'duplicate keys',
    fixture: 'get-started',
    file: 'dvc.yaml',
    edits: [['    cmd: python src/train.py data/features model.pkl\n', '    cmd: python src/train.py data/features model.pkl\n    cmd: python other.py\n']],
    expect: ["duplicate-key 'cmd'"],
  },
  {
    name: 'duplicate list entries',
    fixture: 'get-started',
    file: 'dvc.yaml',
    edits: [['    - train.n_est\n', '    - train.n_est\n    - train.n_est\n']],
    expect: ["duplicate-entry 'train.n_est'"],
    severities: ['warning'],
  },
  {
    name: 'invalid stage names and unknown datasets',
    fixture: 'get-started',
    file: 'dvc.yaml',
    edits: [
      ['  prepare:\n', '  prep@are:\n'],
      ['    - src/train.py\n', '    - src/train.py\n    - ds://dogs\n'],
    ],
    expect: ["invalid-stage-name 'prep@are'", "unknown-dataset 'ds://dogs'"],
  },
  {
    name: 'gates naming unknown stages and metrics',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [
      ['metric: evaluate:accuracy', 'metric: evaluat:accuracy'],
      ['    stage: drift', '    stage: drfit'],
      ['  - metric: metrics/eval.json:f1', '  - metric: evaluate:rmse'],
    ],
    expect: ["unknown-stage 'evaluat'", "unknown-stage 'drfit'", "unknown-metric 'evaluate:rmse'"],
  },
  {
    name: 'gate values: an alias no register step sets, a metric the stage does not give',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [
      ['    value: 0.85\n', '    value: stagng.accuracy\n'],
      ['    value: 0.3\n', '    value: previous.drift_shar * 1.1\n'],
    ],
    expect: ["unknown-alias 'stagng.accuracy'", "unknown-metric 'previous.drift_shar * 1.1'"],
    messages: [
      "No `register` step here sets the alias 'stagng' of 'churn-classifier' (did you mean 'staging'? They set 'staging'): while no version holds it, the gate passes.",
      "'previous.drift_shar': stage 'drift' does not produce a metric 'drift_shar' (did you mean 'previous.drift_share'? It produces drift_share, drifted_columns).",
    ],
    severities: ['warning', 'warning'],
  },
  {
    name: 'gate values: a register name written with ${...} is resolved as the run resolves it: two models, no `model:`',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [
      ['gates:\n', '  register-b:\n    register:\n      model: models/model.onnx\n      name: ${train.lr}\n      alias: ${train.epochs}\n\ngates:\n'],
      ['    value: 0.7', '    value: stagng.f1'],
      ['    value: 0.85\n', '    value: stagng.accuracy\n'],
    ],
    expect: ["alias-without-model 'stagng.accuracy'", "alias-without-model 'stagng.f1'"],
  },
  {
    name: 'gate values: a foreach register step registers a model per stage; a gate without `model:` cannot tell which',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [
      ['gates:\n', '  register-each:\n    foreach: [eu, us]\n    do:\n      register:\n        model: models/model.onnx\n        name: churn-${item}\n        alias: champion\n\ngates:\n'],
      ['    value: 0.7', '    value: champion.f1'],
    ],
    expect: ["alias-without-model 'champion.f1'"],
    messages: ["'champion.f1' reads a registered model's alias, but this file registers 'churn-classifier', 'churn-eu', 'churn-us': add `model: NAME` to the gate."],
  },
  {
    name: "gate values: a gate's `model:` close to a name the file registers is a typo; another name (registered by hand) is not flagged",
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [
      ['    value: 0.7', '    value: staging.f1\n    model: churn-clasifier'],
      ['    value: 0.85\n', '    value: staging.accuracy\n    model: fraud-detector\n'],
    ],
    expect: ["unknown-model 'churn-clasifier'"],
    messages: ["No `register` step in this file registers 'churn-clasifier' (did you mean 'churn-classifier'?): while it is not registered, the gate passes."],
    severities: ['warning'],
  },
  {
    name: "gate values: the one register step's literal alias is checked though its name is written with ${...}",
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [
      ['      name: churn-classifier\n', '      name: ${train.lr}\n'],
      ['    value: 0.85\n', '    value: stagng.accuracy\n'],
    ],
    expect: ["unknown-alias 'stagng.accuracy'"],
  },
  {
    name: 'an evaluate setting written as one ${...} is checked as the value it names: a number out of range, a number where a list goes',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [['      batch_size: 256\n', '      batch_size: ${train.epochs}\n      threshold: ${train.epochs}\n      features: ${train.lr}\n']],
    expect: ["invalid-value '${train.epochs}'", "invalid-value '${train.lr}'"],
    messages: ["'${train.epochs}' is 20: threshold takes a number from 0 to 1.", "'${train.lr}' is 0.05: features takes a list of column names."],
  },
  {
    name: "gate operator '=' suggests '=='",
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [["    op: '>='", "    op: '='"]],
    expect: ["invalid-value ''=''"],
    messages: ["'=' is not an allowed value. Did you mean '=='?"],
  },
  {
    name: 'gate values: an alias with no one registered model to read it from',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [
      ['gates:\n', '  register-b:\n    register:\n      model: models/model.onnx\n      name: churn-b\n\ngates:\n'],
      ['    value: 0.7', '    value: staging.f1'],
    ],
    expect: ["alias-without-model 'staging.f1'"],
    messages: ["'staging.f1' reads a registered model's alias, but this file registers 'churn-classifier', 'churn-b': add `model: NAME` to the gate."],
    severities: ['error'],
  },
  {
    name: 'a binary evaluate step: its metrics, its one slice column, its data and card types',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [
      ['      task: classification\n      metrics: [accuracy, f1, roc_auc]\n', '      task: binary\n      slice_by: [region, plan]\n'],
      ['metric: evaluate:accuracy', 'metric: evaluate:f1_macro'],
      ['      data: data/test.csv', '      data: data/test.tsv'],
      ['      alias: staging\n', '      alias: staging\n      card: notes.yaml\n'],
    ],
    expect: ["unexpected-file-type 'data/test.tsv'", "missing-path 'data/test.tsv'", "invalid-value '[region, plan]'", "unexpected-file-type 'notes.yaml'", "missing-path 'notes.yaml'", "unknown-metric 'evaluate:f1_macro'"],
    severities: ['error', 'warning', 'error', 'error', 'warning', 'warning'],
  },
  {
    name: 'a binary evaluate step listing a multiclass metric; slice_by one column as a string',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [['      task: classification\n      metrics: [accuracy, f1, roc_auc]\n', '      task: binary\n      metrics: [accuracy, f1_macro]\n      slice_by: region\n      data_note: x\n']],
    expect: ["invalid-value 'f1_macro'", "unknown-key 'data_note'"],
  },
  {
    name: 'a threshold on a regression evaluate step is not used: said so',
    fixture: 'runwise',
    file: 'runwise.yaml',
    edits: [['      task: classification\n      metrics: [accuracy, f1, roc_auc]\n', '      task: regression\n      threshold: 0.3\n']],
    expect: ["unused-setting '0.3'", "unknown-metric 'evaluate:accuracy'"],
    messages: [
      "threshold is not used with task 'regression': it decides P(class 1) > threshold for a binary classifier.",
      "Stage 'evaluate' does not produce a metric 'accuracy' (it produces mae, mse, rmse, r2, mape).",
    ],
    severities: ['warning', 'warning'],
  },
  {
    name: 'deprecated output flag',
    fixture: 'dvclive',
    file: 'dvc.yaml',
    edits: [['      - model.pt\n', '      - model.pt:\n          checkpoint: true\n']],
    expect: ["deprecated-key 'checkpoint'"],
  },
  {
    name: 'model card: unknown license with did-you-mean, other without license_name',
    fixture: 'hf-cards',
    file: 'distilbert-imdb/README.md',
    edits: [['license: apache-2.0', 'license: apache2']],
    expect: ["unknown-license 'apache2'"],
    messages: ["Unknown license id 'apache2'. Did you mean 'apache-2.0'?"],
    severities: ['warning'],
  },
  {
    name: 'model card: a model-index item without results says how Runwise writes them',
    fixture: 'hf-cards',
    file: 'distilbert-imdb/README.md',
    edits: [['- name: distilbert-base-uncased-finetuned-imdb\n  results:\n', '- name: distilbert-base-uncased-finetuned-imdb\n  old_results:\n']],
    expect: ["missing-key 'name'", "unknown-key 'old_results'"],
    messages: [
      "Missing required key 'results'. Runwise writes them from an evaluation: the Update from Latest Evaluation lens, or `runwise card update`.",
      "Unknown key 'old_results'. Expected one of: name, results.",
    ],
  },
  {
    name: 'model card: license other needs license_name',
    fixture: 'hf-cards',
    file: 'llama-finetune/README.md',
    edits: [['license_name: llama3\n', '']],
    expect: ["missing-key 'other'"],
  },
  {
    name: 'model card: model-index structure, near-miss top-level keys, enum values',
    fixture: 'hf-cards',
    file: 'whisper/README.md',
    edits: [
      ['      value: 3.0003583080317572', '      valeu: 3.0003583080317572'],
      ['library_name: transformers', 'libary_name: transformers\nmodel_creator: OpenAI'],
      ['pipeline_tag: automatic-speech-recognition', 'pipeline_tag: automatic-speech-recogniton'],
    ],
    expect: ["missing-key 'name'", "unknown-key 'valeu'", "unknown-value 'automatic-speech-recogniton'", "unknown-key 'libary_name'"],
    severities: ['error', 'warning', 'warning', 'warning'],
  },
  {
    name: 'model card file: Model Card Toolkit sections and paths',
    fixture: 'modelcard',
    file: 'churn.modelcard.yaml',
    edits: [
      ['  path: models/model.onnx', '  path: models/missing.onnx'],
      ['      path: data/train.csv', '      path: ../../data.csv'],
      ['  overview:', '  overveiw:'],
    ],
    expect: ["unknown-key 'overveiw'", "missing-path 'models/missing.onnx'", "path-outside-workspace '../../data.csv'"],
  },
];

describe('diagnostics on broken variants', () => {
  for (const c of cases) {
    test(c.name, () => {
      const files = loadFixture(c.fixture);
      let text = files.get(c.file)!;
      for (const [from, to] of c.edits) {
        assert.ok(text.includes(from), `fixture ${c.fixture}/${c.file} contains ${JSON.stringify(from)}`);
        text = text.replace(from, to);
      }
      const s = open(files, c.file, text);
      const diags = diagnosticsOf(s);
      const got = diags.map((d) => (d.code === 'yaml-syntax' ? 'yaml-syntax' : describeDiagnostic(text, d)));
      assert.deepEqual(dedupeSyntax(got), c.expect);
      if (c.messages) assert.deepEqual(diags.filter((d) => d.code !== 'yaml-syntax').map((d) => d.message), c.messages);
      if (c.severities) assert.deepEqual(diags.map((d) => d.severity), c.severities);
      for (const d of diags) assert.ok(0 <= d.start && d.start <= d.end && d.end <= text.length, `span of ${d.code} inside the file`);
    });
  }
});

function dedupeSyntax(list: string[]): string[] {
  return list.filter((x, i) => x !== 'yaml-syntax' || list.indexOf(x) === i);
}
