/**
 * Run artifacts as the run details page lists and previews them: every file of the run (paths as
 * the tracker stores them, so a path the page sends back is checked against this list before
 * anything is read), and a preview of one file by its kind: an image as a data: URI (the page's
 * Content-Security-Policy allows data: images and nothing else), JSON pretty-printed, CSV as rows,
 * other text as text, anything else as its size only. Reads are bounded: a large file is previewed
 * from its start and says it was cut.
 */
import { open } from 'node:fs/promises';
import type { Tracker } from '../tracker/tracker';

export interface ArtifactFile {
  path: string;
  size: number;
}

export type ArtifactPreview =
  | { kind: 'image'; path: string; size: number; dataUri: string }
  | { kind: 'json'; path: string; size: number; text: string; truncated: boolean }
  | { kind: 'csv'; path: string; size: number; rows: string[][]; truncated: boolean }
  | { kind: 'text'; path: string; size: number; text: string; truncated: boolean }
  | { kind: 'binary'; path: string; size: number }
  /** Too large to preview as an image. */
  | { kind: 'tooLarge'; path: string; size: number; limit: number };

export const TEXT_PREVIEW_BYTES = 256 * 1024;
export const IMAGE_PREVIEW_BYTES = 4 * 1024 * 1024;
export const CSV_PREVIEW_ROWS = 200;
export const MAX_LISTED_ARTIFACTS = 2000;

const IMAGE_TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', svg: 'image/svg+xml', bmp: 'image/bmp' };
const TEXT_EXTENSIONS = new Set(['txt', 'log', 'md', 'yaml', 'yml', 'py', 'toml', 'ini', 'cfg', 'xml', 'html', 'tsv', 'jsonl', 'ndjson', 'sh', 'r', 'sql', 'mlmodel', 'requirements']);

/** What a file is previewed as, from its name. */
export function artifactKind(artifactPath: string): 'image' | 'json' | 'csv' | 'text' | 'unknown' {
  const name = artifactPath.slice(artifactPath.lastIndexOf('/') + 1).toLowerCase();
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? name.slice(dot + 1) : name;
  if (ext in IMAGE_TYPES) return 'image';
  if (ext === 'json') return 'json';
  if (ext === 'csv') return 'csv';
  if (TEXT_EXTENSIONS.has(ext) || name === 'mlmodel' || name === 'mlproject') return 'text';
  return 'unknown';
}

/** Every file of the run's artifacts, by path, at most `max` (then `truncated`). */
export function listArtifactFiles(tracker: Tracker, runId: string, max = MAX_LISTED_ARTIFACTS): { files: ArtifactFile[]; truncated: boolean } {
  const files: ArtifactFile[] = [];
  const dirs = [''];
  while (dirs.length > 0) {
    const dir = dirs.shift()!;
    for (const e of tracker.listArtifacts(runId, dir)) {
      if (e.isDir) dirs.push(e.path);
      else {
        if (files.length === max) return { files, truncated: true };
        files.push({ path: e.path, size: e.fileSize ?? 0 });
      }
    }
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, truncated: false };
}

async function readStart(filePath: string, limit: number): Promise<Buffer> {
  const handle = await open(filePath, 'r');
  try {
    const buf = Buffer.alloc(limit);
    const { bytesRead } = await handle.read(buf, 0, limit, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Does `bytes` read as text (valid UTF-8 without NUL bytes, allowing a character cut at the end)? */
function looksLikeText(bytes: Buffer): boolean {
  if (bytes.includes(0)) return false;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const bad = (text.match(/\uFFFD/g) ?? []).length;
  return bad <= 1;
}

/**
 * A preview of the run's artifact `artifactPath`, which must be one of `listArtifactFiles`' paths
 * (the tracker refuses anything else, and paths with `..` or absolute ones are refused before).
 */
export async function previewArtifact(tracker: Tracker, runId: string, artifactPath: string): Promise<ArtifactPreview> {
  const opened = tracker.openArtifact(runId, artifactPath);
  const size = opened.record.size;
  const path = opened.record.path;
  const kind = artifactKind(path);
  if (kind === 'image') {
    if (size > IMAGE_PREVIEW_BYTES) return { kind: 'tooLarge', path, size, limit: IMAGE_PREVIEW_BYTES };
    const bytes = await readStart(opened.filePath, size);
    const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
    return { kind: 'image', path, size, dataUri: `data:${IMAGE_TYPES[ext]};base64,${bytes.toString('base64')}` };
  }
  const bytes = await readStart(opened.filePath, Math.min(size, TEXT_PREVIEW_BYTES));
  const truncated = size > bytes.length;
  if (!looksLikeText(bytes)) return { kind: 'binary', path, size };
  const text = new TextDecoder('utf-8').decode(bytes);
  if (kind === 'json' && !truncated) {
    try {
      return { kind: 'json', path, size, text: JSON.stringify(JSON.parse(text), null, 2), truncated };
    } catch {
      return { kind: 'text', path, size, text, truncated };
    }
  }
  if (kind === 'csv') {
    const parsed = parseCsvRows(text, CSV_PREVIEW_ROWS);
    return { kind: 'csv', path, size, rows: parsed.rows, truncated: truncated || parsed.truncated };
  }
  return { kind: 'text', path, size, text, truncated };
}

/**
 * The first `maxRows` rows of CSV text (RFC 4180: quoted fields with doubled quotes, commas and line
 * breaks inside quotes, CRLF or LF); blank lines are skipped. A cut-off last line is dropped when
 * more text was expected (`truncated`).
 */
export function parseCsvRows(text: string, maxRows: number): { rows: string[][]; truncated: boolean } {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const endRow = (): boolean => {
    row.push(field);
    field = '';
    if (!(row.length === 1 && row[0] === '')) rows.push(row);
    row = [];
    return rows.length >= maxRows;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      if (endRow()) return { rows, truncated: i + 1 < src.length };
    } else field += c;
    i++;
  }
  if (field !== '' || row.length > 0) endRow();
  return { rows, truncated: false };
}

/** The last `maxBytes` of the run's artifact as text (a log's end), cut at a line start. */
export async function artifactTail(tracker: Tracker, runId: string, artifactPath: string, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  const opened = tracker.openArtifact(runId, artifactPath);
  const size = opened.record.size;
  const start = Math.max(0, size - maxBytes);
  const handle = await open(opened.filePath, 'r');
  try {
    const buf = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buf, 0, buf.length, start);
    let text = new TextDecoder('utf-8').decode(buf.subarray(0, bytesRead));
    if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    return { text, truncated: start > 0 };
  } finally {
    await handle.close();
  }
}
