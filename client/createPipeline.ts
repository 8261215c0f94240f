/**
 * `Runwise: Create Pipeline`: writes a starter `runwise.yaml` (and a `params.yaml` when there is
 * none) in the workspace folder and opens it; an existing pipeline is opened, never overwritten.
 */
import * as vscode from 'vscode';

const PIPELINE = `# A Runwise pipeline (DVC's dvc.yaml format, plus built-in evaluate/register/drift steps).
# A stage runs its cmd when its deps or params changed since the last run (runwise.lock).
# Scripts log runs through MLFLOW_TRACKING_URI: mlflow, or Runwise's one-file runwise_tracking.py.
stages:
  train:
    cmd: python train.py
    deps:
      - train.py
    params:
      - train
    metrics:
      - metrics.json:
          cache: false
`;

const PARAMS = `# Parameters the pipeline's stages read (\`params:\` entries and \${...} in the pipeline).
train:
  lr: 0.01
  epochs: 10
`;

export async function createPipeline(folder: vscode.Uri | undefined): Promise<void> {
  if (!folder) {
    void vscode.window.showWarningMessage('Open a folder first: the pipeline goes into the workspace folder.');
    return;
  }
  const pipeline = vscode.Uri.joinPath(folder, 'runwise.yaml');
  const params = vscode.Uri.joinPath(folder, 'params.yaml');
  const exists = async (u: vscode.Uri) =>
    vscode.workspace.fs.stat(u).then(
      () => true,
      () => false,
    );
  if (!(await exists(pipeline))) {
    await vscode.workspace.fs.writeFile(pipeline, Buffer.from(PIPELINE, 'utf8'));
    if (!(await exists(params))) await vscode.workspace.fs.writeFile(params, Buffer.from(PARAMS, 'utf8'));
  }
  await vscode.window.showTextDocument(pipeline);
}
