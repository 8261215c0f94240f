/**
 * Who owns a RUNNING run: the process that created it or last set it RUNNING (the tracker's own
 * process, or a tracking client found by the endpoint), identified by pid, host and (on Linux) the
 * process start time, so a recycled pid is not mistaken for the original owner.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

export interface ProcessIdentity {
  pid: number;
  host: string;
  /** Kernel start time of the process (Linux `/proc/<pid>/stat` field 22), when known. */
  procStart: string | null;
  /** The pid namespace (`/proc/self/ns/pid`, e.g. `pid:[4026531836]`): pids mean something only inside it. */
  pidNs: string | null;
  /** This boot of the kernel (`/proc/sys/kernel/random/boot_id`): no process outlives a reboot. */
  bootId: string | null;
}

function readOrNull(read: () => string): string | null {
  try {
    return read().trim() || null;
  } catch {
    return null;
  }
}

const ownPidNs = readOrNull(() => readlinkSync('/proc/self/ns/pid'));
const ownBootId = readOrNull(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'));

/** The fields of `/proc/<pid>/stat` after the first two (field 3, the state, is index 0), or null. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: split after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

function threadCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return 0;
  }
}

export function processStartTime(pid: number): string | null {
  return statFields(pid)?.[19] ?? null; // field 22 overall = index 19 after the first two fields
}

export function currentProcess(): ProcessIdentity {
  return processIdentity(process.pid);
}

/**
 * Another process of this machine, as seen from here: `pid` is a pid of this process's pid
 * namespace (a process in a child namespace, a container's, is visible here under such a pid too),
 * so the namespace recorded is this one, where the pid can be checked later.
 */
export function processIdentity(pid: number): ProcessIdentity {
  return { pid, host: hostname(), procStart: processStartTime(pid), pidNs: ownPidNs, bootId: ownBootId };
}

/** Whether two identities name the same process. */
export function sameProcess(a: ProcessIdentity, b: ProcessIdentity): boolean {
  return a.pid === b.pid && a.host === b.host && a.procStart === b.procStart && a.pidNs === b.pidNs && a.bootId === b.bootId;
}

/**
 * Whether the owner is still alive. An owner on another host, or in another pid namespace (a
 * container sharing the host name), cannot be checked and counts as alive: the tracker never fails
 * a run it cannot prove dead. An owner from an earlier boot of this machine is dead.
 */
export function isAlive(owner: ProcessIdentity): boolean {
  if (owner.host !== hostname()) return true;
  if (owner.bootId && ownBootId && owner.bootId !== ownBootId) return false;
  if (owner.pidNs !== ownPidNs) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPERM') return true;
    return false;
  }
  const stat = statFields(owner.pid);
  // A zombie (exited, not yet reaped by its parent) still answers kill(pid, 0), but it is gone;
  // unless only its main thread exited and other threads run on.
  if (stat?.[0] === 'Z' && threadCount(owner.pid) <= 1) return false;
  if (owner.procStart == null) return true;
  const now = stat?.[19];
  return now == null || now === owner.procStart;
}
