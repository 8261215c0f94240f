/**
 * The drift bench's reading thread: reads one CSV through core/dataset with the engine's request
 * (numeric columns as numbers, categorical ones coded, no hashing) and posts the rows it read and
 * its own elapsed milliseconds. drift.bench.ts bundles it with esbuild and starts one per file.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDataset, type ColumnRequest } from '../../core/dataset/dataset';

const { file, request, batch } = workerData as { file: string; request: ColumnRequest[]; batch: number };

async function read(): Promise<void> {
  const t0 = performance.now();
  const reader = await openDataset(file);
  let rows = 0;
  for await (const b of reader.batches(request, batch)) rows += b.rows;
  parentPort!.postMessage({ rows, ms: performance.now() - t0 });
}

void read();
