/**
 * A registered version evaluated the way a pipeline's evaluation was, so that a gate such as
 * `roc_auc >= champion.roc_auc` compares the two on the same data. As MLflow's model validation
 * evaluates its `baseline_model` on the candidate's data, the version the alias points at is run
 * from the registry's copy (its bytes re-hashed first) on the same file, with the same target,
 * task, threshold, features and batch size, when it has no such evaluation yet. The evaluation is a
 * run like any other (tagged with the version's sha256): the next gate, the Models view and the
 * lineage find it.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { EVALUATION_TASKS, evaluateModel, type EvaluationTask } from '../evaluation/evaluate';
import { evaluationInput } from '../modelCard/cardEvaluation';
import type { Tracker } from '../tracker/tracker';
import { resolveInside } from '../workspace/workspacePath';

export interface BaselineContext {
  tracker: Tracker;
  /** The workspace: the evaluation's data path is relative to it. */
  root: string;
  experimentId: string;
  /** The run the baseline evaluation's run sits under (the pipeline run), if any. */
  parentRunId?: string;
  signal?: AbortSignal;
}

/**
 * Evaluates version `version` of `name` as evaluation run `likeRunId` was evaluated; returns the
 * new run's id. Throws when the version cannot be evaluated so (its copy changed, the data file
 * changed since, a feature the version's model does not take): the caller's gate says why.
 */
export async function evaluateVersionLike(ctx: BaselineContext, name: string, version: string, likeRunId: string): Promise<string> {
  const { tracker } = ctx;
  const like = tracker.getRun(likeRunId);
  const param = (key: string) => like.params.find((p) => p.key === key)?.value;
  const data = param('data');
  const target = param('target');
  if (data === undefined || target === undefined) throw new Error(`evaluation run ${likeRunId} does not record its data and target`);
  const task = param('task');
  const threshold = param('threshold');
  const features = param('features');
  const batchSize = param('batch_size');
  const files = tracker.registry.versionFiles(name, version);
  const models = files.filter((f) => f.path.toLowerCase().endsWith('.onnx'));
  if (models.length !== 1) throw new Error(`${name}/${version} holds ${models.length === 0 ? 'no .onnx file' : `${models.length} .onnx files`} to evaluate`);
  // A single file is read from the registry's copy; a model with files beside it (external data) is
  // copied out with their names, as onnxruntime looks for them beside the model.
  const single = files.length === 1;
  const dir = single ? undefined : mkdtempSync(path.join(tmpdir(), 'runwise-baseline-'));
  try {
    let modelPath = '';
    for (const f of files) {
      const opened = await tracker.openModelVersionFileAsync(name, version, f.path);
      if (!dir) modelPath = opened.filePath;
      else {
        const to = resolveInside(dir, f.path);
        mkdirSync(path.dirname(to), { recursive: true });
        copyFileSync(opened.filePath, to);
        if (f === models[0]) modelPath = to;
      }
    }
    const report = await evaluateModel({
      model: modelPath,
      modelName: `models:/${name}/${version}`,
      data: resolveInside(ctx.root, data),
      target,
      workspace: ctx.root,
      tracker,
      experimentId: ctx.experimentId,
      ...(ctx.parentRunId ? { parentRunId: ctx.parentRunId } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(task !== undefined && (EVALUATION_TASKS as readonly string[]).includes(task) ? { task: task as EvaluationTask } : {}),
      ...(threshold !== undefined ? { threshold: Number(threshold) } : {}),
      ...(features !== undefined ? { features: features.split(',') } : {}),
      ...(batchSize !== undefined ? { batchSize: Number(batchSize) } : {}),
    });
    // Compared only on the very bytes the stage evaluated.
    const digest = evaluationInput(like)?.digest;
    if (digest !== undefined && report.dataset.md5 !== digest) {
      throw new Error(`${data} changed since the stage evaluated it (md5 ${digest.slice(0, 8)}…, now ${report.dataset.md5.slice(0, 8)}…)`);
    }
    return report.run_id!;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
