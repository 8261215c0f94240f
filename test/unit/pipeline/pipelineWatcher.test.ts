/**
 * The pipeline watcher (core/pipeline/pipelineWatcher.ts) on real files: a named dependency's change
 * and a missing output's creation (in a folder that does not exist yet) are seen; a file the
 * pipeline does not name is not; ENOSPC stops watching and is reported once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { PipelineWatcher, watchTargets } from '../../../core/pipeline/pipelineWatcher';
import { tempWorkspace } from '../../support/tempWorkspace';

function write(ws: string, rel: string, text: string): void {
  mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
  writeFileSync(path.join(ws, rel), text);
}

/** Waits until `seen` has a path for which `match` holds; fails after `ms`. */
async function waitFor(seen: string[], match: (p: string) => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!seen.some(match)) {
    if (Date.now() > deadline) throw new Error(`no change event for ${what} within ${ms} ms; saw ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('missing paths are watched through their nearest existing folder; present ones directly', () => {
  const root = '/ws';
  const existing = new Set(['/ws', '/ws/data', '/ws/data/raw.csv']);
  const t = watchTargets(root, ['/ws/data/raw.csv', '/ws/data/clean.csv', '/ws/out/deep/model.bin', '/ws/runwise.lock'], (p) => existing.has(p));
  assert.deepEqual([...t.present], ['/ws/data/raw.csv']);
  assert.deepEqual([...t.parents].sort(), ['/ws', '/ws/data']);
  assert.deepEqual(t.missing, ['/ws/data/clean.csv', '/ws/out/deep/model.bin', '/ws/runwise.lock']);
});

test('a named dependency changing and a missing output appearing are seen; an unnamed file is not', async () => {
  const ws = tempWorkspace('watch');
  write(ws, 'data/raw.csv', 'a\n');
  write(ws, 'runwise.yaml', 'stages: {}\n');
  const seen: string[] = [];
  const watcher = new PipelineWatcher(ws, { onChange: (p) => seen.push(p), onFailure: () => assert.fail('no failure expected') });
  try {
    watcher.update(['data/raw.csv', 'runwise.yaml', 'runwise.lock', 'out/model.bin']);
    await watcher.ready();

    write(ws, 'unrelated.txt', 'x');
    write(ws, 'data/raw.csv', 'a\nb\n');
    await waitFor(seen, (p) => p === path.join(ws, 'data', 'raw.csv'), 'data/raw.csv');
    // The missing output's folder appears: that leads to a named path, so it counts.
    write(ws, 'out/model.bin', 'm');
    await waitFor(seen, (p) => p === path.join(ws, 'out'), 'the new folder out/');
    write(ws, 'runwise.lock', 'schema: "2.0"\n');
    await waitFor(seen, (p) => p === path.join(ws, 'runwise.lock'), 'the new lock file');
    assert.ok(!seen.includes(path.join(ws, 'unrelated.txt')), `an unnamed file was reported: ${JSON.stringify(seen)}`);

    // After the caller re-applies the paths, out/model.bin exists and is watched itself.
    watcher.update(['data/raw.csv', 'runwise.yaml', 'runwise.lock', 'out/model.bin']);
    await new Promise((r) => setTimeout(r, 200));
    seen.length = 0;
    write(ws, 'out/model.bin', 'changed');
    await waitFor(seen, (p) => p === path.join(ws, 'out', 'model.bin'), 'out/model.bin');
  } finally {
    await watcher.close();
  }
});

test('ENOSPC from the watcher stops watching and is reported once, with what to do', async () => {
  const made: EventEmitter[] = [];
  const closed: EventEmitter[] = [];
  const fake = (() => {
    const w = Object.assign(new EventEmitter(), {
      add: () => w,
      unwatch: () => w,
      close: async () => void closed.push(w),
    });
    made.push(w);
    return w;
  }) as unknown as NonNullable<ConstructorParameters<typeof PipelineWatcher>[1]['createWatcher']>;
  const failures: [string, string][] = [];
  const errors: string[] = [];
  const ws = tempWorkspace('watch-enospc');
  write(ws, 'a.txt', 'a');
  const watcher = new PipelineWatcher(ws, { onChange: () => undefined, onFailure: (m, c) => failures.push([m, c]), onError: (m) => errors.push(m), createWatcher: fake });
  watcher.update(['a.txt', 'missing.txt']);
  assert.equal(made.length, 2, 'one watcher for present paths, one for the folders of missing ones');
  made[0]!.emit('error', Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }));
  assert.deepEqual(failures, []);
  assert.deepEqual(errors, ['EACCES: permission denied']);
  const enospc = Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' });
  made[0]!.emit('error', enospc);
  made[1]!.emit('error', enospc);
  assert.equal(failures.length, 1);
  assert.equal(failures[0]![1], 'ENOSPC');
  assert.match(failures[0]![0], /system limit on file watches.*stage states are unknown.*max_user_watches/);
  assert.equal(watcher.failure, failures[0]![0]);
  await new Promise((r) => setImmediate(r));
  assert.equal(closed.length, 2, 'both watchers were closed');
  // Nothing is watched again after the failure.
  watcher.update(['a.txt']);
  assert.equal(made.length, 2);
});
