/**
 * The drift engine's two worker threads (one per side, `DriftOptions.threads`) give the same report
 * as reading both sides in this thread, pass a reader's DatasetError through as a DatasetError, and
 * run from the built bundles (dist/driftSideWorker.js beside dist/cli-drift.js).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DatasetError } from '../../../core/dataset/dataset';
import { computeDrift } from '../../../core/drift/driftEngine';
import { tempWorkspace } from '../../support/tempWorkspace';

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 4294967296;
  };
}

/** Numeric columns with missing cells and ties, an integer column, a text column, a column numeric on one side and text on the other. */
function writeSide(file: string, rows: number, seed: number, shift: number, mixed: 'number' | 'text'): void {
  const r = random(seed);
  const lines = ['x,y,k,c,m'];
  for (let i = 0; i < rows; i++) {
    const x = i % 97 === 0 ? '' : (shift + Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())).toFixed(4);
    const y = (Math.floor(r() * 50) / 4 + shift).toString();
    const k = String(Math.floor(r() * 4));
    const c = ['red', 'green', '"blue, dark"', 'ünïcode'][Math.floor(r() * (shift ? 4 : 3))]!;
    const m = mixed === 'number' ? String(i % 7) : ['p', 'q', 'NA'][i % 3]!;
    lines.push([x, y, k, c, m].join(','));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

test('two worker threads give the same report as one thread, sampled or not', async () => {
  const dir = tempWorkspace('drift-threads');
  const ref = path.join(dir, 'ref.csv');
  const cur = path.join(dir, 'cur.csv');
  writeSide(ref, 6000, 1, 0, 'number');
  writeSide(cur, 5000, 2, 0.3, 'text');
  for (const options of [{}, { sample: 700, seed: 3 }, { columnTests: { x: 'ks', y: 'mannwhitney' } as const }]) {
    const inline = await computeDrift(ref, cur, { ...options, threads: false });
    const threaded = await computeDrift(ref, cur, { ...options, threads: true });
    assert.deepEqual(threaded, inline);
    assert.ok(threaded.n_drifted > 0, 'the shifted columns drift');
  }
});

test("a reader's error in a worker thread is a DatasetError naming the file and line", async () => {
  const dir = tempWorkspace('drift-threads-error');
  const ref = path.join(dir, 'ref.csv');
  const cur = path.join(dir, 'cur.csv');
  writeFileSync(ref, 'a,b\n1,2\n3,4\n');
  writeFileSync(cur, 'a,b\n1,2\n3,4,5\n');
  await assert.rejects(computeDrift(ref, cur, { threads: true }), (e: unknown) => {
    assert.ok(e instanceof DatasetError, String(e));
    assert.match(e.message, /cur\.csv:3: expected 2 fields as in the header, found 3/);
    return true;
  });
});

test('the built CLI reads large files in its worker threads (dist/driftSideWorker.js) with the same report', async (t) => {
  const root = path.join(__dirname, '../../..');
  const worker = path.join(root, 'dist/driftSideWorker.js');
  if (!existsSync(path.join(root, 'dist/cli-drift.js')) || !existsSync(worker)) {
    assert.fail('dist/cli-drift.js or dist/driftSideWorker.js is missing: run `npm run build` first');
  }
  t.diagnostic(`worker bundle ${worker}`);
  const dir = tempWorkspace('drift-threads-dist');
  const ref = path.join(dir, 'ref.csv');
  const cur = path.join(dir, 'cur.csv');
  // Together above the engine's 16 MiB threshold, so the CLI takes the threaded path by itself.
  writeSide(ref, 330_000, 4, 0, 'number');
  writeSide(cur, 330_000, 5, 0.1, 'number');
  const run = spawnSync(process.execPath, [path.join(root, 'bin/runwise.js'), 'drift', ref, cur, '--json'], { cwd: dir, maxBuffer: 16 << 20 });
  assert.equal(run.status, 0, run.stderr.toString());
  const fromCli = JSON.parse(run.stdout.toString());
  const inline = JSON.parse(JSON.stringify(await computeDrift(ref, cur, { threads: false })));
  assert.deepEqual({ ...fromCli, reference_file: undefined, current_file: undefined }, { ...inline, reference_file: undefined, current_file: undefined });
});
