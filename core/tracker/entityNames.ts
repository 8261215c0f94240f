/**
 * MLflow's rule for the names of metrics, params and tags (run, experiment and logged-model tags):
 * `mlflow/utils/validation.py` accepts alphanumerics (Unicode letters and digits, as Python's `\w`),
 * underscores, periods, dashes, spaces, colons and slashes, and a name must equal its own
 * normalised path, since names become file names in some stores (`a//b`, `./a`, `a/`, `..`, `/abs`
 * are refused). The messages are MLflow's, so a client sees what MLflow's server would say.
 */
import { invalid } from './trackerError';

/** Python's `^[/\w.\- :]*$` on a str pattern: `\w` is a Unicode letter, digit or `_`. */
const VALID_NAME = /^[/\p{L}\p{N}_.\- :]*$/u;

const BAD_CHARACTERS_MESSAGE =
  'Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).';

/** Python's `posixpath.normpath`. */
export function posixNormpath(p: string): string {
  if (p === '') return '.';
  // POSIX keeps exactly two leading slashes; one or three and more become one.
  const initial = p.startsWith('/') ? (p.startsWith('//') && !p.startsWith('///') ? 2 : 1) : 0;
  const out: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c !== '..' || (initial === 0 && out.length === 0) || out[out.length - 1] === '..') out.push(c);
    else if (out.length > 0) out.pop();
  }
  const joined = '/'.repeat(initial) + out.join('/');
  return joined === '' ? '.' : joined;
}

/** MLflow's `path_not_unique`: the name would resolve to another name as a file path. */
function pathNotUnique(name: string): boolean {
  const norm = posixNormpath(name);
  return norm !== name || norm === '.' || norm.startsWith('..') || norm.startsWith('/');
}

export type EntityKind = 'metric' | 'parameter' | 'tag';

/**
 * Names already found valid (the rule is the same for every kind). Metric keys repeat on every
 * point of a batch: the check runs once per distinct name, not once per point.
 */
const accepted = new Set<string>();
const MAX_ACCEPTED = 10_000;

/** Throws INVALID_PARAMETER_VALUE, worded as MLflow's server words it, when `name` breaks the rule. */
export function checkEntityName(kind: EntityKind, name: string): void {
  if (accepted.has(name)) return;
  checkNewName(kind, name);
  if (accepted.size >= MAX_ACCEPTED) accepted.clear();
  accepted.add(name);
}

function checkNewName(kind: EntityKind, name: string): void {
  if (!VALID_NAME.test(name)) throw invalid(`Invalid ${kind} name: '${shownName(name)}'. ${BAD_CHARACTERS_MESSAGE}`);
  if (pathNotUnique(name)) {
    throw invalid(
      `Invalid ${kind} name: '${shownName(name)}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${shownName(posixNormpath(name))}'`,
    );
  }
}

/** A name as it goes into a message: control characters escaped, so a newline or NUL stays visible. */
function shownName(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
