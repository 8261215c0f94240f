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
 *
 * Beside wall time, the CPU time of the push process (user + system, read through /usr/bin/time
 * where it exists) and of the server process during the push (/proc, Linux): the VM is shared, so
 * the CPU a push costs says more than its wall time.
 *
 *   --rounds N          rounds (default 3)
 *   --compare-cli PATH  also push with another build's cli.js (e.g. a `git archive` of the commit
 *                       before, built), alternated with this one in each round, to a fresh server each
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
const flagValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const ROUNDS = Number(flagValue('--rounds') ?? 3);
const compareCli = flagValue('--compare-cli');
const TIME = '/usr/bin/time';
const TOKEN = 'bench-sync-token';
const IN_FLIGHT = 6;

/** CPU seconds (user + system) a live process has used so far; undefined off Linux. */
function cpuSecondsOf(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

async function startServe(ws: string): Promise<{ uri: string; pid: number | undefined; stop(): Promise<void> }> {
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
    pid: server.pid,
    stop: async () => {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    },
  };
}

function pushSeconds(ws: string, remote: string, build = cli): { seconds: number; cpuSeconds?: number; stdout: string } {
  const args = [build, 'push', '--all', '--to', remote, '--workspace', ws];
  const timed = existsSync(TIME);
  const t0 = performance.now();
  const r = timed
    ? spawnSync(TIME, ['-f', 'RUNWISE_BENCH_CPU %U %S', process.execPath, ...args], { env: { ...process.env, BENCH_SYNC_TOKEN: TOKEN }, encoding: 'utf8' })
    : spawnSync(process.execPath, args, { env: { ...process.env, BENCH_SYNC_TOKEN: TOKEN }, encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`push failed (${r.status}): ${r.stderr}`);
  const cpu = /RUNWISE_BENCH_CPU ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  return { seconds, stdout: r.stdout, ...(cpu ? { cpuSeconds: Number(cpu[1]) + Number(cpu[2]) } : {}) };
}

interface PushFigures {
  rates: number[];
  cpu: number[];
  serverCpu: number[];
  noopMs: number[];
}

/** One push of everything to a fresh remote, then the no-op push; figures added to `into`. */
function pushRound(local: string, name: string, serverPid: number | undefined, build: string, into: PushFigures): void {
  const serverBefore = cpuSecondsOf(serverPid);
  const first = pushSeconds(local, name, build);
  const serverAfter = cpuSecondsOf(serverPid);
  if (!/100 created/.test(first.stdout)) throw new Error(`unexpected push summary: ${first.stdout}`);
  into.rates.push(TOTAL / first.seconds);
  if (first.cpuSeconds !== undefined) into.cpu.push(first.cpuSeconds);
  if (serverBefore !== undefined && serverAfter !== undefined) into.serverCpu.push(serverAfter - serverBefore);
  const again = pushSeconds(local, name, build);
  if (!/100 up to date/.test(again.stdout)) throw new Error(`the second push was not a no-op: ${again.stdout}`);
  into.noopMs.push(again.seconds * 1000);
}

function describe(label: string, f: PushFigures): string[] {
  const cpu = f.cpu.length ? `; CPU of the push ${fmt(median(f.cpu), 2)} s (rounds: ${f.cpu.map((c) => fmt(c, 2)).join(', ')})` : '';
  const server = f.serverCpu.length ? `, of the server meanwhile ${fmt(median(f.serverCpu), 2)} s` : '';
  return [
    `  ${label}median ${fmt(median(f.rates), 0)} points/s (rounds: ${f.rates.map((r) => fmt(r, 0)).join(', ')})   (target ≥ 200,000)`,
    `  ${label}${cpu.slice(2)}${server}`,
    `  ${label}no-op re-push (everything up to date): median ${fmt(median(f.noopMs), 0)} ms (rounds: ${f.noopMs.map((r) => fmt(r, 0)).join(', ')})   (target < 1,000 ms)`,
  ];
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

  const figures: PushFigures = { rates: [], cpu: [], serverCpu: [], noopMs: [] };
  const compared: PushFigures = { rates: [], cpu: [], serverCpu: [], noopMs: [] };
  const anchorRates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const remoteWs = mkdtempSync(path.join(tmpdir(), 'runwise-bench-sync-remote-'));
    const server = await startServe(remoteWs);
    const name = `bench${round}`;
    addRemote(local, name, server.uri, { tokenEnv: 'BENCH_SYNC_TOKEN' });
    try {
      if (compareCli && round % 2 === 1) await comparedRound(local, round, compared);
      pushRound(local, name, server.pid, cli, figures);
      if (compareCli && round % 2 === 0) await comparedRound(local, round, compared);
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
  for (const line of describe('', figures)) console.log(line);
  console.log(`  the same points as ready-made log-batch requests, ${IN_FLIGHT} in flight (the ceiling): median ${fmt(median(anchorRates), 0)} points/s (${fmt((100 * median(figures.rates)) / median(anchorRates), 0)} % reached by push)`);
  if (compareCli) {
    console.log(`the same pushes with ${compareCli}, alternated with the ones above:`);
    for (const line of describe('', compared)) console.log(line);
  }
  console.log(`load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  console.log(
    `\nRESULTS ${JSON.stringify({
      sync: {
        push_points_per_s: median(figures.rates),
        rounds: figures.rates,
        push_cpu_s: figures.cpu.length ? median(figures.cpu) : null,
        server_cpu_s: figures.serverCpu.length ? median(figures.serverCpu) : null,
        ceiling_points_per_s: median(anchorRates),
        noop_ms: median(figures.noopMs),
        noop_rounds: figures.noopMs,
        ...(compareCli ? { compared: { cli: compareCli, push_points_per_s: median(compared.rates), rounds: compared.rates, push_cpu_s: compared.cpu.length ? median(compared.cpu) : null, noop_ms: median(compared.noopMs) } } : {}),
      },
    })}`,
  );
}

/** A push with the other build, to a fresh server of its own (this build's `serve`, as for the main pushes). */
async function comparedRound(local: string, round: number, into: PushFigures): Promise<void> {
  const remoteWs = mkdtempSync(path.join(tmpdir(), 'runwise-bench-sync-remote-'));
  const server = await startServe(remoteWs);
  const name = `bench${round}b`;
  addRemote(local, name, server.uri, { tokenEnv: 'BENCH_SYNC_TOKEN' });
  try {
    pushRound(local, name, server.pid, path.resolve(compareCli!), into);
  } finally {
    await server.stop();
    rmSync(remoteWs, { recursive: true, force: true });
  }
}

void main();
