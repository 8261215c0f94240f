/**
 * Which Python a stage's `python ...` runs (core/pipeline/pythonCommand.ts): the Python extension's
 * selection, else the runwise.pythonPath setting, else python3 on PATH; only a leading python word
 * is replaced, shell-quoted; a run with runPipeline's commandFor starts the rewritten command while
 * the lock entry, the `runwise.cmd` tag and the reports keep the command as written, and the
 * interpreter is the run's `runwise.python` tag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { HashCache } from '../../../core/pipeline/hashCache';
import { readLockState } from '../../../core/pipeline/lockFile';
import { loadPipeline } from '../../../core/pipeline/loadPipeline';
import { runPipeline, type PipelineRunResult } from '../../../core/pipeline/pipelineRun';
import type { PipelineGraph } from '../../../core/pipeline/pipelineModel';
import { PYTHON_TAG, pythonInterpreter, pythonRunOptions, runsPython, shellWord, withInterpreter } from '../../../core/pipeline/pythonCommand';
import { planRun } from '../../../core/pipeline/stageStatus';
import { CMD_TAG, STAGE_TAG } from '../../../core/tracker/model';
import { Tracker } from '../../../core/tracker/tracker';
import { tempWorkspace, writeWorkspaceFile } from '../../support/tempWorkspace';

test('the Python extension wins over the setting, the setting over python3; blanks count as unset', () => {
  assert.deepEqual(pythonInterpreter({ selected: '/venv/bin/python', setting: '/opt/py/bin/python3' }), { command: '/venv/bin/python', source: 'python-extension' });
  assert.deepEqual(pythonInterpreter({ selected: undefined, setting: '/opt/py/bin/python3' }), { command: '/opt/py/bin/python3', source: 'setting' });
  assert.deepEqual(pythonInterpreter({ selected: '  ', setting: '' }), { command: 'python3', source: 'path' });
  assert.deepEqual(pythonInterpreter({}), { command: 'python3', source: 'path' });
});

test('only a leading python or python3 word is replaced', () => {
  assert.equal(withInterpreter('python train.py --lr 0.1', '/venv/bin/python'), '/venv/bin/python train.py --lr 0.1');
  assert.equal(withInterpreter('python3 -m pkg', '/venv/bin/python'), '/venv/bin/python -m pkg');
  assert.equal(withInterpreter('  python', '/venv/bin/python'), '  /venv/bin/python');
  assert.equal(withInterpreter('pythonic run', '/venv/bin/python'), 'pythonic run');
  assert.equal(withInterpreter('python3.11 x.py', '/venv/bin/python'), 'python3.11 x.py');
  assert.equal(withInterpreter('echo python train.py', '/venv/bin/python'), 'echo python train.py');
  assert.equal(withInterpreter('./python x', '/venv/bin/python'), './python x');
});

test('an interpreter path with spaces or quotes is one shell word', () => {
  assert.equal(shellWord('/home/a b/.venv/bin/python'), `'/home/a b/.venv/bin/python'`);
  assert.equal(shellWord(`/it's/python`), `'/it'\\''s/python'`);
  assert.equal(withInterpreter('python t.py', '/home/a b/py'), `'/home/a b/py' t.py`);
});

test('the run options rewrite only what starts with python and tag only the stages that do', () => {
  const ws = tempWorkspace('python-options', { 'runwise.yaml': 'stages:\n  train:\n    cmd:\n      - echo start\n      - python3 train.py\n  copy:\n    cmd: cp a b\n' });
  const graph = loadPipeline(ws);
  const train = graph.byId.get('train')!;
  const copy = graph.byId.get('copy')!;
  const options = pythonRunOptions('/home/a b/py');
  assert.deepEqual(
    train.cmd.map((c) => options.commandFor(train, c)),
    ['echo start', `'/home/a b/py' train.py`],
  );
  assert.deepEqual(options.stageTags(train), [{ key: PYTHON_TAG, value: '/home/a b/py' }], 'the tag holds the path unquoted');
  assert.deepEqual(options.stageTags(copy), []);
  assert.equal(runsPython({ cmd: ['echo python x'] }), false);
  assert.equal(runsPython({ cmd: ['echo', '  python -V'] }), true);
});

/**
 * Runs every stage of `ws` with `python` started as the workspace file `rel`, a shell script
 * standing in for an interpreter; `check` sees the outcome while the tracker is open.
 */
async function runWithFakePython(
  ws: string,
  rel: string,
  script: string,
  check: (run: { graph: PipelineGraph; result: PipelineRunResult; tracker: Tracker; fake: string }) => void,
): Promise<void> {
  const fake = writeWorkspaceFile(ws, rel, script);
  chmodSync(fake, 0o755);
  const graph = loadPipeline(ws);
  const hashes = new HashCache(ws);
  const tracker = Tracker.open(ws);
  try {
    const result = await runPipeline({ graph, decisions: planRun(graph, { hashes }), tracker, hashes, ...pythonRunOptions(fake) });
    hashes.save();
    check({ graph, result, tracker, fake });
  } finally {
    tracker.close();
  }
}

test('a stage run through commandFor starts the interpreter; its lock entry, tags and report keep the command as written', async () => {
  const ws = tempWorkspace('python-lock', {
    'in.txt': 'x\n',
    'runwise.yaml': 'stages:\n  make:\n    cmd:\n      - python make.py\n      - echo done >> out.txt\n    deps: [in.txt]\n    outs: [out.txt]\n  other:\n    cmd: echo other > other.txt\n    outs: [other.txt]\n',
  });
  // The "interpreter" does what `python make.py` would, and says it was the one run.
  await runWithFakePython(ws, 'bin dir/fake-python', '#!/bin/sh\necho "fake-python $*" > out.txt\n', ({ graph, result, tracker, fake }) => {
    assert.ok(result.ok, JSON.stringify(result.stages));
    assert.equal(readFileSync(path.join(ws, 'out.txt'), 'utf8'), 'fake-python make.py\ndone\n', 'the rewritten command ran, then the next one as written');
    assert.deepEqual(readLockState(ws, 'runwise.yaml').stages.get('make')!.cmd, ['python make.py', 'echo done >> out.txt']);
    assert.deepEqual(graph.byId.get('make')!.cmd, ['python make.py', 'echo done >> out.txt'], 'the loaded graph is untouched');

    const tags = (id: string) => new Map(tracker.getRun(result.stages.find((s) => s.id === id)!.runId!).tags.map((t) => [t.key, t.value]));
    const make = tags('make');
    assert.equal(make.get(CMD_TAG), 'python make.py\necho done >> out.txt');
    assert.equal(make.get(PYTHON_TAG), fake);
    assert.equal(make.get(STAGE_TAG), 'make');
    assert.equal(tags('other').has(PYTHON_TAG), false, 'a stage without python gets no interpreter tag');

    assert.deepEqual(
      planRun(graph, { hashes: new HashCache(ws) }).map((d) => [d.id, d.action]),
      [
        ['make', 'skip'],
        ['other', 'skip'],
      ],
      'up to date: the lock compares the command as written',
    );
  });
});

test("a failing rewritten command's report names the command as written", async () => {
  const ws = tempWorkspace('python-fail', { 'runwise.yaml': 'stages:\n  make:\n    cmd: python make.py\n    outs: [out.txt]\n' });
  await runWithFakePython(ws, 'fake-python', '#!/bin/sh\nexit 3\n', ({ result }) => {
    assert.equal(result.stages[0]!.status, 'failed');
    assert.equal(result.stages[0]!.message, "'python make.py' exited with code 3");
    assert.equal(readLockState(ws, 'runwise.yaml').stages.has('make'), false, 'a failed stage writes no lock entry');
  });
});
