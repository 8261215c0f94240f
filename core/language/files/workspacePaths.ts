/**
 * Paths as pipelines write them (relative to a stage's `wdir`, `/`-separated, maybe `./x` or
 * `../x`) resolved to workspace-relative paths, with what is wrong when they cannot be.
 */

export type ResolvedPath =
  | { kind: 'inside'; path: string }
  /** `..` past the workspace root, or an absolute path. */
  | { kind: 'outside'; reason: string }
  /** A URL or remote reference (`s3://`, `https://`, `ds://`, `remote://`): not a workspace file. */
  | { kind: 'external'; scheme: string };

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;

/**
 * A path that needs no normalising: no `.`/`..` segments, no doubled, leading or trailing `/`, no
 * `\\`, no `:` (scheme or drive), not `~`. (The common case, checked without allocating.)
 */
function isPlainPath(p: string): boolean {
  const n = p.length;
  if (n === 0) return false;
  const c0 = p.charCodeAt(0);
  if (c0 === 47 || c0 === 46 || c0 === 126) return false;
  for (let i = 0; i < n; i++) {
    const c = p.charCodeAt(i);
    if (c === 92 || c === 58) return false;
    if (c === 47) {
      const next = p.charCodeAt(i + 1);
      if (i === n - 1 || next === 47 || next === 46) return false;
    }
  }
  return true;
}

/** `input` relative to `baseDir` (a normalised workspace-relative directory, '' for the root). */
export function resolveWorkspacePath(baseDir: string, input: string): ResolvedPath {
  if (isPlainPath(input)) return { kind: 'inside', path: baseDir ? `${baseDir}/${input}` : input };
  const m = SCHEME.exec(input);
  if (m) return { kind: 'external', scheme: m[1]!.toLowerCase() };
  if (input.startsWith('/') || input.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(input) || input.startsWith('~')) {
    return { kind: 'outside', reason: 'is absolute; paths in a pipeline are relative to its directory' };
  }
  const parts = baseDir ? baseDir.split('/').filter((s) => s !== '' && s !== '.') : [];
  for (const seg of input.replace(/\\/g, '/').split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) return { kind: 'outside', reason: 'leaves the workspace' };
      parts.pop();
    } else parts.push(seg);
  }
  return { kind: 'inside', path: parts.join('/') };
}

export function joinPath(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

/** `a/b/c` → `a/b`, `a` → ''. */
export function parentDir(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** Path of `target` relative to directory `fromDir`, both workspace-relative. */
export function relativePath(fromDir: string, target: string): string {
  const a = fromDir ? fromDir.split('/') : [];
  const b = target ? target.split('/') : [];
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const up = a.slice(i).map(() => '..');
  const rest = b.slice(i);
  const out = [...up, ...rest].join('/');
  return out === '' ? '.' : out;
}

/** Strict ancestors of a workspace path, nearest first (`a/b/c` → `a/b`, `a`). */
export function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) out.push(path.slice(0, i));
  return out;
}
