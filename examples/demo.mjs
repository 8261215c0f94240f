#!/usr/bin/env node
// `npm run demo`: the example pipeline (examples/pipeline) through the `runwise` CLI on the embedded
// SQLite tracker. It checks the pipeline, shows its graph, runs it (`prepare` makes a seeded churn
// dataset, `train` fits a logistic regression, logs loss and accuracy per epoch through the tracking
// endpoint the runner starts, and writes an ONNX model; `evaluate` runs that model on the test set
// and `register` writes the evaluation into churn.modelcard.yaml and registers the model as
// churn@champion with its card), runs it again (nothing is out of date, so nothing runs), then lists
// the runs, the training loss curve, and the registered model with its card and lineage.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const runwise = path.join(here, '..', 'bin', 'runwise.js');
const workspace = path.join(here, 'pipeline');

/** Runs `runwise ARGS --workspace examples/pipeline`, echoing the command; returns its stdout when captured. */
function cli(args, { capture = false } = {}) {
  if (!capture) console.log(`\n$ runwise ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [runwise, ...args, '--workspace', workspace], {
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`runwise ${args.join(' ')} exited with ${r.status ?? r.signal}`);
  return r.stdout;
}

console.log(`The example pipeline: ${path.relative(process.cwd(), workspace) || '.'}/runwise.yaml`);
cli(['check']);
cli(['dag']);
// --force: every demo run trains anew, so the runs below are this run's.
cli(['run', '--force']);
cli(['run']);
cli(['runs', 'list', '--max-results', '6']);

const trainRun = JSON.parse(cli(['runs', 'list', '--filter', "tags.`runwise.stage` = 'train'", '--max-results', '1', '--json'], { capture: true }));
const runId = (trainRun.runs ?? trainRun)[0]?.run_id ?? (trainRun.runs ?? trainRun)[0]?.info?.run_id;
if (runId) {
  cli(['runs', 'show', runId]);
  cli(['metrics', 'history', runId, 'loss', '--max-points', '10']);
}
cli(['models', 'show', 'churn@champion']);
cli(['models', 'lineage', 'churn@champion']);
console.log(`\nThe tracker is ${path.join(path.relative(process.cwd(), workspace), '.runwise', 'tracker.db')}; open examples/pipeline in VS Code to see the runs.`);
