/**
 * How the runner names what belongs to a pipeline file, shared with the language server so that
 * `runwise check` and the editor say what the run will do: the lock file a pipeline file's stages
 * are kept in, and the ids its stages go by across the workspace. No imports: the runner loads it
 * on every walk.
 */

/** Root pipeline files whose stages are addressed by bare name, as DVC addresses dvc.yaml's (the first present is the one). */
export const DEFAULT_PIPELINE_FILES: readonly string[] = ['dvc.yaml', 'runwise.yaml', 'runwise.yml', 'dvc.yml'];

/** The pipeline file (workspace-relative) whose stages go by bare name: the first root file DEFAULT_PIPELINE_FILES names, in `files`' order. */
export function defaultPipelineFile(files: readonly string[]): string | undefined {
  return files.find((f) => DEFAULT_PIPELINE_FILES.includes(f));
}

/** A stage's id in the workspace: its name in the default file, `file:name` in any other (DVC's addressing). */
export function stageIdOf(file: string, name: string, isDefault: boolean): string {
  return isDefault ? name : `${file}:${name}`;
}

/**
 * The lock file in which the runner keeps a pipeline file's stages' state (workspace-relative in and
 * out): `name.pipeline.lock` beside `name.pipeline.yaml`, else `runwise.lock` beside it, so a
 * `dvc.yaml` and a `runwise.yaml` in one folder share one.
 */
export function lockFileOf(pipelineFile: string): string {
  const slash = pipelineFile.lastIndexOf('/');
  const dir = slash < 0 ? '' : pipelineFile.slice(0, slash);
  const m = /^(.*\.pipeline)\.ya?ml$/i.exec(pipelineFile.slice(slash + 1));
  const name = m ? `${m[1]}.lock` : 'runwise.lock';
  return dir === '' ? name : `${dir}/${name}`;
}

/** Why two pipeline files sharing a lock file cannot both have a stage named `name` (for `check`, the editor and the runner alike). */
export function sharedLockMessage(name: string, otherFile: string, lockFile: string): string {
  return `Stage '${name}' is also a stage of ${otherFile}, and both files keep their stages' state in ${lockFile} by name: one would be compared with the other's record and rerun every time; rename one of them`;
}
