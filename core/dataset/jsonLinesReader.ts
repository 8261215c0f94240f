/**
 * JSON Lines in batches: one object per line, its keys the columns (taken from the first object, in
 * its key order). Blank lines are skipped; a line that is not a JSON object is an error naming it.
 * Numeric columns take JSON numbers (or numeric strings); text columns take any scalar.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { DatasetError, checkColumns, emptyBatch, numberFromText, trimBatch, type ByteSink, type ColumnRequest, type DatasetBatch, type DatasetReader } from './dataset';

async function* objects(file: string, displayName: string, hash?: ByteSink): AsyncGenerator<{ line: number; value: Record<string, unknown> }> {
  const input = createReadStream(file);
  if (hash) input.on('data', (chunk) => hash.update(chunk as Buffer));
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      const trimmed = (line === 1 ? text.replace(/^\uFEFF/, '') : text).trim();
      if (trimmed === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(trimmed);
      } catch (e) {
        throw new DatasetError(`${displayName}:${line}: not valid JSON (${(e as Error).message})`);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DatasetError(`${displayName}:${line}: expected a JSON object per line`);
      yield { line, value: value as Record<string, unknown> };
    }
  } finally {
    lines.close();
  }
}

export async function openJsonLines(file: string, displayName = file): Promise<DatasetReader> {
  let columns: string[] | undefined;
  for await (const { value } of objects(file, displayName)) {
    columns = Object.keys(value);
    break;
  }
  if (!columns) throw new DatasetError(`${displayName}: the file is empty (expected one JSON object per line)`);
  const names = columns;
  return {
    file: displayName,
    format: 'jsonl',
    columns: names,
    hashesFile: true,
    async *batches(request: readonly ColumnRequest[], batchSize: number, hash?: ByteSink): AsyncIterable<DatasetBatch> {
      checkColumns(displayName, names, request);
      let batch = emptyBatch(request, batchSize);
      for await (const { line, value } of objects(file, displayName, hash)) {
        let n = 0;
        let t = 0;
        for (const r of request) {
          const v = value[r.name];
          if (v === undefined) throw new DatasetError(`${displayName}:${line}: no column '${r.name}' in this row`);
          if (r.text) batch.texts[t++]![batch.rows] = v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
          else if (typeof v === 'number') batch.numbers[n++]![batch.rows] = v;
          else if (v === null && r.missing) batch.numbers[n++]![batch.rows] = NaN;
          else if (typeof v === 'string') batch.numbers[n++]![batch.rows] = numberFromText(v, `${displayName}:${line}`, r.name, r.missing);
          else throw new DatasetError(`${displayName}:${line}: column '${r.name}' is ${v === null ? 'null' : typeof v} (expected a number)`);
        }
        if (++batch.rows === batchSize) {
          yield batch;
          batch = emptyBatch(request, batchSize);
        }
      }
      if (batch.rows > 0) yield trimBatch(batch);
    },
  };
}
