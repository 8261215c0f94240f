/**
 * Tracker benchmarks, each beside its anchor where one runs here:
 *  1. ingest through the core API (logBatch, 1000 points a batch) vs a bare better-sqlite3 prepared
 *     insert into the same table layout, interleaved in one run;
 *  2. runs/search over 10,000 runs × 20 params × 20 metrics × 5 tags with a three-clause filter;
 *  3. a 1,000,000-step history downsampled to 1,000 points.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Tracker } from '../core/tracker/tracker';
import { fmt, median, samples, timeMs } from './stats';

const dirs: string[] = [];
function workspace(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'runwise-bench-'));
  dirs.push(d);
  return d;
}
process.on('exit', () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const BATCH = 1000;
const results: Record<string, unknown> = {};

function ingest(): void {
  const rounds = 5;
  const batchesPerRound = 100; // 100,000 points per round and side
  const t = Tracker.open(workspace());
  const runId = t.createRun().info.runId;
  const runRow = Number(t.db.prepare('SELECT id FROM runs WHERE run_uuid = ?').get(runId)!.id);
  // The anchor: the same table layout (schema applied by the tracker), plain prepared inserts.
  const bareWs = workspace();
  Tracker.open(bareWs).close();
  const bare = new Database(path.join(bareWs, '.runwise', 'tracker.db'));
  bare.pragma('journal_mode = WAL');
  bare.pragma('synchronous = NORMAL');
  bare.prepare('INSERT INTO metric_keys (key) VALUES (?)').run('loss');
  const insert = bare.prepare('INSERT INTO metrics (run_id, key_id, step, timestamp, value) VALUES (?, ?, ?, ?, ?)');
  const insertBatch = bare.transaction((start: number) => {
    for (let i = 0; i < BATCH; i++) insert.run(1, 1, start + i, 1_700_000_000_000 + start + i, Math.random());
  });
  let coreMs = 0;
  let bareMs = 0;
  let step = 0;
  let bareStep = 0;
  for (let r = 0; r < rounds; r++) {
    coreMs += timeMs(() => {
      for (let b = 0; b < batchesPerRound; b++) {
        const metrics = new Array(BATCH);
        for (let i = 0; i < BATCH; i++, step++) metrics[i] = { key: 'loss', value: Math.random(), step, timestamp: 1_700_000_000_000 + step };
        t.logBatch(runId, { metrics });
      }
    });
    bareMs += timeMs(() => {
      for (let b = 0; b < batchesPerRound; b++, bareStep += BATCH) insertBatch(bareStep);
    });
  }
  const points = rounds * batchesPerRound * BATCH;
  const coreRate = points / (coreMs / 1000);
  const bareRate = points / (bareMs / 1000);
  void runRow;
  t.close();
  bare.close();
  results.ingest = { points, coreRate, bareRate, ratio: coreRate / bareRate };
  console.log(`ingest, ${points.toLocaleString()} points in batches of ${BATCH}:`);
  console.log(`  core API logBatch            ${fmt(coreRate, 0)} points/s`);
  console.log(`  bare better-sqlite3 insert   ${fmt(bareRate, 0)} points/s`);
  console.log(`  core / bare                  ${fmt((100 * coreRate) / bareRate)} %   (target ≥ 80 %)`);
}

function search(): void {
  const t = Tracker.open(workspace());
  const RUNS = 10_000;
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const t0 = Date.now();
  t.db.transaction(() => {
    for (let r = 0; r < RUNS; r++) {
      const id = t.createRun({ runName: `run-${r}`, status: 'FINISHED' }).info.runId;
      t.logBatch(id, {
        params: Array.from({ length: 20 }, (_, i) => ({ key: `p${i}`, value: `v${Math.floor(rand() * 10)}` })),
        metrics: Array.from({ length: 20 }, (_, i) => ({ key: `m${i}`, value: rand(), step: 0, timestamp: 1 })),
        tags: Array.from({ length: 5 }, (_, i) => ({ key: `t${i}`, value: rand() < 0.1 ? 'x' : 'y' })),
      });
    }
  });
  const filter = "metrics.m3 > 0.5 and params.p2 = 'v7' and tags.t1 != 'x'";
  const fill = (Date.now() - t0) / 1000;
  const out: Record<string, number> = {};
  for (const maxResults of [100, 1000]) {
    const matched = t.searchRuns({ experimentIds: ['0'], filter, maxResults: 50_000 }).items.length;
    for (let i = 0; i < 5; i++) t.searchRuns({ experimentIds: ['0'], filter, maxResults }); // warm up
    const ms = samples(41, () => t.searchRuns({ experimentIds: ['0'], filter, maxResults }));
    out[`median_ms_page_${maxResults}`] = median(ms);
    out.matched = matched;
  }
  const ordered = median(samples(21, () => t.searchRuns({ experimentIds: ['0'], filter, maxResults: 100, orderBy: ['metrics.m5 DESC'] })));
  out.median_ms_page_100_ordered_by_metric = ordered;
  t.close();
  results.search = out;
  console.log(`\nruns/search over ${RUNS.toLocaleString()} runs × 20 params × 20 metrics × 5 tags (filled in ${fmt(fill)} s), filter: ${filter}`);
  console.log(`  ${out.matched} runs match`);
  console.log(`  median, page of 100 (MLflow UI's page)     ${fmt(out.median_ms_page_100!, 2)} ms   (target < 20 ms)`);
  console.log(`  median, page of 1000 (the API default)     ${fmt(out.median_ms_page_1000!, 2)} ms`);
  console.log(`  median, page of 100 ordered by a metric    ${fmt(ordered, 2)} ms`);
}

function history(): void {
  const t = Tracker.open(workspace());
  const runId = t.createRun().info.runId;
  const STEPS = 1_000_000;
  const t0 = Date.now();
  for (let s = 0; s < STEPS; s += BATCH) {
    t.logBatch(runId, { metrics: Array.from({ length: BATCH }, (_, i) => ({ key: 'loss', value: Math.sin((s + i) / 1000) + Math.random() * 0.1, step: s + i, timestamp: s + i })) });
  }
  const fill = (Date.now() - t0) / 1000;
  for (let i = 0; i < 3; i++) t.getMetricBuckets(runId, 'loss', 1000);
  const ms = median(samples(21, () => t.getMetricBuckets(runId, 'loss', 1000)));
  const n = t.getMetricBuckets(runId, 'loss', 1000).length;
  // The anchor: the same buckets by a GROUP BY over the raw points.
  const raw = median(
    samples(5, () =>
      t.db
        .prepare(
          `SELECT step / 1024 AS b, min(value), max(value), count(*) FROM metrics
            WHERE run_id = (SELECT id FROM runs WHERE run_uuid = ?) AND key_id = (SELECT key_id FROM metric_keys WHERE key = 'loss') GROUP BY b`,
        )
        .all(runId),
    ),
  );
  t.close();
  results.history = { steps: STEPS, buckets: n, median_ms: ms, raw_group_by_ms: raw };
  console.log(`\nhistory of ${STEPS.toLocaleString()} steps (logged in ${fmt(fill)} s) downsampled to ≤ 1000 points:`);
  console.log(`  median ${fmt(ms, 2)} ms for ${n} buckets   (target < 30 ms)`);
  console.log(`  anchor: GROUP BY over the raw points       ${fmt(raw, 1)} ms`);
}

const which = process.argv.slice(2);
if (!which.length || which.includes('ingest')) ingest();
if (!which.length || which.includes('search')) search();
if (!which.length || which.includes('history')) history();
console.log(`\nRESULTS ${JSON.stringify(results)}`);
