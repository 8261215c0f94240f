/**
 * Which Python a stage's `python ...` command runs. A command whose first word is `python` (or
 * `python3`) runs the interpreter selected in the editor's Python extension when there is one, else
 * the `runwise.pythonPath` setting when set, else `python3` from PATH. The pipeline file, its lock
 * entry, the stage's status and its run's `runwise.cmd` tag keep the command as written; only the
 * command that is started changes (runPipeline's `commandFor`), and the run gets the interpreter
 * as its `runwise.python` tag.
 */
import type { PipelineRunOptions } from './pipelineRun';
import type { PipelineStage } from './pipelineModel';

/** On a stage's run: the interpreter its rewritten `python` command started (`runwise.cmd` has the command as written). */
export const PYTHON_TAG = 'runwise.python';

export interface PythonChoices {
  /** The interpreter selected in the Python extension (absolute path), when it is installed and has one. */
  selected?: string | undefined;
  /** The `runwise.pythonPath` setting ('' = unset). */
  setting?: string | undefined;
}

export interface PythonInterpreter {
  command: string;
  source: 'python-extension' | 'setting' | 'path';
}

/** The interpreter to run, by the rule above (blank values count as unset). */
export function pythonInterpreter(choices: PythonChoices): PythonInterpreter {
  const selected = choices.selected?.trim();
  if (selected) return { command: selected, source: 'python-extension' };
  const setting = choices.setting?.trim();
  if (setting) return { command: setting, source: 'setting' };
  return { command: 'python3', source: 'path' };
}

const LEADING_PYTHON = /^(\s*)python3?(?=\s|$)/;

/** The command with its leading `python`/`python3` word replaced by `interpreter` (shell-quoted); other commands unchanged. */
export function withInterpreter(command: string, interpreter: string): string {
  return command.replace(LEADING_PYTHON, (_m, space: string) => space + shellWord(interpreter));
}

/** A word for /bin/sh: as is when it holds only safe characters, else in single quotes. */
export function shellWord(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The runner's options (runPipeline's commandFor and stageTags) that start `interpreter` for a
 * leading `python` word: the lock, the status and the `runwise.cmd` tag keep the command as
 * written; a stage whose command was rewritten gets the interpreter as its run's PYTHON_TAG.
 */
export function pythonRunOptions(interpreter: string): Required<Pick<PipelineRunOptions, 'commandFor' | 'stageTags'>> {
  return {
    commandFor: (_stage, command) => withInterpreter(command, interpreter),
    stageTags: (stage) => (runsPython(stage) ? [{ key: PYTHON_TAG, value: interpreter }] : []),
  };
}

/** Whether one of the stage's commands starts with the `python` word the interpreter replaces. */
export function runsPython(stage: Pick<PipelineStage, 'cmd'>): boolean {
  return stage.cmd.some((c) => LEADING_PYTHON.test(c));
}
