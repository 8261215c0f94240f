/**
 * Where a warm `runwise status` spends its time, phase by phase, in a fresh process (cold JIT, as
 * the CLI runs): `node --import tsx bench/pipeline/statusPhases.ts WORKSPACE`. Prints one JSON line:
 * milliseconds of wall and CPU time for loading the pipelines, loading the hash cache and planning.
 * status.bench.ts runs it on its workspace and takes the median over rounds.
 */
import { HashCache } from '../../core/pipeline/hashCache';
import { loadPipeline } from '../../core/pipeline/loadPipeline';
import { planRun } from '../../core/pipeline/stageStatus';

const ws = process.argv[2];
if (!ws) throw new Error('usage: statusPhases.ts WORKSPACE');

function phase<T>(fn: () => T): [T, { wall: number; cpu: number }] {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const value = fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  return [value, { wall, cpu: (c.user + c.system) / 1000 }];
}

const [graph, load] = phase(() => loadPipeline(ws, { cache: true }));
const [hashes, cache] = phase(() => new HashCache(graph.root));
const [decisions, plan] = phase(() => planRun(graph, { hashes }));
hashes.save();
const running = decisions.filter((d) => d.action === 'run').length;
console.log(JSON.stringify({ load, cache, plan, running, listedDirs: hashes.listedDirs, hashedFiles: hashes.hashedFiles }));
