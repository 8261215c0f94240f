/** Document symbols and folding ranges as fixtures. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { DocumentSymbolEntry } from '../../../core/language/languageTypes';
import { loadFixture, open } from './languageHarness';

/** `name (kind) [detail]` with children indented, for compact comparison. */
function outline(list: DocumentSymbolEntry[], depth = 0, maxDepth = 9): string[] {
  return list.flatMap((s) => [
    `${'  '.repeat(depth)}${s.name} (${s.kind})${s.detail ? ` [${s.detail}]` : ''}`,
    ...(depth < maxDepth ? outline(s.children, depth + 1, maxDepth) : []),
  ]);
}

function checkNesting(text: string, list: DocumentSymbolEntry[], parent?: DocumentSymbolEntry): void {
  for (const s of list) {
    assert.ok(0 <= s.span.start && s.span.start <= s.selection.start && s.selection.end <= s.span.end && s.span.end <= text.length, s.name);
    if (parent) assert.ok(parent.span.start <= s.span.start && s.span.end <= parent.span.end, `${s.name} inside ${parent.name}`);
    checkNesting(text, s.children, s);
  }
}

describe('document symbols', () => {
  test('stages with their deps, outs and params', () => {
    const s = open(loadFixture('get-started'), 'dvc.yaml');
    const symbols = s.service.documentSymbols(s.doc);
    checkNesting(s.text, symbols);
    assert.deepEqual(outline(symbols, 0, 3).slice(0, 16), [
      'stages (section) [4 stage(s)]',
      '  prepare (stage) [python src/prepare.py data/data.xml]',
      '    deps (key)',
      '      data/data.xml (file)',
      '      src/prepare.py (file)',
      '    outs (key)',
      '      data/prepared (file)',
      '    params (key)',
      '      prepare.seed (param)',
      '      prepare.split (param)',
      '  featurize (stage) [python src/featurization.py data/prepared data/features]',
      '    deps (key)',
      '      data/prepared (file)',
      '      src/featurization.py (file)',
      '    outs (key)',
      '      data/features (file)',
    ]);
    assert.deepEqual(
      outline(symbols).filter((l) => !l.startsWith(' ')),
      ['stages (section) [4 stage(s)]', 'metrics (section)', 'plots (section)', 'artifacts (section)'],
    );
  });

  test('foreach, matrix and built-in step stages', () => {
    const t = open(loadFixture('templating'), 'dvc.yaml');
    const stages = t.service.documentSymbols(t.doc)[1]!.children.map((c) => `${c.name} [${c.detail}]`);
    assert.deepEqual(stages, ['build-us [python src/train.py ${thresholds.us} --seed ${seed}]', 'cleanups [foreach]', 'train [foreach]', 'sweep [matrix]', 'report [python src/report.py ${train} && echo "\\${HOME} stays literal"]']);
    const r = open(loadFixture('runwise'), 'runwise.yaml');
    const rs = r.service.documentSymbols(r.doc)[0]!.children;
    assert.deepEqual(rs.map((c) => `${c.name} [${c.detail}]`).slice(2), ['evaluate [evaluate]', 'drift [drift]', 'register [register]']);
    assert.deepEqual(outline(rs[2]!.children), ['evaluate (model)']);
  });

  test('model card sections in Markdown offsets, and params keys', () => {
    const s = open(loadFixture('hf-cards'), 'whisper/README.md');
    const symbols = s.service.documentSymbols(s.doc);
    checkNesting(s.text, symbols);
    const mi = symbols.find((x) => x.name === 'model-index')!;
    assert.deepEqual(outline([mi]), [
      'model-index (section)',
      '  whisper-large (model)',
      '    automatic-speech-recognition on LibriSpeech (clean) (key)',
      '    automatic-speech-recognition on Common Voice 11.0 (key)',
    ]);
    assert.equal(s.text.slice(mi.selection.start, mi.selection.end), 'model-index');
    const p = open(loadFixture('get-started'), 'params.yaml');
    assert.deepEqual(outline(p.service.documentSymbols(p.doc)).slice(0, 3), ['prepare (param)', '  split (param) [0.2]', '  seed (param) [20170428]']);
  });
});

describe('folding', () => {
  test('stages, lists and comment blocks', () => {
    const s = open(loadFixture('templating'), 'dvc.yaml', '# one\n# two\n' + loadFixture('templating').get('dvc.yaml')!);
    const ranges = s.service.foldingRanges(s.doc);
    const lines = s.text.split('\n');
    const starts = ranges.map((r) => `${r.startLine}-${r.endLine}${r.kind ? ` ${r.kind}` : ''}: ${lines[r.startLine]!.trim()}`);
    assert.ok(starts.includes('0-2 comment: # one'), starts.slice(0, 3).join('|'));
    const stages = ranges.find((r) => lines[r.startLine] === 'stages:')!;
    assert.equal(lines[stages.endLine]!.trim(), 'reviewed: yes');
    assert.ok(starts.some((l) => /^\d+-\d+: cleanups:$/.test(l)));
    for (const r of ranges) assert.ok(r.startLine < r.endLine && r.endLine < lines.length);
  });

  test('front matter lines are lines of the Markdown file', () => {
    const s = open(loadFixture('hf-cards'), 'whisper/README.md');
    const lines = s.text.split('\n');
    const ranges = s.service.foldingRanges(s.doc);
    const mi = ranges.find((r) => lines[r.startLine] === 'model-index:')!;
    assert.ok(mi, 'model-index folds');
    assert.equal(lines[mi.endLine], '      url: https://huggingface.co/spaces/hf-audio/open_asr_leaderboard');
  });
});
