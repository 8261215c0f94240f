/**
 * The model registry: version numbering, immutability of a version's files, alias moves and their
 * history, tamper detection wherever a version's file is read, lineage, and `runwise models`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { main } from '../../core/cli/main';
import { ModelTamperedError, contentHash, modelSha256 } from '../../core/tracker/modelRegistry';
import { MODEL_SHA256_TAG, OUTPUTS_ARTIFACT, PARENT_RUN_TAG, STAGE_TAG } from '../../core/tracker/model';
import { Tracker } from '../../core/tracker/tracker';
import { TrackerError } from '../../core/tracker/trackerError';
import { onnxBytes } from '../support/onnxBytes';
import { withExternalData } from './evaluation/onnxTestModels';
import { tempWorkspace } from '../support/tempWorkspace';

function workspaceWithModel(bytes = 'onnx-bytes-1'): { ws: string; model: string; tracker: Tracker } {
  const ws = tempWorkspace('registry');
  const model = path.join(ws, 'model.onnx');
  writeFileSync(model, onnxBytes(bytes));
  return { ws, model, tracker: Tracker.open(ws) };
}

async function cli(ws: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main([...argv, '--workspace', ws], { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

/** Corrupts the stored copy of a blob in place (what a stray write into .runwise/ would do). */
function tamper(tracker: Tracker, sha256: string): void {
  const file = tracker.artifacts.blobPath(sha256);
  chmodSync(file, 0o644);
  appendFileSync(file, 'tampered');
}

test('versions are numbered 1, 2, … per name; a second name starts at 1; the sha256 is the file\'s', async () => {
  const { model, tracker } = workspaceWithModel();
  try {
    const v1 = await tracker.registerModelFiles('churn', model);
    writeFileSync(model, onnxBytes('onnx-bytes-2'));
    const v2 = await tracker.registerModelFiles('churn', model);
    const other = await tracker.registerModelFiles('fraud', model);
    assert.deepEqual([v1.version, v2.version, other.version], ['1', '2', '1']);
    assert.equal(v1.sha256, createHash('sha256').update(onnxBytes('onnx-bytes-1')).digest('hex'));
    assert.notEqual(v1.sha256, v2.sha256);
    assert.equal(v2.sha256, other.sha256);
    assert.equal(v1.size, onnxBytes('onnx-bytes-1').length);
    assert.equal(tracker.registry.getRegisteredModel('churn').latestVersions.at(-1)?.version, '2');
  } finally {
    tracker.close();
  }
});

test('a version keeps its bytes: the source file changing afterwards does not change it', async () => {
  const { model, tracker } = workspaceWithModel('original');
  try {
    const v1 = await tracker.registerModelFiles('churn', model);
    writeFileSync(model, onnxBytes('overwritten later'));
    const opened = tracker.openModelVersionFile('churn', '1', 'model.onnx');
    assert.deepEqual(readFileSync(opened.filePath), onnxBytes('original'));
    assert.equal(tracker.registry.getModelVersion('churn', 1).sha256, v1.sha256);
  } finally {
    tracker.close();
  }
});

test('a folder model: every file copied, its hash the manifest hash, a link out of the workspace refused', async () => {
  const { ws, tracker } = workspaceWithModel();
  try {
    const dir = path.join(ws, 'model');
    mkdirSync(path.join(dir, 'sub'), { recursive: true });
    writeFileSync(path.join(dir, 'MLmodel'), 'flavors: {}');
    writeFileSync(path.join(dir, 'sub', 'weights.bin'), 'w');
    const v = await tracker.registerModelFiles('folder', dir);
    const files = tracker.registry.versionFiles('folder', v.version);
    assert.deepEqual(files.map((f) => f.path), ['MLmodel', 'sub/weights.bin']);
    assert.equal(v.sha256, contentHash(files).sha256);
    assert.notEqual(v.sha256, files[0]!.sha256);
    const { symlinkSync } = await import('node:fs');
    symlinkSync('/etc/passwd', path.join(dir, 'secret'));
    await assert.rejects(tracker.registerModelFiles('folder', dir), /symbolic link/);
  } finally {
    tracker.close();
  }
});

test('aliases move; each move records the previous holder, the user and the time; deleting the version removes its aliases', async () => {
  const { model, tracker } = workspaceWithModel();
  try {
    await tracker.registerModelFiles('churn', model, { alias: 'champion', userId: 'ana' });
    await tracker.registerModelFiles('churn', model);
    assert.equal(tracker.registry.getVersionByAlias('churn', 'champion').version, '1');
    tracker.registry.setAlias('churn', 'champion', '2', 'bo');
    assert.equal(tracker.registry.getVersionByAlias('churn', 'champion').version, '2');
    assert.deepEqual(tracker.registry.getModelVersion('churn', 2).aliases, ['champion']);
    assert.deepEqual(tracker.registry.getModelVersion('churn', 1).aliases, []);
    const history = tracker.registry.aliasHistory('churn', 'champion');
    assert.deepEqual(
      history.map((m) => [m.version, m.previousVersion, m.userId]),
      [
        ['1', undefined, 'ana'],
        ['2', '1', 'bo'],
      ],
    );
    assert.ok(history.every((m) => Number.isInteger(m.changedAt) && m.changedAt > 0));
    tracker.registry.deleteModelVersion('churn', 2, 'cy');
    assert.throws(() => tracker.registry.getVersionByAlias('churn', 'champion'), /alias champion not found/);
    assert.deepEqual(tracker.registry.aliasHistory('churn', 'champion').at(-1), { ...tracker.registry.aliasHistory('churn', 'champion').at(-1), alias: 'champion', previousVersion: '2', userId: 'cy' });
    assert.equal(tracker.registry.aliasHistory('churn', 'champion').at(-1)!.version, undefined);
    // A deleted version's number is not given again, not even the highest's (MLflow's numbering).
    assert.equal((await tracker.registerModelFiles('churn', model)).version, '3');
    assert.throws(() => tracker.registry.setAlias('churn', 'latest', '1'), /reserved/);
    assert.throws(() => tracker.registry.setAlias('churn', 'v3', '1'), /reserved/);
    assert.throws(() => tracker.registry.setAlias('churn', 'bad alias', '1'), /alphanumerics/);
    assert.throws(() => tracker.registry.setAlias('churn', 'x', '99'), (e: unknown) => e instanceof TrackerError && e.code === 'RESOURCE_DOES_NOT_EXIST');
  } finally {
    tracker.close();
  }
});

test('tamper detection: a changed stored copy is refused by verify, file reads, the download URI and the CLI', async () => {
  const { ws, model, tracker } = workspaceWithModel();
  try {
    const v = await tracker.registerModelFiles('churn', model);
    assert.deepEqual(tracker.registry.verifyVersion('churn', 1).map((f) => f.sha256), [v.sha256]);
    assert.match(await tracker.modelVersionDownloadUri('churn', 1), /^mlflow-artifacts:\/model-versions\/\d+-[0-9a-f]{16}$/);
    tamper(tracker, v.sha256);
    const refused = (e: unknown) => {
      assert.ok(e instanceof ModelTamperedError, String(e));
      assert.equal(e.expected, v.sha256);
      assert.match(e.actual, /^[0-9a-f]{64}$/);
      assert.notEqual(e.actual, v.sha256);
      assert.match(e.message, new RegExp(`churn/1 .*model\\.onnx.*${v.sha256}.*${e.actual}`));
      return true;
    };
    assert.throws(() => tracker.registry.verifyVersion('churn', 1), refused);
    assert.throws(() => tracker.openModelVersionFile('churn', 1, 'model.onnx'), refused);
    await assert.rejects(tracker.modelVersionDownloadUri('churn', 1), refused);
    await assert.rejects(tracker.registry.verifyVersionAsync('churn', 1), refused);
    await assert.rejects(tracker.openModelVersionFileAsync('churn', 1, 'model.onnx'), refused);
  } finally {
    tracker.close();
  }
  const shown = await cli(ws, 'models', 'show', 'churn/1');
  assert.equal(shown.code, 1);
  assert.match(shown.err, /Model version churn\/1 is refused: its file 'model\.onnx' was registered with sha256 [0-9a-f]{64} but the stored copy now has sha256 [0-9a-f]{64}/);
  const exported = await cli(ws, 'models', 'export', 'churn/1', '--output', path.join(ws, 'out'));
  assert.equal(exported.code, 1);
  assert.match(exported.err, /is refused/);
});

test('stages: transition with archive_existing_versions archives the others; get_latest_versions per stage', async () => {
  const { model, tracker } = workspaceWithModel();
  try {
    for (let i = 0; i < 3; i++) await tracker.registerModelFiles('churn', model);
    tracker.registry.transitionModelVersionStage('churn', 1, 'production');
    tracker.registry.transitionModelVersionStage('churn', 2, 'Production', true);
    assert.equal(tracker.registry.getModelVersion('churn', 1).currentStage, 'Archived');
    assert.deepEqual(tracker.registry.getLatestVersions('churn', ['Production']).map((v) => v.version), ['2']);
    assert.deepEqual(tracker.registry.getLatestVersions('churn').map((v) => [v.version, v.currentStage]), [['1', 'Archived'], ['2', 'Production'], ['3', 'None']]);
    // MLflow's order: each stage where its walk over the versions first meets it (the stage's lowest
    // version), not by version: v1 and v3 in Production, v2 in None give [3, 2], and `stages` filters only.
    await tracker.registerModelFiles('other', model);
    for (let i = 0; i < 2; i++) await tracker.registerModelFiles('other', model);
    tracker.registry.transitionModelVersionStage('other', 1, 'Production');
    tracker.registry.transitionModelVersionStage('other', 3, 'Production');
    assert.deepEqual(tracker.registry.getLatestVersions('other').map((v) => v.version), ['3', '2']);
    assert.deepEqual(tracker.registry.getLatestVersions('other', ['None', 'Production']).map((v) => v.version), ['3', '2']);
    assert.deepEqual(tracker.registry.getRegisteredModel('other').latestVersions.map((v) => v.version), ['3', '2']);
    assert.throws(() => tracker.registry.transitionModelVersionStage('churn', 3, 'Archived', true), /not an Active stage/);
    assert.throws(() => tracker.registry.transitionModelVersionStage('churn', 3, 'Live'), /Invalid Model Version stage: Live/);
  } finally {
    tracker.close();
  }
});

test('search: name LIKE, name =, run_id =, tags, and pagination with tokens', async () => {
  const { model, tracker } = workspaceWithModel();
  try {
    const run = tracker.createRun({ runName: 'train' });
    for (const name of ['churn-a', 'churn-b', 'fraud']) await tracker.registerModelFiles(name, model);
    await tracker.registerModelFiles('churn-a', model, { runId: run.info.runId });
    tracker.registry.setRegisteredModelTag('fraud', { key: 'team', value: 'risk' });
    const names = (filter: string) => tracker.registry.searchRegisteredModels({ filter }).items.map((m) => m.name);
    assert.deepEqual(names("name LIKE '%churn%'"), ['churn-a', 'churn-b']);
    assert.deepEqual(names("name = 'fraud'"), ['fraud']);
    assert.deepEqual(names("tags.team = 'risk'"), ['fraud']);
    const page1 = tracker.registry.searchRegisteredModels({ maxResults: 2 });
    assert.deepEqual(page1.items.map((m) => m.name), ['churn-a', 'churn-b']);
    const page2 = tracker.registry.searchRegisteredModels({ maxResults: 2, pageToken: page1.nextPageToken! });
    assert.deepEqual(page2.items.map((m) => m.name), ['fraud']);
    assert.equal(page2.nextPageToken, undefined);
    const byRun = tracker.registry.searchModelVersions({ filter: `run_id = '${run.info.runId}'` }).items;
    assert.deepEqual(byRun.map((v) => `${v.name}/${v.version}`), ['churn-a/2']);
    assert.equal(tracker.registry.searchModelVersions({ filter: "name = 'churn-a'" }).items.length, 2);
    assert.throws(() => tracker.registry.searchRegisteredModels({ maxResults: 1001 }), /at most 1000/);
    assert.throws(() => tracker.registry.searchRegisteredModels({ filter: 'name ~ 1' }), /Invalid filter/);
  } finally {
    tracker.close();
  }
});

test("version search ordered by a key: ties broken by name ascending, then version descending, as MLflow's store breaks them", async () => {
  const { ws, model, tracker: first } = workspaceWithModel();
  first.close();
  let clock = 1_700_000_000_000;
  const tracker = Tracker.open(ws, { now: () => (clock += 1000) });
  try {
    for (const name of ['m1', 'beta', 'alpha']) await tracker.registerModelFiles(name, model);
    await tracker.registerModelFiles('alpha', model);
    // Touching m1/1 last would put it first if the last update broke ties.
    tracker.registry.updateModelVersion('m1', 1, 'touched');
    const order = (...orderBy: string[]) => tracker.registry.searchModelVersions({ orderBy }).items.map((v) => `${v.name}/${v.version}`);
    assert.deepEqual(order('version_number ASC'), ['alpha/1', 'beta/1', 'm1/1', 'alpha/2']);
    assert.deepEqual(order('name DESC'), ['m1/1', 'beta/1', 'alpha/2', 'alpha/1']);
    assert.deepEqual(order('name ASC', 'version_number ASC'), ['alpha/1', 'alpha/2', 'beta/1', 'm1/1']);
    // No order asked: the last updated first.
    assert.equal(order()[0], 'm1/1');
  } finally {
    tracker.close();
  }
});

test("Runwise's own folder is no model: the workspace, .runwise or a file in it refused; an empty --path is a usage error", async () => {
  const { ws, tracker } = workspaceWithModel();
  try {
    for (const p of [ws, path.join(ws, '.runwise'), path.join(ws, '.runwise', 'tracker.db')]) {
      await assert.rejects(tracker.registerModelFiles('self', p), /is or holds Runwise's own folder \(\.runwise\)/);
    }
    assert.equal(tracker.registry.searchRegisteredModels({}).items.length, 0);
  } finally {
    tracker.close();
  }
  const empty = await cli(ws, 'models', 'register', 'self', '--path', '');
  assert.equal(empty.code, 2);
  assert.match(empty.err, /--path MODEL is needed/);
});

test('an .onnx file that is no ONNX model (empty, a Git LFS pointer, text, truncated) is refused, naming what it is; nothing registered', async () => {
  const { ws, model, tracker } = workspaceWithModel();
  const good = onnxBytes('good');
  const cases: [Buffer | string, RegExp][] = [
    ['', /is an empty file, not an ONNX model; nothing was registered/],
    ['version https://git-lfs.github.com/spec/v1\noid sha256:4d7a2146\nsize 1234\n', /is a Git LFS pointer, not the model itself: fetch it \(git lfs pull\)/],
    ['not a model at all', /is not an ONNX model \(/],
    [good.subarray(0, good.length - 3), /is not an ONNX model \(truncated field\)/],
    // Zero bytes (field number 0) are refused at the first field, not walked.
    [Buffer.alloc(4096), /is not an ONNX model \(field number 0: not a protobuf message\)/],
    // A graph with an output whose node does not read as protobuf (a flipped byte inside it).
    [Buffer.from([0x08, 0x08, 0x3a, 0x08, 0x0a, 0x01, 0x0f, 0x62, 0x03, 0x0a, 0x01, 0x79]), /is not an ONNX model \(unsupported protobuf wire type 7\); nothing was registered/],
  ];
  try {
    for (const [bytes, message] of cases) {
      writeFileSync(model, bytes);
      await assert.rejects(tracker.registerModelFiles('churn', model), message);
    }
    assert.equal(tracker.registry.searchRegisteredModels({}).items.length, 0);
  } finally {
    tracker.close();
  }
  // In a folder too: a Git LFS pointer beside an MLmodel.
  const folder = path.join(ws, 'mlflow-model');
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'MLmodel'), 'flavors: {}\n');
  writeFileSync(path.join(folder, 'model.onnx'), 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a2146\nsize 1234\n');
  const inFolder = await cli(ws, 'models', 'register', 'churn', '--path', folder);
  assert.equal(inFolder.err, "runwise: Model folder 'mlflow-model': its 'model.onnx' is a Git LFS pointer, not the model itself: fetch it (git lfs pull); nothing was registered.\n");
  // A truncated model in a folder, judged whole when it is short.
  writeFileSync(path.join(folder, 'model.onnx'), good.subarray(0, 40));
  const truncated = await cli(ws, 'models', 'register', 'churn', '--path', folder);
  assert.equal(truncated.err, "runwise: Model folder 'mlflow-model': its 'model.onnx' is not an ONNX model (truncated field); nothing was registered.\n");
  const r = await cli(ws, 'models', 'register', 'churn', '--path', model);
  assert.equal(r.code, 1);
  assert.equal(r.err, "runwise: Model 'model.onnx' is not an ONNX model (unsupported protobuf wire type 7); nothing was registered.\n", 'named as given, relative to the workspace (no stack trace)');
  // Too large to read whole (over 512 MiB, here a sparse file of zeros): judged by its first bytes.
  const large = path.join(ws, 'large.onnx');
  writeFileSync(large, '');
  truncateSync(large, 512 * 1024 * 1024 + 1);
  const big = await cli(ws, 'models', 'register', 'big', '--path', large);
  assert.equal(big.err, "runwise: Model 'large.onnx' is not an ONNX model (field number 0: not a protobuf message); nothing was registered.\n");
  rmSync(large);
});

test("a name holding '@' is found by its whole name before NAME@ALIAS is tried", async () => {
  const { ws, model, tracker } = workspaceWithModel();
  try {
    await tracker.registerModelFiles('team@corp', model, { alias: 'champion' });
  } finally {
    tracker.close();
  }
  const whole = await cli(ws, 'models', 'show', 'team@corp', '--json');
  assert.equal(whole.code, 0, whole.err);
  assert.equal(JSON.parse(whole.out).name, 'team@corp');
  const aliased = await cli(ws, 'models', 'show', 'team@corp@champion', '--json');
  assert.equal(aliased.code, 0, aliased.err);
  assert.equal(JSON.parse(aliased.out).version, 1);
  const lineage = await cli(ws, 'models', 'lineage', 'team@corp');
  assert.equal(lineage.code, 0, lineage.err);
  // 'team' with an alias 'corp' too: 'team@corp' reads both ways, and is refused as ambiguous.
  const t = Tracker.open(ws);
  try {
    await t.registerModelFiles('team', model, { alias: 'corp' });
  } finally {
    t.close();
  }
  const both = await cli(ws, 'models', 'show', 'team@corp');
  assert.equal(both.code, 1);
  assert.equal(both.err, "runwise: 'team@corp' is both a registered model and the alias @corp of 'team': name a version (team@corp/N) or team/N.\n");
  assert.equal((await cli(ws, 'models', 'show', 'team@corp/1')).code, 0);
});

test('a stored copy gone from .runwise: export and file reads say which version and file, not a bare ENOENT', async () => {
  const { ws, model, tracker } = workspaceWithModel();
  let blob: string;
  try {
    const v = await tracker.registerModelFiles('churn', model);
    blob = tracker.artifacts.blobPath(v.sha256);
  } finally {
    tracker.close();
  }
  chmodSync(blob, 0o644);
  rmSync(blob);
  const r = await cli(ws, 'models', 'export', 'churn/1', '--output', path.join(ws, 'out'));
  assert.equal(r.code, 1);
  assert.match(r.err, /^runwise: Model version churn\/1 is refused: the stored copy of its file 'model\.onnx' \(sha256 [0-9a-f]{64}\) cannot be read: ENOENT, it is gone from \.runwise\/\n$/);
  assert.ok(!r.err.includes(ws), 'no absolute path of the store in the message (the endpoint answers with it)');
  assert.equal(existsSync(path.join(ws, 'out')), false);
  const t = Tracker.open(ws);
  try {
    await assert.rejects(t.openModelVersionFileAsync('churn', 1, 'model.onnx'), /churn\/1 is refused: the stored copy/);
  } finally {
    t.close();
  }
});

test('a folder on the way that links outside the workspace: its files are not registered (model, card, external data)', async () => {
  const { ws, tracker } = workspaceWithModel();
  const outside = tempWorkspace('registry-outside');
  writeFileSync(path.join(outside, 'secret.onnx'), onnxBytes('secret'));
  writeFileSync(path.join(outside, 'README.md'), '---\nlicense: mit\n---\n');
  writeFileSync(path.join(outside, 'id_rsa'), 'PRIVATE KEY');
  symlinkSync(outside, path.join(ws, 'outdir'));
  try {
    await assert.rejects(tracker.registerModelFiles('a', path.join(ws, 'outdir', 'secret.onnx')), /Model file 'secret\.onnx' is reached through a symbolic link to a place outside the workspace/);
    // An outside file that is no model is refused the same way, unread: the answer does not tell what it holds.
    await assert.rejects(tracker.registerModelFiles('a', path.join(ws, 'outdir', 'id_rsa')), /Model file 'id_rsa' is reached through a symbolic link to a place outside the workspace/);
    symlinkSync(path.join(outside, 'id_rsa'), path.join(ws, 'key.onnx'));
    await assert.rejects(tracker.registerModelFiles('a', path.join(ws, 'key.onnx')), /Model file 'key\.onnx' is reached through a symbolic link to a place outside the workspace/);
    await assert.rejects(tracker.registerModelFiles('a', path.join(ws, 'model.onnx'), { cardPath: path.join(ws, 'outdir', 'README.md') }), /Model card 'README\.md' is reached through a symbolic link/);
    // A model in the workspace whose external data goes through the link.
    const { model } = withExternalData({ weights: [1, 1, -1, -1], bias: [0, 0], features: 2, classes: 2 }, 'outdir/id_rsa');
    writeFileSync(path.join(ws, 'ext.onnx'), model);
    await assert.rejects(tracker.registerModelFiles('a', path.join(ws, 'ext.onnx')), /Model file 'outdir\/id_rsa' is reached through a symbolic link to a place outside the workspace/);
    // Runwise's own folder through a link: refused as the folder itself is.
    symlinkSync(path.join(ws, '.runwise'), path.join(ws, 'rw'));
    await assert.rejects(tracker.registerModelFiles('a', path.join(ws, 'rw', 'tracker.db')), /Model file 'tracker\.db' is reached through a symbolic link into Runwise's own folder/);
    await assert.rejects(tracker.registerModelFiles('a', path.join(ws, 'rw')), /symbolic link/);
    assert.equal(tracker.registry.searchRegisteredModels({}).items.length, 0);
  } finally {
    tracker.close();
  }
});

test("a model linked into DVC's symlink cache (inside the workspace): its bytes registered under the link's name", async () => {
  const { ws, tracker } = workspaceWithModel();
  try {
    const bytes = onnxBytes('dvc-cached');
    const cached = path.join(ws, '.dvc', 'cache', 'files', 'md5', '25', '588f0c1e2a3b4c5d6e7f8091a2b3c4d');
    mkdirSync(path.dirname(cached), { recursive: true });
    writeFileSync(cached, bytes);
    mkdirSync(path.join(ws, 'models'));
    symlinkSync(path.relative(path.join(ws, 'models'), cached), path.join(ws, 'models', 'model.onnx'));
    const v = await tracker.registerModelFiles('churn', path.join(ws, 'models', 'model.onnx'), { source: 'models/model.onnx' });
    assert.equal(v.source, 'models/model.onnx', 'the path the user gave, not the cache path');
    assert.deepEqual(tracker.registry.versionFiles('churn', v.version).map((f) => f.path), ['model.onnx']);
    assert.equal(v.sha256, createHash('sha256').update(bytes).digest('hex'));
    // A folder model whose weights are links into the cache too.
    const dir = path.join(ws, 'folder');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'MLmodel'), 'flavors: {}');
    symlinkSync(cached, path.join(dir, 'model.onnx'));
    const f = await tracker.registerModelFiles('folder', dir);
    assert.deepEqual(tracker.registry.versionFiles('folder', f.version).map((x) => [x.path, x.size]), [['MLmodel', 11], ['model.onnx', bytes.length]]);
    // A link to nothing, and a folder linking back up to itself, are refused by name.
    symlinkSync(path.join(ws, 'gone.onnx'), path.join(ws, 'dangling.onnx'));
    await assert.rejects(tracker.registerModelFiles('x', path.join(ws, 'dangling.onnx'), { source: 'dangling.onnx' }), /Model path 'dangling\.onnx' does not exist \(a symbolic link to nothing\)/);
    symlinkSync(dir, path.join(dir, 'loop'));
    await assert.rejects(tracker.registerModelFiles('x', dir, { source: 'folder' }), /Model folder 'folder': 'loop' is a symbolic link to a folder above it/);
    rmSync(path.join(dir, 'loop'));
    // A link to a folder outside the workspace is refused before it is walked (here: the whole file system).
    symlinkSync('/', path.join(dir, 'root'));
    await assert.rejects(tracker.registerModelFiles('x', dir, { source: 'folder' }), /Model folder 'folder': its 'root' is reached through a symbolic link to a place outside the workspace/);
    await assert.rejects(modelSha256(dir, ws), /its 'root' is reached through a symbolic link to a place outside the workspace/);
    rmSync(path.join(dir, 'root'));
    // The hash the editor and the register step compare registered bytes with follows the link too.
    assert.equal(await modelSha256(path.join(ws, 'models', 'model.onnx'), ws), v.sha256);
  } finally {
    tracker.close();
  }
});

test('models export: a file already in DIR replaced only with --force; a link inside DIR never written through', async () => {
  const { ws, model, tracker } = workspaceWithModel('exported-bytes');
  try {
    await tracker.registerModelFiles('churn', model);
  } finally {
    tracker.close();
  }
  const victim = path.join(tempWorkspace('export-victim'), 'keep.txt');
  writeFileSync(victim, 'keep me');
  // A link where the model file goes.
  const out1 = path.join(ws, 'out1');
  mkdirSync(out1);
  symlinkSync(victim, path.join(out1, 'model.onnx'));
  for (const extra of [[], ['--force']]) {
    const r = await cli(ws, 'models', 'export', 'churn/1', '--output', out1, ...extra);
    assert.equal(r.code, 1);
    assert.match(r.err, /out1\/model\.onnx is a symbolic link: export does not write through links/);
    assert.equal(readFileSync(victim, 'utf8'), 'keep me');
  }
  // A file already there.
  const out2 = path.join(ws, 'out2');
  mkdirSync(out2);
  writeFileSync(path.join(out2, 'model.onnx'), 'older');
  const refused = await cli(ws, 'models', 'export', 'churn/1', '--output', out2);
  assert.match(refused.err, /out2\/model\.onnx exists: export into an empty folder, or give --force/);
  assert.equal(readFileSync(path.join(out2, 'model.onnx'), 'utf8'), 'older');
  assert.equal((await cli(ws, 'models', 'export', 'churn/1', '--output', out2, '--force')).code, 0);
  assert.deepEqual(readFileSync(path.join(out2, 'model.onnx')), onnxBytes('exported-bytes'));
});

test('version numbers: never given twice, after deleting the highest too; a model deleted and created again starts at 1', async () => {
  const { model, tracker } = workspaceWithModel();
  try {
    for (let i = 0; i < 3; i++) await tracker.registerModelFiles('churn', model);
    tracker.registry.deleteModelVersion('churn', 3);
    tracker.registry.deleteModelVersion('churn', 2);
    assert.equal((await tracker.registerModelFiles('churn', model)).version, '4');
    assert.deepEqual(
      tracker.registry.searchModelVersions({ filter: "name = 'churn'" }).items.map((v) => v.version).sort(),
      ['1', '4'],
    );
    tracker.registry.deleteRegisteredModel('churn');
    assert.equal((await tracker.registerModelFiles('churn', model)).version, '1');
  } finally {
    tracker.close();
  }
});

test("prompts: searches leave out what MLflow tags as a prompt unless the filter asks for prompts; the client's != 'true' term matches models without the tag", async () => {
  const { model, tracker } = workspaceWithModel();
  try {
    for (const name of ['churn', 'fraud', 'qa-prompt']) await tracker.registerModelFiles(name, model);
    // The registry refuses to make a prompt now; a tracker an earlier Runwise wrote may hold one.
    assert.throws(() => tracker.registry.setRegisteredModelTag('qa-prompt', { key: 'mlflow.prompt.is_prompt', value: 'true' }), /holds models, not prompts/);
    tracker.db.prepare("INSERT INTO registered_model_tags (model_id, key, value) SELECT id, 'mlflow.prompt.is_prompt', 'true' FROM registered_models WHERE name = 'qa-prompt'").run();
    tracker.db
      .prepare("INSERT INTO model_version_tags (version_id, key, value) SELECT mv.id, 'mlflow.prompt.is_prompt', 'true' FROM model_versions mv JOIN registered_models rm ON rm.id = mv.model_id WHERE rm.name = 'qa-prompt'")
      .run();
    tracker.registry.setRegisteredModelTag('fraud', { key: 'mlflow.prompt.is_prompt', value: 'false' });
    tracker.registry.setRegisteredModelTag('fraud', { key: 'team', value: 'risk' });
    const models = (filter?: string) => tracker.registry.searchRegisteredModels(filter === undefined ? {} : { filter }).items.map((m) => m.name);
    const versions = (filter?: string) => tracker.registry.searchModelVersions(filter === undefined ? {} : { filter }).items.map((v) => v.name).sort();
    // What MLflow's client sends for search_registered_models(), with and without a filter of the user's.
    assert.deepEqual(models("tag.`mlflow.prompt.is_prompt` != 'true'"), ['churn', 'fraud']);
    assert.deepEqual(models("name = 'churn' AND tag.`mlflow.prompt.is_prompt` != 'true'"), ['churn']);
    assert.deepEqual(models("tags.team = 'risk' and tags.`mlflow.prompt.is_prompt` != 'true'"), ['fraud']);
    assert.deepEqual(models(), ['churn', 'fraud']);
    assert.deepEqual(models("name LIKE '%'"), ['churn', 'fraud']);
    // Asking for prompts.
    assert.deepEqual(models("tags.`mlflow.prompt.is_prompt` = 'true'"), ['qa-prompt']);
    assert.deepEqual(models("tags.`mlflow.prompt.is_prompt` = 'TRUE'"), []);
    assert.deepEqual(models("tags.`mlflow.prompt.is_prompt` != 'false'"), ['qa-prompt']);
    // A term that does not ask for prompts is dropped: 'false' alone still means "not prompts".
    assert.deepEqual(models("tags.`mlflow.prompt.is_prompt` = 'false'"), ['churn', 'fraud']);
    // With OR (Runwise's filters take it, MLflow's do not): the client's term binds to the last
    // branch; models without the tag read as 'false' there, and asking for prompts still counts.
    assert.deepEqual(models("name = 'churn' OR name = 'fraud' AND tag.`mlflow.prompt.is_prompt` != 'true'"), ['churn', 'fraud']);
    assert.deepEqual(models("name = 'qa-prompt' OR name = 'churn' AND tags.`mlflow.prompt.is_prompt` = 'true'"), ['qa-prompt']);
    assert.deepEqual(models("(tags.`mlflow.prompt.is_prompt` = 'true' OR name = 'churn')"), ['churn', 'qa-prompt']);
    assert.deepEqual(models("name = 'qa-prompt' OR name = 'churn'"), ['churn'], 'prompts are left out unless asked for');
    assert.deepEqual(versions(), ['churn', 'fraud']);
    assert.deepEqual(versions("tags.`mlflow.prompt.is_prompt` = 'true'"), ['qa-prompt']);
    assert.deepEqual(versions("tags.`mlflow.prompt.is_prompt` != 'true'"), ['churn', 'fraud']);
  } finally {
    tracker.close();
  }
});

test('tags and aliases: deleting one that is not set is no error; they leave last_updated_timestamp; an alias of a model that does not exist is an alias not found', async () => {
  let now = 1_000;
  const { ws, model, tracker } = workspaceWithModel();
  tracker.close();
  const t = Tracker.open(ws, { now: () => now });
  try {
    await t.registerModelFiles('churn', model);
    const before = t.registry.getRegisteredModel('churn').lastUpdatedTimestamp;
    now += 1_000;
    t.registry.deleteRegisteredModelTag('churn', 'never-set');
    t.registry.deleteModelVersionTag('churn', 1, 'never-set');
    t.registry.setRegisteredModelTag('churn', { key: 'team', value: 'risk' });
    t.registry.setAlias('churn', 'champion', 1);
    t.registry.deleteAlias('churn', 'champion');
    assert.equal(t.registry.getRegisteredModel('churn').lastUpdatedTimestamp, before);
    t.registry.updateRegisteredModel('churn', 'described');
    assert.equal(t.registry.getRegisteredModel('churn').lastUpdatedTimestamp, now);
    assert.throws(() => t.registry.deleteRegisteredModelTag('nope', 'k'), (e: unknown) => e instanceof TrackerError && e.code === 'RESOURCE_DOES_NOT_EXIST');
    assert.throws(() => t.registry.deleteModelVersionTag('churn', 9, 'k'), (e: unknown) => e instanceof TrackerError && e.code === 'RESOURCE_DOES_NOT_EXIST');
    assert.throws(
      () => t.registry.getVersionByAlias('nope', 'champion'),
      (e: unknown) => e instanceof TrackerError && e.code === 'INVALID_PARAMETER_VALUE' && e.message === 'Registered model alias champion not found.',
    );
    // The CLI's reference to an alias still names the missing model.
    assert.throws(() => t.registry.resolveVersion({ name: 'nope', alias: 'champion' }), /Registered Model with name=nope not found/);
  } finally {
    t.close();
  }
});

test('lineage: datasets → pipeline and stage runs → evaluations of the same bytes → version → aliases', async () => {
  const { model, tracker } = workspaceWithModel();
  try {
    const pipeline = tracker.createRun({ runName: 'pipeline' });
    const tags = (stage: string) => [{ key: PARENT_RUN_TAG, value: pipeline.info.runId }, { key: STAGE_TAG, value: stage }];
    const prepare = tracker.createRun({ runName: 'prepare', tags: tags('prepare') });
    const train = tracker.createRun({ runName: 'train', tags: tags('train') });
    tracker.logInputs(prepare.info.runId, [{ dataset: { name: 'raw.csv', digest: 'aaaa1111', sourceType: 'local', source: 'data/raw.csv' }, tags: [] }]);
    tracker.logInputs(train.info.runId, [{ dataset: { name: 'data/train.csv', digest: 'bbbb2222', sourceType: 'local', source: 'data/train.csv' }, tags: [] }]);
    // The same file version logged again by the stage's script under another name: one entry.
    tracker.logInputs(train.info.runId, [{ dataset: { name: 'train', digest: 'bbbb2222', sourceType: 'local', source: 'data/train.csv' }, tags: [{ key: 'mlflow.data.context', value: 'training' }] }]);
    const v = await tracker.registerModelFiles('churn', model, { runId: train.info.runId, alias: 'champion' });
    const evaluation = tracker.createRun({ runName: 'evaluate', tags: [{ key: MODEL_SHA256_TAG, value: v.sha256 }] });
    tracker.logBatch(evaluation.info.runId, { metrics: [{ key: 'roc_auc', value: 0.91, timestamp: 1, step: 0 }] });
    tracker.createRun({ runName: 'unrelated', tags: [{ key: MODEL_SHA256_TAG, value: '0'.repeat(64) }] });
    const l = tracker.modelLineage('churn', v.version);
    // Upstream first: what `prepare` read before what `train` (the source run) read.
    assert.deepEqual(l.datasets.map((d) => d.digest), ['aaaa1111', 'bbbb2222']);
    assert.equal(l.datasets.find((d) => d.digest === 'bbbb2222')?.name, 'data/train.csv', 'the entry named by its path is kept');
    assert.equal(l.sourceRun?.runId, train.info.runId);
    assert.equal(l.pipelineRun?.runId, pipeline.info.runId);
    assert.deepEqual(l.stageRuns.map((s) => s.stage), ['prepare', 'train']);
    assert.deepEqual(l.evaluations.map((e) => [e.runId, e.metrics]), [[evaluation.info.runId, [{ key: 'roc_auc', value: 0.91 }]]]);
    assert.deepEqual(l.aliases, ['champion']);
    assert.equal(l.aliasHistory.length, 1);
  } finally {
    tracker.close();
  }
});

test('lineage after a partial rerun: the earlier run that wrote what the rerun read is traced, upstream first', async () => {
  const { model, tracker } = workspaceWithModel();
  try {
    const first = tracker.createRun({ runName: 'pipeline 1' });
    const prepare = tracker.createRun({ runName: 'prepare', tags: [{ key: PARENT_RUN_TAG, value: first.info.runId }, { key: STAGE_TAG, value: 'prepare' }] });
    tracker.logInputs(prepare.info.runId, [{ dataset: { name: 'raw.csv', digest: 'aaaa1111', sourceType: 'local', source: 'data/raw.csv' }, tags: [] }]);
    await tracker.putArtifact(prepare.info.runId, OUTPUTS_ARTIFACT, Buffer.from(JSON.stringify([{ path: 'data/train.csv', md5: 'bbbb2222' }])));
    // The rerun: prepare up to date (not run), train reads what prepare wrote before.
    const second = tracker.createRun({ runName: 'pipeline 2' });
    const train = tracker.createRun({ runName: 'train', tags: [{ key: PARENT_RUN_TAG, value: second.info.runId }, { key: STAGE_TAG, value: 'train' }] });
    tracker.logInputs(train.info.runId, [{ dataset: { name: 'data/train.csv', digest: 'bbbb2222', sourceType: 'local', source: 'data/train.csv' }, tags: [] }]);
    // Another version of the file, written by a run that is no writer of what train read.
    const other = tracker.createRun({ runName: 'other' });
    await tracker.putArtifact(other.info.runId, OUTPUTS_ARTIFACT, Buffer.from(JSON.stringify([{ path: 'data/train.csv', md5: 'cccc3333' }])));
    const v = await tracker.registerModelFiles('churn', model, { runId: train.info.runId });
    const l = tracker.modelLineage('churn', v.version);
    assert.deepEqual(l.stageRuns.map((s) => [s.stage, s.parentRunId]), [
      ['prepare', first.info.runId],
      ['train', second.info.runId],
    ]);
    assert.deepEqual(l.datasets.map((d) => d.digest), ['aaaa1111', 'bbbb2222'], "prepare's input first");
  } finally {
    tracker.close();
  }
});

test("lineage: a version a pipeline's register step registered was produced by the stage that wrote the file, not by the register step", async () => {
  const { model, tracker } = workspaceWithModel();
  try {
    const pipeline = tracker.createRun({ runName: 'pipeline' });
    const tags = (stage: string) => [{ key: PARENT_RUN_TAG, value: pipeline.info.runId }, { key: STAGE_TAG, value: stage }];
    const train = tracker.createRun({ runName: 'train', tags: tags('train') });
    await tracker.putArtifact(train.info.runId, OUTPUTS_ARTIFACT, Buffer.from(JSON.stringify([{ path: 'models/model.onnx', md5: 'dddd4444' }])));
    // A stage that wrote another version of the file is not its producer.
    const older = tracker.createRun({ runName: 'train', tags: tags('train') });
    await tracker.putArtifact(older.info.runId, OUTPUTS_ARTIFACT, Buffer.from(JSON.stringify([{ path: 'models/model.onnx', md5: 'eeee5555' }])));
    const register = tracker.createRun({ runName: 'register', tags: tags('register') });
    tracker.logInputs(register.info.runId, [{ dataset: { name: 'models/model.onnx', digest: 'dddd4444', sourceType: 'local', source: 'models/model.onnx' }, tags: [] }]);
    const v = await tracker.registerModelFiles('churn', model, { runId: register.info.runId, source: 'models/model.onnx' });
    const l = tracker.modelLineage('churn', v.version);
    assert.equal(l.sourceRun?.runId, register.info.runId);
    assert.equal(l.producedBy, train.info.runId, 'the train stage wrote the registered bytes');
    const shown = await cli(path.dirname(model), 'models', 'lineage', `churn/${v.version}`);
    assert.match(shown.out, new RegExp(`stage train \\(${train.info.runId.slice(0, 8)}, [A-Z]+\\)  ← produced this model`));
    assert.match(shown.out, new RegExp(`stage register \\(${register.info.runId.slice(0, 8)}, [A-Z]+\\)  ← registered this version`));
    // Registered from a run that wrote it itself (no stage's record names it): that run produced it.
    const direct = await tracker.registerModelFiles('other', model, { runId: train.info.runId });
    assert.equal(tracker.modelLineage('other', direct.version).producedBy, train.info.runId);
  } finally {
    tracker.close();
  }
});

test('runwise models: register, list, show, alias, lineage, export, with --json and clear errors', async () => {
  const { ws, tracker } = workspaceWithModel('model-v1');
  tracker.close();
  writeFileSync(path.join(ws, 'README.md'), '---\nlicense: mit\n---\n# card\n');
  const reg = await cli(ws, 'models', 'register', 'churn', '--path', path.join(ws, 'model.onnx'), '--card', path.join(ws, 'README.md'), '--alias', 'champion', '--json');
  assert.equal(reg.code, 0, reg.err);
  const record = JSON.parse(reg.out) as { version: number; sha256: string; aliases: string[]; card: { path: string } };
  assert.equal(record.version, 1);
  assert.deepEqual(record.aliases, ['champion']);
  assert.equal(record.card.path, 'README.md');
  // A file that is not a card is refused before it is kept for good, and no version is made.
  writeFileSync(path.join(ws, 'data.csv'), 'a,b\n1,2\n');
  writeFileSync(path.join(ws, 'MODEL_CARD.md'), '---\nlicense: mit\n# never closed\n');
  writeFileSync(path.join(ws, 'broken.modelcard.yaml'), 'model_details:\n  name: churn\n  owners: [a\n');
  writeFileSync(path.join(ws, 'bom.model_card.json'), '\ufeff{"model_details": {"name": "churn"}}\n');
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`)].join('\n');
  writeFileSync(path.join(ws, 'bomb.modelcard.yaml'), `model_details:\n  name: churn\n${laughs}\n`);
  for (const [card, message] of [
    ['bomb.modelcard.yaml', /bomb\.modelcard\.yaml: the card's YAML expands its aliases too far .*refused/],
    ['bom.model_card.json', /bom\.model_card\.json:1:1: the card starts with a byte order mark, which Python's json refuses/],
    ['broken.modelcard.yaml', /broken\.modelcard\.yaml:\d+:\d+: the card's YAML does not parse/],
    ['data.csv', /data\.csv: not a model card \(expected a Markdown file such as README\.md, \*\.modelcard\.yaml or model_card\.json\)/],
    ['model.onnx', /model\.onnx: not a model card/],
    ['MODEL_CARD.md', /MODEL_CARD\.md:1: the front matter opened here is never closed/],
  ] as const) {
    const refused = await cli(ws, 'models', 'register', 'churn', '--path', path.join(ws, 'model.onnx'), '--card', path.join(ws, card));
    assert.equal(refused.code, 1, card);
    assert.match(refused.err, message);
  }
  const reg2 = await cli(ws, 'models', 'register', 'churn', '--path', path.join(ws, 'model.onnx'));
  assert.match(reg2.out, /^Registered churn version 2: sha256 [0-9a-f]{64}/);
  const list = JSON.parse((await cli(ws, 'models', 'list', '--json')).out) as { name: string; versions: number; aliases: Record<string, number> }[];
  assert.deepEqual(list.map((m) => [m.name, m.versions, m.aliases]), [['churn', 2, { champion: 1 }]]);
  const moved = await cli(ws, 'models', 'alias', 'churn', '2', 'champion');
  assert.equal(moved.out, 'churn@champion → version 2 (moved from version 1)\n');
  const shown = JSON.parse((await cli(ws, 'models', 'show', 'churn@champion', '--json')).out) as { version: number; verified: boolean };
  assert.deepEqual([shown.version, shown.verified], [2, true]);
  for (const [ref, message] of [
    ['churn/0', /Version '0' of 'churn': expected a whole number from 1, or 'latest'/],
    ['churn/1@champion', /'churn\/1@champion': name a version \(NAME\/VERSION\) or an alias \(NAME@ALIAS\), not both/],
    ['churn@nope', /Registered model 'churn' has no alias 'nope' \(its aliases: @champion\)/],
  ] as const) {
    const bad = await cli(ws, 'models', 'show', ref);
    assert.equal(bad.code, 1, ref);
    assert.match(bad.err, message);
  }
  const overview = await cli(ws, 'models', 'show', 'churn');
  // A name may hold '@' (not '/'): team@corp/1 is a version of team@corp; -w may come before the command.
  assert.equal((await cli(ws, 'models', 'register', 'team@corp', '--path', path.join(ws, 'model.onnx'))).code, 0);
  const team = await cli(ws, 'models', 'show', 'team@corp/1', '--json');
  assert.equal(team.code, 0, team.err);
  assert.equal((JSON.parse(team.out) as { name: string }).name, 'team@corp');
  // An alias set and removed from the CLI, each move in the history.
  assert.equal((await cli(ws, 'models', 'alias', 'churn', '2', 'challenger')).code, 0);
  const removed = await cli(ws, 'models', 'alias', '--delete', 'churn', 'challenger');
  assert.deepEqual([removed.code, removed.out], [0, 'churn@challenger removed (it pointed at version 2)\n']);
  const again = await cli(ws, 'models', 'alias', '--delete', 'churn', 'challenger');
  assert.equal(again.code, 1);
  assert.match(again.err, /Registered model 'churn' has no alias 'challenger'/);
  assert.match(overview.out, /VERSION/);
  const evaluator = Tracker.open(ws);
  const evaluation = evaluator.createRun({ runName: 'evaluate', tags: [{ key: MODEL_SHA256_TAG, value: record.sha256 }] }).info.runId;
  evaluator.logBatch(evaluation, { metrics: [{ key: 'roc_auc', value: 0.9, timestamp: 1, step: 0 }] });
  evaluator.updateRun(evaluation, { status: 'FINISHED' });
  evaluator.close();
  const lineage = JSON.parse((await cli(ws, 'models', 'lineage', 'churn/1', '--json')).out) as Record<string, unknown> & { alias_history: unknown[]; evaluations: { run_id: string; metrics: unknown }[] };
  assert.equal(lineage.alias_history.length, 2);
  // Metrics as {k: v}, as every other --json gives them.
  assert.deepEqual(lineage.evaluations.map((e) => [e.run_id, e.metrics]), [[evaluation, { roc_auc: 0.9 }]]);
  // snake_case as every record the CLI prints, nested ones too.
  assert.deepEqual(Object.keys(lineage), ['version', 'datasets', 'source_run', 'produced_by', 'pipeline_run', 'stage_runs', 'evaluations', 'aliases', 'alias_history']);
  assert.doesNotMatch(JSON.stringify(lineage), /"[a-z]+[A-Z]\w*":/);
  const history = JSON.parse((await cli(ws, 'models', 'lineage', 'churn/2', '--json')).out) as { alias_history: { alias: string; version: number | null; previous_version: number | null; user_id: string; changed_at: number }[] };
  assert.ok(history.alias_history.some((m) => m.alias === 'challenger' && m.version === null && m.previous_version === 2), JSON.stringify(history.alias_history));
  const shownModel = (await cli(ws, 'models', 'show', 'churn', '--json')).out;
  assert.doesNotMatch(shownModel, /"[a-z]+[A-Z]\w*":/, 'models show NAME: its alias history in snake_case too');
  // The text names its subject first and says once that no run made the file.
  const text = (await cli(ws, 'models', 'lineage', 'churn/1')).out.split('\n');
  assert.match(text[0]!, /^Lineage of churn\/1 \(sha256 [0-9a-f]{64}\)$/);
  assert.ok(text.includes('Source run (none recorded: registered from a file)'), text.join('\n'));
  assert.ok(!text.some((l) => l.startsWith('Pipeline run')), text.join('\n'));
  const out = path.join(ws, 'exported');
  const exported = await cli(ws, 'models', 'export', 'churn/1', '--output', out);
  assert.equal(exported.code, 0, exported.err);
  assert.match(exported.out, /^Exported churn\/1 \(1 file and its card README\.md, sha256 verified\)/);
  assert.deepEqual(readFileSync(path.join(out, 'model.onnx')), onnxBytes('model-v1'));
  // The card registered with the version goes with it, as it was registered.
  assert.equal(readFileSync(path.join(out, 'README.md'), 'utf8'), '---\nlicense: mit\n---\n# card\n');
  const noCard = JSON.parse((await cli(ws, 'models', 'export', 'churn/2', '--output', path.join(ws, 'exported2'), '--json')).out) as { card: string | null };
  assert.equal(noCard.card, null);
  // A stored card changed after registration is refused, as a changed model file is.
  const t = Tracker.open(ws);
  const blob = t.artifacts.blobPath(t.registry.getModelVersion('churn', '1').card!.sha256);
  t.close();
  chmodSync(blob, 0o644);
  writeFileSync(blob, '---\nlicense: other\n---\n');
  const tampered = await cli(ws, 'models', 'export', 'churn/1', '--output', path.join(ws, 'exported3'));
  assert.equal(tampered.code, 1);
  assert.match(tampered.err, /churn\/1 is refused: its file 'README\.md' was registered with sha256/);
  assert.equal(existsSync(path.join(ws, 'exported3')), false, 'nothing half-exported');
  // A folder version whose second file changed: refused before the first is copied.
  mkdirSync(path.join(ws, 'folder'));
  writeFileSync(path.join(ws, 'folder', 'a.bin'), 'first');
  writeFileSync(path.join(ws, 'folder', 'b.bin'), 'second');
  assert.equal((await cli(ws, 'models', 'register', 'dir-model', '--path', path.join(ws, 'folder'))).code, 0);
  const t2 = Tracker.open(ws);
  const second = t2.artifacts.blobPath(t2.registry.versionFiles('dir-model', 1).find((f) => f.path === 'b.bin')!.sha256);
  t2.close();
  chmodSync(second, 0o644);
  writeFileSync(second, 'changed');
  const folderExport = await cli(ws, 'models', 'export', 'dir-model/1', '--output', path.join(ws, 'exported4'));
  assert.equal(folderExport.code, 1);
  assert.equal(existsSync(path.join(ws, 'exported4')), false, 'a.bin not copied either');
  const missing = await cli(ws, 'models', 'show', 'churn/7');
  assert.deepEqual([missing.code, missing.err], [1, 'runwise: Model Version (name=churn, version=7) not found\n']);
  const outside = await cli(ws, 'models', 'register', 'x', '--path', '/etc/hostname');
  assert.equal(outside.code, 1);
  assert.match(outside.err, /outside the workspace/);
  const noPath = await cli(ws, 'models', 'register', 'x');
  assert.equal(noPath.code, 2);
  const badName = await cli(ws, 'models', 'register', 'a/b', '--path', path.join(ws, 'model.onnx'));
  assert.match(badName.err, /may not contain '\/'/);
  // C1 controls too (U+009B is an 8-bit CSI to a terminal), shown escaped.
  const c1 = await cli(ws, 'models', 'register', 'esc\u009b31m', '--path', path.join(ws, 'model.onnx'));
  assert.match(c1.err, /Invalid registered model name 'esc\\u009b31m': it may not contain '\/' or control characters/);
  // The version named as the other models commands name it: NAME/VERSION, NAME@ALIAS, or `latest`.
  assert.equal((await cli(ws, 'models', 'alias', 'churn/1', 'stable')).out, 'churn@stable → version 1\n');
  assert.equal((await cli(ws, 'models', 'alias', 'churn@champion', 'stable')).out, 'churn@stable → version 2 (moved from version 1)\n');
  assert.equal((await cli(ws, 'models', 'alias', 'churn', 'latest', 'stable')).out, 'churn@stable → version 2 (it already pointed there)\n');
  for (const argv of [['churn', 'champion', '2'], ['churn', 'stable']]) {
    const usage = await cli(ws, 'models', 'alias', ...argv);
    assert.equal(usage.code, 2, argv.join(' '));
    assert.match(usage.err, /VERSION must be a version number or 'latest' \(got 'champion'\)|missing ALIAS \(or name the version: churn\/VERSION stable\)/);
  }
  assert.equal((await cli(ws, 'models', 'alias', '--delete', 'churn', 'stable')).code, 0);
});

test('models register --run: a run that recorded writing this path with other bytes (itself or through its stages) is refused; others are taken', async () => {
  const { ws, model, tracker } = workspaceWithModel();
  const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
  const bytes = readFileSync(model);
  const rel = path.relative(ws, model).split(path.sep).join('/');
  // A stage run that wrote the same path with other bytes (an earlier training), and its pipeline run.
  const pipeline = tracker.createRun({ runName: 'pipeline' }).info.runId;
  const earlier = tracker.createRun({ runName: 'train', tags: [{ key: STAGE_TAG, value: 'train' }, { key: PARENT_RUN_TAG, value: pipeline }] }).info.runId;
  await tracker.putArtifact(earlier, OUTPUTS_ARTIFACT, Buffer.from(JSON.stringify([{ path: rel, md5: md5(onnxBytes('older')) }])));
  // The stage run that wrote these bytes, a script that saved the model to disk and logged a plot, and one that logged metrics only.
  const wrote = tracker.createRun({ runName: 'train', tags: [{ key: STAGE_TAG, value: 'train' }] }).info.runId;
  await tracker.putArtifact(wrote, OUTPUTS_ARTIFACT, Buffer.from(JSON.stringify([{ path: rel, md5: md5(bytes) }])));
  const plotted = tracker.createRun({ runName: 'script' }).info.runId;
  await tracker.putArtifact(plotted, 'plots/roc.png', Buffer.from('png'));
  const metricsOnly = tracker.createRun({ runName: 'notebook' }).info.runId;
  tracker.close();
  for (const run of [earlier, pipeline]) {
    const refused = await cli(ws, 'models', 'register', 'churn', '--path', model, '--run', run);
    assert.equal(refused.code, 1, run);
    assert.match(refused.err, new RegExp(`run ${run.slice(0, 8)} did not write these bytes of ${rel.replace(/\./g, '\\.')} \\(md5 ${md5(bytes).slice(0, 8)}…\\): it wrote ${rel.replace(/\./g, '\\.')} with md5 ${md5(onnxBytes('older')).slice(0, 8)}…\\. .*nothing was registered`));
  }
  for (const run of [wrote, plotted, metricsOnly]) {
    const ok = await cli(ws, 'models', 'register', 'churn', '--path', model, '--run', run, '--json');
    assert.equal(ok.code, 0, ok.err);
  }
  const t = Tracker.open(ws);
  try {
    assert.deepEqual(t.registry.searchModelVersions({ filter: "name = 'churn'", orderBy: ['version_number ASC'] }).items.map((v) => v.runId), [wrote, plotted, metricsOnly]);
  } finally {
    t.close();
  }
});

test("a version's stored card gone from .runwise: export says so without the store's absolute path", async () => {
  const { ws, model, tracker } = workspaceWithModel('card-gone');
  writeFileSync(path.join(ws, 'README.md'), '---\nlicense: mit\n---\n');
  let blob: string;
  try {
    const v = await tracker.registerModelFiles('churn', model, { cardPath: path.join(ws, 'README.md') });
    blob = tracker.artifacts.blobPath(v.card!.sha256);
  } finally {
    tracker.close();
  }
  chmodSync(blob, 0o644);
  rmSync(blob);
  const r = await cli(ws, 'models', 'export', 'churn/1', '--output', path.join(ws, 'out'));
  assert.equal(r.code, 1);
  assert.match(r.err, /^runwise: The card stored with churn\/1 \(README\.md, sha256 [0-9a-f]{64}\) cannot be read: ENOENT, it is gone from \.runwise\/\n$/);
  assert.ok(!r.err.includes(ws));
});

test("a version's file is read from the descriptor it was hashed from: a blob swapped after the check is not what is served or copied", async () => {
  const { ws, model, tracker } = workspaceWithModel('swap-me');
  try {
    const v = await tracker.registerModelFiles('churn', model);
    const original = readFileSync(model);
    const blob = tracker.artifacts.blobPath(v.sha256);
    const opened = await tracker.openModelVersionFileAsync('churn', 1, 'model.onnx');
    const copied = tracker.openModelVersionFile('churn', 1, 'model.onnx');
    // Between the check and the read, the store's path now names other bytes (a rename over it).
    const swap = path.join(path.dirname(blob), 'swap.tmp');
    writeFileSync(swap, Buffer.alloc(original.length, 0x41));
    renameSync(swap, blob);
    const chunks: Buffer[] = [];
    for await (const c of opened.stream()) chunks.push(c as Buffer);
    assert.ok(Buffer.concat(chunks).equals(original), 'the stream gives the bytes hashed');
    copied.verified.copyTo(path.join(ws, 'exported.onnx'));
    assert.ok(readFileSync(path.join(ws, 'exported.onnx')).equals(original), 'the copy holds the bytes hashed');
    // The next open sees the swap and refuses it.
    assert.throws(() => tracker.openModelVersionFile('churn', 1, 'model.onnx'), ModelTamperedError);
    // A blob is stored read-only; one written in place between its check and its copy leaves no copy.
    const v2 = await tracker.registerModelFiles('other', path.join(ws, 'exported.onnx'));
    const blob2 = tracker.artifacts.blobPath(v2.sha256);
    assert.equal(statSync(blob2).mode & 0o222, 0, 'no write permission on a stored blob');
    const checked = tracker.openModelVersionFile('other', 1, 'exported.onnx');
    chmodSync(blob2, 0o644);
    writeFileSync(blob2, Buffer.alloc(original.length, 0x42));
    assert.throws(() => checked.verified.copyTo(path.join(ws, 'again.onnx')), /changed while it was read .*nothing was copied/);
    assert.equal(existsSync(path.join(ws, 'again.onnx')), false);
  } finally {
    tracker.close();
  }
});
