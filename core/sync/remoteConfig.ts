/**
 * The remotes of a workspace: named MLflow Tracking Servers that `runwise push` and `runwise pull`
 * talk to, kept in `.runwise/config` as JSON:
 *
 *   { "remotes": { "team": { "uri": "https://mlflow.example.com", "auth": { "tokenEnv": "TEAM_MLFLOW_TOKEN" } } } }
 *
 * A remote records only the names of the environment variables that hold its credentials, never the
 * credentials themselves; the file is rewritten whole through a temporary file and a rename.
 */
import { runwiseFile } from '../tracker/trackerFiles';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../workspace/atomicWrite';
import { runwiseDir } from '../workspace/workspacePath';
import { SyncError } from './syncError';

/** How a remote authenticates: a bearer token, HTTP basic auth, or nothing. */
export type RemoteAuth = { tokenEnv: string } | { userEnv: string; passwordEnv: string } | Record<string, never>;

export interface Remote {
  name: string;
  /** http(s) URL of the tracking server, without a trailing slash. */
  uri: string;
  auth: RemoteAuth;
}

interface ConfigFile {
  remotes: Record<string, { uri: string; auth?: RemoteAuth }>;
  [other: string]: unknown;
}

const REMOTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function configPath(workspace: string): string {
  return path.join(runwiseDir(workspace), 'config');
}

function readConfig(workspace: string): ConfigFile {
  const file = configPath(workspace);
  if (!existsSync(file)) return { remotes: {} };
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new SyncError(`${file} is not valid JSON (${(e as Error).message}); fix or remove it`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new SyncError(`${file}: expected a JSON object with a "remotes" object`);
  const config = data as ConfigFile;
  const remotes = config.remotes ?? {};
  if (!remotes || typeof remotes !== 'object' || Array.isArray(remotes)) throw new SyncError(`${file}: "remotes" must be an object of name → { "uri": … }`);
  for (const [name, r] of Object.entries(remotes)) {
    if (!r || typeof r !== 'object' || typeof r.uri !== 'string') throw new SyncError(`${file}: remote '${name}' needs a "uri" string`);
  }
  return { ...config, remotes };
}

/** A remote's URI as stored: an http(s) URL without credentials, query or trailing slash. */
export function checkRemoteUri(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new SyncError(`'${uri}' is not a URL: a remote is the http(s) URL of an MLflow Tracking Server, e.g. https://mlflow.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SyncError(`'${uri}' is a ${url.protocol.replace(/:$/, '')} URI: a remote must be an http(s) URL of an MLflow Tracking Server`);
  }
  if (url.username || url.password) {
    throw new SyncError(`'${url.protocol}//…@${url.host}' carries credentials in the URL: give the name of an environment variable instead (--token-env or --basic-auth-env)`);
  }
  if (url.search || url.hash) throw new SyncError(`'${uri}': a remote's URL takes no query or fragment`);
  return url.href.replace(/\/+$/, '');
}

function checkEnvName(name: string, option: string): string {
  if (!ENV_NAME.test(name)) throw new SyncError(`${option} takes the NAME of an environment variable (letters, digits, _), not '${name.length > 40 ? `${name.slice(0, 40)}…` : name}'`);
  return name;
}

export function listRemotes(workspace: string): Remote[] {
  return Object.entries(readConfig(workspace).remotes)
    .map(([name, r]) => ({ name, uri: r.uri, auth: r.auth ?? {} }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function getRemote(workspace: string, name: string): Remote {
  const remote = listRemotes(workspace).find((r) => r.name === name);
  if (!remote) {
    const names = listRemotes(workspace).map((r) => r.name);
    throw new SyncError(`no remote named '${name}' (${names.length ? `remotes: ${names.join(', ')}` : "none yet: add one with 'runwise remote add NAME URI'"})`);
  }
  return remote;
}

export function addRemote(workspace: string, name: string, uri: string, auth: RemoteAuth = {}): Remote {
  if (!REMOTE_NAME.test(name)) throw new SyncError(`'${name}' is not a remote name: letters, digits, '.', '_' and '-', at most 64, starting with a letter or digit`);
  const remote: Remote = { name, uri: checkRemoteUri(uri), auth };
  if ('tokenEnv' in auth) checkEnvName(auth.tokenEnv, '--token-env');
  if ('userEnv' in auth) {
    checkEnvName(auth.userEnv, '--basic-auth-env');
    checkEnvName(auth.passwordEnv, '--basic-auth-env');
  }
  const config = readConfig(workspace);
  if (config.remotes[name]) throw new SyncError(`a remote named '${name}' exists (${config.remotes[name].uri}); remove it first to change it`);
  config.remotes[name] = { uri: remote.uri, auth };
  writeConfig(workspace, config);
  return remote;
}

export function removeRemote(workspace: string, name: string): void {
  const config = readConfig(workspace);
  if (!config.remotes[name]) getRemote(workspace, name); // throws, naming the remotes there are
  delete config.remotes[name];
  writeConfig(workspace, config);
}

function writeConfig(workspace: string, config: ConfigFile): void {
  // .runwise/ a real folder, the config no link: writeFileAtomic would write through one.
  writeFileAtomic(runwiseFile(workspace, 'config'), `${JSON.stringify(config, null, 2)}\n`);
}

/**
 * The server MLflow's own variables name, as a remote: `MLFLOW_TRACKING_URI` (http(s)), with
 * `MLFLOW_TRACKING_TOKEN` as a bearer token, else `MLFLOW_TRACKING_USERNAME` and
 * `MLFLOW_TRACKING_PASSWORD` for basic auth, as the mlflow client reads them. Named after its host
 * (`mlflow.example.com-5000`), which is what `runwise.pushed.<name>` records.
 */
export function remoteFromEnvironment(env: NodeJS.ProcessEnv = process.env): Remote {
  const raw = env.MLFLOW_TRACKING_URI;
  if (!raw) throw new SyncError('MLFLOW_TRACKING_URI is not set: it names the MLflow Tracking Server to push to');
  const uri = checkRemoteUri(raw);
  const name = new URL(uri).host.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
  const auth: RemoteAuth = env.MLFLOW_TRACKING_TOKEN
    ? { tokenEnv: 'MLFLOW_TRACKING_TOKEN' }
    : env.MLFLOW_TRACKING_USERNAME || env.MLFLOW_TRACKING_PASSWORD
      ? { userEnv: 'MLFLOW_TRACKING_USERNAME', passwordEnv: 'MLFLOW_TRACKING_PASSWORD' }
      : {};
  return { name, uri, auth };
}

/** The Authorization header a remote's credentials make, read from the environment now. */
export function authorizationHeader(remote: Remote, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const auth = remote.auth;
  if ('tokenEnv' in auth) {
    const token = env[auth.tokenEnv];
    if (!token) throw new SyncError(`remote '${remote.name}' takes its token from $${auth.tokenEnv}, which is not set`);
    return `Bearer ${token}`;
  }
  if ('userEnv' in auth) {
    const user = env[auth.userEnv];
    const password = env[auth.passwordEnv];
    const missing = [[auth.userEnv, user], [auth.passwordEnv, password]].filter(([, v]) => !v).map(([n]) => `$${n}`);
    if (missing.length) throw new SyncError(`remote '${remote.name}' takes its basic-auth credentials from ${missing.join(' and ')}, which ${missing.length > 1 ? 'are' : 'is'} not set`);
    return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  return undefined;
}

/** Where a remote's credentials come from, for error messages. */
export function describeAuth(remote: Remote): string {
  const auth = remote.auth;
  if ('tokenEnv' in auth) return `the token in $${auth.tokenEnv}`;
  if ('userEnv' in auth) return `the user and password in $${auth.userEnv} and $${auth.passwordEnv}`;
  return "no credentials (add the remote again with --token-env VAR or --basic-auth-env USER_VAR PASS_VAR)";
}
