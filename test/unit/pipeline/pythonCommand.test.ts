/**
 * Which Python a stage's `python ...` runs (core/pipeline/pythonCommand.ts): the Python extension's
 * selection, else the runwise.pythonPath setting, else python3 on PATH; only a leading python word
 * is replaced, shell-quoted; the graph used for running keeps ids and edges; after a run with the
 * rewritten command, the lock entry has the command as written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { HashCache } from '../../../core/pipeline/hashCache';
import { readLockState } from '../../../core/pipeline/lockFile';
import { loadPipeline } from '../../../core/pipeline/loadPipeline';
import { runPipeline } from '../../../core/pipeline/pipelineRun';
import { graphWithCommands, keepWrittenCommand, pythonInterpreter, shellWord, withInterpreter } from '../../../core/pipeline/pythonCommand';
import { planRun } from '../../../core/pipeline/stageStatus';
import { Tracker } from '../../../core/tracker/tracker';
import { tempWorkspace } from '../../support/tempWorkspace';

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

test('the graph for running has the rewritten commands and the same stages and edges; unchanged commands give the same graph', () => {
  const ws = tempWorkspace('python-cmd');
  mkdirSync(path.join(ws, 'data'), { recursive: true });
  writeFileSync(path.join(ws, 'data', 'raw.csv'), 'a\n');
  writeFileSync(
    path.join(ws, 'runwise.yaml'),
    'stages:\n  prepare:\n    cmd: python prep.py\n    deps: [data/raw.csv]\n    outs: [data/clean.csv]\n  train:\n    cmd:\n      - echo start\n      - python3 train.py\n    deps: [data/clean.csv]\n    outs: [model.bin]\n',
  );
  const graph = loadPipeline(ws);
  const run = graphWithCommands(graph, (c) => withInterpreter(c, '/venv/bin/python'));
  assert.notEqual(run, graph);
  assert.deepEqual(run.byId.get('prepare')!.cmd, ['/venv/bin/python prep.py']);
  assert.deepEqual(run.byId.get('train')!.cmd, ['echo start', '/venv/bin/python train.py']);
  assert.deepEqual(graph.byId.get('prepare')!.cmd, ['python prep.py'], 'the loaded graph is untouched');
  assert.deepEqual(run.stages.map((s) => s.id), graph.stages.map((s) => s.id));
  assert.deepEqual(run.upstream('train'), ['prepare']);
  assert.equal(graphWithCommands(graph, (c) => c), graph);
});

test('a stage run with the rewritten command keeps the written command in its lock, and is then up to date', async () => {
  const ws = tempWorkspace('python-lock');
  writeFileSync(path.join(ws, 'in.txt'), 'x\n');
  // The "interpreter": a script that does what `python make.py` would, and says it was the one run.
  const fake = path.join(ws, 'bin dir', 'fake-python');
  mkdirSync(path.dirname(fake), { recursive: true });
  writeFileSync(fake, '#!/bin/sh\necho "fake-python $*" > out.txt\n', { mode: 0o755 });
  writeFileSync(path.join(ws, 'runwise.yaml'), 'stages:\n  make:\n    cmd: python make.py\n    deps: [in.txt]\n    outs: [out.txt]\n');
  const graph = loadPipeline(ws);
  const run = graphWithCommands(graph, (c) => withInterpreter(c, fake));
  const hashes = new HashCache(ws);
  const tracker = Tracker.open(ws);
  try {
    const restored: boolean[] = [];
    const result = await runPipeline({
      graph: run,
      decisions: planRun(graph, { hashes }),
      tracker,
      hashes,
      onEvent: (e) => {
        if (e.type === 'stage-end' && e.report.status === 'succeeded') restored.push(keepWrittenCommand(graph, e.stage));
      },
    });
    assert.ok(result.ok, JSON.stringify(result.stages));
    assert.deepEqual(restored, [true]);
    assert.equal(readFileSync(path.join(ws, 'out.txt'), 'utf8'), 'fake-python make.py\n', 'the rewritten command ran');
    assert.equal(readLockState(ws, 'runwise.yaml').stages.get('make')!.cmd, 'python make.py');
    assert.deepEqual(planRun(graph, { hashes: new HashCache(ws) }).map((d) => d.action), ['skip']);
    assert.equal(keepWrittenCommand(graph, 'make'), false, 'nothing to put back the second time');
  } finally {
    tracker.close();
  }
});
