/**
 * Reading and writing a model card's file, for `runwise card` and a pipeline's `register` step alike.
 */
import { readFileSync, statSync } from "node:fs";
import { writeFileAtomic } from "../workspace/atomicWrite";
import { CardUpdateError, cardFormatOf, checkCardYaml, checkFrontMatterClosed } from "./cardUpdate";

/** The most a card may hold to be read (the language server's limit for a workspace file). */
const MAX_CARD_BYTES = 16 * 1024 * 1024;

/**
 * A card's text: UTF-8, as the Hub and huggingface_hub read it. A file that is not UTF-8 text (a
 * NUL byte, an invalid sequence) is refused rather than rewritten with U+FFFD in place of its
 * bytes; a byte order mark is kept as it is.
 */
export function readCardText(abs: string, rel: string): string {
  let bytes: Buffer;
  try {
    if (statSync(abs).size > MAX_CARD_BYTES)
      throw new CardUpdateError(`${rel} is over 16 MiB: too large for a model card`);
    bytes = readFileSync(abs);
  } catch (e) {
    if (e instanceof CardUpdateError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "there is no such file" : code === "EISDIR" ? "it is a folder, not a file" : code === "EACCES" || code === "EPERM" ? "permission denied" : (code ?? (e as Error).message);
    throw new CardUpdateError(`Model card '${rel}' cannot be read: ${why}`);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0)
    throw new CardUpdateError(
      `${rel}: not a text file (a NUL byte at offset ${nul}); the card is left as it is`,
    );
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
      bytes,
    );
  } catch {
    throw new CardUpdateError(
      `${rel}: not UTF-8 text (the Hub reads cards as UTF-8); the card is left as it is`,
    );
  }
}

/** Writes the updated card through a temporary file and a rename: an interrupted write leaves it as it was. */
export function writeCardText(abs: string, text: string, rel = abs): void {
  try {
    writeFileAtomic(abs, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "EACCES" || code === "EPERM" ? "permission denied" : code === "EROFS" ? "a read-only file system" : code === "ENOSPC" ? "the disk is full" : (code ?? (e as Error).message);
    throw new CardUpdateError(`Model card '${rel}' cannot be written: ${why}; the card is left as it was`);
  }
}

/**
 * Refuses a file that is not a model card before it is kept with a registered version for good: a
 * card is Markdown (README.md, MODEL_CARD.md, …) or a Model Card Toolkit `*.modelcard.yaml` or `model_card.json`, UTF-8
 * text, its front matter (if any) closed, its YAML parsing. `runwise card validate` says more about
 * what is in it (the schema's diagnostics).
 */
export function checkCardForRegistration(abs: string, rel: string): void {
  if (!cardFormatOf(rel))
    throw new CardUpdateError(
      `${rel}: not a model card (expected a Markdown file such as README.md, *.modelcard.yaml or model_card.json); a registered version keeps its card for good`,
    );
  const text = readCardText(abs, rel);
  if (cardFormatOf(rel) === "huggingface") checkFrontMatterClosed(text, rel);
  // What the toolkit could never read is not kept for good (card validate's error too).
  if (/\.json$/i.test(rel) && text.charCodeAt(0) === 0xfeff)
    throw new CardUpdateError(`${rel}:1:1: the card starts with a byte order mark, which Python's json refuses ('Unexpected UTF-8 BOM'): save it as UTF-8 without BOM; a registered version keeps its card for good`);
  checkCardYaml(text, rel);
}
