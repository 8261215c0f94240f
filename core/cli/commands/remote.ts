/** `runwise remote add|list|remove`: the MLflow Tracking Servers this workspace pushes to and pulls from. */
import { optionValue, positionals, UsageError, type OptionSpecs, type ParsedArgs } from '../args';
import { CliError, type CommandContext } from '../context';
import { oneLine } from '../table';
import { addRemote, configPath, describeAuth, listRemotes, removeRemote, type RemoteAuth } from '../../sync/remoteConfig';
import { SyncError } from '../../sync/syncError';
import { RemoteRequestError } from '../../sync/remoteClient';
import type { PushEvent } from '../../sync/pushRuns';
import type { PullEvent } from '../../sync/pullRuns';
import { progressPrinter } from '../../sync/syncProgress';
import { terminalSafe } from '../terminalText';

export const remoteAddOptions: OptionSpecs = { 'token-env': { value: true }, 'basic-auth-env': { value: true } };

/** A SyncError is the user's to fix: one line, exit 1. */
export function asCliError(e: unknown): unknown {
  // What a remote said, in one line: a line break in its answer cannot add lines of its own.
  if (e instanceof SyncError) return Object.assign(new CliError(oneLine(e.message)), e.cancelled ? { exitCode: 130 } : {});
  // The remote refused a request (a filter it cannot parse): its answer, in one line.
  if (e instanceof RemoteRequestError) return new CliError(oneLine(e.message));
  return e;
}

/**
 * Runs a push or pull with its progress on stderr; Ctrl-C cancels it (what was sent stays, the
 * next run continues from there) and the command exits 130.
 */
export async function withProgressAndInterrupt<T>(work: (signal: AbortSignal, onEvent: (e: PushEvent | PullEvent) => void) => Promise<T>): Promise<T> {
  const print = progressPrinter(process.stderr, terminalSafe);
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    return await work(controller.signal, (e) => print.event(e));
  } catch (e) {
    throw asCliError(e);
  } finally {
    print.done();
    process.removeListener('SIGINT', onSigint);
  }
}

export function remoteAdd(ctx: CommandContext, args: ParsedArgs): void {
  const tokenEnv = optionValue(args, 'token-env');
  const userEnv = optionValue(args, 'basic-auth-env');
  if (tokenEnv !== undefined && userEnv !== undefined) throw new UsageError('give --token-env or --basic-auth-env, not both');
  // --basic-auth-env takes two names: USER_VAR as its value, PASS_VAR as the next word.
  const [name, uri, passwordEnv] = userEnv !== undefined ? positionals(args, ['name', 'uri', 'pass_var']) : positionals(args, ['name', 'uri']);
  const auth: RemoteAuth = tokenEnv !== undefined ? { tokenEnv } : userEnv !== undefined ? { userEnv, passwordEnv: passwordEnv! } : {};
  try {
    const remote = addRemote(ctx.workspace, name!, uri!, auth);
    if (ctx.json) ctx.printJson({ name: remote.name, uri: remote.uri, auth: remote.auth });
    else ctx.io.out(`remote '${remote.name}' → ${remote.uri} (${describeAuth(remote)}), kept in ${configPath(ctx.workspace)}\n`);
  } catch (e) {
    throw asCliError(e);
  }
}

export function remoteList(ctx: CommandContext, args: ParsedArgs): void {
  positionals(args, []);
  let remotes;
  try {
    remotes = listRemotes(ctx.workspace);
  } catch (e) {
    throw asCliError(e);
  }
  if (ctx.json) {
    ctx.printJson(remotes);
    return;
  }
  if (remotes.length === 0) {
    ctx.io.out("no remotes; add one with 'runwise remote add NAME URI [--token-env VAR]'\n");
    return;
  }
  // One line each: a config shipped with a repository cannot add lines of its own.
  for (const r of remotes) ctx.io.out(`${oneLine(r.name)}\t${oneLine(r.uri)}\t${oneLine(describeAuth(r))}\n`);
}

export function remoteRemove(ctx: CommandContext, args: ParsedArgs): void {
  const [name] = positionals(args, ['name']);
  try {
    removeRemote(ctx.workspace, name!);
  } catch (e) {
    throw asCliError(e);
  }
  if (!ctx.json) ctx.io.out(`removed remote '${name}'\n`);
}
