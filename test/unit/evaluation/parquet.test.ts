/**
 * Parquet datasets written by a real Parquet writer (hyparquet-writer, a devDependency): numbers of
 * each physical type read exactly, across row groups and batches; the codecs other writers use
 * (ZSTD, polars' default, from a committed file whose pages Debian's `zstd` compressed; GZIP and
 * BROTLI compressed here by Node's zlib); BOOLEAN columns; a missing column and nulls as errors
 * naming the row; an evaluation on the Parquet file giving what the same rows give as CSV, a
 * BOOLEAN target too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import * as path from 'node:path';
import { openDataset, type ColumnRequest } from '../../../core/dataset/dataset';
import { fileSha256 } from '../../../core/dataset/dataset';
import { evaluateModel } from '../../../core/evaluation/evaluate';
import { readSpans } from '../../../core/dataset/parquetReader';
import { tempWorkspace } from '../../support/tempWorkspace';
import { probabilitiesOnly } from './onnxTestModels';

type ColumnData = { name: string; data: unknown[]; type: 'DOUBLE' | 'FLOAT' | 'INT32' | 'INT64' | 'STRING' | 'BOOLEAN'; nullable?: boolean };
type Codec = { codec: 'GZIP' | 'BROTLI'; compress: (bytes: Uint8Array) => Uint8Array };

async function writeParquet(file: string, columnData: ColumnData[], rowGroupSize: number, codec?: Codec): Promise<void> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const compression = codec ? { codec: codec.codec, compressors: { [codec.codec]: codec.compress } } : {};
  writeFileSync(file, Buffer.from(parquetWriteBuffer({ columnData: columnData as never, rowGroupSize, ...compression })));
}

/** The codec each column chunk of a file declares, from its footer. */
async function codecsOf(file: string): Promise<string[]> {
  const { asyncBufferFromFile, parquetMetadataAsync } = await import('hyparquet');
  const metadata = await parquetMetadataAsync(await asyncBufferFromFile(file));
  return [...new Set(metadata.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data!.codec)))];
}

async function readAll(file: string, request: ColumnRequest[], batchSize: number) {
  const reader = await openDataset(file, path.basename(file));
  const numbers: number[][] = request.filter((r) => !r.text).map(() => []);
  const texts: string[][] = request.filter((r) => r.text).map(() => []);
  const sizes: number[] = [];
  for await (const b of reader.batches(request, batchSize)) {
    sizes.push(b.rows);
    b.numbers.forEach((col, i) => numbers[i]!.push(...col.subarray(0, b.rows)));
    b.texts.forEach((col, i) => texts[i]!.push(...col.slice(0, b.rows)));
  }
  return { reader, numbers, texts, sizes };
}

const ROWS = 250;
const doubles = Array.from({ length: ROWS }, (_, i) => (i * 0.37 - 40) / 3);
const floats = Array.from({ length: ROWS }, (_, i) => Math.fround(i / 7));
const ints = Array.from({ length: ROWS }, (_, i) => i * 1000 - 90_000);
const bigs = Array.from({ length: ROWS }, (_, i) => BigInt(i) * 4_000_000_000n);
const groups = Array.from({ length: ROWS }, (_, i) => (i % 3 === 0 ? 'north' : 'south'));

test('Parquet: DOUBLE, FLOAT, INT32, INT64 and STRING columns across row groups and batches', async () => {
  const file = path.join(tempWorkspace('parquet'), 'data.parquet');
  await writeParquet(
    file,
    [
      { name: 'd', data: doubles, type: 'DOUBLE' },
      { name: 'f', data: floats, type: 'FLOAT' },
      { name: 'i', data: ints, type: 'INT32' },
      { name: 'big', data: bigs, type: 'INT64' },
      { name: 'group', data: groups, type: 'STRING' },
    ],
    100,
  );
  const r = await readAll(file, [{ name: 'd' }, { name: 'group', text: true }, { name: 'f' }, { name: 'i' }, { name: 'big' }, { name: 'i', text: true }], 64);
  assert.equal(r.reader.format, 'parquet');
  assert.equal(r.reader.rows, ROWS, 'the footer states the rows');
  assert.equal(r.reader.hashesFile, false);
  assert.deepEqual(r.reader.columns, ['d', 'f', 'i', 'big', 'group']);
  assert.deepEqual(r.sizes, [64, 64, 64, 58]);
  assert.deepEqual(r.numbers, [doubles, floats, ints, bigs.map(Number)]);
  assert.deepEqual(r.texts, [groups, ints.map(String)]);
});

test('Parquet: a missing column names the columns there are; a null is an error in a numeric column and empty text in a text column', async () => {
  const file = path.join(tempWorkspace('parquet'), 'nulls.parquet');
  const withNull = doubles.map((v, i) => (i === 130 ? null : v));
  const textWithNull = groups.map((v, i) => (i === 2 ? null : v));
  await writeParquet(
    file,
    [
      { name: 'd', data: withNull, type: 'DOUBLE', nullable: true },
      { name: 'group', data: textWithNull, type: 'STRING', nullable: true },
    ],
    100,
  );
  await assert.rejects(readAll(file, [{ name: 'x' }], 64), /nulls\.parquet: no column 'x' \(the columns are: d, group\)/);
  const text = await readAll(file, [{ name: 'group', text: true }], 64);
  assert.deepEqual(text.texts[0], groups.map((v, i) => (i === 2 ? '' : v)));
  await assert.rejects(readAll(file, [{ name: 'd' }], 64), /nulls\.parquet row 131: column 'd' is null \(expected a number\)/);
});

test('Parquet: a STRING column of numbers reads as numbers; a boolean spelt as text in it is refused (pandas keeps strings, scikit-learn cannot convert \'True\')', async () => {
  const file = path.join(tempWorkspace('parquet'), 'texts.parquet');
  await writeParquet(file, [{ name: 's', data: ['1.5', '2', 'True'], type: 'STRING' }], 100);
  await assert.rejects(readAll(file, [{ name: 's' }], 2), /texts\.parquet row 3: column 's' is the text 'True' \(expected a number; pandas keeps a string as text/);
  await writeParquet(file, [{ name: 's', data: ['1.5', '2'], type: 'STRING' }], 100);
  assert.deepEqual((await readAll(file, [{ name: 's' }], 2)).numbers, [[1.5, 2]]);
});

/** Two features a, b and a 0/1 target y (a + b/2 + noise(i) > 0) over ROWS rows, and a binary model over [a, b] written in `ws`. */
function binaryCase(ws: string, noise: (i: number) => number = () => 0) {
  const a = Array.from({ length: ROWS }, (_, i) => ((i * 37) % 101) / 10 - 5);
  const b = Array.from({ length: ROWS }, (_, i) => ((i * 53) % 97) / 10 - 4.5);
  const y = a.map((v, i) => (v + 0.5 * b[i]! + noise(i) > 0 ? 1 : 0));
  const model = path.join(ws, 'model.onnx');
  writeFileSync(model, probabilitiesOnly({ weights: [-1, 1, -0.5, 0.5], bias: [0.1, -0.1], features: 2, classes: 2 }));
  return { a, b, y, model };
}

test('slices of a Parquet STRING column keep an empty string apart from a null (read_parquet: \'\' is text, None is NaN)', async () => {
  const ws = tempWorkspace('parquet-slices');
  const { a, b, y, model } = binaryCase(ws);
  const file = path.join(ws, 'data.parquet');
  const g = a.map((_, i) => [null, '', 'NA', 'x'][i % 4]!);
  await writeParquet(
    file,
    [
      { name: 'a', data: a, type: 'DOUBLE' },
      { name: 'b', data: b, type: 'DOUBLE' },
      { name: 'g', data: g, type: 'STRING', nullable: true },
      { name: 'y', data: y, type: 'INT32' },
    ],
    100,
  );
  const r = await evaluateModel({ model, data: file, target: 'y', features: ['a', 'b'], sliceBy: 'g', workspace: ws });
  const count = (k: number) => g.filter((_, i) => i % 4 === k).length;
  assert.deepEqual(r.slices!.values.map((v) => [v.value, v.rows]), [['', count(1)], ['NA', count(2)], ['x', count(3)], ['(missing)', count(0)]]);
});

test('an evaluation on a Parquet file: the metrics of the same rows as CSV, the file hashed whole', async () => {
  const ws = tempWorkspace('parquet-eval');
  const { a, b, y, model } = binaryCase(ws, (i) => (((i * 7) % 11) - 5) / 3);
  const parquet = path.join(ws, 'data.parquet');
  await writeParquet(
    parquet,
    [
      { name: 'a', data: a, type: 'DOUBLE' },
      { name: 'b', data: b, type: 'DOUBLE' },
      { name: 'group', data: groups, type: 'STRING' },
      { name: 'y', data: y, type: 'INT32' },
    ],
    100,
  );
  const csv = path.join(ws, 'data.csv');
  writeFileSync(csv, `a,b,group,y\n${a.map((v, i) => `${v},${b[i]},${groups[i]},${y[i]}`).join('\n')}\n`);
  const fromParquet = await evaluateModel({ model, data: parquet, target: 'y', features: ['a', 'b'], sliceBy: 'group', workspace: ws, batchSize: 64 });
  const fromCsv = await evaluateModel({ model, data: csv, target: 'y', features: ['a', 'b'], sliceBy: 'group', workspace: ws, batchSize: 64 });
  assert.equal(fromParquet.rows, ROWS);
  assert.equal(fromParquet.batches, 4);
  assert.equal(fromParquet.dataset.format, 'parquet');
  assert.equal(fromParquet.dataset.sha256, await fileSha256(parquet));
  assert.equal(fromCsv.dataset.sha256, await fileSha256(csv));
  assert.deepEqual(fromParquet.metrics, fromCsv.metrics);
  assert.deepEqual(fromParquet.confusion_matrix, fromCsv.confusion_matrix);
  assert.deepEqual(fromParquet.slices, fromCsv.slices);
});

test("Parquet: a string column of codes ('1', '1.0', '01', '+1') slices as text, as pandas.read_parquet keeps it; a number column by number", async () => {
  const ws = tempWorkspace('parquet-slices');
  const { a, b, y, model } = binaryCase(ws);
  const spellings = ['1', '1.0', '01', '+1', '2'];
  const codes = a.map((_, i) => spellings[i % 5]!);
  const parquet = path.join(ws, 'data.parquet');
  await writeParquet(
    parquet,
    [
      { name: 'a', data: a, type: 'DOUBLE' },
      { name: 'b', data: b, type: 'DOUBLE' },
      { name: 'code', data: codes, type: 'STRING' },
      { name: 'n', data: codes.map(Number), type: 'DOUBLE' },
      { name: 'y', data: y, type: 'INT32' },
    ],
    100,
  );
  const byText = await evaluateModel({ model, data: parquet, target: 'y', features: ['a', 'b'], sliceBy: 'code', workspace: ws });
  assert.deepEqual(byText.slices!.values.map((v) => [v.value, v.rows]), [['+1', 50], ['01', 50], ['1', 50], ['1.0', 50], ['2', 50]]);
  const byNumber = await evaluateModel({ model, data: parquet, target: 'y', features: ['a', 'b'], sliceBy: 'n', workspace: ws });
  assert.deepEqual(byNumber.slices!.values.map((v) => [v.value, v.rows]), [['1', 200], ['2', 50]]);
  // A DECIMAL stored as bytes is a number to pandas (and to hyparquet): sliced by number, 9 before 10.
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const decimals = path.join(ws, 'decimal.parquet');
  writeFileSync(
    decimals,
    Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'a', data: a },
          { name: 'b', data: b },
          { name: 'price', data: a.map((_, i) => (i % 2 ? 9 : 10)) },
          { name: 'y', data: y },
        ] as never,
        schema: [
          { name: 'root', num_children: 4 },
          { name: 'a', type: 'DOUBLE' },
          { name: 'b', type: 'DOUBLE' },
          { name: 'price', type: 'BYTE_ARRAY', converted_type: 'DECIMAL', scale: 0, precision: 4 },
          { name: 'y', type: 'INT32' },
        ] as never,
      }),
    ),
  );
  const byDecimal = await evaluateModel({ model, data: decimals, target: 'y', features: ['a', 'b'], sliceBy: 'price', workspace: ws });
  assert.deepEqual(byDecimal.slices!.values.map((v) => [v.value, v.rows]), [['9', 125], ['10', 125]]);
});

test('Parquet: ZSTD pages (polars\' default), compressed by Debian\'s zstd: every value, BOOLEAN as 1/0 and as True/False text', async () => {
  const file = path.join(__dirname, '../../fixtures/evaluation/zstd.parquet');
  assert.deepEqual(await codecsOf(file), ['ZSTD']);
  const n = 300;
  const x = Array.from({ length: n }, (_, i) => (i * 0.37 - 40) / 3);
  const big = Array.from({ length: n }, (_, i) => i * 1000 - 90000);
  const flag = Array.from({ length: n }, (_, i) => i % 3 === 0);
  const r = await readAll(file, [{ name: 'x' }, { name: 'n' }, { name: 'flag' }, { name: 'flag', text: true }, { name: 'group', text: true }], 100);
  assert.deepEqual(r.sizes, [100, 100, 100]); // groups of 128: batches span them
  assert.deepEqual(r.numbers, [x, big, flag.map((f) => (f ? 1 : 0))]);
  assert.deepEqual(r.texts, [flag.map((f) => (f ? 'True' : 'False')), flag.map((f) => (f ? 'north' : 'south'))]);
});

for (const codec of [
  { codec: 'GZIP', compress: (b: Uint8Array) => new Uint8Array(gzipSync(b)) },
  { codec: 'BROTLI', compress: (b: Uint8Array) => new Uint8Array(brotliCompressSync(b)) },
] as const) {
  test(`Parquet: ${codec.codec} pages compressed by Node's zlib read exactly`, async () => {
    const file = path.join(tempWorkspace('parquet'), `${codec.codec}.parquet`);
    await writeParquet(file, [{ name: 'd', data: doubles, type: 'DOUBLE' }, { name: 'group', data: groups, type: 'STRING' }], 100, codec);
    assert.deepEqual(await codecsOf(file), [codec.codec]);
    const r = await readAll(file, [{ name: 'd' }, { name: 'group', text: true }], 64);
    assert.deepEqual(r.numbers, [doubles]);
    assert.deepEqual(r.texts, [groups]);
  });
}

test('Parquet: a NaN in a DOUBLE column is an error naming the row, and left out (NaN) where missing cells are allowed', async () => {
  const file = path.join(tempWorkspace('parquet'), 'nan.parquet');
  await writeParquet(file, [{ name: 'd', data: doubles.map((v, i) => (i === 170 ? NaN : v)), type: 'DOUBLE' }], 100);
  await assert.rejects(readAll(file, [{ name: 'd' }], 64), /nan\.parquet row 171: column 'd' is NaN \(expected a finite number\)/);
  const r = await readAll(file, [{ name: 'd', missing: true }], 64);
  assert.ok(Number.isNaN(r.numbers[0]![170]));
  assert.equal(r.numbers[0]![169], doubles[169]);
});

test('an evaluation with a BOOLEAN target (a pandas bool column): the metrics of the same rows as a CSV of True/False and of 0/1', async () => {
  const ws = tempWorkspace('parquet-bool');
  const a = Array.from({ length: ROWS }, (_, i) => ((i * 37) % 101) / 10 - 5);
  const b = Array.from({ length: ROWS }, (_, i) => ((i * 53) % 97) / 10 - 4.5);
  const y = a.map((v, i) => v + 0.5 * b[i]! + (((i * 7) % 11) - 5) / 3 > 0);
  const model = path.join(ws, 'model.onnx');
  writeFileSync(model, probabilitiesOnly({ weights: [-1, 1, -0.5, 0.5], bias: [0.1, -0.1], features: 2, classes: 2 }));
  const parquet = path.join(ws, 'data.parquet');
  await writeParquet(parquet, [{ name: 'a', data: a, type: 'DOUBLE' }, { name: 'b', data: b, type: 'DOUBLE' }, { name: 'y', data: y, type: 'BOOLEAN' }], 100);
  const pandasCsv = path.join(ws, 'bool.csv');
  writeFileSync(pandasCsv, `a,b,y\n${a.map((v, i) => `${v},${b[i]},${y[i] ? 'True' : 'False'}`).join('\n')}\n`);
  const numericCsv = path.join(ws, 'numeric.csv');
  writeFileSync(numericCsv, `a,b,y\n${a.map((v, i) => `${v},${b[i]},${y[i] ? 1 : 0}`).join('\n')}\n`);
  const run = (data: string) => evaluateModel({ model, data, target: 'y', workspace: ws, batchSize: 64 });
  const [fromParquet, fromPandas, fromNumbers] = [await run(parquet), await run(pandasCsv), await run(numericCsv)];
  assert.equal(fromNumbers.metrics.accuracy! > 0.5, true);
  assert.deepEqual(fromParquet.metrics, fromNumbers.metrics);
  assert.deepEqual(fromPandas.metrics, fromNumbers.metrics);
  assert.deepEqual(fromParquet.confusion_matrix, fromNumbers.confusion_matrix);
});

test('Parquet: row groups are read whole, small consecutive ones together until they hold a batch', async () => {
  assert.deepEqual(readSpans([1_000_000], 8192), [1_000_000]);
  assert.deepEqual(readSpans([100, 100, 100, 100, 100], 250), [300, 200]);
  assert.deepEqual(readSpans(Array.from({ length: 10 }, () => 1), 4), [4, 4, 2]);
  assert.deepEqual(readSpans([0, 5, 0], 4), [5]);
  // Many one-row groups read right across the spans.
  const file = path.join(tempWorkspace('parquet'), 'tiny.parquet');
  await writeParquet(file, [{ name: 'd', data: doubles, type: 'DOUBLE' }, { name: 'group', data: groups, type: 'STRING' }], 1);
  const r = await readAll(file, [{ name: 'd' }, { name: 'group', text: true }], 64);
  assert.deepEqual(r.sizes, [64, 64, 64, 58]);
  assert.deepEqual(r.numbers, [doubles]);
  assert.deepEqual(r.texts, [groups]);
});

test('Parquet: an empty file, one that is not Parquet, one cut short and a damaged footer are each said so', async () => {
  const ws = tempWorkspace('parquet-bad');
  const good = path.join(ws, 'good.parquet');
  await writeParquet(good, [{ name: 'd', data: doubles, type: 'DOUBLE' }], 100);
  const { readFileSync } = await import('node:fs');
  const bytes = readFileSync(good);
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty.parquet', new Uint8Array(0), /^empty\.parquet: an empty file, not Parquet$/],
    ['csv.parquet', Buffer.from('a,b\n1,2\n3,4\n'), /^csv\.parquet: not a Parquet file \(it does not start with Parquet's 'PAR1'\)$/],
    ['cut.parquet', bytes.subarray(0, bytes.length - 40), /^cut\.parquet: a Parquet file cut short \(no 'PAR1' at its end: the footer that describes its columns is missing\)$/],
  ];
  // The footer's length (the 4 bytes before the final PAR1) pointing past the file's start.
  const footer = Buffer.from(bytes);
  footer.writeUInt32LE(bytes.length * 2, bytes.length - 8);
  cases.push(['footer.parquet', footer, /^footer\.parquet: a Parquet file whose footer \(the metadata that describes its columns\) is damaged \(/]);
  for (const [name, data, message] of cases) {
    writeFileSync(path.join(ws, name), data);
    await assert.rejects(openDataset(path.join(ws, name), name), (e: unknown) => message.test((e as Error).message), name);
  }
});

test("Parquet as pd.read_parquet reads it: the index pandas stored is no column; DECIMAL values are the nearest doubles (float(Decimal)), past 2^53 too", async () => {
  const dir = tempWorkspace('parquet-pandas');
  const file = path.join(dir, 'data.parquet');
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  // As pyarrow writes a filtered frame: its index as `__index_level_0__`, named in the `pandas` metadata.
  const pandas = JSON.stringify({ index_columns: ['__index_level_0__', { kind: 'range', name: null, start: 0, stop: 3, step: 1 }], columns: [] });
  writeFileSync(file, Buffer.from(parquetWriteBuffer({
    columnData: [
      { name: 'a', data: [1, 2, 3], type: 'DOUBLE' },
      { name: '__index_level_0__', data: [17n, 4n, 99n], type: 'INT64' },
      { name: 'y', data: [0, 1, 0], type: 'DOUBLE' },
    ] as never,
    kvMetadata: [{ key: 'pandas', value: pandas }],
  })));
  const reader = await openDataset(file, 'data.parquet');
  assert.deepEqual(reader.columns, ['a', 'y'], "the index is the frame's index, not a column");
  // DECIMAL(38,10) and DECIMAL(18,6) (INT64 unscaled): values whose unscaled integer is past 2^53,
  // which one Number() then a division round twice.
  const texts = ['99999999.9999000000', '-951509745493.618366', '53309305.0471767006', '0.0000000001', '-12.5'];
  const unscaled38 = ['999999999999000000', '-9515097454936183660000', '533093050471767006', '1', '-125000000000'].map(BigInt);
  const unscaled18 = [99999999999900n, -951509745493618366n, 53309305047177n, 0n, -12500000n];
  const decimal = (name: string, precision: number, scale: number, type: 'FIXED_LEN_BYTE_ARRAY' | 'INT64') => ({ name, type, type_length: type === 'INT64' ? undefined : 16, repetition_type: 'REQUIRED', converted_type: 'DECIMAL', precision, scale });
  writeFileSync(file, Buffer.from(parquetWriteBuffer({
    columnData: [
      { name: 'd38', data: unscaled38 },
      { name: 'd18', data: unscaled18 },
    ] as never,
    schema: [{ name: 'root', num_children: 2 }, decimal('d38', 38, 10, 'FIXED_LEN_BYTE_ARRAY'), decimal('d18', 18, 6, 'INT64')] as never,
  })));
  const r = await readAll(file, [{ name: 'd38' }, { name: 'd18' }], 2);
  assert.deepEqual(r.numbers[0], texts.map(Number), 'DECIMAL(38,10): the double nearest each decimal');
  assert.deepEqual(r.numbers[1], ['99999999.999900', '-951509745493.618366', '53309305.047177', '0', '-12.5'].map(Number), 'DECIMAL(18,6)');
});

test('Parquet: a damaged page header is an error naming the column, the process goes on', async () => {
  const dir = tempWorkspace('parquet-damaged');
  const file = path.join(dir, 'data.parquet');
  await writeParquet(file, [
    { name: 'a', data: Array.from({ length: ROWS }, (_, i) => i), type: 'DOUBLE' },
    { name: 'b', data: Array.from({ length: ROWS }, (_, i) => i * 2), type: 'DOUBLE' },
  ], ROWS);
  const { asyncBufferFromFile, parquetMetadataAsync } = await import('hyparquet');
  const metadata = await parquetMetadataAsync(await asyncBufferFromFile(file));
  const chunk = metadata.row_groups[0]!.columns[1]!.meta_data!;
  const at = Number(chunk.dictionary_page_offset ?? chunk.data_page_offset);
  const bytes = readFileSync(file);
  bytes.fill(0xff, at, at + 8); // b's first page header
  writeFileSync(file, bytes);
  await assert.rejects(readAll(file, [{ name: 'a' }, { name: 'b' }], 100), /data\.parquet: column 'b', rows 1–250: a page header at byte \d+ does not parse .*: the file is damaged there/);
  assert.deepEqual((await readAll(file, [{ name: 'a' }], 100)).numbers[0]!.slice(0, 3), [0, 1, 2], 'the undamaged column reads');
});

test('Parquet: a damaged page whose run of levels says 200 million values is an error naming the column, not the end of the process', async () => {
  const dir = tempWorkspace('parquet-run');
  const file = path.join(dir, 'data.parquet');
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  writeFileSync(file, Buffer.from(parquetWriteBuffer({
    columnData: [
      { name: 'a', data: Array.from({ length: ROWS }, (_, i) => i), type: 'DOUBLE' },
      { name: 'b', data: Array.from({ length: ROWS }, (_, i) => (i % 5 === 0 ? null : i)), type: 'DOUBLE', nullable: true },
    ] as never,
    codec: 'UNCOMPRESSED',
  })));
  const { asyncBufferFromFile, parquetMetadataAsync } = await import('hyparquet');
  const { parquetHeader } = (await import('hyparquet/src/column.js')) as { parquetHeader: (r: { view: DataView; offset: number }) => unknown };
  const metadata = await parquetMetadataAsync(await asyncBufferFromFile(file));
  const chunk = metadata.row_groups[0]!.columns[1]!.meta_data!;
  const bytes = readFileSync(file);
  const at = Number(chunk.data_page_offset);
  const reader = { view: new DataView(bytes.buffer, bytes.byteOffset + at, bytes.length - at), offset: 0 };
  parquetHeader(reader);
  // hyparquet-writer writes a data page v2: the definition levels come first (their length is in
  // the header). Their first run's header made an RLE run of 200,000,000.
  const body = at + reader.offset;
  bytes.set([0x80, 0x88, 0xde, 0xbe, 0x01], body);
  writeFileSync(file, bytes);
  await assert.rejects(readAll(file, [{ name: 'b', missing: true }], 100), /data\.parquet: column 'b', rows 1–250: the page at byte \d+: a run of 200000000 values where 250 are left: the file is damaged there/);
  assert.equal((await readAll(file, [{ name: 'a' }], 100)).numbers[0]!.length, ROWS, 'the other column reads');
});

test('Parquet dates, timestamps and times read as text as pandas prints them (slice labels), nanoseconds and UTC kept', async () => {
  const ws = tempWorkspace('parquet-dates');
  const file = path.join(ws, 'dates.parquet');
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  // Days and instants since the epoch; the expected text is pandas 1.5.3's str() of what pyarrow
  // gives it: datetime.date, Timestamp (tz-naive for a legacy converted type, UTC for a logical type
  // adjusted to UTC), datetime.time.
  const nanos = [0n, 1_577_836_800_123_000_000n, 1_577_836_800_123_456_789n, -1n];
  const schema = [
    { name: 'root', num_children: 5 },
    { name: 'day', type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' }, repetition_type: 'REQUIRED' },
    { name: 'legacy_ms', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'REQUIRED' },
    { name: 'utc_us', type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' }, repetition_type: 'REQUIRED' },
    { name: 'local_ns', type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'NANOS' }, repetition_type: 'REQUIRED' },
    { name: 'clock', type: 'INT64', logical_type: { type: 'TIME', isAdjustedToUTC: false, unit: 'MICROS' }, repetition_type: 'REQUIRED' },
  ];
  const columnData = [
    { name: 'day', data: [0, 18_262, 18_263, -1] },
    { name: 'legacy_ms', data: nanos.map((n) => n / 1_000_000n - (n < 0n ? 1n : 0n)) },
    { name: 'utc_us', data: nanos.map((n) => n / 1000n - (n < 0n ? 1n : 0n)) },
    { name: 'local_ns', data: nanos },
    { name: 'clock', data: [0n, 45_296_000_000n, 45_296_789_000n, 1n] },
  ];
  writeFileSync(file, Buffer.from(parquetWriteBuffer({ columnData: columnData as never, schema: schema as never })));
  const request = ['day', 'legacy_ms', 'utc_us', 'local_ns', 'clock'].map((name) => ({ name, text: true }));
  const { texts } = await readAll(file, request, 3);
  assert.deepEqual(texts, [
    ['1970-01-01', '2020-01-01', '2020-01-02', '1969-12-31'],
    ['1970-01-01 00:00:00', '2020-01-01 00:00:00.123000', '2020-01-01 00:00:00.123000', '1969-12-31 23:59:59.999000'],
    ['1970-01-01 00:00:00+00:00', '2020-01-01 00:00:00.123000+00:00', '2020-01-01 00:00:00.123456+00:00', '1969-12-31 23:59:59.999999+00:00'],
    ['1970-01-01 00:00:00', '2020-01-01 00:00:00.123000', '2020-01-01 00:00:00.123456789', '1969-12-31 23:59:59.999999999'],
    ['00:00:00', '12:34:56', '12:34:56.789000', '00:00:00.000001'],
  ]);
  // As features they are no numbers, as scikit-learn cannot take pandas' dates and times.
  await assert.rejects(readAll(file, [{ name: 'day' }], 3), /row 1: column 'day' is a date \(expected a number\)/);
  await assert.rejects(readAll(file, [{ name: 'clock' }], 3), /column 'clock'/);
});

test("Parquet timestamps of a tz-aware pandas column print in the zone pandas stored (its metadata), with that zone's offset", async () => {
  const ws = tempWorkspace('parquet-zones');
  const file = path.join(ws, 'zones.parquet');
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const nanos = [0n, 1_577_836_800_123_000_000n, 1_593_561_600_000_000_001n, -1n];
  const adjusted = { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'NANOS' };
  const schema = [
    { name: 'root', num_children: 3 },
    { name: 'paris', type: 'INT64', logical_type: adjusted, repetition_type: 'REQUIRED' },
    { name: 'india', type: 'INT64', logical_type: adjusted, repetition_type: 'REQUIRED' },
    { name: 'utc', type: 'INT64', logical_type: adjusted, repetition_type: 'REQUIRED' },
  ];
  // As pyarrow writes a DataFrame's tz-aware columns: the zone in the `pandas` metadata.
  const zone = (name: string, timezone: string) => ({ name, field_name: name, pandas_type: 'datetimetz', numpy_type: 'datetime64[ns]', metadata: { timezone } });
  const pandas = JSON.stringify({ index_columns: [], columns: [zone('paris', 'Europe/Paris'), zone('india', '+05:30')] });
  const columnData = ['paris', 'india', 'utc'].map((name) => ({ name, data: nanos }));
  writeFileSync(file, Buffer.from(parquetWriteBuffer({ columnData: columnData as never, schema: schema as never, kvMetadata: [{ key: 'pandas', value: pandas }] })));
  const { texts } = await readAll(file, ['paris', 'india', 'utc'].map((name) => ({ name, text: true })), 3);
  // pandas 1.5.3: str(pd.Timestamp(ns, tz='UTC').tz_convert(zone)).
  assert.deepEqual(texts, [
    ['1970-01-01 01:00:00+01:00', '2020-01-01 01:00:00.123000+01:00', '2020-07-01 02:00:00.000000001+02:00', '1970-01-01 00:59:59.999999999+01:00'],
    ['1970-01-01 05:30:00+05:30', '2020-01-01 05:30:00.123000+05:30', '2020-07-01 05:30:00.000000001+05:30', '1970-01-01 05:29:59.999999999+05:30'],
    ['1970-01-01 00:00:00+00:00', '2020-01-01 00:00:00.123000+00:00', '2020-07-01 00:00:00.000000001+00:00', '1969-12-31 23:59:59.999999999+00:00'],
  ]);
});
