/**
 * The Python tracking client (core/trackingClient/runwise_tracking.py, standard library only) spells
 * out every REST route it calls, where the Node client takes them from core/mlflow/restApi.ts. This
 * reads each `/api/2.0/mlflow…` path out of the Python source, with the HTTP method it is called
 * with, and checks it against MLFLOW_ROUTES / MLFLOW_ARTIFACTS_ROUTES, so the two cannot drift.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MLFLOW_API_PREFIX, MLFLOW_ARTIFACTS_PREFIX, MLFLOW_ARTIFACTS_ROUTES, MLFLOW_ROUTES, type RestRoute } from '../../core/mlflow/restApi';

const SOURCE = readFileSync(path.resolve(__dirname, '..', '..', 'core', 'trackingClient', 'runwise_tracking.py'), 'utf8');
const METHOD = '"(GET|POST|PUT|PATCH|DELETE)"';

interface UsedRoute {
  method: string | undefined;
  /** The path as the client builds it, `%s` for what it fills in, without a query string. */
  path: string;
  line: number;
}

/**
 * Each string literal starting with /api/2.0/mlflow, and its method: the string literal right before
 * it in a `.call(` (`"POST", "/api/…"`), or, for a path first assigned to a variable, the method the
 * variable is called with (`"PUT", url_path`).
 */
function usedRoutes(source: string): UsedRoute[] {
  const used: UsedRoute[] = [];
  for (const m of source.matchAll(/"(\/api\/2\.0\/mlflow[^"]*)"/g)) {
    const at = m.index;
    const line = source.slice(0, at).split('\n').length;
    const before = source.slice(Math.max(0, at - 200), at);
    let method = new RegExp(`${METHOD},\\s*$`).exec(before)?.[1];
    if (!method) {
      const variable = /(\w+)\s*=\s*$/.exec(before)?.[1];
      if (variable) method = new RegExp(`\\.call\\(\\s*${METHOD},\\s*${variable}\\b`).exec(source.slice(at))?.[1];
    }
    used.push({ method, path: m[1]!.replace(/\?.*$/, ''), line });
  }
  return used;
}

/** The routes of restApi.ts that `method path` is, by prefix and path pattern (`{name}` a segment, `{artifact_path}` any). */
function matchingRoutes(method: string, usedPath: string): string[] {
  const tables: [string, Record<string, RestRoute>][] = [
    [MLFLOW_ARTIFACTS_PREFIX, MLFLOW_ARTIFACTS_ROUTES],
    [MLFLOW_API_PREFIX, MLFLOW_ROUTES],
  ];
  for (const [prefix, routes] of tables) {
    if (!usedPath.startsWith(`${prefix}/`)) continue;
    const rest = usedPath.slice(prefix.length + 1).replace(/%s/g, 'x');
    return Object.entries(routes)
      .filter(([, route]) => {
        const pattern = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, name: string) => (name === 'artifact_path' ? '.+' : '[^/]+'));
        return new RegExp(`^${pattern}$`).test(rest) && (route.method === method || (method === 'GET' && route.alsoGet === true));
      })
      .map(([rpc]) => rpc);
  }
  return [];
}

test('every REST route the Python client calls is a route of restApi.ts, with its method', () => {
  const used = usedRoutes(SOURCE);
  // The client's calls: runs create/get/update/log-batch/log-inputs, experiments get-by-name/create, artifact upload.
  assert.ok(used.length >= 8, `found only ${used.length} routes in runwise_tracking.py; the extraction no longer reads it`);
  const found = new Set<string>();
  for (const u of used) {
    assert.ok(u.method, `runwise_tracking.py:${u.line}: no HTTP method found for ${u.path}`);
    const rpcs = matchingRoutes(u.method, u.path);
    assert.equal(rpcs.length, 1, `runwise_tracking.py:${u.line}: ${u.method} ${u.path} is ${rpcs.length ? rpcs.join(', ') : 'no route'} in core/mlflow/restApi.ts`);
    found.add(rpcs[0]!);
  }
  for (const rpc of ['CreateRun', 'GetRun', 'UpdateRun', 'LogBatch', 'LogInputs', 'GetExperimentByName', 'CreateExperiment', 'UploadArtifact']) {
    assert.ok(found.has(rpc), `${rpc} not found among the Python client's calls`);
  }
});

test('the check catches drift: an unknown path or a wrong method matches no route', () => {
  assert.deepEqual(matchingRoutes('POST', '/api/2.0/mlflow/runs/log-batch'), ['LogBatch']);
  assert.deepEqual(matchingRoutes('GET', '/api/2.0/mlflow/runs/log-batch'), []);
  assert.deepEqual(matchingRoutes('POST', '/api/2.0/mlflow/runs/logbatch'), []);
  assert.deepEqual(matchingRoutes('POST', '/api/2.0/mlflow-artifacts/artifacts/%s/%s'), []);
  assert.deepEqual(matchingRoutes('PUT', '/api/2.0/mlflow-artifacts/artifacts/%s/%s'), ['UploadArtifact']);
  const drifted = usedRoutes('http.call("POST", "/api/2.0/mlflow/runs/set-tags", body)\nurl = "/api/2.0/mlflow-artifacts/artifacts/%s" % p\nself.call("PUT", url)');
  assert.deepEqual(drifted.map((u) => [u.method, u.path]), [
    ['POST', '/api/2.0/mlflow/runs/set-tags'],
    ['PUT', '/api/2.0/mlflow-artifacts/artifacts/%s'],
  ]);
  assert.deepEqual(matchingRoutes('POST', drifted[0]!.path), []);
});
