/**
 * Which process of this machine is at the other end of a loopback connection to the endpoint, so a
 * run created (or set RUNNING) over REST is owned by the training script that sent the request,
 * not by the endpoint's process.
 *
 * On Linux: the connection's client address and port name a socket in /proc/net/tcp (or tcp6)
 * whose local end is the client's and whose remote end is the endpoint's; the process holding that
 * socket has the link `socket:[<inode>]` in /proc/<pid>/fd. Only processes of the socket's uid are
 * scanned, newest pid first, and the scan stops at the first holder. A client may name itself in
 * the CLIENT_PID_HEADER header (Runwise's own clients do): the claim is checked by looking in that
 * one process's fds, and is ignored when that process does not hold the socket, so a client cannot
 * make another process the owner of its run. Where there is no /proc/net/tcp (not Linux), a claim
 * is taken as it is.
 *
 * When the lookup finds nothing (the client runs as another user, in another pid namespace, or its
 * socket is gone), there is no owner to report and the run stays owned by the endpoint's process, as
 * a run created through the tracker directly is. The connection's lifetime is not used in its place:
 * HTTP clients pool, close and reopen connections (and the endpoint closes idle ones), so a closed
 * connection says nothing about whether the client lives.
 *
 * Lookups happen only for requests that set a run's owner (runs/create, runs/update to RUNNING),
 * never per metric, and each connection's answer is cached for as long as the connection lives.
 */
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { endianness } from 'node:os';
import { processIdentity, type ProcessIdentity } from '../tracker/processOwner';
import { CLIENT_PID_HEADER } from '../mlflow/restApi';

/** The socket of a connection's client end, from /proc/net/tcp{,6}. */
type SocketLookup = { kind: 'unsupported' } | { kind: 'missing' } | { kind: 'found'; inode: string; uid: number };

/** Per connection: the owner found for each claim made on it ('' for no claim). */
const cache = new WeakMap<Socket, Map<string, number | undefined>>();

/** The process that owns a request's run: its client, when that can be told; undefined otherwise. */
export function requestOwner(req: IncomingMessage): ProcessIdentity | undefined {
  const pid = peerProcess(req.socket, claimedPid(req));
  return pid === undefined ? undefined : processIdentity(pid);
}

/** The pid stated in CLIENT_PID_HEADER, if it is one. */
function claimedPid(req: IncomingMessage): number | undefined {
  const raw = req.headers[CLIENT_PID_HEADER.toLowerCase()];
  if (typeof raw !== 'string' || !/^[1-9]\d{0,9}$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
}

/**
 * The pid of the process holding the client end of `socket`, a connection accepted on loopback;
 * `claimed` is the pid the client states, used when it holds the socket. Cached per connection.
 */
export function peerProcess(socket: Socket, claimed?: number): number | undefined {
  let answers = cache.get(socket);
  if (answers === undefined) cache.set(socket, (answers = new Map()));
  const key = claimed === undefined ? '' : String(claimed);
  if (!answers.has(key)) answers.set(key, findPeer(socket, claimed));
  return answers.get(key);
}

function findPeer(socket: Socket, claimed: number | undefined): number | undefined {
  const { remoteAddress, remotePort, localAddress, localPort } = socket;
  if (remoteAddress === undefined || remotePort === undefined || localAddress === undefined || localPort === undefined) return undefined;
  const found = clientSocket({ address: remoteAddress, port: remotePort }, { address: localAddress, port: localPort });
  if (found.kind === 'unsupported') return claimed;
  if (found.kind === 'missing') return undefined;
  const link = `socket:[${found.inode}]`;
  if (claimed !== undefined && holds(claimed, link)) return claimed;
  return scanProcesses(found.uid, link);
}

interface Address {
  address: string;
  port: number;
}

/** The entry of /proc/net/tcp{,6} whose local end is `client` and whose remote end is `server`. */
function clientSocket(client: Address, server: Address): SocketLookup {
  const table = server.address.includes(':') ? '/proc/net/tcp6' : '/proc/net/tcp';
  let text: string;
  try {
    text = readFileSync(table, 'latin1');
  } catch {
    return { kind: 'unsupported' };
  }
  const clientAddress = canonicalAddress(client.address);
  const serverAddress = canonicalAddress(server.address);
  for (const line of text.split('\n').slice(1)) {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[9] === '0') continue;
    const local = procAddress(f[1]!);
    const remote = procAddress(f[2]!);
    if (local?.port !== client.port || remote?.port !== server.port) continue;
    if (local.address !== clientAddress || remote.address !== serverAddress) continue;
    return { kind: 'found', inode: f[9]!, uid: Number(f[7]) };
  }
  return { kind: 'missing' };
}

/** `0100007F:8651` (tcp) or 32 hex digits and a port (tcp6): each 32-bit word is in host byte order. */
function procAddress(field: string): Address | undefined {
  const [hex, port] = field.split(':');
  if (hex === undefined || port === undefined || (hex.length !== 8 && hex.length !== 32)) return undefined;
  const bytes = Buffer.from(hex, 'hex');
  if (endianness() === 'LE') for (let i = 0; i < bytes.length; i += 4) bytes.subarray(i, i + 4).reverse();
  const address =
    bytes.length === 4
      ? bytes.join('.')
      : Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16)).join(':');
  return { address: canonicalAddress(address), port: parseInt(port, 16) };
}

/** One spelling per address: IPv6 compressed by the URL parser (`::ffff:127.0.0.1` → `[::ffff:7f00:1]`). */
function canonicalAddress(address: string): string {
  if (!address.includes(':')) return address;
  try {
    return new URL(`http://[${address}]/`).hostname;
  } catch {
    return address;
  }
}

/** The first process of `uid` (newest pid first; this process before all) holding the socket `link`. */
function scanProcesses(uid: number, link: string): number | undefined {
  const me = process.getuid?.();
  // Another user's fds cannot be read, except by root.
  if (me !== undefined && me !== 0 && me !== uid) return undefined;
  if (holds(process.pid, link)) return process.pid;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const pids = entries.filter((e) => /^\d+$/.test(e)).map(Number).sort((a, b) => b - a);
  for (const pid of pids) {
    if (pid === process.pid) continue;
    try {
      if (statSync(`/proc/${pid}`).uid !== uid) continue;
    } catch {
      continue; // exited meanwhile
    }
    if (holds(pid, link)) return pid;
  }
  return undefined;
}

/** Whether process `pid` has the fd link `link` (`socket:[<inode>]`). */
function holds(pid: number, link: string): boolean {
  const dir = `/proc/${pid}/fd`;
  let fds: string[];
  try {
    fds = readdirSync(dir);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      if (readlinkSync(`${dir}/${fd}`) === link) return true;
    } catch {
      /* closed meanwhile */
    }
  }
  return false;
}
