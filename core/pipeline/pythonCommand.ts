/**
 * Which Python a stage's `python ...` command runs. A command whose first word is `python` (or
 * `python3`) runs the interpreter selected in the editor's Python extension when there is one, else
 * the `runwise.pythonPath` setting when set, else `python3` from PATH. The pipeline file and its
 * lock entry keep the command as written; only the command that is started changes.
 */
import { isDeepStrictEqual } from 'node:util';
import { lockCommand, readLockState, writeLockEntry } from './lockFile';
import type { PipelineGraph, PipelineStage } from './pipelineModel';

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
 * The graph with every stage's commands passed through `rewrite`, for running: the same stage ids,
 * order and edges. Returns the graph itself when no command changes.
 */
export function graphWithCommands(graph: PipelineGraph, rewrite: (command: string, stage: PipelineStage) => string): PipelineGraph {
  let changed = false;
  const stages = graph.stages.map((s) => {
    const cmd = s.cmd.map((c) => rewrite(c, s));
    if (cmd.every((c, i) => c === s.cmd[i])) return s;
    changed = true;
    return { ...s, cmd };
  });
  if (!changed) return graph;
  return {
    root: graph.root,
    files: graph.files,
    stages,
    byId: new Map(stages.map((s) => [s.id, s])),
    upstream: (id) => graph.upstream(id),
    downstream: (id) => graph.downstream(id),
    gates: graph.gates,
  };
}

/**
 * After a stage ran from graphWithCommands' graph, its lock entry holds the command that ran; this
 * puts back the command as the pipeline file (`graph`) writes it, so `runwise status` compares like
 * with like. Other stages' entries are untouched (writeLockEntry). Returns whether it rewrote.
 */
export function keepWrittenCommand(graph: PipelineGraph, stageId: string): boolean {
  const stage = graph.byId.get(stageId);
  if (!stage || stage.cmd.length === 0) return false;
  const entry = readLockState(graph.root, stage.file).stages.get(stage.name);
  const written = lockCommand(stage);
  if (!entry || isDeepStrictEqual(entry.cmd, written)) return false;
  writeLockEntry(graph, stage, { ...entry, cmd: written });
  return true;
}
