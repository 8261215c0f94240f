/** Fresh temporary workspaces for tests, removed when the test process ends. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  if (process.env.RUNWISE_KEEP_TEST_DIRS) return;
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

export function tempWorkspace(label = 'ws'): string {
  const d = mkdtempSync(path.join(tmpdir(), `runwise-${label}-`));
  made.push(d);
  return d;
}
