/**
 * Several `runwise models register` processes registering the same name at once each get their own
 * version number: the number is allocated inside the write transaction, never read then written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Tracker } from '../../core/tracker/tracker';
import { onnxBytes } from '../support/onnxBytes';
import { tempWorkspace } from '../support/tempWorkspace';
import { finished, spawnTs } from '../support/processes';

const PROCESSES = 6;

test(`${PROCESSES} processes register the same model name at once: versions 1..${PROCESSES}, each once`, async () => {
  const ws = tempWorkspace('registry-concurrency');
  Tracker.open(ws).close();
  for (let i = 0; i < PROCESSES; i++) writeFileSync(path.join(ws, `model-${i}.onnx`), onnxBytes(`model bytes ${i}`));
  const children = Array.from({ length: PROCESSES }, (_, i) =>
    spawnTs('core/cli/main.ts', ['models', 'register', 'churn', '--path', path.join(ws, `model-${i}.onnx`), '--json', '--workspace', ws]),
  );
  const results = await Promise.all(children.map(finished));
  const byFile = new Map<string, number>();
  results.forEach((r, i) => {
    assert.equal(r.code, 0, `process ${i} failed: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /busy|locked/i);
    byFile.set(`model-${i}.onnx`, (JSON.parse(r.stdout) as { version: number }).version);
  });
  assert.deepEqual([...byFile.values()].sort((a, b) => a - b), Array.from({ length: PROCESSES }, (_, i) => i + 1));
  const tracker = Tracker.open(ws);
  try {
    // Each number holds the bytes of the process that got it.
    for (const [file, version] of byFile) {
      const v = tracker.registry.getModelVersion('churn', version);
      assert.equal(v.source, file);
      assert.equal(tracker.registry.verifyVersion('churn', version).length, 1);
    }
  } finally {
    tracker.close();
  }
});
