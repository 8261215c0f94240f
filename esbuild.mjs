// One script that bundles every entry point: CLI, Node tracking client, and (as they land) the
// extension host, the language server and the webviews. Native addons stay external.
import * as esbuild from 'esbuild';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** Node entries: [source, output]. Entries whose source does not exist yet are skipped. */
const nodeEntries = [
  ['core/trackingClient/index.ts', 'dist/client.js'],
  // Run by the client at exit to send what is left (next to dist/client.js, where the client looks).
  ['core/trackingClient/exitSender.ts', 'dist/clientExitSender.js'],
  ['client/extension.ts', 'dist/extension.js'],
  // The drift engine's worker thread, started from whichever bundle runs the engine (all in dist/).
  ['core/drift/driftSideWorker.ts', 'dist/driftSideWorker.js'],
  // The dataset reader's worker thread (an evaluation of a large file reads it there; see core/dataset/datasetThread.ts).
  ['core/dataset/datasetWorker.ts', 'dist/datasetWorker.js'],
  ['server/server.ts', 'dist/server.js'],
];

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

const nodeBuild = (src, out) => ({
  ...common,
  entryPoints: [src],
  outfile: out,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode', 'better-sqlite3', 'onnxruntime-node'],
});

const builds = nodeEntries.filter(([src]) => existsSync(src)).map(([src, out]) => nodeBuild(src, out));

/**
 * The CLI, one bundle per command loaded on use: dist/cli.js is the dispatcher (core/cli/main.ts) and
 * each core/cli/commands/NAME.ts is dist/cli-NAME.js, so a command compiles and initialises only its
 * own code. Some modules are bundles of their own (dist/cli-lib.PATH.js) that the others `require`
 * instead of copying:
 * - every module that declares an Error subclass: a copy per bundle would be another class, and an
 *   `instanceof` across bundles (the dispatcher's error handling, a command catching a loader's
 *   error) would fail;
 * - the pipeline loader: its load cache is keyed on the running module, the same file for every
 *   command; the language analysis and the `yaml` package, which it loads only when its record is
 *   out of date; the tracker, which the context opens on demand; the params readers (YAML, TOML,
 *   Python, and the params index), which the lock file code needs only for a stage with params:
 *   copied into it they made its bundle 128 KB instead of 25 KB, compiled by every `status`.
 * Everything else a command needs is copied into its bundle. All sit in dist/, where
 * `__dirname`-relative lookups (the drift view, the dataset worker) expect them.
 */
const cliLibName = (src) => `cli-lib.${path.relative('core', src).replace(/\.ts$/, '').split(path.sep).join('.')}.js`;
const declaresError = (file) => /^export class \w+ extends [\w.]*Error\b/m.test(readFileSync(file, 'utf8'));
const coreSources = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return p === path.join('core', 'cli', 'commands') ? [] : coreSources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
const cliLibModules = existsSync('core/cli/main.ts')
  ? [
      ...coreSources('core').filter(declaresError),
      'core/tracker/tracker.ts',
      'core/pipeline/loadPipeline.ts',
      'core/language/languageService.ts',
      'core/language/files/fileKinds.ts',
      'core/pipeline/paramsFormats.ts',
      'core/language/files/paramsIndex.ts',
    ]
  : [];
const cliBundleOf = new Map(cliLibModules.map((src) => [path.resolve(src), cliLibName(src)]));
/** Packages that are a CLI bundle of their own. */
const cliLibPackages = new Map([['yaml', 'cli-lib.yaml.js']]);
for (const [name, out] of cliLibPackages) cliBundleOf.set(createRequire(import.meta.url).resolve(name), out);
if (existsSync('core/cli/commands')) {
  for (const f of readdirSync('core/cli/commands')) {
    if (f.endsWith('.ts') && !f.endsWith('.test.ts')) cliBundleOf.set(path.resolve('core/cli/commands', f), `cli-${path.basename(f, '.ts')}.js`);
  }
}

/** Resolves an import of another CLI bundle's module to a `require` of that bundle (beside this one in dist/). */
const cliBundlesExternal = (ownSource) => ({
  name: 'runwise-cli-bundles',
  setup(build) {
    const packages = new RegExp(`^(${[...cliLibPackages.keys()].join('|')})$`);
    build.onResolve({ filter: packages }, (args) => ({ path: `./${cliLibPackages.get(args.path)}`, external: true }));
    build.onResolve({ filter: /^\./ }, (args) => {
      if (args.kind !== 'import-statement' && args.kind !== 'require-call' && args.kind !== 'require-resolve') return undefined;
      const base = path.resolve(args.resolveDir, args.path);
      const src = [base, `${base}.ts`, path.join(base, 'index.ts')].find((p) => cliBundleOf.has(p));
      if (!src || src === ownSource) return undefined;
      return { path: `./${cliBundleOf.get(src)}`, external: true };
    });
  },
});

if (existsSync('core/cli/main.ts')) {
  for (const [src, out] of [[path.resolve('core/cli/main.ts'), 'cli.js'], ...cliBundleOf]) {
    builds.push({ ...nodeBuild(src, `dist/${out}`), plugins: [cliBundlesExternal(src)] });
  }
}

/**
 * Webview entries: [source, output]. Browser code, one IIFE each (no Node, no vscode); a CSS file the
 * entry imports lands next to it (dist/webview/<name>.css).
 */
const webviewEntries = [
  ['webview/runDetails/main.ts', 'dist/webview/runDetails.js'],
  ['webview/evaluationReport/main.ts', 'dist/webview/evaluationReport.js'],
  ['webview/driftReport/main.ts', 'dist/webview/driftReport.js'],
  ['webview/compareRuns/main.ts', 'dist/webview/compareRuns.js'],
  ['webview/lineage/main.ts', 'dist/webview/lineage.js'],
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
