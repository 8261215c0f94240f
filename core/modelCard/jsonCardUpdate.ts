/**
 * Writing an evaluation into a Model Card Toolkit card kept as JSON (`model_card.json`,
 * `*.modelcard.json`: what the toolkit's `ModelCard.to_json()` gives and `ModelCard.from_json()`
 * reads) by editing its text in place: only `quantitative_analysis.performance_metrics` changes;
 * every other byte (key order, indentation, escapes, the line breaks) stays as it was.
 *
 * JSON has no comments to mark Runwise's entries with (the YAML card's `# runwise`), and the
 * toolkit's PerformanceMetric takes no other field: an entry is Runwise's when it is one Runwise
 * writes, as `isOurs` tells (a metric name of its evaluation on a slice it names: `overall` or
 * `column=value`). An update replaces all of them, where the first one was, and keeps every other
 * entry (a TFMA `binary_accuracy`, a hand-written `latency` or `accuracy` on a holdout) as its text was.
 *
 * The entries are written at the file's own indentation (`to_json()` indents by 2); a card written
 * on one line gets them on one line.
 */
import { isMap, isScalar, isSeq, parseDocument, type Node, type Pair, type YAMLMap } from "yaml";
import { jsonSyntaxError } from "../language/modelCard/cardNames";
import { CardUpdateError, type TextEdit } from "./cardEdit";

/** 1-based line and column of the character at `at`. */
function lineColumn(text: string, at: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at && i < text.length; i++)
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  return { line, column: at - lineStart + 1 };
}

/**
 * Refuses a card that is not JSON as the toolkit's `json.loads` reads it (a byte order mark aside,
 * which the file keeps), naming the line and column, or whose keys repeat (json.loads keeps the
 * last; an update could not tell which one a reader sees).
 */
export function checkCardJson(text: string, file: string): void {
  parsedCard(text, file);
}

/** A JSON object, array or value with its offsets (the `yaml` package reads JSON, a subset of YAML 1.2). */
type Spanned = Node & { range: [number, number, number] };

/** A member's span: from its key to the end of its value. */
interface Member {
  key: string;
  start: number;
  /** Offset of the `:` after the key. */
  colon: number;
  end: number;
  value: Spanned;
}

function membersOf(map: YAMLMap, body: string): Member[] {
  // Valid JSON (checked first): every member has a value.
  return (map.items as Pair<Spanned, Spanned>[]).map((pair) => {
    const keyEnd = pair.key.range[1];
    return { key: String((pair.key as unknown as { value: unknown }).value), start: pair.key.range[0], colon: body.indexOf(":", keyEnd), end: pair.value!.range[1], value: pair.value! };
  });
}

function parsedCard(text: string, file: string): { root: YAMLMap & Spanned; body: string; offset: number } {
  const offset = text.startsWith("\uFEFF") ? 1 : 0;
  const body = text.slice(offset);
  const invalid = jsonSyntaxError(text);
  if (invalid) {
    const { line, column } = lineColumn(text, invalid.at);
    throw new CardUpdateError(`${file}:${line}:${column}: the card is not valid JSON: ${invalid.message}`);
  }
  const doc = parseDocument(body);
  const repeated = doc.errors.find((e) => e.code === "DUPLICATE_KEY");
  if (repeated) {
    const { line, column } = lineColumn(text, offset + repeated.pos[0]);
    const key = /^"(?:[^"\\]|\\.)*"/.exec(body.slice(repeated.pos[0]))?.[0] ?? "a key";
    throw new CardUpdateError(`${file}:${line}:${column}: ${key} is given twice in this object (a JSON reader keeps only the last; remove the others)`);
  }
  const root = doc.contents;
  if (!isMap(root) || !root.flow) throw new CardUpdateError(`${file}:1: expected the card to be a JSON object of the toolkit's sections (model_details, quantitative_analysis, …)`);
  return { root: root as YAMLMap & Spanned, body, offset };
}

/** How the file lays out its objects: the indentation unit ('' when written on one line), the line break, the `:` and `,` spacing. */
interface Layout {
  unit: string;
  eol: string;
  colon: string;
  comma: string;
}

function layoutOf(body: string, root: YAMLMap & Spanned): Layout {
  const eol = body.includes("\r\n") ? "\r\n" : "\n";
  const first = membersOf(root, body)[0];
  let unit = "";
  if (first) {
    const lineStart = body.lastIndexOf("\n", first.start - 1) + 1;
    const lead = body.slice(lineStart, first.start);
    // The first key on a line of its own: its indentation is one level (to_json()'s `indent=2`).
    if (lineStart > root.range[0] && /^[ \t]*$/.test(lead)) unit = lead;
  } else unit = "  ";
  const colon = first ? (/^:\s/.test(body.slice(first.colon, first.colon + 2)) ? ": " : ":") : ": ";
  // On one line: `, ` between members as json.dumps writes them, unless the file packs them (`,"b"`).
  // Read outside strings: a description holding `fast, small` says nothing of the file's separators.
  const whole = body.slice(root.range[0], root.range[1]).replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return { unit, eol, colon, comma: unit ? "," : /,\S/.test(whole) && !/,\s/.test(whole) ? "," : ", " };
}

/** `value` as JSON laid out as the file is, its lines after the first indented by `indent`. */
function render(value: unknown, layout: Layout, indent: string): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    if (!layout.unit) return `[${value.map((v) => render(v, layout, indent)).join(layout.comma)}]`;
    const inner = indent + layout.unit;
    return `[${layout.eol}${value.map((v) => inner + render(v, layout, inner)).join(`,${layout.eol}`)}${layout.eol}${indent}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return "{}";
    const member = (k: string, v: unknown, at: string) => `${JSON.stringify(k)}${layout.colon}${render(v, layout, at)}`;
    if (!layout.unit) return `{${entries.map(([k, v]) => member(k, v, indent)).join(layout.comma)}}`;
    const inner = indent + layout.unit;
    return `{${layout.eol}${entries.map(([k, v]) => inner + member(k, v, inner)).join(`,${layout.eol}`)}${layout.eol}${indent}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The indentation of the line `at` is on. */
function indentAt(body: string, at: number): string {
  const lineStart = body.lastIndexOf("\n", at - 1) + 1;
  return /^[ \t]*/.exec(body.slice(lineStart, at))![0];
}

/** Adds `"key": value` as the last member of an object. */
function appendMember(body: string, map: YAMLMap & Spanned, key: string, value: unknown, layout: Layout): TextEdit {
  const close = map.range[1] - 1; // the object's `}`
  const last = membersOf(map, body).at(-1);
  if (!layout.unit) {
    const member = `${JSON.stringify(key)}${layout.colon}${render(value, layout, "")}`;
    return last ? { start: last.end, end: last.end, text: `${layout.comma}${member}` } : { start: close, end: close, text: member };
  }
  const indent = last ? indentAt(body, last.start) : indentAt(body, map.range[0]) + layout.unit;
  const member = `${indent}${JSON.stringify(key)}${layout.colon}${render(value, layout, indent)}`;
  if (last) return { start: last.end, end: last.end, text: `,${layout.eol}${member}` };
  return { start: map.range[0] + 1, end: close, text: `${layout.eol}${member}${layout.eol}${indentAt(body, map.range[0])}` };
}

/** Replaces a member's value (a `null`) with `value`. */
function replaceValue(body: string, member: Member, value: unknown, layout: Layout): TextEdit {
  return { start: member.value.range[0], end: member.value.range[1], text: render(value, layout, indentAt(body, member.start)) };
}

/**
 * An entry's text moved to indentation `to`: its lines after the first shifted by the difference
 * between `to` and the entry's own indentation (its last line's, where its closing brace is), so an
 * entry written `[{` … `}]` keeps its shape when the list is laid out one entry a line.
 */
function reindented(entry: string, to: string): string {
  const lastBreak = entry.lastIndexOf("\n");
  if (lastBreak < 0) return entry;
  const own = /^[ \t]*/.exec(entry.slice(lastBreak + 1))![0];
  if (own === to) return entry;
  return entry.replace(/(\r?\n)([ \t]*)/g, (_, eol: string, lead: string) => eol + (lead.startsWith(own) ? to + lead.slice(own.length) : lead));
}

const isNull = (node: Node): boolean => isScalar(node) && node.value === null;

/**
 * The edits that write `entries` (the toolkit's PerformanceMetric objects for one evaluation) into
 * the JSON card's `quantitative_analysis.performance_metrics`: the entries whose `type` is one
 * `isOurs` names are replaced, where the first of them was.
 */
export function toolkitJsonEdits(text: string, entries: Record<string, unknown>[], file: string, isOurs: (entry: Record<string, unknown> & { type: string }) => boolean): TextEdit[] {
  const { root, body, offset } = parsedCard(text, file);
  const layout = layoutOf(body, root);
  const fail = (at: number, expected: string): never => {
    throw new CardUpdateError(`${file}:${lineColumn(text, offset + at).line}: ${expected}`);
  };
  const ours = (node: Node): boolean => {
    if (!isMap(node)) return false;
    const entry = node.toJSON() as Record<string, unknown>;
    return typeof entry.type === "string" && isOurs(entry as Record<string, unknown> & { type: string });
  };
  // No entries to write (Runwise's to remove only): nothing is added where there is no list.
  const adding = entries.length > 0;
  const edits = ((): TextEdit[] => {
    const qaMember = membersOf(root, body).find((m) => m.key === "quantitative_analysis");
    if (!qaMember) return adding ? [appendMember(body, root, "quantitative_analysis", { performance_metrics: entries }, layout)] : [];
    if (isNull(qaMember.value)) return adding ? [replaceValue(body, qaMember, { performance_metrics: entries }, layout)] : [];
    const qa = qaMember.value;
    if (!isMap(qa)) return fail(qa.range[0], "expected `quantitative_analysis` to be an object");
    const pmMember = membersOf(qa as YAMLMap, body).find((m) => m.key === "performance_metrics");
    if (!pmMember) return adding ? [appendMember(body, qa as YAMLMap & Spanned, "performance_metrics", entries, layout)] : [];
    if (isNull(pmMember.value)) return adding ? [replaceValue(body, pmMember, entries, layout)] : [];
    const list = pmMember.value;
    if (!isSeq(list)) return fail(list.range[0], "expected `quantitative_analysis.performance_metrics` to be a list");
    // Every other entry kept as its text was, Runwise's replaced where the first of them was.
    const items = list.items as Spanned[];
    const firstOurs = items.findIndex(ours);
    if (!adding && firstOurs < 0) return [];
    const indent = indentAt(body, pmMember.start);
    const inner = indent + layout.unit;
    const kept = items.filter((n) => !ours(n)).map((n) => reindented(body.slice(n.range[0], n.range[1]), inner));
    const at = firstOurs < 0 ? kept.length : firstOurs;
    const all = [...kept.slice(0, at), ...entries.map((e) => render(e, layout, inner)), ...kept.slice(at)];
    const joined = !layout.unit
      ? `[${all.join(layout.comma)}]`
      : all.length === 0
        ? "[]"
        : `[${layout.eol}${all.map((t) => inner + t).join(`,${layout.eol}`)}${layout.eol}${indent}]`;
    return [{ start: list.range[0], end: list.range[1], text: joined }];
  })();
  return edits.map((e) => ({ ...e, start: e.start + offset, end: e.end + offset }));
}
