// A pull from a server that answers a run the local tracker refuses (a param name MLflow's rule
// forbids) writes nothing of that run, and says which run and why; the runs before it stay. With
// artifacts, a file that cannot be fetched is named and the files stored before it stay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pullRuns } from '../../core/sync/pullRuns';
import { localArtifacts } from '../../core/sync/pushRuns';
import { SyncError } from '../../core/sync/syncError';
import { Tracker } from '../../core/tracker/tracker';
import { tempWorkspace } from '../support/tempWorkspace';

const run = (id: string, name: string, params: { key: string; value: string }[], start: number) => ({
  info: { run_id: id, run_uuid: id, run_name: name, experiment_id: '3', user_id: 'ann', status: 'FINISHED', start_time: start, end_time: start + 10, artifact_uri: `mlflow-artifacts:/3/${id}/artifacts`, lifecycle_stage: 'active' },
  data: { params, metrics: [{ key: 'loss', value: 0.5, timestamp: start, step: 2 }], tags: [{ key: 'mlflow.runName', value: name }] },
  inputs: {},
});

/** How a fake remote answers one request: `reply` with JSON, or `bytes` with a file's body; both return true. */
type FakeRoute = (url: URL, reply: (body: unknown, status?: number) => true, bytes: (body: string) => true) => boolean;

/**
 * A fake MLflow server on loopback with an experiment 'remote-exp' (id 3): `route` answers the
 * rest, and what it does not answer is a 404. Returns the server and a remote 'lab' pointing at it.
 */
async function fakeRemote(route: FakeRoute) {
  const server = http.createServer((req, res) => {
    req.resume();
    const url = new URL(req.url!, 'http://x');
    const reply = (body: unknown, status = 200): true => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
      return true;
    };
    const bytes = (body: string): true => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(body);
      return true;
    };
    if (url.pathname.endsWith('/experiments/get-by-name')) reply({ experiment: { experiment_id: '3', name: 'remote-exp', lifecycle_stage: 'active' } });
    else if (!route(url, reply, bytes)) reply({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: `no ${url.pathname}` }, 404);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, remote: { name: 'lab', uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, auth: {} } };
}

test('a run the local tracker refuses is not half-written; the error names it', async () => {
  const good = 'a'.repeat(32);
  const bad = 'b'.repeat(32);
  const { server, remote } = await fakeRemote((url, reply) => {
    if (url.pathname.endsWith('/runs/search')) return reply({ runs: [run(good, 'good', [{ key: 'lr', value: '0.1' }], 1000), run(bad, 'bad', [{ key: '../escape', value: '1' }], 2000)] });
    if (url.pathname.endsWith('/metrics/get-history')) {
      return reply({ metrics: [0, 1, 2].map((step) => ({ key: 'loss', value: 1 / (step + 1), timestamp: 1000 + step, step })) });
    }
    return false;
  });
  const t = Tracker.open(tempWorkspace('sync-pull-refused'));
  try {
    await assert.rejects(
      pullRuns(t, remote, { experiment: 'remote-exp' }),
      (e: unknown) => e instanceof SyncError && e.message.includes(`run ${bad} (bad) of remote 'lab' cannot be pulled`) && /nothing of it was written/.test(e.message),
    );
    const runs = t.searchRuns({ viewType: 'ALL' }).items;
    assert.deepEqual(runs.map((r) => r.info.runName), ['good']);
    assert.equal(t.getMetricHistory(runs[0]!.info.runId, 'loss').items.length, 3);
    assert.deepEqual(runs[0]!.params, [{ key: 'lr', value: '0.1' }]);
  } finally {
    t.close();
    server.close();
  }
});

test('pull with artifacts: a file that fails names itself and keeps the ones stored; a server storing artifacts off its proxy is named', async () => {
  const id = 'c'.repeat(32);
  const plain = 'd'.repeat(32);
  let serveOffProxy = false;
  const { server, remote } = await fakeRemote((url, reply, bytes) => {
    if (url.pathname.endsWith('/runs/search')) {
      const offProxy = run(plain, 'off-proxy', [], 2000);
      offProxy.info.artifact_uri = '/mlruns/3/off/artifacts';
      return reply({ runs: [run(id, 'files', [], 1000), ...(serveOffProxy ? [offProxy] : [])] });
    }
    if (url.pathname.endsWith('/metrics/get-history')) return reply({ metrics: [{ key: 'loss', value: 0.5, timestamp: 1000, step: 2 }] });
    if (url.pathname.endsWith('/mlflow-artifacts/artifacts')) {
      const dir = url.searchParams.get('path');
      if (dir === `3/${id}/artifacts`) return reply({ files: [{ path: 'a.txt', is_dir: false, file_size: 3 }, { path: 'sub', is_dir: true }] });
      if (dir === `3/${id}/artifacts/sub`) return reply({ files: [{ path: 'sub/b.txt', is_dir: false, file_size: 3 }] });
      return reply({ files: [] });
    }
    if (url.pathname.endsWith(`/mlflow-artifacts/artifacts/3/${id}/artifacts/a.txt`)) return bytes('abc');
    if (serveOffProxy && url.pathname.endsWith(`/mlflow-artifacts/artifacts/3/${id}/artifacts/sub/b.txt`)) return bytes('xyz');
    return false;
  });
  const t = Tracker.open(tempWorkspace('sync-pull-artifacts'));
  try {
    await assert.rejects(pullRuns(t, remote, { experiment: 'remote-exp' }, { artifacts: true }), (e: unknown) => {
      assert.ok(e instanceof SyncError, String(e));
      assert.match(e.message, new RegExp(`artifact 'sub/b.txt' of run ${id} \\(files\\) of remote 'lab' cannot be pulled: .*the run's other artifacts already pulled are kept`));
      return true;
    });
    const local = t.searchRuns({ viewType: 'ALL' }).items;
    assert.deepEqual(local.map((r) => r.info.runName), ['files'], 'the run itself is written before its artifacts');
    assert.deepEqual(t.listArtifacts(local[0]!.info.runId).map((a) => a.path), ['a.txt']);
    // Once b.txt is served, a second pull fetches it alone; a run whose server keeps its artifacts off the proxy is named.
    serveOffProxy = true;
    await assert.rejects(pullRuns(t, remote, { experiment: 'remote-exp' }, { artifacts: true }), /remote 'lab' stores run artifacts at '\/mlruns\/3\/off\/artifacts', not behind its artifact proxy/);
    assert.deepEqual(localArtifacts(t, local[0]!.info.runId), [
      { path: 'a.txt', size: 3 },
      { path: 'sub/b.txt', size: 3 },
    ]);
  } finally {
    t.close();
    server.close();
  }
});

test('pull with artifacts from a remote whose listing or files are wrong: each is named, nothing wrong is stored, nothing loops', async () => {
  const id = 'e'.repeat(32);
  /** The listing per folder below the run's root ('' for the root) and the bodies per file; changed between pulls. */
  let listing: Record<string, { path: string; is_dir?: boolean; file_size?: number | string }[]> = {};
  let bodies: Record<string, string> = {};
  let downloads = 0;
  let listings = 0;
  const rootPath = `3/${id}/artifacts`;
  const { server, remote } = await fakeRemote((url, reply, bytes) => {
    if (url.pathname.endsWith('/runs/search')) return reply({ runs: [run(id, 'listed', [], 1000)] });
    if (url.pathname.endsWith('/metrics/get-history')) return reply({ metrics: [{ key: 'loss', value: 0.5, timestamp: 1000, step: 2 }] });
    if (url.pathname.endsWith('/mlflow-artifacts/artifacts')) {
      listings++;
      const dir = url.searchParams.get('path')!;
      return reply({ files: listing[dir === rootPath ? '' : dir.slice(rootPath.length + 1)] ?? [] });
    }
    const file = decodeURIComponent(url.pathname.split(`${rootPath}/`)[1] ?? '');
    if (!(file in bodies)) return false;
    downloads++;
    return bytes(bodies[file]!);
  });
  const t = Tracker.open(tempWorkspace('sync-pull-artifacts-wrong'));
  const pull = () => pullRuns(t, remote, { experiment: 'remote-exp' }, { artifacts: true });
  try {
    // A folder entry named '' would list the root again, for ever.
    listing = { '': [{ path: '', is_dir: true }] };
    await assert.rejects(pull(), /the artifacts of run e+ \(listed\) of remote 'lab' cannot be listed: the artifact listing of '3\/e+\/artifacts' names an entry '' that is not a file or folder below it/);
    assert.ok(listings < 5, `${listings} listings`);
    const localId = t.searchRuns({ viewType: 'ALL' }).items[0]!.info.runId;
    // A body shorter than listed is not stored.
    listing = { '': [{ path: 'short.bin', file_size: 10 }] };
    bodies = { 'short.bin': 'abc' };
    await assert.rejects(pull(), /artifact 'short\.bin' of run e+ \(listed\) of remote 'lab' cannot be pulled: 3 bytes arrived where the listing says 10; it was not stored/);
    assert.deepEqual(localArtifacts(t, localId), []);
    // A size the listing does not give: fetched once, not on every pull.
    listing = { '': [{ path: 'nosize.txt' }, { path: 'odd.txt', file_size: 'many' }] };
    bodies = { 'nosize.txt': 'hello', 'odd.txt': 'odd' };
    downloads = 0;
    assert.equal((await pull()).artifacts, 2);
    assert.equal((await pull()).artifacts, 0);
    assert.equal(downloads, 2);
    // A file and a folder of one name: the second to arrive is refused, named.
    listing = { '': [{ path: 'a', file_size: 1 }, { path: 'a', is_dir: true }], a: [{ path: 'a/b', file_size: 1 }] };
    bodies = { a: '1', 'a/b': '2' };
    await assert.rejects(pull(), /artifact 'a(\/b)?' of run e+ \(listed\) of remote 'lab' cannot be pulled: .*(is below 'a', a file|is a directory) of run/);
    // A local copy the user deleted gets no artifacts, and says so; the pull itself goes on.
    t.deleteRun(localId);
    listing = { '': [{ path: 'later.txt', file_size: 1 }] };
    bodies = { 'later.txt': 'x' };
    const summary = await pull();
    assert.equal(summary.artifacts, 0);
    assert.deepEqual(summary.skipped, [{ runId: id, reason: `its artifacts: the local copy ${localId} is deleted (restore it to pull them)` }]);
  } finally {
    t.close();
    server.close();
  }
});
