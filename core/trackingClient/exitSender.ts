/**
 * Delivers what a script's tracking client could not send before its process exited. No async
 * work runs in an 'exit' handler, so the client hands the rest to this program, run synchronously
 * for it (spawnSync) with the payload on stdin. It speaks through the same transport and retry
 * policy as the client (httpTransport.ts, runRequests.ts): what is retried at exit is what is
 * retried during the run.
 *
 * Built as its own bundle next to the client's (dist/clientExitSender.js); run from source with the
 * loader the parent was started with.
 */
import { readFileSync } from 'node:fs';
import { Http } from './httpTransport';
import { ensureRunCreated, sendOp, type CreateSpec, type Op, type RunSlot } from './runRequests';

/** One op as it travels to the sender: its run by index into `runs`. */
export type WireOp = { run: number } & DistributiveOmit<Op, 'run' | 'written'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface ExitPayload {
  uri: string;
  token?: string;
  runs: { id?: string; root?: string; create?: CreateSpec }[];
  ops: WireOp[];
}

/** Sends the ops in order; a run whose creation failed fails its ops. Returns the failures' messages. */
export async function sendAtExit(payload: ExitPayload): Promise<string[]> {
  const http = new Http(payload.uri, payload.token);
  const runs: RunSlot[] = payload.runs.map((r) => ({ id: r.id, root: r.root, create: r.create, owned: r.create !== undefined }));
  const failures: string[] = [];
  for (const wire of payload.ops) {
    const slot = runs[wire.run]!;
    const op = { ...wire, run: slot, written: false } as Op;
    try {
      await sendOp(http, op, await ensureRunCreated(http, slot));
    } catch (e) {
      failures.push(`${op.kind} for run ${slot.id ?? '(not created)'}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return failures;
}

async function main(): Promise<void> {
  const payload = JSON.parse(readFileSync(0, 'utf8')) as ExitPayload;
  const failures = await sendAtExit(payload);
  for (const f of failures) process.stderr.write(`runwise client: at exit, ${f}\n`);
  process.exitCode = failures.length > 0 ? 1 : 0;
}

if (require.main === module) void main();
