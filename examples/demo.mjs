#!/usr/bin/env node
// `npm run demo`: starts the tracking endpoint on the examples/ workspace, trains three models with
// different params (each run logged through the endpoint, as any script would), then lists and
// compares the runs with the `runwise` CLI.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const runwise = path.join(here, '..', 'bin', 'runwise.js');
const workspace = here;
const token = randomBytes(16).toString('hex');
const experiment = 'moons-logistic-regression';

function cli(...args) {
  console.log(`\n$ runwise ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [runwise, ...args, '--workspace', workspace], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`runwise ${args.join(' ')} exited with ${r.status}`);
}

async function startServer() {
  const child = spawn(process.execPath, [runwise, 'serve', '--port', '0', '--json', '--workspace', workspace], {
    env: { ...process.env, RUNWISE_TOKEN: token },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let text = '';
  const uri = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`runwise serve exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      text += line;
      try {
        resolve(JSON.parse(text).tracking_uri);
      } catch {
        /* more lines to come */
      }
    });
  });
  return { child, uri };
}

async function api(uri, route, body) {
  const res = await fetch(`${uri}/api/2.0/mlflow/${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${route}: ${json.error_code}: ${json.message}`);
  return json;
}

function runScript(env, args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(here, 'train.js'), ...args], { env: { ...process.env, ...env }, stdio: 'inherit' });
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

const { child: server, uri } = await startServer();
console.log(`Tracking server: ${uri} (workspace ${workspace})`);
const runIds = [];
try {
  let experimentId;
  try {
    experimentId = (await api(uri, 'experiments/create', { name: experiment })).experiment_id;
  } catch {
    const res = await fetch(`${uri}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${experiment}`, { headers: { authorization: `Bearer ${token}` } });
    experimentId = (await res.json()).experiment.experiment_id;
  }
  for (const lr of [0.05, 0.5, 2.0]) {
    const run = (await api(uri, 'runs/create', { experiment_id: experimentId, run_name: `lr=${lr}`, start_time: Date.now() })).run;
    const runId = run.info.run_id;
    runIds.push(runId);
    const code = await runScript(
      { MLFLOW_TRACKING_URI: uri, MLFLOW_TRACKING_TOKEN: token, MLFLOW_RUN_ID: runId },
      ['--lr', String(lr), '--epochs', '80', '--l2', '0.001'],
    );
    await api(uri, 'runs/update', { run_id: runId, status: code === 0 ? 'FINISHED' : 'FAILED', end_time: Date.now() });
  }
} finally {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
}

cli('runs', 'list', '--experiment', experiment, '--max-results', '10');
cli('runs', 'compare', ...runIds);
cli('metrics', 'history', runIds[1], 'test/accuracy', '--max-points', '8');
console.log(`\nThe tracker is ${path.join(workspace, '.runwise', 'tracker.db')}; try \`npx runwise runs list --workspace examples\`.`);
