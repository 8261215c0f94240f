/**
 * Runwise tracking client for Node ≥ 20 scripts that don't use the `mlflow` package; no dependencies.
 *
 *   const rw = require('runwise/client');            // or import * as rw from '.../trackingClient'
 *   rw.logParams({ lr: 0.01 }); rw.logMetric('loss', 0.3, 1); rw.logArtifact('model.bin');
 *   await rw.endRun();                                // optional: at exit everything is sent anyway
 *
 * Reads MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN, MLFLOW_RUN_ID, MLFLOW_EXPERIMENT_NAME/_ID (neither:
 * MLflow's default experiment, id '0'). Logging calls are synchronous and buffered (sent within 1 s, in
 * batches); `flush()`/`endRun()` surface errors, and at exit an exit code 0 becomes 1 when something
 * logged could not be delivered. A run this module created is ended at exit, even through
 * `process.exit()`: FINISHED, or FAILED after a crash or with a non-zero exit code; KILLED by SIGTERM or
 * SIGINT when the program has no handler of its own for it (the process then still dies by the signal).
 * `new TrackingClient({ trackingUri, token, runId })` gives an independent client.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {
  MAX_ENTITIES_PER_BATCH,
  MAX_METRICS_PER_BATCH,
  MAX_PARAMS_TAGS_PER_BATCH as MAX_PARAMS_PER_BATCH,
  MAX_PARAMS_TAGS_PER_BATCH as MAX_TAGS_PER_BATCH,
} from '../tracker/limits';
import { DATASET_CONTEXT_TAG, SOURCE_NAME_TAG, SOURCE_TYPE_TAG, USER_TAG } from '../tracker/model';
import type { ExitPayload, WireOp } from './exitSender';
import { Http, RunwiseTrackingError } from './httpTransport';
import {
  DEFAULT_EXPERIMENT_ID,
  TERMINAL_STATUSES,
  ensureRunCreated,
  integer,
  metricValue,
  retryPolicyOf,
  sendOp,
  sizeOf,
  type CreateSpec,
  type Entity,
  type Op,
  type RunEndStatus,
  type RunSlot,
} from './runRequests';

export { RunwiseTrackingError } from './httpTransport';
export type { RunEndStatus } from './runRequests';

/** The server takes 1 MiB; stay below it with room for the envelope. */
const MAX_BATCH_BYTES = 1_000_000;
/** From the first buffered item to its batch being sent. */
const FLUSH_INTERVAL_MS = 1000;

export interface TrackingClientOptions {
  trackingUri: string;
  token?: string;
  /** An existing RUNNING run to log into; its owner ends it, this client never does. */
  runId?: string;
  /** Where runs are created when no runId is given (neither: MLflow's default experiment, id '0'). */
  experimentName?: string;
  experimentId?: string;
}

export interface StartRunOptions {
  runName?: string;
  experimentName?: string;
  tags?: Record<string, unknown>;
}

export interface LogInputOptions {
  name: string;
  digest: string;
  source?: string;
  sourceType?: string;
  /** A string, or an object sent as JSON. */
  schema?: unknown;
  profile?: unknown;
  /** E.g. 'training' or 'eval' (the tag mlflow.data.context). */
  context?: string;
}

/** The program that sends what is left at exit: the built bundle, or its source with the parent's loader. */
function exitSenderCommand(): string[] {
  if (__filename.endsWith('.ts')) {
    const loaders: string[] = [];
    const argv = process.execArgv;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (/^--(import|require|loader|experimental-loader)=/.test(a)) loaders.push(a);
      else if (/^(--import|--require|-r|--loader|--experimental-loader)$/.test(a) && argv[i + 1] !== undefined) loaders.push(a, argv[++i]!);
    }
    return [...loaders, path.join(__dirname, 'exitSender.ts')];
  }
  return [path.join(__dirname, 'clientExitSender.js')];
}

// -------------------------------------------------------------------------------------------------
// Client

const liveClients = new Set<TrackingClient>();
let hooksInstalled = false;
let crashed = false;
const EXIT_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** How a run this module created ends when the process exits with `code`: as MLflow's `with start_run()`. */
const endStatusFor = (code: number): RunEndStatus => (crashed || code !== 0 ? 'FAILED' : 'FINISHED');

/** Something logged was not delivered: an exit code 0 becomes 1 (read by Node after 'beforeExit' and 'exit'). */
function failExitCode(): void {
  if (Number(process.exitCode ?? 0) !== 0) return;
  process.exitCode = 1;
  process.stderr.write('runwise client: not everything this script logged reached the tracking endpoint; exit code set to 1\n');
}

/**
 * SIGTERM (a scheduler's preemption) or SIGINT with no handler of the program's own: send what is left
 * and end an owned run KILLED, synchronously, then restore the default disposition and raise the signal
 * again, so the process dies by it as it would have. This listener is only ever the signal's sole
 * one (see watchExitSignals), so raising the signal again is what the default would have done.
 */
function onExitSignal(signal: NodeJS.Signals): void {
  for (const c of liveClients) c.finishAtExit('KILLED');
  for (const s of EXIT_SIGNALS) process.removeListener(s, onExitSignal);
  process.kill(process.pid, signal);
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // Observes an uncaught exception (or unhandled rejection) without handling it: Node still prints
  // the error and exits non-zero, and our 'exit' handler then ends the run as FAILED.
  process.on('uncaughtExceptionMonitor', () => {
    crashed = true;
  });
  // The event loop ran dry (the code is process.exitCode): flush and end runs asynchronously (this
  // keeps the loop alive until done).
  process.on('beforeExit', (code) => {
    for (const c of liveClients) c.finishBeforeExit(endStatusFor(code));
  });
  // process.exit(), a crash, or the end after beforeExit: send the rest synchronously.
  process.on('exit', (code) => {
    let delivered = true;
    for (const c of liveClients) delivered = c.finishAtExit(endStatusFor(code)) && delivered;
    if (!delivered && code === 0) failExitCode();
  });
  watchExitSignals();
}

/**
 * Listens for SIGTERM/SIGINT only while nothing else does. A handler of the program's own, or of a
 * library (signal-exit re-raises a signal only when its listeners are the only ones), takes the
 * signal over: ours steps aside when it is added, so two polite handlers never wait for each other
 * and leave the process unkillable.
 */
function watchExitSignals(): void {
  for (const s of EXIT_SIGNALS) if (process.listenerCount(s) === 0) process.on(s, onExitSignal);
  process.on('newListener', (event: string | symbol, listener: unknown) => {
    if (listener !== onExitSignal && (EXIT_SIGNALS as readonly (string | symbol)[]).includes(event)) process.removeListener(event as NodeJS.Signals, onExitSignal);
  });
}

export class TrackingClient {
  private readonly http: Http;
  private readonly givenRunId: string | undefined;
  private readonly experimentName: string | undefined;
  private readonly experimentId: string | undefined;
  private run: RunSlot | undefined;
  private metrics: { e: Entity; size: number }[] = [];
  private params = new Map<string, { e: Entity; size: number }>();
  private tags = new Map<string, { e: Entity; size: number }>();
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly ops: Op[] = [];
  private pumping: Promise<void> | undefined;
  private deferred: unknown;
  private finishing = false;

  constructor(options: TrackingClientOptions) {
    this.http = new Http(options.trackingUri, options.token || undefined);
    this.givenRunId = options.runId || undefined;
    this.experimentName = options.experimentName || undefined;
    this.experimentId = options.experimentId || undefined;
  }

  /** A client configured by MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN, MLFLOW_RUN_ID, MLFLOW_EXPERIMENT_NAME/_ID. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): TrackingClient {
    const uri = env.MLFLOW_TRACKING_URI?.trim();
    if (!uri) {
      throw new RunwiseTrackingError(
        'MISSING_TRACKING_URI',
        'MLFLOW_TRACKING_URI is not set. Run this script from Runwise, or set it to the tracking endpoint (e.g. MLFLOW_TRACKING_URI=http://127.0.0.1:5123, plus MLFLOW_TRACKING_TOKEN).',
      );
    }
    return new TrackingClient({
      trackingUri: uri,
      token: env.MLFLOW_TRACKING_TOKEN?.trim(),
      runId: env.MLFLOW_RUN_ID?.trim(),
      experimentName: env.MLFLOW_EXPERIMENT_NAME?.trim(),
      experimentId: env.MLFLOW_EXPERIMENT_ID?.trim(),
    });
  }

  // --- runs

  /**
   * Starts the run to log into and resolves to its id: the given runId (MLFLOW_RUN_ID) when set, else
   * a new run in `experimentName` (or the client's, or MLflow's default experiment, id '0'), creating
   * the experiment if needed; a deleted experiment is refused, as MLflow's `set_experiment` does.
   * Logging without startRun() starts a run implicitly.
   */
  async startRun(options: StartRunOptions = {}): Promise<string> {
    this.throwDeferred();
    if (this.run) throw new RunwiseTrackingError('INVALID_STATE', `run ${this.run.id ?? '(being created)'} is already active; call endRun() first`);
    const slot = this.newSlot(options);
    this.run = slot;
    if (!slot.owned) {
      if (options.tags) this.setTags(options.tags);
      return slot.id!;
    }
    try {
      return await this.ensureCreated(slot);
    } catch (e) {
      if (this.run === slot) this.run = undefined;
      throw e;
    }
  }

  private newSlot(options: StartRunOptions): RunSlot {
    installExitHooks();
    liveClients.add(this);
    if (this.givenRunId) return { id: this.givenRunId, owned: false };
    const tags: Record<string, string> = { [SOURCE_TYPE_TAG]: 'LOCAL' };
    if (process.argv[1]) tags[SOURCE_NAME_TAG] = path.resolve(process.argv[1]);
    let user = process.env.USER || process.env.USERNAME || '';
    try {
      user ||= os.userInfo().username;
    } catch {
      // no user database entry: leave it empty
    }
    if (user) tags[USER_TAG] = user;
    for (const [k, v] of Object.entries(options.tags ?? {})) tags[k] = String(v);
    const body: CreateSpec['body'] = { start_time: Date.now(), user_id: user, tags: Object.entries(tags).map(([key, value]) => ({ key, value })) };
    if (options.runName) body.run_name = String(options.runName);
    const experimentName = options.experimentName || this.experimentName;
    // Neither named: MLflow's default experiment by id, whatever it has been renamed to.
    const experimentId = options.experimentName ? undefined : (this.experimentId ?? (experimentName ? undefined : DEFAULT_EXPERIMENT_ID));
    return { owned: true, create: { experimentName, experimentId, body } };
  }

  private currentRun(): RunSlot {
    return (this.run ??= this.newSlot({}));
  }

  private ensureCreated(slot: RunSlot): Promise<string> {
    return ensureRunCreated(this.http, slot);
  }

  /**
   * Sends everything buffered, and ends the run if this client created it (a run given by runId /
   * MLFLOW_RUN_ID belongs to whoever launched the process: it is only detached from).
   */
  async endRun(status: RunEndStatus = 'FINISHED'): Promise<void> {
    if (!TERMINAL_STATUSES.includes(status)) throw new TypeError(`status must be one of ${TERMINAL_STATUSES.join(', ')}`);
    const slot = this.run;
    if (slot) {
      this.moveBufferToOps();
      if (slot.owned) this.ops.push({ kind: 'end', run: slot, status, endTime: Date.now(), written: false });
      this.run = undefined;
    }
    await this.flush();
  }

  activeRunId(): string | undefined {
    return this.run?.id;
  }

  // --- buffered logging

  logParam(key: string, value: unknown): void {
    this.log('param', [{ key: String(key), value: String(value) }]);
  }

  logParams(params: Record<string, unknown>): void {
    this.log('param', Object.entries(params).map(([key, value]) => ({ key, value: String(value) })));
  }

  logMetric(key: string, value: number, step?: number, timestamp?: number): void {
    const e: Entity = {
      key: String(key),
      value: metricValue(value),
      timestamp: timestamp === undefined || timestamp === null ? Date.now() : integer(timestamp, 'timestamp'),
      step: step === undefined || step === null ? 0 : integer(step, 'step'),
    };
    this.log('metric', [e]);
  }

  logMetrics(metrics: Record<string, number>, step?: number): void {
    const timestamp = Date.now();
    const s = step === undefined || step === null ? 0 : integer(step, 'step');
    this.log('metric', Object.entries(metrics).map(([key, v]) => ({ key, value: metricValue(v), timestamp, step: s })));
  }

  setTag(key: string, value: unknown): void {
    this.log('tag', [{ key: String(key), value: String(value) }]);
  }

  setTags(tags: Record<string, unknown>): void {
    this.log('tag', Object.entries(tags).map(([key, value]) => ({ key, value: String(value) })));
  }

  private log(kind: 'metric' | 'param' | 'tag', entities: Entity[]): void {
    this.throwDeferred();
    this.currentRun();
    for (const e of entities) {
      let full = this.add(kind, e, false);
      if (full === undefined) {
        // A param changed while its first value is still buffered: the server refuses both in one
        // request, so send the first value, then let the server judge the change.
        this.moveBufferToOps();
        full = this.add(kind, e, true);
      }
      if (full) {
        this.moveBufferToOps();
        this.kick();
      }
    }
  }

  /** Buffers one entity; true when the buffer now holds a full batch, undefined for a changed param. */
  private add(kind: 'metric' | 'param' | 'tag', e: Entity, force: boolean): boolean | undefined {
    const size = sizeOf(e);
    if (kind === 'metric') {
      this.metrics.push({ e, size });
    } else {
      const table = kind === 'param' ? this.params : this.tags;
      const prior = table.get(e.key);
      if (prior) {
        if (kind === 'param' && prior.e.value === e.value) return false;
        if (kind === 'param' && !force) return undefined;
        this.bytes -= prior.size;
        table.delete(e.key); // a tag set again: last value wins, as on the server
      }
      table.set(e.key, { e, size });
    }
    this.bytes += size;
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.moveBufferToOps();
        this.kick();
      }, FLUSH_INTERVAL_MS);
      this.timer.unref();
    }
    const np = this.params.size;
    const nt = this.tags.size;
    const nm = this.metrics.length;
    return (
      nm >= MAX_METRICS_PER_BATCH || np >= MAX_PARAMS_PER_BATCH || nt >= MAX_TAGS_PER_BATCH || nm + np + nt >= MAX_ENTITIES_PER_BATCH || this.bytes >= MAX_BATCH_BYTES
    );
  }

  /** Cuts the buffer into log-batch requests within MLflow's limits and queues them. */
  private moveBufferToOps(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const slot = this.run;
    if (!slot) return;
    while (this.metrics.length > 0 || this.params.size > 0 || this.tags.size > 0) {
      let budget = MAX_BATCH_BYTES - 200;
      let count = 0;
      const body = { metrics: [] as Entity[], params: [] as Entity[], tags: [] as Entity[] };
      for (const [list, table, limit] of [
        [body.params, this.params, MAX_PARAMS_PER_BATCH],
        [body.tags, this.tags, MAX_TAGS_PER_BATCH],
      ] as const) {
        for (const [key, { e, size }] of table) {
          if (list.length >= limit || count >= MAX_ENTITIES_PER_BATCH || (size > budget && count > 0)) break;
          table.delete(key);
          list.push(e);
          budget -= size;
          count++;
        }
      }
      let i = 0;
      for (; i < this.metrics.length && count < MAX_ENTITIES_PER_BATCH && body.metrics.length < MAX_METRICS_PER_BATCH; i++) {
        const { e, size } = this.metrics[i]!;
        if (size > budget && count > 0) break;
        body.metrics.push(e);
        budget -= size;
        count++;
      }
      this.metrics.splice(0, i);
      this.ops.push({ kind: 'batch', run: slot, body, hasMetrics: body.metrics.length > 0, written: false });
    }
    this.bytes = 0;
  }

  // --- inputs and artifacts (queued, sent at once rather than after the 1 s delay)

  logInput(input: LogInputOptions): void {
    this.throwDeferred();
    const dataset: Record<string, string> = {
      name: String(input.name),
      digest: String(input.digest),
      source_type: String(input.sourceType ?? 'local'),
      source: String(input.source ?? ''),
    };
    if (input.schema !== undefined && input.schema !== null) dataset.schema = typeof input.schema === 'string' ? input.schema : JSON.stringify(input.schema);
    if (input.profile !== undefined && input.profile !== null) dataset.profile = typeof input.profile === 'string' ? input.profile : JSON.stringify(input.profile);
    const tags = input.context ? [{ key: DATASET_CONTEXT_TAG, value: String(input.context) }] : [];
    this.ops.push({ kind: 'inputs', run: this.currentRun(), datasets: [{ tags, dataset }], written: false });
    this.kick();
  }

  /** Uploads a file (or a directory, recursively) into the run's artifacts, under `artifactPath`. */
  logArtifact(localPath: string, artifactPath?: string): void {
    this.throwDeferred();
    const stat = fs.statSync(localPath); // throws at once for a missing file
    const run = this.currentRun();
    const dir = (artifactPath ?? '').replace(/^\/+|\/+$/g, '');
    const base = path.basename(path.resolve(localPath));
    const files: [string, string][] = [];
    if (stat.isDirectory()) {
      const walk = (d: string, rel: string): void => {
        for (const ent of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
          const full = path.join(d, ent.name);
          if (ent.isDirectory()) walk(full, `${rel}/${ent.name}`);
          else if (ent.isFile()) files.push([full, `${rel}/${ent.name}`]);
        }
      };
      walk(localPath, base);
    } else {
      files.push([localPath, base]);
    }
    for (const [file, rel] of files) {
      this.ops.push({ kind: 'artifact', run, file: path.resolve(file), dest: dir ? `${dir}/${rel}` : rel, written: false });
    }
    this.kick();
  }

  // --- sending

  /** Sends everything buffered now; rejects with the first error met since the last call. */
  async flush(): Promise<void> {
    this.moveBufferToOps();
    this.kick();
    while (this.pumping) await this.pumping;
    this.throwDeferred();
  }

  private throwDeferred(): void {
    const e = this.deferred;
    if (e !== undefined) {
      this.deferred = undefined;
      throw e;
    }
  }

  private kick(): void {
    if (this.pumping || this.ops.length === 0) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      if (this.ops.length > 0) this.kick(); // queued after the loop's last look
    });
  }

  private async pump(): Promise<void> {
    while (this.ops.length > 0) {
      const op = this.ops[0]!;
      try {
        await sendOp(this.http, op, await this.ensureCreated(op.run), (w) => (op.written = w));
      } catch (e) {
        this.deferred ??= e; // kept for the next call to throw; the queue goes on
      }
      this.ops.shift();
    }
  }

  // --- exit

  private hasWork(): boolean {
    return this.ops.length > 0 || this.metrics.length > 0 || this.params.size > 0 || this.tags.size > 0 || (this.run?.owned ?? false);
  }

  /** @internal 'beforeExit': flush and end an owned run as `status`, asynchronously. */
  finishBeforeExit(status: RunEndStatus): void {
    if (this.finishing || !this.hasWork()) return;
    this.finishing = true;
    const done = this.run?.owned ? this.endRun(status) : this.flush();
    done
      .catch((e: unknown) => {
        process.stderr.write(`runwise client: ${e instanceof Error ? e.message : String(e)}\n`);
        failExitCode();
      })
      .finally(() => (this.finishing = false));
  }

  /**
   * @internal 'exit': no async work can run any more, so what is still unsent (buffered, queued, or
   * in flight but not yet fully handed to the OS) goes through a child process run synchronously.
   * A request fully written but not answered yet may or may not be applied, like a timeout: it is
   * sent again only when that is harmless (everything but a metrics batch, see the retry policy).
   * An owned run is ended as `status`. Returns false when something logged was not delivered (the
   * failures are printed on stderr).
   */
  finishAtExit(status: RunEndStatus): boolean {
    this.moveBufferToOps();
    const slot = this.run;
    if (slot?.owned) this.ops.push({ kind: 'end', run: slot, status, endTime: Date.now(), written: false });
    this.run = undefined;
    const pending = this.ops.filter((op) => !op.written || retryPolicyOf(op).includes('timeout'));
    this.ops.length = 0;
    let delivered = true;
    if (this.deferred !== undefined) {
      const e = this.deferred;
      this.deferred = undefined;
      delivered = false;
      process.stderr.write(`runwise client: ${e instanceof Error ? e.message : String(e)}\n`);
    }
    if (pending.length === 0) return delivered;
    const runs: RunSlot[] = [];
    const payload: ExitPayload = { uri: this.http.uri, token: this.http.token, runs: [], ops: [] };
    for (const op of pending) {
      let i = runs.indexOf(op.run);
      if (i < 0) {
        i = runs.push(op.run) - 1;
        payload.runs.push(op.run.id ? { id: op.run.id, root: op.run.root } : { create: op.run.create });
      }
      const { run: _run, written: _written, ...rest } = op;
      payload.ops.push({ ...rest, run: i } as WireOp);
    }
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // the sender gets exactly the loader it needs on its command line
    const r = spawnSync(process.execPath, exitSenderCommand(), {
      input: JSON.stringify(payload),
      stdio: ['pipe', 'ignore', 'inherit'],
      env,
      timeout: 120_000,
    });
    if (r.error) process.stderr.write(`runwise client: could not send the last logged values at exit: ${r.error.message}\n`);
    return delivered && !r.error && r.status === 0; // the sender printed its failures
  }
}

// -------------------------------------------------------------------------------------------------
// Module-level API: one default client, configured from the environment on first use.

let defaultClient: TrackingClient | undefined;

function client(): TrackingClient {
  return (defaultClient ??= TrackingClient.fromEnv());
}

export const startRun = (options?: StartRunOptions): Promise<string> => client().startRun(options);
export const logParam = (key: string, value: unknown): void => client().logParam(key, value);
export const logParams = (params: Record<string, unknown>): void => client().logParams(params);
export const logMetric = (key: string, value: number, step?: number, timestamp?: number): void => client().logMetric(key, value, step, timestamp);
export const logMetrics = (metrics: Record<string, number>, step?: number): void => client().logMetrics(metrics, step);
export const setTag = (key: string, value: unknown): void => client().setTag(key, value);
export const setTags = (tags: Record<string, unknown>): void => client().setTags(tags);
export const logInput = (input: LogInputOptions): void => client().logInput(input);
export const logArtifact = (localPath: string, artifactPath?: string): void => client().logArtifact(localPath, artifactPath);
export const flush = (): Promise<void> => (defaultClient ? defaultClient.flush() : Promise.resolve());
export const endRun = (status?: RunEndStatus): Promise<void> => (defaultClient ? defaultClient.endRun(status) : Promise.resolve());
export const activeRunId = (): string | undefined => defaultClient?.activeRunId();
