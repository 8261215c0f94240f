/**
 * YAML front matter of a Markdown file (a Hugging Face model card's or Space's README.md), found the
 * way the Hub and `huggingface_hub` find it (`REGEX_YAML_BLOCK` in huggingface_hub/repocard.py,
 * `^(\s*---[\r\n]+)([\S\s]*?)([\r\n]+---(\r\n|\n|$))`, kept in sync with the Hub server):
 * - optional whitespace, then `---` and at least one line break opens the block;
 * - the block ends at the first line that is exactly `---` (no `...`, no trailing spaces) and that
 *   follows at least one line break after the opening one;
 * - so `---\n---\nlicense: mit\n---` is one block whose YAML is `---\nlicense: mit` (a YAML
 *   document start, then the metadata), while `---\n\n---\n` is an empty block.
 * A closing `---` followed by a lone `\r` counts as a line end (`metadata_load` reads the file with
 * universal newlines). `offset` is where the YAML starts in the file, so an offset into `yaml` plus
 * `offset` is an offset into the Markdown; `yaml` runs to the start of the closing `---` line.
 */
export interface FrontMatter {
  yaml: string;
  offset: number;
}

export function extractFrontMatter(markdown: string): FrontMatter | undefined {
  let pos = 0;
  while (pos < markdown.length && isSpace(markdown.charCodeAt(pos))) pos++;
  if (!markdown.startsWith('---', pos)) return undefined;
  const breakStart = pos + 3;
  if (!isBreak(markdown.charCodeAt(breakStart))) return undefined;
  let start = breakStart;
  while (isBreak(markdown.charCodeAt(start))) start++;
  // The closing `---` must come after a line break at or after `start`.
  let i = start;
  while (i < markdown.length) {
    if (isBreak(markdown.charCodeAt(i))) {
      let q = i;
      while (isBreak(markdown.charCodeAt(q))) q++;
      if (isClosing(markdown, q)) return { yaml: markdown.slice(start, q), offset: start };
      i = q;
    } else i++;
  }
  // No closing after the metadata: the regex backtracks into the opening line breaks, which gives an
  // empty block when they are followed by `---` (`---\n\n---\n`).
  if (start - breakStart >= 2 && isClosing(markdown, start)) return { yaml: markdown.slice(breakStart + 1, start), offset: breakStart + 1 };
  return undefined;
}

/**
 * The 1-based line of a front matter opening (`---` and a line break after optional whitespace) that
 * no line `---` closes, as the Hub reads it (a closing `...` does not count), when what follows it
 * is metadata (after blank lines and adjacent `#` lines, a YAML `key:` in lower case or quoted, as
 * card metadata keys are; `Note: …` starts text under a rule); undefined when the
 * text opens none, extractFrontMatter finds the block, or the `---` is a horizontal rule above the
 * text.
 */
export function unclosedFrontMatterLine(markdown: string): number | undefined {
  let pos = 0;
  while (pos < markdown.length && isSpace(markdown.charCodeAt(pos))) pos++;
  if (!markdown.startsWith('---', pos) || !isBreak(markdown.charCodeAt(pos + 3))) return undefined;
  if (extractFrontMatter(markdown)) return undefined;
  // `---` right on the next line: an empty block as written, which the Hub does not read as front
  // matter either (a card without metadata, not an unclosed one).
  let next = pos + 3;
  while (isBreak(markdown.charCodeAt(next))) next++;
  if (isClosing(markdown, next)) return undefined;
  // Metadata, not a horizontal rule above the text: after blank lines and `#` lines that follow one
  // another (YAML comments, where a Markdown heading would stand alone), a YAML `key:`.
  const lines = markdown.slice(next).split(/\r\n|\r|\n/);
  let k = 0;
  while (k < lines.length && lines[k]!.trim() === '') k++;
  while (k < lines.length && lines[k]!.trimStart().startsWith('#')) k++;
  // A key as card metadata writes them (lower case: `license:`, `model-index:`, or quoted), not a
  // label starting a sentence (`Note: this model…`), which the Hub reads as text under a rule.
  if (k >= lines.length || !/^[ \t]*(["'][^"']+["']|[a-z_][\w.-]*)[ \t]*:([ \t]|$)/.test(lines[k]!)) return undefined;
  let line = 1;
  for (let i = 0; i < pos; i++) if (markdown.charCodeAt(i) === 10) line++;
  return line;
}

function isClosing(text: string, at: number): boolean {
  if (!text.startsWith('---', at)) return false;
  const next = at + 3;
  return next >= text.length || isBreak(text.charCodeAt(next));
}

function isBreak(c: number): boolean {
  return c === 10 || c === 13;
}

/** JavaScript's `\s` (which includes a byte order mark). */
function isSpace(c: number): boolean {
  return (
    c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}
