/**
 * YAML front matter of a Markdown file (a Hugging Face model card's README.md): the text between a
 * first line `---` and the next line `---` (or `...`). `offset` is where the YAML starts in the file,
 * so an offset into `yaml` plus `offset` is an offset into the Markdown.
 */
export interface FrontMatter {
  yaml: string;
  offset: number;
}

export function extractFrontMatter(markdown: string): FrontMatter | undefined {
  let pos = markdown.charCodeAt(0) === 0xfeff ? 1 : 0;
  const firstEnd = lineEnd(markdown, pos);
  if (markdown.slice(pos, firstEnd).trimEnd() !== '---') return undefined;
  pos = nextLine(markdown, firstEnd);
  const start = pos;
  while (pos < markdown.length) {
    const end = lineEnd(markdown, pos);
    const line = markdown.slice(pos, end).trimEnd();
    if (line === '---' || line === '...') return { yaml: markdown.slice(start, pos), offset: start };
    pos = nextLine(markdown, end);
  }
  return undefined;
}

function lineEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length && text.charCodeAt(i) !== 10 && text.charCodeAt(i) !== 13) i++;
  return i;
}

function nextLine(text: string, end: number): number {
  if (text.charCodeAt(end) === 13 && text.charCodeAt(end + 1) === 10) return end + 2;
  return end < text.length ? end + 1 : end;
}
