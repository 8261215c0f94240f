/**
 * The script of a worker thread that core code starts: the built bundle `dist/NAME.js` beside the
 * bundle that runs this module (every bundle sits in dist/, see esbuild.mjs), or, when this module
 * runs from its TypeScript source (tests, benchmarks under tsx), the worker's source bundled in
 * memory with esbuild: a worker thread does not get tsx's loader for the `import()`s it makes.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

export type WorkerScript = { code: string; eval: true } | { file: string; eval: false };

const bundledSources = new Map<string, string>();

/**
 * `source`: the worker's entry relative to core/ (`drift/driftSideWorker.ts`); its bundle is
 * dist/ + the entry's base name + `.js` (the entry esbuild.mjs lists for it). `what` names the worker
 * in the error when the bundle is missing.
 */
export function workerScript(source: string, what: string): WorkerScript {
  if (__filename.endsWith('.ts')) {
    let code = bundledSources.get(source);
    if (code === undefined) {
      // Loaded through createRequire so that the bundles never include esbuild (a devDependency).
      const esbuild = createRequire(__filename)('esbuild') as typeof import('esbuild');
      const built = esbuild.buildSync({ entryPoints: [path.join(__dirname, '..', source)], bundle: true, platform: 'node', target: 'node20', format: 'cjs', write: false, logLevel: 'silent' });
      code = built.outputFiles[0]!.text;
      bundledSources.set(source, code);
    }
    return { code, eval: true };
  }
  const file = path.join(__dirname, `${path.basename(source, '.ts')}.js`);
  if (!existsSync(file)) throw new Error(`${file} is missing (${what}; rebuild with npm run build)`);
  return { file, eval: false };
}
