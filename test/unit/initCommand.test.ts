/**
 * `runwise init`: writes a starter runwise.yaml and params.yaml that `runwise check` accepts, adds
 * `.runwise/` to .gitignore once, and never replaces a file without --force (naming the files in the
 * way, writing nothing). Called as the CLI's main function with captured output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { main } from '../../core/cli/main';
import { STARTER_PARAMS, STARTER_PIPELINE } from '../../core/cli/commands/init';
import type { CheckFinding } from '../../core/cli/commands/check';
import { tempWorkspace } from '../support/tempWorkspace';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const read = (ws: string, rel: string) => readFileSync(path.join(ws, rel), 'utf8');

test('init writes the starter pipeline, its params and a .gitignore, and says what to run next', async () => {
  const ws = tempWorkspace('init');
  const r = await cli('init', '--workspace', ws);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, '');
  assert.equal(read(ws, 'runwise.yaml'), STARTER_PIPELINE);
  assert.equal(read(ws, 'params.yaml'), STARTER_PARAMS);
  assert.equal(read(ws, '.gitignore').split('\n').filter((l) => l === '.runwise/').length, 1);
  assert.match(r.out, /^wrote runwise\.yaml\nwrote params\.yaml\nwrote \.gitignore \(ignores \.runwise\/\)\n/);
  for (const command of ['runwise check', 'runwise status', 'runwise run']) assert.ok(r.out.includes(`  ${command} `), `next steps name ${command}:\n${r.out}`);
});

test('the starter pipeline passes runwise check: no error, only the scripts and data the user has yet to add', async () => {
  const ws = tempWorkspace('init-check');
  assert.equal((await cli('init', '-w', ws)).code, 0);
  const r = await cli('check', '--json', '-w', ws);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.err, /2 files checked: 0 errors/);
  const findings = JSON.parse(r.out) as CheckFinding[];
  assert.deepEqual(
    findings.map((f) => `${f.severity} ${f.code} ${f.message.match(/'([^']+)'/)?.[1]}`),
    ['warning missing-path src/prepare.py', 'warning missing-path data/raw.csv', 'warning missing-path src/train.py'],
  );

  // Once those exist, the pipeline is clean: every ${...} and params key resolves against params.yaml.
  for (const rel of ['src/prepare.py', 'src/train.py', 'data/raw.csv']) {
    mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
    writeFileSync(path.join(ws, rel), '');
  }
  const clean = await cli('check', '--json', '-w', ws);
  assert.equal(clean.code, 0);
  assert.deepEqual(JSON.parse(clean.out), []);
});

test('the starter is a two-stage pipeline whose train stage reads what prepare writes', () => {
  const pipeline = parse(STARTER_PIPELINE) as { stages: Record<string, { deps: string[]; outs: string[]; params: string[] }>; gates?: unknown };
  assert.deepEqual(Object.keys(pipeline.stages), ['prepare', 'train']);
  assert.ok(pipeline.stages.prepare!.outs.every((o) => pipeline.stages.train!.deps.includes(o)));
  assert.equal(pipeline.gates, undefined, 'the gates example stays commented out until there is a metric');
  const params = parse(STARTER_PARAMS) as Record<string, Record<string, unknown>>;
  for (const key of pipeline.stages.prepare!.params) {
    const [section, name] = key.split('.');
    assert.ok(params[section!]?.[name!] !== undefined, `params.yaml has ${key}`);
  }
  assert.ok(params.train && Object.keys(params.train).length > 0);
});

test('an existing params.yaml (a DVC project\'s) is kept and the keys it lacks are named; an existing pipeline is refused', async () => {
  const ws = tempWorkspace('init-refuse');
  writeFileSync(path.join(ws, 'params.yaml'), '# mine\nprepare:\n  seed: 1\n');
  const kept = await cli('init', '-w', ws);
  assert.equal(kept.code, 0, kept.err);
  assert.equal(read(ws, 'params.yaml'), '# mine\nprepare:\n  seed: 1\n', 'never replaced');
  assert.equal(read(ws, 'runwise.yaml'), STARTER_PIPELINE);
  assert.match(kept.out, /^wrote runwise\.yaml\nwrote \.gitignore/);
  assert.match(kept.out, /note: params\.yaml was kept as it is; it lacks prepare\.split, train, which runwise\.yaml reads: add them, or change the stages' params: and \$\{\.\.\.\} to your own keys/);

  const again = await cli('init', '-w', ws);
  assert.equal(again.code, 1);
  assert.equal(again.err, `runwise: runwise.yaml already exists in ${ws}; nothing was written (runwise init --force replaces it)\n`);
  assert.equal(read(ws, 'runwise.yaml'), STARTER_PIPELINE);
});

test('--force replaces the pipeline and says so, never params.yaml; .gitignore keeps one .runwise/ line', async () => {
  const ws = tempWorkspace('init-force');
  writeFileSync(path.join(ws, 'runwise.yaml'), 'stages: {}\n');
  writeFileSync(path.join(ws, '.gitignore'), 'node_modules/\n.runwise/\n');
  const r = await cli('init', '--force', '-w', ws);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^replaced runwise\.yaml\nwrote params\.yaml\n\.gitignore already ignores \.runwise\/\n/);
  assert.equal(read(ws, 'runwise.yaml'), STARTER_PIPELINE);
  assert.equal(read(ws, '.gitignore'), 'node_modules/\n.runwise/\n');

  writeFileSync(path.join(ws, 'params.yaml'), STARTER_PARAMS.replace('lr: 0.01', 'lr: 0.5'));
  const again = await cli('init', '--force', '--json', '-w', ws);
  assert.equal(again.code, 0);
  assert.deepEqual(JSON.parse(again.out), {
    workspace: ws,
    written: ['runwise.yaml'],
    replaced: ['runwise.yaml'],
    kept: ['params.yaml'],
    gitignore: 'present',
    next: ['runwise check', 'runwise status', 'runwise run'],
    notes: ['params.yaml was kept as it is'],
  });
  assert.match(read(ws, 'params.yaml'), /lr: 0\.5/);
});

test('.runwise/ is appended to an existing .gitignore on a line of its own, in its line endings, unless a line already ignores it', async () => {
  const cases: [before: string, after: string][] = [
    ['dist', 'dist\n.runwise/\n'],
    ['dist\n', 'dist\n.runwise/\n'],
    ['dist\r\nout\r\n', 'dist\r\nout\r\n.runwise/\r\n'],
    ['', '.runwise/\n'],
    ['/.runwise\n', '/.runwise\n'],
    ['.runwise\n', '.runwise\n'],
    ['  .runwise/  \n', '  .runwise/  \n'],
    ['.runwise/**\n', '.runwise/**\n'],
    // Not the workspace's own .runwise folder: the line is still added.
    ['sub/.runwise/\n#.runwise/\n', 'sub/.runwise/\n#.runwise/\n.runwise/\n'],
  ];
  for (const [before, after] of cases) {
    const ws = tempWorkspace('init-ignore');
    writeFileSync(path.join(ws, '.gitignore'), before);
    const r = await cli('init', '-w', ws);
    assert.equal(r.code, 0, r.err);
    assert.equal(read(ws, '.gitignore'), after, JSON.stringify(before));
    assert.ok(r.out.includes(before === after ? '.gitignore already ignores .runwise/' : 'added .runwise/ to .gitignore'), r.out);
  }
});

test('a runwise.yml beside, or a pipeline that is a link, is never written over, even with --force', async () => {
  const yml = tempWorkspace('init-yml');
  writeFileSync(path.join(yml, 'runwise.yml'), 'stages: {}\n');
  const r = await cli('init', '--force', '-w', yml);
  assert.equal(r.code, 1);
  assert.match(r.err, /runwise\.yml exists in .*; nothing was written \(runwise init writes runwise\.yaml: rename or remove runwise\.yml first\)/);
  assert.equal(existsSync(path.join(yml, 'runwise.yaml')), false);

  const outside = tempWorkspace('init-outside');
  writeFileSync(path.join(outside, 'target.yaml'), 'untouched\n');
  const linked = tempWorkspace('init-link');
  symlinkSync(path.join(outside, 'target.yaml'), path.join(linked, 'runwise.yaml'));
  const l = await cli('init', '--force', '-w', linked);
  assert.equal(l.code, 1);
  assert.match(l.err, /runwise\.yaml in .* is not a regular file; nothing was written/);
  assert.equal(read(outside, 'target.yaml'), 'untouched\n');
  assert.equal(existsSync(path.join(linked, 'params.yaml')), false);
});

test('init takes no arguments, and the help lists it', async () => {
  const ws = tempWorkspace('init-usage');
  const r = await cli('init', 'somewhere', '-w', ws);
  assert.equal(r.code, 2);
  assert.match(r.err, /runwise init: unexpected argument 'somewhere'\nUsage: runwise init \[--force\]/);
  assert.equal(existsSync(path.join(ws, 'runwise.yaml')), false);
  const help = await cli('--help');
  assert.match(help.out, /runwise init \[--force\]\s+start a pipeline/);
});

test('a DVC project: init writes no starter stages beside its dvc.yaml (they would clash), unless --force asks', async () => {
  const ws = tempWorkspace('init-dvc');
  const dvc = 'stages:\n  prepare:\n    cmd: python prepare.py\n    outs: [data/prepared]\n';
  writeFileSync(path.join(ws, 'dvc.yaml'), dvc);
  writeFileSync(path.join(ws, 'params.yaml'), 'seed: 1\n');
  const r = await cli('init', '-w', ws, '--json');
  assert.equal(r.code, 0, r.err);
  const said = JSON.parse(r.out);
  assert.deepEqual([said.written, said.kept, said.gitignore], [[], ['params.yaml'], 'created']);
  assert.match(said.notes[0], /dvc\.yaml is here: Runwise runs its stages as they are .* no starter pipeline was written; runwise init --force writes one beside it/);
  assert.equal(existsSync(path.join(ws, 'runwise.yaml')), false);
  assert.deepEqual([read(ws, 'dvc.yaml'), read(ws, 'params.yaml')], [dvc, 'seed: 1\n']);
  // The project still checks clean.
  assert.equal((await cli('check', '-w', ws)).code, 0);
  const forced = await cli('init', '-w', ws, '--force');
  assert.equal(forced.code, 0, forced.err);
  assert.match(forced.out, /wrote runwise\.yaml[\s\S]*note: dvc\.yaml is here too/);
});
