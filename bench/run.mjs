#!/usr/bin/env node
// `npm run bench [-- NAME...]`: runs the benchmarks one after another (never in parallel: they
// measure speed on a 2-core machine). Names: tracker, rest, lsp, pipeline-status, pipeline-hash,
// pipeline-launch, pipeline-metrics, eval, drift, sync, webview-compare, webview-lineage.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const all = {
  tracker: 'tracker.bench.ts',
  rest: 'rest.bench.ts',
  lsp: 'lsp/lsp.bench.ts',
  'pipeline-status': 'pipeline/status.bench.ts',
  'pipeline-hash': 'pipeline/hash.bench.ts',
  'pipeline-launch': 'pipeline/launch.bench.ts',
  eval: 'eval/evaluate.bench.ts',
  'pipeline-metrics': 'pipeline/metricsFiles.bench.ts',
  drift: 'drift/drift.bench.ts',
  sync: 'sync/push.bench.ts',
  'webview-compare': 'webview/compareRuns.bench.ts',
  'webview-lineage': 'webview/lineage.bench.ts',
};
const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(all);
for (const name of names) {
  if (!all[name]) {
    console.error(`unknown benchmark '${name}'; known: ${Object.keys(all).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n### ${name}`);
  const r = spawnSync(process.execPath, ['--no-warnings', '--import', 'tsx', path.join(here, all[name])], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
