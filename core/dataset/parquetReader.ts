/**
 * Parquet in batches through hyparquet (pure JavaScript, MIT, no dependencies; an ES module,
 * imported on first use). Rows are read a batch at a time by row range, only the requested columns.
 * Errors name the 1-based row.
 */
import { DatasetError, checkColumns, emptyBatch, numberFromText, type ColumnRequest, type DatasetBatch, type DatasetReader } from './dataset';

export async function openParquet(file: string, displayName = file): Promise<DatasetReader> {
  const hyparquet = await import('hyparquet');
  let asyncBuffer: Awaited<ReturnType<typeof hyparquet.asyncBufferFromFile>>;
  let metadata: Awaited<ReturnType<typeof hyparquet.parquetMetadataAsync>>;
  try {
    asyncBuffer = await hyparquet.asyncBufferFromFile(file);
    metadata = await hyparquet.parquetMetadataAsync(asyncBuffer);
  } catch (e) {
    throw new DatasetError(`${displayName}: not a readable Parquet file (${(e as Error).message})`);
  }
  const columns = hyparquet.parquetSchema(metadata).children.map((c) => c.element.name);
  const total = Number(metadata.num_rows);
  if (total === 0) throw new DatasetError(`${displayName}: the file has no rows`);
  return {
    file: displayName,
    format: 'parquet',
    columns,
    hashesFile: false,
    async *batches(request: readonly ColumnRequest[], batchSize: number): AsyncIterable<DatasetBatch> {
      checkColumns(displayName, columns, request);
      for (let start = 0; start < total; start += batchSize) {
        const end = Math.min(total, start + batchSize);
        const rows = (await hyparquet.parquetReadObjects({ file: asyncBuffer, metadata, columns: request.map((r) => r.name), rowStart: start, rowEnd: end })) as Record<string, unknown>[];
        const batch = emptyBatch(request, rows.length);
        rows.forEach((row, i) => {
          let n = 0;
          let t = 0;
          const where = `${displayName} row ${start + i + 1}`;
          for (const r of request) {
            const v = row[r.name];
            if (r.text) batch.texts[t++]![i] = v === null || v === undefined ? '' : String(v);
            else if (typeof v === 'number' || typeof v === 'bigint') {
              const x = Number(v);
              if (!Number.isFinite(x)) throw new DatasetError(`${where}: column '${r.name}' is ${x} (expected a finite number)`);
              batch.numbers[n++]![i] = x;
            } else if ((v === null || v === undefined) && r.missing) batch.numbers[n++]![i] = NaN;
            else if (typeof v === 'string') batch.numbers[n++]![i] = numberFromText(v, where, r.name, r.missing);
            else throw new DatasetError(`${where}: column '${r.name}' is ${v === null || v === undefined ? 'empty' : typeof v} (expected a number)`);
          }
        });
        batch.rows = rows.length;
        yield batch;
      }
    },
  };
}
