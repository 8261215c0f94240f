/**
 * `runwise push` end to end: 100 runs × 10,000 metric points each (2 keys × 5,000), params and
 * tags, from a local workspace to a second `runwise serve` (its own process, a fresh workspace each
 * round), timed from the start of the `runwise push --all` process to its exit; then the same push
 * again, which finds everything up to date (a no-op).
 *
 * Side by side, on the same server and load: the same points as ready-made runs/log-batch requests
 * of 1,000 posted with the same number of requests in flight and nothing else to do (no reading
 * of the local tracker, no lookups, no process start): the ceiling a push can approach here.
 * Targets (issue 13): ≥ 200,000 points/s, a no-op re-push under 1 s. A real MLflow server took
 * about 4,100 points/s on a comparable load (bench/README.md): a push to one is bounded by it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { Tracker } from '../../core/tracker/tracker';
import { RemoteClient } from '../../core/sync/remoteClient';
import { addRemote, getRemote } from '../../core/sync/remoteConfig';
import { fmt, median } from '../stats';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'cli.js');
const RUNS = 100;
const KEYS = 2;
const POINTS_PER_KEY = 5_000;
const TOTAL = RUNS * KEYS * POINTS_PER_KEY;
const ROUNDS = 3;
const TOKEN = 'bench-sync-token';
const IN_FLIGHT = 6;

async function startServe(ws: string): Promise<{ uri: string; stop(): Promise<void> }> {
  const server = spawn(process.execPath, [cli, 'serve', '--json', '--workspace', ws], { env: { ...process.env, RUNWISE_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'inherit'] });
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
  return {
    uri,
    stop: async () => {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    },
  };
}

function pushSeconds(ws: string, remote: string): { seconds: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, 'push', '--all', '--to', remote, '--workspace', ws], { env: { ...process.env, BENCH_SYNC_TOKEN: TOKEN }, encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`push failed (${r.status}): ${r.stderr}`);
  return { seconds, stdout: r.stdout };
}

async function main(): Promise<void> {
  const local = mkdtempSync(path.join(tmpdir(), 'runwise-bench-sync-'));
  const tracker = Tracker.open(local);
  const exp = tracker.createExperiment('bench').experimentId;
  const t0 = 1_700_000_000_000;
  tracker.db.transaction(() => {
    for (let r = 0; r < RUNS; r++) {
      const id = tracker.createRun({ experimentId: exp, runName: `run-${r}`, status: 'FINISHED' }).info.runId;
      tracker.logBatch(id, {
        params: Array.from({ length: 10 }, (_, i) => ({ key: `p${i}`, value: String(i * r) })),
        tags: [{ key: 'bench', value: 'sync' }],
        metrics: Array.from({ length: KEYS * POINTS_PER_KEY }, (_, i) => ({ key: `m${i % KEYS}`, value: Math.sin(i + r), step: Math.floor(i / KEYS), timestamp: t0 + i })),
      });
      tracker.updateRun(id, { status: 'FINISHED', endTime: t0 + 10_000 });
    }
  });
  tracker.close();

  const pushRates: number[] = [];
  const noopMs: number[] = [];
  const anchorRates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const remoteWs = mkdtempSync(path.join(tmpdir(), 'runwise-bench-sync-remote-'));
    const server = await startServe(remoteWs);
    const name = `bench${round}`;
    addRemote(local, name, server.uri, { tokenEnv: 'BENCH_SYNC_TOKEN' });
    try {
      const first = pushSeconds(local, name);
      if (!/100 created/.test(first.stdout)) throw new Error(`unexpected push summary: ${first.stdout}`);
      pushRates.push(TOTAL / first.seconds);
      const again = pushSeconds(local, name);
      if (!/100 up to date/.test(again.stdout)) throw new Error(`the second push was not a no-op: ${again.stdout}`);
      noopMs.push(again.seconds * 1000);
      // The ceiling: the same points as ready-made batches into fresh runs of the same server.
      const client = new RemoteClient(getRemote(local, name), { concurrency: IN_FLIGHT, env: { BENCH_SYNC_TOKEN: TOKEN } });
      try {
        const runIds: string[] = [];
        for (let r = 0; r < RUNS; r++) runIds.push((await client.rpc<{ run: { info: { run_id: string } } }>('CreateRun', { experiment_id: '0' })).run.info.run_id);
        const bodies = Array.from({ length: (KEYS * POINTS_PER_KEY) / 1000 }, (_, b) =>
          Array.from({ length: 1000 }, (_, i) => ({ key: `m${(b * 1000 + i) % KEYS}`, value: Math.sin(i), step: b * 500 + (i >> 1), timestamp: t0 + i })),
        );
        const start = performance.now();
        let next = 0;
        const jobs = runIds.flatMap((id) => bodies.map((metrics) => ({ id, metrics })));
        await Promise.all(
          Array.from({ length: IN_FLIGHT }, async () => {
            while (next < jobs.length) {
              const job = jobs[next++]!;
              await client.rpc('LogBatch', { run_id: job.id, metrics: job.metrics });
            }
          }),
        );
        anchorRates.push(TOTAL / ((performance.now() - start) / 1000));
      } finally {
        client.close();
      }
    } finally {
      await server.stop();
      rmSync(remoteWs, { recursive: true, force: true });
    }
  }
  rmSync(local, { recursive: true, force: true });
  console.log(`runwise push --all of ${RUNS} runs × ${KEYS * POINTS_PER_KEY} points (${TOTAL.toLocaleString('en-US')} in all) to a second runwise serve, ${ROUNDS} rounds, process start to exit:`);
  console.log(`  median ${fmt(median(pushRates), 0)} points/s (rounds: ${pushRates.map((r) => fmt(r, 0)).join(', ')})   (target ≥ 200,000)`);
  console.log(`  the same points as ready-made log-batch requests, ${IN_FLIGHT} in flight (the ceiling): median ${fmt(median(anchorRates), 0)} points/s (${fmt((100 * median(pushRates)) / median(anchorRates), 0)} % reached by push)`);
  console.log(`  no-op re-push (everything up to date): median ${fmt(median(noopMs), 0)} ms (rounds: ${noopMs.map((r) => fmt(r, 0)).join(', ')})   (target < 1,000 ms)`);
  console.log(`\nRESULTS ${JSON.stringify({ sync: { push_points_per_s: median(pushRates), rounds: pushRates, ceiling_points_per_s: median(anchorRates), noop_ms: median(noopMs), noop_rounds: noopMs } })}`);
}

void main();
