/**
 * `runwise init [--force]`: starts a pipeline in the workspace. Writes a commented two-stage
 * `runwise.yaml` (prepare, train) and, when there is none, the `params.yaml` it reads, and adds
 * `.runwise/` (the tracker and its artifacts) to `.gitignore`, creating that file when absent and
 * never adding the line twice. An existing pipeline is replaced only with `--force`; an existing
 * params.yaml (a DVC project's) is kept, never replaced, and the keys the starter reads that it
 * lacks are named. Beside a DVC project's dvc.yaml, only `.gitignore` is written unless `--force`
 * (the starter's stages would clash with its own). Prints what it wrote and what to run next.
 */
import { lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import * as path from 'node:path';
import { flag, positionals, type OptionSpecs, type ParsedArgs } from '../args';
import { CliError, type CommandContext } from '../context';

export const initOptions: OptionSpecs = { force: {} };

/** The starter pipeline: every line a user is likely to change carries a comment saying what it does. */
export const STARTER_PIPELINE = `# A Runwise pipeline. It is DVC's dvc.yaml format (a DVC project's dvc.yaml runs as it is), plus
# Runwise's built-in steps (evaluate, register, drift) and quality gates.
#
# Each stage runs its cmd in this folder, after the stages that write its deps. \`runwise run\` runs
# only the stages whose cmd, deps or params changed since their last run (recorded in
# runwise.lock) and logs each stage as a run in the tracker (.runwise/tracker.db): a script logs
# params and metrics with mlflow, or with Runwise's clients, through MLFLOW_TRACKING_URI.
stages:
  prepare:
    # \${prepare.split} is read from params.yaml; changing it re-runs this stage.
    cmd: python src/prepare.py --split \${prepare.split} --seed \${prepare.seed}
    deps:                  # files the stage reads: a change to one re-runs it
      - src/prepare.py
      - data/raw.csv
    params:                # params.yaml keys the stage depends on
      - prepare.split
      - prepare.seed
    outs:                  # files or folders the stage writes
      - data/prepared

  train:
    cmd: python src/train.py
    deps:
      - src/train.py
      - data/prepared      # prepare's output: train runs after prepare
    params:
      - train              # the whole train section of params.yaml
    outs:
      - models/model.onnx
    metrics:               # a JSON file of numbers, e.g. {"accuracy": 0.91}; shown with the run
      - metrics.json:
          cache: false

# Quality gates: \`runwise run\` fails when a metric misses its threshold. Uncomment once
# metrics.json holds an accuracy.
# gates:
#   - metric: accuracy
#     stage: train
#     op: '>='
#     value: 0.8
`;

export const STARTER_PARAMS = `# Parameters of the pipeline in runwise.yaml: its stages list the keys they read under \`params:\`,
# and \${...} in a cmd takes a value from here. A stage re-runs when a value it reads changes.
prepare:
  split: 0.2     # share of rows held out for testing
  seed: 42
train:
  lr: 0.01
  epochs: 20
`;

/** The params keys the starter pipeline reads (a kept params.yaml is told which it lacks). */
const STARTER_KEYS = ['prepare.split', 'prepare.seed', 'train'] as const;
const GITIGNORE_ENTRY = '.runwise/';
/** Lines of a .gitignore that already ignore the `.runwise` folder at the top. */
const IGNORES_RUNWISE = /^\/?\.runwise\/?(\*\*?)?$/;

export type GitignoreChange = 'created' | 'added' | 'present';

/** The kind of thing at `p`, without following a symbolic link; undefined when nothing is there. */
function entryAt(p: string): 'file' | 'link' | 'other' | undefined {
  try {
    const st = lstatSync(p);
    return st.isSymbolicLink() ? 'link' : st.isFile() ? 'file' : 'other';
  } catch {
    return undefined;
  }
}

/** Adds `.runwise/` to the workspace's .gitignore unless a line ignores it already. */
function ignoreTrackerFolder(workspace: string): GitignoreChange {
  const file = path.join(workspace, '.gitignore');
  const kind = entryAt(file);
  if (kind === undefined) {
    writeFileSync(file, `# Runwise's tracker and artifact store (local to this machine)\n${GITIGNORE_ENTRY}\n`, { flag: 'wx' });
    return 'created';
  }
  if (kind !== 'file') throw new CliError(`${file} is not a regular file; add the line '${GITIGNORE_ENTRY}' to your ignore rules yourself`);
  const text = readFileSync(file, 'utf8');
  if (text.split(/\r?\n/).some((line) => IGNORES_RUNWISE.test(line.trim()))) return 'present';
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const separator = text === '' || text.endsWith('\n') ? '' : eol;
  writeFileSync(file, `${text}${separator}${GITIGNORE_ENTRY}${eol}`);
  return 'added';
}

export function init(ctx: CommandContext, args: ParsedArgs): void {
  positionals(args, []);
  const force = flag(args, 'force');
  const at = (name: string) => path.join(ctx.workspace, name);

  // An old runwise.yml would stay beside the new runwise.yaml as a second pipeline.
  if (entryAt(at('runwise.yml')) !== undefined) {
    throw new CliError(`runwise.yml exists in ${ctx.workspace}; nothing was written (runwise init writes runwise.yaml: rename or remove runwise.yml first)`);
  }
  const pipeline = entryAt(at('runwise.yaml'));
  const params = entryAt(at('params.yaml'));
  // A link or folder is never replaced: writing through a link could land outside the workspace.
  const unsafe = pipeline !== undefined && pipeline !== 'file' ? ['runwise.yaml'] : [];
  if (params !== undefined && params !== 'file') unsafe.push('params.yaml');
  if (unsafe.length > 0) {
    throw new CliError(`${unsafe.join(' and ')} in ${ctx.workspace} ${unsafe.length === 1 ? 'is' : 'are'} not a regular file; nothing was written`);
  }
  if (pipeline !== undefined && !force) {
    throw new CliError(`runwise.yaml already exists in ${ctx.workspace}; nothing was written (runwise init --force replaces it)`);
  }
  // A DVC project: its dvc.yaml runs as it is. The starter's stages (prepare, train on data/prepared)
  // would clash with its own, so only the tracker's folder is ignored, unless --force asks for them.
  if (pipeline === undefined && !force && entryAt(at('dvc.yaml')) === 'file') {
    const gitignore = ignoreTrackerFolder(ctx.workspace);
    const next = ['runwise check', 'runwise status', 'runwise run'];
    const notes = ['dvc.yaml is here: Runwise runs its stages as they are (runwise.lock records them), so no starter pipeline was written; runwise init --force writes one beside it'];
    if (ctx.json) {
      ctx.printJson({ workspace: ctx.workspace, written: [], replaced: [], kept: params !== undefined ? ['params.yaml'] : [], gitignore, next, notes });
      return;
    }
    const lines = [
      gitignore === 'created' ? `wrote .gitignore (ignores ${GITIGNORE_ENTRY})` : gitignore === 'added' ? `added ${GITIGNORE_ENTRY} to .gitignore` : `.gitignore already ignores ${GITIGNORE_ENTRY}`,
      ...notes.map((n) => `note: ${n}`),
      '',
      'Next:',
      ...next.map((c) => `  ${c}`.padEnd(20) + NEXT_WHY[c]),
    ];
    ctx.io.out(`${lines.join('\n')}\n`);
    return;
  }
  // Missing keys of a kept params.yaml: named, not added (its comments and layout are the user's).
  let lacking: string[] = [];
  if (params !== undefined) {
    let values: unknown;
    try {
      values = parse(readFileSync(at('params.yaml'), 'utf8'));
    } catch {
      values = undefined;
    }
    lacking = STARTER_KEYS.filter((key) => key.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), values) === undefined);
  }

  writeFileSync(at('runwise.yaml'), STARTER_PIPELINE, { flag: force ? 'w' : 'wx' });
  if (params === undefined) writeFileSync(at('params.yaml'), STARTER_PARAMS, { flag: 'wx' });
  const written = params === undefined ? ['runwise.yaml', 'params.yaml'] : ['runwise.yaml'];
  const replaced = pipeline !== undefined ? ['runwise.yaml'] : [];
  const gitignore = ignoreTrackerFolder(ctx.workspace);
  const next = ['runwise check', 'runwise status', 'runwise run'];
  const notes: string[] = [];
  if (entryAt(at('dvc.yaml')) === 'file') notes.push('dvc.yaml is here too: its stages run beside the ones in runwise.yaml, so keep their names distinct');
  if (params !== undefined) {
    notes.push(
      lacking.length > 0
        ? `params.yaml was kept as it is; it lacks ${lacking.join(', ')}, which runwise.yaml reads: add them, or change the stages' params: and \${...} to your own keys`
        : 'params.yaml was kept as it is',
    );
  }

  if (ctx.json) {
    ctx.printJson({ workspace: ctx.workspace, written, replaced, kept: params !== undefined ? ['params.yaml'] : [], gitignore, next, notes });
    return;
  }
  const lines = [
    ...written.map((name) => `${replaced.includes(name) ? 'replaced' : 'wrote'} ${name}`),
    gitignore === 'created' ? `wrote .gitignore (ignores ${GITIGNORE_ENTRY})` : gitignore === 'added' ? `added ${GITIGNORE_ENTRY} to .gitignore` : `.gitignore already ignores ${GITIGNORE_ENTRY}`,
    ...notes.map((n) => `note: ${n}`),
    '',
    'Next: put your scripts where runwise.yaml says (src/prepare.py, src/train.py) and your data in data/raw.csv,',
    'or edit the stages to match your project; then',
    ...next.map((c) => `  ${c}`.padEnd(20) + NEXT_WHY[c]),
  ];
  ctx.io.out(`${lines.join('\n')}\n`);
}

const NEXT_WHY: Record<string, string> = {
  'runwise check': 'validate the pipeline and params as the editor does',
  'runwise status': 'see which stages would run, and why',
  'runwise run': 'run them, logging each stage to the tracker',
};
