/** The CLI shows what the tracker holds without letting its control characters act on the terminal. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { terminalSafe } from '../../../core/cli/terminalText';
import { progressPrinter } from '../../../core/sync/syncProgress';
import { Tracker } from '../../../core/tracker/tracker';
import { onnxBytes } from '../../support/onnxBytes';
import { tempWorkspace } from '../../support/tempWorkspace';

test('terminalSafe: controls, colours, C1, a lone CR and bidi overrides are shown escaped; tabs, line ends (LF, CRLF) and other text stay', () => {
  assert.equal(terminalSafe('plain ünïcode\ttab\nline\r\nend'), 'plain ünïcode\ttab\nline\r\nend');
  // A run name holding ESC [ 8 m would hide the rest of the output (and the shell's, after it).
  assert.equal(terminalSafe('\u001b[8mhidden\u001b[0m'), '\\u001b[8mhidden\\u001b[0m');
  assert.equal(terminalSafe('\u001b[2J\u001b[Hx'), '\\u001b[2J\\u001b[Hx');
  assert.equal(terminalSafe('\u001b]0;pwned\u0007'), '\\u001b]0;pwned\\u0007');
  assert.equal(terminalSafe('\u001b]52;c;ZXZpbA==\u001b\\'), '\\u001b]52;c;ZXZpbA==\\u001b\\');
  assert.equal(terminalSafe('a\rb'), 'a\\u000db');
  assert.equal(terminalSafe('esc\u009b31mX\u0085'), 'esc\\u009b31mX\\u0085');
  assert.equal(terminalSafe('abc\u202edcba\u2066'), 'abc\\u202edcba\\u2066');
  assert.equal(terminalSafe('\u0000\u007f'), '\\u0000\\u007f');
});

test('the built CLI prints a run name and a model description holding escape sequences escaped, and --json as JSON of the same text', () => {
  const ws = tempWorkspace('terminal-text');
  writeFileSync(path.join(ws, 'model.onnx'), onnxBytes('m'));
  const evil = '\u001b[2J\u001b[Hevil\u001b]0;title\u0007';
  const t = Tracker.open(ws);
  let runId: string;
  try {
    runId = t.createRun({ runName: evil }).info.runId;
    return t.registerModelFiles('churn', path.join(ws, 'model.onnx'), { description: `about\r${evil}` }).then(() => {
      t.close();
      const cli = (...args: string[]) => execFileSync(process.execPath, [path.join(__dirname, '..', '..', '..', 'dist', 'cli.js'), ...args, '--workspace', ws], { encoding: 'utf8' });
      for (const printed of [cli('runs', 'list'), cli('runs', 'show', runId), cli('models', 'show', 'churn/1')]) {
        assert.doesNotMatch(printed, /[\u0000-\u0008\u000b-\u001f]/, JSON.stringify(printed));
        assert.match(printed, /\\u001b\[2J\\u001b\[Hevil/);
      }
      const json = JSON.parse(cli('models', 'show', 'churn/1', '--json')) as { description?: string; versions?: { description?: string }[] };
      assert.ok(JSON.stringify(json).includes(JSON.stringify(`about\r${evil}`).slice(1, -1)), 'the JSON carries the text itself');
    });
  } catch (e) {
    t.close();
    throw e;
  }
});

test('push and pull progress shows a run name from the remote escaped, its own line rewrite kept', () => {
  let written = '';
  const print = progressPrinter({ write: (t: string) => (written += t), isTTY: true }, terminalSafe);
  print.event({ kind: 'pulled', remoteRunId: 'a'.repeat(32), runId: 'b'.repeat(32), runName: 'evil\u001b]0;title\u0007', state: 'created', points: 3 });
  print.done();
  assert.equal(written, `\r\u001b[2Krun aaaaaaaa (evil\\u001b]0;title\\u0007) → bbbbbbbb: created, 3 points\n`);
});

test('exported data reaches a pipe or file unchanged, and a stage\'s own output passes through as it printed it', () => {
  const ws = tempWorkspace('terminal-data');
  const evil = 'evil\u001b[31mRED\u001b[0m\r\nfake line\u202etxt\u007f';
  const t = Tracker.open(ws);
  try {
    t.createRun({ runName: evil });
  } finally {
    t.close();
  }
  const cliJs = path.join(__dirname, '..', '..', '..', 'dist', 'cli.js');
  const cli = (...args: string[]) => execFileSync(process.execPath, [cliJs, ...args, '--workspace', ws], { encoding: 'utf8', cwd: ws, stdio: ['ignore', 'pipe', 'pipe'] });
  const piped = cli('export', '--format', 'csv');
  cli('export', '--format', 'csv', '--output', path.join(ws, 'runs.csv'));
  assert.equal(piped, readFileSync(path.join(ws, 'runs.csv'), 'utf8'), 'stdout and --output carry the same bytes');
  assert.ok(piped.includes('fake line\u202etxt\u007f'), 'the stored text itself');
  // A stage printing a progress tool's cursor codes: in a log they are the stage's own bytes.
  writeFileSync(path.join(ws, 'prog.js'), "process.stdout.write('\\u001b[?25lstep 1 \\u001b[1;32mok\\u001b[0m\\n\\u001b[2K\\rstep 2 done\\n\\u001b[?25h');\n");
  writeFileSync(path.join(ws, 'runwise.yaml'), 'stages:\n  show:\n    cmd: node prog.js\n');
  const run = spawnSync(process.execPath, [cliJs, 'run', '--workspace', ws], { encoding: 'utf8', cwd: ws });
  assert.equal(run.status, 0, run.stderr);
  assert.ok(run.stderr.includes('show | \u001b[?25lstep 1 \u001b[1;32mok\u001b[0m\n'), JSON.stringify(run.stderr));
  assert.ok(run.stderr.includes('show | \u001b[?25h\n'), JSON.stringify(run.stderr));
  assert.doesNotMatch(run.stderr, /\\u001b/);
});

test("a remote's refusal is said in one line: a line break in its answer adds no line of its own", async () => {
  const { asCliError } = await import('../../../core/cli/commands/remote');
  const { RemoteRequestError } = await import('../../../core/sync/remoteClient');
  const { SyncError } = await import('../../../core/sync/syncError');
  const forged = 'bad filter\nrunwise: pulled 0 runs — all fine';
  for (const e of [new RemoteRequestError('INVALID_PARAMETER_VALUE', forged, 400), new SyncError(forged)]) {
    assert.equal((asCliError(e) as Error).message, 'bad filter runwise: pulled 0 runs — all fine');
  }
});

test('a line break in a run name, note, description or tag adds no line of its own to runs show, lineage, models lineage or models show', async () => {
  const { main } = await import('../../../core/cli/main');
  const ws = tempWorkspace('one-line-names');
  writeFileSync(path.join(ws, 'model.onnx'), onnxBytes('lines'));
  const t = Tracker.open(ws);
  const forged = 'train\nrunwise: all checks passed';
  const runId = t.createRun({ runName: forged, tags: [{ key: 'mlflow.note.content', value: 'a note\nrunwise: also forged' }] }).info.runId;
  t.updateRun(runId, { status: 'FINISHED' });
  await t.registerModelFiles('churn', path.join(ws, 'model.onnx'), { runId });
  t.close();
  const t2 = Tracker.open(ws);
  t2.registry.updateModelVersion('churn', '1', 'fine\nrunwise: all checks passed');
  t2.registry.setModelVersionTag('churn', '1', { key: 'k', value: 'v\nrunwise: all checks passed' });
  t2.registry.updateRegisteredModel('churn', 'model\nrunwise: all checks passed');
  t2.close();
  for (const argv of [['runs', 'show', runId], ['lineage', '--run', runId], ['models', 'lineage', 'churn/1'], ['models', 'show', 'churn/1'], ['models', 'show', 'churn']]) {
    let out = '';
    const code = await main([...argv, '--workspace', ws], { out: (s) => (out += s), err: () => undefined });
    assert.equal(code, 0, argv.join(' '));
    assert.ok(/(train|fine|v|model) runwise: all checks passed/.test(out), `${argv.join(' ')}: the text joined on its line\n${out}`);
    assert.ok(!out.split('\n').some((l) => l.startsWith('runwise:')), `${argv.join(' ')}: no forged line\n${out}`);
  }
});

test("remote list keeps a remote's name and address on its line, from a config a repository shipped", async () => {
  const { main } = await import('../../../core/cli/main');
  const ws = tempWorkspace('remote-lines');
  const run = async (...argv: string[]) => {
    let out = '';
    const code = await main([...argv, '--workspace', ws], { out: (s) => (out += s), err: () => undefined });
    return { code, out };
  };
  assert.equal((await run('remote', 'add', 'team', 'https://mlflow.example.com', '--token-env', 'RUNWISE_TEST_UNSET_TOKEN')).code, 0);
  const file = path.join(ws, '.runwise', 'config');
  writeFileSync(file, readFileSync(file, 'utf8').replace('https://mlflow.example.com', 'https://mlflow.example.com\\nrunwise: pushed 0 runs'));
  const listed = await run('remote', 'list');
  assert.equal(listed.code, 0);
  assert.ok(!listed.out.split('\n').some((l) => l.startsWith('runwise:')), listed.out);
});
