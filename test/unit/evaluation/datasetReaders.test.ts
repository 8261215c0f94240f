/** The CSV and JSON Lines readers: RFC 4180 details, batches across read chunks, line numbers in errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { openDataset, type ColumnRequest } from '../../../core/evaluation/dataset';
import { tempWorkspace } from '../../support/tempWorkspace';

async function readAll(file: string, request: ColumnRequest[], batchSize: number) {
  const reader = await openDataset(file, path.basename(file));
  const numbers: number[][] = request.filter((r) => !r.text).map(() => []);
  const texts: string[][] = request.filter((r) => r.text).map(() => []);
  const sizes: number[] = [];
  for await (const b of reader.batches(request, batchSize)) {
    sizes.push(b.rows);
    b.numbers.forEach((col, i) => numbers[i]!.push(...col));
    b.texts.forEach((col, i) => texts[i]!.push(...col));
  }
  return { columns: reader.columns, numbers, texts, sizes };
}

test('CSV: BOM, CRLF, quoted fields with commas, doubled quotes and line breaks, blank lines', async () => {
  const file = path.join(tempWorkspace('csv'), 'data.csv');
  writeFileSync(file, '\uFEFFa,"b ""q""",c\r\n1,"2.5",x\r\n\r\n-3e2,4,"multi\nline, text"\r\n5,0.1,"he said ""hi"""');
  const r = await readAll(file, [{ name: 'a' }, { name: 'b "q"' }, { name: 'c', text: true }, { name: 'a', text: true }], 2);
  assert.deepEqual(r.columns, ['a', 'b "q"', 'c']);
  assert.deepEqual(r.numbers, [[1, -300, 5], [2.5, 4, 0.1]]);
  assert.deepEqual(r.texts, [['x', 'multi\nline, text', 'he said "hi"'], ['1', '-3e2', '5']]);
  assert.deepEqual(r.sizes, [2, 1]);
});

test('CSV: a line number after a quoted line break counts the physical lines', async () => {
  const file = path.join(tempWorkspace('csv'), 'data.csv');
  writeFileSync(file, 'a,note\n1,"two\nlines"\n2,ok\nx,bad\n');
  await assert.rejects(readAll(file, [{ name: 'a' }], 10), /^Error: data\.csv:5: column 'a' is not a number: 'x'|data\.csv:5: column 'a' is not a number: 'x'/);
});

test('CSV: numbers equal Number(text) across 1 MiB read chunks and many batches', async () => {
  const file = path.join(tempWorkspace('csv'), 'big.csv');
  const values: number[] = [];
  const lines = ['v,w'];
  for (let i = 0; i < 120_000; i++) {
    const text = [String(i * 0.37), (i % 7 === 0 ? '"' : '') + (-i / 3).toPrecision(17) + (i % 7 === 0 ? '"' : ''), '1e-7', '12345678901234567890', '.5', '+4'][i % 6]!;
    lines.push(`${text},${i}`);
    values.push(Number(text.replace(/"/g, '')));
  }
  writeFileSync(file, `${lines.join('\r\n')}\r\n`);
  const r = await readAll(file, [{ name: 'v' }, { name: 'w' }], 1000);
  assert.equal(r.numbers[0]!.length, 120_000);
  assert.deepEqual(r.numbers[0], values);
  assert.deepEqual(r.numbers[1], Array.from({ length: 120_000 }, (_, i) => i));
});

test('JSON Lines: columns from the first object, numbers and text, errors with the line', async () => {
  const dir = tempWorkspace('jsonl');
  const file = path.join(dir, 'data.jsonl');
  writeFileSync(file, '{"a": 1, "g": "x", "y": 0}\n\n{"a": 2.5, "g": 3, "y": 1}\n');
  const r = await readAll(file, [{ name: 'a' }, { name: 'g', text: true }], 10);
  assert.deepEqual(r.columns, ['a', 'g', 'y']);
  assert.deepEqual(r.numbers, [[1, 2.5]]);
  assert.deepEqual(r.texts, [['x', '3']]);
  writeFileSync(file, '{"a": 1}\n{"a": "abc"}\n');
  await assert.rejects(readAll(file, [{ name: 'a' }], 10), /data\.jsonl:2: column 'a' is not a number: 'abc'/);
  writeFileSync(file, '{"a": 1}\n{"a": null}\n');
  await assert.rejects(readAll(file, [{ name: 'a' }], 10), /data\.jsonl:2: column 'a' is null \(expected a number\)/);
});
