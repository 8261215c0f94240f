/**
 * A registered version evaluated the way a pipeline's evaluation was, so that a gate such as
 * `roc_auc >= champion.roc_auc` compares the two on the same data. As MLflow's model validation
 * evaluates its `baseline_model` on the candidate's data, the version the alias points at is run
 * from the registry's copy (its bytes re-hashed first) on the same file, with the same target,
 * task, threshold, features and batch size, when it has no such evaluation yet. The evaluation is a
 * run like any other (tagged with the version's sha256): the next gate, the Models view and the
 * lineage find it.
 */
import {
  EVALUATION_TASKS,
  EvaluationError,
  evaluateModel,
  type EvaluationTask,
} from "../evaluation/evaluate";
import { parseFeatureList } from "../evaluation/featureList";
import { evaluationInput } from "../modelCard/cardEvaluation";
import { MODEL_SHA256_TAG } from "../tracker/model";
import type { Tracker } from "../tracker/tracker";
import { withVersionModel } from "../tracker/versionModel";
import { relativeInside, resolveInside } from "../workspace/workspacePath";
import { hashFileSync } from "./fileHash";
import type { PathHasher } from "./pipelineModel";

export interface BaselineContext {
  tracker: Tracker;
  /** The workspace: the evaluation's data path is relative to it. */
  root: string;
  experimentId: string;
  /** The run the baseline evaluation's run sits under (the pipeline run), if any. */
  parentRunId?: string;
  /** The runner's hashes of workspace paths: the data's md5, known from its stage, without a read. */
  hashes?: PathHasher;
  signal?: AbortSignal;
}

/**
 * Evaluates version `version` of `name` as evaluation run `likeRunId` was evaluated; returns the
 * new run's id. Throws when the version cannot be evaluated so (its copy changed, the data file
 * changed since, a feature the version's model does not take): the caller's gate says why.
 */
export async function evaluateVersionLike(
  ctx: BaselineContext,
  name: string,
  version: string,
  sha256: string,
  likeRunId: string,
): Promise<string> {
  const { tracker } = ctx;
  const like = tracker.getRun(likeRunId);
  const param = (key: string) => like.params.find((p) => p.key === key)?.value;
  const data = param("data");
  const target = param("target");
  if (data === undefined || target === undefined)
    throw new Error(
      `evaluation run ${likeRunId} does not record its data and target`,
    );
  const task = param("task");
  const threshold = param("threshold");
  const features = param("features");
  const batchSize = param("batch_size");
  // Compared only on the very bytes the stage evaluated: a data file changed since is said before
  // any evaluation is made (it would stand as the champion's evaluation on other data).
  const digest = evaluationInput(like)?.digest;
  const dataPath = resolveInside(ctx.root, data);
  if (digest !== undefined) {
    const rel = relativeInside(ctx.root, dataPath);
    const now = (rel !== undefined ? ctx.hashes?.hash(rel)?.md5 : undefined) ?? hashFileSync(dataPath);
    if (now !== digest)
      throw new Error(
        `${data} changed since the stage evaluated it (md5 ${digest.slice(0, 8)}…, now ${now.slice(0, 8)}…)`,
      );
  }
  return withVersionModel(tracker, name, version, async (modelPath) => {
    let report;
    try {
      report = await evaluateModel({
        model: modelPath,
        modelName: `models:/${name}/${version}`,
        data: dataPath,
        target,
        workspace: ctx.root,
        tracker,
        experimentId: ctx.experimentId,
        ...(ctx.parentRunId ? { parentRunId: ctx.parentRunId } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        ...(task !== undefined &&
        (EVALUATION_TASKS as readonly string[]).includes(task)
          ? { task: task as EvaluationTask }
          : {}),
        ...(threshold !== undefined ? { threshold: Number(threshold) } : {}),
        ...(features !== undefined ? { features: parseFeatureList(features) } : {}),
        ...(batchSize !== undefined ? { batchSize: Number(batchSize) } : {}),
      });
    } catch (e) {
      // The advice for a candidate ("name them with --features") is no fix here: the champion is fed
      // what the candidate was fed, and does not take it.
      if (e instanceof EvaluationError && e.kind === "feature-count") {
        throw new Error(
          `${e.fact}: the champion does not take the inputs the candidate was evaluated on, so the two cannot be compared on them`,
        );
      }
      throw e;
    }
    // Tagged with the version's hash, which for a folder (an MLmodel beside the .onnx) is not the
    // .onnx's own: the next gate, the Models view and the lineage find it as the version's.
    if (report.run_id)
      tracker.setTag(report.run_id, { key: MODEL_SHA256_TAG, value: sha256 });
    return report.run_id!;
  });
}
