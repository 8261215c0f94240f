/**
 * One edit of a text, in UTF-16 offsets: the span [start, end) of the text it applies to is
 * replaced by `text`. A list of edits applies in order, each in the coordinates of the text the
 * previous ones produced (as LSP's incremental didChange sends them).
 */
export interface TextEdit {
  start: number;
  end: number;
  text: string;
}
