/**
 * What launching a stage costs beyond the command itself: a pipeline of independent stages whose
 * `cmd` is `true`, run with `-j 1` through runPipeline (planning excluded; the tracker run of each
 * stage, its log, its lock entry and the endpoint's environment included), against the anchor: the
 * same number of `/bin/sh -c true` spawned one after another from the same process. The overhead per
 * stage is the difference divided by the number of stages (goal: under 20 ms).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { HashCache } from '../../core/pipeline/hashCache';
import { loadPipeline } from '../../core/pipeline/loadPipeline';
import { runPipeline } from '../../core/pipeline/pipelineRun';
import { planRun } from '../../core/pipeline/stageStatus';
import { startTrackingServer } from '../../core/endpoint/trackingServer';
import { Tracker } from '../../core/tracker/tracker';
import { fmt, median } from '../stats';

const STAGES = 40;
const ROUNDS = 5;

const ws = mkdtempSync(path.join(tmpdir(), 'runwise-bench-launch-'));
process.on('exit', () => rmSync(ws, { recursive: true, force: true }));
const lines = ['stages:'];
for (let i = 0; i < STAGES; i++) lines.push(`  s${i}:`, '    cmd: "true"');
writeFileSync(path.join(ws, 'runwise.yaml'), `${lines.join('\n')}\n`);

function spawnTrue(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', 'true'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.once('error', reject);
    child.once('close', () => resolve());
  });
}

async function main(): Promise<void> {
  const tracker = Tracker.open(ws);
  // One endpoint for every round, as the extension host keeps one; the CLI starts one per `runwise run`.
  const server = await startTrackingServer({ tracker, workspace: ws, port: 0 });
  const graph = loadPipeline(ws);
  const pipelineMs: number[] = [];
  const anchorMs: number[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const hashes = new HashCache(ws);
      const decisions = planRun(graph, { force: true, hashes });
      let t0 = performance.now();
      const result = await runPipeline({ graph, decisions, tracker, hashes, jobs: 1, endpoint: server });
      pipelineMs.push(performance.now() - t0);
      if (!result.ok) throw new Error(`the pipeline failed: ${JSON.stringify(result.stages.find((s) => s.status !== 'succeeded'))}`);
      t0 = performance.now();
      for (let i = 0; i < STAGES; i++) await spawnTrue();
      anchorMs.push(performance.now() - t0);
    }
  } finally {
    await server.close();
    tracker.close();
  }
  const p = median(pipelineMs);
  const a = median(anchorMs);
  console.log(`launch: ${STAGES} stages with cmd 'true', -j 1, median of ${ROUNDS} rounds`);
  console.log(`  runwise run (tracker runs, logs, lock entries)  ${fmt(p)} ms  (${fmt(p / STAGES, 2)} ms per stage)`);
  console.log(`  anchor: sh -c true spawned ${STAGES}×           ${fmt(a)} ms  (${fmt(a / STAGES, 2)} ms per stage)`);
  console.log(`  overhead per stage                              ${fmt((p - a) / STAGES, 2)} ms  (goal < 20 ms)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
