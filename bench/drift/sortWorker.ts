/**
 * The drift bench's second statistics thread: given one side's numeric columns (copied in before
 * the clock starts), sorts each with statistics.ts's sortFloat64 on `go` and posts it back as soon
 * as it is sorted, its buffer transferred. drift.bench.ts bundles it with esbuild.
 */
import { parentPort } from 'node:worker_threads';
import { sortFloat64 } from '../../core/drift/statistics';

let columns: Float64Array[] = [];
parentPort!.on('message', (m: { columns?: Float64Array[]; go?: true }) => {
  if (m.columns) {
    columns = m.columns;
    parentPort!.postMessage({ ready: true });
    return;
  }
  for (let c = 0; c < columns.length; c++) {
    const sorted = sortFloat64(columns[c]!);
    parentPort!.postMessage({ column: c, sorted }, [sorted.buffer as ArrayBuffer]);
  }
});
