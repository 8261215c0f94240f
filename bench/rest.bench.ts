/**
 * The tracking endpoint under load: 4 client processes posting runs/log-batch (1000 metrics each)
 * at once to `runwise serve` in its own process. The anchor is MLflow 3.11's own `mlflow server`
 * (SQLite backend) under the real `mlflow` client, measured outside the project where it can be
 * installed: about 4,100 points/s and 114 ms per 500-metric batch (see bench/README.md).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { Tracker } from '../core/tracker/tracker';
import { fmt, median } from './stats';

const root = path.resolve(__dirname, '..');
const CLIENTS = 4;
const BATCHES = 100;

async function main(): Promise<void> {
  const ws = mkdtempSync(path.join(tmpdir(), 'runwise-bench-rest-'));
  // 10,000 runs × 20 params × 20 metrics × 5 tags in experiment 1, for runs/search over HTTP.
  const filled = Tracker.open(ws);
  const searchExp = filled.createExperiment('search').experimentId;
  let seed = 1;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  filled.db.transaction(() => {
    for (let r = 0; r < 10_000; r++) {
      const id = filled.createRun({ experimentId: searchExp, runName: `run-${r}`, status: 'FINISHED' }).info.runId;
      filled.logBatch(id, {
        params: Array.from({ length: 20 }, (_, i) => ({ key: `p${i}`, value: `v${Math.floor(rand() * 10)}` })),
        metrics: Array.from({ length: 20 }, (_, i) => ({ key: `m${i}`, value: rand(), step: 0, timestamp: 1 })),
        tags: Array.from({ length: 5 }, (_, i) => ({ key: `t${i}`, value: rand() < 0.1 ? 'x' : 'y' })),
      });
    }
  });
  filled.close();
  const token = 'bench-token';
  const server = spawn(process.execPath, [path.join(root, 'dist', 'cli.js'), 'serve', '--json', '--workspace', ws], {
    env: { ...process.env, RUNWISE_TOKEN: token },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let text = '';
  const uri = await new Promise<string>((resolve) =>
    createInterface({ input: server.stdout }).on('line', (l) => {
      text += l;
      try {
        resolve((JSON.parse(text) as { tracking_uri: string }).tracking_uri);
      } catch {
        /* more lines */
      }
    }),
  );
  const api = async (route: string, body: unknown) =>
    (await (await fetch(`${uri}/api/2.0/mlflow/${route}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(body) })).json()) as {
      run: { info: { run_id: string } };
    };
  const rates: number[] = [];
  for (let round = 0; round < 3; round++) {
    const runs = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => api('runs/create', { experiment_id: '0', run_name: `bench-${round}-${i}` })));
    const clients = runs.map((r) =>
      spawn(process.execPath, ['--no-warnings', '--import', 'tsx', path.join(__dirname, 'fixtures', 'restClient.ts'), uri, token, r.run.info.run_id, String(BATCHES)], {
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    );
    // Every client is started and waiting before the clock starts.
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = performance.now();
    const done = clients.map((c) => new Promise<void>((resolve) => c.stdout.once('data', () => resolve())));
    clients.forEach((c) => c.stdin.write('go\n'));
    await Promise.all(done);
    const s = (performance.now() - t0) / 1000;
    rates.push((CLIENTS * BATCHES * 1000) / s);
  }
  const one = await (async () => {
    const run = await api('runs/create', { experiment_id: '0' });
    const metrics = Array.from({ length: 500 }, (_, i) => ({ key: 'x', value: i, step: i, timestamp: Date.now() }));
    const samples: number[] = [];
    for (let i = 0; i < 21; i++) {
      const t0 = performance.now();
      await fetch(`${uri}/api/2.0/mlflow/runs/log-batch`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ run_id: run.run.info.run_id, metrics }) });
      samples.push(performance.now() - t0);
    }
    return median(samples);
  })();
  const searchMs: Record<number, number> = {};
  for (const maxResults of [100, 1000]) {
    const body = JSON.stringify({ experiment_ids: [searchExp], filter: "metrics.m3 > 0.5 and params.p2 = 'v7' and tags.t1 != 'x'", max_results: maxResults });
    const times: number[] = [];
    for (let i = 0; i < 26; i++) {
      const t0 = performance.now();
      const res = await fetch(`${uri}/api/2.0/mlflow/runs/search`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body });
      await res.arrayBuffer();
      if (i >= 5) times.push(performance.now() - t0);
    }
    searchMs[maxResults] = median(times);
  }
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(ws, { recursive: true, force: true });
  console.log(`runs/log-batch, ${CLIENTS} concurrent client processes × ${BATCHES} batches of 1000 metrics, 3 rounds:`);
  console.log(`  median ${fmt(median(rates), 0)} points/s (rounds: ${rates.map((r) => fmt(r, 0)).join(', ')})   (target ≥ 100,000; MLflow 3.11's server: about 4,100)`);
  console.log(`  one batch of 500 metrics, median round trip: ${fmt(one, 2)} ms   (MLflow 3.11's own server: about 114 ms, measured outside the project; see bench/README.md)`);
  console.log(`runs/search over HTTP, 10,000 runs × 20 params × 20 metrics × 5 tags, three-clause filter (449 match):`);
  console.log(`  median ${fmt(searchMs[100]!, 2)} ms for a page of 100, ${fmt(searchMs[1000]!, 2)} ms for a page of 1000 (round trip, JSON included)`);
  console.log(`\nRESULTS ${JSON.stringify({ rest: { median_points_per_s: median(rates), rounds: rates, batch500_ms: one, search_ms: searchMs } })}`);
}

void main();
