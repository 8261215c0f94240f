/**
 * `runwise card update CARD --from NAME[/VERSION|@ALIAS]` (no version: the latest): writes the version's latest evaluation
 * (the latest finished run tagged with the version's model sha256) into the card, editing only the
 * entries Runwise writes (core/modelCard/cardUpdate.ts). `runwise card validate CARD`: the language
 * server's diagnostics for the card, as `runwise check CARD` prints them.
 *
 * A registered version is immutable, its stored card too: an updated card reaches the registry with
 * the next registration (`models register --card CARD`, or a pipeline's `register: {card: CARD}`,
 * which first writes the evaluation of the very bytes it registers into the card).
 */
import { optionValue, positionals, UsageError, type ParsedArgs } from "../args";
import { CliError, type CommandContext } from "../context";
import { oneLine } from "../table";
import { readCardText, writeCardText } from "../../modelCard/cardFile";
import { cardEvaluationOf, evaluationRunIds, latestEvaluation } from "../../modelCard/cardEvaluation";
import { MODEL_SHA256_TAG } from "../../tracker/model";
import {
  cardFormatOf,
  CardUpdateError,
  EMPTY_FRONT_MATTER,
  huggingFaceDatasetType,
  modelIndexProblems,
  runwiseResults,
  updateCardText,
  type CardFormat,
} from "../../modelCard/cardUpdate";
import { extractFrontMatter, unclosedFrontMatterLine } from "../../language/modelCard/frontMatter";
import { relativeInside, resolveRealInside } from "../../workspace/workspacePath";
import { commandLinePath } from "../../workspace/workspaceRoot";
import { shellWord } from "../../pipeline/pythonCommand";

export function cardUpdate(ctx: CommandContext, args: ParsedArgs): void {
  const [card] = positionals(args, ["card"]);
  const from = optionValue(args, "from");
  if (from === undefined)
    throw new UsageError(
      "card update needs --from NAME/VERSION (or NAME@ALIAS): the registered version whose evaluation goes into the card",
    );
  const { abs, rel, text } = namedCard(ctx, card!);
  if (!ctx.hasTracker())
    throw new CliError(
      `No tracker in ${ctx.workspace}: nothing is registered yet`,
    );
  const tracker = ctx.openTracker();
  const version = tracker.registry.resolveVersion(
    tracker.registry.parseRef(from),
  );
  const subject = `${version.name}/${version.version}`;
  // The version's stored files re-hashed first, as every read of a version is: a changed copy is refused.
  tracker.registry.verifyVersion(version.name, version.version);
  const chosen = optionValue(args, "run");
  let evaluation;
  if (chosen !== undefined) {
    // An evaluation picked by hand (its data, threshold or task): it must have measured these bytes.
    const runId = tracker.resolveRunId(chosen);
    if (!evaluationRunIds(tracker, version.sha256).includes(runId)) {
      throw new CliError(
        `run ${runId.slice(0, 8)} is not a finished evaluation of ${subject} (sha256 ${version.sha256.slice(0, 12)}…): an evaluation of these bytes is tagged ${MODEL_SHA256_TAG}=${version.sha256.slice(0, 12)}…`,
      );
    }
    evaluation = cardEvaluationOf(tracker, tracker.getRun(runId), subject);
  } else evaluation = latestEvaluation(tracker, version.sha256, subject);
  if (!evaluation) {
    throw new CliError(
      `${subject} has no finished evaluation (sha256 ${version.sha256.slice(0, 12)}…): run \`runwise evaluate ${shellWord(`models:/${subject}`)} --data FILE --target COLUMN\` first`,
    );
  }
  // Runwise's earlier result of other data, which the update replaces (a card holds one): said.
  const newData = huggingFaceDatasetType(evaluation);
  const replaced = runwiseResults(text, rel).filter((r) => r.dataset !== undefined && r.dataset !== newData);
  const updated = asCliError(() =>
    updateCardText(text, evaluation, { file: rel, modelName: version.name }),
  );
  // Kept as it is (the card's bytes are the user's), but said: huggingface_hub reads no metadata after it.
  // (A *.modelcard.yaml is read by YAML parsers, which take the mark.)
  if (text.charCodeAt(0) === 0xfeff && !/\.ya?ml$/i.test(rel))
    ctx.io.err(`runwise: warning: ${rel} starts with a byte order mark: ${/\.json$/i.test(rel) ? "Python's json refuses it, so the toolkit cannot read the card" : 'huggingface_hub (ModelCard.load, metadata_load) finds no metadata after it'}; save it as UTF-8 without BOM\n`);
  if (updated.text !== text) asCliError(() => writeCardText(abs, updated.text, rel));
  // What the user wrote is kept; what the Hub cannot read in it (the new entry unread with it) is said.
  for (const problem of modelIndexProblems(updated.text, rel)) ctx.io.err(`runwise: warning: ${problem}\n`);
  if (ctx.json) {
    ctx.printJson({
      card: rel,
      from: subject,
      run_id: evaluation.runId,
      data: { path: evaluation.dataset.path || evaluation.dataset.name, sha256: evaluation.dataset.sha256 },
      ...(evaluation.task !== undefined ? { task: evaluation.task } : {}),
      ...(evaluation.threshold !== undefined ? { threshold: evaluation.threshold } : {}),
      changed: updated.text !== text,
      replaced: replaced.map((r) => ({ data: r.dataset, ...(r.runId ? { run_id: r.runId } : {}) })),
      metrics: Object.fromEntries(
        evaluation.metrics.map((m) => [m.key, m.value]),
      ),
    });
    return;
  }
  const shown = evaluation.metrics
    .map((m) => `${m.key} ${Number(m.value.toPrecision(4))}`)
    .join(", ");
  ctx.io.out(
    updated.text === text
      ? `${rel} already carries the evaluation of ${subject} (run ${evaluation.runId})\n`
      : `Updated ${rel} from ${subject} (evaluation run ${evaluation.runId} on ${evaluation.dataset.path || evaluation.dataset.name}${evaluation.threshold !== undefined ? `, threshold ${evaluation.threshold}` : ""}): ${shown}\n` +
          replaced.map((r) => `  replacing its earlier Runwise result on ${oneLine(r.dataset!)}${r.runId ? ` (run ${r.runId})` : ""}: a card holds one; \`--run\` picks the evaluation to show\n`).join(""),
  );
}

export function cardValidate(ctx: CommandContext, args: ParsedArgs): void {
  const [card] = positionals(args, ["card"]);
  const { rel, format, text } = namedCard(ctx, card!);
  // Front matter opened and never closed is the analysis's `unclosed-front-matter` error (in --json too).
  if (format === "huggingface" && unclosedFrontMatterLine(text) === undefined) {
    if (!extractFrontMatter(text))
      throw new CliError(
        EMPTY_FRONT_MATTER.test(text.replace(/^\uFEFF/, ""))
          ? `${rel}: the front matter is empty (\`---\` then \`---\`): no card metadata to validate (\`runwise card update\` adds it)`
          : `${rel}: no YAML front matter (\`---\` … \`---\` at the top): no card metadata to validate (\`runwise card update\` adds it)`,
      );
  }
  // The same analysis as `runwise check CARD` (loaded on use as check is), whatever the Markdown file's name.
  (require("./check") as typeof import("./check")).check(
    ctx,
    { ...args, positionals: [card!] },
    { asCard: true },
  );
}

/** The card named on the command line: its path, format and text (a CLI error when it is none). */
function namedCard(ctx: CommandContext, card: string): { abs: string; rel: string; format: CardFormat; text: string } {
  // As `check` reads it: from the current folder, or else from the workspace (-w proj from elsewhere).
  const abs = resolveRealInside(ctx.workspace, commandLinePath(ctx.workspace, card));
  const rel = relativeInside(ctx.workspace, abs) ?? card;
  const format = cardFormatOf(rel);
  if (!format)
    throw new CliError(
      `${rel}: not a model card (expected a Markdown file such as README.md, *.modelcard.yaml or model_card.json)`,
    );
  return { abs, rel, format, text: asCliError(() => readCardText(abs, rel)) };
}

/** A card that cannot be read or edited as the CLI's one-line error. */
function asCliError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof CardUpdateError) throw new CliError(e.message);
    throw e;
  }
}
