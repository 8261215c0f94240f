/** What editing a model card's text gives or refuses (cardUpdate.ts, jsonCardUpdate.ts). */

/** The card cannot be updated as written; the message names the file, line and what was expected. */
export class CardUpdateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CardUpdateError";
  }
}

export interface TextEdit {
  /** Offsets in the original text. */
  start: number;
  end: number;
  text: string;
}
