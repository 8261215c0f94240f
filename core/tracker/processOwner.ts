/**
 * Who owns a RUNNING run: the process that created it, identified by pid, host and (on Linux) the
 * process start time, so a recycled pid is not mistaken for the original owner.
 */
import { readFileSync, readlinkSync } from 'node:fs';
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

export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: split after it.
    const afterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return afterName[19] ?? null; // field 22 overall = index 19 after the first two fields
  } catch {
    return null;
  }
}

export function currentProcess(): ProcessIdentity {
  return { pid: process.pid, host: hostname(), procStart: processStartTime(process.pid), pidNs: ownPidNs, bootId: ownBootId };
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
  if (owner.procStart == null) return true;
  const now = processStartTime(owner.pid);
  return now == null || now === owner.procStart;
}
