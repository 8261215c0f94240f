/**
 * A Parquet file's pages checked before hyparquet decodes them, so that a damaged file is an error
 * naming its column, never the end of the process.
 *
 * hyparquet trusts what a page says: it sizes its arrays by a header's value count, and it writes
 * each run of the RLE/bit-packed hybrid encoding (the definition and repetition levels, dictionary
 * indices, RLE booleans) as long as the run's header says, past the end of its array. A damaged page
 * whose run says 170 million values grows a JavaScript array past V8's limit, which aborts the whole
 * process (not an exception: the extension host or the CLI would die with it). So, for the columns a
 * read is about to decode, every page header is read and checked (it parses; the page lies inside
 * its column chunk; its value count is within the chunk's), and every run of those encodings is
 * walked (run headers only) and must stay within the page's value count. Compressed pages are
 * decompressed for it, with the codec hyparquet then uses (a second decompression of the pages read).
 */
import type { ColumnChunk, Compressors, FileMetaData, PageHeader, SchemaElement } from 'hyparquet';
import { DatasetError } from './dataset';

/** What is read of the file: hyparquet's AsyncBuffer. */
export interface PageSource {
  file: { byteLength: number; slice(start: number, end?: number): ArrayBuffer | Promise<ArrayBuffer> };
  metadata: FileMetaData;
  compressors: Compressors;
}

/** How far past a page's values a run may go (padding); a damaged run goes millions past. */
const RUN_SLACK = 4096;

/** The most values a column chunk may say it holds: V8's largest array (a page of pyarrow's holds ~1M at most). */
const VALUES_LIMIT = 2 ** 27;

type HeaderReader = (reader: { view: DataView; offset: number }) => PageHeader;
type Decompress = (bytes: Uint8Array, size: number, codec: string, compressors: Compressors) => Uint8Array;

/**
 * Checks the pages of the named top-level columns in the row groups holding rows [start, start +
 * rows); throws a DatasetError naming the column and rows at the first damaged one.
 */
export async function checkPages(source: PageSource, names: readonly string[], start: number, rows: number, displayName: string): Promise<void> {
  const { parquetHeader } = (await import('hyparquet/src/column.js')) as { parquetHeader: HeaderReader };
  const { decompressPage } = (await import('hyparquet/src/datapage.js')) as { decompressPage: Decompress };
  const wanted = new Set(names);
  const leaves = topLevelLeaves(source.metadata.schema);
  let groupStart = 0;
  for (const group of source.metadata.row_groups) {
    const groupRows = Number(group.num_rows);
    const first = groupStart;
    groupStart += groupRows;
    if (first >= start + rows || groupStart <= start) continue;
    for (const chunk of group.columns) {
      const name = chunk.meta_data?.path_in_schema[0];
      if (name === undefined || !wanted.has(name)) continue;
      const fail = (what: string) => new DatasetError(`${displayName}: column '${name}', rows ${first + 1}–${groupStart}: ${what}: the file is damaged there`);
      // Levels are known for a top-level leaf (a nested column's pages are checked by their headers only).
      const leaf = chunk.meta_data!.path_in_schema.length === 1 ? leaves.get(name) : undefined;
      await checkChunk(source, chunk, leaf, parquetHeader, decompressPage, fail);
    }
  }
}

async function checkChunk(source: PageSource, chunk: ColumnChunk, leaf: SchemaElement | undefined, parquetHeader: HeaderReader, decompressPage: Decompress, fail: (what: string) => DatasetError): Promise<void> {
  const meta = chunk.meta_data!;
  const chunkValues = Number(meta.num_values);
  const begin = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
  const end = begin + Number(meta.total_compressed_size);
  if (!(begin >= 0 && end <= source.file.byteLength && chunkValues >= 0 && chunkValues <= VALUES_LIMIT)) {
    throw fail(`its column chunk's entry in the footer is impossible (bytes ${begin}–${end} of ${source.file.byteLength}, ${chunkValues} values)`);
  }
  const bytes = new Uint8Array(await source.file.slice(begin, end));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const maxRep = leaf?.repetition_type === 'REPEATED' ? 1 : 0;
  const maxDef = leaf?.repetition_type === 'OPTIONAL' || maxRep ? 1 : 0;
  for (let at = 0; at < bytes.length; ) {
    const pageAt = begin + at;
    const reader = { view, offset: at };
    let header: PageHeader;
    try {
      header = parquetHeader(reader);
    } catch (e) {
      throw fail(`a page header at byte ${pageAt} does not parse (${(e as Error).message})`);
    }
    const size = header.compressed_page_size;
    const bodyStart = reader.offset;
    if (!(size >= 0) || bodyStart + size > bytes.length) throw fail(`the page at byte ${pageAt} runs past its column chunk`);
    const v1 = header.data_page_header;
    const v2 = header.data_page_header_v2;
    const count = v1?.num_values ?? v2?.num_values ?? header.dictionary_page_header?.num_values;
    if (count !== undefined && !(count >= 0 && count <= chunkValues)) throw fail(`the page at byte ${pageAt} says it holds ${count} values, more than its column chunk's ${chunkValues}`);
    const body = bytes.subarray(bodyStart, bodyStart + size);
    at = bodyStart + size;
    if (!leaf || (!v1 && !v2)) continue;
    try {
      if (v1) {
        const page = decompressPage(body, header.uncompressed_page_size, meta.codec, source.compressors);
        const r = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
        if (maxRep) runs(r, undefined, 1, v1.num_values);
        if (maxDef) runs(r, undefined, 1, v1.num_values);
        values(r, v1.encoding, leaf.type, v1.num_values);
      } else if (v2) {
        const levels = v2.repetition_levels_byte_length + v2.definition_levels_byte_length;
        const r = { view: new DataView(body.buffer, body.byteOffset, body.byteLength), offset: 0 };
        if (maxRep) runs(r, v2.repetition_levels_byte_length, 1, v2.num_values);
        r.offset = v2.repetition_levels_byte_length;
        if (maxDef) runs(r, v2.definition_levels_byte_length, 1, v2.num_values);
        const rest = header.uncompressed_page_size - levels;
        let page: Uint8Array = body.subarray(levels);
        if (v2.is_compressed !== false && rest) page = decompressPage(page, rest, meta.codec, source.compressors);
        values({ view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 }, v2.encoding, leaf.type, v2.num_values - v2.num_nulls);
      }
    } catch (e) {
      throw fail(`the page at byte ${pageAt}: ${(e as Error).message}`);
    }
  }
}

/** The runs of a page's values where they are RLE/bit-packed (dictionary indices, RLE booleans), as hyparquet reads them. */
function values(r: { view: DataView; offset: number }, encoding: string, type: string | undefined, count: number): void {
  if (encoding === 'RLE' && type === 'BOOLEAN') runs(r, undefined, 1, count);
  else if (encoding === 'PLAIN_DICTIONARY' || encoding === 'RLE_DICTIONARY' || (encoding === 'RLE' && type !== 'BOOLEAN')) {
    if (r.offset >= r.view.byteLength) return;
    const width = r.view.getUint8(r.offset++);
    if (width > 32) throw new Error(`its dictionary indices are ${width} bits wide`);
    if (width) runs(r, r.view.byteLength - r.offset, width, count);
  }
}

/**
 * Walks the runs of an RLE/bit-packed hybrid stream (its byte length first, as 4 bytes, when
 * `length` is undefined) until they hold `count` values, as hyparquet's readRleBitPackedHybrid
 * does; throws when a run would take it well past `count`. Writers end a stream with a padded
 * run (DuckDB: a bit-packed run of 256 where 184 values are left), which hyparquet writes past its
 * array's end harmlessly: RUN_SLACK values past it are taken.
 */
function runs(r: { view: DataView; offset: number }, length: number | undefined, width: number, count: number): void {
  let size = length;
  if (size === undefined) {
    if (r.offset + 4 > r.view.byteLength) throw new Error('its levels are cut short');
    size = r.view.getUint32(r.offset, true);
    r.offset += 4;
  }
  const start = r.offset;
  let seen = 0;
  let at = start;
  // As hyparquet does: on until `count` values, past `size` bytes if the runs do not reach it there.
  while (seen < count) {
    let header = 0;
    let shift = 1;
    for (;;) {
      if (at >= r.view.byteLength) throw new Error('a run header is cut short');
      const b = r.view.getUint8(at++);
      header += (b & 0x7f) * shift;
      if (b < 0x80) break;
      shift *= 128;
      if (shift > 2 ** 35) throw new Error('a run header is too long');
    }
    const run = header % 2 === 1 ? Math.floor(header / 2) * 8 : Math.floor(header / 2);
    at += header % 2 === 1 ? Math.floor(header / 2) * width : Math.ceil(width / 8);
    if (seen + run > count + RUN_SLACK) throw new Error(`a run of ${run} values where ${count - seen} are left`);
    seen += run;
  }
  r.offset = start + size;
}

/** The top-level leaf columns of a file's schema (a flat list, depth first), by name. */
function topLevelLeaves(schema: readonly SchemaElement[]): Map<string, SchemaElement> {
  const leaves = new Map<string, SchemaElement>();
  // schema[0] is the root; its children follow, each with its own subtree.
  let i = 1;
  const skip = (at: number): number => {
    let next = at + 1;
    for (let c = 0; c < (schema[at]?.num_children ?? 0); c++) next = skip(next);
    return next;
  };
  for (let c = 0; c < (schema[0]?.num_children ?? 0) && i < schema.length; c++) {
    const el = schema[i]!;
    if (!el.num_children) leaves.set(el.name, el);
    i = skip(i);
  }
  return leaves;
}
