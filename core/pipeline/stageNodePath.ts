/**
 * `require('runwise/client')` in a stage's Node script, without installing Runwise into the
 * workspace: stages get a NODE_PATH folder (`.runwise/node`) holding `runwise`, a link to the
 * running installation (the CLI's, or the extension's), as they get MLFLOW_TRACKING_URI. NODE_PATH
 * is Node's last resort, so a `runwise` the workspace installs itself (node_modules) still wins;
 * ES modules (`import` in a .mjs script) do not read NODE_PATH at all.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import * as path from 'node:path';
import { relativeInside, runwiseDir } from '../workspace/workspacePath';

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

/** Whether two paths name one folder (on Windows, whatever the case and a trailing separator). */
function samePath(a: string, b: string): boolean {
  const norm = (p: string) => {
    const r = path.resolve(p);
    return process.platform === 'win32' ? r.toLowerCase() : r;
  };
  return norm(a) === norm(b);
}

/**
 * The NODE_PATH for a stage's commands in `workspace`: the one the runner has, then `.runwise/node`
 * (a `runwise` reached through the user's own NODE_PATH wins); undefined when there is nothing to
 * add: no built client, a workspace inside Runwise's own folder (the package finds itself there),
 * or a `.runwise/node` that is a link or holds a `runwise` Runwise did not make (left alone).
 */
export function stageNodePath(workspace: string): string | undefined {
  const root = runwiseInstallRoot();
  if (!root) return undefined;
  const inherited = process.env.NODE_PATH;
  if (relativeInside(root, path.resolve(workspace)) !== undefined) return undefined;
  const folder = path.join(runwiseDir(workspace), 'node');
  const link = path.join(folder, 'runwise');
  try {
    const folderStat = lstatOrUndefined(folder);
    if (folderStat && !folderStat.isDirectory()) return undefined; // a link or a file: not followed
    const linkStat = lstatOrUndefined(link);
    if (linkStat && !linkStat.isSymbolicLink()) return undefined; // a folder or file someone put there
    if (!linkStat || !samePath(readlinkSync(link), root)) {
      mkdirSync(folder, { recursive: true });
      if (linkStat) unlinkSync(link);
      // A junction on Windows needs no privilege; elsewhere the type is ignored.
      symlinkSync(root, link, 'junction');
    }
  } catch {
    return undefined; // a read-only workspace: the stage runs as it would without
  }
  return inherited ? `${inherited}${path.delimiter}${folder}` : folder;
}

function lstatOrUndefined(p: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}
