import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stageKeyLines, stageKeyOf } from '../../../core/pipeline/stageKeyLines';

test("stage keys' lines are read from the text as it is, comments, quotes and foreach included", () => {
  const text = ['# a pipeline', 'vars:', '  - lr: 1', 'stages:', '  prepare:', '    cmd: x', '', '  "train":', '    foreach: [us, eu]', '    do:', '      cmd: y ${item}', ''].join('\n');
  assert.deepEqual([...stageKeyLines(text)], [['prepare', 5], ['train', 8]]);
});

test('a buffer broken below a stage still places the stages above the break', () => {
  assert.deepEqual([...stageKeyLines('stages:\n  prepare:\n    cmd: x\n  train: [\n')], [['prepare', 2], ['train', 4]]);
});

test('text with no stages mapping gives no lines', () => {
  assert.equal(stageKeyLines('stages: 3').size, 0);
  assert.equal(stageKeyLines('- a\n- b\n').size, 0);
  assert.equal(stageKeyLines('').size, 0);
});

test("a generated stage's name stands on its key", () => {
  assert.equal(stageKeyOf('train@us'), 'train');
  assert.equal(stageKeyOf('train@0-1'), 'train');
  assert.equal(stageKeyOf('prepare'), 'prepare');
});
