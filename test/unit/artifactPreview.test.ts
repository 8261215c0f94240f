// Run artifacts as the run details page lists and previews them (core/views/artifactPreview.ts), on
// a real tracker: every file listed; previews by kind; bounded reads; paths outside the run refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tracker } from '../../core/tracker/tracker';
import { artifactKind, artifactTail, listArtifactFiles, parseCsvRows, previewArtifact, TEXT_PREVIEW_BYTES } from '../../core/views/artifactPreview';
import { tempWorkspace } from '../support/tempWorkspace';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

async function withArtifacts(fn: (t: Tracker, runId: string) => Promise<void>): Promise<void> {
  const t = Tracker.open(tempWorkspace());
  try {
    const runId = t.createRun().info.runId;
    await t.putArtifact(runId, 'plots/roc.png', PNG);
    // A string source is a file path to the tracker: contents go in as bytes.
    await t.putArtifact(runId, 'metrics.json', Buffer.from('{"acc":0.9,"f1":[1,2]}'));
    await t.putArtifact(runId, 'eval/preds.csv', Buffer.from('id,label\r\n1,"a, ""quoted"" b"\r\n\r\n2,"multi\nline"\n'));
    await t.putArtifact(runId, 'runwise/stage.log', Buffer.from(Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n')));
    await t.putArtifact(runId, 'model.bin', Buffer.from([0, 1, 2, 3, 255, 0]));
    await t.putArtifact(runId, 'big.txt', Buffer.from('x'.repeat(TEXT_PREVIEW_BYTES + 10)));
    await t.putArtifact(runId, 'broken.json', Buffer.from('{"acc":'));
    await fn(t, runId);
  } finally {
    t.close();
  }
}

test('lists every file of the run, nested ones too, sorted; a cap says it cut', async () => {
  await withArtifacts(async (t, runId) => {
    const { files, truncated } = listArtifactFiles(t, runId);
    assert.equal(truncated, false);
    assert.deepEqual(files.map((f) => f.path), ['big.txt', 'broken.json', 'eval/preds.csv', 'metrics.json', 'model.bin', 'plots/roc.png', 'runwise/stage.log']);
    assert.equal(files.find((f) => f.path === 'plots/roc.png')!.size, PNG.length);
    assert.equal(listArtifactFiles(t, runId, 3).truncated, true);
  });
});

test('previews by kind: image as a data URI, JSON pretty, CSV rows, text, binary by size', async () => {
  await withArtifacts(async (t, runId) => {
    const img = await previewArtifact(t, runId, 'plots/roc.png');
    assert.deepEqual(img, { kind: 'image', path: 'plots/roc.png', size: PNG.length, dataUri: `data:image/png;base64,${PNG.toString('base64')}` });
    const json = await previewArtifact(t, runId, 'metrics.json');
    assert.equal(json.kind, 'json');
    assert.equal(json.kind === 'json' && json.text, '{\n  "acc": 0.9,\n  "f1": [\n    1,\n    2\n  ]\n}');
    const broken = await previewArtifact(t, runId, 'broken.json');
    assert.equal(broken.kind, 'text', 'JSON that does not parse is shown as text');
    const csv = await previewArtifact(t, runId, 'eval/preds.csv');
    assert.deepEqual(csv.kind === 'csv' && csv.rows, [['id', 'label'], ['1', 'a, "quoted" b'], ['2', 'multi\nline']]);
    assert.equal((await previewArtifact(t, runId, 'model.bin')).kind, 'binary');
    const big = await previewArtifact(t, runId, 'big.txt');
    assert.ok(big.kind === 'text' && big.truncated && big.text.length === TEXT_PREVIEW_BYTES);
    const tail = await artifactTail(t, runId, 'runwise/stage.log', 100);
    assert.equal(tail.truncated, true);
    assert.ok(tail.text.endsWith('line 1999') && tail.text.startsWith('line 19'), tail.text);
  });
});

test('paths outside the run are refused before anything is read', async () => {
  await withArtifacts(async (t, runId) => {
    await assert.rejects(previewArtifact(t, runId, '../../tracker.db'), /path/i);
    await assert.rejects(previewArtifact(t, runId, '/etc/passwd'), /path/i);
    await assert.rejects(previewArtifact(t, runId, 'nope.txt'), /No artifact 'nope.txt'/);
  });
});

test('kinds by name, and CSV rows with a cap', () => {
  assert.equal(artifactKind('a/b/Plot.PNG'), 'image');
  assert.equal(artifactKind('report.json'), 'json');
  assert.equal(artifactKind('x.csv'), 'csv');
  assert.equal(artifactKind('requirements.txt'), 'text');
  assert.equal(artifactKind('MLmodel'), 'text');
  assert.equal(artifactKind('model.pkl'), 'unknown');
  assert.deepEqual(parseCsvRows('\ufeffa,b\n1,2\n3,4\n', 2), { rows: [['a', 'b'], ['1', '2']], truncated: true });
  assert.deepEqual(parseCsvRows('a,b\n1,', 10), { rows: [['a', 'b'], ['1', '']], truncated: false });
});
