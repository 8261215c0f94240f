/**
 * Model Card Toolkit cards kept as JSON: the names they go by, and what makes their text no JSON.
 */

/**
 * The names a Model Card Toolkit card kept as JSON goes by (what its `ModelCard.to_json()` writes,
 * saved as `model_card.json`): a name ending in `model_card.json`, `model-card.json` or
 * `modelcard.json`, any case (`churn.modelcard.json`, `churn_model_card.json`). The language server analyses such a file as a card, and `runwise card`
 * edits it.
 */
export function isJsonCardName(fileName: string): boolean {
  const base = fileName.slice(Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\')) + 1);
  return /model[-_]?card\.json$/i.test(base);
}

/**
 * Where and why a JSON card's text is not JSON as the toolkit's `json.loads` reads it (a byte order
 * mark at the start aside: `offset` 1 then), or undefined when it is JSON. `at` is an offset in
 * `text`; `message` is V8's reason without its position.
 */
export function jsonSyntaxError(text: string): { at: number; message: string } | undefined {
  const offset = text.startsWith('\uFEFF') ? 1 : 0;
  try {
    JSON.parse(offset ? text.slice(offset) : text);
    return undefined;
  } catch (e) {
    const message = (e as Error).message;
    const position = /at position (\d+)/.exec(message);
    const at = position ? offset + Number(position[1]) : text.length;
    return { at, message: message.replace(/,? ?(?:in JSON )?at position \d+.*$/, '').replace(/^JSON\.parse: /, '') };
  }
}
