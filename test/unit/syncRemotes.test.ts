// Remotes in .runwise/config, the retry policy of the remote client (against a loopback server that
// answers what each case needs), progress lines, and the Runs view's mark on pushed and pulled runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { addRemote, authorizationHeader, configPath, getRemote, listRemotes, remoteFromEnvironment, removeRemote } from '../../core/sync/remoteConfig';
import { AmbiguousSendError, RemoteClient, RemoteRequestError, parseRetryAfter } from '../../core/sync/remoteClient';
import { progressPrinter } from '../../core/sync/syncProgress';
import { SyncError } from '../../core/sync/syncError';
import { pushedTag, ORIGIN_REMOTE_TAG } from '../../core/sync/syncTags';
import { Tracker } from '../../core/tracker/tracker';
import { RunsTreeModel } from '../../core/views/runsTreeModel';
import { tempWorkspace } from '../support/tempWorkspace';

test('remotes are kept in .runwise/config with the names of their variables, never a secret', () => {
  const ws = tempWorkspace('sync-config');
  addRemote(ws, 'team', 'https://mlflow.example.com/', { tokenEnv: 'TEAM_TOKEN' });
  addRemote(ws, 'lab', 'http://127.0.0.1:5000/base', { userEnv: 'LAB_USER', passwordEnv: 'LAB_PASS' });
  assert.deepEqual(listRemotes(ws).map((r) => [r.name, r.uri]), [['lab', 'http://127.0.0.1:5000/base'], ['team', 'https://mlflow.example.com']]);
  const text = readFileSync(configPath(ws), 'utf8');
  assert.deepEqual(JSON.parse(text).remotes.team, { uri: 'https://mlflow.example.com', auth: { tokenEnv: 'TEAM_TOKEN' } });
  // Written through a temporary file: nothing else is left in .runwise/.
  assert.deepEqual(readdirSync(path.dirname(configPath(ws))).filter((f) => f.includes('config')), ['config']);
  assert.equal(authorizationHeader(getRemote(ws, 'team'), { TEAM_TOKEN: 's3cret' }), 'Bearer s3cret');
  assert.equal(authorizationHeader(getRemote(ws, 'lab'), { LAB_USER: 'ann', LAB_PASS: 'pw' }), `Basic ${Buffer.from('ann:pw').toString('base64')}`);
  assert.throws(() => authorizationHeader(getRemote(ws, 'lab'), { LAB_USER: 'ann' }), /\$LAB_PASS, which is not set/);
  removeRemote(ws, 'lab');
  assert.deepEqual(listRemotes(ws).map((r) => r.name), ['team']);
  assert.throws(() => removeRemote(ws, 'lab'), /no remote named 'lab' \(remotes: team\)/);
});

test('a remote must be an http(s) URL without credentials, with a proper name, added once', () => {
  const ws = tempWorkspace('sync-config-bad');
  assert.throws(() => addRemote(ws, 'a', 'file:///tmp/mlruns'), /is a file URI: a remote must be an http\(s\) URL/);
  assert.throws(() => addRemote(ws, 'a', 'sqlite:///mlflow.db'), /is a sqlite URI/);
  assert.throws(() => addRemote(ws, 'a', 'not a url'), /is not a URL/);
  assert.throws(() => addRemote(ws, 'a', 'https://user:pw@host'), /carries credentials in the URL/);
  assert.throws(() => addRemote(ws, '../x', 'https://host'), /is not a remote name/);
  assert.throws(() => addRemote(ws, 'a', 'https://host', { tokenEnv: 'not-a-name' }), /--token-env takes the NAME of an environment variable/);
  addRemote(ws, 'a', 'https://host');
  assert.throws(() => addRemote(ws, 'a', 'https://other'), /a remote named 'a' exists/);
  assert.ok(!existsSync(path.join(ws, '.runwise', 'tracker.db')));
});

test('a damaged .runwise/config is reported with its path, not overwritten', () => {
  const ws = tempWorkspace('sync-config-damaged');
  addRemote(ws, 'a', 'https://host');
  writeFileSync(configPath(ws), '{"remotes": {"a": ');
  assert.throws(() => listRemotes(ws), (e: unknown) => e instanceof SyncError && e.message.includes(configPath(ws)) && /not valid JSON/.test(e.message));
  assert.throws(() => addRemote(ws, 'b', 'https://host'), /not valid JSON/);
  assert.equal(readFileSync(configPath(ws), 'utf8'), '{"remotes": {"a": ');
});

test('Retry-After: seconds or an HTTP date', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter('0.5'), 500);
  assert.equal(parseRetryAfter(undefined), undefined);
  assert.equal(parseRetryAfter('soon'), undefined);
  const ms = parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())!;
  assert.ok(ms > 8000 && ms <= 10_000, String(ms));
});

/** A loopback server whose answers are scripted per request. */
async function scripted(answer: (n: number, req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{ uri: string; seen: string[]; close(): void }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    req.resume();
    req.on('end', () => answer(seen.length, req, res));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => server.close() };
}

const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

test('429 and 503 are retried with backoff; the last failure is reported after maxAttempts', async () => {
  const s = await scripted((n, _req, res) => (n <= 2 ? json(res, n === 1 ? 429 : 503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'busy' }) : json(res, 200, { experiment: { experiment_id: '7' } })));
  const retries: string[] = [];
  const client = new RemoteClient({ name: 'r', uri: s.uri, auth: { tokenEnv: 'T' } }, { env: { T: 'tok' }, baseDelayMs: 1, onRetry: (_w, reason) => retries.push(reason) });
  try {
    const reply = await client.rpc<{ experiment: { experiment_id: string } }>('GetExperimentByName', { experiment_name: 'a b' });
    assert.equal(reply.experiment.experiment_id, '7');
    assert.deepEqual(retries, ['HTTP 429', 'HTTP 503']);
    assert.equal(s.seen.length, 3);
    assert.match(s.seen[0]!, /^GET \/api\/2\.0\/mlflow\/experiments\/get-by-name\?experiment_name=a\+b Bearer tok$/);
  } finally {
    client.close();
    s.close();
  }
  const always = await scripted((_n, _req, res) => json(res, 503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'busy' }));
  const failing = new RemoteClient({ name: 'r', uri: always.uri, auth: {} }, { baseDelayMs: 1, maxAttempts: 3 });
  try {
    await assert.rejects(failing.rpc('GetRun', { run_id: 'x' }), /GET \/api\/2\.0\/mlflow\/runs\/get to remote 'r' \(http:\/\/127\.0\.0\.1:\d+\) failed after 3 attempts: HTTP 503/);
    assert.equal(always.seen.length, 3);
  } finally {
    failing.close();
    always.close();
  }
});

test('a metrics batch is not resent after an answer that may have been applied; other errors are specific', async () => {
  const s = await scripted((n, req, res) => {
    if (n === 1) return json(res, 502, {});
    if (n === 2) return json(res, 401, { error_code: 'UNAUTHENTICATED', message: 'bad token' });
    if (n === 3) return json(res, 404, { error_code: 'ENDPOINT_NOT_FOUND', message: `no ${req.url}` });
    if (n === 4) {
      res.writeHead(404, { 'Content-Type': 'text/html' });
      return res.end('<h1>Not Found</h1>');
    }
    return json(res, 400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'bad value' });
  });
  const client = new RemoteClient({ name: 'team', uri: s.uri, auth: { tokenEnv: 'TEAM_TOKEN' } }, { env: { TEAM_TOKEN: 't' }, baseDelayMs: 1 });
  try {
    await assert.rejects(client.rpc('LogBatch', { run_id: 'r', metrics: [] }, { ambiguousFails: true }), AmbiguousSendError);
    assert.equal(s.seen.length, 1, 'not resent');
    await assert.rejects(client.rpc('LogBatch', { run_id: 'r' }), (e: unknown) => e instanceof SyncError && /remote 'team' .* refused the request \(HTTP 401 UNAUTHENTICATED: bad token\); it was sent with the token in \$TEAM_TOKEN/.test(e.message));
    await assert.rejects(client.rpc('LogInputs', { run_id: 'r' }), /does not serve POST \/api\/2\.0\/mlflow\/runs\/log-inputs \(HTTP 404\); MLflow ≥ 2\.4 is needed/);
    await assert.rejects(client.listArtifacts('1/r/artifacts'), /does not serve GET \/api\/2\.0\/mlflow-artifacts\/artifacts \(HTTP 404\); MLflow ≥ 1\.24 is needed/);
    await assert.rejects(client.rpc('LogParam', { run_id: 'r', key: 'k', value: 'v' }), (e: unknown) => e instanceof RemoteRequestError && e.errorCode === 'INVALID_PARAMETER_VALUE' && /bad value/.test(e.message));
  } finally {
    client.close();
    s.close();
  }
});

test('cancelling stops the retries at once', async () => {
  const s = await scripted((_n, _req, res) => json(res, 503, {}, { 'Retry-After': '30' }));
  const controller = new AbortController();
  const client = new RemoteClient({ name: 'r', uri: s.uri, auth: {} }, { signal: controller.signal, onRetry: () => controller.abort() });
  try {
    const t0 = Date.now();
    await assert.rejects(client.rpc('GetRun', { run_id: 'x' }), (e: unknown) => e instanceof SyncError && e.cancelled);
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    client.close();
    s.close();
  }
});

test('progress: a plain line per event off a terminal, one rewritten line on a terminal', () => {
  const plain: string[] = [];
  const p = progressPrinter({ write: (t: string) => plain.push(t) });
  p.event({ kind: 'progress', points: 1000, requests: 3, bytes: 2_000_000 });
  p.event({ kind: 'run', runId: '0123456789abcdef0123456789abcdef', runName: 'train', remoteRunId: 'fedcba9876543210fedcba9876543210', state: 'created', points: 1000, bytes: 2_000_000 });
  p.done();
  assert.deepEqual(plain, ['1000 points, 3 requests, 2.0 MB sent\n', 'run 01234567 (train) → fedcba98: created, 1000 points, 2.0 MB\n']);
  const tty: string[] = [];
  const q = progressPrinter({ write: (t: string) => tty.push(t), isTTY: true });
  q.event({ kind: 'progress', points: 5, requests: 1, bytes: 0 });
  q.done();
  assert.deepEqual(tty, ['\r\x1b[2K5 points, 1 requests, 0.0 MB sent', '\n']);
});

test('the Runs view marks runs pushed to or pulled from a remote', () => {
  const t = Tracker.open(tempWorkspace('sync-mark'));
  try {
    const pushed = t.createRun({ runName: 'pushed', status: 'FINISHED' }).info.runId;
    const pulled = t.createRun({ runName: 'pulled', status: 'FINISHED', tags: [{ key: ORIGIN_REMOTE_TAG, value: 'lab' }] }).info.runId;
    const plain = t.createRun({ runName: 'plain', status: 'FINISHED' }).info.runId;
    t.setTag(pushed, { key: pushedTag('team'), value: 'f'.repeat(32) });
    const model = new RunsTreeModel();
    model.apply(t.changesSince());
    assert.equal(model.nodeOfRun(pushed)!.description, 'finished ☁ team');
    assert.match(model.nodeOfRun(pushed)!.tooltip, /Pushed to team/);
    assert.equal(model.nodeOfRun(pulled)!.description, 'finished ☁ lab');
    assert.match(model.nodeOfRun(pulled)!.tooltip, /Pulled from lab/);
    assert.equal(model.nodeOfRun(plain)!.description, 'finished');
  } finally {
    t.close();
  }
});

test('runwise remote add|list|remove, and the sync commands\' options as their modules declare them', async () => {
  const { commandOptions, main } = await import('../../core/cli/main');
  for (const [name, module, exported] of [
    ['remote add', '../../core/cli/commands/remote', 'remoteAddOptions'],
    ['push', '../../core/cli/commands/push', 'pushOptions'],
    ['pull', '../../core/cli/commands/pull', 'pullOptions'],
  ] as const) {
    assert.deepEqual(commandOptions(name), ((await import(module)) as Record<string, unknown>)[exported], name);
  }
  const ws = tempWorkspace('sync-cli');
  const run = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await main([...argv, '--workspace', ws], { out: (t) => void (out += t), err: (t) => void (err += t) });
    return { code, out, err };
  };
  assert.equal((await run('remote', 'add', 'lab', 'https://lab.example.com', '--basic-auth-env', 'LAB_USER', 'LAB_PASS')).code, 0);
  assert.equal((await run('remote', 'add', 'team', 'https://team.example.com', '--token-env', 'TEAM_TOKEN')).code, 0);
  const listed = await run('remote', 'list');
  assert.equal(listed.out, 'lab\thttps://lab.example.com\tthe user and password in $LAB_USER and $LAB_PASS\nteam\thttps://team.example.com\tthe token in $TEAM_TOKEN\n');
  const bad = await run('remote', 'add', 'x', 'ftp://h');
  assert.equal(bad.code, 1);
  assert.equal(bad.err, "runwise: 'ftp://h' is a ftp URI: a remote must be an http(s) URL of an MLflow Tracking Server\n");
  assert.equal((await run('push', '--all')).code, 2, 'push needs --to');
  assert.equal((await run('remote', 'remove', 'lab')).code, 0);
  assert.deepEqual(listRemotes(ws).map((r) => r.name), ['team']);
});

test("the server MLflow's variables name is a remote: bearer token first, else basic auth, named after its host", () => {
  assert.deepEqual(remoteFromEnvironment({ MLFLOW_TRACKING_URI: 'https://mlflow.example.com:5000/', MLFLOW_TRACKING_TOKEN: 't', MLFLOW_TRACKING_USERNAME: 'u' }), {
    name: 'mlflow.example.com-5000',
    uri: 'https://mlflow.example.com:5000',
    auth: { tokenEnv: 'MLFLOW_TRACKING_TOKEN' },
  });
  assert.deepEqual(remoteFromEnvironment({ MLFLOW_TRACKING_URI: 'http://10.0.0.5', MLFLOW_TRACKING_USERNAME: 'u', MLFLOW_TRACKING_PASSWORD: 'p' }).auth, {
    userEnv: 'MLFLOW_TRACKING_USERNAME',
    passwordEnv: 'MLFLOW_TRACKING_PASSWORD',
  });
  assert.deepEqual(remoteFromEnvironment({ MLFLOW_TRACKING_URI: 'http://localhost:5000' }).auth, {});
  assert.throws(() => remoteFromEnvironment({}), /MLFLOW_TRACKING_URI is not set/);
  assert.throws(() => remoteFromEnvironment({ MLFLOW_TRACKING_URI: 'file:///tmp/mlruns' }), /a remote must be an http\(s\) URL/);
});
