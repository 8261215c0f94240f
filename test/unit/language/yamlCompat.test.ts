/**
 * YAML as PyYAML reads it (DVC and huggingface_hub use it): multi-line quoted scalars whose
 * continuation lines are not indented more than their key (a 'yaml-compat' warning, since strict
 * YAML 1.2 parsers reject them, and the value PyYAML gives), and lone CR / CR CR LF / mixed line
 * breaks (valid YAML: no diagnostic). Expected values are what PyYAML 6 gives for the same text.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';

import { createLanguageService } from '../../../core/language/languageService';
import { YamlDocumentCache } from '../../../core/language/yaml/incrementalYaml';
import { toJs } from '../../../core/language/yaml/nodeAt';
import { parseYaml } from '../../../core/language/yaml/parseYaml';
import { describeDiagnostic, memoryWorkspace } from './languageHarness';

const COMPAT = /^This line continues a multi-line quoted string but is not indented more than the key or '-' at column \d+: PyYAML \(DVC, huggingface_hub\) reads it, strict YAML 1\.2 parsers reject it$/;

/** Value, and each diagnostic as `code [start,end) "covered text"`. */
function read(text: string): { value: unknown; errors: string[] } {
  const doc = parseYaml(text);
  for (const e of doc.errors) if (e.code === 'yaml-compat') assert.match(e.message, COMPAT);
  return {
    value: toJs(doc.root),
    errors: doc.errors.map((e) => `${e.code}${e.severity ? `/${e.severity}` : ''} ${JSON.stringify(text.slice(e.start, e.end))}`),
  };
}

describe('multi-line quoted scalars indented as PyYAML allows', () => {
  test('at the top level, double and single quoted: the PyYAML value and a warning on the line', () => {
    assert.deepEqual(read('description: "A model that\ndoes things"\nlicense: mit\n'), {
      value: { description: 'A model that does things', license: 'mit' },
      errors: ['yaml-compat/warning "does things\\""'],
    });
    assert.deepEqual(read("description: 'A model that\ndoesn''t stop'\nlicense: mit\n"), {
      value: { description: "A model that doesn't stop", license: 'mit' },
      errors: ['yaml-compat/warning "doesn\'\'t stop\'"'],
    });
  });

  test('the warning: code, severity, range (the first under-indented line) and message', () => {
    const text = 'a:\n  d: "one\n  two\n three"\n  e: 1\n';
    const doc = parseYaml(text);
    assert.deepEqual(doc.errors, [
      {
        start: text.indexOf('  two') + 2,
        end: text.indexOf('  two') + 5,
        code: 'yaml-compat',
        severity: 'warning',
        message:
          "This line continues a multi-line quoted string but is not indented more than the key or '-' at column 3: " +
          'PyYAML (DVC, huggingface_hub) reads it, strict YAML 1.2 parsers reject it',
      },
    ]);
    assert.deepEqual(toJs(doc.root), { a: { d: 'one two three', e: 1 } });
  });

  test('folding as PyYAML folds: empty lines, trailing spaces, escapes, an escaped line break', () => {
    assert.deepEqual(read('d: "one\n\ntwo\n   \nthree"\ne: 1\n').value, { d: 'one\ntwo\nthree', e: 1 });
    assert.deepEqual(read('d: "trailing   \nspaces"\n').value, { d: 'trailing spaces' });
    assert.deepEqual(read('d: "esc \\"q\\" \\t tab\nnext \\\n  joined"\ne: 1\n').value, { d: 'esc "q" \t tab next joined', e: 1 });
    assert.deepEqual(read('k: "x\\ty\n\\u00e9"\n').value, { k: 'x\ty é' });
    assert.deepEqual(read("d: 'it''s\nhere  \n  and there'\ne: 1\n").value, { d: "it's here and there", e: 1 });
  });

  test('continuation lines that look like entries, items or comments are text', () => {
    assert.deepEqual(read('d: "looks: like a key\nkey: value"\ne: 1\n').value, { d: 'looks: like a key key: value', e: 1 });
    assert.deepEqual(read('d: "- dash\n- more"\ne: [1, 2]\n').value, { d: '- dash - more', e: [1, 2] });
    assert.deepEqual(read('d: "# not a comment\n#still"\ne: 1\n').value, { d: '# not a comment #still', e: 1 });
    assert.deepEqual(read('d: "x\ny" # a comment\ne: 1\n').value, { d: 'x y', e: 1 });
  });

  test('in sequences, nested mappings, after an anchor, and in a model-index', () => {
    assert.deepEqual(read('- "x\ny"\n- z\n').value, ['x y', 'z']);
    assert.deepEqual(read('a:\n  - "x\n  y"\n  - z\n').value, { a: ['x y', 'z'] });
    assert.deepEqual(read('- k: "x\n  y"\n  j: 2\n').value, [{ k: 'x y', j: 2 }]);
    assert.deepEqual(read('a:\n  b: "x\ny"\n  c: 1\n').value, { a: { b: 'x y', c: 1 } });
    assert.deepEqual(read('a: &n "x\ny"\nb: *n\n').value, { a: 'x y', b: 'x y' });
    const card = 'model-index:\n- name: m\n  results:\n  - task:\n      type: "text\nclassification"\n    dataset:\n      name: imdb\n';
    assert.deepEqual(read(card), {
      value: { 'model-index': [{ name: 'm', results: [{ task: { type: 'text classification' }, dataset: { name: 'imdb' } }] }] },
      errors: ['yaml-compat/warning "classification\\""'],
    });
  });

  test('a dvc.yaml stage split into blocks: each scalar read whole, one warning each', () => {
    const text = 'stages:\n  train:\n    desc: "Train the\n  model"\n    cmd: python train.py\n  eval:\n    cmd: "python\neval.py"\n    deps:\n    - a\n';
    assert.deepEqual(read(text), {
      value: { stages: { train: { desc: 'Train the model', cmd: 'python train.py' }, eval: { cmd: 'python eval.py', deps: ['a'] } } },
      errors: ['yaml-compat/warning "model\\""', 'yaml-compat/warning "eval.py\\""'],
    });
  });

  test('what PyYAML rejects stays an error: a document marker inside, an unclosed quote, a multi-line key', () => {
    for (const text of ['d: "a\n--- b"\n', 'd: "a\n... b"\n', 'd: "never closed\ne: 1\n', '"multi\nline": 1\n']) {
      const doc = parseYaml(text);
      assert.ok(doc.errors.some((e) => e.code === 'yaml-syntax'), JSON.stringify(text));
    }
  });

  test('properly indented multi-line quoted scalars: no warning', () => {
    assert.deepEqual(read('a:\n  d: "one\n    two"\n'), { value: { a: { d: 'one two' } }, errors: [] });
  });

  test('edits keep incremental parses equal to fresh ones', () => {
    const cache = new YamlDocumentCache();
    let text = 'stages:\n  train:\n    desc: "Train the\n  model"\n    cmd: python train.py\n  eval:\n    cmd: echo\nlicense: mit\n';
    cache.update('file:///d.yaml', 0, text);
    const edits: [string, string][] = [
      ['model"', 'model'],
      ['    cmd: echo', '    cmd: "echo'],
      ['"echo', '"echo\nmore"'],
      ['\n', '\r'],
      ['license: mit\n', 'license: "mit\r\r\nx"\r\r\n'],
    ];
    edits.forEach(([from, to], i) => {
      text = text.replace(from, to);
      assert.ok(isDeepStrictEqual(cache.update('file:///d.yaml', i + 1, text), parseYaml(text)), JSON.stringify(text));
    });
  });
});

describe('line breaks: lone CR, CR CR LF, mixed', () => {
  test('CR CR LF is two line breaks (as in PyYAML): no error, no stray CR in values', () => {
    assert.deepEqual(read('license: apache-2.0\r\r\ntags:\r\r\n- a\r\r\n- b\r\r\n'), { value: { license: 'apache-2.0', tags: ['a', 'b'] }, errors: [] });
    assert.deepEqual(read('a: |\r\r\n  x\r\r\n  y\r\r\nb: 1\r\r\n').value, { a: '\nx\n\ny\n', b: 1 });
    assert.deepEqual(read('a: x\r\r\n  y\r\r\nb: 1\r\r\n').value, { a: 'x\ny', b: 1 });
    assert.deepEqual(read('description: "A model\r\r\nthat"\r\r\nlicense: mit\r\r\n').value, { description: 'A model\nthat', license: 'mit' });
  });

  test('lone CR line breaks', () => {
    assert.deepEqual(read('license: apache-2.0\rtags:\r- a\r- b\r'), { value: { license: 'apache-2.0', tags: ['a', 'b'] }, errors: [] });
    assert.deepEqual(read('a: >\r  x\r  y\r\r  z\rb: 1\r').value, { a: 'x y\nz\n', b: 1 });
    assert.deepEqual(read('a: x\r  y\rb: 1\r').value, { a: 'x y', b: 1 });
    assert.deepEqual(read('a:\r  b: 1\r  c: [1,\r    2]\r').value, { a: { b: 1, c: [1, 2] } });
  });

  test('mixed line breaks', () => {
    assert.deepEqual(read('license: apache-2.0\r\ntags:\n- a\r- b\r\r\n'), { value: { license: 'apache-2.0', tags: ['a', 'b'] }, errors: [] });
    assert.deepEqual(read('a: "x\r  y"\rb: "p\r\n  q"\nc: 1\r'), { value: { a: 'x y', b: 'p q', c: 1 }, errors: [] });
  });

  test('sources and spans are those of the text as written', () => {
    const text = 'a: "x\r  y"\rb: 1\r';
    const doc = parseYaml(text);
    const a = doc.root?.kind === 'map' ? doc.root.items[0]!.value : null;
    assert.ok(a && a.kind === 'scalar');
    assert.equal(a.source, '"x\r  y"');
    assert.equal(text.slice(a.start, a.end), '"x\r  y"');
    assert.deepEqual(doc.lineStarts, [0, 6, 11, 16]);
  });
});

describe('through the language service', () => {
  const files = new Map<string, string>([
    [
      'card/README.md',
      ['---', 'license: apache-2.0', 'description: "A sentiment model that', 'reads reviews"', 'tags:', '- text-classification', '---', '', '# Card', ''].join('\r\r\n'),
    ],
    ['dvc.yaml', 'stages:\n  train:\n    desc: "Train the\n  model"\n    cmd: python train.py\n'],
  ]);
  const service = createLanguageService(memoryWorkspace(files));
  const diagnostics = (rel: string): string[] => {
    const text = files.get(rel)!;
    const doc = service.analyze(`file:///ws/${rel}`, rel, text);
    assert.ok(doc);
    return service.diagnostics(doc).map((d) => `${describeDiagnostic(text, d)} ${d.severity}`);
  };

  test('a README.md card with CR CR LF breaks and an under-indented description: one warning', () => {
    const found = diagnostics('card/README.md');
    assert.equal(found.length, 1, found.join('\n'));
    assert.match(found[0]!, /yaml-compat/);
    assert.match(found[0]!, /warning$/);
  });

  test('a dvc.yaml with an under-indented desc: one warning', () => {
    const found = diagnostics('dvc.yaml');
    assert.equal(found.length, 1, found.join('\n'));
    assert.match(found[0]!, /yaml-compat/);
    assert.match(found[0]!, /warning$/);
  });
});
