/**
 * `require('runwise/client')` in a stage's Node script, without installing Runwise into the
 * workspace: stages get a NODE_PATH folder (`.runwise/node`) holding `runwise`, a link to the
 * running installation, as they get MLFLOW_TRACKING_URI. NODE_PATH is Node's last resort, so a
 * `runwise` the workspace installs itself (node_modules) still wins.
 */
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { runwiseDir } from '../workspace/workspacePath';

let installRoot: string | null | undefined;

/** The folder of the running Runwise package (its package.json names it and its client is built), or null. */
function runwiseInstallRoot(): string | null {
  if (installRoot !== undefined) return installRoot;
  installRoot = null;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; exports?: Record<string, unknown> };
      if (pkg.name === 'runwise' && typeof pkg.exports?.['./client'] === 'string' && existsSync(path.join(dir, pkg.exports['./client']))) installRoot = dir;
      if (pkg.name === 'runwise') break;
    } catch {
      /* no package.json here: look further up */
    }
    if (path.dirname(dir) === dir) break;
  }
  return installRoot;
}

/** The NODE_PATH for a stage's commands in `workspace`: `.runwise/node` first, then the one the runner has; undefined when it cannot be made. */
export function stageNodePath(workspace: string): string | undefined {
  const root = runwiseInstallRoot();
  if (!root) return undefined;
  const folder = path.join(runwiseDir(workspace), 'node');
  const link = path.join(folder, 'runwise');
  try {
    let current: string | undefined;
    try {
      current = readlinkSync(link);
    } catch {
      current = undefined;
    }
    if (current !== root) {
      mkdirSync(folder, { recursive: true });
      rmSync(link, { force: true, recursive: false });
      // A junction on Windows needs no privilege; elsewhere the type is ignored.
      symlinkSync(root, link, 'junction');
    }
  } catch {
    return undefined; // a read-only workspace: the stage runs as it would without
  }
  const inherited = process.env.NODE_PATH;
  return inherited ? `${folder}${path.delimiter}${inherited}` : folder;
}
