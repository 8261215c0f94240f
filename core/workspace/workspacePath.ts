/**
 * Paths that come from outside (YAML, the REST API, the command line) stay inside the workspace.
 * A relative path is normalised to `/`-separated form; `..` segments that would leave the root,
 * absolute paths, backslashes and NUL bytes are refused with a message naming what was wrong.
 */
import { realpathSync } from 'node:fs';
import * as path from 'node:path';

export class PathOutsideWorkspaceError extends Error {
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`path '${input}' ${reason}`);
    this.name = 'PathOutsideWorkspaceError';
  }
}

/**
 * Normalises a relative, `/`-separated path: no empty or `.` segments, no `..`, not absolute.
 * Returns '' for the root itself when `allowRoot` is set.
 */
export function normalizeRelativePath(input: string, options: { allowRoot?: boolean } = {}): string {
  if (input.includes('\0')) throw new PathOutsideWorkspaceError(input, 'contains a NUL byte');
  if (input.includes('\\')) throw new PathOutsideWorkspaceError(input, "contains a backslash; use '/'");
  if (input.startsWith('/') || /^[A-Za-z]:/.test(input)) {
    throw new PathOutsideWorkspaceError(input, 'is absolute; a relative path is expected');
  }
  const parts: string[] = [];
  for (const seg of input.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') throw new PathOutsideWorkspaceError(input, "contains '..'; it must stay inside its root");
    parts.push(seg);
  }
  const out = parts.join('/');
  if (out === '' && !options.allowRoot) throw new PathOutsideWorkspaceError(input, 'is empty');
  return out;
}

/**
 * The `/`-separated path of `target` relative to `root` ('' for the root itself), or undefined when
 * `target` lies outside `root`. Both are taken as they are: resolve symbolic links first where
 * they matter.
 */
/**
 * A workspace root with its symbolic links resolved, for comparing real paths against it; the path
 * itself when it does not exist (yet): nothing on disk will be found below it then.
 */
export function realRootOf(root: string): string {
  try {
    return realpathSync(root);
  } catch {
    return root;
  }
}

export function relativeInside(root: string, target: string): string | undefined {
  const rel = path.relative(root, target);
  // `..weights.bin` is a name inside; only `..` itself or `../…` leaves the root.
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}

/**
 * Resolves `input` (relative to `base`, itself inside `root`) and checks that the result stays in
 * `root`. Absolute inputs are accepted only when they already lie inside `root`.
 */
export function resolveInside(root: string, input: string, base: string = root): string {
  if (input.includes('\0')) throw new PathOutsideWorkspaceError(input, 'contains a NUL byte');
  const rootAbs = path.resolve(root);
  const resolved = path.resolve(base, input);
  if (relativeInside(rootAbs, resolved) === undefined) {
    throw new PathOutsideWorkspaceError(input, `resolves outside the workspace (${rootAbs})`);
  }
  return resolved;
}

/**
 * resolveInside, and the file it names, when it exists, is inside `root` once symbolic links are
 * followed: for a file Runwise writes in place (a model card), which a link could otherwise send
 * outside the workspace.
 */
export function resolveRealInside(root: string, input: string, base: string = root): string {
  const resolved = resolveInside(root, input, base);
  let real: string;
  try {
    real = realpathSync(resolved);
  } catch {
    return resolved;
  }
  if (relativeInside(realRootOf(path.resolve(root)), real) === undefined) {
    throw new PathOutsideWorkspaceError(input, `is a link to ${real}, outside the workspace (${path.resolve(root)})`);
  }
  return resolved;
}

/** Whether the workspace-relative, `/`-separated `rel` is `dir` or lies under it ('' or '.' for the root holds everything). */
export function isAtOrUnder(rel: string, dir: string): boolean {
  return dir === '' || dir === '.' || rel === dir || rel.startsWith(`${dir}/`);
}

/** Where Runwise keeps its state inside a workspace. */
export function runwiseDir(workspace: string): string {
  return path.join(path.resolve(workspace), '.runwise');
}

export function trackerDbPath(workspace: string): string {
  return path.join(runwiseDir(workspace), 'tracker.db');
}

export function artifactsDir(workspace: string): string {
  return path.join(runwiseDir(workspace), 'artifacts');
}
