/**
 * The drift engine's worker thread: reads one side of a comparison and sorts and summarises its
 * numeric columns (`prepareSide`), posting each column as soon as it is ready with its buffers
 * transferred, then the side itself (or the error). Built as dist/driftSideWorker.js beside the
 * bundles that start it (esbuild.mjs).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { postedError } from '../dataset/dataset';
import { columnTransferList, prepareSide, type SideRequest, type SideWorkerAnswer } from './driftEngine';

async function answer(): Promise<void> {
  const post = (message: SideWorkerAnswer, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(message, transfer);
  try {
    const side = await prepareSide(workerData as SideRequest, (column, prepared) => post({ column, prepared }, columnTransferList(prepared)));
    // The columns went one by one (their buffers are no longer here).
    post({ side: { ...side, columns: new Map() } });
  } catch (e) {
    post({ error: postedError(e) });
  }
}

void answer();
