/**
 * Progress of a push or pull on a terminal stream: on a TTY one line rewritten in place, elsewhere
 * (a CI log, a pipe) a plain line per event.
 */
import type { PushEvent } from './pushRuns';
import type { PullEvent } from './pullRuns';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** One line describing an event, or undefined for none. */
export function describeSyncEvent(e: PushEvent | PullEvent): string | undefined {
  switch (e.kind) {
    case 'plan':
      return `${e.runs} run(s) to go${e.skipped.length ? `, ${e.skipped.length} skipped` : ''}`;
    case 'run':
      return `run ${e.runId.slice(0, 8)} (${e.runName}) → ${e.remoteRunId.slice(0, 8)}: ${e.state}${e.points ? `, ${e.points} points` : ''}${e.bytes ? `, ${mb(e.bytes)}` : ''}`;
    case 'pulled':
      return `run ${e.remoteRunId.slice(0, 8)} (${e.runName}) → ${e.runId.slice(0, 8)}: ${e.state}${e.points ? `, ${e.points} points` : ''}`;
    case 'progress':
      return `${e.points} points, ${e.requests} requests, ${mb(e.bytes)} sent`;
    case 'model':
      return `model ${e.name} version ${e.version} → version ${e.remoteVersion}: ${e.state}`;
    case 'retry':
      return `retrying ${e.what} in ${(e.delayMs / 1000).toFixed(1)} s (${e.reason})`;
  }
}

/** `shown` makes a line safe to print (run names come from the remote: the CLI escapes their control characters). */
export function progressPrinter(stream: ProgressStream, shown: (line: string) => string = (line) => line): { event(e: PushEvent | PullEvent): void; done(): void } {
  let pending = false;
  return {
    event(e) {
      const described = describeSyncEvent(e);
      if (described === undefined) return;
      const line = shown(described);
      if (stream.isTTY) {
        // Progress rewrites its line; other events leave theirs.
        stream.write(`\r\x1b[2K${line}${e.kind === 'progress' ? '' : '\n'}`);
        pending = e.kind === 'progress';
      } else stream.write(`${line}\n`);
    },
    done() {
      if (pending) stream.write('\n');
      pending = false;
    },
  };
}
