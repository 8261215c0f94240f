/**
 * `runwise gc`: blobs no row refers to (left by a crash between storing and recording) and stale
 * temporary files are reported by a dry run and removed with --delete; what rows refer to (deleted
 * runs' included) and what is younger than the grace period (a live upload) is kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { main } from '../../core/cli/main';
import { collectArtifactGarbage, GC_GRACE_MS } from '../../core/tracker/artifactGc';
import { Tracker } from '../../core/tracker/tracker';
import { TrackerOpenError } from '../../core/tracker/trackerOpenError';
import { artifactsDir } from '../../core/workspace/workspacePath';
import { tempWorkspace } from '../support/tempWorkspace';
import { onnxBytes } from '../support/onnxBytes';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

/** Makes `file` look last written two hours ago. */
function age(file: string): void {
  const then = (Date.now() - 2 * GC_GRACE_MS) / 1000;
  utimesSync(file, then, then);
}

interface Seeded {
  ws: string;
  kept: string[];
  orphan: string;
  freshOrphan: string;
  staleTmp: string;
  freshTmp: string;
}

/**
 * A workspace with: a run's artifact, a deleted run's artifact and a logged model's file (all
 * referenced, all old); an old orphaned blob (10 bytes); a fresh one (an upload not yet recorded);
 * an old temporary file (7 bytes) and a fresh one.
 */
async function seeded(): Promise<Seeded> {
  const ws = tempWorkspace('gc');
  const t = Tracker.open(ws);
  try {
    const run = t.createRun().info.runId;
    const deleted = t.createRun().info.runId;
    const a = await t.putArtifact(run, 'model.bin', Buffer.from('model bytes'));
    const b = await t.putArtifact(deleted, 'old.bin', Buffer.from('deleted run bytes'));
    t.deleteRun(deleted);
    const model = t.createLoggedModel();
    const c = await t.putLoggedModelArtifact(model.modelId, 'MLmodel', Buffer.from('flavors: {}'));
    const orphan = await t.artifacts.put(Buffer.from('orphan1234'));
    const freshOrphan = await t.artifacts.put(Buffer.from('uploading now'));
    // A registered model version's file and card: the registry's copies, referred to by its tables.
    const modelFile = path.join(ws, 'model.onnx');
    writeFileSync(modelFile, onnxBytes('registered model bytes'));
    const cardFile = path.join(ws, 'README.md');
    writeFileSync(cardFile, '---\nlicense: mit\n---\n');
    const version = await t.registerModelFiles('churn', modelFile, { cardPath: cardFile });
    const registered = t.registry.getModelVersion('churn', version.version);
    const kept = [a, b, c].map((x) => t.artifacts.blobPath(x.sha256));
    for (const sha of [t.registry.versionFiles('churn', version.version)[0]!.sha256, registered.card!.sha256]) kept.push(t.artifacts.blobPath(sha));
    for (const f of [...kept, t.artifacts.blobPath(orphan.sha256)]) age(f);
    const tmp = t.artifacts.tmpDir();
    const staleTmp = path.join(tmp, 'crashed-upload');
    writeFileSync(staleTmp, 'partial');
    age(staleTmp);
    const freshTmp = path.join(tmp, 'in-progress');
    writeFileSync(freshTmp, 'writing');
    return { ws, kept, orphan: t.artifacts.blobPath(orphan.sha256), freshOrphan: t.artifacts.blobPath(freshOrphan.sha256), staleTmp, freshTmp };
  } finally {
    t.close();
  }
}

test('gc is a dry run by default: it reports old unreferenced blobs and stale temporary files, and removes nothing', async () => {
  const s = await seeded();
  const r = await cli('gc', '--workspace', s.ws, '--json');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(r.out), {
    deleted: false,
    grace_seconds: 3600,
    unreferenced_blobs: { count: 1, bytes: 10 },
    stale_tmp_files: { count: 1, bytes: 7 },
  });
  for (const f of [...s.kept, s.orphan, s.freshOrphan, s.staleTmp, s.freshTmp]) assert.ok(existsSync(f), f);
  const text = await cli('gc', '--workspace', s.ws);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /^found 1 unreferenced blob\(s\) \(10 B\) and 1 stale temporary file\(s\) \(7 B\), older than 1 hour\n/);
  assert.match(text.out, /dry run: run `runwise gc --delete` to remove them/);
});

test("gc --delete removes them, keeps what rows refer to (deleted runs' too) and what a live upload just stored", async () => {
  const s = await seeded();
  const r = await cli('gc', '--delete', '--workspace', s.ws, '--json');
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out) as { deleted: boolean; unreferenced_blobs: { count: number } };
  assert.equal(report.deleted, true);
  assert.equal(report.unreferenced_blobs.count, 1);
  assert.ok(!existsSync(s.orphan), 'the old orphan is gone');
  assert.ok(!existsSync(s.staleTmp), 'the stale temporary file is gone');
  for (const f of [...s.kept, s.freshOrphan, s.freshTmp]) assert.ok(existsSync(f), `kept ${f}`);
  const t = Tracker.open(s.ws);
  try {
    const again = collectArtifactGarbage(t.db, t.artifacts);
    assert.deepEqual([again.blobs.count, again.tmp.count], [0, 0]);
    // A later upload of the same bytes as the removed orphan stores them again.
    const run = t.createRun().info.runId;
    await t.putArtifact(run, 'again.bin', Buffer.from('orphan1234'));
    assert.ok(existsSync(s.orphan));
  } finally {
    t.close();
  }
});

test('gc refuses a linked shard folder instead of walking or deleting through it', async () => {
  const s = await seeded();
  const outside = tempWorkspace('outside');
  const victim = path.join(outside, 'f'.repeat(64));
  writeFileSync(victim, 'not yours');
  age(victim);
  mkdirSync(path.join(artifactsDir(s.ws), 'sha256'), { recursive: true });
  symlinkSync(outside, path.join(artifactsDir(s.ws), 'sha256', 'ff'));
  const t = Tracker.open(s.ws);
  try {
    assert.throws(() => collectArtifactGarbage(t.db, t.artifacts, { delete: true }), TrackerOpenError);
  } finally {
    t.close();
  }
  assert.ok(existsSync(victim));
  const r = await cli('gc', '--workspace', s.ws);
  assert.equal(r.code, 1);
  assert.match(r.err, /^runwise: .*sha256\/ff .* is a symbolic link/);
});
