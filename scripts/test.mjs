#!/usr/bin/env node
// The whole test run, layer by layer: build, typecheck, lint, then each test layer. Every layer runs
// even when an earlier one failed, and the run ends with one summary line. A layer that cannot run
// (a missing install) fails loudly; nothing is skipped quietly.
//
//   node scripts/test.mjs            every layer
//   node scripts/test.mjs unit rest  only those layers
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNode22 } from './testTools.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
process.chdir(root);
const resultsDir = path.join(root, 'test-results');
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });

/** Every `*.test.ts` below `dir`, sorted. */
const nodeTestFiles = (dir) => {
  const found = [];
  const walk = (d) => {
    let entries = [];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.test.ts')) found.push(p);
    }
  };
  walk(dir);
  return found.sort();
};

/** Each layer: a name and how to run it. Node test layers report counts; checks count as one test. */
const layers = [
  { name: 'build', check: ['node', ['esbuild.mjs']] },
  { name: 'typecheck', check: ['npm', ['run', '--silent', 'typecheck']] },
  { name: 'lint', check: ['npx', ['--no-install', 'eslint', '--max-warnings=0', '.']] },
  { name: 'unit', files: () => nodeTestFiles('test/unit') },
  { name: 'rest', files: () => nodeTestFiles('test/rest') },
  { name: 'protocol', files: () => nodeTestFiles('test/protocol') },
  { name: 'system', files: () => nodeTestFiles('test/system') },
  { name: 'webview', files: () => nodeTestFiles('test/webview') },
  { name: 'e2e', files: () => nodeTestFiles('test/e2e') },
  {
    // The tracker's tests again through the node:sqlite fallback, under a Node that has it.
    name: 'sqlite-fallback',
    files: () => ['test/unit/tracker.test.ts', 'test/unit/trackerFiles.test.ts', 'test/unit/trackerInputRules.test.ts', 'test/unit/searchQuery.test.ts', 'test/unit/runsChanges.test.ts', 'test/unit/loggedModels.test.ts', 'test/unit/metricSeries.test.ts', 'test/unit/tracker/metricHistoryColumns.test.ts'],
    node: () => ensureNode22(),
    env: { RUNWISE_SQLITE_BACKEND: 'node:sqlite' },
  },
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !layers.some((l) => l.name === w));
if (unknown.length) {
  console.error(`unknown layer(s): ${unknown.join(', ')}; layers are ${layers.map((l) => l.name).join(', ')}`);
  process.exit(2);
}

let passed = 0;
let failed = 0;
const failures = [];
const started = Date.now();

for (const layer of layers) {
  if (wanted.length && !wanted.includes(layer.name)) continue;
  const t0 = Date.now();
  console.log(`\n=== ${layer.name} ===`);
  if (layer.check) {
    const r = spawnSync(layer.check[0], layer.check[1], { stdio: 'inherit' });
    if (r.status === 0) passed++;
    else {
      failed++;
      failures.push(layer.name);
    }
  } else {
    let nodeBin = process.execPath;
    try {
      if (layer.node) nodeBin = layer.node();
    } catch (e) {
      console.error(`layer ${layer.name} cannot run: ${e.message}`);
      failed++;
      failures.push(`${layer.name} (cannot run)`);
      continue;
    }
    const files = layer.files();
    if (files.length === 0) {
      console.log(`(no test files in layer ${layer.name} yet)`);
      continue;
    }
    const tap = path.join(resultsDir, `${layer.name}.tap`);
    const r = spawnSync(
      nodeBin,
      [
        '--no-warnings',
        '--import',
        'tsx',
        '--test',
        '--test-concurrency=2',
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        '--test-reporter=tap',
        `--test-reporter-destination=${tap}`,
        ...files,
      ],
      { stdio: 'inherit', env: { ...process.env, ...(layer.env ?? {}) } },
    );
    let text = '';
    try {
      text = readFileSync(tap, 'utf8');
    } catch {
      /* counted below as a failure */
    }
    const count = (what) => [...text.matchAll(new RegExp(`^# ${what} (\\d+)$`, 'gm'))].reduce((s, m) => s + Number(m[1]), 0);
    const p = count('pass');
    const f = count('fail') + count('cancelled');
    passed += p;
    failed += f;
    if (r.status !== 0 || f > 0 || p === 0) {
      if (f === 0) failed++;
      failures.push(layer.name);
    }
  }
  console.log(`--- ${layer.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

console.log(`\nlayers failed: ${failures.length ? failures.join(', ') : 'none'}; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
console.log(`runwise: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
