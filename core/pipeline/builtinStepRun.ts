/**
 * Built-in steps run in the runner's process instead of a command: `register` (and `evaluate`,
 * through core/evaluation). Each runs inside its stage's tracker run like a command would, reports
 * through the same result shape as stageProcess.ts (exit code 0 on success, 1 with a message on
 * failure), and writes its lines to the stage's log.
 *
 * `register: {model, name, card, alias}`: registers the model file or folder as a new version of
 * `name`, its source run the stage's run (so lineage reaches the pipeline run and its data). With a
 * `card`, the card first receives the latest evaluation of the very bytes being registered (by their
 * sha256), and is stored with the version. The lock skips an unchanged step; a forced run whose
 * model bytes and card bytes equal an existing version of `name` creates no new version: it reuses
 * that one (moving `alias` to it), so registering the same thing twice never duplicates it.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import * as path from "node:path";
import { EVALUATION_RUN_TAG, cardEvaluationOf, latestEvaluation, latestPipelineEvaluation, type CardEvaluation } from "../modelCard/cardEvaluation";
import { checkCardForRegistration, readCardText, writeCardText } from "../modelCard/cardFile";
import { CardUpdateError, cardFormatOf, modelIndexProblems, updateCardText, withoutRunwiseEntries } from "../modelCard/cardUpdate";
import { MODEL_SHA256_TAG } from "../tracker/model";
import { modelSha256, sha256OfFile } from "../tracker/modelRegistry";
import type { Tracker } from "../tracker/tracker";
import { resolveInside } from "../workspace/workspacePath";
import type { PathHasher, PipelineStage } from "./pipelineModel";
import { settingText } from "./builtinStepSettings";
import type {
  OutputStream,
  StageProcessOptions,
  StageProcessResult,
} from "./stageProcess";
import { currentUser } from '../workspace/currentUser';

export interface BuiltinStepContext {
  root: string;
  stage: PipelineStage;
  settings: Record<string, unknown>;
  tracker: Tracker;
  runId: string;
  experimentId: string;
  /** The runner's hashes of workspace paths (its HashCache, saved by the runner). */
  hashes: PathHasher;
  /** Cancels the step (Ctrl-C): an evaluation stops between batches, its run KILLED. */
  signal?: AbortSignal;
}

/** A command's result; `failure` is a built-in step's one-line reason when it failed. */
export interface BuiltinStepResult extends StageProcessResult {
  failure?: string;
}

/** A failure the step reports as its one-line message. */
class StepFailure extends Error {}

export async function runBuiltinStep(
  ctx: BuiltinStepContext,
  io: Pick<StageProcessOptions, "logFile" | "onLine" | "signal">,
): Promise<BuiltinStepResult> {
  if (io.signal) ctx = { ...ctx, signal: io.signal };
  const started = performance.now();
  const tail: string[] = [];
  if (io.logFile) mkdirSync(path.dirname(io.logFile), { recursive: true });
  const say = (line: string, stream: OutputStream = "stdout") => {
    tail.push(line);
    if (io.logFile) appendFileSync(io.logFile, `${line}\n`);
    io.onLine?.(line, stream);
  };
  const done = (exitCode: number, message?: string) => ({
    exitCode,
    signal: null,
    cancelled: false,
    durationMs: performance.now() - started,
    tail,
    ...(message ? { failure: message } : {}),
  });
  try {
    if (ctx.stage.builtin === "register") await registerStep(ctx, say);
    else if (ctx.stage.builtin === "evaluate") await evaluateStep(ctx, say);
    else if (ctx.stage.builtin === "drift") await driftStep(ctx, say);
    else
      throw new StepFailure(
        `the built-in step '${ctx.stage.builtin}' cannot run yet (${ctx.stage.file}:${ctx.stage.line})`,
      );
    return done(0);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    say(`runwise: ${message}`, "stderr");
    // Stopped by the runner's signal: cancelled, as a command the signal stops.
    if (ctx.signal?.aborted) return { ...done(1, message), exitCode: null, cancelled: true };
    return done(1, message);
  }
}

/** A path setting, relative to the stage's wdir, inside the workspace. */
function stepPath(
  ctx: BuiltinStepContext,
  key: string,
  required: boolean,
): { abs: string; rel: string } | undefined {
  const given = settingText(ctx.settings, key);
  if (given === undefined) {
    if (required)
      throw new StepFailure(
        `${ctx.stage.builtin}.${key} is missing (${ctx.stage.file}:${ctx.stage.line})`,
      );
    return undefined;
  }
  const wdir = path.join(
    ctx.root,
    ...ctx.stage.wdir.split("/").filter(Boolean),
  );
  const abs = resolveInside(ctx.root, given, wdir);
  if (!existsSync(abs))
    throw new StepFailure(
      `${ctx.stage.builtin}.${key}: '${given}' does not exist (${ctx.stage.file}:${ctx.stage.line})`,
    );
  return { abs, rel: path.relative(ctx.root, abs).split(path.sep).join("/") };
}

async function registerStep(
  ctx: BuiltinStepContext,
  say: (line: string) => void,
): Promise<void> {
  const model = stepPath(ctx, "model", true)!;
  const name = settingText(ctx.settings, "name");
  if (name === undefined)
    throw new StepFailure(
      `register.name is missing (${ctx.stage.file}:${ctx.stage.line})`,
    );
  const alias = settingText(ctx.settings, "alias");
  const card = stepPath(ctx, "card", false);
  const sha256 = await modelSha256(model.abs, ctx.root);
  const description = settingText(ctx.settings, 'description');
  if (card) {
    if (!cardFormatOf(card.rel))
      throw new StepFailure(
        `register.card: '${card.rel}' is not a model card (README.md, *.modelcard.yaml or model_card.json)`,
      );
    // What the CLI and the editor refuse to keep with a version, the step refuses too.
    try {
      checkCardForRegistration(card.abs, card.rel);
    } catch (e) {
      if (e instanceof CardUpdateError) throw new StepFailure(`register.card: ${e.message}`);
      throw e;
    }
    // The evaluation this step depends on (an evaluate step's report among its deps), else the
    // pipeline's latest of these bytes: an ad-hoc one (other data, another threshold) never becomes
    // the registered card's numbers while a stage measured them.
    const staged = dependedEvaluation(ctx, sha256, model.rel) ?? latestPipelineEvaluation(ctx.tracker, sha256, model.rel);
    const evaluation = staged ?? latestEvaluation(ctx.tracker, sha256, model.rel);
    if (!evaluation) {
      // The card is kept with the version for good: Runwise's numbers in it are of other bytes.
      const text = readCardText(card.abs, card.rel);
      const stripped = withoutRunwiseEntries(text, card.rel);
      if (stripped.text !== text) writeCardText(card.abs, stripped.text, card.rel);
      say(
        stripped.text !== text
          ? `${card.rel}: Runwise's metrics removed: they are of another evaluation, and ${model.rel} (sha256 ${sha256.slice(0, 12)}…) has no finished evaluation (does this step run after the evaluate step? list its output in deps:)`
          : `${card.rel}: left as it is: ${model.rel} (sha256 ${sha256.slice(0, 12)}…) has no finished evaluation`,
      );
    } else {
      const text = readCardText(card.abs, card.rel);
      const updated = updateCardText(text, evaluation, {
        file: card.rel,
        modelName: name,
      });
      if (updated.text !== text) writeCardText(card.abs, updated.text, card.rel);
      say(
        `${updated.text !== text ? `${card.rel}: updated with` : `${card.rel}: already holds the numbers of`} evaluation run ${evaluation.runId} ` +
          `(${staged ? "the pipeline's" : 'no pipeline stage evaluated these bytes: the latest'}, on ${evaluation.dataset.path || evaluation.dataset.name}${evaluation.threshold !== undefined ? `, threshold ${evaluation.threshold}` : ''})`,
      );
      for (const problem of modelIndexProblems(updated.text, card.rel)) say(`warning: ${problem}`);
    }
  }
  const cardSha = card ? sha256OfFile(card.abs) : undefined;
  const same = ctx.tracker.registry
    .versionsWithHash(sha256)
    .filter((v) => v.name === name && v.card?.sha256 === cardSha);
  const existing = same[same.length - 1];
  let version;
  if (existing) {
    if (alias !== undefined)
      ctx.tracker.registry.setAlias(name, alias, existing.version, currentUser());
    version = ctx.tracker.registry.getModelVersion(name, existing.version);
    // A version's description is not its content: a changed one is updated on the version reused, as tags are.
    const described = description !== undefined && description !== version.description;
    if (described) version = ctx.tracker.registry.updateModelVersion(name, existing.version, description);
    say(
      `${name} version ${version.version} already holds these bytes${card ? " and this card" : ""}: no new version${alias !== undefined ? `; @${alias} points at it` : ""}${described ? "; its description updated" : ""}`,
    );
  } else {
    version = await ctx.tracker.registerModelFiles(name, model.abs, {
      source: model.rel,
      runId: ctx.runId,
      userId: currentUser(),
      ...(card ? { cardPath: card.abs } : {}),
      ...(alias !== undefined ? { alias } : {}),
      ...(description !== undefined ? { description } : {}),
    });
    say(
      `Registered ${name} version ${version.version}${alias !== undefined ? ` (@${alias})` : ""}: sha256 ${version.sha256}`,
    );
  }
  const tags = ctx.settings.tags;
  if (tags && typeof tags === 'object' && !Array.isArray(tags)) {
    for (const [key, value] of Object.entries(tags)) ctx.tracker.registry.setModelVersionTag(name, version.version, { key, value: String(value) });
  }
  // Not MODEL_SHA256_TAG: that marks the runs that evaluated the bytes, which cards and gates read.
  ctx.tracker.setTag(ctx.runId, { key: REGISTERED_VERSION_TAG, value: `${name}/${version.version}` });
}

/**
 * The evaluation named by an evaluate step's report (its `output:` JSON, `{run_id, model: {sha256}}`)
 * among the step's deps, of these very bytes and finished: the one the step waits for, when the
 * pipeline evaluates the model in more than one stage (test data, live data at another threshold).
 */
function dependedEvaluation(ctx: BuiltinStepContext, sha256: string, subject: string): CardEvaluation | undefined {
  let found: CardEvaluation | undefined;
  for (const dep of ctx.stage.deps) {
    if (!/\.json$/i.test(dep)) continue;
    let report: { run_id?: unknown; model?: { sha256?: unknown } };
    try {
      const abs = path.join(ctx.root, ...dep.split("/"));
      if (statSync(abs).size > 64 * 1024 * 1024) continue;
      report = JSON.parse(readFileSync(abs, "utf8")) as typeof report;
    } catch {
      continue;
    }
    if (typeof report?.run_id !== "string" || report.model?.sha256 !== sha256) continue;
    try {
      const run = ctx.tracker.getRun(report.run_id);
      if (run.info.status === "FINISHED" && run.info.lifecycleStage === "active") found = cardEvaluationOf(ctx.tracker, run, subject);
    } catch {
      /* a run no longer in the tracker: the next way of finding one */
    }
  }
  return found;
}

/** On a `register` step's run: the version it registered or reused, `NAME/VERSION`. */
export const REGISTERED_VERSION_TAG = "runwise.registered_version";

async function evaluateStep(
  ctx: BuiltinStepContext,
  say: (line: string) => void,
): Promise<void> {
  const model = stepPath(ctx, "model", true)!;
  const data = stepPath(ctx, "data", true)!;
  const target = settingText(ctx.settings, "target");
  if (target === undefined)
    throw new StepFailure(
      `evaluate.target is missing (${ctx.stage.file}:${ctx.stage.line})`,
    );
  const num = (key: string): number | undefined => {
    const v = ctx.settings[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new StepFailure(
        `evaluate.${key} must be a number (${ctx.stage.file}:${ctx.stage.line})`,
      );
    return v;
  };
  const features = ctx.settings.features;
  // A list (as written, or a whole `${...}` naming one); anything else would feed every column silently.
  if (features !== undefined && features !== null && !Array.isArray(features))
    throw new StepFailure(`evaluate.features must be a list of column names, not ${JSON.stringify(features)} (${ctx.stage.file}:${ctx.stage.line})`);
  const sliceBy = ctx.settings.slice_by;
  const given = settingText(ctx.settings, "task");
  // 'classification' (the schema takes it, from pipelines written before the three tasks): binary
  // or multiclass as the model's output says, and refused for a regressor below.
  const classification = given === "classification";
  const task = classification ? undefined : given;
  const { evaluateModel, EVALUATION_TASKS } =
    await import("../evaluation/evaluate");
  if (Array.isArray(sliceBy) && sliceBy.length > 1)
    throw new StepFailure(
      `evaluate.slice_by takes one column (got ${sliceBy.length}: ${sliceBy.join(", ")}); an evaluation is sliced by one column at a time (${ctx.stage.file}:${ctx.stage.line})`,
    );
  if (
    task !== undefined &&
    !(EVALUATION_TASKS as readonly string[]).includes(task)
  ) {
    throw new StepFailure(
      `evaluate.task '${task}' is not one of ${EVALUATION_TASKS.join(", ")} (${ctx.stage.file}:${ctx.stage.line})`,
    );
  }
  const threshold = num("threshold");
  const batchSize = num("batch_size");
  const report = await evaluateModel({
    model: model.abs,
    data: data.abs,
    target,
    workspace: ctx.root,
    tracker: ctx.tracker,
    experimentId: ctx.experimentId,
    // The evaluation's own run sits under the stage's run, in the pipeline run's tree.
    parentRunId: ctx.runId,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(task !== undefined
      ? { task: task as (typeof EVALUATION_TASKS)[number] }
      : {}),
    ...(threshold !== undefined ? { threshold } : {}),
    ...(batchSize !== undefined ? { batchSize } : {}),
    ...(Array.isArray(features) ? { features: features.map(String) } : {}),
    ...(Array.isArray(sliceBy) && sliceBy.length > 0
      ? { sliceBy: String(sliceBy[0]) }
      : typeof sliceBy === "string"
        ? { sliceBy }
        : {}),
  });
  if (classification && report.task === "regression")
    throw new StepFailure(
      `evaluate.task is 'classification', but ${model.rel} gives one value per row, as a regressor does (task: binary reads it as P(class 1)) (${ctx.stage.file}:${ctx.stage.line})`,
    );
  // The registry finds a model's evaluations by MODEL_SHA256_TAG; the stage's run carries the
  // metrics, so gates read them as any stage's.
  if (report.run_id)
    ctx.tracker.logBatch(report.run_id, {
      tags: [{ key: MODEL_SHA256_TAG, value: report.model.sha256 }],
    });
  // `metrics:` picks what the stage's run logs (its gates read those); the evaluation's own run
  // and the report keep every metric.
  const listed = ctx.settings.metrics;
  let logged = Object.entries(report.metrics);
  if (Array.isArray(listed) && listed.length > 0) {
    const names = listed.map(String);
    const unknown = names.filter((m) => !(m in report.metrics));
    if (unknown.length > 0)
      throw new StepFailure(
        `evaluate.metrics lists ${unknown.map((m) => `'${m}'`).join(", ")}, which a ${report.task} evaluation does not give (it gives ${Object.keys(report.metrics).join(", ")}) (${ctx.stage.file}:${ctx.stage.line})`,
      );
    logged = logged.filter(([k]) => names.includes(k));
  }
  const now = Date.now();
  ctx.tracker.logBatch(ctx.runId, {
    metrics: logged
      .filter(([, v]) => Number.isFinite(v))
      .map(([key, value]) => ({ key, value, timestamp: now, step: 0 })),
    tags: report.run_id
      ? [{ key: EVALUATION_RUN_TAG, value: report.run_id }]
      : [],
  });
  const output = settingText(ctx.settings, "output");
  if (output !== undefined) {
    const wdir = path.join(
      ctx.root,
      ...ctx.stage.wdir.split("/").filter(Boolean),
    );
    const abs = resolveInside(ctx.root, output, wdir);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, `${JSON.stringify(report, null, 2)}\n`);
  }
  const shown = Object.entries(report.metrics)
    .map(([k, v]) => `${k} ${Number(v.toPrecision(4))}`)
    .join(", ");
  say(
    `Evaluated ${model.rel} on ${data.rel} (${report.rows} rows, ${report.task}): ${shown}`,
  );
}

export { EVALUATION_RUN_TAG };

/**
 * `drift: {reference, current, columns, tests, threshold, drift_share, fail_on_drift, output}`:
 * compares the two datasets (core/drift) and logs the report on the stage's run through
 * logDriftRun, as `runwise drift --log` does (`drift_share`, `drifted_columns`, `drift_score/<column>`…,
 * so gates read them), stores the report as the run's
 * `drift/report.json`, writes it to `output` when given, and fails the stage when the dataset
 * drifts and `fail_on_drift` is set.
 */
async function driftStep(
  ctx: BuiltinStepContext,
  say: (line: string) => void,
): Promise<void> {
  const where = `(${ctx.stage.file}:${ctx.stage.line})`;
  const reference = stepPath(ctx, "reference", true)!;
  const current = stepPath(ctx, "current", true)!;
  const { DRIFT_TEST_NAMES } = await import("../drift/driftReport");
  const { computeDrift } = await import("../drift/driftEngine");
  const s = ctx.settings;
  const columns = s.columns;
  if (columns !== undefined && (!Array.isArray(columns) || columns.some((c) => typeof c !== "string")))
    throw new StepFailure(`drift.columns must be a list of column names ${where}`);
  const tests = s.tests;
  if (tests !== undefined && typeof tests !== "string")
    throw new StepFailure(`drift.tests: a test per column is not supported yet; give one test for every column ${where}`);
  if (tests !== undefined && !(DRIFT_TEST_NAMES as readonly string[]).includes(tests))
    throw new StepFailure(`drift.tests: '${tests}' is not one of ${DRIFT_TEST_NAMES.join(", ")} ${where}`);
  const number = (key: string, min: number, max: number): number | undefined => {
    const v = s[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max)
      throw new StepFailure(`drift.${key} must be a number from ${min} to ${max}, not ${JSON.stringify(v)} ${where}`);
    return v;
  };
  if (s.threshold !== undefined && typeof s.threshold === "object" && s.threshold !== null)
    throw new StepFailure(`drift.threshold: a threshold per column is not supported yet; give one number for every column ${where}`);
  const threshold = number("threshold", 0, Number.MAX_VALUE);
  const driftShare = number("drift_share", 0, 1);
  const failOnDrift = s.fail_on_drift;
  if (failOnDrift !== undefined && typeof failOnDrift !== "boolean")
    throw new StepFailure(`drift.fail_on_drift must be true or false ${where}`);
  const report = await computeDrift(
    reference.abs,
    current.abs,
    {
      ...(columns !== undefined ? { columns: columns as string[] } : {}),
      ...(tests !== undefined ? { test: tests as (typeof DRIFT_TEST_NAMES)[number] } : {}),
      ...(threshold !== undefined ? { threshold } : {}),
      ...(driftShare !== undefined ? { driftShare } : {}),
    },
    { reference: reference.rel, current: current.rel },
  );
  const { logDriftRun } = await import("../drift/driftTracking");
  // The inputs' digests are the md5s the runner hashed the stage's dependencies with (its hash
  // cache answers from their stat), so lineage joins them with the stage that wrote them.
  const md5 = { reference: ctx.hashes.hash(reference.rel)?.md5, current: ctx.hashes.hash(current.rel)?.md5 };
  await logDriftRun(ctx.tracker, report, { runId: ctx.runId, md5, files: { reference: reference.abs, current: current.abs } });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const output = settingText(ctx.settings, "output");
  if (output !== undefined) {
    const wdir = path.join(ctx.root, ...ctx.stage.wdir.split("/").filter(Boolean));
    const abs = resolveInside(ctx.root, output, wdir);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, json);
  }
  const verdict = `${report.n_drifted} of ${report.n_columns} columns drifted (drift share ${Number(report.drift_share.toPrecision(4))})`;
  say(`Compared ${current.rel} with ${reference.rel}: ${report.dataset_drift ? "dataset drift" : "no dataset drift"}, ${verdict}`);
  for (const c of report.columns) {
    if (c.drifted) say(`  drifted: ${c.name} (${c.test} ${c.score === null ? "–" : Number(c.score.toPrecision(4))}, threshold ${c.threshold})`);
  }
  if (report.dataset_drift && failOnDrift === true)
    throw new StepFailure(`the dataset drifts: ${verdict}; fail_on_drift is set ${where}`);
  // Its drift_share of 0 would pass any gate: nothing was compared.
  if (report.n_columns === 0)
    throw new StepFailure(`no column could be compared (${report.columns.map((c) => `${c.name}: ${c.skipped ?? "not checked"}`).join("; ")}) ${where}`);
}
