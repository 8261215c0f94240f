/**
 * Params values from TOML and Python files: the TOML reader against TOML 1.0's forms (and its
 * refusals, with line and column), the Python reader against what DVC's _py.py keeps and skips
 * (top-level literal assignments, classes, `self.x` in `__init__`), and through readParamValues
 * the same key lookups (dotted, list index, glob) as YAML.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { FileSystemWorkspace } from '../../../core/language/files/fileSystemWorkspace';
import { ParamsFileError, readParamValues } from '../../../core/pipeline/lockFile';
import { ParamsSyntaxError } from '../../../core/pipeline/paramsSyntaxError';
import { parsePythonParams } from '../../../core/pipeline/pythonParams';
import { parseToml } from '../../../core/pipeline/tomlParams';
import { tempWorkspace } from '../../support/tempWorkspace';

const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

test('TOML: tables, arrays of tables, dotted and quoted keys, every scalar kind, arrays and inline tables', () => {
  const text = [
    '# params',
    'title = "a \\"quoted\\" \\u00e9 \\t tab"',
    "path = 'C:\\raw\\path'",
    '[train]',
    'lr = 1e-3',
    'momentum = 0.9',
    'epochs = 1_000',
    'masks = [0xff, 0o17, 0b101, -7, +3]',
    'layers = [64, 128,',
    '  256, # a comment inside',
    ']',
    'flags = { dropout = 0.5, nested.deep = true, off = false }',
    'site."example.com" = 1',
    'bounds = [-inf, +inf]',
    'when = 1979-05-27T07:32:00Z',
    'day = 1979-05-27',
    'notes = """',
    'one \\',
    '   two"""',
    "raw = '''",
    "no \\escape'''",
    '',
    '[[runs]]',
    'name = "a"',
    '[[runs]]',
    'name = "b"',
    '[a.b.c]',
    'x = 1',
    '[a]',
    'y = 2',
    '',
  ].join('\n');
  const v = parseToml(text) as { title: string; path: string; train: { bounds: number[] }; runs: unknown; a: unknown };
  assert.equal(v.title, 'a "quoted" é \t tab');
  assert.equal(v.path, 'C:\\raw\\path');
  assert.deepEqual(plain(v.train), {
    lr: 0.001,
    momentum: 0.9,
    epochs: 1000,
    masks: [255, 15, 5, -7, 3],
    layers: [64, 128, 256],
    flags: { dropout: 0.5, nested: { deep: true }, off: false },
    site: { 'example.com': 1 },
    bounds: [null, null],
    when: '1979-05-27T07:32:00Z',
    day: '1979-05-27',
    notes: 'one two',
    raw: 'no \\escape',
  });
  assert.deepEqual(v.train.bounds, [-Infinity, Infinity]);
  assert.deepEqual(plain(v.runs), [{ name: 'a' }, { name: 'b' }]);
  assert.deepEqual(plain(v.a), { b: { c: { x: 1 } }, y: 2 });
  assert.ok(Number.isNaN((parseToml('x = nan') as { x: number }).x));
});

test('TOML: what the format refuses is reported with its line and column', () => {
  const cases: [string, number, number, RegExp][] = [
    ['a = 1\na = 2', 2, 1, /'a' is defined twice/],
    ['x = [1, 2', 1, 10, /expected ',' or '\]'/],
    ['ok = 1\nx = "abc', 2, 5, /not closed/],
    ['[t]\n[t]', 2, 1, /table 't' is already defined/],
    ['x = abc', 1, 5, /needs quotes/],
    ['a.b = 1\n[a.b]', 2, 1, /already defined/],
    ['x = { a = 1,\n b = 2 }', 1, 13, /line break/],
    ['x = 1 y = 2', 1, 7, /end of the line/],
    ['[x\ny = 1', 1, 3, /expected '\]'/],
    ['s = "\\q"', 1, 6, /escape/],
    ['n = 0b102', 1, 5, /not a valid number/],
    ['a = 1\n[a]', 2, 1, /already/],
  ];
  for (const [text, line, column, reason] of cases) {
    assert.throws(
      () => parseToml(text),
      (e: unknown) => e instanceof ParamsSyntaxError && e.line === line && e.column === column && reason.test(e.reason),
      JSON.stringify(text),
    );
  }
});

const PY = `"""Training params."""
import os
from dataclasses import dataclass

LR = 0.01
EPOCHS: int = 10
NAME = "res" 'net'
NEG = -3
SCALE = 1_000.5
LAYERS = [64, (1, 2), {"a": None, 3: True}]
EMPTY = {}
TUPLE = (1,)
PAREN = (5)
RAW = r"\\d+"
ESC = "a\\tb\\x41\\u00e9"
DOC = """multi
line"""
PATH = os.path.join("a", "b")
A = B = 3
COND = 1 if os else 2
FMT = f"{LR}"
BYTES = b"x"
CPLX = 1j
SEMI = 1; OTHER = 2
JOINED = [1,
          2]  # brackets join lines
CONT = 1 + \\
    2

def helper():
    INSIDE = 5

@dataclass
class Train:
    lr: float = 0.1
    opt = 'adam'
    epochs: int

    def __init__(self, x):
        self.seed = 42
        local = 3
        if x:
            self.hidden = 1

    def other(self):
        self.nope = 1

    class Inner: depth = 2

if __name__ == "__main__":
    MAIN = 1
`;

test("Python: top-level literals, classes and __init__'s self attributes, as DVC keeps them; the rest skipped", () => {
  assert.deepEqual(parsePythonParams(PY), {
    LR: 0.01,
    EPOCHS: 10,
    NAME: 'resnet',
    NEG: -3,
    SCALE: 1000.5,
    LAYERS: [64, [1, 2], { a: null, '3': true }],
    EMPTY: {},
    TUPLE: [1],
    PAREN: 5,
    RAW: '\\d+',
    ESC: 'a\tbAé',
    DOC: 'multi\nline',
    SEMI: 1,
    OTHER: 2,
    JOINED: [1, 2],
    Train: { lr: 0.1, opt: 'adam', seed: 42, Inner: { depth: 2 } },
  });
});

test('Python: a broken file is reported with its line and column', () => {
  const cases: [string, number, number, RegExp][] = [
    ['x = [1, 2\n', 1, 5, /'\[' is never closed/],
    ['ok = 1\nx = "abc\n', 2, 5, /not closed/],
    ['x = """abc\n', 1, 5, /not closed/],
    ['class A:\nx = 1\n', 2, 1, /expected an indented block/],
    ['if x:\n    a = 1\n  b = 2\n', 3, 3, /unindent/],
    ['x =\n', 1, 3, /expected a value after '='/],
    ['  x = 1\n', 1, 3, /unexpected indent/],
    ['x = (1]\n', 1, 7, /does not match/],
    ['x = 1 $ 2\n', 1, 7, /unexpected character/],
  ];
  for (const [text, line, column, reason] of cases) {
    assert.throws(
      () => parsePythonParams(text),
      (e: unknown) => e instanceof ParamsSyntaxError && e.line === line && e.column === column && reason.test(e.reason),
      JSON.stringify(text),
    );
  }
});

test('readParamValues reads TOML and Python values with the lookups YAML gets; a broken file is a ParamsFileError with file:line', () => {
  const ws = tempWorkspace('params-formats');
  const write = (rel: string, text: string) => {
    mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
    writeFileSync(path.join(ws, rel), text);
  };
  write('params.toml', '[train]\nlr = 0.1\nlayers = [8, 16]\n[data]\nsplit_a = 0.2\nsplit_b = 0.8\n');
  write('cfg/params.py', 'SEED = 7\nclass Train:\n    lr = 0.5\n    opt = "sgd"\n');
  write('bad.toml', 'lr = 0.1\nepochs = \n');
  write('bad.py', 'LR = [0.1,\n');
  const view = new FileSystemWorkspace(ws);
  const values = (file: string, keys: string[] | undefined) => Object.fromEntries(readParamValues(view, { file, keys }));
  assert.deepEqual(values('params.toml', ['train.lr', 'train.layers[1]', 'data.split_*', 'missing']), {
    'train.lr': 0.1,
    'train.layers[1]': 16,
    'data.split_a': 0.2,
    'data.split_b': 0.8,
    missing: undefined,
  });
  assert.deepEqual(values('params.toml', undefined), { train: { lr: 0.1, layers: [8, 16] }, data: { split_a: 0.2, split_b: 0.8 } });
  assert.deepEqual(values('cfg/params.py', ['SEED', 'Train.lr', 'Train.opt']), { SEED: 7, 'Train.lr': 0.5, 'Train.opt': 'sgd' });
  assert.throws(() => values('bad.toml', ['lr']), (e: unknown) => e instanceof ParamsFileError && /^bad\.toml:2:10: expected a value/.test(e.message));
  assert.throws(() => values('bad.py', ['LR']), (e: unknown) => e instanceof ParamsFileError && /^bad\.py:1:6: '\[' is never closed/.test(e.message));
});
