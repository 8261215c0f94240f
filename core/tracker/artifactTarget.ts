/** Where a file may be stored among a run's or a logged model's artifacts: a tree, as a file system holds it. */
import type { SqlDatabase } from './sqlStore';
import { invalid } from './trackerError';

export interface ArtifactOwner {
  table: 'artifacts' | 'logged_model_artifacts';
  column: 'run_id' | 'model_id';
  /** The owner's row id. */
  id: number;
  /** How messages name it: `run <uuid>`, `logged model m-…`. */
  name: string;
}

/** A file may not be stored where its owner has a folder, nor below one of its files. */
export function checkArtifactTarget(db: SqlDatabase, owner: ArtifactOwner, rel: string): void {
  const { table, column } = owner;
  const dir = db.prepare(`SELECT 1 FROM ${table} WHERE ${column} = ? AND path >= ? AND path < ? LIMIT 1`).get(owner.id, `${rel}/`, `${rel}0`);
  if (dir) throw invalid(`Artifact path '${rel}' is a directory of ${owner.name}`);
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) {
    const above = parts.slice(0, i).join('/');
    if (db.prepare(`SELECT 1 FROM ${table} WHERE ${column} = ? AND path = ?`).get(owner.id, above)) throw invalid(`Artifact path '${rel}' is below '${above}', a file of ${owner.name}`);
  }
}
