/**
 * Content-addressed file storage under `.runwise/artifacts/`: each file is kept once, named by its
 * sha256 (`sha256/ab/abcdef…`), whatever run or path refers to it. Writes go to a temporary file
 * first and are renamed into place, so a crash never leaves a half-written blob under a hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface StoredBlob {
  sha256: string;
  size: number;
}

export class BlobTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`artifact is larger than the limit of ${limit} bytes`);
    this.name = 'BlobTooLargeError';
  }
}

export class ArtifactStore {
  constructor(readonly root: string) {}

  blobPath(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256 digest: ${sha256}`);
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  /** Stores the bytes of `source`, failing with BlobTooLargeError past `maxBytes`. */
  async put(source: Readable | Buffer | string, maxBytes = Number.POSITIVE_INFINITY): Promise<StoredBlob> {
    const tmpDir = path.join(this.root, 'tmp');
    mkdirSync(tmpDir, { recursive: true });
    const tmp = path.join(tmpDir, `${process.pid}-${randomBytes(8).toString('hex')}`);
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
      await pipeline(input, meter, createWriteStream(tmp));
      const sha256 = hash.digest('hex');
      const dest = this.blobPath(sha256);
      mkdirSync(path.dirname(dest), { recursive: true });
      renameSync(tmp, dest);
      return { sha256, size };
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  }

  has(sha256: string): boolean {
    try {
      return statSync(this.blobPath(sha256)).isFile();
    } catch {
      return false;
    }
  }
}
