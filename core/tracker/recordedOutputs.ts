/**
 * What pipeline stage runs recorded they wrote (OUTPUTS_ARTIFACT, a JSON list of {path, md5}, as
 * core/pipeline/stageTracking.ts stores it), read back for lineage: a model version's
 * (modelRegistry.ts) and the lineage graph's (core/views/lineageGraph.ts).
 */
import { readFileSync } from 'node:fs';
import { OUTPUTS_ARTIFACT } from './model';
import type { SqlDatabase } from './sqlStore';

/** One recorded output of a stage run. */
export interface RecordedOutput {
  path: string;
  md5: string | null;
}

/** What reading the records takes of the tracker. */
export interface OutputsReader {
  db: SqlDatabase;
  openArtifact(runId: string, artifactPath: string): { filePath: string };
}

/** The key of a file version among recorded outputs and inputs: its path and md5. */
export function outputKey(path: string, md5: string | null): string {
  return `${path}\0${md5 ?? ''}`;
}

/** A stage run's outputs (none when it recorded none or the record is unreadable). */
export function recordedOutputs(reader: OutputsReader, runId: string): RecordedOutput[] {
  const outputs: RecordedOutput[] = [];
  try {
    const parsed = JSON.parse(readFileSync(reader.openArtifact(runId, OUTPUTS_ARTIFACT).filePath, 'utf8')) as unknown;
    if (Array.isArray(parsed)) {
      for (const o of parsed as { path?: unknown; md5?: unknown }[]) {
        if (typeof o?.path === 'string') outputs.push({ path: o.path, md5: typeof o.md5 === 'string' ? o.md5 : null });
      }
    }
  } catch {
    /* no outputs recorded, or a record that is not one: the run shows no outputs */
  }
  return outputs;
}

/** The active runs that recorded outputs, oldest first (start time, then row id). */
export function runsWithOutputs(reader: OutputsReader): { runId: string; startTime: number; rowId: number }[] {
  return reader.db
    .prepare(`SELECT r.run_uuid, r.start_time, r.id FROM artifacts a JOIN runs r ON r.id = a.run_id WHERE a.path = ? AND r.lifecycle_stage = 'active' ORDER BY r.start_time, r.id`)
    .all(OUTPUTS_ARTIFACT)
    .map((row) => ({ runId: String(row.run_uuid), startTime: Number(row.start_time), rowId: Number(row.id) }));
}
