/**
 * A pipeline runner in its own Node process, for tests of what happens to the stages when the
 * runner ends: `node --import tsx pipelineRunnerProcess.ts <workspace> [--exit-when <file>]
 * [--handle-sigterm]`. It runs every out-of-date stage of the workspace through runPipeline.
 * `--exit-when`: calls process.exit(0) as soon as the workspace file `<file>` is non-empty (a stage
 * wrote it), with the stage still running. `--handle-sigterm`: a SIGTERM handler of its own, as the
 * CLI's: it cancels the run, which then ends with exit code 130. The run's result goes to stdout
 * as JSON.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { HashCache } from '../../core/pipeline/hashCache';
import { loadPipeline } from '../../core/pipeline/loadPipeline';
import { runPipeline } from '../../core/pipeline/pipelineRun';
import { planRun } from '../../core/pipeline/stageStatus';
import { Tracker } from '../../core/tracker/tracker';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { 'exit-when': { type: 'string' }, 'handle-sigterm': { type: 'boolean' } } });
  const ws = positionals[0];
  if (!ws) throw new Error('usage: pipelineRunnerProcess.ts <workspace> [--exit-when <file>] [--handle-sigterm]');
  const controller = new AbortController();
  if (values['handle-sigterm']) process.on('SIGTERM', () => controller.abort());
  const exitWhen = values['exit-when'];
  if (exitWhen !== undefined) {
    const file = path.join(ws, exitWhen);
    const poll = setInterval(() => {
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        return;
      }
      if (text.trim() === '') return;
      clearInterval(poll);
      process.exit(0);
    }, 10);
  }
  const graph = loadPipeline(ws);
  const hashes = new HashCache(ws);
  const tracker = Tracker.open(ws);
  const result = await runPipeline({ graph, decisions: planRun(graph, { hashes }), tracker, hashes, signal: controller.signal, killGraceMs: 1_000 });
  tracker.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exitCode = result.cancelled ? 130 : result.ok ? 0 : 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 2;
});
