/**
 * Every pipeline file of a workspace, as the one graph the runner runs: what each file's stages
 * read and write (a summary per file, recomputed only for a file whose text, or a params/vars file
 * it read, changed), and the facts across files derived from those summaries:
 * - a dependency another file's stage writes is not missing (and its definition is that output);
 * - one output declared in two files, or one inside the other's directory (DVC's
 *   OverlappingOutputPathsError), is reported in each file, naming the other file and stage;
 * - a dependency cycle through stages of several files (DVC's CyclicGraphError) is reported on
 *   each participating stage, in each file, with the bounded cycle text of stage-cycle.
 *
 * DECISION: `dvc.yaml`, `runwise.yaml` and `*.pipeline.yaml` files all form ONE graph. DVC reads
 * every `dvc.yaml` of a repository as one graph, and the runner runs the Runwise pipelines of a
 * workspace together with them as one project, so an output written by two of them, or a cycle
 * through them, breaks the project whichever kinds the files are. A stage is named by its file and
 * its name, `sub/dvc.yaml:train`, as DVC addresses stages.
 *
 * The files are found by walking the workspace view: hidden folders (`.git`, `.dvc`, `.runwise`,
 * `.venv`...), `node_modules`, `__pycache__` and Python virtual environments (a folder holding
 * `pyvenv.cfg`) are skipped, and so is what the root `.dvcignore` names (simple patterns: names,
 * `*`/`?`/`**` globs, root-anchored paths; `!` negation is not supported and such lines are left
 * out). The walk is bounded (MAX_PIPELINE_FILES, MAX_WALK_DEPTH, MAX_WALK_DIRS) and repeated only
 * when told that files were created or deleted.
 *
 * `refresh` reads again only the pipeline files it was told changed (`filesChanged` with a
 * pipeline path: an edit in an editor, a watcher event); every file, and the params files their
 * summaries read, when told that some other file changed, and at least every SWEEP_INTERVAL_MS
 * (a client without file watchers sees a change on disk that late, as the workspace view's own
 * stat cache does). So an edit of one pipeline file does not read the other files again.
 *
 * The cross-file facts are kept by what the files read and write, not by where they say it: a
 * producer or finding names a stage and a path by their numbers in the file's summary (stage i,
 * input/output j), and positions are looked up in the file's CURRENT summary when asked for. So an
 * edit that changes no stage name or path (a command, a comment, a moved line) leaves the facts as
 * they are (`factsComputed` counts the recomputations), and only an edit that changes what some file
 * reads or writes recomputes them.
 *
 * Spans in summaries and findings are YAML offsets, which for pipeline files are file offsets.
 */
import { analyzeDocument, type ParseYaml } from '../analyzeDocument';
import { fileKindByName, isPipelineKind } from '../files/fileKinds';
import { defaultPipelineFile, lockFileOf, sharedLockMessage, stageIdOf } from '../files/pipelineFileNames';
import { ancestorsOf } from '../files/workspacePaths';
import type { AnalysisDiagnostic, Cancelled, WorkspaceView } from '../languageTypes';
import { clip } from './interpolation';
import { cyclePath } from './pipelineDiagnostics';
import { buildPipelineIndex, type ForeignProducer, type OtherPipelineFiles, type PipelineIndex } from './pipelineIndex';
import { StageGraph } from './stageGraph';
import type { Span } from '../yaml/yamlTree';

/** Pipeline files beyond which the walk stops (the rest take no part in the cross-file facts). */
export const MAX_PIPELINE_FILES = 2000;
/** Folder depth below the workspace root the walk goes to. */
export const MAX_WALK_DEPTH = 16;
/** Folders listed at most per walk. */
export const MAX_WALK_DIRS = 20_000;

/** How long the summaries are trusted without a change notice before every file is read again. */
export const SWEEP_INTERVAL_MS = 2000;

const SKIPPED_FOLDERS = new Set(['node_modules', '__pycache__', 'site-packages']);

export interface SummaryPath {
  path: string;
  span: Span;
}

export interface StageSummary {
  /** `train`, or a generated `train@us`. */
  name: string;
  /** The stage's key in its file. */
  key: Span;
  inputs: SummaryPath[];
  outputs: SummaryPath[];
}

/** What one pipeline file's stages read and write (workspace-relative paths). */
export interface PipelineSummary {
  relPath: string;
  /** The text summarised (undefined: the file is gone or unreadable). */
  text: string | undefined;
  stages: StageSummary[];
  /** Whether the params/vars files the summary's interpolation read are unchanged. */
  isCurrent(workspace: WorkspaceView): boolean;
  /** The index it was made from, when it came from an analysed document. */
  from?: PipelineIndex;
}

export interface WorkspacePipelinesOptions {
  parse?: ParseYaml;
  /** Folder depth of the walk (0: only the root folder); defaults to MAX_WALK_DEPTH. */
  maxDepth?: number;
  maxFiles?: number;
}

/** A stage output of some file, by number (its span is looked up in that file's current summary). */
interface Producer {
  relPath: string;
  stage: string;
  output: string;
  /** Stage number in the file's summary, output number in that stage. */
  stageIndex: number;
  outputIndex: number;
  /** Index of the stage in the workspace graph. */
  node: number;
}

/** A finding across files, on a stage's input or output by number; its span comes from the current summary. */
interface Finding {
  stageIndex: number;
  /** Where it is said: at one of the stage's inputs or outputs, or at its key. */
  side: 'inputs' | 'outputs' | 'key';
  refIndex: number;
  code: string;
  message: string;
  data: unknown;
}

interface Derived {
  exact: Map<string, Producer[]>;
  /** Directory → producers of outputs below it. */
  under: Map<string, Producer[]>;
  findings: Map<string, Finding[]>;
  /** The summaries the facts were computed from (a later summary with the same graph keeps them). */
  from: Map<string, PipelineSummary>;
}

const never: Cancelled = () => false;

export class WorkspacePipelines implements OtherPipelineFiles {
  /** Pipeline files found by the walk (and recorded ones), undefined until the first walk. */
  private paths: Set<string> | undefined;
  private readonly summaries = new Map<string, PipelineSummary>();
  private derived: Derived | undefined;
  /** Set when a summary was added, removed or replaced since `derived` was computed. */
  private summariesChanged = false;
  /** Pipeline files changed since the last refresh (read again by the next one). */
  private readonly changed = new Set<string>();
  /** When every file was last read (0: the next refresh reads them all). */
  private sweptAt = 0;
  private readonly parse: ParseYaml | undefined;
  private readonly maxDepth: number;
  private readonly maxFiles: number;
  /** The walk stopped at a bound. */
  truncated = false;
  /** Summaries computed so far (for tests and the benchmark: a one-file edit adds one). */
  summariesBuilt = 0;
  /** Counts the refreshes that changed what some file reads or writes (or the set of files). */
  graphVersion = 0;
  /** Times the cross-file facts were computed (for tests and the benchmark: an edit that changes no path adds none). */
  factsComputed = 0;

  constructor(
    readonly workspace: WorkspaceView,
    options: WorkspacePipelinesOptions = {},
  ) {
    this.parse = options.parse;
    this.maxDepth = options.maxDepth ?? MAX_WALK_DEPTH;
    this.maxFiles = options.maxFiles ?? MAX_PIPELINE_FILES;
  }

  /** The pipeline files taking part, sorted (walks the workspace the first time). */
  files(): string[] {
    this.refresh();
    return [...this.summaries.keys()].sort();
  }

  /** Whether the walk happened, i.e. something asked about the workspace's pipelines. */
  get discovered(): boolean {
    return this.paths !== undefined;
  }

  summary(relPath: string): PipelineSummary | undefined {
    return this.summaries.get(relPath);
  }

  /**
   * A file changed on disk or in an editor (`relPath` workspace-relative; undefined: unknown). A
   * created or deleted file may be a pipeline file the walk has to find (or forget): walk again on
   * next use. A changed pipeline file is read again on next use; any other file may be a params
   * file some summary read: every file is checked on next use.
   */
  filesChanged(kind: 'created' | 'changed' | 'deleted', relPath?: string): void {
    if (kind !== 'changed') this.paths = undefined;
    if (relPath !== undefined && this.paths?.has(relPath)) this.changed.add(relPath);
    else this.sweptAt = 0;
  }

  /** Takes the summary of a pipeline file from its (complete) index, built on the file's current text. */
  record(index: PipelineIndex): void {
    if (!index.complete) return;
    const rel = index.doc.relPath;
    const prior = this.summaries.get(rel);
    if (prior?.from === index) return;
    this.paths?.add(rel);
    this.summaries.set(rel, summaryOf(rel, index.doc.yaml.text, index));
    this.summariesChanged = true;
  }

  /**
   * Brings the summaries up to date: walks the workspace when needed, then summarises again each
   * file whose text, or a params file its interpolation read, changed: among the files told changed,
   * or among all of them when some other file changed or SWEEP_INTERVAL_MS passed since they were
   * all read. False when cancelled part way (the summaries not reached keep their previous state).
   */
  refresh(cancelled: Cancelled = never): boolean {
    const now = Date.now();
    const sweep = !this.paths || now - this.sweptAt >= SWEEP_INTERVAL_MS;
    if (!this.paths) {
      this.paths = new Set(this.walk());
      for (const rel of this.summaries.keys()) {
        if (!this.paths.has(rel) && this.summaries.get(rel)!.from === undefined) {
          this.summaries.delete(rel);
          this.summariesChanged = true;
        }
      }
      // Files recorded from an editor stay while they have text (a new, unsaved pipeline file).
      for (const rel of this.summaries.keys()) this.paths.add(rel);
    }
    const paths = sweep ? this.paths : [...this.changed];
    let n = 0;
    for (const rel of paths) {
      if ((++n & 15) === 0 && cancelled()) return false;
      this.changed.delete(rel);
      if (!this.paths.has(rel)) continue;
      const text = this.workspace.readFile(rel);
      const prior = this.summaries.get(rel);
      if (prior && prior.text === text && prior.isCurrent(this.workspace)) continue;
      this.summariesChanged = true;
      if (text === undefined) {
        this.summaries.delete(rel);
        this.paths.delete(rel);
        this.graphVersion++;
        continue;
      }
      const next = this.summarise(rel, text);
      if (!prior || !sameGraph(prior, next)) this.graphVersion++;
      this.summaries.set(rel, next);
    }
    if (sweep) {
      this.sweptAt = now;
      this.changed.clear();
    }
    return true;
  }

  stageIdsExcept(exceptFile: string): ReadonlySet<string> {
    const files = [...this.summaries.keys()].sort();
    const main = defaultPipelineFile(files);
    const ids = new Set<string>();
    for (const file of files) {
      if (file === exceptFile) continue;
      for (const stage of this.summaries.get(file)!.stages) ids.add(stageIdOf(file, stage.name, file === main));
    }
    return ids;
  }

  producersOf(path: string, exceptFile: string): ForeignProducer[] {
    const d = this.facts();
    const found: ForeignProducer[] = [];
    const add = (list: Producer[] | undefined) => {
      for (const p of list ?? []) {
        if (p.relPath === exceptFile) continue;
        const span = this.summaries.get(p.relPath)?.stages[p.stageIndex]?.outputs[p.outputIndex]?.span;
        if (span) found.push({ relPath: p.relPath, stage: p.stage, output: p.output, span });
      }
    };
    add(d.exact.get(path));
    for (const dir of ancestorsOf(path)) add(d.exact.get(dir));
    add(d.under.get(path));
    return found;
  }

  diagnosticsFor(index: PipelineIndex, cancelled: Cancelled = never): AnalysisDiagnostic[] {
    this.record(index);
    if (cancelled()) return [];
    const own = this.summaries.get(index.doc.relPath);
    // Spans come from the summary of this very text.
    if (!own || own.text !== index.doc.yaml.text) return [];
    const findings = this.facts().findings.get(index.doc.relPath);
    if (!findings) return [];
    const out: AnalysisDiagnostic[] = [];
    for (const f of findings) {
      const stage = own.stages[f.stageIndex];
      const span = f.side === 'key' ? stage?.key : stage?.[f.side][f.refIndex]?.span;
      if (!span) continue;
      // One finding per code and span (the generated stages of one foreach share their spans).
      if (out.some((x) => x.start === span.start && x.code === f.code)) continue;
      out.push({ start: span.start, end: span.end, severity: 'error', code: f.code, message: f.message, data: f.data });
    }
    return out;
  }

  /** The current cross-file facts: the same object until they are computed again. */
  factsKey(): unknown {
    return this.facts();
  }

  private summarise(relPath: string, text: string): PipelineSummary {
    this.summariesBuilt++;
    const doc = analyzeDocument('', relPath, text, this.parse);
    const index = doc && buildPipelineIndex(doc, this.workspace, { parse: this.parse });
    if (!index) return { relPath, text, stages: [], isCurrent: () => true };
    const s = summaryOf(relPath, text, index);
    // Keep no reference to the index (its tree): only what the summary needs.
    return { relPath, text, stages: s.stages, isCurrent: index.isCurrent };
  }

  /**
   * The cross-file facts of the current summaries: computed again only when some summary's stages
   * read or write other paths (or have other names) than the ones they were computed from, or a
   * file came or went.
   */
  private facts(): Derived {
    if (this.derived && (!this.summariesChanged || this.sameGraphs(this.derived.from))) {
      // Hold the current summaries, not the ones replaced (they keep an older tree alive).
      if (this.summariesChanged) this.derived.from = new Map(this.summaries);
      this.summariesChanged = false;
      return this.derived;
    }
    this.summariesChanged = false;
    const d: Derived = { exact: new Map(), under: new Map(), findings: new Map(), from: new Map(this.summaries) };
    this.derived = d;
    // One file has no other file to meet.
    if (this.summaries.size < 2) return d;
    this.factsComputed++;
    const files = [...this.summaries.values()].sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
    const stages: GraphStageOf[] = [];
    for (const f of files) {
      f.stages.forEach((stage, stageIndex) => {
        const node = stages.length;
        stages.push({ file: f.relPath, stage, stageIndex });
        stage.outputs.forEach((o, outputIndex) => {
          const p: Producer = { relPath: f.relPath, stage: stage.name, output: o.path, stageIndex, outputIndex, node };
          push(d.exact, o.path, p);
          for (const dir of ancestorsOf(o.path)) push(d.under, dir, p);
        });
      });
    }
    const report = (file: string, finding: Finding) => push(d.findings, file, finding);
    overlappingOutputs(stages, d.exact, report);
    sharedLockNames(stages, report);
    crossFileCycles(stages, (path, file) => this.producersOfIn(d, path, file), report);
    return d;
  }

  /** Whether the current summaries are the files of `from`, each with the same graph. */
  private sameGraphs(from: Map<string, PipelineSummary>): boolean {
    if (from.size !== this.summaries.size) return false;
    // A single file meets no other: its graph does not matter (and its stages need not be listed).
    if (from.size < 2) return [...this.summaries.keys()].every((rel) => from.has(rel));
    for (const [rel, now] of this.summaries) {
      const then = from.get(rel);
      if (!then || (then !== now && !sameGraph(then, now))) return false;
    }
    return true;
  }

  private producersOfIn(d: Derived, path: string, exceptFile: string): boolean {
    const other = (list: Producer[] | undefined) => !!list && list.some((p) => p.relPath !== exceptFile);
    if (other(d.exact.get(path)) || other(d.under.get(path))) return true;
    return ancestorsOf(path).some((dir) => other(d.exact.get(dir)));
  }

  /** Pipeline files under the root, breadth first, within the bounds. */
  private walk(): string[] {
    this.truncated = false;
    const ignored = dvcIgnore(this.workspace.readFile('.dvcignore'));
    const out: string[] = [];
    const queue: { dir: string; depth: number }[] = [{ dir: '', depth: 0 }];
    let listed = 0;
    for (let q = 0; q < queue.length; q++) {
      const { dir, depth } = queue[q]!;
      if (++listed > MAX_WALK_DIRS) {
        this.truncated = true;
        break;
      }
      const entries = this.workspace.listDir(dir);
      if (!entries) continue;
      // A Python virtual environment: its packages are no part of the project.
      if (dir !== '' && entries.includes('pyvenv.cfg')) continue;
      for (const e of entries) {
        const folder = e.endsWith('/');
        const name = folder ? e.slice(0, -1) : e;
        const rel = dir ? `${dir}/${name}` : name;
        if (folder) {
          if (name.startsWith('.') || SKIPPED_FOLDERS.has(name) || ignored(rel)) continue;
          if (depth < this.maxDepth) queue.push({ dir: rel, depth: depth + 1 });
          continue;
        }
        const kind = fileKindByName(rel);
        if (!kind || !isPipelineKind(kind) || ignored(rel)) continue;
        if (out.length >= this.maxFiles) {
          this.truncated = true;
          return out.sort();
        }
        out.push(rel);
      }
    }
    return out.sort();
  }
}

/** The summary of an index; its stages are listed on first use (a workspace of one file never needs them). */
function summaryOf(relPath: string, text: string, index: PipelineIndex): PipelineSummary {
  const paths = (refs: PipelineIndex['instances'][number]['inputs']): SummaryPath[] => {
    const out: SummaryPath[] = [];
    for (const r of refs) if (r.resolved?.kind === 'inside') out.push({ path: r.resolved.path, span: { start: r.node.start, end: r.node.end } });
    return out;
  };
  let stages: StageSummary[] | undefined;
  return {
    relPath,
    text,
    get stages() {
      return (stages ??= index.instances.map((inst) => ({ name: inst.name, key: { start: inst.decl.pair.key.start, end: inst.decl.pair.key.end }, inputs: paths(inst.inputs), outputs: paths(inst.outputs) })));
    },
    isCurrent: index.isCurrent,
    from: index,
  };
}

/** Whether two summaries have the same stages reading and writing the same paths. */
function sameGraph(a: PipelineSummary, b: PipelineSummary): boolean {
  const same = (x: SummaryPath[], y: SummaryPath[]) => x.length === y.length && x.every((p, i) => p.path === y[i]!.path);
  return a.stages.length === b.stages.length && a.stages.every((s, i) => s.name === b.stages[i]!.name && same(s.inputs, b.stages[i]!.inputs) && same(s.outputs, b.stages[i]!.outputs));
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** `sub/dvc.yaml:train`, as DVC addresses a stage. */
function qualified(file: string, stage: string): string {
  return `${file}:${stage}`;
}

type Report = (file: string, f: Finding) => void;

/** A stage of the workspace graph: its file, and its number in that file's summary. */
interface GraphStageOf {
  file: string;
  stage: StageSummary;
  stageIndex: number;
}

function finding(stageIndex: number, side: Finding['side'], refIndex: number, code: string, message: string, data: unknown): Finding {
  return { stageIndex, side, refIndex, code, message, data };
}

/** A stage name in two files that keep their state in one lock file (dvc.yaml and runwise.yaml in one folder): reported in both. */
function sharedLockNames(stages: GraphStageOf[], report: Report): void {
  const first = new Map<string, GraphStageOf>();
  const reported = new Set<GraphStageOf>();
  for (const s of stages) {
    const entry = `${lockFileOf(s.file)}\0${s.stage.name}`;
    const other = first.get(entry);
    if (!other) {
      first.set(entry, s);
      continue;
    }
    if (other.file === s.file) continue;
    const lock = lockFileOf(s.file);
    report(s.file, finding(s.stageIndex, 'key', 0, 'shared-lock-stage', sharedLockMessage(s.stage.name, other.file, lock), { file: other.file }));
    if (!reported.has(other)) report(other.file, finding(other.stageIndex, 'key', 0, 'shared-lock-stage', sharedLockMessage(other.stage.name, s.file, lock), { file: s.file }));
    reported.add(other);
  }
}

/** The same output in two files, or one inside the other's directory: reported in both files. */
function overlappingOutputs(stages: GraphStageOf[], exact: Map<string, Producer[]>, report: Report): void {
  for (const { file, stage, stageIndex } of stages) {
    stage.outputs.forEach((o, outputIndex) => {
      const same = (exact.get(o.path) ?? []).find((p) => p.relPath !== file);
      if (same) {
        report(
          file,
          finding(stageIndex, 'outputs', outputIndex, 'duplicate-output', `'${clip(o.path)}' is also an output of stage '${clip(same.stage)}' in '${clip(same.relPath)}'.`, {
            stage: same.stage,
            file: same.relPath,
            path: o.path,
          }),
        );
      }
      for (const dir of ancestorsOf(o.path)) {
        const owner = (exact.get(dir) ?? []).find((p) => p.relPath !== file);
        if (!owner) continue;
        report(
          file,
          finding(stageIndex, 'outputs', outputIndex, 'duplicate-output', `'${clip(o.path)}' is inside '${clip(dir)}', an output of stage '${clip(owner.stage)}' in '${clip(owner.relPath)}'.`, {
            stage: owner.stage,
            file: owner.relPath,
            path: dir,
          }),
        );
        report(
          owner.relPath,
          finding(owner.stageIndex, 'outputs', owner.outputIndex, 'duplicate-output', `'${clip(dir)}' contains '${clip(o.path)}', an output of stage '${clip(stage.name)}' in '${clip(file)}'.`, {
            stage: stage.name,
            file,
            path: o.path,
          }),
        );
        break;
      }
    });
  }
}

/**
 * Cycles through stages of more than one file: on each participating stage, the dependency that
 * another participant writes. Looked for only when some dependency is written in another file.
 */
function crossFileCycles(
  stages: GraphStageOf[],
  producedElsewhere: (path: string, exceptFile: string) => boolean,
  report: Report,
): void {
  if (!stages.some(({ file, stage }) => stage.inputs.some((i) => producedElsewhere(i.path, file)))) return;
  const graph = new StageGraph(stages.map(({ stage }) => ({ name: stage.name, inputs: stage.inputs.map((i) => i.path), outputs: stage.outputs.map((o) => o.path) })));
  for (const comp of graph.cycles()) {
    if (new Set(comp.map((i) => stages[i]!.file)).size < 2) continue;
    const members = new Set(comp);
    const text = cyclePath(comp.map((i) => qualified(stages[i]!.file, stages[i]!.stage.name)));
    for (const i of comp) {
      const { file, stage, stageIndex } = stages[i]!;
      stage.inputs.forEach((input, inputIndex) => {
        const producer = graph.producersOf(input.path).find((p) => members.has(p));
        if (producer === undefined) return;
        const by = stages[producer]!;
        report(
          file,
          finding(
            stageIndex,
            'inputs',
            inputIndex,
            'stage-cycle',
            `Dependency cycle across pipeline files: '${clip(input.path)}' is written by '${clip(qualified(by.file, by.stage.name))}', which depends on this stage (${text}).`,
            { stage: by.stage.name, file: by.file },
          ),
        );
      });
    }
  }
}

/**
 * A matcher for the patterns of a `.dvcignore` (gitignore syntax): the last pattern that matches a
 * path decides, so a `!pattern` after another takes back what it ignored (unlike git, also below an
 * ignored folder).
 */
export function dvcIgnore(text: string | undefined): (relPath: string) => boolean {
  if (!text) return () => false;
  const patterns: { re: RegExp; negated: boolean }[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    if (negated) line = line.slice(1);
    line = line.replace(/\/+$/, '');
    if (line === '') continue;
    const anchored = line.startsWith('/') || line.slice(0, -1).includes('/');
    line = line.replace(/^\/+/, '');
    const body = line
      .split('/')
      .map((seg) => (seg === '**' ? '(?:.*)' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
      .join('/')
      .replace(/\(\?:\.\*\)\//g, '(?:.*/)?');
    patterns.push({ re: new RegExp(`${anchored ? '^' : '(?:^|/)'}${body}(?:/.*)?$`), negated });
  }
  return (relPath) => {
    let ignored = false;
    for (const p of patterns) if (p.re.test(relPath)) ignored = !p.negated;
    return ignored;
  };
}
