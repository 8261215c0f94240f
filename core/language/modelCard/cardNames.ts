/**
 * The names a Model Card Toolkit card kept as JSON goes by (what its `ModelCard.to_json()` writes,
 * saved as `model_card.json`): `model_card.json`, `model-card.json`, `modelcard.json` (any case)
 * and `*.modelcard.json`. The language server analyses such a file as a card, and `runwise card`
 * edits it.
 */
export function isJsonCardName(fileName: string): boolean {
  const base = fileName.slice(Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\')) + 1);
  return /^(model[-_]?card|.+\.modelcard)\.json$/i.test(base);
}
