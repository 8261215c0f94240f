/**
 * The pipeline runner's shared model: the graph of expanded stages loaded from the workspace's
 * pipeline files (loadPipeline.ts), the decisions about which stages run and why (stageStatus.ts),
 * and the state recorded after a stage ran (lockFile.ts). Plain data; every path is
 * workspace-relative and `/`-separated ('' = the workspace root).
 */

export interface StageOut {
  /** Workspace-relative. */
  path: string;
  /** Where it was declared: `outs`, `metrics`, `plots` (a built-in step's output is an `out`). */
  kind: 'out' | 'metrics' | 'plots';
  /** DVC's `cache:` flag (true unless `cache: false`). */
  cache: boolean;
  /** DVC's `persist:` flag: the output is not removed before the stage runs. */
  persist: boolean;
  /** A `plots` output's properties, as dvc.yaml gives them: the x column, the y columns, the template. */
  plot?: PlotProps;
}

/**
 * DVC's templates whose columns are class labels, not values over steps: a confusion matrix's
 * `actual`/`predicted` rows are not metrics.
 */
export const LABEL_TEMPLATES: ReadonlySet<string> = new Set(['confusion', 'confusion_normalized']);

export interface PlotProps {
  x?: string;
  y?: string[];
  template?: string;
  /** Files in a plots folder that the top-level `plots:` draws as a confusion matrix (workspace-relative). */
  labelFiles?: string[];
}

export interface StageParams {
  /** Workspace-relative params file. */
  file: string;
  /** Dotted keys; undefined = the whole file. */
  keys: string[] | undefined;
}

export type BuiltinStepName = 'evaluate' | 'register' | 'drift';

export interface PipelineStage {
  /**
   * Unique in the workspace, DVC's addressing: `train@us` for a stage of the root pipeline file
   * (`dvc.yaml`, `runwise.yaml`), `sub/dvc.yaml:train@us` for any other file.
   */
  id: string;
  /** The stage's name in its file: `train`, or a generated `train@us`. */
  name: string;
  /** Workspace-relative pipeline file. */
  file: string;
  /** 1-based line of the stage's key, for messages. */
  line: number;
  /** Commands run in order through the shell (DVC allows a list); [] for a built-in step. */
  cmd: string[];
  builtin?: BuiltinStepName;
  /**
   * The built-in step's settings (`evaluate: {...}`) as plain data, `${...}` substituted in its
   * strings; set on every built-in step (the lock records it, so a changed setting reruns the step).
   */
  builtinConfig?: Record<string, unknown>;
  /** Workspace-relative working directory ('' = root). */
  wdir: string;
  /** Workspace-relative paths the stage reads (built-in step inputs included). */
  deps: string[];
  outs: StageOut[];
  params: StageParams[];
  frozen: boolean;
  alwaysChanged: boolean;
}

export type GateOp = '>=' | '>' | '<=' | '<' | '==' | '!=';

export interface GateRule {
  /** Workspace-relative pipeline file and 1-based line of the rule. */
  file: string;
  line: number;
  metric: string;
  op: GateOp;
  /** A number, or an expression such as `previous.loss`. */
  value: number | string;
  /** The stage whose metrics the gate reads, when the rule names one. */
  stage?: string;
  /** The registered model the rule's alias references (`champion.roc_auc`) read, when it names one. */
  model?: string;
  /** The rule's `message:`, said with its failure. */
  message?: string;
}

export interface PipelineGraph {
  /** Absolute workspace root. */
  root: string;
  /** Workspace-relative pipeline files the graph was loaded from. */
  files: string[];
  /** Every stage, in a topological order (upstream first; ties in file then declaration order). */
  stages: PipelineStage[];
  byId: ReadonlyMap<string, PipelineStage>;
  /** Ids of the stages whose outputs this stage's deps are, lie in, or contain. */
  upstream(id: string): string[];
  /** Ids of the stages reading this stage's outputs. */
  downstream(id: string): string[];
  /** Top-level `gates:` of Runwise pipelines. */
  gates: GateRule[];
}

export type ChangeReason =
  | { kind: 'never-run' }
  | { kind: 'forced' }
  | { kind: 'always-changed' }
  /** A command with no dependencies, params or outputs: DVC's callback stage, changed every time. */
  | { kind: 'callback' }
  | { kind: 'upstream'; stage: string }
  | { kind: 'cmd-changed' }
  | { kind: 'dep-changed'; path: string }
  /** A dependency the lock does not record (added to the stage since it ran), or one it records that the stage no longer lists. */
  | { kind: 'dep-added'; path: string }
  | { kind: 'dep-removed'; path: string }
  | { kind: 'dep-missing'; path: string }
  | { kind: 'out-missing'; path: string }
  | { kind: 'out-changed'; path: string }
  | { kind: 'param-changed'; file: string; key: string };

export interface StageDecision {
  id: string;
  /** `frozen`: the stage never runs; `reasons` then says whether it is stale. */
  action: 'run' | 'skip' | 'frozen';
  reasons: ChangeReason[];
}

/** A file's or directory's hash as dvc.lock records it. */
export interface PathHash {
  /** md5 hex; a directory's ends with `.dir`. */
  md5: string;
  size: number;
  /** Files under a directory (directories only). */
  nfiles?: number;
}

/**
 * Hashes of workspace paths (hashCache.ts's HashCache implements it): undefined when the path does
 * not exist. Synchronous: an unchanged file is answered from the cache by its stat alone.
 */
export interface PathHasher {
  hash(relPath: string, algorithm?: HashAlgorithm): PathHash | undefined;
}

/**
 * `md5`: the file's bytes, as DVC 3 hashes (`hash: md5` in dvc.lock, and every entry Runwise
 * writes). `md5-dos2unix`: DVC 2's `md5` (an entry without `hash:`), CRLF read as LF in text files.
 */
export type HashAlgorithm = 'md5' | 'md5-dos2unix';

/** One stage's entry in runwise.lock / dvc.lock. */
export interface LockEntry {
  cmd: string | string[];
  deps: LockPath[];
  /** params file → key → value (the whole file's top-level keys when it is tracked whole). */
  params: Record<string, Record<string, unknown>>;
  outs: LockPath[];
}

export interface LockPath extends PathHash {
  /** As the pipeline file writes it: relative to the stage's wdir. */
  path: string;
  /** How `md5` was computed: `md5` when the entry says `hash: md5`, else DVC 2's `md5-dos2unix`. */
  hash: HashAlgorithm;
}

/** One problem found while loading pipelines, in the language service's terms. */
export interface PipelineDiagnostic {
  /** Workspace-relative. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  code: string;
  message: string;
  severity: 'error' | 'warning' | 'information' | 'hint';
}

/** Pipelines that cannot run as written: nothing has been run. */
export class PipelineLoadError extends Error {
  constructor(
    message: string,
    readonly diagnostics: PipelineDiagnostic[],
  ) {
    super(message);
    this.name = 'PipelineLoadError';
  }
}

/** `file:line:col: message [code]`, as `runwise check` prints a diagnostic. */
export function formatPipelineDiagnostic(d: PipelineDiagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message} [${d.code}]`;
}
