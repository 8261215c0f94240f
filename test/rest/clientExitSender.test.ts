/**
 * The Node client's exit path: what a script logged right before process.exit() is delivered by
 * the exit sender, which retries as the client does (it shares its transport). A stand-in server
 * answers 503 three times before taking a batch: the client's policy retries three times, so the
 * batch must land, from the bundled client (dist/client.js, as `require('runwise/client')` loads
 * it) and from the TypeScript source alike.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { tempWorkspace } from '../support/tempWorkspace';

const REPO = path.resolve(__dirname, '..', '..');
const RUN_ID = 'a'.repeat(32);

interface Seen {
  path: string;
  status: number;
  body: string;
}

let server: Server;
let uri: string;
let seen: Seen[] = [];
let busyAnswers = 0;

before(async () => {
  execFileSync(process.execPath, ['esbuild.mjs'], { cwd: REPO, stdio: 'inherit' });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      let status = 200;
      let reply: unknown = {};
      if (url.startsWith('/api/2.0/mlflow/runs/log-batch') && busyAnswers > 0) {
        busyAnswers--;
        status = 503;
        reply = { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'busy' };
      }
      seen.push({ path: url, status, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  uri = `http://127.0.0.1:${addr.port}`;
});

after(() => server.close());

function runScript(file: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, MLFLOW_TRACKING_URI: uri, MLFLOW_TRACKING_TOKEN: 't', MLFLOW_RUN_ID: RUN_ID };
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args, file], { cwd: REPO, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

const SCRIPT = (clientModule: string) => `
const rw = require(${JSON.stringify(clientModule)});
rw.logMetric('loss', 0.25, 3);
rw.logParam('lr', '0.01');
process.exit(0);
`;

for (const [label, clientModule, args] of [
  ['the bundled client (dist/client.js)', path.join(REPO, 'dist', 'client.js'), []],
  ['the client from its TypeScript source', path.join(REPO, 'core', 'trackingClient', 'index.ts'), ['--import', 'tsx']],
] as const) {
  test(`${label}: a batch logged right before process.exit() lands through three 503 answers`, async () => {
    seen = [];
    busyAnswers = 3;
    const dir = tempWorkspace('exit-sender');
    const file = path.join(dir, 'train.cjs');
    writeFileSync(file, SCRIPT(clientModule));
    const r = await runScript(file, [...args]);
    assert.equal(r.code, 0, r.stderr);
    const batches = seen.filter((s) => s.path.startsWith('/api/2.0/mlflow/runs/log-batch'));
    assert.deepEqual(
      batches.map((b) => b.status),
      [503, 503, 503, 200],
      `attempts: ${JSON.stringify(batches.map((b) => b.status))}; stderr: ${r.stderr}`,
    );
    const body = JSON.parse(batches[3]!.body) as { run_id: string; metrics: { key: string; value: number; step: number }[]; params: { key: string; value: string }[] };
    assert.equal(body.run_id, RUN_ID);
    assert.deepEqual(body.metrics.map((m) => [m.key, m.value, m.step]), [['loss', 0.25, 3]]);
    assert.deepEqual(body.params, [{ key: 'lr', value: '0.01' }]);
    // A run given by MLFLOW_RUN_ID belongs to whoever launched the script: the client never ends it.
    assert.equal(seen.filter((s) => s.path.startsWith('/api/2.0/mlflow/runs/update')).length, 0);
    assert.equal(r.stderr, '');
  });
}

test('the exit sender reports what it could not deliver on stderr; an exit code 0 becomes 1', async () => {
  seen = [];
  busyAnswers = 10; // more than any retry policy waits for
  const dir = tempWorkspace('exit-sender');
  const file = path.join(dir, 'train.cjs');
  writeFileSync(file, SCRIPT(path.join(REPO, 'dist', 'client.js')));
  const r = await runScript(file, []);
  assert.equal(r.code, 1, 'a script whose logged values were lost does not exit 0');
  assert.match(r.stderr, /runwise client: at exit, batch for run a{32}: .*503|TEMPORARILY_UNAVAILABLE/);
  assert.match(r.stderr, /runwise client: not everything this script logged reached the tracking endpoint; exit code set to 1/);
  assert.equal(seen.filter((s) => s.path.startsWith('/api/2.0/mlflow/runs/log-batch')).length, 4);
});
