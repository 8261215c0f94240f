/**
 * The tracking endpoint over real HTTP on loopback: MLflow's request and response shapes, the
 * security checks (token, Host header, loopback binding, body limits, no CORS), MLflow's errors,
 * and that a refused request changes nothing in the tracker.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statfsSync, unlinkSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_ARTIFACT_BYTES, MAX_UNAUTHENTICATED_CONNECTIONS, startTrackingServer, type TrackingServer } from '../../core/endpoint/trackingServer';
import { MLFLOW_API_PREFIX, MLFLOW_ARTIFACTS_PREFIX, MLFLOW_ARTIFACTS_ROUTES, MLFLOW_ROUTES as R, routeUrl, type RestRoute } from '../../core/mlflow/restApi';
import { Tracker } from '../../core/tracker/tracker';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json: Json;
}

interface RequestOptions {
  body?: unknown;
  /** Token to send; null sends no Authorization header; default the server's token. */
  token?: string | null;
  host?: string;
  headers?: Record<string, string>;
  /** Send the body chunked, without Content-Length. */
  chunked?: boolean;
}

const workspaces: string[] = [];

function freshWorkspace(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'runwise-rest-'));
  workspaces.push(dir);
  return dir;
}

after(() => {
  for (const dir of workspaces) rmSync(dir, { recursive: true, force: true });
});

function request(server: TrackingServer, method: string, urlPath: string, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: options.host ?? `127.0.0.1:${server.port}`, ...options.headers };
    const token = options.token === undefined ? server.token : options.token;
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    let payload: Buffer | undefined;
    if (options.body !== undefined) {
      payload = Buffer.isBuffer(options.body) ? options.body : Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body));
      if (!Buffer.isBuffer(options.body)) headers['Content-Type'] = 'application/json';
      if (!options.chunked) headers['Content-Length'] = String(payload.length);
    }
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path: urlPath, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        let json: Json;
        if (String(res.headers['content-type']).startsWith('application/json')) json = JSON.parse(body.toString('utf8'));
        resolve({ status: res.statusCode!, headers: res.headers, body, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (payload && options.chunked) {
      // Several writes, so the server sees a stream it has to cut off.
      for (let i = 0; i < payload.length; i += 64 * 1024) req.write(payload.subarray(i, i + 64 * 1024));
      req.end();
    } else req.end(payload);
  });
}

const API = MLFLOW_API_PREFIX;
/** A route of core/mlflow/restApi.ts, or a path under the API prefix that is not one (to be refused). */
const urlOf = (route: RestRoute | string): string => (typeof route === 'string' ? `${API}/${route}` : routeUrl(route));
const post = (s: TrackingServer, route: RestRoute | string, body: unknown, options: RequestOptions = {}): Promise<Reply> =>
  request(s, 'POST', urlOf(route), { ...options, body });
const get = (s: TrackingServer, route: RestRoute | string, query: Record<string, string | number> = {}): Promise<Reply> =>
  request(s, 'GET', `${urlOf(route)}?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))}`);

function assertError(reply: Reply, status: number, code: string, messagePart?: string | RegExp): void {
  assert.equal(reply.status, status, `status of ${reply.body.toString('utf8')}`);
  assert.match(String(reply.headers['content-type']), /^application\/json/);
  assert.deepEqual(Object.keys(reply.json).sort(), ['error_code', 'message']);
  assert.equal(reply.json.error_code, code);
  assert.equal(typeof reply.json.message, 'string');
  if (typeof messagePart === 'string') assert.ok(reply.json.message.includes(messagePart), `message: ${reply.json.message}`);
  else if (messagePart) assert.match(reply.json.message, messagePart);
}

/** Everything the tracker holds, to compare before and after a refused request. */
function snapshot(tracker: Tracker): string {
  const tables = ['experiments', 'experiment_tags', 'runs', 'params', 'tags', 'metrics', 'latest_metrics', 'metric_keys', 'artifacts', 'datasets', 'run_inputs'];
  return JSON.stringify(tables.map((t) => tracker.db.prepare(`SELECT * FROM ${t}`).all().map((row) => JSON.stringify(row)).sort()));
}

async function createRun(s: TrackingServer, experimentId = '0', runName?: string): Promise<string> {
  const r = await post(s, R.CreateRun, { experiment_id: experimentId, start_time: Date.now(), ...(runName ? { run_name: runName } : {}) });
  assert.equal(r.status, 200, r.body.toString());
  return r.json.run.info.run_id as string;
}

describe('tracking endpoint: binding and security', () => {
  let s: TrackingServer;
  before(async () => {
    s = await startTrackingServer({ workspace: freshWorkspace() });
  });
  after(() => s.close());

  it('listens on loopback only, on the reported port', async () => {
    assert.ok(s.uri.startsWith('http://127.0.0.1:'), s.uri);
    assert.equal(s.uri, `http://127.0.0.1:${s.port}`);
    assert.ok(s.port > 0);
    assert.match(s.token, /^[0-9a-f]{64}$/);
    const ok = await get(s, R.GetExperiment, { experiment_id: '0' });
    assert.equal(ok.status, 200);
    // Any non-loopback address of this machine must refuse the connection.
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    if (external) {
      const refused = await new Promise<boolean>((resolve) => {
        const c = net.connect({ host: external.address, port: s.port });
        c.once('connect', () => {
          c.destroy();
          resolve(false);
        });
        c.once('error', () => resolve(true));
      });
      assert.equal(refused, true, `port ${s.port} must not be reachable on ${external.address}`);
    }
  });

  it('requires the bearer token', async () => {
    assertError(await request(s, 'GET', `${routeUrl(R.GetExperiment)}?experiment_id=0`, { token: null }), 401, 'UNAUTHENTICATED');
    const wrong = await request(s, 'GET', `${routeUrl(R.GetExperiment)}?experiment_id=0`, { token: 'not-the-token' });
    assertError(wrong, 401, 'UNAUTHENTICATED');
    assertError(await request(s, 'GET', `${routeUrl(R.GetExperiment)}?experiment_id=0`, { token: s.token.slice(0, -1) }), 401, 'UNAUTHENTICATED');
    assertError(
      await request(s, 'GET', `${routeUrl(R.GetExperiment)}?experiment_id=0`, { token: null, headers: { Authorization: `Basic ${Buffer.from(`u:${s.token}`).toString('base64')}` } }),
      401,
      'UNAUTHENTICATED',
    );
    // Refused before routing: an unknown endpoint without a token is still 401, and nothing is created.
    const before = snapshot(s.tracker);
    assertError(await post(s, R.CreateExperiment, { name: 'sneaky' }, { token: null }), 401, 'UNAUTHENTICATED');
    assertError(await request(s, 'GET', '/no/such/thing', { token: null }), 401, 'UNAUTHENTICATED');
    assert.equal(snapshot(s.tracker), before);
    assert.equal((await get(s, R.GetExperiment, { experiment_id: '0' })).status, 200);
  });

  it('refuses a Host header that is not loopback (DNS rebinding)', async () => {
    assertError(await request(s, 'GET', `${routeUrl(R.GetExperiment)}?experiment_id=0`, { host: `evil.example:${s.port}` }), 403, 'PERMISSION_DENIED');
    assertError(await request(s, 'GET', `${routeUrl(R.GetExperiment)}?experiment_id=0`, { host: '127.0.0.1' }), 403, 'PERMISSION_DENIED');
    assertError(await request(s, 'GET', `${routeUrl(R.GetExperiment)}?experiment_id=0`, { host: `127.0.0.1:${s.port + 1}` }), 403, 'PERMISSION_DENIED');
    assertError(await request(s, 'GET', `${routeUrl(R.GetExperiment)}?experiment_id=0`, { host: `localhost.evil.example:${s.port}` }), 403, 'PERMISSION_DENIED');
    for (const host of [`localhost:${s.port}`, `LOCALHOST:${s.port}`, `[::1]:${s.port}`, `127.0.0.1:${s.port}`]) {
      assert.equal((await request(s, 'GET', `${routeUrl(R.GetExperiment)}?experiment_id=0`, { host })).status, 200, host);
    }
  });

  it('never sends CORS headers', async () => {
    const replies = [
      await request(s, 'OPTIONS', routeUrl(R.CreateRun), { token: null, headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' } }),
      await request(s, 'GET', `${routeUrl(R.GetExperiment)}?experiment_id=0`, { headers: { Origin: 'https://evil.example' } }),
    ];
    for (const r of replies) {
      assert.deepEqual(Object.keys(r.headers).filter((h) => h.startsWith('access-control-')), []);
    }
    assert.equal(replies[0]!.status, 401);
  });

  it('takes the token from the options, else RUNWISE_TOKEN', async () => {
    const given = await startTrackingServer({ workspace: freshWorkspace(), token: 'given-token' });
    try {
      assert.equal(given.token, 'given-token');
      assert.equal((await request(given, 'GET', `${routeUrl(R.GetExperiment)}?experiment_id=0`)).status, 200);
    } finally {
      await given.close();
    }
    const prior = process.env.RUNWISE_TOKEN;
    process.env.RUNWISE_TOKEN = 'env-token';
    try {
      const fromEnv = await startTrackingServer({ workspace: freshWorkspace() });
      assert.equal(fromEnv.token, 'env-token');
      await fromEnv.close();
    } finally {
      if (prior === undefined) delete process.env.RUNWISE_TOKEN;
      else process.env.RUNWISE_TOKEN = prior;
    }
  });
});

describe('tracking endpoint: MLflow REST API', () => {
  let s: TrackingServer;
  before(async () => {
    s = await startTrackingServer({ workspace: freshWorkspace() });
  });
  after(() => s.close());

  it('experiments: create, get, get-by-name, set-experiment-tag, search', async () => {
    const created = await post(s, R.CreateExperiment, { name: 'exp-a', tags: [{ key: 'team', value: 'vision' }] });
    assert.equal(created.status, 200);
    assert.deepEqual(Object.keys(created.json), ['experiment_id']);
    const id = created.json.experiment_id;
    assert.equal(typeof id, 'string');

    const got = await get(s, R.GetExperiment, { experiment_id: id });
    assert.equal(got.status, 200);
    const e = got.json.experiment;
    assert.equal(e.experiment_id, id);
    assert.equal(e.name, 'exp-a');
    assert.equal(e.artifact_location, `mlflow-artifacts:/${id}`);
    assert.equal(e.lifecycle_stage, 'active');
    assert.equal(typeof e.creation_time, 'number');
    assert.equal(typeof e.last_update_time, 'number');
    assert.deepEqual(e.tags, [{ key: 'team', value: 'vision' }]);

    assert.equal((await post(s, R.SetExperimentTag, { experiment_id: id, key: 'stage', value: 'dev' })).status, 200);
    const byName = await get(s, R.GetExperimentByName, { experiment_name: 'exp-a' });
    assert.equal(byName.status, 200);
    assert.deepEqual(byName.json.experiment.tags, [
      { key: 'stage', value: 'dev' },
      { key: 'team', value: 'vision' },
    ]);
    assertError(await get(s, R.GetExperimentByName, { experiment_name: 'nope' }), 404, 'RESOURCE_DOES_NOT_EXIST', "'nope'");
    assertError(await post(s, R.CreateExperiment, { name: 'exp-a' }), 400, 'RESOURCE_ALREADY_EXISTS');
    assertError(await get(s, R.GetExperiment, { experiment_id: '9999' }), 404, 'RESOURCE_DOES_NOT_EXIST');

    await post(s, R.CreateExperiment, { name: 'exp-b' });
    const searched = await post(s, R.SearchExperiments, { max_results: 10, filter: "name LIKE 'exp-%'" });
    assert.equal(searched.status, 200);
    assert.deepEqual(searched.json.experiments.map((x: Json) => x.name).sort(), ['exp-a', 'exp-b']);
    const viaGet = await request(s, 'GET', `${routeUrl(R.SearchExperiments)}?max_results=1&filter=${encodeURIComponent("name LIKE 'exp-%'")}`);
    assert.equal(viaGet.status, 200);
    assert.equal(viaGet.json.experiments.length, 1);
    assert.equal(typeof viaGet.json.next_page_token, 'string');
    const page2 = await request(
      s,
      'GET',
      `${routeUrl(R.SearchExperiments)}?max_results=1&filter=${encodeURIComponent("name LIKE 'exp-%'")}&page_token=${encodeURIComponent(viaGet.json.next_page_token)}`,
    );
    assert.equal(page2.json.experiments.length, 1);
    assert.notEqual(page2.json.experiments[0].name, viaGet.json.experiments[0].name);
    assert.deepEqual((await post(s, R.SearchExperiments, { filter: "name = 'none'" })).json, {});
  });

  it('runs: create, get (shape field by field), update, tags, params, metrics, inputs, delete, restore', async () => {
    const exp = (await post(s, R.CreateExperiment, { name: 'runs-exp' })).json.experiment_id as string;
    const created = await post(s, R.CreateRun, {
      experiment_id: exp,
      user_id: 'alice',
      run_name: 'first',
      start_time: '1700000000000',
      tags: [{ key: 'source', value: 'test' }],
    });
    assert.equal(created.status, 200);
    const runId = created.json.run.info.run_id as string;
    assert.match(runId, /^[0-9a-f]{32}$/);

    assert.equal((await post(s, R.LogParam, { run_id: runId, key: 'lr', value: '0.01' })).status, 200);
    assert.equal((await post(s, R.SetTag, { run_uuid: runId, key: 'color', value: 'red' })).status, 200);
    assert.equal((await post(s, R.SetTag, { run_id: runId, key: 'doomed', value: 'x' })).status, 200);
    assert.equal((await post(s, R.DeleteTag, { run_id: runId, key: 'doomed' })).status, 200);
    assertError(await post(s, R.DeleteTag, { run_id: runId, key: 'doomed' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    assert.equal((await post(s, R.LogMetric, { run_id: runId, key: 'loss', value: 0.5, timestamp: 1700000000100, step: 1 })).status, 200);
    assert.equal((await post(s, R.LogMetric, { run_id: runId, key: 'loss', value: '0.25', timestamp: '1700000000200', step: '2' })).status, 200);
    const batch = await post(s, R.LogBatch, {
      run_id: runId,
      metrics: [
        { key: 'acc', value: 0.9, timestamp: 1700000000300, step: 0 },
        { key: 'acc', value: 0.95, timestamp: 1700000000400, step: 1 },
      ],
      params: [{ key: 'epochs', value: '3' }],
      tags: [{ key: 'phase', value: 'train' }],
    });
    assert.equal(batch.status, 200);
    assert.deepEqual(batch.json, {});
    const inputs = await post(s, R.LogInputs, {
      run_id: runId,
      datasets: [
        {
          tags: [{ key: 'mlflow.data.context', value: 'training' }],
          dataset: { name: 'iris', digest: 'abc123', source_type: 'local', source: '{"uri": "data/iris.csv"}', schema: '{"cols": []}', profile: '{"rows": 150}' },
        },
      ],
    });
    assert.equal(inputs.status, 200, inputs.body.toString());

    const got = await get(s, R.GetRun, { run_id: runId });
    assert.equal(got.status, 200);
    const run = got.json.run;
    assert.deepEqual(Object.keys(run).sort(), ['data', 'info', 'inputs']);
    assert.deepEqual(run.info, {
      run_id: runId,
      run_uuid: runId,
      run_name: 'first',
      experiment_id: exp,
      user_id: 'alice',
      status: 'RUNNING',
      start_time: 1700000000000,
      artifact_uri: `mlflow-artifacts:/${exp}/${runId}/artifacts`,
      lifecycle_stage: 'active',
    });
    assert.deepEqual(run.data.metrics, [
      { key: 'acc', value: 0.95, timestamp: 1700000000400, step: 1 },
      { key: 'loss', value: 0.25, timestamp: 1700000000200, step: 2 },
    ]);
    assert.deepEqual(run.data.params, [
      { key: 'epochs', value: '3' },
      { key: 'lr', value: '0.01' },
    ]);
    assert.deepEqual(run.data.tags, [
      { key: 'color', value: 'red' },
      { key: 'mlflow.runName', value: 'first' },
      { key: 'mlflow.user', value: 'alice' },
      { key: 'phase', value: 'train' },
      { key: 'source', value: 'test' },
    ]);
    assert.deepEqual(run.inputs, {
      dataset_inputs: [
        {
          tags: [{ key: 'mlflow.data.context', value: 'training' }],
          dataset: { name: 'iris', digest: 'abc123', source_type: 'local', source: '{"uri": "data/iris.csv"}', schema: '{"cols": []}', profile: '{"rows": 150}' },
        },
      ],
    });
    // The legacy run_uuid names the run too.
    assert.deepEqual((await get(s, R.GetRun, { run_uuid: runId })).json, got.json);

    const updated = await post(s, R.UpdateRun, { run_id: runId, status: 'FINISHED', end_time: 1700000001000, run_name: 'renamed' });
    assert.equal(updated.status, 200);
    assert.deepEqual(updated.json, {
      run_info: { ...run.info, run_name: 'renamed', status: 'FINISHED', end_time: 1700000001000 },
    });
    // Enums by number, as protobuf-JSON allows (3 = FINISHED).
    assert.equal((await post(s, R.UpdateRun, { run_uuid: runId, status: 3 })).json.run_info.status, 'FINISHED');

    assert.equal((await post(s, R.DeleteRun, { run_id: runId })).status, 200);
    assert.equal((await get(s, R.GetRun, { run_id: runId })).json.run.info.lifecycle_stage, 'deleted');
    assertError(await post(s, R.LogMetric, { run_id: runId, key: 'x', value: 1, timestamp: 1 }), 400, 'INVALID_PARAMETER_VALUE', "'active'");
    assert.equal((await post(s, R.RestoreRun, { run_id: runId })).status, 200);
    assert.equal((await get(s, R.GetRun, { run_id: runId })).json.run.info.lifecycle_stage, 'active');
  });

  it('a fresh run answers like MLflow: empty lists left out, no end_time', async () => {
    const runId = await createRun(s);
    const run = (await get(s, R.GetRun, { run_id: runId })).json.run;
    assert.equal(run.info.end_time, undefined);
    assert.deepEqual(Object.keys(run.data), ['tags']);
    assert.deepEqual(run.inputs, {});
  });

  it('runs/search: shapes, filter, order_by, paging, empty result is {}', async () => {
    const exp = (await post(s, R.CreateExperiment, { name: 'search-exp' })).json.experiment_id as string;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = await createRun(s, exp, `r${i}`);
      ids.push(id);
      await post(s, R.LogBatch, { run_id: id, metrics: [{ key: 'acc', value: i / 10, timestamp: 1000 + i, step: 0 }], params: [{ key: 'i', value: String(i) }] });
    }
    const found = await post(s, R.SearchRuns, { experiment_ids: [exp], filter: 'metrics.acc >= 0.2', order_by: ['metrics.acc DESC'], run_view_type: 'ACTIVE_ONLY', max_results: 2 });
    assert.equal(found.status, 200, found.body.toString());
    assert.deepEqual(Object.keys(found.json).sort(), ['next_page_token', 'runs']);
    assert.deepEqual(
      found.json.runs.map((r: Json) => r.info.run_name),
      ['r4', 'r3'],
    );
    const first = found.json.runs[0];
    assert.deepEqual(Object.keys(first).sort(), ['data', 'info', 'inputs']);
    assert.deepEqual(Object.keys(first.info).sort(), ['artifact_uri', 'experiment_id', 'lifecycle_stage', 'run_id', 'run_name', 'run_uuid', 'start_time', 'status', 'user_id']);
    assert.equal(first.info.run_id, ids[4]);
    assert.equal(first.info.experiment_id, exp);
    assert.deepEqual(first.data.metrics, [{ key: 'acc', value: 0.4, timestamp: 1004, step: 0 }]);
    assert.deepEqual(first.data.params, [{ key: 'i', value: '4' }]);
    assert.deepEqual(first.data.tags, [{ key: 'mlflow.runName', value: 'r4' }]);
    const rest = await post(s, R.SearchRuns, {
      experiment_ids: [exp],
      filter: 'metrics.acc >= 0.2',
      order_by: ['metrics.acc DESC'],
      max_results: 2,
      page_token: found.json.next_page_token,
    });
    assert.deepEqual(
      rest.json.runs.map((r: Json) => r.info.run_name),
      ['r2'],
    );
    assert.equal(rest.json.next_page_token, undefined);
    assert.deepEqual((await post(s, R.SearchRuns, { experiment_ids: [exp], filter: "params.i = 'none'" })).json, {});
  });

  it('metrics/get-history pages through every point exactly once', async () => {
    const runId = await createRun(s);
    const metrics = Array.from({ length: 250 }, (_, i) => ({ key: 'loss', value: 1 / (i + 1), timestamp: 5000 + i, step: i }));
    assert.equal((await post(s, R.LogBatch, { run_id: runId, metrics })).status, 200);
    const seen: Json[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const q: Record<string, string | number> = { run_id: runId, metric_key: 'loss', max_results: 100 };
      if (token) q.page_token = token;
      const r = await get(s, R.GetMetricHistory, q);
      assert.equal(r.status, 200);
      seen.push(...r.json.metrics);
      token = r.json.next_page_token;
      pages++;
    } while (token);
    assert.equal(pages, 3);
    assert.deepEqual(seen, metrics);
    const all = await get(s, R.GetMetricHistory, { run_uuid: runId, metric_key: 'loss' });
    assert.equal(all.json.metrics.length, 250);
    assert.equal(all.json.next_page_token, undefined);
    assert.deepEqual((await get(s, R.GetMetricHistory, { run_id: runId, metric_key: 'never-logged' })).json, {});
    assertError(await get(s, R.GetMetricHistory, { run_id: runId }), 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'metric_key'");
  });

  it('NaN and infinities round-trip as strings', async () => {
    const runId = await createRun(s);
    const r = await post(s, R.LogBatch, {
      run_id: runId,
      metrics: [
        { key: 'nan', value: 'NaN', timestamp: 1, step: 0 },
        { key: 'inf', value: 'Infinity', timestamp: 1, step: 0 },
        { key: 'ninf', value: '-Infinity', timestamp: 1, step: 0 },
      ],
    });
    assert.equal(r.status, 200);
    assert.equal((await post(s, R.LogMetric, { run_id: runId, key: 'nan', value: 'NaN', timestamp: 2, step: 1 })).status, 200);
    const run = (await get(s, R.GetRun, { run_id: runId })).json.run;
    assert.deepEqual(run.data.metrics, [
      { key: 'inf', value: 'Infinity', timestamp: 1, step: 0 },
      { key: 'nan', value: 'NaN', timestamp: 2, step: 1 },
      { key: 'ninf', value: '-Infinity', timestamp: 1, step: 0 },
    ]);
    const history = await get(s, R.GetMetricHistory, { run_id: runId, metric_key: 'nan' });
    assert.deepEqual(
      history.json.metrics.map((m: Json) => m.value),
      ['NaN', 'NaN'],
    );
    assert.ok(Number.isNaN(s.tracker.getRun(runId).metrics.find((m) => m.key === 'nan')!.value));
    // Bare NaN / Infinity, as Python's json.dumps writes them, are read too (strings stay strings).
    const bare = `{"run_id": "${runId}", "metrics": [{"key": "bare", "value": NaN, "timestamp": 3, "step": 2}, {"key": "bare Infinity NaN", "value": -Infinity, "timestamp": 3, "step": 0}]}`;
    assert.equal((await post(s, R.LogBatch, bare)).status, 200);
    const after = (await get(s, R.GetRun, { run_id: runId })).json.run.data.metrics;
    assert.deepEqual(
      after.filter((m: Json) => m.key.startsWith('bare')),
      [
        { key: 'bare', value: 'NaN', timestamp: 3, step: 2 },
        { key: 'bare Infinity NaN', value: '-Infinity', timestamp: 3, step: 0 },
      ],
    );
    // A bare NaN is a float to Python's json: where a string goes, refused (MLflow's _assert_string), not stored as 'NaN'.
    for (const [route, body] of [
      [R.CreateExperiment, '{"name": NaN}'],
      [R.SetTag, `{"run_id": "${runId}", "key": "t", "value": -Infinity}`],
      [R.LogParam, `{"run_id": "${runId}", "key": "p", "value": NaN}`],
    ] as const) {
      const refused = await post(s, route, body);
      assert.deepEqual([refused.status, refused.json.error_code], [400, 'INVALID_PARAMETER_VALUE'], body);
      assert.match(refused.json.message, /^Invalid value (NaN|-Infinity) for parameter '(name|value)' supplied/, 'the value as sent, not JSON\'s null');
    }
    // A string the client sent is a string, whatever it holds, beside a bare NaN in the same body.
    const lookalike = `{"run_id": "${runId}", "tags": [{"key": "look", "value": "\\u0000bare:NaN"}], "metrics": [{"key": "beside", "value": NaN, "timestamp": 4, "step": 0}]}`;
    assert.equal((await post(s, R.LogBatch, lookalike)).status, 200);
    const tags = (await get(s, R.GetRun, { run_id: runId })).json.run.data.tags;
    assert.equal(tags.find((t: Json) => t.key === 'look').value, '\u0000bare:NaN');
  });

  it('also answers under /ajax-api/2.0/mlflow/', async () => {
    const r = await request(s, 'GET', '/ajax-api/2.0/mlflow/experiments/get?experiment_id=0');
    assert.equal(r.status, 200);
    assert.equal(r.json.experiment.name, 'Default');
  });
});

describe('tracking endpoint: errors change nothing', () => {
  let s: TrackingServer;
  let runId: string;
  before(async () => {
    s = await startTrackingServer({ workspace: freshWorkspace() });
    runId = await createRun(s);
    await post(s, R.LogBatch, { run_id: runId, metrics: [{ key: 'm', value: 1, timestamp: 1, step: 0 }], params: [{ key: 'p', value: 'v1' }] });
  });
  after(() => s.close());

  /** Sends a request that must fail as stated and leave the tracker as it was. */
  async function refused(send: () => Promise<Reply>, status: number, code: string, messagePart?: string | RegExp): Promise<Reply> {
    const before = snapshot(s.tracker);
    const reply = await send();
    assertError(reply, status, code, messagePart);
    assert.equal(snapshot(s.tracker), before, 'a refused request must change nothing');
    return reply;
  }

  it('garbage JSON and non-object bodies', async () => {
    await refused(() => post(s, R.LogBatch, '{"run_id": "abc", "metrics": [', {}), 400, 'BAD_REQUEST', 'Malformed JSON');
    await refused(() => post(s, R.LogBatch, 'not json at all'), 400, 'BAD_REQUEST', 'Malformed JSON');
    // An unterminated string full of escaped quotes: the NaN-tolerant re-read must stay linear
    // (it was quadratic: minutes for a body this size, the event loop blocked all along).
    await refused(() => post(s, R.LogBatch, `{"run_id": "${'\\"'.repeat(400_000)}`), 400, 'BAD_REQUEST', 'Malformed JSON');
    await refused(() => post(s, R.LogBatch, '[1, 2]'), 400, 'BAD_REQUEST', 'JSON object');
  });

  it('wrong field types name the field', async () => {
    const metric = { key: 'm', value: 2, timestamp: 2, step: 1 };
    await refused(
      () => post(s, R.LogMetric, { run_id: runId, ...metric, value: 'abc' }),
      400,
      'INVALID_PARAMETER_VALUE',
      `Invalid value "abc" for parameter 'value' supplied`,
    );
    await refused(() => post(s, R.LogMetric, { run_id: runId, ...metric, step: 1.5 }), 400, 'INVALID_PARAMETER_VALUE', "parameter 'step'");
    await refused(() => post(s, R.LogMetric, { run_id: runId, ...metric, timestamp: 'yesterday' }), 400, 'INVALID_PARAMETER_VALUE', "parameter 'timestamp'");
    await refused(() => post(s, R.LogMetric, { run_id: runId, ...metric, value: true }), 400, 'INVALID_PARAMETER_VALUE', "Hint: Value was of type 'bool'");
    await refused(() => post(s, R.LogBatch, { run_id: runId, params: { p: 'v' } }), 400, 'INVALID_PARAMETER_VALUE', "parameter 'params'");
    await refused(
      () => post(s, R.LogBatch, { run_id: runId, metrics: [metric, { ...metric, value: 'abc' }] }),
      400,
      'INVALID_PARAMETER_VALUE',
      "parameter 'metrics[1].value'",
    );
    await refused(() => post(s, R.LogBatch, { run_id: runId, metrics: [metric, 7] }), 400, 'INVALID_PARAMETER_VALUE', "parameter 'metrics[1]'");
    await refused(() => post(s, R.LogBatch, { run_id: runId, metrics: [{ key: 'm', value: 1 }] }), 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'metrics[0].timestamp'");
    await refused(() => post(s, R.LogParam, { run_id: runId, key: 'q', value: 5 }), 400, 'INVALID_PARAMETER_VALUE', "parameter 'value'");
    await refused(() => post(s, R.UpdateRun, { run_id: runId, status: 'DONE' }), 400, 'INVALID_PARAMETER_VALUE', "parameter 'status'");
    await refused(() => post(s, R.CreateRun, { experiment_id: '0', start_time: 1.5 }), 400, 'INVALID_PARAMETER_VALUE', "parameter 'start_time'");
  });

  it('missing run_id and unknown runs', async () => {
    await refused(() => post(s, R.LogMetric, { key: 'm', value: 1, timestamp: 1 }), 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'run_id'");
    await refused(() => post(s, R.LogBatch, { metrics: [] }), 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'run_id'");
    await refused(() => get(s, R.GetRun), 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'run_id'");
    const unknown = 'f'.repeat(32);
    await refused(() => get(s, R.GetRun, { run_id: unknown }), 404, 'RESOURCE_DOES_NOT_EXIST');
    await refused(() => post(s, R.LogBatch, { run_id: unknown, metrics: [{ key: 'm', value: 1, timestamp: 1 }] }), 404, 'RESOURCE_DOES_NOT_EXIST');
    await refused(() => post(s, R.UpdateRun, { run_id: unknown, status: 'FINISHED' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    await refused(() => post(s, R.DeleteRun, { run_id: unknown }), 404, 'RESOURCE_DOES_NOT_EXIST');
    await refused(() => post(s, R.CreateRun, { experiment_id: '4242' }), 404, 'RESOURCE_DOES_NOT_EXIST');
  });

  it('a 1 MB body of nested arrays or objects is a 400, not a stack overflow while the message is built', async () => {
    const depth = 500_000;
    const nestedArrays = '['.repeat(depth) + ']'.repeat(depth);
    const nestedObjects = '{"a":'.repeat(depth / 5) + '1' + '}'.repeat(depth / 5);
    assert.ok(nestedArrays.length + 20 <= 1024 * 1024);
    const raw = (route: RestRoute, text: string) => post(s, route, Buffer.from(text), { headers: { 'Content-Type': 'application/json' } });
    await refused(() => raw(R.LogMetric, `{"run_id": ${nestedArrays}}`), 400, 'INVALID_PARAMETER_VALUE', /^Invalid value \[\[\[\[.{190,}…/);
    await refused(() => raw(R.LogBatch, `{"run_id": "${runId}", "metrics": [${nestedArrays}]}`), 400, 'INVALID_PARAMETER_VALUE', "parameter 'metrics[0]'");
    await refused(() => raw(R.CreateExperiment, `{"name": ${nestedObjects}}`), 400, 'INVALID_PARAMETER_VALUE', /^Invalid value \{"a":\{"a":/);
    await refused(() => raw(R.SearchRuns, `{"filter": ${nestedArrays}}`), 400, 'INVALID_PARAMETER_VALUE', "parameter 'filter'");
    // Only opening brackets: never valid JSON, refused before anything is built from it.
    await refused(() => raw(R.LogBatch, '['.repeat(1024 * 1024 - 1)), 400, 'BAD_REQUEST', 'Malformed JSON');
    // A model whose JSON nests deep would be written back into the run's tag by a recursive JSON writer.
    const model = `{"artifact_path": "m", "flavors": {}, "utc_time_created": "2026-01-01", "run_id": "${runId}", "metadata": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    await refused(() => post(s, R.LogModel, { run_id: runId, model_json: model }), 400, 'INVALID_PARAMETER_VALUE', 'deeper than 64 levels');
    assert.equal((await get(s, R.GetRun, { run_id: runId })).status, 200);
  });

  it('IN lists, experiment_ids and order_by past their bounds are 400s, not "too many SQL variables"', async () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => `'v${i}'`).join(', ');
    const ids = (n: number) => Array.from({ length: n }, (_, i) => String(i));
    await refused(() => post(s, R.SearchRuns, { filter: `params.p IN (${values(40_000)})` }), 400, 'INVALID_PARAMETER_VALUE', /^Invalid filter at position \d+: too many values in IN lists: a filter may hold at most 10000 in all/);
    // The bound is on all the lists of a filter together: four lists of 9,000 are over SQLite's 32,766 parameters.
    const fourLists = [0, 1, 2, 3].map((j) => `params.p${j} NOT IN (${values(9_000)})`).join(' and ');
    await refused(() => post(s, R.SearchRuns, { filter: fourLists }), 400, 'INVALID_PARAMETER_VALUE', 'too many values in IN lists');
    await refused(() => post(s, R.SearchLoggedModels, { experiment_ids: ['0'], filter: `params.p IN (${values(40_000)})` }), 400, 'INVALID_PARAMETER_VALUE', 'too many values in IN lists');
    await refused(() => post(s, R.SearchRuns, { experiment_ids: ids(40_000) }), 400, 'INVALID_PARAMETER_VALUE', "parameter 'experiment_ids': 40000 items given, a request may send at most 10000");
    await refused(() => post(s, R.SearchLoggedModels, { experiment_ids: ids(40_000) }), 400, 'INVALID_PARAMETER_VALUE', "parameter 'experiment_ids'");
    const orderBy = Array.from({ length: 70 }, (_, i) => `metrics.m${i}`);
    await refused(() => post(s, R.SearchRuns, { order_by: orderBy }), 400, 'INVALID_PARAMETER_VALUE', "parameter 'order_by': 70 items given");
    // At the bounds, together, the search runs.
    const atBounds = await post(s, R.SearchRuns, { experiment_ids: ids(10_000), filter: `params.p IN (${values(10_000)})`, order_by: orderBy.slice(0, 32) });
    assert.equal(atBounds.status, 200, atBounds.body.toString());
    const found = await post(s, R.SearchRuns, { experiment_ids: ids(10_000), filter: `params.p IN ('v1', ${values(9_999)})` });
    assert.deepEqual(found.json.runs.map((r: Json) => r.info.run_id), [runId]);
  });

  it('a JSON body that is not UTF-8 is a 400 and nothing is stored (no U+FFFD)', async () => {
    const raw = (route: RestRoute, head: string, bytes: number[], tail: string) =>
      post(s, route, Buffer.concat([Buffer.from(head), Buffer.from(bytes), Buffer.from(tail)]), { headers: { 'Content-Type': 'application/json' } });
    // A stray byte, a UTF-16 surrogate in CESU-8, an overlong '/', a sequence cut short.
    for (const bytes of [[0xff], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe2, 0x82]]) {
      await refused(() => raw(R.CreateExperiment, '{"name": "caf', bytes, '"}'), 400, 'INVALID_PARAMETER_VALUE', 'not valid UTF-8');
      await refused(() => raw(R.SetTag, `{"run_id": "${runId}", "key": "k", "value": "`, bytes, '"}'), 400, 'INVALID_PARAMETER_VALUE', 'not valid UTF-8');
      await refused(() => raw(R.LogBatch, `{"run_id": "${runId}", "params": [{"key": "p`, bytes, '", "value": "v"}]}'), 400, 'INVALID_PARAMETER_VALUE', 'not valid UTF-8');
    }
    // A lone surrogate escaped in valid UTF-8 JSON (`\udfff`, `\ud800x`) has no UTF-8 form either.
    for (const escaped of ['\\udfff', '\\ud800x', 'a\\uDC00']) {
      await refused(() => raw(R.SetTag, `{"run_id": "${runId}", "key": "lone", "value": "${escaped}"}`, [], ''), 400, 'INVALID_PARAMETER_VALUE', 'lone UTF-16 surrogate');
      await refused(() => raw(R.CreateExperiment, `{"name": "x${escaped}"}`, [], ''), 400, 'INVALID_PARAMETER_VALUE', 'lone UTF-16 surrogate');
    }
    assert.equal((await get(s, R.GetRun, { run_id: runId })).json.run.data.tags.find((t: Json) => t.key === 'lone'), undefined);
    // A pair escaped as two \u escapes is one character, stored as sent.
    assert.equal((await raw(R.SetTag, `{"run_id": "${runId}", "key": "pair", "value": "\\ud83d\\ude00"}`, [], '')).status, 200);
    assert.equal((await get(s, R.GetRun, { run_id: runId })).json.run.data.tags.find((t: Json) => t.key === 'pair').value, '😀');
    // Valid UTF-8 beyond ASCII is stored as sent.
    assert.equal((await raw(R.SetTag, `{"run_id": "${runId}", "key": "k", "value": "caf`, [0xc3, 0xa9], ' ✓"}')).status, 200);
    assert.equal((await get(s, R.GetRun, { run_id: runId })).json.run.data.tags.find((t: Json) => t.key === 'k').value, 'café ✓');
  });

  it('a body over 1 MB is refused and nothing is logged', async () => {
    const big = { run_id: runId, tags: [{ key: 'big', value: 'x'.repeat(1024 * 1024) }] };
    await refused(() => post(s, R.LogBatch, big), 400, 'INVALID_PARAMETER_VALUE', 'larger than the limit');
    // Without a Content-Length the server stops reading as soon as the limit is passed.
    await refused(() => post(s, R.LogBatch, big, { chunked: true }), 400, 'INVALID_PARAMETER_VALUE', 'larger than the limit');
    // A body far over the limit does not stall the server or fill its memory.
    await refused(() => post(s, R.LogBatch, Buffer.alloc(3 * 1024 * 1024, 0x20), { chunked: true }), 400, 'INVALID_PARAMETER_VALUE', 'larger than the limit');
    assert.equal((await get(s, R.GetRun, { run_id: runId })).status, 200);
  });

  it('MLflow batch limits', async () => {
    const metrics = (n: number) => Array.from({ length: n }, (_, i) => ({ key: 'lim', value: i, timestamp: 1, step: i }));
    const kv = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, value: 'v' }));
    await refused(
      () => post(s, R.LogBatch, { run_id: runId, metrics: metrics(1001) }),
      400,
      'INVALID_PARAMETER_VALUE',
      'A batch logging request can contain at most 1000 metrics. Got 1001 metrics. Please split up metrics across multiple requests and try again.',
    );
    await refused(() => post(s, R.LogBatch, { run_id: runId, params: kv(101, 'p') }), 400, 'INVALID_PARAMETER_VALUE', 'at most 100 params. Got 101 params');
    await refused(() => post(s, R.LogBatch, { run_id: runId, tags: kv(101, 't') }), 400, 'INVALID_PARAMETER_VALUE', 'at most 100 tags. Got 101 tags');
    await refused(
      () => post(s, R.LogBatch, { run_id: runId, metrics: metrics(950), params: kv(51, 'p') }),
      400,
      'INVALID_PARAMETER_VALUE',
      'at most 1000 metrics, params, and tags',
    );
    // At the limit is fine.
    assert.equal((await post(s, R.LogBatch, { run_id: runId, metrics: metrics(1000) })).status, 200);
  });

  it('params are immutable; a batch with a changed param logs none of its metrics', async () => {
    assert.equal((await post(s, R.LogParam, { run_id: runId, key: 'p', value: 'v1' })).status, 200);
    await refused(() => post(s, R.LogParam, { run_id: runId, key: 'p', value: 'v2' }), 400, 'INVALID_PARAMETER_VALUE', 'Changing param values is not allowed');
    await refused(
      () =>
        post(s, R.LogBatch, {
          run_id: runId,
          metrics: [{ key: 'after', value: 1, timestamp: 1, step: 0 }],
          params: [{ key: 'p', value: 'v2' }],
          tags: [{ key: 'after', value: 'x' }],
        }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Changing param values is not allowed',
    );
    assert.equal(s.tracker.getRun(runId).metrics.some((m) => m.key === 'after'), false);
  });

  it('unknown endpoints, wrong methods, bad filters', async () => {
    await refused(() => post(s, 'runs/frobnicate', {}), 404, 'ENDPOINT_NOT_FOUND');
    await refused(() => request(s, 'GET', '/api/2.0/mlflow/'), 404, 'ENDPOINT_NOT_FOUND');
    await refused(() => request(s, 'GET', '/'), 404, 'ENDPOINT_NOT_FOUND');
    const wrongMethod = await refused(() => request(s, 'GET', `${routeUrl(R.LogBatch)}?run_id=${runId}`), 405, 'BAD_REQUEST', 'POST');
    assert.equal(wrongMethod.headers.allow, 'POST');
    await refused(() => post(s, R.GetRun, { run_id: runId }), 405, 'BAD_REQUEST');
    await refused(() => request(s, 'DELETE', routeUrl(R.DeleteRun)), 405, 'BAD_REQUEST');
    await refused(() => post(s, R.SearchRuns, { experiment_ids: ['0'], filter: 'metrics.acc >> 1' }), 400, 'INVALID_PARAMETER_VALUE', /position \d+/);
    await refused(() => post(s, R.SearchRuns, { experiment_ids: ['0'], filter: "params.lr = 'unterminated" }), 400, 'INVALID_PARAMETER_VALUE', /position \d+/);
    await refused(() => post(s, R.SearchRuns, { experiment_ids: ['0'], max_results: 'many' }), 400, 'INVALID_PARAMETER_VALUE', "parameter 'max_results'");
    await refused(() => post(s, R.CreateLoggedModel, { name: 'm' }), 400, 'INVALID_PARAMETER_VALUE', "'experiment_id'");
    await refused(() => request(s, 'POST', routeUrl(MLFLOW_ARTIFACTS_ROUTES.CreateMultipartUpload, { artifact_path: `0/${runId}/artifacts` }, MLFLOW_ARTIFACTS_PREFIX), { body: { path: 'f', num_parts: 2 } }), 501, 'NOT_IMPLEMENTED', /^Multipart upload is not supported/);
    await refused(() => post(s, R.LogModel, { run_id: runId, model_json: '[1]' }), 400, 'INVALID_PARAMETER_VALUE', 'Malformed model info');
    await refused(() => post(s, R.LogModel, { run_id: runId, model_json: '{}' }), 400, 'INVALID_PARAMETER_VALUE', "{'artifact_path', 'flavors', 'utc_time_created', 'run_id'}");
    await refused(() => post(s, R.LogModel, { model_json: '{}' }), 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'run_id'");
  });

  it('a request Node cannot parse gets a JSON error too: a URL over 16 KiB (a long search filter in a GET), a malformed request line', async () => {
    const ids = Array.from({ length: 600 }, (_, i) => `'${i.toString(16).padStart(32, '0')}'`).join(', ');
    const long = await refused(() => get(s, R.SearchRuns, { experiment_ids: '0', filter: `attributes.run_id IN (${ids})` }), 431, 'INVALID_PARAMETER_VALUE', 'larger than 16 KiB');
    assert.equal(long.headers.connection, 'close');
    const raw = await new Promise<string>((resolve, reject) => {
      const c = net.connect({ host: '127.0.0.1', port: s.port }, () => c.write('NOT A REQUEST\r\n\r\n'));
      let text = '';
      c.on('data', (d) => (text += d.toString('utf8')));
      c.on('close', () => resolve(text));
      c.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.deepEqual(Object.keys(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))), ['error_code', 'message']);
    // And the endpoint goes on serving.
    assert.equal((await get(s, R.GetRun, { run_id: runId })).status, 200);
  });

  it('leaves the database intact', () => {
    assert.deepEqual(s.tracker.db.prepare('PRAGMA integrity_check').get(), { integrity_check: 'ok' });
  });
});

describe('tracking endpoint: artifacts', () => {
  let s: TrackingServer;
  let exp: string;
  let runId: string;
  const ART = routeUrl(MLFLOW_ARTIFACTS_ROUTES.ListArtifacts, {}, MLFLOW_ARTIFACTS_PREFIX);
  before(async () => {
    s = await startTrackingServer({ workspace: freshWorkspace() });
    exp = (await post(s, R.CreateExperiment, { name: 'art' })).json.experiment_id;
    runId = await createRun(s, exp);
  });
  after(() => s.close());

  it('an upload declaring more than the disk has free, or past the limit, is refused before a byte is stored; one past the old 1 GiB limit is not', async () => {
    const root = `${ART}/${exp}/${runId}/artifacts`;
    const st = statfsSync(s.tracker.workspace);
    const free = st.bavail * st.bsize;
    // Headers declaring the size and one byte of body: a refusal is answered from the headers alone.
    const declare = (bytes: number) =>
      new Promise<{ status: number; message: string } | 'no answer'>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: s.port, method: 'PUT', path: `${root}/huge.bin`, headers: { Authorization: `Bearer ${s.token}`, 'Content-Length': String(bytes) }, agent: false }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, message: (JSON.parse(text) as { message: string }).message }));
        });
        req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve('no answer') : reject(e)));
        req.write(Buffer.from('x'));
        // An upload being received gets no answer until its body ends: the request is dropped then.
        setTimeout(() => {
          resolve('no answer');
          req.destroy();
        }, 1500);
      });
    const over = await declare(Math.min(free + 1, MAX_ARTIFACT_BYTES + 1));
    assert.notEqual(over, 'no answer');
    if (free + 1 <= MAX_ARTIFACT_BYTES) {
      assert.deepEqual(over, { status: 400, message: `The artifact upload (${free + 1} bytes) does not fit in the free space of the workspace's disk (${free} bytes free).` });
    } else assert.deepEqual(over, { status: 400, message: `The artifact upload is larger than the limit of ${MAX_ARTIFACT_BYTES} bytes. Please split it up and try again.` });
    if (free > 1.5 * 1024 ** 3) assert.equal(await declare(1.5 * 1024 ** 3), 'no answer', 'a 1.5 GiB upload is received, not refused');
    const listed = await request(s, 'GET', `${ART}?path=${encodeURIComponent(`${exp}/${runId}/artifacts`)}`);
    assert.ok(!JSON.stringify(listed.json).includes('huge.bin'), 'nothing stored');
    // A disk that fills while the bytes arrive (another upload took the room): a 400, which MLflow's
    // client does not send again, not a 500, which it would send again up to 7 times.
    const put = s.tracker.putArtifact.bind(s.tracker);
    s.tracker.putArtifact = async () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    try {
      assertError(await request(s, 'PUT', `${root}/full.bin`, { body: Buffer.from('bytes') }), 400, 'INVALID_STATE', "The workspace's disk is full");
    } finally {
      s.tracker.putArtifact = put;
    }
  });

  it('uploads, lists and downloads, bytes intact and sha256 recorded', async () => {
    const root = `${ART}/${exp}/${runId}/artifacts`;
    const model = randomBytes(300 * 1024);
    const up = await request(s, 'PUT', `${root}/model/weights.bin`, { body: model });
    assert.equal(up.status, 200, up.body.toString());
    assert.deepEqual(up.json, {});
    assert.equal((await request(s, 'PUT', `${root}/notes%20v1.txt`, { body: Buffer.from('hello') })).status, 200);
    assert.equal((await request(s, 'PUT', `${root}/model/sub/config.json`, { body: Buffer.from('{}'), chunked: true })).status, 200);

    const top = await request(s, 'GET', `${ART}?path=${encodeURIComponent(`${exp}/${runId}/artifacts`)}`);
    assert.equal(top.status, 200);
    assert.deepEqual(top.json, {
      files: [
        { path: 'model', is_dir: true },
        { path: 'notes v1.txt', is_dir: false, file_size: 5 },
      ],
    });
    const sub = await request(s, 'GET', `${ART}?path=${encodeURIComponent(`${exp}/${runId}/artifacts/model`)}`);
    assert.deepEqual(sub.json, {
      files: [
        { path: 'sub', is_dir: true },
        { path: 'weights.bin', is_dir: false, file_size: model.length },
      ],
    });
    assert.deepEqual((await request(s, 'GET', `${ART}?path=${encodeURIComponent(`${exp}/${runId}/artifacts/empty`)}`)).json, {});

    const down = await request(s, 'GET', `${root}/model/weights.bin`);
    assert.equal(down.status, 200);
    assert.equal(down.headers['content-type'], 'application/octet-stream');
    assert.equal(down.headers['content-length'], String(model.length));
    assert.ok(down.body.equals(model));
    const sha = createHash('sha256').update(model).digest('hex');
    assert.deepEqual(s.tracker.openArtifact(runId, 'model/weights.bin').record, { path: 'model/weights.bin', size: model.length, sha256: sha });
    assert.equal((await request(s, 'GET', `${root}/notes%20v1.txt`)).body.toString(), 'hello');
    assertError(await request(s, 'GET', `${root}/missing.bin`), 404, 'RESOURCE_DOES_NOT_EXIST');
    // A stored file removed from .runwise/: a state error (400, not a 500 the mlflow client retries), no absolute path said.
    assert.equal((await request(s, 'PUT', `${root}/gone.txt`, { body: Buffer.from('soon gone') })).status, 200);
    const gone = s.tracker.openArtifact(runId, 'gone.txt');
    unlinkSync(gone.filePath);
    const refused = await request(s, 'GET', `${root}/gone.txt`);
    assertError(refused, 400, 'INVALID_STATE');
    assert.match(refused.json.message, /^The stored file of artifact 'gone\.txt' \(sha256 [0-9a-f]{64}\) cannot be read \(ENOENT\)/);
    assert.ok(!refused.json.message.includes(s.tracker.workspace), refused.json.message);
  });

  it('a malformed request pipelined behind a download in progress closes the connection; nothing is written into the body', async () => {
    const root = `${ART}/${exp}/${runId}/artifacts`;
    const big = randomBytes(24 * 1024 * 1024);
    assert.equal((await request(s, 'PUT', `${root}/big.bin`, { body: big })).status, 200);
    const received = await new Promise<Buffer>((resolve, reject) => {
      const c = net.connect({ host: '127.0.0.1', port: s.port }, () => {
        c.write(`GET ${root}/big.bin HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nAuthorization: Bearer ${s.token}\r\n\r\n`);
      });
      const chunks: Buffer[] = [];
      let sent = false;
      c.on('data', (d: Buffer) => {
        chunks.push(d);
        // The response has started: now a request Node's parser refuses, on the same connection.
        if (!sent) {
          sent = true;
          c.write('NOT A REQUEST\r\n\r\n');
        }
      });
      c.on('close', () => resolve(Buffer.concat(chunks)));
      c.on('error', () => resolve(Buffer.concat(chunks)));
      setTimeout(() => reject(new Error('the connection stayed open')), 30_000).unref();
    });
    const headerEnd = received.indexOf('\r\n\r\n');
    assert.match(received.subarray(0, headerEnd).toString('latin1'), /^HTTP\/1\.1 200 /);
    const body = received.subarray(headerEnd + 4);
    assert.ok(body.length <= big.length);
    assert.ok(body.equals(big.subarray(0, body.length)), 'the body received is the file, with no error response inside it');
  });

  it('refuses paths that leave the run, and runs of another experiment', async () => {
    const before = snapshot(s.tracker);
    const root = `${ART}/${exp}/${runId}/artifacts`;
    assertError(await request(s, 'PUT', `${root}/../../../../etc/passwd`, { body: Buffer.from('x') }), 400, 'INVALID_PARAMETER_VALUE', "'..'");
    assertError(await request(s, 'PUT', `${root}/a/%2e%2e/%2E%2E/b`, { body: Buffer.from('x') }), 400, 'INVALID_PARAMETER_VALUE', "'..'");
    assertError(await request(s, 'GET', `${root}/..%2F..%2Ftracker.db`), 400, 'INVALID_PARAMETER_VALUE', "'..'");
    assertError(await request(s, 'GET', `${ART}/%2Fetc%2Fpasswd`), 400, 'INVALID_PARAMETER_VALUE', 'absolute');
    assertError(await request(s, 'GET', `${ART}?path=${encodeURIComponent(`${exp}/${runId}/artifacts/../..`)}`), 400, 'INVALID_PARAMETER_VALUE', "'..'");
    assertError(await request(s, 'PUT', `${root}/a%5Cb`, { body: Buffer.from('x') }), 400, 'INVALID_PARAMETER_VALUE', 'backslash');
    assertError(await request(s, 'PUT', `${ART}/0/${runId}/artifacts/x.txt`, { body: Buffer.from('x') }), 404, 'RESOURCE_DOES_NOT_EXIST', 'does not belong');
    assertError(await request(s, 'PUT', `${ART}/${exp}/${'0'.repeat(32)}/artifacts/x.txt`, { body: Buffer.from('x') }), 404, 'RESOURCE_DOES_NOT_EXIST');
    assertError(await request(s, 'PUT', `${ART}/${exp}/${runId}/x.txt`, { body: Buffer.from('x') }), 400, 'INVALID_PARAMETER_VALUE', 'artifact_uri');
    assertError(await request(s, 'GET', ART), 400, 'INVALID_PARAMETER_VALUE', "'path'");
    assertError(await request(s, 'DELETE', `${root}/notes.txt`), 405, 'BAD_REQUEST');
    assertError(await request(s, 'PUT', `${root}/x.txt`, { body: Buffer.from('x'), token: 'wrong' }), 401, 'UNAUTHENTICATED');
    assert.equal(snapshot(s.tracker), before);
    // The connection survives a refused upload; the next one works.
    assert.equal((await request(s, 'PUT', `${root}/after.txt`, { body: Buffer.from('ok') })).status, 200);
    // A file below a file (which no file system can hold) is refused, as one over a folder is.
    assertError(await request(s, 'PUT', `${root}/after.txt/inner.txt`, { body: Buffer.from('x') }), 400, 'INVALID_PARAMETER_VALUE', "is below 'after.txt', a file of run");
    assertError(await request(s, 'PUT', `${root}/deep/er/f.txt`, { body: Buffer.from('x') }).then(async (r) => (r.status === 200 ? request(s, 'PUT', `${root}/deep`, { body: Buffer.from('x') }) : r)), 400, 'INVALID_PARAMETER_VALUE', "'deep' is a directory");
  });
});

describe('tracking endpoint: unexpected errors', () => {
  it('answers 500 INTERNAL_ERROR, keeps serving, and leaves a given tracker open', async () => {
    const tracker = Tracker.open(freshWorkspace());
    const logged: string[] = [];
    const s = await startTrackingServer({ workspace: 'unused', tracker, log: (m) => logged.push(m) });
    try {
      assert.equal(s.tracker, tracker);
      const runId = await createRun(s);
      const original = tracker.getRun.bind(tracker);
      tracker.getRun = () => {
        throw new Error('disk on fire');
      };
      assertError(await get(s, R.GetRun, { run_id: runId }), 500, 'INTERNAL_ERROR', 'disk on fire');
      assert.equal(logged.length, 1);
      assert.match(logged[0]!, /disk on fire/);
      // An unexpected error naming the workspace's absolute path (a file system error) is answered without it.
      tracker.getRun = () => {
        throw new Error(`EISDIR: illegal operation on a directory, open '${path.join(tracker.workspace, '.runwise', 'artifacts', 'tmp')}'`);
      };
      const leaked = await get(s, R.GetRun, { run_id: runId });
      assert.equal(leaked.status, 500);
      assert.ok(!leaked.body.toString().includes(tracker.workspace), leaked.body.toString());
      assert.match(leaked.json.message, /open '\.runwise\/artifacts\/tmp'/);
      tracker.getRun = original;
      assert.equal((await get(s, R.GetRun, { run_id: runId })).status, 200);
    } finally {
      await s.close();
    }
    // close() left the tracker it was given open.
    assert.deepEqual(tracker.db.prepare('PRAGMA integrity_check').get(), { integrity_check: 'ok' });
    tracker.close();
  });

  it('a client that goes away mid-body is no error to log (the extension would fill its output with stacks)', async () => {
    const logged: string[] = [];
    const s = await startTrackingServer({ workspace: freshWorkspace(), log: (m) => logged.push(m) });
    try {
      const runId = await createRun(s);
      const { port } = new URL(s.uri);
      for (const [method, route] of [['POST', `${MLFLOW_API_PREFIX}/runs/log-batch`], ['PUT', `${MLFLOW_ARTIFACTS_PREFIX}/artifacts/0/${runId}/artifacts/big.bin`]]) {
        const socket = net.connect(Number(port), '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        socket.write(`${method} ${route} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${s.token}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"run_id": "`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        socket.destroy();
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(logged, []);
      assert.equal((await get(s, R.GetRun, { run_id: runId })).status, 200, 'still serving');
    } finally {
      await s.close();
    }
  });
});

describe('tracking endpoint: connection slots', () => {
  /** Opens `n` raw connections that send nothing; resolves once each is connected (or already closed by the server). */
  async function idleSockets(s: TrackingServer, n: number): Promise<net.Socket[]> {
    const sockets: net.Socket[] = [];
    // In batches: the listen backlog is finite, and the server accepts in the same event loop.
    for (let i = 0; i < n; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, n - i) }, () => {
          const c = net.connect({ host: '127.0.0.1', port: s.port });
          c.on('error', () => {
            /* closed by the server */
          });
          sockets.push(c);
          return new Promise<void>((resolve) => {
            c.once('connect', resolve);
            c.once('close', () => resolve());
          });
        }),
      );
    }
    return sockets;
  }

  const closed = (c: net.Socket): Promise<void> => (c.closed ? Promise.resolve() : new Promise((resolve) => c.once('close', () => resolve())));

  it('600 idle sockets without a token do not lock out a client with the token; the oldest idle ones are closed', async () => {
    const s = await startTrackingServer({ workspace: freshWorkspace() });
    let idle: net.Socket[] = [];
    try {
      idle = await idleSockets(s, 600);
      const reply = await get(s, R.GetExperiment, { experiment_id: '0' });
      assert.equal(reply.status, 200);
      assert.equal(reply.json.experiment.name, 'Default');
      // Unauthenticated connections have a budget of their own: all but the newest 64 were closed
      // as newer ones came (which are the newest depends on the order the server accepted them in).
      await new Promise<void>((resolve) => {
        let open = idle.filter((c) => !c.closed).length;
        const settle = (): void => {
          if (open <= MAX_UNAUTHENTICATED_CONNECTIONS) resolve();
        };
        for (const c of idle.filter((x) => !x.closed)) c.once('close', () => (open--, settle()));
        settle();
      });
      // Still room for more clients after the flood, and keep-alive works for them.
      const more = await Promise.all(Array.from({ length: 20 }, (_, i) => post(s, R.CreateExperiment, { name: `after-flood-${i}` })));
      assert.deepEqual(more.map((r) => r.status), Array(20).fill(200));
    } finally {
      for (const c of idle) c.destroy();
      await s.close();
    }
  });

  it('a connection that sends no request with the token is closed, idle or trickling its headers', async () => {
    const s = await startTrackingServer({ workspace: freshWorkspace() });
    try {
      const [silent, trickling] = await idleSockets(s, 2);
      trickling!.write(`GET ${routeUrl(R.GetExperiment)}?experiment_id=0 HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n`);
      await Promise.all([closed(silent!), closed(trickling!)]);
      assert.equal((await get(s, R.GetExperiment, { experiment_id: '0' })).status, 200);
    } finally {
      await s.close();
    }
  });
});

describe('tracking endpoint: a link in the store is refused without its absolute path', () => {
  it('a run artifact whose blob is a link: the answer names it from .runwise/ on', async () => {
    const ws = freshWorkspace();
    const s = await startTrackingServer({ workspace: ws, orphanSweepIntervalMs: 0 });
    try {
      const run = s.tracker.createRun({ experimentId: '0' }).info;
      const record = await s.tracker.putArtifact(run.runId, 'model.pkl', Buffer.from('bytes'));
      const blob = s.tracker.artifacts.blobPath(record.sha256);
      const { chmodSync, rmSync, symlinkSync, writeFileSync } = await import('node:fs');
      chmodSync(blob, 0o644);
      rmSync(blob);
      writeFileSync(path.join(ws, 'elsewhere'), 'bytes');
      symlinkSync(path.join(ws, 'elsewhere'), blob);
      const r = await request(s, 'GET', `/api/2.0/mlflow-artifacts/artifacts/${run.artifactUri.replace('mlflow-artifacts:/', '')}/model.pkl`);
      assert.notEqual(r.status, 200);
      assert.match(r.json.message, /\.runwise\/artifacts\/.* is a symbolic link/);
      assert.ok(!r.body.toString().includes(ws), r.body.toString());
    } finally {
      await s.close();
    }
  });
});
