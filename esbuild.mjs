// One script that bundles every entry point: CLI, Node tracking client, and (as they land) the
// extension host, the language server and the webviews. Native addons stay external.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** Node entries: [source, output]. Entries whose source does not exist yet are skipped. */
const nodeEntries = [
  ['core/cli/main.ts', 'dist/cli.js'],
  ['core/trackingClient/index.ts', 'dist/client.js'],
  // Run by the client at exit to send what is left (next to dist/client.js, where the client looks).
  ['core/trackingClient/exitSender.ts', 'dist/clientExitSender.js'],
  ['client/extension.ts', 'dist/extension.js'],
  ['server/server.ts', 'dist/server.js'],
];

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

const builds = nodeEntries
  .filter(([src]) => existsSync(src))
  .map(([src, out]) => ({
    ...common,
    entryPoints: [src],
    outfile: out,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode', 'better-sqlite3', 'onnxruntime-node'],
  }));

/**
 * Webview entries: [source, output]. Browser code, one IIFE each (no Node, no vscode); a CSS file the
 * entry imports lands next to it (dist/webview/<name>.css).
 */
const webviewEntries = [
  ['webview/runDetails/main.ts', 'dist/webview/runDetails.js'],
  ['webview/evaluationReport/main.ts', 'dist/webview/evaluationReport.js'],
  ['webview/driftReport/main.ts', 'dist/webview/driftReport.js'],
];

builds.push(
  ...webviewEntries
    .filter(([src]) => existsSync(src))
    .map(([src, out]) => ({
      ...common,
      entryPoints: [src],
      outfile: out,
      platform: 'browser',
      target: 'es2022',
      format: 'iife',
    })),
);

if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
