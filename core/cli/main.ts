/**
 * The `runwise` command line: the engine without an editor, for the terminal and CI.
 * Exit codes: 0 success, 1 a user error (one line on stderr), 2 bad usage.
 */
import { terminalSafe } from './terminalText';
import { didYouMean } from '../language/schema/didYouMean';
import * as path from 'node:path';
import { parseArgs, flag, optionValue, UsageError, type OptionSpecs, type ParsedArgs } from './args';
import { CliError, CommandContext, type Output } from './context';
import { TrackerError } from '../tracker/trackerError';
import { damagedTracker } from '../tracker/trackerOpenError';
import { PathOutsideWorkspaceError } from '../workspace/workspacePath';
import { defaultWorkspace } from '../workspace/workspaceRoot';

interface Command {
  usage: string;
  summary: string;
  options?: OptionSpecs;
  run(ctx: CommandContext, args: ParsedArgs): void | Promise<void>;
}

/*
 * Every command's module is loaded on use (`require` inside its `run`): in the built CLI each is a
 * bundle of its own (dist/cli-NAME.js, see esbuild.mjs), so a command starts without parsing the
 * others. Their option specs are therefore written here; test/unit/cli.test.ts checks them against
 * the specs the command modules export.
 */
const runsModule = () => require('./commands/runs') as typeof import('./commands/runs');
const modelsModule = () => require('./commands/models') as typeof import('./commands/models');
const RUNS_LIST_OPTIONS: OptionSpecs = { filter: { value: true }, 'order-by': { value: true, repeat: true, continuedBy: /^(asc|desc)$/i }, experiment: { value: true, repeat: true }, 'max-results': { value: true }, all: {} };

const COMMANDS: Record<string, Command> = {
  'runs list': {
    usage: 'runs list [--filter EXPR] [--order-by KEY [ASC|DESC]]... [--experiment NAME|ID]... [--max-results N] [--all]',
    summary: 'list runs, newest first; --filter takes MLflow search syntax plus `or` and parentheses',
    options: RUNS_LIST_OPTIONS,
    run: (ctx, args) => runsModule().runsList(ctx, args),
  },
  'runs show': { usage: 'runs show RUN', summary: "a run's params, latest metrics, tags, inputs and artifacts", run: (ctx, args) => runsModule().runsShow(ctx, args) },
  'runs compare': {
    usage: 'runs compare RUN RUN...',
    summary: 'params and metrics side by side, the ones that differ first',
    run: (ctx, args) => runsModule().runsCompare(ctx, args),
  },
  'runs rename': { usage: 'runs rename RUN NAME', summary: 'rename a run', run: (ctx, args) => runsModule().runsRename(ctx, args) },
  'runs note': { usage: 'runs note RUN TEXT', summary: "set a run's note ('' removes it)", run: (ctx, args) => runsModule().runsNote(ctx, args) },
  'runs tag': {
    usage: 'runs tag RUN KEY VALUE | runs tag --delete RUN KEY',
    summary: 'set or remove a tag',
    options: { delete: {} },
    run: (ctx, args) => runsModule().runsTag(ctx, args),
  },
  'runs delete': { usage: 'runs delete RUN...', summary: 'delete runs (soft: `runs list --all` still shows them)', run: (ctx, args) => runsModule().runsDelete(ctx, args) },
  'models register': {
    usage: 'models register NAME --path MODEL [--run RUN] [--card CARD] [--alias ALIAS] [--description TEXT]',
    summary: 'register a model file or folder as a new immutable version of NAME (a content-addressed copy, its sha256, the run it came from)',
    options: { path: { value: true }, run: { value: true }, card: { value: true }, alias: { value: true }, description: { value: true } },
    run: (ctx, args) => modelsModule().modelsRegister(ctx, args),
  },
  'models list': { usage: 'models list', summary: 'registered models with their version counts and aliases', run: (ctx, args) => modelsModule().modelsList(ctx, args) },
  'models show': {
    usage: 'models show NAME[/VERSION|@ALIAS]',
    summary: "a model's versions, or one version's details (its files re-hashed: a changed copy is refused)",
    run: (ctx, args) => modelsModule().modelsShow(ctx, args),
  },
  'models alias': {
    usage: 'models alias NAME VERSION|latest ALIAS | models alias NAME/VERSION|NAME@ALIAS ALIAS | models alias --delete NAME ALIAS',
    summary: 'point ALIAS (e.g. champion) at a version, or remove it; each move is recorded with who and when',
    options: { delete: {} },
    run: (ctx, args) => modelsModule().modelsAlias(ctx, args),
  },
  'models lineage': {
    usage: 'models lineage NAME[/VERSION|@ALIAS]',
    summary: "where a version came from: dataset hashes, pipeline and stage runs, evaluations of the same bytes, aliases",
    run: (ctx, args) => modelsModule().modelsLineage(ctx, args),
  },
  'models export': {
    usage: 'models export NAME[/VERSION|@ALIAS] --output DIR [--force]',
    summary: "copy a version's files into DIR, each re-hashed first; --force replaces files there",
    options: { output: { value: true, short: 'o' }, force: {} },
    run: (ctx, args) => modelsModule().modelsExport(ctx, args),
  },
  'metrics history': {
    usage: 'metrics history RUN KEY [--max-points N]',
    summary: 'a metric over steps, in at most N buckets (min, max, last); default 50',
    options: { 'max-points': { value: true } },
    run: (ctx, args) => (require('./commands/metrics') as typeof import('./commands/metrics')).metricsHistory(ctx, args),
  },
  serve: {
    usage: 'serve [--port N]',
    summary: 'run the MLflow-compatible tracking endpoint on loopback; prints the URI and token',
    options: { port: { value: true, short: 'p' } },
    run: (ctx, args) => (require('./commands/serve') as typeof import('./commands/serve')).serve(ctx, args),
  },
  export: {
    usage: 'export --format csv|json [--output FILE] [--filter EXPR] [--experiment NAME|ID]...',
    summary: 'runs with params, latest metrics and tags, as CSV or JSON',
    options: { ...RUNS_LIST_OPTIONS, format: { value: true }, output: { value: true, short: 'o' } },
    run: (ctx, args) => (require('./commands/export') as typeof import('./commands/export')).exportRuns(ctx, args),
  },
  gc: {
    usage: 'gc [--delete] [--json]',
    summary: 'artifact files no run or model refers to (kept an hour), and stale temporary files; --delete removes them',
    options: { delete: {} },
    run: (ctx, args) => (require('./commands/gc') as typeof import('./commands/gc')).gc(ctx, args),
  },
  init: {
    usage: 'init [--force]',
    summary: 'start a pipeline: a commented runwise.yaml and, when there is none, params.yaml (an existing one is kept), and .runwise/ in .gitignore; --force replaces an existing runwise.yaml',
    options: { force: {} },
    run: (ctx, args) => (require('./commands/init') as typeof import('./commands/init')).init(ctx, args),
  },
  check: {
    usage: 'check [FILE|DIR]... [--json]',
    summary: 'validate pipelines, params files and model cards as the editor does; exit 1 on any error',
    // Loaded on use: the language analysis stays out of the other commands' start-up.
    run: (ctx, args) => (require('./commands/check') as typeof import('./commands/check')).check(ctx, args),
  },
  status: {
    usage: 'status [STAGE]... [--downstream] [--pipeline FILE] [--json]',
    summary: 'which pipeline stages would run and why (changed deps, params, outputs, command); STAGE selects it and what is upstream',
    // Options listed here, the module loaded on use (as check): the language analysis stays out of other commands' start-up.
    options: { pipeline: { value: true, short: 'p' }, downstream: {} },
    run: (ctx, args) => (require('./commands/status') as typeof import('./commands/status')).status(ctx, args),
  },
  run: {
    usage: 'run [STAGE]... [-j N] [--force] [--dry] [--downstream|--single] [--pipeline FILE] [--experiment NAME] [--push|--push-to REMOTE]',
    summary: 'run the stages that are out of date (STAGE: it and what is upstream; with --single, only it), each logged as a child run; exit 1 when a stage or gate fails',
    // Options listed here, the module loaded on use (as status).
    options: { pipeline: { value: true, short: 'p' }, jobs: { value: true, short: 'j' }, force: { short: 'f' }, dry: {}, downstream: {}, single: {}, experiment: { value: true }, push: {}, 'push-to': { value: true } },
    run: (ctx, args) => (require('./commands/run') as typeof import('./commands/run')).run(ctx, args),
  },
  evaluate: {
    usage: 'evaluate MODEL|models:/NAME/VERSION --data FILE --target COLUMN [--task binary|multiclass|regression] [--threshold X] [--features a,b] [--slice-by C] [--batch-size N] [--json]',
    summary: 'evaluate an ONNX model (a file, or a registered version from its registry copy) on a dataset (CSV, JSON Lines, Parquet) with scikit-learn metrics; logged as a run',
    // Options listed here, the module loaded on use (as status): onnxruntime stays out of other commands' start-up.
    options: { data: { value: true, short: 'd' }, target: { value: true, short: 't' }, task: { value: true }, threshold: { value: true }, features: { value: true }, 'slice-by': { value: true }, 'batch-size': { value: true } },
    run: (ctx, args) => (require('./commands/evaluate') as typeof import('./commands/evaluate')).evaluate(ctx, args),
  },
  drift: {
    usage: 'drift REF CUR [--json] [--html OUT] [--test [COL=]NAME]... [--threshold [COL=]X]... [--columns a,b] [--exclude a,b] [--drift-share X] [--sample N [--seed S]] [--fail-on-drift] [--log]',
    summary: 'does CUR drift from REF (CSV, JSON Lines, Parquet)? per-column tests as Evidently chooses them; exit 1 on drift only with --fail-on-drift; --log records a run',
    // Options listed here, the module loaded on use (as status): the drift engine stays out of other commands' start-up.
    options: {
      html: { value: true },
      test: { value: true, repeat: true },
      threshold: { value: true, repeat: true },
      columns: { value: true },
      exclude: { value: true },
      'drift-share': { value: true },
      sample: { value: true },
      seed: { value: true },
      'fail-on-drift': {},
      log: {},
    },
    run: (ctx, args) => (require('./commands/drift') as typeof import('./commands/drift')).drift(ctx, args),
  },
  'drift watch': {
    usage: 'drift watch REF DIR [--pattern GLOB] [--new-only] [--log] [--fail-on-drift] [--json] [drift options]',
    summary: 'compare each batch file written into DIR with REF, one line per batch; files already there first (not with --new-only); Ctrl-C stops (exit 130)',
    options: { pattern: { value: true }, 'new-only': {}, log: {}, 'fail-on-drift': {}, test: { value: true, repeat: true }, threshold: { value: true, repeat: true }, columns: { value: true }, exclude: { value: true }, 'drift-share': { value: true }, sample: { value: true }, seed: { value: true } },
    run: (ctx, args) => (require('./commands/drift') as typeof import('./commands/drift')).driftWatch(ctx, args),
  },
  'card update': {
    usage: 'card update CARD --from NAME[/VERSION|@ALIAS] [--run RUN] [--json]',
    summary: "write the version's latest evaluation (or the evaluation run RUN of its bytes) into a model card (README.md's model-index, or a *.modelcard.yaml's performance_metrics), keeping the rest as written",
    options: { from: { value: true }, run: { value: true } },
    run: (ctx, args) => (require('./commands/card') as typeof import('./commands/card')).cardUpdate(ctx, args),
  },
  'card validate': {
    usage: 'card validate CARD [--json]',
    summary: "a model card's diagnostics, as the editor shows them; exit 1 on any error",
    run: (ctx, args) => (require('./commands/card') as typeof import('./commands/card')).cardValidate(ctx, args),
  },
  'export-pipeline': {
    usage: 'export-pipeline --format argo|kubeflow|airflow [--image IMAGE] [--output FILE] [--pipeline FILE] [--tracking-uri URI] [--name NAME] [--operator bash|k8s]',
    summary: 'the pipeline as an Argo Workflow, a Kubeflow pipeline spec or an Airflow DAG: each stage a task running `runwise run STAGE --single`',
    // Options listed here, the module loaded on use (as status).
    options: { format: { value: true }, image: { value: true }, output: { value: true, short: 'o' }, pipeline: { value: true, short: 'p' }, 'tracking-uri': { value: true }, name: { value: true }, operator: { value: true } },
    run: (ctx, args) => (require('./commands/exportPipeline') as typeof import('./commands/exportPipeline')).exportPipelineCommand(ctx, args),
  },
  'remote add': {
    usage: 'remote add NAME URI [--token-env VAR | --basic-auth-env USER_VAR PASS_VAR]',
    summary: 'name an MLflow Tracking Server to push to and pull from; only the names of the variables holding its credentials are kept (.runwise/config)',
    options: { 'token-env': { value: true }, 'basic-auth-env': { value: true } },
    run: (ctx, args) => (require('./commands/remote') as typeof import('./commands/remote')).remoteAdd(ctx, args),
  },
  'remote list': { usage: 'remote list', summary: 'the remotes, their URIs and where their credentials come from', run: (ctx, args) => (require('./commands/remote') as typeof import('./commands/remote')).remoteList(ctx, args) },
  'remote remove': { usage: 'remote remove NAME', summary: 'forget a remote', run: (ctx, args) => (require('./commands/remote') as typeof import('./commands/remote')).remoteRemove(ctx, args) },
  push: {
    usage: 'push [RUN...|--experiment E|--all] --to NAME [-j N]',
    summary: 'copy runs (params, metric history, tags, notes, parents, inputs, artifacts, registered versions) to a remote; only what is new is sent, an interrupted push resumes',
    options: { to: { value: true }, experiment: { value: true, repeat: true }, all: {}, jobs: { value: true, short: 'j' } },
    run: (ctx, args) => (require('./commands/push') as typeof import('./commands/push')).push(ctx, args),
  },
  pull: {
    usage: 'pull --from NAME [--experiment E] [--filter EXPR] [--artifacts]',
    summary: "a remote's runs (with --artifacts, their files too) into the local tracker, marked with their origin; a second pull updates them",
    options: { from: { value: true }, experiment: { value: true }, filter: { value: true }, artifacts: {} },
    run: (ctx, args) => (require('./commands/pull') as typeof import('./commands/pull')).pull(ctx, args),
  },
  lineage: {
    usage: 'lineage NAME[/VERSION|@ALIAS] | --run RUN | --file PATH [--json] [--html OUT] [--max-nodes N]',
    summary: 'the lineage graph of a model version, a run or a data file: data with hashes, stage and evaluation runs, versions, aliases; --html writes it as an offline page',
    options: { html: { value: true }, run: { value: true }, file: { value: true }, 'max-nodes': { value: true } },
    run: (ctx, args) => (require('./commands/lineage') as typeof import('./commands/lineage')).lineage(ctx, args),
  },
  dag: {
    usage: 'dag [--json|--dot|--mermaid|--html OUT] [--pipeline FILE]',
    summary: 'the pipeline stages, upstream first, and what feeds what (Graphviz with --dot, Mermaid with --mermaid, an offline page with stage states with --html)',
    options: { pipeline: { value: true, short: 'p' }, dot: {}, mermaid: {}, html: { value: true } },
    run: (ctx, args) => (require('./commands/dag') as typeof import('./commands/dag')).dag(ctx, args),
  },
};

/** The options a command takes besides the global ones (undefined: no such command). */
export function commandOptions(name: string): OptionSpecs | undefined {
  return name in COMMANDS ? (COMMANDS[name]!.options ?? {}) : undefined;
}

const GLOBAL_OPTIONS: OptionSpecs = {
  workspace: { value: true, short: 'w' },
  json: {},
  help: { short: 'h' },
  version: {},
};

export function helpText(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  const lines = Object.values(COMMANDS).map((c) =>
    c.usage.length > 48 ? `  runwise ${c.usage}\n  ${' '.repeat(10 + Math.min(width, 48))}${c.summary}` : `  runwise ${c.usage.padEnd(Math.min(width, 48))}  ${c.summary}`,
  );
  return [
    'Usage: runwise COMMAND [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Options for every command:',
    '  --workspace DIR, -w DIR   the workspace (default: the current folder); its tracker is DIR/.runwise/tracker.db',
    '  --json                    machine-readable output on stdout (see the README for the shapes)',
    '  --help, -h                this help',
    '',
    'RUN is a run id, a unique prefix of one (at least 4 characters), or a run name.',
    'Exit codes: 0 success, 1 an error (one line on stderr), 2 bad usage, 130 interrupted.',
    '',
  ].join('\n');
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: readonly string[], io: Output): Promise<number> {
  // The command's words: the arguments that are not options, nor the value of `--workspace DIR`
  // (which may come before the command: `runwise -w DIR runs list`).
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-w' || a === '--workspace') i++;
    else if (!a.startsWith('-')) words.push(a);
  }
  const name = [`${words[0]} ${words[1]}`, words[0]].find((n) => n !== undefined && n in COMMANDS);
  if (argv.includes('--version')) {
    io.out(`runwise ${process.env.RUNWISE_VERSION ?? '0.1.0'}\n`);
    return 0;
  }
  if (!name) {
    const wantsHelp = argv.includes('--help') || argv.includes('-h');
    // A command group (`runwise models`, `runwise models --help`, `runwise models lst`): its commands.
    const group = words[0] !== undefined ? Object.keys(COMMANDS).filter((c) => c.startsWith(`${words[0]} `)) : [];
    if (group.length > 0) {
      const list = group.map((c) => `  runwise ${COMMANDS[c]!.usage}\n`).join('');
      if (words.length === 1 && wantsHelp) {
        io.out(`The ${words[0]} commands:\n${list}`);
        return 0;
      }
      if (words.length === 1) {
        io.err(`runwise ${words[0]}: name one of its commands:\n${list}`);
        return 2;
      }
      const near = didYouMean(words[1]!, group.map((c) => c.slice(words[0]!.length + 1)));
      io.err(`runwise: unknown command '${words[0]} ${words[1]}'${near ? ` (did you mean '${words[0]} ${near}'?)` : ''}; the ${words[0]} commands:\n${list}`);
      return 2;
    }
    if (words.length === 0 || words[0] === 'help' || wantsHelp) {
      io.out(helpText());
      return words.length === 0 && !wantsHelp ? 2 : 0;
    }
    const near = didYouMean(words[0]!, new Set(Object.keys(COMMANDS).map((c) => c.split(' ')[0]!)));
    io.err(`runwise: unknown command '${words.slice(0, 2).join(' ')}'${near ? ` (did you mean '${near}'?)` : ''}\nRun 'runwise --help' for the commands.\n`);
    return 2;
  }
  const command = COMMANDS[name]!;
  const nameWords = name.split(' ');
  const rest = [...argv];
  for (const w of nameWords) rest.splice(rest.indexOf(w), 1);
  let ctx: CommandContext | undefined;
  try {
    const args = parseArgs(rest, { ...GLOBAL_OPTIONS, ...(command.options ?? {}) });
    if (flag(args, 'help')) {
      io.out(`Usage: runwise ${command.usage}\n\n${command.summary}\n`);
      return 0;
    }
    const given = optionValue(args, 'workspace');
    // From a subfolder, the project's tracker above it (init makes one here, as asked).
    const workspace = given !== undefined ? path.resolve(given) : name === 'init' ? process.cwd() : defaultWorkspace(process.cwd());
    if (given === undefined && workspace !== path.resolve(process.cwd())) {
      io.err(`runwise: workspace ${workspace} (the project above this folder; --workspace . for this folder)\n`);
    }
    ctx = new CommandContext(workspace, io, flag(args, 'json'), given !== undefined);
    await command.run(ctx, args);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`runwise ${name}: ${e.message}\nUsage: runwise ${command.usage}\n`);
      return 2;
    }
    const damaged = damagedTracker(e);
    if (damaged) {
      io.err(`runwise: ${damaged.message}\n`);
      return 1;
    }
    if (e instanceof CliError || e instanceof TrackerError || e instanceof PathOutsideWorkspaceError) {
      io.err(`runwise: ${e.message}\n`);
      // A command may end with its own code (`runwise run`: 130 when interrupted).
      const code = (e as { exitCode?: unknown }).exitCode;
      return e instanceof CliError && typeof code === 'number' ? code : 1;
    }
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err.code === 'string' && err.syscall) {
      io.err(`runwise: ${err.message}\n`);
      return 1;
    }
    io.err(`runwise: internal error: ${err?.stack ?? String(e)}\n`);
    return 1;
  } finally {
    ctx?.close();
  }
}

/** Runs the CLI on this process's arguments and streams, setting the exit code. */
export function runCli(): void {
  // A reader that stops early (`runwise dag | head`) closes stdout: the command ends quietly, as a
  // Unix filter does, instead of dying on an unhandled EPIPE.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
  // What the tracker holds is shown, never obeyed, by the terminal; the CLI's own cursor moves and a
  // stage's own output go through `verbatim`, and exported data reaches a file or a pipe unchanged.
  const io: Output = {
    out: (t) => void process.stdout.write(terminalSafe(t)),
    err: (t) => void process.stderr.write(terminalSafe(t)),
    verbatim: (t) => void process.stderr.write(t),
    data: (t) => void process.stdout.write(process.stdout.isTTY ? terminalSafe(t) : t),
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`runwise: internal error: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

if (require.main === module) runCli();
