/**
 * The interpreter selected in the Python extension (ms-python.python), asked through
 * `@vscode/python-extension`'s API, loaded only when a pipeline runs and only when that extension
 * is installed. The rule that picks between it, `runwise.pythonPath` and `python3` is
 * core/pipeline/pythonCommand.ts's.
 */
import * as vscode from 'vscode';
import { pythonInterpreter, type PythonInterpreter } from '../core/pipeline/pythonCommand';
import { readSetting } from './settings';

const PYTHON_EXTENSION_ID = 'ms-python.python';

/** The selected interpreter's executable for `resource`, or undefined (no Python extension, none selected, or its API failed). */
async function selectedInterpreter(resource: vscode.Uri, log: vscode.LogOutputChannel): Promise<string | undefined> {
  if (!vscode.extensions.getExtension(PYTHON_EXTENSION_ID)) return undefined;
  try {
    const { PythonExtension } = await import('@vscode/python-extension');
    const api = await PythonExtension.api();
    const active = api.environments.getActiveEnvironmentPath(resource);
    const resolved = await api.environments.resolveEnvironment(active);
    return resolved?.executable.uri?.fsPath ?? undefined;
  } catch (e) {
    log.warn(`could not ask the Python extension for its interpreter: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

/** The interpreter a stage's leading `python` runs in the workspace folder `root`. */
export async function stagePython(root: string, log: vscode.LogOutputChannel): Promise<PythonInterpreter> {
  const folder = vscode.Uri.file(root);
  return pythonInterpreter({ selected: await selectedInterpreter(folder, log), setting: readSetting(vscode.workspace, 'pythonPath', folder) });
}
