/**
 * Writes an evaluation (cardEvaluation.ts) into a model card by editing its text in place: only the
 * entries Runwise writes change, so the user's comments, key order, quoting and line breaks stay
 * as they were, byte for byte, everywhere else.
 *
 * - A Hugging Face card (README.md, its YAML front matter): one `model-index[].results[]` entry,
 *   `{task, dataset: {type, name, revision: <sha256 of the data>}, metrics: [{type, value, name}],
 *   source: {name: 'Runwise evaluation', url: 'runs:/<evaluation run>'}}`. The `source.name` marks
 *   the entry as Runwise's: the next update replaces it. It goes into the `model-index` item that
 *   already holds it, else the one named like the registered model, else the first; a card without
 *   `model-index` (or without front matter) gets one.
 * - A Model Card Toolkit card (`*.modelcard.yaml`): `quantitative_analysis.performance_metrics`
 *   entries `{type, value, slice}` — the toolkit's PerformanceMetric fields, so that
 *   `ModelCard.from_json` still loads the card — one per metric on the whole dataset (slice
 *   `overall`) and one per metric and slice value (`column=value`). A `# runwise` comment after
 *   each entry's `type` marks it (as does the `name: 'Runwise: …'` earlier versions wrote): the
 *   next update replaces all of them, where the first one was.
 *
 * A card's dataset path outside the workspace is written as the file's name only (a card is
 * published; the path of someone's home folder is not for it).
 *
 * The YAML is read with the `yaml` package for its nodes' offsets; what is written is rendered by
 * it too, indented like the block it goes into, with the file's own line break.
 */
import {
  Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parse,
  parseDocument,
  visit,
  type Node,
  type Pair,
  type YAMLMap,
} from "yaml";
import {
  extractFrontMatter,
  unclosedFrontMatterLine,
} from "../language/modelCard/frontMatter";
import { isJsonCardName } from "../language/modelCard/cardNames";
import { CardUpdateError, type TextEdit } from "./cardEdit";
import type { CardEvaluation } from "./cardEvaluation";
import { checkCardJson, toolkitJsonEdits } from "./jsonCardUpdate";

export type CardFormat = "huggingface" | "model-card-toolkit";

/**
 * A card's format by its file name: a Markdown file is a Hugging Face card, `*.modelcard.yaml` a
 * Model Card Toolkit one, and so is its JSON (`model_card.json`, `*.modelcard.json`).
 */
export function cardFormatOf(fileName: string): CardFormat | undefined {
  if (/\.md$/i.test(fileName)) return "huggingface";
  if (/\.modelcard\.ya?ml$/i.test(fileName) || isJsonCardName(fileName)) return "model-card-toolkit";
  return undefined;
}

export { CardUpdateError, type TextEdit } from "./cardEdit";

export interface CardUpdateResult {
  text: string;
  /** What changed, in the original's offsets, in order. */
  edits: TextEdit[];
}

/** The source name that marks a `model-index` result as Runwise's. */
export const HF_SOURCE_NAME = "Runwise evaluation";
/** The comment after a performance metric's `type` that marks it as Runwise's. */
export const MCT_MARK = "runwise";
/** The prefix of the `name` that marked a performance metric as Runwise's before MCT_MARK (still recognised). */
export const MCT_NAME_PREFIX = "Runwise: ";

const PRETTY: Readonly<Record<string, string>> = {
  accuracy: "Accuracy",
  precision: "Precision",
  recall: "Recall",
  f1: "F1",
  roc_auc: "ROC AUC",
  average_precision: "Average precision",
  log_loss: "Log loss",
  mae: "MAE",
  mse: "MSE",
  rmse: "RMSE",
  r2: "R²",
  mape: "MAPE",
};

/** A metric name Runwise's evaluation writes into a card (scikit-learn's: `accuracy`, `f1_macro`, `rmse`, …). */
export function isRunwiseMetricName(key: string): boolean {
  return Object.hasOwn(PRETTY, key) || AVERAGED.test(key);
}

const AVERAGED = /^(precision|recall|f1|roc_auc)_(macro|weighted)$/;

/**
 * Whether a JSON card's performance metric is one Runwise writes (JSON has no comment to mark it):
 * a metric name of its evaluation on a slice it names, `overall` or `column=value`, with no field
 * besides the `type`, `value` and `slice` Runwise writes. A hand-written `accuracy` on
 * `validation set (hand-measured)`, or on `overall` with a `confidence_interval`, is not.
 */
function isRunwiseJsonEntry(entry: Record<string, unknown> & { type: string }): boolean {
  if (!Object.keys(entry).every((k) => k === "type" || k === "value" || k === "slice")) return false;
  // `column=value` as Runwise names a slice: not a comparison (`tenure>=24`, `age != x`) nor a note (`holdout (n=500)`).
  return isRunwiseMetricName(entry.type) && typeof entry.slice === "string" && (entry.slice === "overall" || /^[^\s=<>!(][^=<>!(]*=(?!=)/.test(entry.slice));
}

export function prettyMetricName(key: string): string {
  const known = PRETTY[key];
  if (known) return known;
  const m = AVERAGED.exec(key);
  if (m) return `${PRETTY[m[1]!]} (${m[2]})`;
  return key.replace(/_/g, " ");
}

/** A metric value as the card shows it: six significant digits (what an evaluation can tell apart). */
function cardNumber(v: number): number {
  return Number.isInteger(v) ? v : Number(v.toPrecision(6));
}

const HF_TASKS: Readonly<Record<string, { type: string; name: string }>> = {
  binary: { type: "tabular-classification", name: "Binary classification" },
  multiclass: {
    type: "tabular-classification",
    name: "Multiclass classification",
  },
  regression: { type: "tabular-regression", name: "Regression" },
};

export function huggingFaceResult(e: CardEvaluation): Record<string, unknown> {
  const task = (e.task && HF_TASKS[e.task]) || {
    type: "tabular-classification",
    name: e.task ?? "Evaluation",
  };
  return {
    task: { ...task },
    dataset: {
      type: huggingFaceDatasetType(e),
      name: e.dataset.name,
      // No `args`: the card spec keeps it for load_dataset()'s arguments, which a row count is not.
      ...(e.dataset.sha256 ? { revision: e.dataset.sha256 } : {}),
    },
    metrics: e.metrics.map((m) => huggingFaceMetric(m.key, m.value)),
    source: { name: HF_SOURCE_NAME, url: `runs:/${e.runId}` },
  };
}

/**
 * A metric as the card spec has it: `type` a metric id of hf.co/metrics, its averaging in `args`
 * (what was passed to `compute()`), as real cards write `type: f1` with `args: {average: macro}`;
 * an `f1_macro` would be a metric id of its own to the Hub, grouped with no other model's `f1`.
 */
function huggingFaceMetric(key: string, value: number): Record<string, unknown> {
  const averaged = AVERAGED.exec(key);
  const metric: Record<string, unknown> = { type: averaged ? averaged[1]! : key, value: cardNumber(value), name: prettyMetricName(key) };
  // One-vs-rest: the multiclass ROC AUC Runwise computes (scikit-learn's roc_auc_score(multi_class="ovr")).
  if (averaged) metric.args = { average: averaged[2]!, ...(averaged[1] === "roc_auc" ? { multi_class: "ovr" } : {}) };
  return metric;
}

/** The `dataset.type` of an evaluation's Hugging Face result: its data's path as a card may show it, else its name. */
export function huggingFaceDatasetType(e: CardEvaluation): string {
  return publishablePath(e.dataset.path) || e.dataset.name;
}

/** A dataset path as a card may show it: workspace-relative as it is, else the file's name alone. */
function publishablePath(p: string): string {
  return p.startsWith("/") || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith("\\\\") ? p.split(/[\\/]/).pop()! : p;
}

/**
 * The toolkit's PerformanceMetric entries of an evaluation: `{type, value, slice}` (its fields are
 * `type`, `value`, `slice` and `confidence_interval`, and `ModelCard.from_json` refuses any other:
 * a binary evaluation's decision threshold has no place there and stays in the evaluation run).
 * `value` is text, as the toolkit's PerformanceMetric (`value: Optional[str]`), its proto and its
 * `to_json()` have it.
 */
export function toolkitMetrics(e: CardEvaluation): Record<string, unknown>[] {
  const entry = (key: string, value: number, slice: string) => ({ type: key, value: String(cardNumber(value)), slice });
  return [
    ...e.metrics.map((m) => entry(m.key, m.value, "overall")),
    ...e.slices.flatMap((s) =>
      s.metrics.map((m) => entry(m.key, m.value, s.name)),
    ),
  ];
}

export interface CardUpdateOptions {
  /** The file's name (workspace-relative), for its format and for messages. */
  file: string;
  /** The registered model's name: the `model-index` item it names receives the result. */
  modelName: string;
}

/** Front matter written empty: a line `---`, then a line `---` (`card validate` names it so). */
export const EMPTY_FRONT_MATTER = /^---[ \t]*\r?\n---[ \t]*(\r?\n|$)/;

/** The card's text with `evaluation` written in. Throws CardUpdateError when the card cannot be edited safely. */
export function updateCardText(
  text: string,
  evaluation: CardEvaluation,
  options: CardUpdateOptions,
): CardUpdateResult {
  const format = cardFormatOf(options.file);
  if (!format)
    throw new CardUpdateError(
      `${options.file}: not a model card (expected README.md or another Markdown file with front matter, *.modelcard.yaml or model_card.json)`,
    );
  const eolOf = (part: string) =>
    part.includes("\r\n") ? "\r\n" : part.includes("\n") ? "\n" : part.includes("\r") ? "\r" : undefined;
  const eol = eolOf(text) ?? "\n";
  if (format === "huggingface") {
    checkFrontMatterClosed(text, options.file);
    const fm = extractFrontMatter(text);
    if (!fm) {
      // No front matter: one is added at the top with the result.
      const block = render(
        {
          "model-index": [
            {
              name: options.modelName,
              results: [huggingFaceResult(evaluation)],
            },
          ],
        },
        "",
        eol,
      );
      // After a byte order mark: the file still starts with it, and the `---` opens the text.
      const at = text.startsWith("\uFEFF") ? 1 : 0;
      // An empty block as written (`---` then `---`, which the Hub reads as no front matter): filled
      // in place, not left below the new one as two rules at the top of the text.
      const empty = EMPTY_FRONT_MATTER.exec(text.slice(at));
      return apply(text, [
        { start: at, end: at + (empty?.[0].length ?? 0), text: `---${eol}${block}---${eol}` },
      ]);
    }
    // The front matter's own line breaks (its body may use others).
    const yaml = new YamlText(
      fm.yaml,
      fm.offset,
      text,
      options.file,
      (fm.yaml.trim() === "" ? undefined : eolOf(fm.yaml)) ?? eol,
    );
    return checkStillLoads(
      text,
      apply(text, shift(huggingFaceEdits(yaml, evaluation, options.modelName), fm.offset)),
      options.file,
    );
  }
  if (isJsonCardName(options.file))
    return apply(text, toolkitJsonEdits(text, toolkitMetrics(evaluation), options.file, isRunwiseJsonEntry));
  const yaml = new YamlText(text, 0, text, options.file, eol);
  return checkStillLoads(text, apply(text, toolkitEdits(yaml, evaluation)), options.file);
}

/**
 * The card without Runwise's entries (its `model-index` results, its toolkit performance metrics),
 * everything else byte for byte: for a version registered with no evaluation of its bytes, whose
 * stored card must not carry the numbers of other bytes. The text as it is when it holds none.
 */
export function withoutRunwiseEntries(text: string, file: string): CardUpdateResult {
  const format = cardFormatOf(file);
  if (!format) throw new CardUpdateError(`${file}: not a model card`);
  if (isJsonCardName(file)) return apply(text, toolkitJsonEdits(text, [], file, isRunwiseJsonEntry));
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  if (format === "huggingface") {
    const fm = extractFrontMatter(text);
    if (!fm) return { text, edits: [] };
    const yaml = new YamlText(fm.yaml, fm.offset, text, file, fm.yaml.includes("\r\n") ? "\r\n" : eol);
    const index = yaml.root ? pairOf(yaml.root, "model-index")?.value : undefined;
    if (!isSeq(index) || index.flow) return { text, edits: [] };
    const ours = (n: Node) => isRunwiseResult(n.toJSON());
    const edits = (index.items as Node[]).flatMap((item) => (isMap(item) ? yaml.removeEntries(item, "results", ours) : []));
    return checkStillLoads(text, apply(text, shift(edits, fm.offset)), file);
  }
  const yaml = new YamlText(text, 0, text, file, eol);
  const qa = yaml.root ? pairOf(yaml.root, "quantitative_analysis")?.value : undefined;
  return checkStillLoads(text, apply(text, isMap(qa) ? yaml.removeEntries(qa, "performance_metrics", isRunwiseMetric) : []), file);
}

/**
 * The Runwise results a Hugging Face card holds (one after an update): the dataset each is of and
 * its evaluation run, for saying what an update replaces. None for other cards.
 */
export function runwiseResults(text: string, file: string): { dataset?: string; runId?: string }[] {
  if (cardFormatOf(file) !== "huggingface") return [];
  const fm = extractFrontMatter(text);
  // A card that does not load (an alias with no anchor, too many): the update refuses it and says why.
  const loaded = fm ? loadedCardYaml(fm.yaml) : undefined;
  if (!loaded) return [];
  const index = (loaded.data as Record<string, unknown> | null)?.["model-index"];
  if (!Array.isArray(index)) return [];
  return index
    .flatMap((item) => (Array.isArray((item as { results?: unknown } | null)?.results) ? ((item as { results: unknown[] }).results) : []))
    .filter(isRunwiseResult)
    .map((r) => {
      const { dataset, source } = r as { dataset?: { type?: unknown }; source?: { url?: unknown } };
      const run = typeof source?.url === "string" ? /^runs:\/([0-9a-f]+)/i.exec(source.url)?.[1] : undefined;
      return { ...(typeof dataset?.type === "string" ? { dataset: dataset.type } : {}), ...(run ? { runId: run } : {}) };
    });
}

/**
 * What in a Hugging Face card's `model-index` huggingface_hub cannot read, each as `file:line: …`
 * (none for other cards, or when the front matter does not parse). `model_index_to_eval_results`
 * indexes `name`, `results`, `task.type`, `dataset.type`, `dataset.name`, `metrics` and each
 * metric's `type` and `value` directly, so one result missing any of them makes `ModelCardData`
 * refuse the card's whole `model-index` (or, with `ignore_metadata_errors`, drop every result:
 * Runwise's too). `card update` keeps what the user wrote and says so.
 */
export function modelIndexProblems(text: string, file: string): string[] {
  if (cardFormatOf(file) !== "huggingface") return [];
  const fm = extractFrontMatter(text);
  if (!fm) return [];
  // Read as PyYAML loads it: aliases resolved, merge keys (`<<: *defaults`) merged.
  const loaded = loadedCardYaml(fm.yaml, { merge: true });
  if (!loaded || !isMap(loaded.doc.contents)) return [];
  const { doc, data } = loaded;
  const index = (data as Record<string, unknown>)["model-index"];
  if (!Array.isArray(index)) return [];
  const problems: string[] = [];
  // Where a value is written: its node along `path` (aliases followed), or the nearest one above it
  // (a key a merge brings in is written where its anchor is).
  const at = (path: (string | number)[], what: string) => {
    let node: unknown = doc.contents;
    let found: unknown = node;
    for (const step of ["model-index", ...path]) {
      if (isAlias(node)) node = node.resolve(doc);
      node = isMap(node) ? node.get(step, true) : isSeq(node) && typeof step === "number" ? node.items[step] : undefined;
      if (!isNode(node)) break;
      found = node;
    }
    const start = isNode(found) && found.range ? found.range[0] : 0;
    problems.push(`${file}:${lineAt(loneCrAsLf(text), fm.offset + start)}: ${what}`);
  };
  // A key absent is a KeyError there; a mapping or list given as something else (null too) a TypeError.
  const missing = (map: unknown, keys: string[]): string[] => keys.filter((k) => !isPlainObject(map) || !(k in map));
  index.forEach((item: unknown, i) => {
    const gone = missing(item, ["name", "results"]);
    if (gone.length > 0) return at([i], `a \`model-index\` item without ${gone.map((k) => `\`${k}\``).join(" or ")}`);
    const results = (item as Record<string, unknown>).results;
    if (!Array.isArray(results)) return at([i, "results"], "`results` is not a list");
    results.forEach((result: unknown, j) => {
      const where = [i, "results", j];
      if (!isPlainObject(result)) return at(where, "a result that is not a mapping");
      const lacks = missing(result, ["task", "dataset", "metrics"]);
      const wrong: string[] = [];
      for (const key of ["task", "dataset"] as const) {
        if (!(key in result)) continue;
        const part = result[key];
        if (isPlainObject(part)) lacks.push(...missing(part, key === "task" ? ["type"] : ["type", "name"]).map((k) => `${key}.${k}`));
        else wrong.push(`\`${key}\` is not a mapping`);
      }
      const metrics = result.metrics;
      if ("metrics" in result && !Array.isArray(metrics)) wrong.push("`metrics` is not a list");
      if (lacks.length > 0) at(where, `a result without ${lacks.map((k) => `\`${k}\``).join(", ")}`);
      if (wrong.length > 0) at(where, `a result whose ${wrong.join(", ")}`);
      if (Array.isArray(metrics))
        metrics.forEach((metric: unknown, k) => {
          const m = missing(metric, ["type", "value"]);
          if (m.length > 0) at([...where, "metrics", k], `a metric without ${m.map((x) => `\`${x}\``).join(" or ")}`);
        });
    });
  });
  return problems.map((p) => `${p}: huggingface_hub cannot read the card's \`model-index\` (ModelCardData refuses it, or drops every result with ignore_metadata_errors)`);
}

/**
 * The model a card names, for a registration's suggested name: a Hugging Face card's first
 * `model-index` item's `name` (or its `model_name`), a Model Card Toolkit card's
 * `model_details.name`; the part after the last `/` of a Hub id (`org/churn` → `churn`). Undefined
 * when it names none or its YAML does not parse.
 */
export function cardModelName(text: string, file: string): string | undefined {
  const format = cardFormatOf(file);
  const yaml = format === "huggingface" ? extractFrontMatter(text)?.yaml : format ? text : undefined;
  if (yaml === undefined) return undefined;
  const doc = parseDocument(yaml);
  if (doc.errors.length > 0) return undefined;
  const root = doc.toJS() as Record<string, unknown> | null;
  if (!root || typeof root !== "object") return undefined;
  const index = root["model-index"];
  const first = Array.isArray(index) ? (index[0] as Record<string, unknown> | undefined) : undefined;
  const details = root.model_details as Record<string, unknown> | undefined;
  const named = [first?.name, root.model_name, details && typeof details === "object" ? details.name : undefined].find((n): n is string => typeof n === "string" && n.trim() !== "");
  return named?.trim().split("/").pop() || undefined;
}

/**
 * Refuses a card whose YAML (a Markdown card's front matter, or a Model Card Toolkit file) does not
 * parse, naming the line: what the Hub and the toolkit could not read either.
 */
export function checkCardYaml(text: string, file: string): void {
  const format = cardFormatOf(file);
  if (isJsonCardName(file)) return checkCardJson(text, file);
  const front = format === "huggingface" ? extractFrontMatter(text) : undefined;
  if (format === "huggingface" && !front) return;
  parseCardYaml(loneCrAsLf(front ? front.yaml : text), front ? front.offset : 0, loneCrAsLf(text), file);
}

/**
 * The text with each lone CR (classic Mac line ends) as LF, one character for one so that offsets
 * hold: YAML (and PyYAML, which huggingface_hub reads cards with) takes a lone CR as a line break,
 * the `yaml` package does not.
 */
function loneCrAsLf(text: string): string {
  return text.includes("\r") ? text.replace(/\r(?!\n)/g, "\n") : text;
}

/** The card's YAML (at `offset` in the file's `whole` text) parsed; a CardUpdateError naming the line when it does not parse. */
function parseCardYaml(yaml: string, offset: number, whole: string, file: string): ReturnType<typeof parseDocument> {
  // A key given twice is refused, as `card validate` reports it (an update could match either).
  const doc = parseDocument(yaml);
  const error = doc.errors[0];
  if (error) {
    // The parser's own "at line N, column M" counts from the YAML's start, not the file's.
    const at = offset + error.pos[0];
    const column = at - whole.lastIndexOf("\n", at - 1);
    // The yaml package's advice to its caller ("please use YAML.parseAllDocuments()") is no help to a user.
    const what =
      error.code === "MULTIPLE_DOCS"
        ? "a second YAML document starts here (a `---` or `...` line); a card holds one"
        : error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    throw new CardUpdateError(`${file}:${lineAt(whole, at)}:${column}: the card's YAML does not parse: ${what}`);
  }
  // Aliases that expand past what a reader should take (a "billion laughs" card): every YAML reader
  // of the card (PyYAML in huggingface_hub) would expand them. Refused, as card validate reports it.
  if (yaml.includes("*")) {
    try {
      doc.toJS({ maxAliasCount: CARD_ALIAS_LIMIT });
    } catch (e) {
      const unresolved = unresolvedAlias(e);
      if (unresolved !== undefined) {
        // The alias node itself, not a `*name` in a string or a comment before it.
        let at = offset;
        visit(doc, {
          Alias: (_, node) => {
            if (node.source !== unresolved || !node.range) return undefined;
            at = offset + node.range[0];
            return visit.BREAK;
          },
        });
        throw new CardUpdateError(`${file}:${lineAt(whole, at)}: the card's YAML uses the alias *${unresolved} with no anchor &${unresolved} before it: no YAML reader can load the card`);
      }
      throw new CardUpdateError(`${file}: the card's YAML expands its aliases too far (${(e as Error).message.split("\n")[0]}): a reader would exhaust its memory; refused`);
    }
  }
  return doc;
}

/**
 * A card's YAML (its front matter's, or a toolkit file's) parsed and loaded, lone CRs as line
 * breaks; undefined when it does not parse or load (an alias with no anchor, too many aliases).
 */
function loadedCardYaml(yaml: string, options: { merge?: boolean } = {}): { doc: ReturnType<typeof parseDocument>; data: unknown } | undefined {
  const doc = parseDocument(loneCrAsLf(yaml), options);
  if (doc.errors.length > 0) return undefined;
  try {
    return { doc, data: doc.toJS({ maxAliasCount: CARD_ALIAS_LIMIT }) };
  } catch {
    return undefined;
  }
}

/** The alias name of the yaml package's "Unresolved alias" error (it is raised by toJS, not listed in doc.errors), else undefined. */
function unresolvedAlias(e: unknown): string | undefined {
  return /^Unresolved alias[^:]*: (.+)$/m.exec(e instanceof Error ? e.message : "")?.[1]?.trim();
}

/**
 * What would keep a YAML reader from loading the card's YAML (`yaml`, the front matter's or the
 * toolkit file's): the first parse error, or an alias with no anchor; undefined when it loads.
 */
function yamlLoadProblem(yaml: string): string | undefined {
  const doc = parseDocument(loneCrAsLf(yaml));
  if (doc.errors[0]) return doc.errors[0].message.split("\n")[0];
  try {
    doc.toJS({ maxAliasCount: CARD_ALIAS_LIMIT });
  } catch (e) {
    const unresolved = unresolvedAlias(e);
    return unresolved === undefined ? (e as Error).message.split("\n")[0] : `the alias *${unresolved} has no anchor &${unresolved} before it`;
  }
  return undefined;
}

/**
 * Refuses an edit after which the card's YAML no longer loads where it did (an anchor inside
 * Runwise's entry, which the edit rewrites, that a key outside it uses): nothing is written.
 */
function checkStillLoads(before: string, after: CardUpdateResult, file: string): CardUpdateResult {
  if (after.text === before || isJsonCardName(file)) return after;
  const yamlOf = (text: string) => (cardFormatOf(file) === "huggingface" ? extractFrontMatter(text)?.yaml : text);
  const was = yamlOf(before);
  const now = yamlOf(after.text);
  if (now === undefined || (was !== undefined && yamlLoadProblem(was) !== undefined)) return after;
  const problem = yamlLoadProblem(now);
  if (problem === undefined) return after;
  const anchor = /^the alias \*(.+) has no anchor/.exec(problem)?.[1];
  throw new CardUpdateError(
    anchor !== undefined
      ? `${file}: the anchor &${anchor} is set inside Runwise's entry, which the update rewrites, and *${anchor} uses it elsewhere: move the anchor out of Runwise's entry (or write the value where it is used); the card is left as it was`
      : `${file}: the updated card's YAML would not load (${problem}); the card is left as it was`,
  );
}

/** The aliases a card may expand: the language server's ALIAS_NODE_LIMIT (card validate's alias-limit error; a test keeps them equal). */
export const CARD_ALIAS_LIMIT = 10_000;

/** 1-based line of the character at `at` in `text`. */
function lineAt(text: string, at: number): number {
  let n = 1;
  for (let i = 0; i < at && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** Refuses a Markdown card whose front matter is opened and never closed (see unclosedFrontMatterLine). */
export function checkFrontMatterClosed(text: string, file: string): void {
  const line = unclosedFrontMatterLine(text);
  if (line !== undefined)
    throw new CardUpdateError(
      `${file}:${line}: the front matter opened here is never closed: expected a line \`---\` after the metadata (the Hub reads front matter up to such a line, not \`...\`)`,
    );
}

function shift(edits: TextEdit[], by: number): TextEdit[] {
  return edits.map((e) => ({ ...e, start: e.start + by, end: e.end + by }));
}

function apply(text: string, edits: TextEdit[]): CardUpdateResult {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  let out = "";
  let at = 0;
  for (const e of sorted) {
    out += text.slice(at, e.start) + e.text;
    at = e.end;
  }
  return { text: out + text.slice(at), edits: sorted };
}

/**
 * Whether PyYAML, which follows YAML 1.1 (huggingface_hub reads cards with it), would read this
 * text unquoted as something else: `no`, `on` (booleans), `2024-01-01` (a date), `1_000`, `12:30`
 * (integers). YAML 1.2's own ambiguities (`true`, `0o17`, `1e3`) the `yaml` package quotes already.
 */
function readOtherwiseByYaml11(text: string): boolean {
  // `=` alone is YAML 1.1's value key, which PyYAML refuses as a plain scalar.
  if (text === "=") return true;
  try {
    return typeof parse(text, { version: "1.1" }) !== "string";
  } catch {
    return true;
  }
}

/** Renders `value` as block YAML, every line indented by `indent`, ending with a line break. */
function render(value: unknown, indent: string, eol: string, indentSeq = true): string {
  const doc = new Document(value);
  // Text a dataset or model name brings in (a file `no.csv`, a model `on`) stays text for PyYAML too.
  visit(doc, {
    Scalar: (_, node) => {
      if (typeof node.value === "string" && !node.type && readOtherwiseByYaml11(node.value)) node.type = "QUOTE_DOUBLE";
    },
  });
  const body = doc.toString({ lineWidth: 0, indentSeq });
  return body
    .replace(/\n$/, "")
    .split("\n")
    .map((l) => indent + yaml11Exponent(l) + eol)
    .join("");
}

/**
 * A line ending in a number written with an exponent (`value: 1e-7`, `2.5e+21`), the number as
 * PyYAML (YAML 1.1, huggingface_hub) reads a float: with a dot and a signed exponent (`1.0e-7`);
 * `1e-7` is text to it. Numbers only: the yaml package quotes a string that would read as one.
 */
function yaml11Exponent(line: string): string {
  return line.replace(/^((?:\s*- )*\s*(?:[\w.-]+: )?)(-?\d+)(\.\d+)?[eE]([+-]?)(\d+)$/, (_, head: string, int: string, fraction: string | undefined, sign: string, exponent: string) => `${head}${int}${fraction ?? ".0"}e${sign || "+"}${exponent}`);
}

/** The card's YAML with its nodes and offsets (relative to `yaml.text`). */
class YamlText {
  readonly root: YAMLMap | null;

  readonly text: string;
  private readonly whole: string;

  constructor(
    text: string,
    private readonly offset: number,
    whole: string,
    private readonly file: string,
    readonly eol: string,
  ) {
    this.text = loneCrAsLf(text);
    this.whole = loneCrAsLf(whole);
    const contents = parseCardYaml(this.text, offset, this.whole, file).contents;
    if (
      contents !== null &&
      !(isScalar(contents) && contents.value === null) &&
      !isMap(contents)
    ) {
      throw new CardUpdateError(
        `${file}:${this.lineOf(0)}: expected the card's YAML to be a mapping of keys`,
      );
    }
    this.root = isMap(contents) ? contents : null;
    // Lists under a key written at the key's own indentation (`metrics:` then `- type:`), as many
    // cards on the Hub write them: what is added is written so too. Read from the first block list
    // that is a key's value (not from text, where a block scalar's lines could look like one).
    let indentSeq: boolean | undefined;
    visit(contents ?? null, {
      Pair: (_, pair) => {
        const seq = pair.value;
        if (indentSeq !== undefined || !isSeq(seq) || seq.flow || seq.items.length === 0 || !isNode(pair.key) || !seq.range) return undefined;
        const keyAt = pair.key.range![0];
        const dashAt = seq.range[0];
        indentSeq = dashAt - this.lineStart(dashAt) > keyAt - this.lineStart(keyAt);
        return visit.BREAK;
      },
    });
    this.indentSeq = indentSeq ?? true;
  }

  /** Whether a block list under a key is indented past the key (see the constructor). */
  readonly indentSeq: boolean;

  /** 1-based line in the whole file of an offset into the YAML. */
  lineOf(at: number): number {
    return lineAt(this.whole, this.offset + at);
  }

  fail(node: Node | Pair | null | undefined, expected: string): never {
    const at = node
      ? "range" in node && node.range
        ? node.range[0]
        : "key" in node && isNode(node.key) && node.key.range
          ? node.key.range[0]
          : 0
      : 0;
    throw new CardUpdateError(`${this.file}:${this.lineOf(at)}: ${expected}`);
  }

  lineStart(at: number): number {
    const start = this.text.lastIndexOf("\n", at - 1) + 1;
    // A byte order mark before the first line is no indentation of it.
    return start === 0 && at > 0 && this.text.charCodeAt(0) === 0xfeff ? 1 : start;
  }

  /**
   * Where the lines of a node ending at `at` end: after the line break that ends the line `at` is
   * on (or the end of the text), or that line's start when only indentation comes before `at` on it
   * (the YAML parser ends a block node after its trailing comments, in the next line's indentation:
   * that line belongs to what follows).
   */
  lineEnd(at: number): number {
    const start = this.lineStart(at);
    if (/^ *$/.test(this.text.slice(start, at))) return start;
    const nl = this.text.indexOf("\n", at);
    return nl === -1 ? this.text.length : nl + 1;
  }

  /** Text inserted at `at` starts on a line of its own. */
  onOwnLine(at: number, block: string): string {
    return at > 0 && this.text[at - 1] !== "\n" ? this.eol + block : block;
  }

  /** Where a block sequence item starts (its `-` line) and the `-`'s indentation. */
  itemSpan(item: Node): { start: number; end: number; indent: string } {
    const start = this.lineStart(item.range![0]);
    const m = /^( *)- +$/.exec(this.text.slice(start, item.range![0]));
    if (!m)
      this.fail(
        item,
        "expected each list item on a line of its own, starting with `- `",
      );
    // Comment and blank lines that close the item stay where they are (after what replaces it):
    // those after its value's end (range[1]), never a block scalar's own lines that start with '#'.
    const valueEnd = Math.max(start, this.lineEnd(item.range![1]));
    let end = this.lineEnd(item.range![2]);
    while (end > valueEnd) {
      const lineStart = this.lineStart(end - 1);
      if (lineStart < valueEnd || !/^[ \t]*(#.*)?\r?\n?$/.test(this.text.slice(lineStart, end))) break;
      end = lineStart;
    }
    return { start, end, indent: m[1]! };
  }

  /** The indentation of a block map's keys. */
  mapIndent(map: YAMLMap): string {
    const first = map.items[0];
    if (!first || !isNode(first.key)) return "";
    const at = first.key.range![0];
    return " ".repeat(at - this.lineStart(at));
  }

  /** Adds `key: value` after the last entry of a block map (the root when `map` is null). */
  appendPair(
    map: YAMLMap | null,
    key: string,
    value: unknown,
    indentIfEmpty = "",
  ): TextEdit {
    // `{}` (what huggingface_hub writes for empty card data) replaced by the block, when nothing but
    // the line's end follows it.
    if (map?.flow && map === this.root && map.items.length === 0 && map.range) {
      const end = this.lineEnd(map.range[1]);
      if (/^[ \t]*\r?\n?$/.test(this.text.slice(map.range[1], end)))
        return { start: map.range[0], end, text: render({ [key]: value }, "", this.eol, this.indentSeq) };
    }
    if (map?.flow)
      this.fail(
        map,
        `expected a block mapping (one key per line) to add '${key}' to, found a flow mapping {…}`,
      );
    if (!map || map.items.length === 0) {
      const at = map?.range ? this.lineEnd(map.range[2]) : this.endOfContent();
      return {
        start: at,
        end: at,
        text: this.onOwnLine(
          at,
          render({ [key]: value }, map ? indentIfEmpty : "", this.eol, this.indentSeq),
        ),
      };
    }
    if (map === this.root) {
      // At the end of the YAML: after the last entry and any comment lines that close it, indented
      // as the root's keys are.
      const at = this.endOfContent();
      return {
        start: at,
        end: at,
        text: this.onOwnLine(
          at,
          render({ [key]: value }, this.mapIndent(map), this.eol, this.indentSeq),
        ),
      };
    }
    const last = map.items[map.items.length - 1]!;
    const end =
      isNode(last.value) && last.value.range
        ? last.value.range[2]
        : isNode(last.key)
          ? last.key.range![2]
          : map.range![2];
    const at = this.lineEnd(end);
    return {
      start: at,
      end: at,
      text: this.onOwnLine(
        at,
        render({ [key]: value }, this.mapIndent(map), this.eol, this.indentSeq),
      ),
    };
  }

  /** The end of the YAML document: the text's end, or the start of a document end marker `...` line. */
  private endOfContent(): number {
    const marker = /^\.\.\.[ \t]*(#.*)?(\r?\n|$)/m.exec(this.text);
    return marker ? marker.index : this.text.length;
  }

  /** Replaces `key: value` (its key to the end of its value's line) with `key: next`. */
  replacePair(pair: Pair, next: unknown): TextEdit {
    if (!isNode(pair.key)) this.fail(null, "expected a plain key");
    const start = pair.key.range![0];
    const valueEnd =
      isNode(pair.value) && pair.value.range
        ? pair.value.range[2]
        : pair.key.range![2];
    const indent = " ".repeat(start - this.lineStart(start));
    let rendered = render(
      { [String(pair.key.toJSON())]: next },
      indent,
      this.eol,
      this.indentSeq,
    ).slice(indent.length);
    const end = this.lineEnd(Math.max(valueEnd, pair.key.range![2]));
    // A comment closing the key's line (`performance_metrics: []  # none yet`) stays on it.
    const valueTextEnd = isNode(pair.value) && pair.value.range ? pair.value.range[1] : pair.key.range![1];
    const lineRest = this.text.slice(valueTextEnd, end);
    // An empty value (`key: # note`) starts at its comment.
    const empty = isScalar(pair.value) && pair.value.value === null && pair.value.source === "";
    const comment = (empty ? /^[ \t]*(#[^\r\n]*)/ : /^[^\n#]*?[ \t](#[^\r\n]*)/).exec(lineRest)?.[1];
    if (comment !== undefined && !lineRest.slice(0, lineRest.indexOf(comment)).includes("\n")) {
      const firstEnd = rendered.indexOf(this.eol);
      rendered = `${rendered.slice(0, firstEnd)} ${comment}${rendered.slice(firstEnd)}`;
    }
    return { start, end, text: rendered };
  }

  /** Removes the items `ours` picks from the block sequence at `map[key]`; `key: []` when none is left. */
  removeEntries(map: YAMLMap, key: string, ours: (item: Node) => boolean): TextEdit[] {
    const pair = pairOf(map, key);
    const seq = pair?.value;
    if (!pair || !isSeq(seq) || seq.flow) return [];
    const items = seq.items as Node[];
    const mine = items.filter((i) => ours(i));
    if (mine.length === 0) return [];
    if (mine.length === items.length) return [this.replacePair(pair, [])];
    return mine.map((item) => {
      const span = this.itemSpan(item);
      return { start: span.start, end: span.end, text: "" };
    });
  }

  /**
   * Puts `entries` into the sequence at `map[key]`: where the first item `ours` picks was (all such
   * items removed), else after the last item; a missing key is added, an empty one filled.
   */
  setEntries(
    map: YAMLMap,
    key: string,
    ours: (item: Node) => boolean,
    entries: unknown[],
    what: string,
    merge?: EntryMerge,
  ): TextEdit[] {
    const pair = pairOf(map, key);
    if (!pair)
      return [this.appendPair(map, key, entries, `${this.mapIndent(map)}  `)];
    const seq = pair.value;
    if (
      seq === null ||
      (isScalar(seq) && seq.value === null) ||
      (isSeq(seq) && seq.items.length === 0)
    )
      return [this.replacePair(pair, entries)];
    if (!isSeq(seq)) this.fail(seq as Node, `expected ${what} to be a list`);
    if (seq.flow)
      this.fail(
        seq,
        `expected ${what} written as a block list (one \`- \` item a line) to update it, found a flow list [...]`,
      );
    const items = seq.items as Node[];
    const mine = items.filter((i) => ours(i));
    if (mine.length === 0) {
      const last = this.itemSpan(items[items.length - 1]!);
      return [
        {
          start: last.end,
          end: last.end,
          text: this.onOwnLine(
            last.end,
            render(entries, last.indent, this.eol, this.indentSeq),
          ),
        },
      ];
    }
    const merged = merge ? this.mergeItems(mine, merge.entries, merge.list, entries) : undefined;
    if (merged) return merged;
    return mine.map((item, n) => {
      const span = this.itemSpan(item);
      return {
        start: span.start,
        end: span.end,
        text: n === 0 ? render(entries, span.indent, this.eol, this.indentSeq) : "",
      };
    });
  }

  /**
   * Runwise's own items (`mine`) brought to `next` in place, so that what the user wrote among them
   * stays: each block mapping `next` has again (by `list.identity`) keeps its lines, comments and
   * keys Runwise does not write, only values that changed rewritten; another item `next` has again
   * (a flow mapping on its line) is rewritten where it is; an item `next` has no more goes, unless
   * `list.own` says it is the user's (a metric Runwise never writes, added by hand); new ones
   * (`rendered`, in `next`'s order) go after the last item and the comment lines that close it.
   * Undefined when the items cannot be edited one by one (an alias, a `-` alone on its line): the
   * caller writes the entries whole.
   */
  mergeItems(mine: readonly Node[], next: readonly unknown[], list: ListShape, rendered: readonly unknown[] = next): TextEdit[] | undefined {
    if (mine.length === 0 || !mine.every((i) => isMap(i))) return undefined;
    try {
      const edits: TextEdit[] = [];
      const used = new Set<number>();
      for (const item of mine as YAMLMap[]) {
        const data = item.toJSON();
        // The user's own item (a metric they measured, though of a type Runwise writes) is neither
        // paired with Runwise's nor removed: it stays as written.
        if (list.own && !list.own(data)) continue;
        const id = list.identity(data);
        const k = list.mergeable && !list.mergeable(item) ? -1 : next.findIndex((v, n) => !used.has(n) && list.identity(v) === id);
        if (k < 0) {
          const span = this.itemSpan(item);
          edits.push({ start: span.start, end: span.end, text: "" });
          continue;
        }
        used.add(k);
        if (item.flow) {
          // Written again where it is, as a block, with the keys and the line's comment of the user's.
          const span = this.itemSpan(item);
          const entry = isPlainObject(rendered[k]) ? { ...(rendered[k] as Record<string, unknown>), ...theirKeys(data, list.shape) } : rendered[k];
          const lines = render([entry], span.indent, this.eol, this.indentSeq);
          const comment = item.range ? /^[^\n#]*?[ \t](#[^\r\n]*)/.exec(this.text.slice(item.range[1], this.lineEnd(item.range[1])))?.[1] : undefined;
          const firstEnd = lines.indexOf(this.eol);
          edits.push({ start: span.start, end: span.end, text: comment === undefined ? lines : `${lines.slice(0, firstEnd)} ${comment}${lines.slice(firstEnd)}` });
          continue;
        }
        const sub = this.mergeMap(item, next[k] as Record<string, unknown>, list.shape);
        if (!sub) return undefined;
        edits.push(...sub);
      }
      const added = rendered.filter((_, n) => !used.has(n));
      if (added.length > 0) {
        const items = mine as YAMLMap[];
        const last = this.itemSpan(items[items.length - 1]!);
        const at = this.afterClosingComments(last.end, last.indent);
        edits.push({ start: at, end: at, text: this.onOwnLine(at, render(added, last.indent, this.eol, this.indentSeq)) });
      }
      return edits;
    } catch (e) {
      // An item written so that it cannot be cut out alone: the entries are written whole.
      if (e instanceof CardUpdateError) return undefined;
      throw e;
    }
  }

  /**
   * Where items appended after a list's last item (ending at `at`, its `-` at `indent`) go: after
   * the comment lines that close that item (as deep as its `-` at least, with the list ending after
   * them), not between it and them; before comment lines that introduce a next item of the list.
   */
  private afterClosingComments(at: number, indent: string): number {
    let end = at;
    for (;;) {
      const nl = this.text.indexOf("\n", end);
      const lineEnd = nl === -1 ? this.text.length : nl + 1;
      const line = this.text.slice(end, lineEnd);
      if (end >= this.text.length || !/^ *#/.test(line) || /^ */.exec(line)![0].length < indent.length) break;
      end = lineEnd;
    }
    return this.text.startsWith(`${indent}-`, end) ? at : end;
  }

  /**
   * A block mapping brought to `next` in place, over the keys `shape` says Runwise writes: a value
   * that changed, or one PyYAML would read otherwise, is rewritten (a scalar's text alone, its
   * line's comment kept), a key `next` lacks goes, one it adds is appended after everything else
   * the mapping holds; nested mappings and lists the shape names are merged the same way; every
   * other key (the user's) and every comment line stay. Undefined when a nested value is written so
   * that it cannot be merged in place.
   */
  private mergeMap(map: YAMLMap, next: Record<string, unknown>, shape: MapShape): TextEdit[] | undefined {
    if (map.flow) return undefined;
    const edits: TextEdit[] = [];
    // Appended last: at the mapping's end they come after what nested lists append there.
    const appended: TextEdit[] = [];
    for (const key of shape.keys) {
      const pair = pairOf(map, key);
      const has = Object.prototype.hasOwnProperty.call(next, key);
      if (!pair) {
        if (has) appended.push(this.appendPair(map, key, next[key]));
        continue;
      }
      const value = next[key];
      const node = pair.value;
      const nested = shape.maps?.[key];
      if (!has) {
        // A mapping that holds keys of the user's too (`args: {zero_division: 0}` on a metric Runwise
        // writes without arguments): only Runwise's keys go.
        const theirs = nested && isMap(node) && !node.flow ? node.items.filter((p) => !nested.keys.includes(String(isScalar(p.key) ? p.key.value : ""))) : [];
        if (theirs.length > 0) for (const k of nested!.keys) { const own = pairOf(node as YAMLMap, k); if (own) edits.push(this.removePair(own)); }
        else edits.push(this.removePair(pair));
        continue;
      }
      if (nested && isPlainObject(value) && isMap(node) && !node.flow && node.items.length > 0) {
        const sub = this.mergeMap(node, value, nested);
        if (!sub) return undefined;
        edits.push(...sub);
        continue;
      }
      const items = shape.lists?.[key];
      if (items && Array.isArray(value) && isSeq(node) && !node.flow && node.items.length > 0) {
        const sub = this.mergeItems(node.items as Node[], value, items);
        if (!sub) return undefined;
        edits.push(...sub);
        continue;
      }
      if (JSON.stringify(isNode(node) ? node.toJSON() : null) === JSON.stringify(value) && !readOtherwiseByPyYaml(node)) continue;
      // A flow mapping Runwise writes into (`args: {average: macro, zero_division: 0}`): rewritten with the user's keys kept.
      if (nested && isPlainObject(value) && isMap(node)) {
        const merged = { ...value, ...theirKeys(node.toJSON(), nested) };
        if (JSON.stringify(node.toJSON()) !== JSON.stringify(merged)) edits.push(this.replacePair(pair, merged));
        continue;
      }
      // In place: a scalar on one line, untagged, not empty (an empty `key: # note` starts at its comment).
      if (isScalar(node) && node.range && !node.tag && node.source !== "" && !isPlainObject(value) && !Array.isArray(value) && !/\n/.test(this.text.slice(node.range[0], node.range[1]))) {
        edits.push({ start: node.range[0], end: node.range[1], text: scalarText(value) });
        continue;
      }
      edits.push(this.replacePair(pair, value));
    }
    return [...edits, ...appended];
  }

  /** Removes `key: value`: its lines, from the key's line to the end of its value's. */
  private removePair(pair: Pair): TextEdit {
    if (!isNode(pair.key)) this.fail(null, "expected a plain key");
    const valueEnd = isNode(pair.value) && pair.value.range ? pair.value.range[1] : pair.key.range![1];
    return { start: this.lineStart(pair.key.range![0]), end: this.lineEnd(Math.max(valueEnd, pair.key.range![1])), text: "" };
  }
}

/** The keys Runwise writes in a mapping of its entry, and which of them are mappings or lists to merge in turn. */
interface MapShape {
  keys: readonly string[];
  maps?: Readonly<Record<string, MapShape>>;
  lists?: Readonly<Record<string, ListShape>>;
}

/** A list of mappings Runwise writes: the keys of each, and what makes two items the same one. */
interface ListShape {
  shape: MapShape;
  identity: (item: unknown) => string;
  /** Whether an item `next` no longer has is Runwise's, to remove (else the user's, kept); every one when absent. */
  own?: (item: unknown) => boolean;
  /** Whether an item is kept and merged (else it is replaced by a new one): a toolkit entry without Runwise's mark, as an earlier version wrote it. */
  mergeable?: (item: YAMLMap) => boolean;
}

/** Entries to merge into a card's list in place (see mergeItems): their data, and how items are told apart. */
interface EntryMerge {
  entries: readonly unknown[];
  list: ListShape;
}

const field = (item: unknown, key: string): unknown => (isPlainObject(item) ? item[key] : undefined);

/** A Hugging Face result as huggingFaceResult writes it: one per card, its metrics known by `type` and `args`. */
const HF_RESULT: ListShape = {
  identity: () => "runwise",
  shape: {
    keys: ["task", "dataset", "metrics", "source"],
    maps: { task: { keys: ["type", "name"] }, dataset: { keys: ["type", "name", "revision"] }, source: { keys: ["name", "url"] } },
    lists: {
      metrics: {
        // Known by the arguments Runwise writes: a key the user adds to `args` (zero_division) stays theirs.
        identity: (m) => JSON.stringify([field(m, "type"), field(field(m, "args"), "average") ?? null, field(field(m, "args"), "multi_class") ?? null]),
        shape: { keys: ["type", "value", "name", "args"], maps: { args: { keys: ["average", "multi_class"] } } },
        own: isOwnHuggingFaceMetric,
      },
    },
  },
};

/**
 * Whether a metric inside Runwise's result is one Runwise wrote (a metric of its evaluations under
 * the name it gives it), not one the user measured and added there (`latency_ms`, an `accuracy`
 * named `Accuracy (validation)`).
 */
function isOwnHuggingFaceMetric(m: unknown): boolean {
  const type = field(m, "type");
  const average = field(field(m, "args"), "average");
  const key = typeof average === "string" ? `${String(type)}_${average}` : String(type);
  if (typeof type !== "string" || !isRunwiseMetricName(key)) return false;
  const name = field(m, "name");
  return name === undefined || name === prettyMetricName(key);
}

/** Whether a scalar's text, unquoted, would be another value to PyYAML (YAML 1.1): `2024-01-01` a date, `1e-7` text. */
function readOtherwiseByPyYaml(node: unknown): boolean {
  if (!isScalar(node) || node.type !== "PLAIN") return false;
  if (typeof node.value === "string") return readOtherwiseByYaml11(node.value);
  return typeof node.value === "number" && yaml11Exponent(`v: ${node.source}`) !== `v: ${node.source}`;
}

/** A toolkit performance metric as toolkitMetrics writes it, known by `type` and `slice`. */
const TOOLKIT_METRIC: ListShape = {
  identity: (m) => JSON.stringify([field(m, "type"), field(m, "slice") ?? null]),
  shape: { keys: ["type", "value", "slice"] },
  mergeable: (item) => {
    const type = pairOf(item, "type")?.value;
    return isScalar(type) && hasMark(type.comment);
  },
};

/** The keys of `data` that `shape` does not name: the user's. */
function theirKeys(data: unknown, shape: MapShape): Record<string, unknown> {
  return isPlainObject(data) ? Object.fromEntries(Object.entries(data).filter(([k]) => !shape.keys.includes(k))) : {};
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A scalar's text as render writes it (quoted where PyYAML would read it otherwise). */
function scalarText(value: unknown): string {
  return render({ v: value }, "", "\n").replace(/\n$/, "").slice("v: ".length);
}

/** The entry of a mapping whose key is the plain scalar `key`. */
function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => isScalar(p.key) && p.key.value === key);
}

function isNode(x: unknown): x is Node {
  return typeof x === "object" && x !== null && "range" in x;
}

function isRunwiseResult(item: unknown): boolean {
  const source = (item as { source?: { name?: unknown } } | null)?.source;
  return (
    typeof source === "object" &&
    source !== null &&
    source.name === HF_SOURCE_NAME
  );
}

function isRunwiseMetric(item: Node): boolean {
  if (!isMap(item)) return false;
  const type = pairOf(item, "type");
  if (type && isScalar(type.value) && hasMark(type.value.comment)) return true;
  const name = (item.toJSON() as { name?: unknown } | null)?.name;
  return typeof name === "string" && name.startsWith(MCT_NAME_PREFIX);
}

/** Whether a comment is Runwise's mark (`# runwise`), with a note the user added after a `;` (`# runwise; test split`). */
function hasMark(comment: string | null | undefined): boolean {
  const text = comment?.trim() ?? "";
  return text === MCT_MARK || text.startsWith(`${MCT_MARK};`);
}

/** The toolkit entries as YAML nodes, each `type` followed by the `# runwise` mark. */
function markedMetrics(metrics: Record<string, unknown>[]): Node[] {
  const seq = new Document(metrics).contents as unknown as { items: YAMLMap[] };
  for (const item of seq.items) {
    const type = pairOf(item, "type");
    if (type && isScalar(type.value)) type.value.comment = ` ${MCT_MARK}`;
  }
  return seq.items;
}

function huggingFaceEdits(
  yaml: YamlText,
  e: CardEvaluation,
  modelName: string,
): TextEdit[] {
  const result = huggingFaceResult(e);
  const root = yaml.root;
  const pair = root ? pairOf(root, "model-index") : undefined;
  if (!pair)
    return [
      yaml.appendPair(root, "model-index", [
        { name: modelName, results: [result] },
      ]),
    ];
  const index = pair.value;
  if (
    index === null ||
    (isScalar(index) && index.value === null) ||
    (isSeq(index) && index.items.length === 0)
  ) {
    return [yaml.replacePair(pair, [{ name: modelName, results: [result] }])];
  }
  if (!isSeq(index))
    yaml.fail(
      index as Node,
      "expected `model-index` to be a list of `{name, results}`",
    );
  if (index.flow)
    yaml.fail(
      index,
      "expected `model-index` written as a block list (one `- ` item a line) to update it, found a flow list [...]",
    );
  const entries = index.items as Node[];
  const json = entries.map(
    (n) => n.toJSON() as { name?: unknown; results?: unknown } | null,
  );
  const pick =
    json.findIndex(
      (j) => Array.isArray(j?.results) && j.results.some(isRunwiseResult),
    ) >= 0
      ? json.findIndex(
          (j) => Array.isArray(j?.results) && j.results.some(isRunwiseResult),
        )
      : json.findIndex((j) => j?.name === modelName) >= 0
        ? json.findIndex((j) => j?.name === modelName)
        : 0;
  const target = entries[pick]!;
  if (!isMap(target))
    yaml.fail(
      target,
      "expected each `model-index` item to be a mapping with `name` and `results`",
    );
  const ours = (n: Node) => isRunwiseResult(n.toJSON());
  // Runwise's results held by other items (two merged cards) go: one evaluation, one entry.
  const elsewhere = entries.flatMap((item, i) => {
    if (i === pick || !isMap(item) || !Array.isArray(json[i]?.results) || !json[i]!.results.some(isRunwiseResult)) return [];
    const results = item.get("results", true);
    // Not left behind, stale, beside the new one.
    if (isSeq(results) && results.flow) yaml.fail(results, "expected `results` that hold a Runwise result written as a block list (one `- ` item a line) to replace it, found a flow list [...]");
    return yaml.removeEntries(item, "results", ours);
  });
  return [
    ...yaml.setEntries(target, "results", ours, [result], "`results`", { entries: [result], list: HF_RESULT }),
    ...elsewhere,
  ];
}

function toolkitEdits(yaml: YamlText, e: CardEvaluation): TextEdit[] {
  const metrics = markedMetrics(toolkitMetrics(e));
  const root = yaml.root;
  const pair = root ? pairOf(root, "quantitative_analysis") : undefined;
  if (!pair)
    return [
      yaml.appendPair(root, "quantitative_analysis", {
        performance_metrics: metrics,
      }),
    ];
  const qa = pair.value;
  if (qa === null || (isScalar(qa) && qa.value === null) || (isMap(qa) && qa.flow && qa.items.length === 0))
    return [yaml.replacePair(pair, { performance_metrics: metrics })];
  if (!isMap(qa))
    yaml.fail(qa as Node, "expected `quantitative_analysis` to be a mapping");
  return yaml.setEntries(
    qa,
    "performance_metrics",
    isRunwiseMetric,
    metrics,
    "`quantitative_analysis.performance_metrics`",
    { entries: toolkitMetrics(e), list: TOOLKIT_METRIC },
  );
}
