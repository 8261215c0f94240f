/**
 * The `MLmodel` file a registered version of a bare ONNX file is served with (only over the
 * artifact proxy, beside the version's own files), so that MLflow's loaders take it as an ONNX
 * model: `mlflow.pyfunc.load_model("models:/churn@champion")` and `mlflow.onnx.load_model(...)`
 * read `MLmodel` first (mlflow/pyfunc/__init__.py `load_model`: the `python_function` flavor's
 * `loader_module` and `data`; mlflow/onnx/__init__.py `_OnnxModelWrapper`: the `onnx` flavor's
 * `providers`) and refuse a folder without one. A version registered from an MLflow model folder
 * has its own `MLmodel` and gets none.
 *
 * The file is made from the version alone (its file name, sha256 and registration time), the same
 * bytes on every request; the version's own files are untouched, and its sha256 does not cover it.
 */
import type { ArtifactRecord } from '../tracker/model';
import type { ModelVersion } from '../tracker/modelRegistry';

export const MLMODEL_FILE = 'MLmodel';

/** The version's MLmodel text when it is one `.onnx` file at its root (with any external data files) and has no MLmodel; else undefined. */
export function versionMlmodel(version: ModelVersion, files: readonly ArtifactRecord[]): string | undefined {
  if (files.some((f) => f.path === MLMODEL_FILE)) return undefined;
  const models = files.filter((f) => !f.path.includes('/') && f.path.toLowerCase().endsWith('.onnx'));
  if (models.length !== 1) return undefined;
  const data = models[0]!.path;
  const created = new Date(version.creationTimestamp).toISOString().replace('T', ' ').replace('Z', '000');
  return [
    'flavors:',
    '  onnx:',
    '    code: null',
    `    data: ${yamlText(data)}`,
    // Explicit: MLflow's default list tries CUDA first and warns where there is none.
    '    providers:',
    '    - CPUExecutionProvider',
    '  python_function:',
    `    data: ${yamlText(data)}`,
    '    loader_module: mlflow.onnx',
    `model_uuid: '${version.sha256.slice(0, 32)}'`,
    `utc_time_created: '${created}'`,
    'metadata:',
    `  runwise_registered_model: ${yamlText(version.name)}`,
    `  runwise_version: '${version.version}'`,
    `  runwise_sha256: '${version.sha256}'`,
    '',
  ].join('\n');
}

/** A YAML scalar for any text: JSON's double-quoted string is one. */
function yamlText(text: string): string {
  return JSON.stringify(text);
}
