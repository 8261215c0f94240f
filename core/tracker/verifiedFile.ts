/**
 * A stored file of the registry (a version's file, its card) opened once, without following a
 * link, and hashed from that descriptor: what is then served, copied or read is the very bytes that
 * were hashed, whatever is done to the path meanwhile (a blob swapped for another file or a link
 * between the check and the read would otherwise get through unchecked).
 */
import { closeSync, createReadStream, openSync, read, readSync, unlinkSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { READ_NO_FOLLOW } from './artifactStore';
import { TrackerError } from './trackerError';

const CHUNK = 1024 * 1024;

/** The file's bytes changed between their check and their copy (written in place meanwhile). */
export class ChangedWhileReadError extends TrackerError {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super('INVALID_STATE', `A stored file of the registry changed while it was read (sha256 ${expected} when checked, ${actual} as copied): nothing was copied.`);
    this.name = 'ChangedWhileReadError';
  }
}

export interface VerifiedFile {
  /** The descriptor's sha256, as read. */
  sha256: string;
  size: number;
  /** The bytes from the start, from the same descriptor; closes it when done. Once. */
  stream(): Readable;
  /** Writes the bytes to a new file `dest` (refused when it exists), then closes the descriptor. */
  copyTo(dest: string, mode?: number): void;
  /** The bytes as text (a card), then closes the descriptor. */
  text(): string;
  close(): void;
}

/** Every byte of `fd` from the start, a chunk at a time (the chunk's buffer is reused); returns the size. */
function readAllSync(fd: number, each: (chunk: Buffer) => void): number {
  const buf = Buffer.allocUnsafe(CHUNK);
  let at = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, at);
    if (n === 0) return at;
    each(buf.subarray(0, n));
    at += n;
  }
}

function handle(fd: number, sha256: string, size: number): VerifiedFile {
  let open = true;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    sha256,
    size,
    stream() {
      open = false;
      return createReadStream('', { fd, start: 0, autoClose: true });
    },
    copyTo(dest, mode = 0o644) {
      try {
        // Hashed again as copied: the file changed in place since its check leaves no copy behind.
        const copied = createHash('sha256');
        const out = openSync(dest, 'wx', mode);
        try {
          readAllSync(fd, (chunk) => {
            copied.update(chunk);
            for (let off = 0; off < chunk.length; ) off += writeSync(out, chunk, off);
          });
        } finally {
          closeSync(out);
        }
        const now = copied.digest('hex');
        if (now !== sha256) {
          unlinkSync(dest);
          throw new ChangedWhileReadError(sha256, now);
        }
      } finally {
        close();
      }
    },
    text() {
      try {
        const parts: Buffer[] = [];
        readAllSync(fd, (chunk) => parts.push(Buffer.from(chunk)));
        return Buffer.concat(parts).toString('utf8');
      } finally {
        close();
      }
    },
    close,
  };
}

/** Opens `filePath` (no link followed) and hashes it from the descriptor. Throws what open or read throws. */
export function openVerifiedSync(filePath: string): VerifiedFile {
  const fd = openSync(filePath, READ_NO_FOLLOW);
  try {
    const hash = createHash('sha256');
    const size = readAllSync(fd, (chunk) => hash.update(chunk));
    return handle(fd, hash.digest('hex'), size);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** openVerifiedSync, hashed a chunk at a time without blocking (other work runs between chunks). */
export async function openVerified(filePath: string): Promise<VerifiedFile> {
  // A plain descriptor (a FileHandle would be closed when collected, under the stream still reading it).
  const fd = openSync(filePath, READ_NO_FOLLOW);
  try {
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK);
    let size = 0;
    for (;;) {
      const bytesRead = await new Promise<number>((resolve, reject) => read(fd, buf, 0, buf.length, size, (e, n) => (e ? reject(e) : resolve(n))));
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
    return handle(fd, hash.digest('hex'), size);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}
