/**
 * Content-addressed file storage under `.runwise/artifacts/`: each file is kept once, named by its
 * sha256 (`sha256/ab/abcdef…`), whatever run or path refers to it. Writes go to a temporary file
 * first and are renamed into place, so a crash never leaves a half-written blob under a hash.
 *
 * No symbolic link is followed: the folders are checked (and created) one level at a time with
 * lstat, a temporary file is created exclusively, and a blob is read with O_NOFOLLOW, so a
 * repository that links a blob to a secret or a shard folder outside neither serves nor receives
 * anything through the link.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, constants, createReadStream, createWriteStream, openSync, renameSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkNotLink, ensureRealDirectory } from './trackerFiles';

export interface StoredBlob {
  sha256: string;
  size: number;
}

/** A stored blob, ready to be read. */
export interface OpenedBlob {
  filePath: string;
  /** The blob's bytes; the file is opened without following a link. */
  stream(): Readable;
}

export class BlobTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`artifact is larger than the limit of ${limit} bytes`);
    this.name = 'BlobTooLargeError';
  }
}

/** Open flags that refuse a symbolic link as the last component (0 where the platform has none). */
export const READ_NO_FOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

export class ArtifactStore {
  constructor(readonly root: string) {}

  blobPath(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256 digest: ${sha256}`);
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  /** The temporary folder, made a real folder (not a link) when needed. */
  tmpDir(): string {
    const dir = path.join(this.root, 'tmp');
    this.ensureDirectory(dir);
    return dir;
  }

  /** Makes `dir` (inside the root) and the folders above it, `.runwise/` included, real folders. */
  private ensureDirectory(dir: string): void {
    ensureRealDirectory(path.dirname(path.dirname(this.root)), dir, 'a folder of the artifact store');
  }

  /** Stores the bytes of `source`, failing with BlobTooLargeError past `maxBytes`. */
  async put(source: Readable | Buffer | string, maxBytes = Number.POSITIVE_INFINITY): Promise<StoredBlob> {
    const tmp = path.join(this.tmpDir(), `${process.pid}-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > maxBytes) return done(new BlobTooLargeError(maxBytes));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const input = typeof source === 'string' ? createReadStream(source) : Buffer.isBuffer(source) ? Readable.from([source]) : source;
    try {
      // 'wx': created here, never an existing file or a link planted under the same name.
      await pipeline(input, meter, createWriteStream(tmp, { flags: 'wx' }));
      const sha256 = hash.digest('hex');
      const dest = this.blobPath(sha256);
      this.ensureDirectory(path.dirname(dest));
      // Read-only, as a stored blob is never written again (a group-writable one, under umask 002,
      // could be changed in place between its check and its read).
      chmodSync(tmp, 0o444);
      // rename replaces a link at `dest` itself; it never writes through one.
      renameSync(tmp, dest);
      return { sha256, size };
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  }

  /** Whether the blob is stored (a real file in real folders). */
  has(sha256: string): boolean {
    return this.checkBlob(sha256) !== undefined;
  }

  /**
   * The blob of `sha256` for reading. Refuses (TrackerOpenError) a blob or a folder above it that
   * is a symbolic link; a missing blob is left to the reader to report.
   */
  open(sha256: string): OpenedBlob {
    const filePath = this.checkBlob(sha256) ?? this.blobPath(sha256);
    return { filePath, stream: () => createReadStream(filePath, { fd: openSync(filePath, READ_NO_FOLLOW) }) };
  }

  /** The blob's path when it exists; throws when it or a folder above it is a link. */
  private checkBlob(sha256: string): string | undefined {
    const file = this.blobPath(sha256);
    const shard = path.dirname(file);
    for (const dir of [path.dirname(this.root), this.root, path.dirname(shard), shard]) {
      if (!checkNotLink(dir, 'a folder of the artifact store', 'directory')) return undefined;
    }
    return checkNotLink(file, `the stored file of sha256 ${sha256.slice(0, 12)}…`, 'file') ? file : undefined;
  }
}
