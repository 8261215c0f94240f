/**
 * A registered version's model as a file to load (onnxruntime takes a path): a private copy of the
 * version's files, each written from the bytes re-hashed (verifiedFile.ts), for an evaluation of
 * the version by a gate, the CLI or the editor.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Tracker } from './tracker';
import { invalid } from './trackerError';
import { resolveInside } from '../workspace/workspacePath';

/**
 * Runs `use` with the path of a registered version's `.onnx` file: a temporary copy of the
 * version's files (external data beside the model, where onnxruntime looks for it), each copied
 * from the bytes re-hashed (a changed copy is refused), removed afterwards. Refuses (TrackerError) a
 * version that holds no `.onnx` file or several.
 */
export async function withVersionModel<T>(
  tracker: Tracker,
  name: string,
  version: string,
  use: (modelPath: string) => Promise<T>,
): Promise<T> {
  const files = tracker.registry.versionFiles(name, version);
  const models = files.filter((f) => f.path.toLowerCase().endsWith('.onnx'));
  // A TrackerError: the CLI says it in one line, a gate as why the champion could not be measured.
  if (models.length !== 1) throw invalid(`${name}/${version} holds ${models.length === 0 ? 'no .onnx file' : `${models.length} .onnx files`} to evaluate`);
  // Copied out, each file from the descriptor it was hashed from (what onnxruntime reads is what
  // was verified, whatever happens to the store's path meanwhile), with the names onnxruntime looks
  // for beside the model; a private folder, removed afterwards.
  const dir = mkdtempSync(path.join(tmpdir(), 'runwise-version-'));
  try {
    let modelPath = '';
    for (const f of files) {
      const opened = await tracker.openModelVersionFileAsync(
        name,
        version,
        f.path,
      );
      const to = resolveInside(dir, f.path);
      mkdirSync(path.dirname(to), { recursive: true });
      opened.verified.copyTo(to);
      if (f === models[0]) modelPath = to;
    }
    return await use(modelPath);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
