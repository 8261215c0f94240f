/**
 * The tracking endpoint: MLflow's REST API (the subset a training script uses) and the
 * `mlflow-artifacts` proxy, over node:http, bound to loopback only, so the real `mlflow` client
 * (MLFLOW_TRACKING_URI=http://127.0.0.1:PORT, MLFLOW_TRACKING_TOKEN=<token>) logs into the
 * workspace's tracker.
 *
 * Every request is checked before anything else: the Host header must name the loopback address
 * and port (a DNS-rebinding defence), then `Authorization: Bearer <token>` must match (compared in
 * constant time). No CORS headers are ever sent. JSON bodies are limited to 1 MB and artifact
 * uploads to 256 GiB (and the disk's free space), streamed to disk; a request over its limit is refused without buffering it.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { existsSync, statfsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as path from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  MLFLOW_AJAX_API_PREFIX,
  MLFLOW_AJAX_ARTIFACTS_PREFIX,
  MLFLOW_API_PREFIX,
  MLFLOW_ARTIFACTS_PREFIX,
  MLFLOW_ARTIFACTS_ROUTES,
  MLFLOW_ROUTES,
  type HttpMethod,
  type RestRoute,
} from '../mlflow/restApi';
import { MAX_BATCH_LOG_REQUEST_SIZE } from '../tracker/limits';
import { MODEL_VERSION_ARTIFACT_ROOT } from '../tracker/modelRegistry';
import { DatabaseBusyError } from '../tracker/sqlStore';
import { Tracker } from '../tracker/tracker';
import { TrackerError } from '../tracker/trackerError';
import { HttpError, errorReply, invalidParameter, resourceNotFound } from './httpErrors';
import {
  LOGGED_MODELS_TAG,
  appendLoggedModel,
  artifactListJson,
  experimentJson,
  loggedModelArtifactListJson,
  loggedModelJson,
  metricJson,
  modelIdOf,
  pageJson,
  parseCreateExperiment,
  parseCreateLoggedModel,
  parseCreateRun,
  parseDeleteTag,
  parseFinalizeLoggedModel,
  parseDeleteExperimentTag,
  parseExperimentRef,
  parseGetExperimentByName,
  parseGetMetricHistory,
  parseJsonBody,
  parseLogBatch,
  parseLogInputs,
  parseLogLoggedModelParams,
  parseLogMetric,
  parseLogModel,
  parseLogOutputs,
  parseLogParam,
  parseQuery,
  parseRunRef,
  parseSearchExperiments,
  parseSearchLoggedModels,
  parseSearchRuns,
  parseSetExperimentTag,
  parseSetLoggedModelTags,
  parseSetTag,
  parseUpdateExperiment,
  parseUpdateRun,
  runInfoJson,
  runJson,
  type Message,
} from './mlflowProtocol';
import { requestOwner } from './peerProcess';
import { REGISTRY_ROUTES } from './registryRoutes';
import { MLMODEL_FILE, versionMlmodel } from './versionMlmodel';

export interface TrackingServerOptions {
  /** The workspace whose tracker the endpoint serves. */
  workspace: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Bearer token clients must send; default RUNWISE_TOKEN, else 32 random bytes in hex. */
  token?: string;
  /** A tracker to serve instead of opening the workspace's; the caller keeps closing it. */
  tracker?: Tracker;
  host?: '127.0.0.1' | '::1';
  /** Where unexpected errors (500s) are reported; default console.error. */
  log?: (message: string) => void;
  /**
   * How often RUNNING runs whose owning process is gone (a killed training script) are marked
   * FAILED, in ms; default ORPHAN_SWEEP_INTERVAL_MS, 0 for never (only when a tracker is opened).
   */
  orphanSweepIntervalMs?: number;
}

export interface TrackingServer {
  uri: string;
  port: number;
  token: string;
  tracker: Tracker;
  close(): Promise<void>;
}

/** The largest JSON request body accepted (MLflow's MAX_BATCH_LOG_REQUEST_SIZE). */
export const MAX_JSON_BODY_BYTES = MAX_BATCH_LOG_REQUEST_SIZE;
/**
 * runs/log-inputs may carry a dataset schema of up to 1 MiB (MLflow's limit), escaped inside JSON:
 * MLflow's server limits only log-batch bodies, so this route gets room for the largest schema.
 */
export const MAX_LOG_INPUTS_BODY_BYTES = 4 * 1024 * 1024;
/**
 * The largest artifact upload accepted: past what a large model's weights take (MLflow's server sets
 * no limit, and its client sends a file in one PUT when the server offers no multipart upload); an
 * upload that declares more than the workspace's disk has free is refused before a byte is stored.
 */
export const MAX_ARTIFACT_BYTES = 256 * 1024 ** 3;
/** After refusing a request, at most this much of the rest of its body is read (and dropped) to keep the connection. */
const DISCARD_LIMIT_BYTES = 4 * 1024 * 1024;
/**
 * Time to receive a request's headers. A request's body has no time limit (Node's requestTimeout 0):
 * an upload takes what its size needs; only a client with the token gets that far, and connections
 * without it have their own deadline (UNAUTHENTICATED_DEADLINE_MS).
 */
const HEADERS_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 0;
/** The default of TrackingServerOptions.orphanSweepIntervalMs. */
export const ORPHAN_SWEEP_INTERVAL_MS = 2_000;
/** Open connections at once: training scripts keep one or a few each. */
const MAX_CONNECTIONS = 512;
/**
 * Connections that have not yet sent a request with the token have a budget of their own, so idle
 * sockets opened by anyone on the machine cannot use up MAX_CONNECTIONS: at most this many at once
 * (past it the oldest is closed), each closed unless its first authenticated request's headers
 * arrive within the deadline. A client sends them at once; it keeps its connection after that.
 */
export const MAX_UNAUTHENTICATED_CONNECTIONS = 64;
export const UNAUTHENTICATED_DEADLINE_MS = 5_000;

const API_PREFIXES = [`${MLFLOW_API_PREFIX}/`, `${MLFLOW_AJAX_API_PREFIX}/`] as const;
/**
 * MLflow 3's server-info, which its client asks before an artifact transfer through the proxy (every
 * download by `load_model` included): multipart transfers off, so it sends one proxied GET or PUT;
 * no workspaces. MLflow's server answers these fields (its UI reads more it has no use for here).
 */
const SERVER_INFO_PATHS: ReadonlySet<string> = new Set(['/api/3.0/mlflow/server-info', '/ajax-api/3.0/mlflow/server-info']);
const SERVER_INFO = { store_type: 'SqlStore', workspaces_enabled: false, trace_archival_enabled: false, multipart_uploads_enabled: false, multipart_downloads_enabled: false };
const ARTIFACT_ROOTS = [
  `${MLFLOW_ARTIFACTS_PREFIX}/${MLFLOW_ARTIFACTS_ROUTES.ListArtifacts.path}`,
  `${MLFLOW_AJAX_ARTIFACTS_PREFIX}/${MLFLOW_ARTIFACTS_ROUTES.ListArtifacts.path}`,
] as const;
/**
 * The proxy's multipart-upload (mpu/create|complete|abort) and presigned-download routes. They hand out
 * object-store URLs, which a local artifact store has none of. mpu/* is answered as MLflow's server
 * answers it for a store without multipart support: 501 NOT_IMPLEMENTED with the message the client
 * (HttpArtifactRepository._try_multipart_upload) recognises and falls back to a single PUT on; the
 * client falls back to a proxied GET on a 501 from presigned/* (MlflowArtifactsRepository._download_file).
 */
const DIRECT_TRANSFER_ROUTE = /^\/(?:ajax-)?api\/2\.0\/mlflow-artifacts\/(?:mpu\/(?:create|complete|abort)|(?:mpd\/)?presigned)(?:\/|$)/;
/** _UnsupportedMultipartUploadException.MESSAGE in mlflow/exceptions.py, matched by prefix by the client. */
export const UNSUPPORTED_MULTIPART_UPLOAD_MESSAGE = 'Multipart upload is not supported for the current artifact repository';
// -----------------------------------------------------------------------------------------------
// The MLflow REST routes: each rpc of MLFLOW_ROUTES (core/mlflow/restApi.ts) → its handler. The table
// is by path under /api/2.0/mlflow/ (a template: `{name}` is a path parameter, as service.proto
// writes them) and method.

type Method = HttpMethod;
/** The path parameters of a templated route, percent-decoded. */
type PathParams = Readonly<Record<string, string>>;
type Handler = (tracker: Tracker, msg: Message, path: PathParams, req: IncomingMessage) => unknown;

interface Endpoint {
  handle: Handler;
  /** Largest body accepted; default MAX_JSON_BODY_BYTES. */
  maxBody?: number;
}

type Route = Partial<Record<Method, Endpoint>>;

const endpoint = (handle: Handler, maxBody?: number): Endpoint => (maxBody === undefined ? { handle } : { handle, maxBody });

/** Each rpc's endpoint under its path and method (and GET too where the rpc has `alsoGet`). */
function routeTable(entries: readonly (readonly [RestRoute, Endpoint])[]): ReadonlyMap<string, Route> {
  const table = new Map<string, Route>();
  for (const [rpc, served] of entries) {
    const route = table.get(rpc.path) ?? {};
    if (route[rpc.method]) throw new Error(`two handlers for ${rpc.method} ${rpc.path}`);
    route[rpc.method] = served;
    if (rpc.alsoGet) route.GET = served;
    table.set(rpc.path, route);
  }
  return table;
}

const R = MLFLOW_ROUTES;

/** The model of a `logged-models/{model_id}…` route; a body's `model_id`, if any, must be the same. */
const modelOf = (m: Message, p: PathParams): string => modelIdOf(m, p.model_id!);

const ROUTES = routeTable([
  [
    R.CreateExperiment,
    endpoint((t, m) => {
      const { name, ...options } = parseCreateExperiment(m);
      return { experiment_id: t.createExperiment(name, options).experimentId };
    }),
  ],
  [R.GetExperiment, endpoint((t, m) => ({ experiment: experimentJson(t.getExperiment(parseExperimentRef(m))) }))],
  [
    R.GetExperimentByName,
    endpoint((t, m) => {
      const name = parseGetExperimentByName(m);
      const experiment = t.getExperimentByName(name);
      if (!experiment) throw resourceNotFound(`Could not find experiment with name '${name}'`);
      return { experiment: experimentJson(experiment) };
    }),
  ],
  [R.SearchExperiments, endpoint((t, m) => pageJson('experiments', t.searchExperiments(parseSearchExperiments(m)), experimentJson))],
  [
    R.SetExperimentTag,
    endpoint((t, m) => {
      const { experimentId, tag } = parseSetExperimentTag(m);
      t.setExperimentTag(experimentId, tag);
      return {};
    }),
  ],
  [
    R.DeleteExperimentTag,
    endpoint((t, m) => {
      const { experimentId, key } = parseDeleteExperimentTag(m);
      t.deleteExperimentTag(experimentId, key);
      return {};
    }),
  ],
  [
    R.UpdateExperiment,
    endpoint((t, m) => {
      const { experimentId, newName } = parseUpdateExperiment(m);
      t.renameExperiment(experimentId, newName);
      return {};
    }),
  ],
  // Deleting an experiment deletes its runs, restoring it restores them (MLflow's SQL store).
  [R.DeleteExperiment, endpoint((t, m) => (t.deleteExperiment(parseExperimentRef(m)), {}))],
  [R.RestoreExperiment, endpoint((t, m) => (t.restoreExperiment(parseExperimentRef(m)), {}))],
  // The process that sent runs/create, or set a run RUNNING, owns the run: it is FAILED when that process dies.
  [R.CreateRun, endpoint((t, m, _p, req) => ({ run: runJson(t.createRun(parseCreateRun(m), requestOwner(req))) }))],
  [R.GetRun, endpoint((t, m) => ({ run: runJson(t.getRun(parseRunRef(m))) }))],
  [
    R.UpdateRun,
    endpoint((t, m, _p, req) => {
      const { runId, update } = parseUpdateRun(m);
      return { run_info: runInfoJson(t.updateRun(runId, update, update.status === 'RUNNING' ? requestOwner(req) : undefined)) };
    }),
  ],
  [R.DeleteRun, endpoint((t, m) => (t.deleteRun(parseRunRef(m)), {}))],
  [R.RestoreRun, endpoint((t, m) => (t.restoreRun(parseRunRef(m)), {}))],
  [
    R.LogMetric,
    endpoint((t, m) => {
      const { runId, metric } = parseLogMetric(m);
      t.logBatch(runId, { metrics: [metric] });
      return {};
    }),
  ],
  [
    R.LogParam,
    endpoint((t, m) => {
      const { runId, param } = parseLogParam(m);
      t.logBatch(runId, { params: [param] });
      return {};
    }),
  ],
  [
    R.SetTag,
    endpoint((t, m) => {
      const { runId, tag } = parseSetTag(m);
      t.logBatch(runId, { tags: [tag] });
      return {};
    }),
  ],
  [
    R.DeleteTag,
    endpoint((t, m) => {
      const { runId, key } = parseDeleteTag(m);
      t.deleteTag(runId, key);
      return {};
    }),
  ],
  [
    R.LogBatch,
    endpoint((t, m) => {
      const { runId, batch } = parseLogBatch(m);
      t.logBatch(runId, batch);
      return {};
    }),
  ],
  [
    R.LogInputs,
    endpoint((t, m) => {
      const { runId, inputs, models } = parseLogInputs(m);
      t.logInputs(runId, inputs, models);
      return {};
    }, MAX_LOG_INPUTS_BODY_BYTES),
  ],
  [
    // MLflow 3: mlflow.<flavor>.log_model links the run to the model it creates (LogOutputs).
    R.LogOutputs,
    endpoint((t, m) => {
      const { runId, outputs } = parseLogOutputs(m);
      t.logOutputs(runId, outputs);
      return {};
    }),
  ],
  [
    // mlflow.<flavor>.log_model (MLflow 2) records the model here after uploading its files; MLflow's
    // stores append it to the run's mlflow.log-model.history tag. Handlers run synchronously, so no
    // other request of this server can write the tag between reading it and writing it back.
    R.LogModel,
    endpoint((t, m) => {
      const { runId, model } = parseLogModel(m);
      const prior = t.getRun(runId).tags.find((tag) => tag.key === LOGGED_MODELS_TAG)?.value;
      t.logBatch(runId, { tags: [{ key: LOGGED_MODELS_TAG, value: appendLoggedModel(prior, model) }] });
      return {};
    }),
  ],
  [R.SearchRuns, endpoint((t, m) => pageJson('runs', t.searchRuns(parseSearchRuns(m)), runJson))],
  [
    R.GetMetricHistory,
    endpoint((t, m) => {
      const { runId, key, ...page } = parseGetMetricHistory(m);
      return pageJson('metrics', t.getMetricHistory(runId, key, page), metricJson);
    }),
  ],
  // MLflow 3's logged models (RestStore.create_logged_model … search_logged_models).
  [
    R.CreateLoggedModel,
    endpoint((t, m) => {
      const { experimentId, ...options } = parseCreateLoggedModel(m);
      return { model: loggedModelJson(t.createLoggedModel({ experimentId, ...options })) };
    }),
  ],
  [R.SearchLoggedModels, endpoint((t, m) => pageJson('models', t.searchLoggedModels(parseSearchLoggedModels(m)), loggedModelJson))],
  [R.GetLoggedModel, endpoint((t, m, p) => ({ model: loggedModelJson(t.getLoggedModel(p.model_id!, { allowDeleted: String(m.allow_deleted).toLowerCase() === 'true' })) }))],
  [R.FinalizeLoggedModel, endpoint((t, m, p) => ({ model: loggedModelJson(t.finalizeLoggedModel(modelOf(m, p), parseFinalizeLoggedModel(m))) }))],
  [R.DeleteLoggedModel, endpoint((t, m, p) => (t.deleteLoggedModel(modelOf(m, p)), {}))],
  [R.SetLoggedModelTags, endpoint((t, m, p) => (t.setLoggedModelTags(modelOf(m, p), parseSetLoggedModelTags(m)), {}))],
  [R.DeleteLoggedModelTag, endpoint((t, m, p) => (t.deleteLoggedModelTag(modelOf(m, p), p.tag_key!), {}))],
  [R.LogLoggedModelParams, endpoint((t, m, p) => (t.logLoggedModelParams(modelOf(m, p), parseLogLoggedModelParams(m)), {}))],
  [
    R.ListLoggedModelArtifacts,
    endpoint((t, m, p) => {
      const dir = m.artifact_directory_path;
      if (dir !== undefined && typeof dir !== 'string') throw invalidParameter("Invalid value for parameter 'artifact_directory_path': expected a string.");
      const model = t.getLoggedModel(p.model_id!);
      return loggedModelArtifactListJson(model.artifactUri, t.listLoggedModelArtifacts(model.modelId, dir ?? ''));
    }),
  ],
  // The Model Registry (model_registry.proto): core/endpoint/registryRoutes.ts.
  ...REGISTRY_ROUTES.map(([rpc, handle]) => [rpc, endpoint((t, m) => handle(t, m))] as const),
]);

/** The templated routes, matched in order after an exact lookup; a parameter matches one segment, a last `tag_key` the rest. */
const TEMPLATES: readonly { pattern: RegExp; names: readonly string[]; route: Route }[] = [...ROUTES]
  .filter(([name]) => name.includes('{'))
  .map(([name, route]) => {
    const names: string[] = [];
    const source = name
      .split('/')
      .map((seg) => {
        const param = /^\{(\w+)\}$/.exec(seg);
        if (!param) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(param[1]!);
        return param[1] === 'tag_key' ? '(.+)' : '([^/]+)';
      })
      .join('/');
    return { pattern: new RegExp(`^${source}$`), names, route };
  });

/** The route of a name under the API prefix, with its path parameters. */
function findRoute(name: string): { route: Route; params: PathParams } | undefined {
  const exact = ROUTES.get(name);
  if (exact) return { route: exact, params: {} };
  for (const t of TEMPLATES) {
    const match = t.pattern.exec(name);
    if (!match) continue;
    const params: Record<string, string> = {};
    t.names.forEach((n, i) => {
      try {
        params[n] = decodeURIComponent(match[i + 1]!);
      } catch {
        throw invalidParameter(`Invalid path parameter '${n}': bad percent-encoding in '${match[i + 1]}'.`);
      }
    });
    return { route: t.route, params };
  }
  return undefined;
}

// -----------------------------------------------------------------------------------------------
// Server

export async function startTrackingServer(options: TrackingServerOptions): Promise<TrackingServer> {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port ${port}: expected an integer from 0 to 65535`);
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1' && host !== '::1') throw new Error(`the tracking endpoint binds to loopback only (127.0.0.1 or ::1), not ${String(host)}`);
  const token = options.token || process.env.RUNWISE_TOKEN || randomBytes(32).toString('hex');
  const tokenDigest = sha256(token);
  const log = options.log ?? ((message: string) => console.error(message));
  const ownsTracker = options.tracker === undefined;
  const tracker = options.tracker ?? Tracker.open(options.workspace);

  let allowedHosts: ReadonlySet<string> = new Set();
  const server = createServer(
    // Bounded waits: a client that trickles its headers or body cannot hold a connection for long.
    { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
    (req, res) => {
      serve(req, res).catch((e: unknown) => log(`runwise tracking endpoint: ${describe(e)}`));
    },
  );
  server.maxConnections = MAX_CONNECTIONS;
  server.on('clientError', answerUnparsed);
  const authenticated = budgetUnauthenticated(server);

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.on('error', () => {
      /* the client went away; nothing to answer */
    });
    try {
      checkHost(req, allowedHosts);
      checkToken(req, tokenDigest);
      authenticated(req.socket);
      await route(req, res, tracker);
    } catch (e) {
      // A client that went away mid-request (its body cut short) is no fault of the endpoint's: nobody to answer, nothing to log.
      if (req.socket.destroyed || (e as NodeJS.ErrnoException)?.code === 'ECONNRESET' || (e as Error)?.message === 'aborted') return;
      const reply = errorReply(e);
      if (reply.unexpected) log(`runwise tracking endpoint: ${req.method} ${req.url}: ${describe(e)}`);
      if (reply.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
      // Whoever failed the host or token check gets no kept-alive connection to try again on.
      if (reply.status === 401 || reply.status === 403) res.setHeader('Connection', 'close');
      // The workspace's absolute path is not given out (a file of the store found to be a link, an
      // unexpected file system error): the answer names such a file relative to the workspace.
      const message = String(reply.body.message ?? '');
      const where = path.resolve(tracker.workspace);
      sendError(req, res, reply.status, message.includes(where) ? { ...reply.body, message: message.split(`${where}${path.sep}`).join('').split(where).join('.') } : reply.body);
    }
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    if (ownsTracker) tracker.close();
    throw e;
  }
  server.on('error', (e) => log(`runwise tracking endpoint: ${describe(e)}`));
  const bound = (server.address() as AddressInfo).port;
  allowedHosts = new Set([`127.0.0.1:${bound}`, `localhost:${bound}`, `[::1]:${bound}`, ...(bound === 80 ? ['127.0.0.1', 'localhost', '[::1]'] : [])]);
  const stopSweep = sweepOrphanedRuns(tracker, options.orphanSweepIntervalMs ?? ORPHAN_SWEEP_INTERVAL_MS, log);

  let closing: Promise<void> | undefined;
  return {
    uri: host === '::1' ? `http://[::1]:${bound}` : `http://127.0.0.1:${bound}`,
    port: bound,
    token,
    tracker,
    close(): Promise<void> {
      stopSweep();
      closing ??= new Promise<void>((resolve) => {
        server.close(() => {
          if (ownsTracker) tracker.close();
          resolve();
        });
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/**
 * Every `intervalMs`, marks FAILED the RUNNING runs whose owning process is gone (a training script
 * killed while the endpoint lives). Returns the function that stops it.
 */
function sweepOrphanedRuns(tracker: Tracker, intervalMs: number, log: (message: string) => void): () => void {
  if (!(intervalMs > 0)) return () => {};
  let lastFailure: string | undefined;
  const timer = setInterval(() => {
    try {
      // While another process holds the write lock, the sweep waits for its next turn, not here.
      tracker.db.firstWriteWithoutWaiting(() => tracker.recoverOrphanedRuns());
      lastFailure = undefined;
    } catch (e) {
      if (e instanceof DatabaseBusyError) return;
      // Said once, not every interval, while the same failure lasts (a database busy for long).
      const failure = describe(e);
      if (failure !== lastFailure) log(`runwise tracking endpoint: marking runs of dead processes FAILED: ${failure}`);
      lastFailure = failure;
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

async function route(req: IncomingMessage, res: ServerResponse, tracker: Tracker): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);

  for (const root of ARTIFACT_ROOTS) {
    if (pathname === root) return listArtifacts(req, res, tracker, query);
    if (pathname.startsWith(`${root}/`)) return artifactFile(req, res, tracker, pathname.slice(root.length + 1));
  }
  if (DIRECT_TRANSFER_ROUTE.test(pathname)) {
    throw new HttpError(
      'NOT_IMPLEMENTED',
      pathname.includes('/mpu/')
        ? `${UNSUPPORTED_MULTIPART_UPLOAD_MESSAGE}: Runwise stores artifacts locally; upload with a single PUT to /api/2.0/mlflow-artifacts/artifacts/….`
        : 'Presigned downloads are not supported for the current artifact repository: Runwise stores artifacts locally; download with GET /api/2.0/mlflow-artifacts/artifacts/….',
    );
  }

  if (SERVER_INFO_PATHS.has(pathname)) {
    if (req.method !== 'GET') {
      res.setHeader('Allow', 'GET');
      throw methodNotAllowed(req.method, pathname, ['GET']);
    }
    return sendJson(res, 200, SERVER_INFO);
  }
  const prefix = API_PREFIXES.find((p) => pathname.startsWith(p));
  const found = prefix === undefined ? undefined : findRoute(pathname.slice(prefix.length));
  if (!found) throw new HttpError('ENDPOINT_NOT_FOUND', `No API endpoint at ${req.method} ${pathname}`);
  const endpoint = Object.hasOwn(found.route, req.method ?? '') ? found.route[req.method as Method] : undefined;
  if (!endpoint) {
    const allowed = Object.keys(found.route);
    res.setHeader('Allow', allowed.join(', '));
    throw methodNotAllowed(req.method, pathname, allowed);
  }
  // GET sends the message as query parameters (call_endpoint); other methods as a JSON body, which
  // a DELETE may leave empty.
  const msg = req.method === 'GET' ? parseQuery(query) : parseJsonBody(await readBody(req, endpoint.maxBody ?? MAX_JSON_BODY_BYTES));
  // A handler may answer later (get-download-uri re-hashes a version's files without blocking).
  sendJson(res, 200, await whenWritable(tracker, () => endpoint.handle(tracker, msg, found.params, req)));
}

/** How long a request waits for another process's write lock before it is answered 503 (which the mlflow client retries). */
const LOCKED_WAIT_MS = 120_000;

/**
 * Runs a handler whose first write, when another process holds the tracker's write lock (a
 * pipeline stage, `runwise gc`, an sqlite3 shell), is tried again a little later instead of waiting
 * in SQLite's busy handler: the wait would block this process's event loop (the extension host's,
 * in the editor), and every other request with it.
 */
async function whenWritable<T>(tracker: Tracker, handle: () => T | Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCKED_WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await tracker.db.firstWriteWithoutWaiting(handle);
    } catch (e) {
      if (!(e instanceof DatabaseBusyError)) throw e;
      if (Date.now() > deadline) {
        throw new HttpError('TEMPORARILY_UNAVAILABLE', `The tracker's database stayed locked by another process for ${LOCKED_WAIT_MS / 1000} s; try again later.`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, 2 + attempt * 4)));
    }
  }
}

// -----------------------------------------------------------------------------------------------
// Artifacts (`mlflow-artifacts:/<experiment_id>/<run_id>/artifacts/<path>` of a run,
// `mlflow-artifacts:/<experiment_id>/models/<model_id>/artifacts/<path>` of an MLflow 3 logged model)

/** The first segment of a registered version's artifact path (MODEL_VERSION_ARTIFACT_ROOT). */
const MODEL_VERSIONS_SEGMENT = MODEL_VERSION_ARTIFACT_ROOT.slice('mlflow-artifacts:/'.length);

type ArtifactLocation =
  /** `path`: inside the run's or the model's artifact root; '' for the root itself. */
  | { kind: 'run'; runId: string; path: string }
  | { kind: 'model'; modelId: string; path: string }
  /** A registered model version's own copy (`model-versions/<id>/<path>`), read-only. */
  | { kind: 'version'; name: string; version: string; path: string };

function listArtifacts(req: IncomingMessage, res: ServerResponse, tracker: Tracker, query: string): void {
  if (req.method !== 'GET') {
    res.setHeader('Allow', 'GET');
    throw methodNotAllowed(req.method, ARTIFACT_ROOTS[0], ['GET']);
  }
  const raw = parseQuery(query).path;
  if (typeof raw !== 'string' || raw === '') {
    throw invalidParameter("Missing value for required parameter 'path': artifacts are listed per run, as <experiment_id>/<run_id>/artifacts[/<dir>].");
  }
  const at = artifactLocation(tracker, raw);
  const entries =
    at.kind === 'run'
      ? tracker.listArtifacts(at.runId, at.path)
      : at.kind === 'model'
        ? tracker.listLoggedModelArtifacts(at.modelId, at.path)
        : tracker.listModelVersionFiles(at.name, at.version, at.path);
  // A bare ONNX version's root lists the MLmodel MLflow's loaders need (versionMlmodel.ts).
  const mlmodel = at.kind === 'version' && at.path === '' ? servedMlmodel(tracker, at.name, at.version) : undefined;
  if (mlmodel !== undefined) entries.push({ path: MLMODEL_FILE, isDir: false, fileSize: Buffer.byteLength(mlmodel) });
  sendJson(res, 200, artifactListJson(entries));
}

function servedMlmodel(tracker: Tracker, name: string, version: string): string | undefined {
  return versionMlmodel(tracker.registry.getModelVersion(name, version), tracker.registry.versionFiles(name, version));
}

async function artifactFile(req: IncomingMessage, res: ServerResponse, tracker: Tracker, encodedTail: string): Promise<void> {
  let tail: string;
  try {
    tail = decodeURIComponent(encodedTail);
  } catch {
    throw invalidParameter(`Invalid artifact path '${encodedTail}': bad percent-encoding.`);
  }
  if (req.method === 'GET') {
    const at = artifactLocation(tracker, tail);
    if (at.path === '') throw invalidParameter(`Artifact path '${tail}' names the ${at.kind}'s artifact root, not a file; list it instead.`);
    const mlmodel = at.kind === 'version' && at.path === MLMODEL_FILE ? servedMlmodel(tracker, at.name, at.version) : undefined;
    if (mlmodel !== undefined) {
      const bytes = Buffer.from(mlmodel);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': bytes.length, 'X-Content-Type-Options': 'nosniff' });
      res.end(bytes);
      return;
    }
    // A version's file is re-hashed before it is served: a changed copy is refused, not sent.
    const version = at.kind === 'version' ? await tracker.openModelVersionFileAsync(at.name, at.version, at.path) : undefined;
    const opened = version ?? (at.kind === 'run' ? tracker.openArtifact(at.runId, at.path) : at.kind === 'model' ? tracker.openLoggedModelArtifact(at.modelId, at.path) : undefined)!;
    let size: number;
    try {
      // A version's file was hashed from the descriptor it is served from: its size is that one's.
      size = version ? version.verified.size : (await stat(opened.filePath)).size;
    } catch (e) {
      // A state of the store, not of the request (a 500 would be retried for minutes by the mlflow
      // client), said without the file's absolute path.
      const why = (e as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new TrackerError('INVALID_STATE', `The stored file of artifact '${at.path}' (sha256 ${opened.record.sha256}) cannot be read (${why}): it was removed or changed in .runwise/.`);
    }
    // The response says the recorded size: a stored file of another size (changed in .runwise/) is
    // refused, not streamed past its Content-Length into what the client reads as the next response.
    if (size !== opened.record.size) {
      version?.verified.close();
      throw new TrackerError('INVALID_STATE', `The stored file of artifact '${at.path}' (sha256 ${opened.record.sha256}) holds ${size} bytes where ${opened.record.size} were recorded: it was changed in .runwise/ and is not served.`);
    }
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': opened.record.size,
      'X-Content-Type-Options': 'nosniff',
    });
    try {
      await pipeline(opened.stream(), res);
    } catch {
      res.destroy();
    }
    return;
  }
  if (req.method === 'PUT') {
    const at = artifactLocation(tracker, tail);
    if (at.kind === 'version') throw invalidParameter(`Model version ${at.name}/${at.version} is immutable: its files cannot be uploaded to.`);
    const declared = declaredLength(req);
    if (declared !== undefined && declared > MAX_ARTIFACT_BYTES) throw tooLarge('artifact upload', MAX_ARTIFACT_BYTES);
    // The disk the stored bytes go to (the artifact store's, which may be another mount).
    const free = declared === undefined ? undefined : freeBytes(existsSync(tracker.artifacts.root) ? tracker.artifacts.root : tracker.workspace);
    if (declared !== undefined && free !== undefined && declared > free) {
      throw invalidParameter(`The artifact upload (${declared} bytes) does not fit in the free space of the workspace's disk (${free} bytes free).`);
    }
    const body = guardedBody(req);
    try {
      // Recorded, once stored, when another process's write lock allows it: never waited for here.
      const record = <T,>(write: () => T) => whenWritable(tracker, write);
      if (at.kind === 'run') await tracker.putArtifact(at.runId, at.path, body, MAX_ARTIFACT_BYTES, record);
      else await tracker.putLoggedModelArtifact(at.modelId, at.path, body, MAX_ARTIFACT_BYTES, record);
    } catch (e) {
      // A 400, not a 500: MLflow's client sends the whole file again on a 500, up to 7 times.
      if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw new HttpError('INVALID_STATE', "The workspace's disk is full: the artifact upload could not be stored (nothing was kept).");
      throw e;
    } finally {
      req.unpipe(body);
      body.destroy();
    }
    sendJson(res, 200, {});
    return;
  }
  res.setHeader('Allow', 'GET, PUT');
  throw methodNotAllowed(req.method, `${ARTIFACT_ROOTS[0]}/…`, ['GET', 'PUT']);
}

/**
 * Resolves `<experiment_id>/<run_id>/artifacts[/<path>]` to a run of that experiment, or
 * `<experiment_id>/models/<model_id>/artifacts[/<path>]` to a logged model of it, and a safe path.
 */
function artifactLocation(tracker: Tracker, raw: string): ArtifactLocation {
  const refuse = (why: string): never => {
    throw invalidParameter(`Invalid artifact path '${raw}': ${why}.`);
  };
  if (raw.includes('\0')) refuse('it contains a NUL byte');
  if (raw.includes('\\')) refuse("it contains a backslash; use '/'");
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) refuse('it is absolute; a path relative to the artifact root is expected');
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) refuse("it contains '..'");
  if (segments[0] === MODEL_VERSIONS_SEGMENT) {
    const [, location, ...rest] = segments;
    const m = location === undefined ? null : /^(\d{1,15})-([0-9a-f]{16})$/.exec(location);
    if (!m) refuse(`expected ${MODEL_VERSIONS_SEGMENT}/<id>-<hash>/<path>, the layout of a model version's download URI`);
    return { kind: 'version', ...tracker.registry.versionAt(Number(m![1]), m![2]!), path: rest.join('/') };
  }
  if (segments[1] === 'models') {
    const [experimentId, , modelId, root, ...rest] = segments;
    if (modelId === undefined || root !== 'artifacts') {
      refuse("expected <experiment_id>/models/<model_id>/artifacts/<path>, the layout of a logged model's artifact_uri");
    }
    const model = tracker.getLoggedModel(modelId!);
    if (model.experimentId !== experimentId) {
      throw resourceNotFound(`Logged model '${modelId}' does not belong to experiment '${experimentId}' (it is in experiment '${model.experimentId}').`);
    }
    return { kind: 'model', modelId: modelId!, path: rest.join('/') };
  }
  const [experimentId, runId, root, ...rest] = segments;
  if (experimentId === undefined || runId === undefined || root !== 'artifacts') {
    refuse('expected <experiment_id>/<run_id>/artifacts/<path>, the layout of a run\'s artifact_uri');
  }
  const info = tracker.getRunInfo(runId!);
  if (info.experimentId !== experimentId) {
    throw resourceNotFound(`Run '${runId}' does not belong to experiment '${experimentId}' (it is in experiment '${info.experimentId}').`);
  }
  return { kind: 'run', runId: runId!, path: rest.join('/') };
}

/**
 * The request as a stream of its own: a failed store destroys this stream, not the request, so the
 * error can still be answered; a client that disconnects mid-upload fails the store.
 */
function guardedBody(req: IncomingMessage): PassThrough {
  const body = new PassThrough();
  const abort = (): void => {
    if (!req.complete) body.destroy(new Error('the client closed the connection before the upload finished'));
  };
  req.once('close', abort);
  req.once('error', abort);
  body.once('close', () => {
    req.off('close', abort);
    req.off('error', abort);
  });
  req.pipe(body);
  return body;
}

// -----------------------------------------------------------------------------------------------
// Security checks

/**
 * Gives connections that have not authenticated their own budget (MAX_UNAUTHENTICATED_CONNECTIONS,
 * UNAUTHENTICATED_DEADLINE_MS). Returns the function that moves a connection out of it once one of
 * its requests carried the token.
 */
function budgetUnauthenticated(server: Server): (socket: Socket) => void {
  /** Unauthenticated connections, oldest first, with the timer that closes each. */
  const waiting = new Map<Socket, NodeJS.Timeout>();
  const release = (socket: Socket): void => {
    const timer = waiting.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    waiting.delete(socket);
  };
  const evict = (socket: Socket): void => {
    release(socket);
    socket.destroy();
  };
  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => evict(socket), UNAUTHENTICATED_DEADLINE_MS);
    timer.unref();
    waiting.set(socket, timer);
    socket.once('close', () => release(socket));
    if (waiting.size > MAX_UNAUTHENTICATED_CONNECTIONS) evict(waiting.keys().next().value!);
  });
  return release;
}

function checkHost(req: IncomingMessage, allowed: ReadonlySet<string>): void {
  const host = req.headers.host?.toLowerCase();
  if (host === undefined || !allowed.has(host)) {
    throw new HttpError(
      'PERMISSION_DENIED',
      `Host header '${req.headers.host ?? ''}' is not allowed: the tracking endpoint answers only requests addressed to 127.0.0.1, localhost or [::1] on its port.`,
    );
  }
}

function checkToken(req: IncomingMessage, expected: Buffer): void {
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
  // Compares digests: equal length whatever was sent, and constant time.
  if (!match || !timingSafeEqual(sha256(match[1]!), expected)) {
    let why = 'Invalid credentials: the bearer token does not match this endpoint\'s token.';
    if (header === undefined) {
      why = 'Missing credentials: send the endpoint token as "Authorization: Bearer <token>" (MLFLOW_TRACKING_TOKEN for the mlflow client).';
    } else if (/^Basic\b/i.test(header)) {
      // The mlflow client sends Basic instead of the token whenever both of these are set (rest_utils.http_request).
      why =
        'Basic credentials are not accepted: this endpoint takes only its bearer token. The mlflow client sends ' +
        'MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD in place of MLFLOW_TRACKING_TOKEN when both are set; unset them.';
    } else if (!match) {
      why = 'Invalid credentials: send the endpoint token as "Authorization: Bearer <token>" (MLFLOW_TRACKING_TOKEN for the mlflow client).';
    }
    throw new HttpError('UNAUTHENTICATED', why);
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

// -----------------------------------------------------------------------------------------------
// Bodies and replies

function declaredLength(req: IncomingMessage): number | undefined {
  const v = req.headers['content-length'];
  return v === undefined ? undefined : Number(v);
}

/** The bytes free to this user on the disk holding `folder`; undefined when the system does not say. */
function freeBytes(folder: string): number | undefined {
  try {
    const st = statfsSync(folder);
    return st.bavail * st.bsize;
  } catch {
    return undefined;
  }
}

function tooLarge(what: string, limit: number): HttpError {
  return invalidParameter(`The ${what} is larger than the limit of ${limit} bytes. Please split it up and try again.`);
}

/** Reads a request body of at most `limit` bytes; stops reading (and fails) as soon as it is over. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = declaredLength(req);
  if (declared !== undefined && declared > limit) throw tooLarge('request body', limit);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: Error | null): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (error) {
        req.pause();
        reject(error);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish(tooLarge('request body', limit));
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish(null);
    const onError = (e: Error): void => finish(e);
    const onClose = (): void => finish(new Error('the client closed the connection before sending the whole request'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

/**
 * A request Node's parser refused before any handler saw it: a request line and headers over Node's
 * 16 KiB (a GET whose query holds a very long search filter), a malformed request, a timeout. Node
 * would answer a bare status with no body; the client gets MLflow's JSON error shape instead, and
 * the connection is closed.
 */
function answerUnparsed(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A response still being sent on this connection (a bad request pipelined after a good one): an
  // answer now would land inside its body, so the connection is closed instead, as Node does.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || err.code === 'ECONNRESET' || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, reason, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'The request line and headers are larger than 16 KiB (a GET carries its parameters in the URL): shorten the filter or the list of values']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'The request did not arrive in time']
        : [400, 'Bad Request', `Malformed HTTP request (${err.code ?? err.message})`];
  const body = JSON.stringify({ error_code: status === 431 ? 'INVALID_PARAMETER_VALUE' : 'BAD_REQUEST', message });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function sendError(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  sendJson(res, status, body);
  discardRest(req);
}

/**
 * Drops what is left of a refused request's body, so the client can read the answer and keep the
 * connection, but only up to DISCARD_LIMIT_BYTES: past that the connection is closed.
 */
function discardRest(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return;
  let dropped = 0;
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DISCARD_LIMIT_BYTES) req.socket.destroy();
  });
  req.resume();
}

function methodNotAllowed(method: string | undefined, path: string, allowed: readonly string[]): HttpError {
  return new HttpError('BAD_REQUEST', `Method ${method ?? '?'} is not allowed for ${path}; use ${allowed.join(' or ')}.`, 405);
}

function describe(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}
