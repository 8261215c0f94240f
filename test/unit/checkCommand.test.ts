/**
 * `runwise check`: the language server's diagnostics on the command line, called as a function with
 * captured output. Walks the workspace (skipping node_modules, .git, .runwise, dist), prints
 * `file:line:col: severity code message` or --json records, exits 1 on errors only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { main } from '../../core/cli/main';
import { tempWorkspace } from '../support/tempWorkspace';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const PARAMS = 'train:\n  lr: 0.01\n  epochs: 10\n';
const GOOD = ['stages:', '  train:', '    cmd: python train.py --lr ${train.lr}', '    deps:', '      - train.py', '    outs:', '      - model.pkl', ''].join('\n');
/** An unknown stage key on line 8, column 5. */
const BROKEN = GOOD + '    outz:\n      - extra.pkl\n';

function write(ws: string, rel: string, text: string): void {
  mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
  writeFileSync(path.join(ws, rel), text);
}

/** A workspace with one broken pipeline, a good one in a sub-folder, and broken ones that must be skipped. */
function workspace(): string {
  const ws = tempWorkspace('check');
  write(ws, 'params.yaml', PARAMS);
  write(ws, 'train.py', 'print(1)\n');
  write(ws, 'runwise.yaml', BROKEN);
  write(ws, 'sub/params.yaml', PARAMS);
  write(ws, 'sub/train.py', 'print(1)\n');
  write(ws, 'sub/dvc.yaml', GOOD);
  for (const skipped of ['node_modules/pkg', '.git', '.runwise', 'dist']) write(ws, `${skipped}/runwise.yaml`, BROKEN);
  write(ws, 'notes.yaml', 'not: [a, pipeline\n');
  return ws;
}

test('check prints file:line:col: severity code message and exits 1 on an error', async () => {
  const ws = workspace();
  const r = await cli('check', '-w', ws);
  assert.equal(r.code, 1, r.err);
  const lines = r.out.trim().split('\n');
  assert.ok(lines.length >= 1, r.out);
  for (const l of lines) assert.match(l, /^[\w./-]+:\d+:\d+: (error|warning|information|hint) [\w-]+ .+$/);
  assert.ok(lines.some((l) => l.startsWith('runwise.yaml:8:5: error unknown-key ')), r.out);
  assert.ok(!r.out.includes('node_modules') && !r.out.includes('.git/') && !r.out.includes('.runwise/') && !r.out.includes('dist/'), r.out);
  assert.ok(!r.out.includes('sub/dvc.yaml'), r.out);
  // One summary line: the pipelines and params files checked; notes.yaml is not one of them.
  assert.match(r.err, /^runwise: 4 files checked: 1 error, 0 warnings\n$/);
});

test('--json gives records with 1-based positions relative to the workspace', async () => {
  const ws = workspace();
  const r = await cli('check', '-w', ws, '--json');
  assert.equal(r.code, 1);
  const records = JSON.parse(r.out) as Record<string, unknown>[];
  const unknown = records.find((x) => x.code === 'unknown-key');
  assert.ok(unknown, r.out);
  assert.deepEqual(Object.keys(unknown).sort(), ['code', 'column', 'endColumn', 'endLine', 'file', 'line', 'message', 'severity']);
  assert.equal(unknown.file, 'runwise.yaml');
  assert.equal(unknown.line, 8);
  assert.equal(unknown.column, 5);
  assert.equal(unknown.endLine, 8);
  assert.equal(unknown.endColumn, 9);
  assert.equal(unknown.severity, 'error');
  assert.match(r.err, /4 files checked/);
});

test('a clean workspace exits 0 with no findings', async () => {
  const ws = workspace();
  write(ws, 'runwise.yaml', GOOD);
  const r = await cli('check', '-w', ws);
  assert.equal(r.code, 0, r.out + r.err);
  assert.equal(r.out, '');
  assert.equal(r.err, 'runwise: 4 files checked: 0 errors, 0 warnings\n');
  const j = await cli('check', '-w', ws, '--json');
  assert.deepEqual(JSON.parse(j.out), []);
});

test('warnings alone do not fail the check', async () => {
  const ws = tempWorkspace('check-warn');
  // A license id outside the Hub's list is a warning ("did you mean"), not an error.
  write(ws, 'model.modelcard.yaml', 'license: apache2\n');
  const r = await cli('check', '-w', ws);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^model\.modelcard\.yaml:1:\d+: warning [\w-]+ /m);
  assert.match(r.err, /^runwise: 1 file checked: 0 errors, [1-9]\d* warnings?\n$/);
});

test('files and folders may be named; relative names are taken from the workspace too', async () => {
  const ws = workspace();
  const one = await cli('check', 'sub', '-w', ws);
  assert.equal(one.code, 0, one.out + one.err);
  assert.equal(one.err, 'runwise: 2 files checked: 0 errors, 0 warnings\n');
  const file = await cli('check', path.join(ws, 'runwise.yaml'), '-w', ws);
  assert.equal(file.code, 1);
  assert.match(file.err, /^runwise: 1 file checked: 1 error/);
  // A file named that is none Runwise checks fails the command (a CI step naming a misnamed pipeline must not pass).
  const skipped = await cli('check', path.join(ws, 'train.py'), '-w', ws);
  assert.equal(skipped.code, 1);
  assert.match(skipped.err, /skipped train\.py: not a pipeline, params file or model card\nrunwise: 0 files checked: 0 errors, 0 warnings; 1 file named could not be checked\n$/);
  const outside = await cli('check', path.dirname(ws), '-w', ws);
  assert.equal(outside.code, 1);
  assert.match(outside.err, /outside the workspace/);
  const missing = await cli('check', 'nope.yaml', '-w', ws);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /does not exist/);
});

test('a README.md model card is reported in Markdown lines', async () => {
  const ws = tempWorkspace('check-readme');
  write(ws, 'README.md', '---\nlicense: apache2\n---\n# Model\n');
  const r = await cli('check', '-w', ws, '--json');
  const records = JSON.parse(r.out) as { file: string; line: number }[];
  assert.ok(records.length > 0, r.err);
  for (const x of records) {
    assert.equal(x.file, 'README.md');
    assert.equal(x.line, 2);
  }
});

test('without --workspace, a path outside the current folder is checked in its own repository', async () => {
  const repo = tempWorkspace('check-other-repo');
  mkdirSync(path.join(repo, '.git'));
  write(repo, 'params.yaml', 'train:\n  lr: 0.1\n');
  write(repo, 'pipelines/train/dvc.yaml', 'stages:\n  train:\n    cmd: python train.py\n    params:\n      - ../../params.yaml:\n          - train.lr\n');
  write(repo, 'pipelines/eval/dvc.yaml', 'stages:\n  eval:\n    cmd: python eval.py\n    deps:\n      - missing.csv\n    params:\n      - ../../params.yaml:\n          - train.nope\n');
  assert.equal(path.relative(process.cwd(), repo).startsWith('..'), true, 'the repository is outside the current folder');
  const ok = await cli('check', path.join(repo, 'pipelines', 'train', 'dvc.yaml'));
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.equal(ok.err, 'runwise: 1 file checked: 0 errors, 0 warnings\n');
  const bad = await cli('check', path.join(repo, 'pipelines', 'eval'), '--json');
  assert.equal(bad.code, 1);
  const records = JSON.parse(bad.out) as { file: string; code: string }[];
  assert.ok(records.length > 0);
  const shown = path.relative(process.cwd(), path.join(repo, 'pipelines', 'eval', 'dvc.yaml')).split(path.sep).join('/');
  for (const r of records) assert.equal(r.file, shown, 'paths are said from the current folder');
  // Named explicitly, the workspace still bounds what may be checked.
  const bounded = await cli('check', path.join(repo, 'params.yaml'), '-w', path.join(repo, 'pipelines'));
  assert.equal(bounded.code, 1);
  assert.match(bounded.err, /outside the workspace/);
});

test('the pipeline files of a workspace are checked as one graph', async () => {
  const fixtures = path.join(__dirname, '..', 'fixtures', 'language', 'multi-pipeline');
  const ws = tempWorkspace('check-multi');
  cpSync(path.join(fixtures, 'cross-deps'), path.join(ws, 'cross-deps'), { recursive: true });
  cpSync(path.join(fixtures, 'overlap'), ws, { recursive: true });
  // Checking one file still sees the others: its dependency is written by cross-deps/dvc.yaml.
  const one = await cli('check', '-w', ws, 'cross-deps/train/dvc.yaml');
  assert.equal(one.out, "cross-deps/train/dvc.yaml:7:9: warning missing-path 'cross-deps/data/raw.csv' does not exist and no stage produces it.\n");
  const all = await cli('check', '-w', ws);
  assert.equal(all.code, 1);
  const overlaps = all.out.split('\n').filter((l) => l.includes('duplicate-output'));
  assert.deepEqual(overlaps, [
    "a/dvc.yaml:5:9: error duplicate-output 'shared/features.csv' is also an output of stage 'features' in 'b/dvc.yaml'.",
    "b/dvc.yaml:5:9: error duplicate-output 'shared/features.csv' is also an output of stage 'features' in 'a/dvc.yaml'.",
    "runwise.yaml:5:9: error duplicate-output 'shared' contains 'shared/features.csv', an output of stage 'features' in 'a/dvc.yaml'.",
  ]);
});

test('a Markdown model card not named README.md is checked: one with a model-index, one a pipeline registers; a docs page is not', async () => {
  const ws = tempWorkspace('check-md-cards');
  const card = (extra: string) => `---\nlicense: mit\n${extra}---\n# Model\n`;
  // A metric without its value, and a misspelt key in the results.
  write(ws, 'cards/b.md', card('model-index:\n  - name: m\n    results:\n      - task: {type: text-classification}\n        dataset: {name: d, type: d}\n        metrics:\n          - type: accuracy\n            valu: 0.9\n'));
  write(ws, 'models/notes.md', card('licence: mit\n'));
  // A docs page's front matter, a license in it too (a card's key, but not only a card's).
  write(ws, 'docs/page.md', '---\ntitle: Not a card\nlayout: post\nlicense: MIT\n---\nText.\n');
  write(ws, 'runwise.yaml', 'stages:\n  register:\n    register:\n      model: models/model.onnx\n      name: m\n      card: models/notes.md\n');
  write(ws, 'models/model.onnx', 'x');
  const r = await cli('check', '-w', ws);
  assert.match(r.out, /^cards\/b\.md:9:13: error missing-key Missing required key 'value'\.$/m, r.out);
  assert.match(r.out, /^cards\/b\.md:10:13: warning unknown-key Unknown key 'valu'\. Did you mean 'value'\?$/m, r.out);
  assert.match(r.out, /^models\/notes\.md:3:1: warning unknown-key Unknown key 'licence'\. Did you mean 'license'\?$/m, r.out);
  assert.ok(!r.out.includes('docs/page.md'), r.out);
  // Named on the command line, b.md is checked too (it was skipped as "not a model card").
  const one = await cli('check', '-w', ws, path.join(ws, 'cards/b.md'));
  assert.match(one.out, /^cards\/b\.md:9:13: error missing-key/m, one.out);
  assert.doesNotMatch(one.err, /skipped/);
});

test('a README.md whose front matter is never closed is an error in check (folder or file), as card validate says', async () => {
  const ws = tempWorkspace('check-unclosed', {
    'cards/README.md': '---\nlicense: mit\nlibrary_name: onnx\n\n# never closed\n',
    // A horizontal rule above the text opens no metadata: not a card.
    'docs/README.md': '---\n\nA rule above the text.\n',
  });
  const folder = await cli('check', '--workspace', ws, ws, '--json');
  assert.equal(folder.code, 1, folder.err);
  assert.deepEqual(
    JSON.parse(folder.out).map((f: { file: string; line: number; column: number; severity: string; code: string }) => [f.file, f.line, f.column, f.severity, f.code]),
    [['cards/README.md', 1, 1, 'error', 'unclosed-front-matter']],
  );
  const named = await cli('check', '--workspace', ws, path.join(ws, 'cards', 'README.md'));
  assert.equal(named.code, 1);
  assert.match(named.out, /^cards\/README\.md:1:1: error unclosed-front-matter The front matter opened here is never closed/);
  assert.doesNotMatch(named.err, /skipped/);
});
