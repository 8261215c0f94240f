/**
 * Garbage collection of the artifact store. A blob is stored before the row that refers to it is
 * recorded, so a crash in between (or an upload refused after its bytes arrived) leaves a blob no
 * row names; a crash during a write leaves a file in `tmp/`. Neither is ever read again.
 *
 * - Kept: every blob named by an `artifacts` or `logged_model_artifacts` row, deleted runs' and
 *   models' included: deletion is soft, and a restored run gets its files back.
 * - Collected: unreferenced blobs, and `tmp/` files, last written more than `graceMs` ago (an hour
 *   by default). The grace period is what makes this safe beside a live upload: an upload's blob
 *   is fresh (storing it renames a just-written file into place, even over an old copy) until its
 *   row is recorded, and a temporary file being written keeps getting younger.
 * - A blob is removed by first renaming it into `tmp/`, then looking at what was moved: if an
 *   upload put a fresh copy in place meanwhile, it is renamed back (same bytes, same name).
 * - Nothing is followed through a symbolic link (the store refuses linked folders); a link found
 *   where a blob should be is removed as the link it is, never through it.
 */
import { lstatSync, readdirSync, renameSync, rmdirSync, unlinkSync } from 'node:fs';
import * as path from 'node:path';
import type { ArtifactStore } from './artifactStore';
import type { SqlDatabase } from './sqlStore';
import { checkNotLink } from './trackerFiles';

/** How old an unreferenced blob or a temporary file must be before it is collected. */
export const GC_GRACE_MS = 60 * 60 * 1000;

export interface GcTally {
  count: number;
  bytes: number;
}

export interface GcReport {
  /** Unreferenced blobs older than the grace period. */
  blobs: GcTally;
  /** Temporary files older than the grace period. */
  tmp: GcTally;
  /** Whether they were removed (false for a dry run). */
  deleted: boolean;
  graceMs: number;
}

export interface GcOptions {
  /** Remove what is found; default false (a dry run). */
  delete?: boolean;
  graceMs?: number;
  now?: () => number;
}

const DIGEST = /^[0-9a-f]{64}$/;
const SHARD = /^[0-9a-f]{2}$/;

/** The sha256 of every blob a row refers to, deleted runs' and models' included. */
function referencedBlobs(db: SqlDatabase): Set<string> {
  const rows = db
    .prepare(
      `SELECT sha256 FROM artifacts UNION SELECT sha256 FROM logged_model_artifacts
       UNION SELECT sha256 FROM model_version_files UNION SELECT card_sha256 FROM model_versions WHERE card_sha256 IS NOT NULL`,
    )
    .all();
  return new Set(rows.map((r) => String(r.sha256)));
}

function entries(dir: string, what: string): string[] {
  return checkNotLink(dir, what, 'directory') ? readdirSync(dir) : [];
}

/** Finds (and with `delete`, removes) the store's unreferenced blobs and stale temporary files. */
export function collectArtifactGarbage(db: SqlDatabase, store: ArtifactStore, options: GcOptions = {}): GcReport {
  const graceMs = options.graceMs ?? GC_GRACE_MS;
  const cutoff = (options.now ?? Date.now)() - graceMs;
  const remove = options.delete ?? false;
  const report: GcReport = { blobs: { count: 0, bytes: 0 }, tmp: { count: 0, bytes: 0 }, deleted: remove, graceMs };
  checkNotLink(path.dirname(store.root), 'the tracker folder', 'directory');
  checkNotLink(store.root, 'the artifact store', 'directory');

  // Temporary files first: the blobs' removal passes through tmp/ and must not be counted twice.
  const tmpDir = path.join(store.root, 'tmp');
  for (const name of entries(tmpDir, 'the artifact store\'s temporary folder')) {
    const file = path.join(tmpDir, name);
    const st = lstatSync(file);
    if (st.isDirectory() || st.mtimeMs > cutoff) continue;
    report.tmp.count++;
    report.tmp.bytes += st.isFile() ? st.size : 0;
    if (remove) unlinkSync(file);
  }

  const referenced = referencedBlobs(db);
  const blobRoot = path.join(store.root, 'sha256');
  for (const shard of entries(blobRoot, 'the artifact store\'s blob folder')) {
    if (!SHARD.test(shard)) continue;
    const shardDir = path.join(blobRoot, shard);
    let left = 0;
    for (const name of entries(shardDir, 'a shard folder of the artifact store')) {
      left++;
      if (!DIGEST.test(name) || !name.startsWith(shard) || referenced.has(name)) continue;
      const file = path.join(shardDir, name);
      const st = lstatSync(file);
      if (st.isDirectory() || st.mtimeMs > cutoff) continue;
      const size = st.isFile() ? st.size : 0;
      if (remove && !removeBlob(store, file, cutoff)) continue;
      report.blobs.count++;
      report.blobs.bytes += size;
      if (remove) left--;
    }
    if (remove && left === 0) {
      try {
        rmdirSync(shardDir);
      } catch {
        /* an upload may have just put a blob there */
      }
    }
  }
  return report;
}

/** Removes the blob at `file` unless an upload has just put a fresh copy there; returns whether it did. */
function removeBlob(store: ArtifactStore, file: string, cutoff: number): boolean {
  const moved = path.join(store.tmpDir(), `gc-${process.pid}-${path.basename(file)}`);
  renameSync(file, moved);
  if (lstatSync(moved).mtimeMs > cutoff) {
    renameSync(moved, file);
    return false;
  }
  unlinkSync(moved);
  return true;
}
