/**
 * The dataset reader's worker thread (see datasetThread.ts): for each read it is given, reads the
 * dataset's batches and posts each with its arrays transferred, at most `window` ahead of the
 * caller, then the end (with the file's digests, when asked for them, hashed here as the bytes are
 * read) or the error.
 * Built as dist/datasetWorker.js beside the bundles that start it (esbuild.mjs).
 */
import { parentPort } from 'node:worker_threads';
import { FileDigests, openDataset, postedError } from './dataset';
import type { DatasetThreadAnswer, DatasetThreadCommand, DatasetThreadJob, PostedBatch } from './datasetThread';

interface Read {
  credits: number;
  stopped: boolean;
  wake: (() => void) | undefined;
}

const reads = new Map<number, Read>();

parentPort!.on('message', (m: DatasetThreadCommand) => {
  if ('job' in m) {
    void read(m.job);
    return;
  }
  const r = reads.get(m.id);
  if (!r) return;
  if ('stop' in m) r.stopped = true;
  else r.credits += m.more;
  r.wake?.();
  r.wake = undefined;
});

function post(message: DatasetThreadAnswer, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer);
}

async function read(job: DatasetThreadJob): Promise<void> {
  const { id } = job;
  const r: Read = { credits: job.window, stopped: false, wake: undefined };
  reads.set(id, r);
  try {
    const reader = await openDataset(job.file, job.display);
    const digests = job.digests && reader.hashesFile ? new FileDigests() : undefined;
    /** Per coded column, how many of its labels have been posted. */
    const sent: number[] = [];
    for await (const batch of reader.batches(job.request, job.batchSize, digests)) {
      while (r.credits === 0 && !r.stopped) await new Promise<void>((resolve) => (r.wake = resolve));
      if (r.stopped) break;
      r.credits--;
      const rows = batch.rows;
      // The reader refills its arrays for the next batch: post copies of the filled rows.
      const posted: PostedBatch = {
        rows,
        numbers: batch.numbers.map((a) => a.slice(0, rows)),
        texts: batch.texts.map((t) => (t.length > rows ? t.slice(0, rows) : t)),
      };
      const transfer = posted.numbers.map((a) => a.buffer as ArrayBuffer);
      if (batch.codes) {
        posted.codes = batch.codes.map((c) => c?.slice(0, rows));
        for (const c of posted.codes) if (c) transfer.push(c.buffer as ArrayBuffer);
        posted.newLabels = (batch.labels ?? []).map((l, k) => {
          if (!l) return undefined;
          const added = l.slice(sent[k] ?? 0);
          sent[k] = l.length;
          return added;
        });
      }
      post({ id, batch: posted }, transfer);
    }
    post({ id, end: { digests: digests && !r.stopped ? digests.digests() : undefined } });
  } catch (e) {
    post({ id, error: postedError(e) });
  } finally {
    reads.delete(id);
  }
}
