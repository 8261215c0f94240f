/** Fresh temporary workspaces for tests, removed when the test process ends, and files written into them. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  if (process.env.RUNWISE_KEEP_TEST_DIRS) return;
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A new empty folder, or one holding `files` (workspace path with `/` → content). */
export function tempWorkspace(label = 'ws', files: Readonly<Record<string, string | Buffer>> = {}): string {
  const d = mkdtempSync(path.join(tmpdir(), `runwise-${label}-`));
  made.push(d);
  for (const [rel, data] of Object.entries(files)) writeWorkspaceFile(d, rel, data);
  return d;
}

/** Writes `data` at the workspace path `rel` (`/`-separated) of `ws`, creating its folders; returns the absolute path. */
export function writeWorkspaceFile(ws: string, rel: string, data: string | Buffer): string {
  const abs = path.join(ws, ...rel.split('/'));
  mkdirSync(path.dirname(abs), { recursive: true });
  writeFileSync(abs, data);
  return abs;
}
