/** The CSV and JSON Lines readers: RFC 4180 details, batches across read chunks, line numbers in errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import * as path from 'node:path';
import { fileSha256, openDataset, withColumns, type ColumnRequest } from '../../../core/dataset/dataset';
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

test('CSV: a bad cell is shown cut to 40 characters, its control characters escaped (a 5 MB number, a NUL byte)', async () => {
  const ws = tempWorkspace('csv');
  const long = path.join(ws, 'long.csv');
  writeFileSync(long, `a\n1\n${'9'.repeat(5_000_000)}\n`);
  await assert.rejects(readAll(long, [{ name: 'a' }], 10), (e: Error) => {
    assert.equal(e.message, `long.csv:3: column 'a' is ${'9'.repeat(40)}… (expected a finite number)`);
    return true;
  });
  const nul = path.join(ws, 'nul.csv');
  writeFileSync(nul, 'a\n1\n65.\u000089\n');
  await assert.rejects(readAll(nul, [{ name: 'a' }], 10), /nul\.csv:3: column 'a' is not a number: '65\.\\u000089'$/);
});

test('CSV: numbers equal Number(text) across 4 MiB reads and many batches', async () => {
  const file = path.join(tempWorkspace('csv'), 'big.csv');
  const values: number[] = [];
  const lines = ['v,w'];
  for (let i = 0; i < 300_000; i++) {
    const text = [String(i * 0.37), (i % 7 === 0 ? '"' : '') + (-i / 3).toPrecision(17) + (i % 7 === 0 ? '"' : ''), '1e-7', '12345678901234567890', '.5', '+4'][i % 6]!;
    lines.push(`${text},${i}`);
    values.push(Number(text.replace(/"/g, '')));
  }
  writeFileSync(file, `${lines.join('\r\n')}\r\n`);
  assert.ok(statSync(file).size > 4 * 1024 * 1024, 'the file spans more than one read');
  const r = await readAll(file, [{ name: 'v' }, { name: 'w' }], 1000);
  assert.equal(r.numbers[0]!.length, 300_000);
  assert.deepEqual(r.numbers[0], values);
  assert.deepEqual(r.numbers[1], Array.from({ length: 300_000 }, (_, i) => i));
});

/** A decimal as people and programs write it: sign, digits, point, digits, sometimes an exponent. */
const decimalText = fc
  .tuple(
    fc.constantFrom('', '-', '+'),
    fc.stringMatching(/^[0-9]{0,20}$/),
    fc.option(fc.stringMatching(/^[0-9]{0,26}$/)),
    fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '-', '+'), fc.integer({ min: 0, max: 330 }))),
  )
  .map(([sign, whole, fraction, exponent]) => `${sign}${whole}${fraction === null ? '' : `.${fraction}`}${exponent ? `${exponent[0]}${exponent[1]}${exponent[2]}` : ''}`)
  .filter((t) => Number.isFinite(Number(t)) && /[0-9]/.test(t));

test('CSV: a number read in the field scan is the very double Number(text) gives (random decimals, LF and CRLF)', async () => {
  const dir = tempWorkspace('csv');
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(decimalText, decimalText), { minLength: 1, maxLength: 200 }), fc.boolean(), async (rows, crlf) => {
      const file = path.join(dir, 'random.csv');
      const end = crlf ? '\r\n' : '\n';
      writeFileSync(file, `a,b${end}${rows.map(([a, b]) => `${a},${b}`).join(end)}`);
      const r = await readAll(file, [{ name: 'a' }, { name: 'b' }], 7);
      assert.deepEqual(r.numbers, [rows.map(([a]) => Number(a)), rows.map(([, b]) => Number(b))]);
      for (let i = 0; i < rows.length; i++) assert.ok(Object.is(r.numbers[0]![i], Number(rows[i]![0])), `row ${i + 1}: ${rows[i]![0]}`);
    }),
    { numRuns: 150 },
  );
});

test('CSV: records read in the one-pass path and the general one agree: quoted, skipped, text and coded fields, LF and CRLF', async () => {
  const dir = tempWorkspace('csv');
  const textField = fc.oneof(fc.stringMatching(/^[a-z]{0,6}$/), fc.constantFrom('"a, b"', '"say ""hi"""', 'ünï', '"7"'));
  const unquote = (t: string) => (t.startsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t);
  const record = fc.tuple(decimalText, fc.boolean(), textField, decimalText, fc.constantFrom('\n', '\r\n'));
  await fc.assert(
    fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 120 }), async (rows) => {
      const file = path.join(dir, 'mixed.csv');
      // n: a number, quoted or not; t: text; skip: not asked for; m: a number also read as text; c: t again, coded.
      const body = rows.map(([n, quoted, t, m, end]) => `${quoted ? `"${n}"` : n},${t},${unquote(t).replace(/[",]/g, '')}x,${m},${t}${end}`).join('');
      writeFileSync(file, `n,t,skip,m,c\n${body}`);
      const request: ColumnRequest[] = [{ name: 'n' }, { name: 't', text: true }, { name: 'm' }, { name: 'm', text: true }, { name: 'c', text: true, coded: true }];
      const reader = await openDataset(file, 'mixed.csv');
      const got = { n: [] as number[], t: [] as string[], m: [] as number[], mText: [] as string[], coded: [] as string[] };
      for await (const b of reader.batches(request, 5)) {
        for (let i = 0; i < b.rows; i++) {
          got.n.push(b.numbers[0]![i]!);
          got.m.push(b.numbers[1]![i]!);
          got.t.push(b.texts[0]![i]!);
          got.mText.push(b.texts[1]![i]!);
          got.coded.push(b.labels![2]![b.codes![2]![i]!]!);
        }
      }
      assert.deepEqual(got, {
        n: rows.map(([n]) => Number(n)),
        t: rows.map(([, , t]) => unquote(t)),
        m: rows.map(([, , , m]) => Number(m)),
        mText: rows.map(([, , , m]) => m),
        coded: rows.map(([, , t]) => unquote(t)),
      });
      for (let i = 0; i < rows.length; i++) assert.ok(Object.is(got.n[i], Number(rows[i]![0])), `row ${i + 1}: ${rows[i]![0]}`);
    }),
    { numRuns: 150 },
  );
  // A ragged record after plain ones is the general loop's error, with its line.
  const ragged = path.join(dir, 'ragged.csv');
  writeFileSync(ragged, `a,b\n${Array.from({ length: 50 }, (_, i) => `${i},${i}`).join('\n')}\n1,2,3\n`);
  await assert.rejects(readAll(ragged, [{ name: 'a' }, { name: 'b' }], 8), /ragged\.csv:52: expected 2 fields as in the header, found 3/);
  // A row short of fields has missing cells there, as pandas reads it: an error in a column that must hold a number.
  writeFileSync(ragged, `a,b\n${Array.from({ length: 50 }, (_, i) => `${i},${i}`).join('\n')}\n1\n`);
  await assert.rejects(readAll(ragged, [{ name: 'a' }, { name: 'b' }], 8), /ragged\.csv:52: column 'b' is missing: the row has 1 of the header's 2 fields \(expected a number\)/);
  assert.deepEqual((await readAll(ragged, [{ name: 'a' }], 8)).numbers[0]!.slice(48), [48, 49, 1]);
});

test('CSV: blank lines are skipped in a one-column file too, text or number', async () => {
  const file = path.join(tempWorkspace('csv'), 'one.csv');
  writeFileSync(file, 'name\na\n\nb\r\n\r\n\nc\n\n');
  assert.deepEqual((await readAll(file, [{ name: 'name', text: true }], 2)).texts, [['a', 'b', 'c']]);
  writeFileSync(file, 'x\n1\n\n2.5\r\n\r\n-3\n\n');
  assert.deepEqual((await readAll(file, [{ name: 'x' }], 2)).numbers, [[1, 2.5, -3]]);
});

test('CSV: a record longer than the read buffer (one 9 MiB text field)', async () => {
  const file = path.join(tempWorkspace('csv'), 'long.csv');
  const long = 'x'.repeat(9 * 1024 * 1024);
  writeFileSync(file, `n,t\n1,"${long}"\n2,short\n`);
  const r = await readAll(file, [{ name: 'n' }, { name: 't', text: true }], 10);
  assert.deepEqual(r.numbers, [[1, 2]]);
  assert.equal(r.texts[0]![0]!.length, long.length);
  assert.equal(r.texts[0]![1], 'short');
});

test('CSV and JSON Lines hash every byte of the file as they read it', async () => {
  const dir = tempWorkspace('hash');
  const csv = path.join(dir, 'data.csv');
  writeFileSync(csv, `\uFEFFa,b\n${Array.from({ length: 5000 }, (_, i) => `${i},${i / 3}`).join('\n')}\n`);
  const jsonl = path.join(dir, 'data.jsonl');
  writeFileSync(jsonl, `${Array.from({ length: 5000 }, (_, i) => JSON.stringify({ a: i, b: i / 3 })).join('\n')}\n`);
  for (const file of [csv, jsonl]) {
    const reader = await openDataset(file);
    assert.equal(reader.hashesFile, true);
    const hash = createHash('sha256');
    let rows = 0;
    for await (const b of reader.batches([{ name: 'b' }], 999, hash)) rows += b.rows;
    assert.equal(rows, 5000);
    assert.equal(hash.digest('hex'), await fileSha256(file), path.basename(file));
  }
});

test('CSV hashes every byte as it parses: across 4 MiB reads, a record longer than a read, blank lines, no final line end', async () => {
  const dir = tempWorkspace('hash-chunks');
  const rows = Array.from({ length: 300_000 }, (_, i) => `${i},${(i * 0.37).toFixed(3)},"t ${i % 7}"`);
  // A text field of 5 MiB: its record outgrows the 4 MiB buffer, which doubles.
  rows.splice(150_000, 0, `-1,0.5,"${'x'.repeat(5 << 20)}"`);
  const files: Record<string, string> = {
    'ends.csv': `a,b,t\n${rows.join('\n')}\n`,
    'crlf-blank.csv': `a,b,t\r\n${rows.join('\r\n')}\r\n\r\n\n`,
    'open.csv': `a,b,t\n${rows.join('\n')}`,
  };
  // No final line end and a last batch exactly full (300,001 rows is no multiple of 4096; these are).
  files['open-full.csv'] = `a,b,t\n${rows.slice(0, 4096 * 3).join('\n')}`;
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    const reader = await openDataset(file);
    const [sha, md5] = [createHash('sha256'), createHash('md5')];
    const sink = { update: (chunk: Buffer) => (sha.update(chunk), md5.update(chunk)) };
    let count = 0;
    let last = NaN;
    for await (const b of reader.batches([{ name: 'a' }, { name: 't', text: true }], 4096, sink)) {
      count += b.rows;
      last = b.numbers[0]![b.rows - 1]!;
    }
    const full = name === 'open-full.csv';
    assert.equal(count, full ? 4096 * 3 : 300_001, name);
    assert.equal(last, full ? 4096 * 3 - 1 : 299_999, name);
    assert.equal(sha.digest('hex'), await fileSha256(file), `${name}: sha256`);
    assert.equal(md5.digest('hex'), createHash('md5').update(readFileSync(file)).digest('hex'), `${name}: md5`);
  }
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

test('JSON Lines line ends and reads: CRLF, a lone CR, a byte order mark, a multi-byte text cut by a read, line numbers past the first read', async () => {
  const dir = tempWorkspace('jsonl-lines');
  const file = path.join(dir, 'data.jsonl');
  writeFileSync(file, '\uFEFF{"a": 1, "g": "x"}\r\n{"a": 2, "g": "y"}\r{"a": 3, "g": "z"}\n');
  const r = await readAll(file, [{ name: 'a' }, { name: 'g', text: true }], 10);
  assert.deepEqual([r.columns, r.numbers, r.texts], [['a', 'g'], [[1, 2, 3]], [['x', 'y', 'z']]]);
  // 40,000 lines of é and 😀 (over a read of 1 MiB, cut anywhere): every one read whole, and an error at the end names its line.
  const lines = Array.from({ length: 40_000 }, (_, i) => JSON.stringify({ a: i, g: `é😀${'é'.repeat(i % 7)}` }));
  writeFileSync(file, `${lines.join('\n')}\n{"a": "bad"}\n`);
  await assert.rejects(readAll(file, [{ name: 'a' }], 1000), /data\.jsonl:40001: column 'a' is not a number: 'bad'/);
  writeFileSync(file, `${lines.join('\n')}`);
  const all = await readAll(file, [{ name: 'a' }, { name: 'g', text: true }], 4096);
  assert.equal(all.numbers[0]!.length, 40_000);
  assert.ok(all.texts[0]!.every((t, i) => t === `é😀${'é'.repeat(i % 7)}`));
  // A CR LF cut by the end of a 1 MiB read is one line end: the bad line is line 3, not 4.
  const first = `{"a": 0${' '.repeat((1 << 20) - 9)}}`;
  assert.equal(Buffer.byteLength(first), (1 << 20) - 1);
  writeFileSync(file, `${first}\r\n{"a": 1}\r\n{"a": "x"}\r\n`);
  await assert.rejects(readAll(file, [{ name: 'a' }], 10), /data\.jsonl:3: column 'a' is not a number: 'x'/);
  // A bad line past the rows that name the columns does not stop the file opening, and the rows before it are read.
  writeFileSync(file, `${Array.from({ length: 1400 }, (_, i) => JSON.stringify({ a: i })).join('\n')}\n{bad\n`);
  const reader = await openDataset(file, 'data.jsonl');
  assert.deepEqual(reader.columns, ['a']);
  let rows = 0;
  await assert.rejects(
    (async () => {
      for await (const b of reader.batches([{ name: 'a' }], 100)) rows += b.rows;
    })(),
    /data\.jsonl:1401: not valid JSON/,
  );
  assert.equal(rows, 1400, 'every row before the bad line was given');
  // A key with ';' in it is a JSON key, not a CSV header saved with another separator.
  writeFileSync(file, '{"price;usd": 1}\n');
  await assert.rejects(readAll(file, [{ name: 'target' }], 10), (e: Error) => /no column 'target'/.test(e.message) && !/separated/.test(e.message));
});

test('JSON Lines: columns are the keys of the first rows in order of appearance; a key a row lacks is a missing cell, its own keys only', async () => {
  const file = path.join(tempWorkspace('jsonl'), 'spark.jsonl');
  // Spark's JSON writer leaves null fields out: the first row lacks 'region'.
  writeFileSync(file, '{"a": 1, "y": 0}\n{"a": 2, "region": "north", "y": 1}\n{"y": 0, "a": 3, "region": "south"}\n');
  const r = await readAll(file, [{ name: 'a' }, { name: 'region', text: true }, { name: 'region', text: true }], 10);
  assert.deepEqual(r.columns, ['a', 'y', 'region']);
  assert.deepEqual(r.numbers, [[1, 2, 3]]);
  assert.deepEqual(r.texts[0], ['', 'north', 'south']);
  writeFileSync(file, '{"a": 1, "b": 2}\n{"b": 3}\n');
  await assert.rejects(readAll(file, [{ name: 'a' }], 10), /spark\.jsonl:2: column 'a' is missing from this row \(expected a number\)/);
  const lenient = await readAll(file, [{ name: 'a', missing: true }], 10);
  assert.ok(Number.isNaN(lenient.numbers[0]![1]));
  // A key first given after the rows that name the columns is found when asked for (withColumns, as evaluate and drift ask).
  writeFileSync(file, `${'{"a": 1}\n'.repeat(1200)}{"a": 2, "late": "x", "other": 1}\n`);
  const reader = await openDataset(file, 'spark.jsonl');
  assert.deepEqual(reader.columns, ['a']);
  await withColumns(reader, ['late', 'never']);
  assert.deepEqual(reader.columns, ['a', 'late']);
  const late = await readAll(file, [{ name: 'late', text: true }], 500);
  assert.deepEqual(late.texts[0]!.slice(-2), ['', 'x']);
  // A row without a key named like an Object.prototype member lacks it.
  writeFileSync(file, '{"constructor": "x", "a": 1}\n{"a": 2}\n');
  assert.deepEqual((await readAll(file, [{ name: 'constructor', text: true }], 10)).texts, [['x', '']]);
});

test('JSON Lines: booleans as 1/0 and True/False; NaN and Infinity as json.dumps writes them', async () => {
  const file = path.join(tempWorkspace('jsonl'), 'py.jsonl');
  writeFileSync(file, '{"f": true, "x": NaN, "s": "NaN in text", "z": 1}\n{"f": false, "x": -Infinity, "s": "Infinity", "z": Infinity}\n');
  const r = await readAll(file, [{ name: 'f' }, { name: 'f', text: true }, { name: 'x', missing: true }, { name: 's', text: true }], 10);
  assert.deepEqual(r.numbers.slice(0, 1), [[1, 0]]);
  assert.deepEqual(r.texts, [['True', 'False'], ['NaN in text', 'Infinity']]);
  assert.ok(r.numbers[1]!.every(Number.isNaN));
  await assert.rejects(readAll(file, [{ name: 'z' }], 10), /py\.jsonl:2: column 'z' is Infinity \(expected a finite number\)/);
  await assert.rejects(readAll(file, [{ name: 'x' }], 10), /py\.jsonl:1: column 'x' is null \(expected a number\)/);
  // Ids past 2^53 keep every digit in a text column (pandas reads them as exact int64).
  writeFileSync(file, '{"account": 9007199254740993}\n{"account": 9007199254740992}\n{"account": -12345678901234567890}\n{"meta": {"account": 9007199254740993}, "account": 9007199254740992}\n');
  // The last line names the key twice: its digits cannot be told apart without parsing, so the double's text.
  assert.deepEqual((await readAll(file, [{ name: 'account', text: true }], 10)).texts, [['9007199254740993', '9007199254740992', '-12345678901234567890', '9007199254740992']]);
  writeFileSync(file, '{"a": Nan}\n');
  await assert.rejects(readAll(file, [{ name: 'a' }], 10), /py\.jsonl:1: not valid JSON/);
});

test('numbers as pandas reads them: decimals, infinities and booleans; not 0x10, 0b1 or 1_000; NA named as missing', async () => {
  const file = path.join(tempWorkspace('csv'), 'data.csv');
  writeFileSync(file, 'a,b\n+1,True\n.5,false\n5.,TRUE\n1E5,False\n');
  assert.deepEqual((await readAll(file, [{ name: 'a' }, { name: 'b' }], 10)).numbers, [[1, 0.5, 5, 1e5], [1, 0, 1, 0]]);
  for (const cell of ['0x10', '0b1', '0o7', '1_000']) {
    writeFileSync(file, `a\n1\n${cell}\n`);
    await assert.rejects(readAll(file, [{ name: 'a' }], 10), new RegExp(`data\\.csv:3: column 'a' is not a number: '${cell}'`));
  }
  writeFileSync(file, 'a\n1\nNA\n');
  await assert.rejects(readAll(file, [{ name: 'a' }], 10), /data\.csv:3: column 'a' is missing \('NA'; expected a number\)/);
  writeFileSync(file, 'a\n1\ninf\n');
  await assert.rejects(readAll(file, [{ name: 'a' }], 10), /data\.csv:3: column 'a' is inf \(expected a finite number\)/);
});

test('CSV: a column of booleans only reads as 1/0 across batches; one mixing booleans with numbers is refused either way round, naming the line (pandas: text)', async () => {
  const file = path.join(tempWorkspace('csv'), 'data.csv');
  // pandas 1.5 read_csv: bool for a column of True/False only; object (text) for True with 1 or 0.5, which check_array refuses.
  writeFileSync(file, `a,b\n${Array.from({ length: 25 }, (_, i) => `${i},${i % 2 ? 'True' : 'false'}`).join('\n')}\n`);
  const all = await readAll(file, [{ name: 'a' }, { name: 'b' }], 4);
  assert.deepEqual(all.numbers[1], Array.from({ length: 25 }, (_, i) => i % 2));
  const cases: [string, RegExp][] = [
    ['a,b\n1,True\n2,False\n3,1\n', /data\.csv:4: column 'b' mixes booleans and numbers \('1' here, booleans above\): pandas reads such a column as text/],
    ['a,b\n1,0.5\n2,1\n3,TRUE\n', /data\.csv:4: column 'b' mixes booleans and numbers \('TRUE' here, numbers above\)/],
    // Past the first batch, in the general loop's quoted field and the plain records after booleans.
    [`a,b\n${Array.from({ length: 9 }, (_, i) => `${i},True`).join('\n')}\n9,"0"\n`, /data\.csv:11: column 'b' mixes booleans and numbers \('0' here, booleans above\)/],
    [`a,b\n0,True\n${Array.from({ length: 9 }, (_, i) => `${i},${i}`).join('\n')}\n`, /data\.csv:3: column 'b' mixes booleans and numbers \('0' here, booleans above\)/],
    [`a,b\n${Array.from({ length: 9 }, (_, i) => `${i},${i}`).join('\n')}\n9,False\n`, /data\.csv:11: column 'b' mixes booleans and numbers \('False' here, numbers above\)/],
  ];
  for (const [text, error] of cases) {
    writeFileSync(file, text);
    await assert.rejects(readAll(file, [{ name: 'a' }, { name: 'b' }], 4), error);
  }
  // pandas takes a boolean spelt exactly: ` True` (a space before it, quoted or not) is text, which check_array refuses.
  for (const cell of [' True', '"False "']) {
    writeFileSync(file, `a,b\n1,${cell}\n2,False\n`);
    await assert.rejects(readAll(file, [{ name: 'a' }, { name: 'b' }], 4), /data\.csv:2: column 'b' is "(?: True|False )", a boolean with spaces around it: pandas reads it as text/);
  }
  // A column read as text or not read at all may mix them.
  writeFileSync(file, 'a,b\n1,True\n2,0.5\n');
  assert.deepEqual((await readAll(file, [{ name: 'a' }, { name: 'b', text: true }], 4)).texts, [['True', '0.5']]);
});

test('JSON Lines and Parquet: a boolean written as a string in a numeric column is refused (pandas keeps it as text); true/false and numeric strings read', async () => {
  const file = path.join(tempWorkspace('jsonl'), 'data.jsonl');
  writeFileSync(file, '{"a": true, "b": "1.5"}\n{"a": 0.5, "b": "2"}\n');
  assert.deepEqual((await readAll(file, [{ name: 'a' }, { name: 'b' }], 4)).numbers, [[1, 0.5], [1.5, 2]]);
  writeFileSync(file, '{"a": 1, "b": "2"}\n{"a": 0, "b": "True"}\n');
  await assert.rejects(readAll(file, [{ name: 'a' }, { name: 'b' }], 4), /data\.jsonl:2: column 'b' is the text 'True' \(expected a number; pandas keeps a string as text/);
});

test('CSV files from other tools: the error says what to change (classic Mac line ends, a ;-separated file, R row names); unnamed spreadsheet columns are no duplicate; a name given twice is renamed as pandas does', async () => {
  const file = path.join(tempWorkspace('csv'), 'data.csv');
  writeFileSync(file, 'a,b\r1,2\r3,4\r');
  await assert.rejects(readAll(file, [{ name: 'a' }], 10), /data\.csv:1: the lines end in a carriage return alone \(classic Mac OS\); save the file with LF or CRLF line endings/);
  writeFileSync(file, 'a;b;y\n1;2;0\n');
  await assert.rejects(readAll(file, [{ name: 'y' }], 10), /no column 'y' \(the columns are: a;b;y\); the header looks ;-separated, and Runwise reads comma-separated values/);
  writeFileSync(file, `a,y\n${'1,2\n'.repeat(50)}Smith,3,4\n`);
  await assert.rejects(readAll(file, [{ name: 'y' }], 10), (e: Error) => /data\.csv:52: expected 2 fields as in the header, found 3$/.test(e.message));
  writeFileSync(file, '"a\rb",c\n1,2\n');
  assert.deepEqual((await readAll(file, [{ name: 'c' }], 10)).columns, ['a\rb', 'c']);
  writeFileSync(file, '"a","y"\n"1",1,0\n"2",2,1\n');
  await assert.rejects(readAll(file, [{ name: 'y' }], 10), /data\.csv:2: expected 2 fields as in the header, found 3 \(a header one name short of its rows is how R's write\.table writes row names/);
  writeFileSync(file, 'a,y,,\n1,0,,\n2,1,,\n');
  const r = await readAll(file, [{ name: 'a' }, { name: 'y' }], 10);
  assert.deepEqual(r.columns, ['a', 'y', '', '']);
  assert.deepEqual(r.numbers, [[1, 2], [0, 1]]);
  // A name given again is renamed as pandas' read_csv renames it.
  writeFileSync(file, 'a,y,a\n1,0,2\n');
  const twice = await readAll(file, [{ name: 'a' }, { name: 'a.1' }], 10);
  assert.deepEqual([twice.columns, twice.numbers], [['a', 'y', 'a.1'], [[1], [2]]]);
});

test('CSV: a coded text column gives the same texts as a plain read, across batches and read chunks', async () => {
  const file = path.join(tempWorkspace('csv'), 'labels.csv');
  // Quoted and unquoted forms of one label, doubled quotes, commas and line breaks inside quotes,
  // empty cells, non-ASCII text, CRLF, and enough rows and labels to span several 4 MiB reads.
  const shapes = ['red', '"red"', '"a, b"', '"say ""hi"""', '"two\nlines"', '', 'NA', 'café', '"日本"'];
  const lines = ['k,label'];
  for (let i = 0; i < 250_000; i++) lines.push(`${i},${i % 11 === 0 ? `l${i % 3_000}` : shapes[i % shapes.length]!}`);
  writeFileSync(file, `${lines.join('\r\n')}\r\n`);
  const plain = await readAll(file, [{ name: 'label', text: true }], 4096);
  const reader = await openDataset(file, 'labels.csv');
  const decoded: string[] = [];
  let coded = false;
  for await (const b of reader.batches([{ name: 'label', text: true, coded: true }], 4096)) {
    const codes = b.codes?.[0];
    if (!codes) {
      decoded.push(...b.texts[0]!);
      continue;
    }
    coded = true;
    const labels = b.labels![0]!;
    for (const c of codes) decoded.push(labels[c]!);
  }
  assert.ok(coded, 'the CSV reader gives codes when asked');
  assert.equal(decoded.length, 250_000);
  assert.deepEqual(decoded, plain.texts[0]);
});

test('CSV: a header that is not UTF-8 (Latin-1, UTF-16) is refused as such, not read as names with U+FFFD', async () => {
  const dir = tempWorkspace('csv');
  const latin = path.join(dir, 'latin-header.csv');
  writeFileSync(latin, Buffer.concat([Buffer.from('x,caf'), Buffer.from([0xe9]), Buffer.from('\n1,2\n')]));
  await assert.rejects(openDataset(latin, 'latin-header.csv'), /latin-header\.csv:1: the header is not UTF-8 text/);
  const utf16 = path.join(dir, 'utf16.csv');
  writeFileSync(utf16, Buffer.from('\ufeffx,y\n1,2\n', 'utf16le'));
  await assert.rejects(openDataset(utf16, 'utf16.csv'), /utf16\.csv:1: .*not UTF-8/);
});

test('CSV: a coded text column still refuses text that is not UTF-8, naming the line', async () => {
  const file = path.join(tempWorkspace('csv'), 'latin.csv');
  writeFileSync(file, Buffer.concat([Buffer.from('k,label\n1,ok\n2,'), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from('\n')]));
  const reader = await openDataset(file, 'latin.csv');
  await assert.rejects(
    (async () => {
      for await (const _ of reader.batches([{ name: 'label', text: true, coded: true }], 10)) void _;
    })(),
    /latin\.csv:3: .*UTF-8/,
  );
});

test('a dataset that is missing or a folder: one clear line naming it', async () => {
  const dir = tempWorkspace('missing');
  await assert.rejects(openDataset(path.join(dir, 'nope.csv'), 'data/nope.csv'), /^DatasetError: data\/nope\.csv: no such file$/);
  await assert.rejects(openDataset(dir, 'data'), /^DatasetError: data: not a file \(expected a \.csv, \.jsonl, \.ndjson or \.parquet file\)$/);
});

test('JSON Lines that are not UTF-8 are refused naming the line; UTF-16 is named as such', async () => {
  const dir = tempWorkspace('jsonl-encoding');
  const bad = path.join(dir, 'bad.jsonl');
  // Line 3's key holds a Latin-1 byte: it read as 'f\uFFFD1', and column 'fé1' went missing.
  writeFileSync(bad, Buffer.concat([Buffer.from('{"f\u00e91": 1, "y": 0}\n{"f\u00e91": 2, "y": 1}\n{"f'), Buffer.from([0xe9]), Buffer.from('1": 3, "y": 0}\n')]));
  await assert.rejects(readAll(bad, [{ name: 'y' }], 10), (e: unknown) => (e as Error).message === 'bad.jsonl:3: not UTF-8 text (an invalid byte sequence); JSON Lines is UTF-8: save the file as UTF-8');
  const utf16 = path.join(dir, 'utf16.jsonl');
  writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"a": 1}\n', 'utf16le')]));
  await assert.rejects(openDataset(utf16, 'utf16.jsonl'), /utf16\.jsonl: UTF-16 text \(it starts with a UTF-16 byte order mark\); JSON Lines is UTF-8: save the file as UTF-8/);
  // A U+FFFD written as UTF-8 is text like any other.
  const replacement = path.join(dir, 'fffd.jsonl');
  writeFileSync(replacement, '{"a": "\uFFFD", "y": 1}\n');
  assert.deepEqual((await readAll(replacement, [{ name: 'a', text: true }], 10)).texts, [['\uFFFD']]);
});

test('a header of many or very long names is listed cut short in messages, not printed whole', async () => {
  const dir = tempWorkspace('long-header');
  const file = path.join(dir, 'wide.csv');
  const names = [`${'h'.repeat(100_000)}`, ...Array.from({ length: 500 }, (_, i) => `c${i}`)];
  writeFileSync(file, `${names.join(',')}\n${names.map(() => '1').join(',')}\n`);
  const reader = await openDataset(file, 'wide.csv');
  await assert.rejects(
    async () => {
      for await (const _ of reader.batches([{ name: 'nope' }], 10)) void _;
    },
    (e: unknown) => {
      const m = (e as Error).message;
      assert.ok(m.length < 1200, `${m.length} characters`);
      assert.match(m, /^wide\.csv: no column 'nope' \(the columns are: h{80}…, c0, c1, .*, c28, … \(501 in all\)\)$/);
      return true;
    },
  );
});

test('JSON Lines: the line of a bad byte is right when a character before it straddles two reads', async () => {
  const dir = tempWorkspace('jsonl-straddle');
  const file = path.join(dir, 'straddle.jsonl');
  // Line 1 pads the file so that line 2's 'é' (two bytes) starts on the last byte of the first 1 MiB read.
  const head = '{"a": "';
  const pad = (1 << 20) - (head.length + 3) - 1 - '{"a": "'.length;
  const line1 = `{"a": "${'x'.repeat(pad)}"}`;
  const parts = [Buffer.from(`${line1}\n{"a": "`), Buffer.from('é"}\n{"a": "ok"}\n{"a": "'), Buffer.from([0xff]), Buffer.from('"}\n')];
  const bytes = Buffer.concat(parts);
  assert.equal(bytes.indexOf(Buffer.from('é')), (1 << 20) - 1, 'the é straddles the first read');
  writeFileSync(file, bytes);
  await assert.rejects(readAll(file, [{ name: 'a', text: true }], 10), (e: unknown) => (e as Error).message === 'straddle.jsonl:4: not UTF-8 text (an invalid byte sequence); JSON Lines is UTF-8: save the file as UTF-8');
});

test('lineOfDataRow: the line a data row starts on, as the readers split the file (quoted line breaks, blank lines, CRLF, a lone CR in JSON Lines, a BOM)', async () => {
  const { lineOfDataRow } = await import('../../../core/dataset/dataRowLine');
  const ws = tempWorkspace('row-lines');
  const csv = path.join(ws, 'notes.csv');
  writeFileSync(csv, '\ufeffid,note,y\r\n1,"two\r\nlines",0\r\n\r\n2,plain,1\n3,"a ""quoted"" word\nand\nmore",0\n4,last,1');
  assert.deepEqual([1, 2, 3, 4, 5].map((r) => lineOfDataRow(csv, 'csv', r)), [2, 5, 6, 9, undefined]);
  const jsonl = path.join(ws, 'rows.jsonl');
  writeFileSync(jsonl, '\ufeff{"a": 1}\r\n\n   \n{"a": 2}\r{"a": 3}\n{"a": 4}');
  assert.deepEqual([1, 2, 3, 4, 5].map((r) => lineOfDataRow(jsonl, 'jsonl', r)), [1, 4, 5, 6, undefined]);
  assert.equal(lineOfDataRow(path.join(ws, 'missing.csv'), 'csv', 1), undefined);
});

test('a dataset of another format is refused naming its extension; a .json file is told how JSON Lines is named', async () => {
  const ws = tempWorkspace('formats');
  for (const name of ['rows.json', 'rows.tsv', 'rows']) writeFileSync(path.join(ws, name), '{"a": 1}\n');
  await assert.rejects(openDataset(path.join(ws, 'rows.json'), 'rows.json'), /^DatasetError: rows\.json: unknown dataset format '\.json' \(expected \.csv, \.jsonl, \.ndjson or \.parquet\): a JSON Lines file .* is read when named \.jsonl or \.ndjson$/);
  await assert.rejects(openDataset(path.join(ws, 'rows.tsv'), 'rows.tsv'), /^DatasetError: rows\.tsv: unknown dataset format '\.tsv' \(expected \.csv, \.jsonl, \.ndjson or \.parquet\)$/);
  await assert.rejects(openDataset(path.join(ws, 'rows'), 'rows'), /unknown dataset format '\(no extension\)'/);
});

test("CSV read as pandas' read_csv reads it: a row short of fields has missing cells, a quote inside an unquoted field is text, a line of spaces is blank, a name given again gets .1", async () => {
  const dir = tempWorkspace('csv-pandas');
  const file = path.join(dir, 'data.csv');
  // A short row (the last one, whose trailing empty field a spreadsheet left out), a height in
  // feet and inches, a line holding only spaces and one only a tab, between records.
  writeFileSync(file, `x,height,y\n1,5'10",0\n  \n2,"6'",1\n\t\r\n3,6' 1",1\n4\n`);
  for (const batch of [1, 2, 10]) {
    const r = await readAll(file, [{ name: 'x' }, { name: 'height', text: true }, { name: 'y', missing: true }], batch);
    assert.deepEqual(r.numbers, [[1, 2, 3, 4], [0, 1, 1, NaN]], `batch ${batch}`);
    assert.deepEqual(r.texts, [[`5'10"`, "6'", `6' 1"`, '']], `batch ${batch}`);
  }
  // Where the short row's cell must hold a value: said at its line, with the column.
  await assert.rejects(readAll(file, [{ name: 'y' }], 10), /data\.csv:7: column 'y' is missing: the row has 1 of the header's 3 fields \(expected a number\)/);
  // A row with more fields than the header stays an error (pandas: "Expected 3 fields in line 4, saw 4").
  writeFileSync(file, 'x,y\n1,2\n3,4,5\n');
  await assert.rejects(readAll(file, [{ name: 'x' }], 10), /data\.csv:3: expected 2 fields as in the header, found 3/);
  // Duplicate names as pandas' C parser renames them: the suffix skips names the header has.
  writeFileSync(file, 'a,a,a.1,a,b\n1,2,3,4,5\n');
  const renamed = await readAll(file, [{ name: 'a' }, { name: 'a.1' }, { name: 'a.2' }, { name: 'a.3' }], 10);
  assert.deepEqual([renamed.columns, renamed.numbers], [['a', 'a.2', 'a.1', 'a.3', 'b'], [[1], [3], [2], [4]]]);
  // Lines of spaces across read chunks: a 4 MiB read may end inside one.
  const lines = ['k,v'];
  for (let i = 0; i < 400_000; i++) lines.push(i % 7 === 3 ? ' '.repeat(1 + (i % 5)) : `${i},${i % 2}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const big = await readAll(file, [{ name: 'k' }], 8192);
  const expected = Array.from({ length: 400_000 }, (_, i) => i).filter((i) => i % 7 !== 3);
  assert.equal(big.numbers[0]!.length, expected.length);
  assert.ok(big.numbers[0]!.every((v, i) => v === expected[i]), 'every record, in order');
});
