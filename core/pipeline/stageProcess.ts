/**
 * Runs one stage's commands as child processes: each command through `/bin/sh -c` (as DVC runs
 * `cmd`, with stdin from /dev/null), in order, stopping at the first that fails, in the stage's
 * working directory. Each command is the leader of its own process group (spawned detached), so
 * cancelling reaches everything it started: SIGTERM to the group, then SIGKILL after a grace
 * period. When a command's shell exits, whatever it left running in its group (a forgotten `&`) is
 * stopped the same way, so no child outlives its stage. Nor its runner: when the runner's process
 * exits, or is ended by SIGTERM, SIGINT or SIGHUP that nothing else in it handles, every running
 * group gets SIGTERM on the way out (stopRunningGroups below); what ignores that, or a runner killed
 * outright, is the next runner's to stop (stageGroupRecords.ts).
 *
 * Output (stdout and stderr together, in arrival order) goes, as raw bytes, to an optional log file
 * and, line by line, to a callback for live progress; only the last lines are kept in memory.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';

export const DEFAULT_KILL_GRACE_MS = 5_000;

/**
 * What an abort may give as its reason (`controller.abort({ killGraceMs: 2_000 })`) to shorten the
 * grace between SIGTERM and SIGKILL for that stop: an editor that is closing has a few seconds, not
 * the default five, and a stage that ignores SIGTERM must still be gone before it exits.
 */
export interface StopReason {
  killGraceMs: number;
}

/** The grace for a stop through `signal`: the reason's when it gives a shorter one, else `grace`. */
export function stopGrace(signal: AbortSignal | undefined, grace: number): number {
  const reason: unknown = signal?.reason;
  if (typeof reason === 'object' && reason !== null && typeof (reason as Partial<StopReason>).killGraceMs === 'number') {
    const asked = (reason as StopReason).killGraceMs;
    if (Number.isFinite(asked) && asked >= 0) return Math.min(asked, grace);
  }
  return grace;
}

/**
 * How a command is started: its shell waits for one line on stdin, which the runner sends once it
 * has reported (recorded) the new process group, then replaces itself (same pid, same group) with
 * `/bin/sh -c <command>` reading /dev/null. So no command runs before its group is recorded, and a
 * runner killed in between leaves a shell that reads end-of-file and exits without running it.
 */
const GATED_COMMAND = 'read -r _ && exec /bin/sh -c "$1" </dev/null';
/** Lines of output kept in memory (StageProcessResult.tail). */
export const TAIL_LINES = 50;
/** A line longer than this is passed on in pieces of this size, so memory stays bounded. */
export const MAX_LINE_CHARS = 16 * 1024;

export type OutputStream = 'stdout' | 'stderr';

export interface StageProcessOptions {
  /** Shell commands run in order; the first non-zero exit stops the rest. */
  commands: readonly string[];
  /** Absolute working directory. */
  cwd: string;
  /** Added to (and overriding) this process's environment. */
  env?: Readonly<Record<string, string>>;
  /** Aborting stops the running command's whole process group. */
  signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL; default DEFAULT_KILL_GRACE_MS. */
  killGraceMs?: number;
  /** Each line of output as it arrives (without its line break; a `\r`-redrawn line gives its last state). */
  onLine?: (line: string, stream: OutputStream) => void;
  /** Absolute path of a log file that receives the raw output (appended; folders created). */
  logFile?: string;
  /**
   * Each command's process group: `started` right after it is spawned, `ended` once no member of
   * it is left (the runner records running groups, so a runner that is killed leaves a trace).
   */
  onProcessGroup?: (pgid: number, state: 'started' | 'ended') => void;
}

export interface StageProcessResult {
  /** The exit code of the last command run, or null when a signal ended it. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The run was cancelled through `signal`. */
  cancelled: boolean;
  /** Index of the command that failed (or was running when cancelled); undefined on success. */
  failedCommand?: number;
  durationMs: number;
  /** The last TAIL_LINES lines of output. */
  tail: string[];
  /** The command could not be started at all (e.g. the working directory is missing). */
  spawnError?: string;
}

/** Runs `options.commands`; never throws for a failing command, only reports it. */
export async function runStageProcess(options: StageProcessOptions): Promise<StageProcessResult> {
  const started = performance.now();
  const tail: string[] = [];
  const log = options.logFile ? openLog(options.logFile) : undefined;
  const lines = new LineSplitter((line, stream) => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    options.onLine?.(line, stream);
  });
  const result = (r: Omit<StageProcessResult, 'durationMs' | 'tail'>): StageProcessResult => ({ ...r, durationMs: performance.now() - started, tail });
  try {
    for (let i = 0; i < options.commands.length; i++) {
      if (options.signal?.aborted) return result({ exitCode: null, signal: null, cancelled: true, failedCommand: i });
      const one = await runCommand(options.commands[i]!, options, lines, log);
      if (one.spawnError) {
        lines.write(`runwise: could not start '${options.commands[i]}': ${one.spawnError}\n`, 'stderr');
        log?.write(`runwise: could not start '${options.commands[i]}': ${one.spawnError}\n`);
      }
      if (one.cancelled || one.exitCode !== 0 || one.spawnError) {
        return result({ ...one, failedCommand: i });
      }
    }
    return result({ exitCode: 0, signal: null, cancelled: false });
  } finally {
    lines.flush();
    if (log) await new Promise<void>((resolve) => log.end(resolve));
  }
}

function openLog(file: string): WriteStream {
  mkdirSync(path.dirname(file), { recursive: true });
  const stream = createWriteStream(file, { flags: 'a' });
  // A log that cannot be written (disk full) must not bring the runner down; the stage still runs.
  stream.on('error', () => undefined);
  return stream;
}

interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  cancelled: boolean;
  spawnError?: string;
}

function runCommand(command: string, options: StageProcessOptions, lines: LineSplitter, log: WriteStream | undefined): Promise<CommandResult> {
  const grace = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  return new Promise<CommandResult>((resolve) => {
    const child = spawn('/bin/sh', ['-c', GATED_COMMAND, '/bin/sh', command], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let cancelled = false;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let settled = false;

    const pgid = child.pid;
    if (pgid !== undefined) {
      addRunningGroup(pgid);
      options.onProcessGroup?.(pgid, 'started');
    }
    // Open the gate: the command runs now that its group is known (and recorded).
    child.stdin.on('error', () => undefined);
    child.stdin.end('\n');
    const groupAlive = () => pgid !== undefined && processGroupAlive(pgid);
    const signalGroup = (sig: NodeJS.Signals) => {
      if (pgid === undefined) return;
      try {
        process.kill(-pgid, sig);
      } catch {
        /* the group is gone already */
      }
    };
    /** SIGTERM the group now, SIGKILL whatever is left after the grace period (shorter when the abort's reason asks). */
    const stopGroup = () => {
      if (killTimer || !groupAlive()) return;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), stopGrace(options.signal, grace));
    };
    const onAbort = () => {
      cancelled = true;
      stopGroup();
    };

    const finish = (r: CommandResult) => {
      if (settled) return;
      settled = true;
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      if (pgid !== undefined) {
        removeRunningGroup(pgid);
        options.onProcessGroup?.(pgid, 'ended');
      }
      resolve(r);
    };

    child.stdout.on('data', (chunk: Buffer) => {
      log?.write(chunk);
      lines.write(chunk, 'stdout');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      log?.write(chunk);
      lines.write(chunk, 'stderr');
    });
    child.on('error', (e) => finish({ exitCode: null, signal: null, cancelled, spawnError: e.message }));
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      // Anything the command left running in its group goes with it (it also holds the pipes open).
      if (groupAlive()) stopGroup();
    });
    child.on('close', () => {
      // 'close' comes after 'exit' once every holder of the pipes is gone: the group is done.
      const e = exited ?? { code: null, signal: null };
      const stillAlive = groupAlive();
      if (!stillAlive) return finish({ exitCode: e.code, signal: e.signal, cancelled });
      // A member closed its pipes but lives on: wait until the group is empty (SIGKILL is coming).
      stopGroup();
      const poll = setInterval(() => {
        if (!groupAlive()) {
          clearInterval(poll);
          finish({ exitCode: e.code, signal: e.signal, cancelled });
        }
      }, 20);
    });
    if (options.signal) {
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}

/** Signals that end a runner whose process has no handler of its own for them. */
const RUNNER_END_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/** The groups of the commands running in this process (spawned, not yet empty). */
const runningGroups = new Set<number>();

/**
 * SIGTERM, synchronously, to every command's group still running in this process when the process
 * ends. Listening only while a group runs: on 'exit' (process.exit(), the end after a crash); and on
 * SIGTERM/SIGINT/SIGHUP only while nothing else listens for the signal, since a handler of the
 * program's own (the CLI's Ctrl-C: cancel, wait for the stages, exit 130) decides what the signal
 * does, and one added later takes the signal over. Having stopped the groups, the signal listener
 * removes itself and raises the signal again, so the process dies by it as it would have. SIGKILL
 * for what ignores SIGTERM is left to the next runner, which finds the groups still recorded
 * (stageGroupRecords.ts): an exiting process cannot wait out a grace period.
 */
function stopRunningGroups(): void {
  for (const pgid of runningGroups) {
    try {
      process.kill(-pgid, 'SIGTERM');
    } catch {
      /* the group is gone already */
    }
  }
}

function onRunnerEndSignal(signal: NodeJS.Signals): void {
  stopRunningGroups();
  unwatchRunnerEnd();
  process.kill(process.pid, signal);
}

function onNewProcessListener(event: string | symbol, listener: unknown): void {
  if (listener !== onRunnerEndSignal && (RUNNER_END_SIGNALS as readonly (string | symbol)[]).includes(event)) {
    process.removeListener(event as NodeJS.Signals, onRunnerEndSignal);
  }
}

function watchRunnerEnd(): void {
  process.on('exit', stopRunningGroups);
  for (const s of RUNNER_END_SIGNALS) if (process.listenerCount(s) === 0) process.on(s, onRunnerEndSignal);
  process.on('newListener', onNewProcessListener);
}

function unwatchRunnerEnd(): void {
  process.removeListener('exit', stopRunningGroups);
  for (const s of RUNNER_END_SIGNALS) process.removeListener(s, onRunnerEndSignal);
  process.removeListener('newListener', onNewProcessListener);
}

function addRunningGroup(pgid: number): void {
  if (runningGroups.size === 0) watchRunnerEnd();
  runningGroups.add(pgid);
}

function removeRunningGroup(pgid: number): void {
  if (runningGroups.delete(pgid) && runningGroups.size === 0) unwatchRunnerEnd();
}

/**
 * Whether a process group has a member that still runs. A zombie (exited, waiting for whoever
 * adopted it to reap it, which some init processes do slowly) answers kill(-pgid, 0) but counts as
 * gone; on Linux /proc tells them apart.
 */
export function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  const members = processGroupMembers(pgid);
  return members === undefined || members.length > 0;
}

export interface ProcessGroupMember {
  pid: number;
  /** Kernel start time (`/proc/<pid>/stat` field 22, clock ticks since boot). */
  startTime: number;
}

/** The running (not zombie) processes of a group, from /proc; undefined where /proc cannot be read. */
export function processGroupMembers(pgid: number): ProcessGroupMember[] | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return undefined;
  }
  const members: ProcessGroupMember[] = [];
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    // After the command name (in parentheses, may hold spaces): state, ppid, pgrp, ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push({ pid: Number(pid), startTime: Number(fields[19]) });
  }
  return members;
}

/** Splits a byte stream into lines per stream, decoding UTF-8 across chunk boundaries. */
class LineSplitter {
  private readonly partial: Record<OutputStream, string> = { stdout: '', stderr: '' };
  private readonly decoders: Record<OutputStream, StringDecoder> = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };

  constructor(private readonly emit: (line: string, stream: OutputStream) => void) {}

  write(chunk: Buffer | string, stream: OutputStream): void {
    let text = this.partial[stream] + (typeof chunk === 'string' ? chunk : this.decoders[stream].write(chunk));
    let nl: number;
    while ((nl = text.indexOf('\n')) !== -1) {
      this.emitLine(text.slice(0, nl), stream);
      text = text.slice(nl + 1);
    }
    while (text.length > MAX_LINE_CHARS) {
      this.emitLine(text.slice(0, MAX_LINE_CHARS), stream);
      text = text.slice(MAX_LINE_CHARS);
    }
    this.partial[stream] = text;
  }

  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.partial[stream] + this.decoders[stream].end();
      this.partial[stream] = '';
      if (rest !== '') this.emitLine(rest, stream);
    }
  }

  private emitLine(raw: string, stream: OutputStream): void {
    // A progress bar redraws its line with `\r`: what a terminal would show is the last state.
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const cr = line.lastIndexOf('\r');
    this.emit(cr === -1 ? line : line.slice(cr + 1), stream);
  }
}
