/**
 * Pipelines as VS Code tasks (type `runwise`): "runwise: run pipeline", and one task per stage,
 * "runwise: train@us" (the stage with what is upstream of it, as `runwise run train@us`). A task
 * in tasks.json names a stage (`"stage": "train"`) or none (the whole pipeline), so users can bind
 * keys to them. The task's terminal shows the run's output; its exit code is 0 when the run was ok.
 */
import * as vscode from 'vscode';
import type { PipelineRunner, PipelineRunRequest } from './pipelineRunner';
import { PipelineTerminal } from './pipelineRunner';
import type { PipelineState } from './pipelineState';

export const TASK_TYPE = 'runwise';

interface RunwiseTaskDefinition extends vscode.TaskDefinition {
  type: typeof TASK_TYPE;
  /** A stage id or name; absent = the whole pipeline. */
  stage?: string;
  /** Run only this stage, not what is upstream of it. */
  only?: boolean;
}

export class PipelineTaskProvider implements vscode.TaskProvider {
  constructor(
    private readonly state: PipelineState,
    private readonly runner: PipelineRunner,
  ) {}

  async provideTasks(): Promise<vscode.Task[]> {
    await this.state.whenComputed();
    const tasks = [this.task({ type: TASK_TYPE }, 'run pipeline')];
    for (const s of this.state.graph?.stages ?? []) tasks.push(this.task({ type: TASK_TYPE, stage: s.id }, s.id));
    return tasks;
  }

  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const def = task.definition as RunwiseTaskDefinition;
    if (def.type !== TASK_TYPE) return undefined;
    return this.task(def, def.stage ?? 'run pipeline', task.scope);
  }

  private task(def: RunwiseTaskDefinition, name: string, scope: vscode.Task['scope'] = vscode.TaskScope.Workspace): vscode.Task {
    const request: PipelineRunRequest = def.stage ? { targets: [def.stage], ...(def.only ? { only: true } : {}) } : {};
    const execution = new vscode.CustomExecution(async () => new TaskTerminal(this.runner, request));
    const task = new vscode.Task(def, scope ?? vscode.TaskScope.Workspace, name, TASK_TYPE, execution);
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true };
    return task;
  }
}

/** The task's terminal: starts the run when opened, ends with the run's exit code. */
class TaskTerminal extends PipelineTerminal {
  constructor(
    private readonly runner: PipelineRunner,
    private readonly request: PipelineRunRequest,
  ) {
    super();
  }

  override open(): void {
    super.open();
    this.runner.run(this.request, this).then(
      (result) => this.exit(result && result.ok ? 0 : result?.cancelled ? 130 : 1),
      (e: unknown) => {
        this.line(`✖ ${e instanceof Error ? e.message : String(e)}`);
        this.exit(1);
      },
    );
  }
}
