/**
 * `runwise evaluate` stopped by Ctrl-C (SIGINT) or SIGTERM in a real process: exit 130 with one
 * line, the evaluation's run ended KILLED with the reason, not left RUNNING for the next command
 * to find.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { FAILURE_REASON_TAG } from '../../core/tracker/model';
import { Tracker } from '../../core/tracker/tracker';
import { waitUntil } from '../support/polling';
import { finished, repoRoot } from '../support/processes';
import { tempWorkspace } from '../support/tempWorkspace';
import { probabilitiesOnly } from '../unit/evaluation/onnxTestModels';

const cliPath = path.join(repoRoot, 'bin', 'runwise.js');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} during an evaluation: exit 130, the run KILLED with the reason`, async () => {
    const ws = tempWorkspace('cli-evaluate-interrupt');
    // A four-feature binary classifier written here (the example's model.onnx exists only once its pipeline ran).
    writeFileSync(path.join(ws, 'model.onnx'), probabilitiesOnly({ weights: [0.1, -0.1, 0.02, -0.02, -0.3, 0.3, 0.05, -0.05], bias: [0, 0], features: 4, classes: 2 }));
    const rows = ['tenure_months,monthly_spend,support_calls,usage_hours,churned'];
    for (let i = 0; i < 200_000; i++) rows.push(`${i % 72},${(20 + (i % 100)).toFixed(2)},${i % 6},${(i % 40) / 2},${i % 3 === 0 ? 1 : 0}`);
    writeFileSync(path.join(ws, 'rows.csv'), `${rows.join('\n')}\n`);
    // Batches of one row: the evaluation lasts long enough to be interrupted once its run exists.
    const child = spawn(process.execPath, [cliPath, 'evaluate', 'model.onnx', '--data', 'rows.csv', '--target', 'churned', '--batch-size', '1', '--workspace', ws], { cwd: ws, stdio: ['ignore', 'pipe', 'pipe'] });
    const done = finished(child);
    const running = () => {
      let tracker: Tracker | undefined;
      try {
        tracker = Tracker.open(ws, { readonly: true });
        return tracker.searchRuns({}).items.some((r) => r.info.status === 'RUNNING');
      } catch {
        return false; // not created yet
      } finally {
        tracker?.close();
      }
    };
    await waitUntil(running, 'the evaluation run to start', 30_000);
    child.kill(signal);
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /^runwise: interrupted: the evaluation of model\.onnx was cancelled\n$/);
    const tracker = Tracker.open(ws, { readonly: true });
    try {
      const [run] = tracker.searchRuns({}).items;
      assert.equal(run?.info.status, 'KILLED');
      assert.match(run!.tags.find((t) => t.key === FAILURE_REASON_TAG)?.value ?? '', /cancelled/);
    } finally {
      tracker.close();
    }
  });
}
