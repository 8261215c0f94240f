#!/usr/bin/env node
// `npm run test:desktop`: the extension's editor checks in desktop VS Code, through
// @vscode/test-electron. Not part of `npm test`: it downloads VS Code (a network fetch from
// update.code.visualstudio.com), which machines without that access cannot do; there it fails with
// a message that says so. RUNWISE_VSCODE_EXECUTABLE=/path/to/code uses an installed VS Code instead.
//
// @vscode/test-electron 3 needs Node >= 22: under an older Node this script re-runs itself with the
// Node 22 that the test tools install (scripts/testTools.mjs, ensureNode22()).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, ensureNode22 } from '../../scripts/testTools.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fail = (message) => {
  console.error(`test:desktop: ${message}`);
  process.exit(1);
};

if (Number(process.versions.node.split('.')[0]) < 22) {
  let node22;
  try {
    node22 = ensureNode22();
  } catch (e) {
    fail(`@vscode/test-electron needs Node 22 or newer and none could be installed: ${e.message}`);
  }
  const r = spawnSync(node22, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const { runTests, downloadAndUnzipVSCode } = await import('@vscode/test-electron');
const esbuild = await import('esbuild');

// The extension as VS Code loads it (dist/), and the suite bundled for the extension host.
const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) fail('the build (node esbuild.mjs) failed');
const work = mkdtempSync(path.join(tmpdir(), 'runwise-desktop-'));
const suite = path.join(work, 'suite', 'index.js');
await esbuild.build({
  entryPoints: [path.join(root, 'test', 'desktop', 'suite.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: suite,
  external: ['vscode', 'better-sqlite3'],
  logLevel: 'warning',
});
const workspace = path.join(work, 'workspace');
cpSync(path.join(root, 'test', 'fixtures', 'e2e-workspace'), workspace, { recursive: true });
cpSync(path.join(root, 'core', 'trackingClient', 'runwise_tracking.py'), path.join(workspace, 'runwise_tracking.py'));

const version = process.env.RUNWISE_VSCODE_VERSION || '1.103.2'; // the oldest VS Code the extension supports (engines.vscode)
let vscodeExecutablePath = process.env.RUNWISE_VSCODE_EXECUTABLE;
if (!vscodeExecutablePath) {
  try {
    vscodeExecutablePath = await downloadAndUnzipVSCode({ version, cachePath: path.join(cacheDir, 'vscode-test'), timeout: 30_000 });
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    fail(
      `could not download VS Code ${version} for the desktop suite (${e?.message ?? e}).\n` +
        'This suite needs network access to update.code.visualstudio.com, or an installed VS Code: ' +
        'RUNWISE_VSCODE_EXECUTABLE=/path/to/code npm run test:desktop. The same checks run in code-server in the e2e layer (npm test).',
    );
  }
}

let code = 1;
try {
  code = await runTests({
    vscodeExecutablePath,
    extensionDevelopmentPath: root,
    extensionTestsPath: suite,
    extensionTestsEnv: { RUNWISE_DESKTOP_WORKSPACE: workspace },
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--user-data-dir', path.join(work, 'user-data'), '--skip-welcome', '--skip-release-notes'],
  });
} catch (e) {
  console.error(`test:desktop: VS Code exited with an error: ${e?.message ?? e}`);
  code = 1;
} finally {
  if (!process.env.RUNWISE_KEEP_TEST_DIRS) rmSync(work, { recursive: true, force: true });
}
console.log(`test:desktop: ${code === 0 ? 'passed' : 'failed'}`);
process.exit(code);
