/**
 * A stage's commands as real child processes: exit codes, the command list stopping at the first
 * failure, working directory and environment, output line by line and in the log file, and cancel
 * reaching a whole process group (a grandchild included) with SIGTERM, then SIGKILL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { processGroupAlive, runStageProcess, stopGrace, TAIL_LINES, type StopReason } from '../../../core/pipeline/stageProcess';
import { waitUntil } from '../../support/polling';
import { processRunning } from '../../support/processes';
import { tempWorkspace, writeWorkspaceFile } from '../../support/tempWorkspace';

test('a command that succeeds gives exit code 0 and its output line by line', async () => {
  const ws = tempWorkspace('proc');
  const lines: string[] = [];
  const r = await runStageProcess({ commands: ['echo one; echo two >&2; printf three'], cwd: ws, onLine: (l) => lines.push(l) });
  assert.equal(r.exitCode, 0);
  assert.equal(r.signal, null);
  assert.equal(r.cancelled, false);
  assert.equal(r.failedCommand, undefined);
  assert.deepEqual(lines.sort(), ['one', 'three', 'two']);
  assert.ok(r.durationMs > 0);
});

test('the exit code of a failing command is reported and later commands do not run', async () => {
  const ws = tempWorkspace('proc');
  const r = await runStageProcess({ commands: ['touch first', 'exit 3', 'touch third'], cwd: ws });
  assert.equal(r.exitCode, 3);
  assert.equal(r.failedCommand, 1);
  assert.ok(existsSync(path.join(ws, 'first')));
  assert.ok(!existsSync(path.join(ws, 'third')));
});

test('commands run in the working directory with the environment additions', async () => {
  const ws = tempWorkspace('proc');
  mkdirSync(path.join(ws, 'sub'));
  const lines: string[] = [];
  const r = await runStageProcess({
    commands: ['pwd; echo "$RUNWISE_TEST_VALUE"; echo "$HOME"'],
    cwd: path.join(ws, 'sub'),
    env: { RUNWISE_TEST_VALUE: 'from the runner' },
    onLine: (l) => lines.push(l),
  });
  assert.equal(r.exitCode, 0);
  assert.equal(lines[0], path.join(ws, 'sub'));
  assert.equal(lines[1], 'from the runner');
  assert.equal(lines[2], process.env.HOME ?? '', 'the rest of the environment is inherited');
});

test('a missing working directory is a spawn error, not a crash', async () => {
  const ws = tempWorkspace('proc');
  const r = await runStageProcess({ commands: ['true'], cwd: path.join(ws, 'nope') });
  assert.notEqual(r.exitCode, 0);
  assert.ok(r.spawnError, 'the reason is given');
  assert.equal(r.failedCommand, 0);
});

test('the log file receives every byte; memory keeps only the last lines', async () => {
  const ws = tempWorkspace('proc');
  const log = path.join(ws, '.runwise', 'logs', 'run.log');
  const r = await runStageProcess({ commands: ['i=0; while [ $i -lt 200 ]; do echo "line $i"; i=$((i+1)); done'], cwd: ws, logFile: log });
  assert.equal(r.exitCode, 0);
  const text = readFileSync(log, 'utf8');
  assert.equal(text.split('\n').filter(Boolean).length, 200);
  assert.equal(r.tail.length, TAIL_LINES);
  assert.equal(r.tail.at(-1), 'line 199');
});

test('a progress bar redrawn with carriage returns gives its last state; UTF-8 split across writes stays whole', async () => {
  const ws = tempWorkspace('proc');
  const lines: string[] = [];
  // é is two bytes: the first byte in one write, the second in the next.
  const r = await runStageProcess({ commands: ["printf '10%%\\r50%%\\r100%%\\n'; printf '\\303'; sleep 0.05; printf '\\251t\\n'"], cwd: ws, onLine: (l) => lines.push(l) });
  assert.equal(r.exitCode, 0);
  assert.equal(lines[0], '100%');
  assert.equal(lines[1], 'ét');
});

test('a command killed by a signal reports the signal', async () => {
  const ws = tempWorkspace('proc');
  const r = await runStageProcess({ commands: ['kill -KILL $$'], cwd: ws });
  assert.equal(r.exitCode, null);
  assert.equal(r.signal, 'SIGKILL');
  assert.equal(r.cancelled, false);
});

test('cancel stops the whole process group: the command and the grandchild it started', async () => {
  const ws = tempWorkspace('proc');
  const pidFile = path.join(ws, 'pids');
  const controller = new AbortController();
  // The shell starts a grandchild (sleep) in the background, writes both pids, then waits.
  const run = runStageProcess({ commands: [`sleep 60 & echo "$$ $!" > ${pidFile}; wait`], cwd: ws, signal: controller.signal, killGraceMs: 2000 });
  await waitUntil(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').includes(' '), 'both pids');
  const [shell, grandchild] = readFileSync(pidFile, 'utf8').trim().split(' ').map(Number) as [number, number];
  assert.ok(processRunning(shell) && processRunning(grandchild));
  controller.abort();
  const r = await run;
  assert.equal(r.cancelled, true);
  assert.equal(r.failedCommand, 0);
  await waitUntil(() => !processRunning(grandchild), 'the grandchild to end', 1000);
  assert.ok(!processRunning(shell));
  assert.ok(r.durationMs < 2000, `SIGTERM was enough (${r.durationMs} ms)`);
});

test('a process that ignores SIGTERM is killed after the grace period', async () => {
  const ws = tempWorkspace('proc');
  const ready = path.join(ws, 'ready');
  const controller = new AbortController();
  const run = runStageProcess({ commands: [`trap '' TERM; touch ${ready}; while true; do sleep 0.05; done`], cwd: ws, signal: controller.signal, killGraceMs: 300 });
  await waitUntil(() => existsSync(ready), 'the command to start');
  const t0 = Date.now();
  controller.abort();
  const r = await run;
  const took = Date.now() - t0;
  assert.equal(r.cancelled, true);
  assert.equal(r.signal, 'SIGKILL');
  assert.ok(took >= 250, `waited for the grace period (${took} ms)`);
});

test("an abort whose reason asks for a shorter grace kills a SIGTERM-ignoring process within it (the editor's shutdown)", { timeout: 20_000 }, async () => {
  const ws = tempWorkspace('proc');
  const ready = path.join(ws, 'ready');
  const controller = new AbortController();
  // A minute's grace configured: only the abort's reason can end this within the test's timeout.
  const run = runStageProcess({ commands: [`trap '' TERM; touch ${ready}; while true; do sleep 0.05; done`], cwd: ws, signal: controller.signal, killGraceMs: 60_000 });
  await waitUntil(() => existsSync(ready), 'the command to start');
  controller.abort({ killGraceMs: 200 } satisfies StopReason);
  const r = await run;
  assert.equal(r.cancelled, true);
  assert.equal(r.signal, 'SIGKILL');
});

test('an abort reason asks only for a shorter grace, never a longer or a malformed one', () => {
  const aborted = (reason: unknown) => {
    const c = new AbortController();
    c.abort(reason);
    return c.signal;
  };
  assert.equal(stopGrace(undefined, 5000), 5000);
  assert.equal(stopGrace(new AbortController().signal, 5000), 5000);
  assert.equal(stopGrace(aborted(undefined), 5000), 5000);
  assert.equal(stopGrace(aborted({ killGraceMs: 1500 }), 5000), 1500);
  assert.equal(stopGrace(aborted({ killGraceMs: 9000 }), 5000), 5000);
  assert.equal(stopGrace(aborted({ killGraceMs: -1 }), 5000), 5000);
  assert.equal(stopGrace(aborted({ killGraceMs: Number.NaN }), 5000), 5000);
  assert.equal(stopGrace(aborted({ killGraceMs: '10' }), 5000), 5000);
});

test('a background process left behind by a finished command is stopped with it', async () => {
  const ws = tempWorkspace('proc');
  const pidFile = path.join(ws, 'bg');
  const r = await runStageProcess({ commands: [`sleep 60 > /dev/null 2>&1 & echo $! > ${pidFile}`], cwd: ws, killGraceMs: 500 });
  assert.equal(r.exitCode, 0);
  const bg = Number(readFileSync(pidFile, 'utf8').trim());
  await waitUntil(() => !processRunning(bg), 'the background process to end', 2000);
});

test('an already aborted signal runs nothing', async () => {
  const ws = tempWorkspace('proc');
  const controller = new AbortController();
  controller.abort();
  writeWorkspaceFile(ws, 'keep', '');
  const r = await runStageProcess({ commands: ['rm keep'], cwd: ws, signal: controller.signal });
  assert.equal(r.cancelled, true);
  assert.ok(existsSync(path.join(ws, 'keep')));
});

test("each command's process group is reported when it starts and once nothing of it is left", async () => {
  const ws = tempWorkspace('proc');
  const events: [number, string, boolean][] = [];
  const r = await runStageProcess({
    // Each shell lives a little while, so that it is seen running when its start is reported.
    commands: ['echo $$ > first; sleep 0.2', 'sleep 60 > /dev/null 2>&1 & echo $$ > second; sleep 0.2'],
    cwd: ws,
    killGraceMs: 500,
    // Whether the group still had a running member at the time of the event.
    onProcessGroup: (pgid, state) => events.push([pgid, state, processGroupAlive(pgid)]),
  });
  assert.equal(r.exitCode, 0);
  const first = Number(readFileSync(path.join(ws, 'first'), 'utf8').trim());
  const second = Number(readFileSync(path.join(ws, 'second'), 'utf8').trim());
  assert.deepEqual(events, [
    [first, 'started', true],
    [first, 'ended', false],
    [second, 'started', true],
    [second, 'ended', false],
  ], 'the second group ends only after the sleep it left behind is stopped');
});

test("while a command runs the process listens for its own end, a signal only where nothing else handles it; afterwards it listens no more", async () => {
  const events = ['exit', 'SIGTERM', 'SIGINT', 'SIGHUP', 'newListener'] as const;
  const count = () => Object.fromEntries(events.map((e) => [e, process.listenerCount(e)]));
  const ownSigint = () => undefined;
  const ownSighup = () => undefined;
  process.on('SIGINT', ownSigint);
  const before = count();
  const ws = tempWorkspace('proc');
  const ready = path.join(ws, 'ready');
  const controller = new AbortController();
  try {
    const run = runStageProcess({ commands: [`touch ${ready}; sleep 60`], cwd: ws, signal: controller.signal, killGraceMs: 500 });
    await waitUntil(() => existsSync(ready), 'the command to start');
    const during = count();
    assert.equal(during.exit, before.exit! + 1, "an 'exit' listener while the group runs");
    assert.equal(during.SIGTERM, before.SIGTERM! === 0 ? 1 : before.SIGTERM, 'SIGTERM is listened for where nothing else listens');
    assert.equal(during.SIGINT, before.SIGINT, "the program's own SIGINT handler is left alone");
    process.on('SIGHUP', ownSighup);
    assert.equal(process.listenerCount('SIGHUP'), before.SIGHUP! + 1, 'a SIGHUP handler added meanwhile takes SIGHUP over');
    assert.ok(process.listeners('SIGHUP').includes(ownSighup));
    controller.abort();
    const r = await run;
    assert.equal(r.cancelled, true);
    process.off('SIGHUP', ownSighup);
    assert.deepEqual(count(), before, 'nothing of the runner listens once no command runs');
  } finally {
    process.off('SIGINT', ownSigint);
    process.off('SIGHUP', ownSighup);
  }
});
