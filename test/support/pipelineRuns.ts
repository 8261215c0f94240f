/** Runs a temporary workspace's whole pipeline in process, as `runwise run` would, for tests. */
import { HashCache } from '../../core/pipeline/hashCache';
import { loadPipeline } from '../../core/pipeline/loadPipeline';
import { runPipeline, type PipelineRunResult } from '../../core/pipeline/pipelineRun';
import { planRun } from '../../core/pipeline/stageStatus';
import { Tracker } from '../../core/tracker/tracker';

/** Loads (without the load cache), plans (with `force`), runs with `jobs` at once and saves the hashes. */
export async function runWorkspacePipeline(ws: string, options: { force?: boolean; jobs?: number } = {}): Promise<PipelineRunResult> {
  const graph = loadPipeline(ws, { cache: false });
  const hashes = new HashCache(ws);
  const decisions = planRun(graph, { hashes, ...(options.force ? { force: true } : {}) });
  const tracker = Tracker.open(ws);
  try {
    const result = await runPipeline({ graph, decisions, tracker, hashes, jobs: options.jobs ?? 1 });
    hashes.save();
    return result;
  } finally {
    tracker.close();
  }
}
