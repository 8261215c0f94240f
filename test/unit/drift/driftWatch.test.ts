/**
 * Drift monitoring (core/drift/driftWatch.ts) with a scripted event source and real files: a batch
 * is compared only once its size stops changing, files already there are checked once (or skipped
 * with newOnly), one run per batch carrying the watch and batch tags, unreadable batches reported
 * and watching going on, and abort (Ctrl-C) ending the watch; then `runwise drift watch` end to end
 * with a temp folder, a file dropped in and SIGINT (exit 130).
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { main } from '../../../core/cli/main';
import { batchPattern, DRIFT_BATCH_TAG, DRIFT_WATCH_TAG, driftWatchHistory, driftWatchTag, watchDrift, type BatchFileEvents, type DriftBatchResult } from '../../../core/drift/driftWatch';
import { Tracker } from '../../../core/tracker/tracker';
import { tempWorkspace } from '../../support/tempWorkspace';

const rows = (values: readonly number[]) => `x,c\n${values.map((v, i) => `${v},${i % 2 ? 'a' : 'b'}`).join('\n')}\n`;
const SAME = rows([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
const SHIFTED = rows([101, 102, 103, 104, 105, 106, 107, 108, 109, 110]);

/** An event source the test drives: `emit(file)` is what chokidar would report. */
function scriptedEvents(): BatchFileEvents & { emit(file: string): void; closed: boolean } {
  let onFile: ((file: string) => void) | undefined;
  const source = {
    closed: false,
    start(f: (file: string) => void) {
      onFile = f;
      return Promise.resolve();
    },
    close() {
      source.closed = true;
      return Promise.resolve();
    },
    emit(file: string) {
      onFile?.(file);
    },
  };
  return source;
}

/** Resolves when `results` holds `n` entries (or fails after `ms`). */
async function until(results: readonly unknown[], n: number, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (results.length < n) {
    if (Date.now() > end) throw new Error(`waited ${ms} ms for ${n} batches, got ${results.length}`);
    await sleep(10);
  }
}

function setup(): { ws: string; ref: string; dir: string } {
  const ws = tempWorkspace('drift-watch');
  const ref = path.join(ws, 'ref.csv');
  writeFileSync(ref, SAME);
  const dir = path.join(ws, 'batches');
  mkdirSync(dir);
  return { ws, ref, dir };
}

test('existing files are checked once, new ones when their size is stable, one run per batch with the watch tags', async () => {
  const { ws, ref, dir } = setup();
  writeFileSync(path.join(dir, 'b0.csv'), SAME);
  writeFileSync(path.join(dir, 'notes.txt'), 'not a batch');
  const tracker = Tracker.open(ws);
  const events = scriptedEvents();
  const controller = new AbortController();
  const results: DriftBatchResult[] = [];
  const display = (f: string) => path.relative(ws, f);
  const watching = watchDrift({ reference: ref, folder: dir, events, display, tracker: () => tracker, signal: controller.signal, stableMs: 150, onBatch: (r) => void results.push(r) });
  await until(results, 1);
  assert.equal(results[0]!.shown, path.join('batches', 'b0.csv'));
  assert.equal(results[0]!.report?.dataset_drift, false);

  // A batch written in two parts: not compared while it grows, then once, complete.
  const b1 = path.join(dir, 'b1.csv');
  const [head, tail] = [SHIFTED.slice(0, 30), SHIFTED.slice(30)];
  writeFileSync(b1, head);
  events.emit(b1);
  await sleep(80);
  appendFileSync(b1, tail);
  events.emit(b1);
  events.emit(b1);
  await until(results, 2);
  assert.equal(results[1]!.report?.dataset_drift, true, 'the complete shifted batch drifts');
  assert.equal(results[1]!.report?.columns.find((c) => c.name === 'x')?.current.count, 10, 'every row of the finished file was read');

  // Events for files already compared, unchanged, or not matching the pattern start nothing.
  events.emit(b1);
  events.emit(path.join(dir, 'notes.txt'));
  events.emit(ref);
  await sleep(400);
  assert.equal(results.length, 2);

  controller.abort();
  await watching;
  assert.ok(events.closed, 'the event source is closed when watching ends');

  const tag = driftWatchTag('ref.csv', 'batches');
  const runs = tracker.searchRuns({}).items;
  assert.equal(runs.length, 2);
  for (const run of runs) assert.equal(run.tags.find((t) => t.key === DRIFT_WATCH_TAG)?.value, tag);
  assert.deepEqual(runs.map((r) => r.tags.find((t) => t.key === DRIFT_BATCH_TAG)?.value).sort(), [path.join('batches', 'b0.csv'), path.join('batches', 'b1.csv')]);
  const history = driftWatchHistory(tracker, tag);
  assert.deepEqual(
    history.map((p) => [p.batch, p.driftShare, p.datasetDrift]),
    [
      [path.join('batches', 'b0.csv'), 0, false],
      [path.join('batches', 'b1.csv'), 0.5, true],
    ],
  );
  assert.deepEqual(driftWatchHistory(tracker, driftWatchTag('ref.csv', 'elsewhere')), []);
  tracker.close();
});

test('newOnly skips the files already there; a bad batch is reported and watching goes on; abort ends it', async () => {
  const { ref, dir } = setup();
  writeFileSync(path.join(dir, 'old.csv'), SHIFTED);
  const events = scriptedEvents();
  const controller = new AbortController();
  const results: DriftBatchResult[] = [];
  const watching = watchDrift({ reference: ref, folder: dir, events, newOnly: true, pattern: '*.csv', signal: controller.signal, stableMs: 50, onBatch: (r) => void results.push(r) });
  await sleep(200);
  assert.equal(results.length, 0, 'old.csv was there before watching: skipped');
  const ragged = path.join(dir, 'ragged.csv');
  writeFileSync(ragged, 'x,c\n1,a\n2,b,extra\n');
  events.emit(ragged);
  await until(results, 1);
  assert.equal(results[0]!.report, undefined);
  assert.match(results[0]!.error ?? '', /ragged\.csv/);
  const good = path.join(dir, 'good.csv');
  writeFileSync(good, SAME);
  events.emit(good);
  await until(results, 2);
  assert.equal(results[1]!.report?.dataset_drift, false);
  assert.equal(results[1]!.runId, undefined, 'no tracker: nothing logged');
  controller.abort();
  await watching;
  assert.equal(results.length, 2);
});

test('a failing onBatch stops the watch with its error', async () => {
  const { ref, dir } = setup();
  writeFileSync(path.join(dir, 'b.csv'), SAME);
  const events = scriptedEvents();
  await assert.rejects(
    watchDrift({
      reference: ref,
      folder: dir,
      events,
      stableMs: 20,
      onBatch: () => {
        throw new Error('stop here');
      },
    }),
    /stop here/,
  );
  assert.ok(events.closed);
});

test('batch patterns: *, ?, classes and braces over the whole name', () => {
  const re = batchPattern('batch-??.{csv,parquet}');
  assert.ok(re.test('batch-01.csv'));
  assert.ok(re.test('batch-02.parquet'));
  assert.ok(!re.test('batch-1.csv'));
  assert.ok(!re.test('batch-01.csv.tmp'));
  assert.ok(batchPattern('[!x]*.csv').test('a.csv'));
  assert.ok(!batchPattern('[!x]*.csv').test('x.csv'));
  assert.throws(() => batchPattern('*.{csv'), /not closed/);
});

test('runwise drift watch: a file dropped in gets a line and a run; Ctrl-C ends it with 130', async () => {
  const { ws, ref, dir } = setup();
  writeFileSync(path.join(dir, 'first.csv'), SAME);
  let out = '';
  let err = '';
  const running = main(['drift', 'watch', ref, dir, '--log', '--workspace', ws], { out: (t) => (out += t), err: (t) => (err += t) });
  const lines = () => out.split('\n').filter(Boolean);
  const wait = async (n: number) => {
    const end = Date.now() + 15_000;
    while (lines().length < n && Date.now() < end) await sleep(20);
    assert.equal(lines().length, n, `stdout: ${out}\nstderr: ${err}`);
  };
  await wait(1);
  assert.match(lines()[0]!, /first\.csv: ok 0 of 2 columns drifted \(share 0, threshold 0\.5\) run [0-9a-f]{8}$/);
  // chokidar has started (the existing file was listed after it): a dropped file is seen.
  await sleep(300);
  writeFileSync(path.join(dir, 'second.csv'), SHIFTED);
  await wait(2);
  assert.match(lines()[1]!, /second\.csv: DRIFT 1 of 2 columns drifted \(share 0\.5, threshold 0\.5\) run [0-9a-f]{8}$/);
  process.emit('SIGINT');
  assert.equal(await running, 130);
  assert.match(err, /interrupted: stopped watching/);
  const tracker = Tracker.open(ws);
  assert.equal(tracker.searchRuns({}).items.length, 2);
  tracker.close();
});

test('runwise drift watch --fail-on-drift ends with 1 at the first drifting batch; bad usage is 2', async () => {
  const { ws, ref, dir } = setup();
  writeFileSync(path.join(dir, 'a.csv'), SHIFTED);
  let out = '';
  let err = '';
  const code = await main(['drift', 'watch', ref, dir, '--fail-on-drift', '--json', '--workspace', ws], { out: (t) => (out += t), err: (t) => (err += t) });
  assert.equal(code, 1, err);
  const record = JSON.parse(out.trim()) as { file: string; dataset_drift: boolean; run_id: null };
  assert.equal(record.dataset_drift, true);
  assert.equal(record.run_id, null);
  assert.match(err, /dataset drift in .*a\.csv/);
  // A batch with nothing to compare (its only columns are dates) stops it too, and its line says so.
  const dates = path.join(ws, 'dates');
  mkdirSync(dates);
  const days = (year: number) => `day\n${Array.from({ length: 20 }, (_, i) => `${year}-01-${String(i + 1).padStart(2, '0')}`).join('\n')}\n`;
  writeFileSync(path.join(ws, 'days.csv'), days(2020));
  writeFileSync(path.join(dates, 'b.csv'), days(2021));
  let text = '';
  const nothing = await main(['drift', 'watch', path.join(ws, 'days.csv'), dates, '--fail-on-drift', '--workspace', ws], { out: (t) => (text += t), err: (t) => (err = t) });
  assert.equal(nothing, 1);
  assert.match(text, /b\.csv: nothing compared: none of the 1 columns could be checked/);
  assert.match(err, /no column could be compared in .*b\.csv \(--fail-on-drift\)/);
  const bad = await main(['drift', 'watch', ref, dir, '--pattern', '*.{csv'], { out: () => {}, err: (t) => (err = t) });
  assert.equal(bad, 2);
  assert.match(err, /not closed/);
  const missing = await main(['drift', 'watch', ref, path.join(ws, 'nope')], { out: () => {}, err: (t) => (err = t) });
  assert.equal(missing, 1);
  assert.match(err, /nope: no such folder/);
});
