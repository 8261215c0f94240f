/**
 * The decision threshold of a binary evaluation, as the CLI and the editor read it: its own module,
 * so that the extension validates the input box without loading the evaluation.
 */

/** A decision threshold as typed: a plain decimal between 0 and 1, else undefined ('' is not 0, '0x1' is not 1). */
export function parseThreshold(text: string): number | undefined {
  if (!/^\s*(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/.test(text)) return undefined;
  const value = Number(text);
  return value >= 0 && value <= 1 ? value : undefined;
}
