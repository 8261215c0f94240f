/**
 * A dataset read in a worker thread: the batches of `DatasetReader.batches`, parsed by the worker
 * (dist/datasetWorker.js) while the caller's thread uses the ones already read, such as an
 * evaluation running each batch through the model. When asked for the file's digests (its sha256
 * and md5, as FileDigests), the worker hashes the bytes as it reads them and posts the digests with
 * the end of the read: the caller's thread, which runs the model and the metrics, is the busier one
 * (a CPU profile of a million-row evaluation had it hashing 36 ms and the worker idle ~100 ms).
 *
 * One worker is kept for the life of the process and reused read after read, so that a long-lived
 * host (the extension, `runwise serve`) pays its start and the parser's compilation once; it does
 * not keep the process alive while idle. A read that finds it busy gets a worker of its own.
 *
 * Batches come as their own arrays (transferred, not copied), so, unlike a reader's, they stay
 * valid after the next one. A coded text column's labels arrive as they grow; every batch's
 * `labels` is the one list, as from a reader. At most `window` batches are read ahead of the
 * caller. A DatasetError in the worker is a DatasetError here, thrown where the caller asks for
 * the batch it is about; leaving the loop early (break, an error) stops the read.
 */
import { Worker } from 'node:worker_threads';
import { workerScript } from '../threads/workerScript';
import { errorFromPosted, type ColumnRequest, type DatasetBatch, type PostedError } from './dataset';

/** One read, as the worker is given it. */
export interface DatasetThreadJob {
  id: number;
  file: string;
  display: string;
  request: ColumnRequest[];
  batchSize: number;
  /** Hash the file's bytes as they are read (CSV and JSON Lines; Parquet is not read whole). */
  digests: boolean;
  /** Batches read ahead of the caller, at most. */
  window: number;
}

/** A batch as posted: its arrays its own; `newLabels[k]` the labels of coded column k added since the last batch. */
export interface PostedBatch {
  rows: number;
  numbers: Float64Array[];
  texts: string[][];
  codes?: (Int32Array | undefined)[];
  newLabels?: (string[] | undefined)[];
}

/**
 * What the worker posts for a read: each batch, then the end (with the file's digests when asked for
 * them and every byte was read), or the error.
 */
export type DatasetThreadAnswer = { id: number } & ({ batch: PostedBatch } | { end: { digests: { sha256: string; md5: string } | undefined } } | { error: PostedError });

/** What the caller posts: a read to start, room for more batches of one, or a read to stop (it then ends). */
export type DatasetThreadCommand = { job: DatasetThreadJob } | { id: number; more: number } | { id: number; stop: true };

const WINDOW = 8;
/**
 * Batches taken before their room is given back, in one message: a message per batch cost the
 * caller's thread ~25 ms of a million-row evaluation (122 batches) in a CPU profile.
 */
const CREDIT = 4;

export interface DatasetThread {
  batches: AsyncIterable<DatasetBatch>;
  /** The file's digests once every batch has been read (undefined when not asked for, or not read whole). */
  digests(): { sha256: string; md5: string } | undefined;
}

/** A worker and the read it is doing, if any. */
interface ReaderWorker {
  worker: Worker;
  /** The read in progress: its messages go here; undefined when idle. */
  listener: ((m: DatasetThreadAnswer) => void) | undefined;
  /** Set when the worker failed or exited: it takes no more reads. */
  failure: Error | undefined;
  onFailure: (() => void) | undefined;
}

let shared: ReaderWorker | undefined;
let nextId = 1;

function startWorker(): ReaderWorker {
  const script = workerScript('dataset/datasetWorker.ts', "the dataset reader's worker");
  const worker = new Worker(script.eval ? script.code : script.file, { eval: script.eval });
  const w: ReaderWorker = { worker, listener: undefined, failure: undefined, onFailure: undefined };
  worker.on('message', (m: DatasetThreadAnswer) => w.listener?.(m));
  const fail = (e: Error) => {
    w.failure ??= e;
    if (shared === w) shared = undefined;
    w.onFailure?.();
  };
  worker.once('error', fail);
  worker.once('exit', (code) => fail(new Error(`the dataset reader's worker thread stopped (exit code ${code})`)));
  worker.unref();
  return w;
}

/** Starts the shared worker ahead of a read (its start then overlaps other work, such as loading a model). */
export function warmDatasetThread(): void {
  if (!shared || shared.failure) shared = startWorker();
}

/** Reads `file` in a worker thread (see the top). */
export function readInThread(file: string, display: string, request: readonly ColumnRequest[], batchSize: number, digests: boolean): DatasetThread {
  let result: { sha256: string; md5: string } | undefined;
  async function* batches(): AsyncGenerator<DatasetBatch> {
    warmDatasetThread();
    // The shared worker when it is idle; else one for this read alone.
    const own = shared!.listener !== undefined;
    const w = own ? startWorker() : shared!;
    const id = nextId++;
    const queue: DatasetThreadAnswer[] = [];
    let wake: (() => void) | undefined;
    const arrived = () => {
      wake?.();
      wake = undefined;
    };
    w.listener = (m) => {
      if (m.id !== id) return;
      queue.push(m);
      arrived();
    };
    w.onFailure = arrived;
    w.worker.ref();
    w.worker.postMessage({ job: { id, file, display, request: [...request], batchSize, digests, window: WINDOW } } satisfies DatasetThreadCommand);
    const labels: string[][] = [];
    let ended = false;
    let taken = 0;
    try {
      for (;;) {
        while (queue.length === 0) {
          if (w.failure) throw new Error(`${display}: ${w.failure.message} before the end of the file`);
          await new Promise<void>((resolve) => (wake = resolve));
        }
        const m = queue.shift()!;
        if ('error' in m) {
          ended = true;
          throw errorFromPosted(m.error);
        }
        if ('end' in m) {
          ended = true;
          result = m.end.digests;
          return;
        }
        if (++taken % CREDIT === 0) w.worker.postMessage({ id, more: CREDIT } satisfies DatasetThreadCommand);
        const { newLabels, ...batch } = m.batch;
        if (newLabels) {
          newLabels.forEach((added, k) => {
            if (added) (labels[k] ??= []).push(...added);
          });
          (batch as DatasetBatch).labels = newLabels.map((added, k) => (added ? labels[k] : undefined));
        }
        yield batch;
      }
    } finally {
      if (own || w.failure) void w.worker.terminate();
      // The read ended: seen here, or queued when the caller left early (the worker reads ahead).
      else if (ended || queue.some((m) => !('batch' in m))) release(w);
      else {
        // Stopped early: the worker ends the read at its next batch, then is free again.
        w.listener = (m) => {
          if (m.id === id && !('batch' in m)) release(w);
        };
        w.worker.postMessage({ id, stop: true } satisfies DatasetThreadCommand);
      }
    }
  }
  return { batches: batches(), digests: () => result };
}

function release(w: ReaderWorker): void {
  w.listener = undefined;
  w.onFailure = undefined;
  w.worker.unref();
}
