/**
 * Model cards and Space cards: what is reported (library names the Hub does not know, Space values
 * outside the Hub's lists, near-miss keys) with its code, range, severity and message, and what is
 * not (keys of the card's own kind, empty optional fields, the Hub's way of finding front matter).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { fileKindByName } from '../../../core/language/files/fileKinds';
import { extractFrontMatter } from '../../../core/language/modelCard/frontMatter';
import { applyEdits, diagnosticsOf, open } from './languageHarness';

interface Found {
  code: string;
  text: string;
  start: number;
  severity: string;
  message: string;
}

function diagnose(text: string, relPath = 'README.md'): Found[] {
  const s = open({}, relPath, text);
  return diagnosticsOf(s).map((d) => ({ code: d.code, text: text.slice(d.start, d.end), start: d.start, severity: d.severity, message: d.message }));
}

const card = (body: string) => `---\n${body}---\n\n# A model\n`;
const space = (body: string) => `---\ntitle: Demo\nemoji: 🚀\ncolorFrom: blue\ncolorTo: pink\nsdk: gradio\n${body}---\n\n# A Space\n`;

describe('model card: library_name', () => {
  test('a near miss of a library the Hub knows: warning with did-you-mean and a quick fix', () => {
    const text = card('license: mit\nlibrary_name: transfomers\n');
    assert.deepEqual(diagnose(text), [
      {
        code: 'unknown-value',
        text: 'transfomers',
        start: text.indexOf('transfomers'),
        severity: 'warning',
        message: "Unknown library 'transfomers'. Did you mean 'transformers'?",
      },
    ]);
    const s = open({}, 'README.md', text);
    const d = diagnosticsOf(s)[0]!;
    const actions = s.service.codeActions(s.doc, d, [d]);
    assert.equal(actions.length, 1);
    assert.equal(actions[0]!.title, "Change to 'transformers'");
    assert.equal(applyEdits(text, 'README.md', actions[0]!.edits), card('license: mit\nlibrary_name: transformers\n'));
  });

  test('case and separators: `Sentence_Transformers` is a near miss of `sentence-transformers`', () => {
    const text = card('library_name: Sentence_Transformers\n');
    assert.deepEqual(
      diagnose(text).map((d) => [d.code, d.text, d.message]),
      [['unknown-value', 'Sentence_Transformers', "Unknown library 'Sentence_Transformers'. Did you mean 'sentence-transformers'?"]],
    );
  });

  test('a library far from every known one: warning without a suggestion', () => {
    const text = card('library_name: my-inhouse-toolkit\n');
    const found = diagnose(text);
    assert.deepEqual(
      found.map((d) => [d.code, d.text, d.severity]),
      [['unknown-value', 'my-inhouse-toolkit', 'warning']],
    );
    assert.match(found[0]!.message, /^Unknown library 'my-inhouse-toolkit': /);
    assert.doesNotMatch(found[0]!.message, /Did you mean/);
  });

  test('libraries from the Hub list and older ids are known', () => {
    for (const lib of ['transformers', 'PaddleOCR', 'sentence-transformers', 'stable-baselines3', 'keras-nlp', 'pytorch', 'gguf']) {
      assert.deepEqual(diagnose(card(`library_name: ${lib}\n`)), [], lib);
    }
  });
});

describe('model card: keys', () => {
  test('skops keys are known; a near miss of one gets it as the suggestion', () => {
    assert.deepEqual(diagnose(card('library_name: sklearn\nmodel_file: model.pkl\nmodel_format: pickle\n')), []);
    const text = card('library_name: sklearn\nmodel_fiel: model.pkl\n');
    assert.deepEqual(diagnose(text), [
      { code: 'unknown-key', text: 'model_fiel', start: text.indexOf('model_fiel'), severity: 'warning', message: "Unknown key 'model_fiel'. Did you mean 'model_file'?" },
    ]);
  });

  test('a required model-index field left empty is still an error', () => {
    const text = card(
      'model-index:\n- name: m\n  results:\n  - task:\n      type: text-classification\n    dataset:\n      type: imdb\n      name:\n    metrics:\n    - type: accuracy\n      value: 0.9\n',
    );
    assert.deepEqual(
      diagnose(text).map((d) => [d.code, d.text, d.severity, d.message]),
      [['wrong-type', 'name', 'error', 'Expected a string.']],
    );
  });

  test('a widget that is neither a list nor a mapping', () => {
    const text = card('widget: hello\n');
    assert.deepEqual(
      diagnose(text).map((d) => [d.code, d.text, d.message]),
      [['wrong-type', 'hello', 'Expected a list or a mapping, not a string.']],
    );
  });
});

describe('front matter as the Hub reads it', () => {
  test('the block huggingface_hub finds (REGEX_YAML_BLOCK)', () => {
    assert.deepEqual(extractFrontMatter('---\n---\nlicense: mit\n---\n# T\n'), { yaml: '---\nlicense: mit\n', offset: 4 });
    assert.deepEqual(extractFrontMatter('---\n\n---\n# T\n'), { yaml: '\n', offset: 4 }, 'an empty block');
    assert.deepEqual(extractFrontMatter('\n  ---\nlicense: mit\n---'), { yaml: 'license: mit\n', offset: 7 }, 'leading whitespace; closing at the end');
    assert.deepEqual(extractFrontMatter('---\r\r\nlicense: mit\r\r\n---\r\r\n'), { yaml: 'license: mit\r\r\n', offset: 6 }, 'CR CR LF');
    assert.deepEqual(extractFrontMatter('---\na: 1\n----\n--- x\n---\n'), { yaml: 'a: 1\n----\n--- x\n', offset: 4 }, 'only a bare `---` closes');
    assert.equal(extractFrontMatter('--- \na: 1\n---\n'), undefined, 'no space after the opening marker');
    assert.equal(extractFrontMatter('---\n---\n'), undefined, 'no closing after the opening line break');
  });

  test('a repeated `---` opens the block once: the metadata below it is checked, at Markdown offsets', () => {
    const text = '---\n---\nlicense: apache2\n---\n# Title\n';
    assert.deepEqual(diagnose(text), [
      { code: 'unknown-license', text: 'apache2', start: text.indexOf('apache2'), severity: 'warning', message: "Unknown license id 'apache2'. Did you mean 'apache-2.0'?" },
    ]);
  });

  test('three markers in a row: an empty block, the rest is Markdown', () => {
    assert.deepEqual(diagnose('---\n---\n---\nlicense: nonsense-license\n---\n'), []);
    assert.deepEqual(diagnose('---\n\n---\n# Title\n'), [], 'an empty block is no metadata');
  });

  test('a scalar instead of metadata', () => {
    const text = '---\njust a sentence\n---\n';
    assert.deepEqual(
      diagnose(text).map((d) => [d.code, d.text, d.message]),
      [['wrong-type', 'just a sentence', 'Expected nothing (null) or a mapping, not a string.']],
    );
  });
});

describe('Space cards', () => {
  test('recognised by a Space key, not by the file name alone', () => {
    assert.equal(fileKindByName('README.md', space('')), 'space-card');
    assert.equal(fileKindByName('demo/README.md', '---\nsdk: docker\napp_port: 7860\n---\n'), 'space-card');
    assert.equal(fileKindByName('README.md', card('license: mit\ntags:\n- sdk\n')), 'readme-model-card');
  });

  test('sdk and colors come from the Hub lists: errors with did-you-mean', () => {
    const text = space('').replace('sdk: gradio', 'sdk: gradoi').replace('colorFrom: blue', 'colorFrom: grey');
    assert.deepEqual(diagnose(text), [
      { code: 'invalid-value', text: 'grey', start: text.indexOf('grey'), severity: 'error', message: "'grey' is not an allowed value. Did you mean 'gray'?" },
      { code: 'invalid-value', text: 'gradoi', start: text.indexOf('gradoi'), severity: 'error', message: "'gradoi' is not an allowed value. Did you mean 'gradio'?" },
    ]);
    const unknownSdk = space('').replace('sdk: gradio', 'sdk: flask');
    assert.deepEqual(
      diagnose(unknownSdk).map((d) => [d.code, d.text, d.message]),
      [['invalid-value', 'flask', "'flask' is not an allowed value. Expected one of: gradio, streamlit, docker, static."]],
    );
  });

  test('emoji is a single emoji (flags, keycaps and joined sequences count as one)', () => {
    for (const e of ['🤗', '❤️', '🇫🇷', '1️⃣', '👩‍🔬']) assert.deepEqual(diagnose(space('').replace('🚀', e)), [], e);
    const text = space('').replace('🚀', '🚀🔥');
    assert.deepEqual(diagnose(text), [
      { code: 'invalid-value', text: '🚀🔥', start: text.indexOf('🚀🔥'), severity: 'warning', message: "'emoji' is a single emoji, not '🚀🔥'." },
    ]);
    assert.deepEqual(
      diagnose(space('').replace('🚀', 'rocket')).map((d) => [d.code, d.text]),
      [['invalid-value', 'rocket']],
    );
  });

  test('did-you-mean offers only Space keys', () => {
    const text = space('sdk_verison: 4.44.0\napp_files: app.py\nlibrary_nam: gradio\n');
    assert.deepEqual(
      diagnose(text).map((d) => [d.code, d.text, d.start, d.severity, d.message]),
      [
        ['unknown-key', 'sdk_verison', text.indexOf('sdk_verison'), 'warning', "Unknown key 'sdk_verison'. Did you mean 'sdk_version'?"],
        ['unknown-key', 'app_files', text.indexOf('app_files'), 'warning', "Unknown key 'app_files'. Did you mean 'app_file'?"],
      ],
    );
  });

  test('Space keys are not near misses of model card keys, and types are checked', () => {
    assert.deepEqual(diagnose(space('sdk_version: 4.44.0\napp_file: app.py\npinned: false\nshort_description: x\n')), []);
    const text = space('app_port: http\npinned: sometimes\n');
    assert.deepEqual(
      diagnose(text).map((d) => [d.code, d.text, d.message]),
      [
        ['wrong-type', 'http', 'Expected an integer, not a string.'],
        ['wrong-type', 'sometimes', 'Expected a boolean, not a string.'],
      ],
    );
  });

  test("Meta's Llama 3 and 4 license ids are known; a near miss of one is a warning", () => {
    for (const id of ['llama3', 'llama3.1', 'llama3.2', 'llama3.3', 'llama4']) assert.deepEqual(diagnose(space(`license: ${id}\n`)), [], id);
    assert.deepEqual(
      diagnose(space('license: llama-3.1\n')).map((d) => [d.code, d.text]),
      [['unknown-license', 'llama-3.1']],
    );
  });

  test('license checks apply to Spaces too', () => {
    const text = space('license: apache2\n');
    assert.deepEqual(
      diagnose(text).map((d) => [d.code, d.text, d.message]),
      [['unknown-license', 'apache2', "Unknown license id 'apache2'. Did you mean 'apache-2.0'?"]],
    );
  });
});

describe('model card: null items in list metadata', () => {
  test('tags: [null] is a warning that the Hub drops the item, not a type error', () => {
    const text = card('license: mit\ntags: [null]\n');
    assert.deepEqual(diagnose(text), [
      {
        code: 'empty-list-item',
        text: 'null',
        start: text.indexOf('null'),
        severity: 'warning',
        message: 'This null item is dropped by the Hugging Face Hub; remove it.',
      },
    ]);
  });

  test('a null item among strings, in block style, warns on that item only', () => {
    const text = card('language:\n- en\n- ~\n- fr\n');
    assert.deepEqual(
      diagnose(text).map((d) => [d.code, d.text, d.severity]),
      [['empty-list-item', '~', 'warning']],
    );
  });

  test('a value of another type in the list is still a type error', () => {
    const text = card('tags:\n- nlp\n- {a: 1}\n');
    assert.deepEqual(
      diagnose(text).map((d) => [d.code, d.severity]),
      [['wrong-type', 'error']],
    );
  });

  test('in a pipeline a null list item is still a type error', () => {
    const s = open({}, 'dvc.yaml', 'stages:\n  a:\n    cmd: echo\n    deps: [null]\n');
    assert.deepEqual(
      diagnosticsOf(s).map((d) => [d.code, d.severity]),
      [['wrong-type', 'error']],
    );
  });
});

describe("a template's placeholder left unfilled", () => {
  test('as a key (`{model_id}: value`, PyYAML: found unhashable key) and as a value (`{license}`, `{{ model_id }}`): each said as such', () => {
    // A list key is left alone: ruamel.yaml (DVC) reads it as a tuple.
    const asKey = card('license: mit\n{model_id}: value\n[a, b]: 1\n');
    assert.deepEqual(
      diagnose(asKey).map((d) => [d.code, d.text, d.severity]),
      [['collection-key', '{model_id}', 'error']],
    );
    assert.match(diagnose(asKey)[0]!.message, /^A mapping as a key \(\{model_id\}\): PyYAML and ruamel\.yaml, which huggingface_hub and DVC read YAML with, refuse the file \(found unhashable key\)\. A template placeholder left unfilled\?/);
    const asValue = diagnose(card('license: {license}\nmodel_name: {{ model_id }}\n'));
    assert.deepEqual(
      asValue.map((d) => [d.code, d.text]),
      [
        ['wrong-type', '{license}'],
        ['wrong-type', '{{ model_id }}'],
        ['collection-key', '{ model_id }'],
      ],
    );
    assert.match(asValue[0]!.message, /not a mapping\. A template placeholder left unfilled \(\{license\} is a mapping in YAML\)\? Fill it in, or quote it\./);
    assert.match(asValue[1]!.message, /\(\{\{ model_id \}\} is a mapping in YAML\)/);
    // A mapping where a string belongs that is no placeholder: the plain message.
    assert.deepEqual(diagnose(card('license: {a: 1}\n')).map((d) => d.message), ['Expected a string, not a mapping.']);
    // Quoted, the same text is a string and a key like any other.
    assert.deepEqual(diagnose(card("license: mit\n'{model_id}': value\nmodel_name: '{{ model_id }}'\n")), []);
  });
});

describe('a syntax error', () => {
  test('is not followed by missing keys of the mappings the parser cut there; other mappings keep theirs', () => {
    const other = '  - name: other\n    results:\n      - task: {type: x}\n        dataset: {type: y}\n        metrics: []\n';
    const lineOf = (text: string, d: Found) => text.slice(0, d.start).split('\n').length;
    const result = (dataset: string, metrics: string) => card(`license: mit\nmodel-index:\n${other}  - name: churn\n    results:\n      - task:\n          type: x\n        dataset:\n          type: y\n${dataset}${metrics}`);
    // Written one column off: a dataset's `name`, a result's `metrics`; each is there, one line down.
    for (const text of [result('         name: z\n', '        metrics: []\n'), result('          name: z\n', '       metrics: []\n')]) {
      assert.deepEqual(
        diagnose(text).filter((d) => d.code !== 'unknown-key').map((d) => [d.code, lineOf(text, d)]),
        [
          // Far from the error: the other result's dataset lacks its name.
          ['missing-key', 7],
          ['yaml-syntax', text.split('\n').findIndex((l) => /^ {7}metrics|^ {9}name/.test(l)) + 1],
        ],
        text,
      );
    }
    // `results:` one column short: the model-index item does not lack it.
    const short = card('license: mit\nmodel-index:\n  - name: churn\n   results:\n      - task: {type: x}\n        dataset: {type: y, name: z}\n        metrics: []\n');
    assert.deepEqual(diagnose(short).map((d) => d.code), ['yaml-syntax']);
    // Mended: nothing is missing but the other dataset's name.
    const mended = result('          name: z\n', '        metrics: []\n');
    assert.deepEqual(diagnose(mended).map((d) => [d.code, lineOf(mended, d)]), [['missing-key', 7]]);
  });
});
