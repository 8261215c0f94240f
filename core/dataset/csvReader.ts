/**
 * CSV (RFC 4180) in batches, parsed from bytes: quoted fields with doubled quotes, commas and line
 * breaks inside quotes, CRLF or LF line ends, a UTF-8 byte order mark, a header row. Blank lines are
 * skipped. Numbers are read straight from the bytes (a decimal whose digits stay below 2^53 and
 * at most 22 decimal places is exact as one IEEE division, Clinger's fast path); anything else goes
 * through `Number`, so every value equals what `Number(text)` gives. Columns not asked for are
 * skipped without decoding. The file is read in 4 MiB reads into one reused buffer, and a batch's
 * arrays are refilled for the next batch.
 */
import { isUtf8 } from 'node:buffer';
import { open } from 'node:fs/promises';
import { DatasetError, booleanOf, checkColumns, emptyBatch, numberFromText, shownCell, trimBatch, type ByteSink, type ColumnRequest, type DatasetBatch, type DatasetReader } from './dataset';

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;
const SPACE = 32;
const EMPTY = new Uint8Array(1);
const TAB = 9;
const CHUNK = 4 << 20;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const EXACT = 2 ** 53;

/** Where the last `scanDecimal` stopped: the first byte after the number's sign, digits and point. */
let decimalEnd = 0;

/**
 * The plain decimal at `buf[pos]`, [+-]digits[.digits], read in the pass that finds its end: exact
 * while its digits stay below 2^53 and it has at most 22 decimals (one correctly rounded division,
 * Clinger's fast path). NaN when the bytes there are not one (no digit, too many); `decimalEnd` is
 * where it stops either way, and the caller checks that the field ends there. The bytes must be
 * followed by one that is not a digit (`parse` puts a 0 byte after the data), which ends the loops
 * without a bound check.
 */
function scanDecimal(buf: Uint8Array, pos: number): number {
  let c = buf[pos]!;
  let negative = false;
  if (c === 45 || c === 43) {
    negative = c === 45;
    c = buf[++pos]!;
  }
  let mantissa = 0;
  const digitsStart = pos;
  let d = c - 48;
  while ((d >>> 0) <= 9) {
    mantissa = mantissa * 10 + d;
    c = buf[++pos]!;
    d = c - 48;
  }
  let digits = pos - digitsStart;
  let scale = 0;
  if (c === 46) {
    c = buf[++pos]!;
    const fractionStart = pos;
    d = c - 48;
    while ((d >>> 0) <= 9) {
      mantissa = mantissa * 10 + d;
      c = buf[++pos]!;
      d = c - 48;
    }
    scale = pos - fractionStart;
    digits += scale;
  }
  decimalEnd = pos;
  if (digits === 0 || mantissa >= EXACT || scale > 22) return NaN;
  const v = scale === 0 ? mantissa : mantissa / POW10[scale]!;
  return negative ? -v : v;
}

/**
 * The first quote after `s`, the start of a quoted field's text, when no line break comes before it
 * (plainRecords); else −1. A doubled quote needs no check here: the byte after the first quote is then
 * a quote, not the comma or line end plainRecords requires.
 */
function plainQuotedEnd(buf: Uint8Array, s: number): number {
  let pos = s;
  let c = buf[pos]!;
  while (c !== QUOTE && c !== LF && c !== 0) c = buf[++pos]!;
  return c === QUOTE ? pos : -1;
}

/** A whole field `buf[s, e)` read by scanDecimal (`buf[e]` is not a digit: a quote, a line end or the 0 byte), or NaN. */
function fieldDecimal(buf: Uint8Array, s: number, e: number): number {
  const v = scanDecimal(buf, s);
  return decimalEnd === e ? v : NaN;
}

/**
 * The codes of one coded text column (ColumnRequest.coded): a hash table keyed on a field's bytes,
 * so that a field is decoded only the first time its bytes are seen. Different bytes with the same
 * text (quoted or not) share the text's code.
 */
class LabelCoder {
  /** The text of each code. */
  readonly labels: string[] = [];
  private readonly codeOfText = new Map<string, number>();
  /** Per byte key: where its bytes are in `keyBytes`, their length, its code. */
  private keyStart = new Int32Array(64);
  private keyLength = new Int32Array(64);
  private keyCode = new Int32Array(64);
  private keyHash = new Int32Array(64);
  private keys = 0;
  private keyBytes = new Uint8Array(1024);
  private used = 0;
  /** Open addressing: key index + 1, 0 when free. */
  private table = new Int32Array(128);
  /** The code of each one-byte field seen (0/1 targets, y/n flags), −1 until then: no hashing for those. */
  readonly oneByte = new Int32Array(256).fill(-1);

  /** The code of `buf[s, e)`, or −1 when the bytes are new (then `add` them). */
  find(buf: Uint8Array, s: number, e: number, h: number): number {
    const mask = this.table.length - 1;
    const length = e - s;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const k = this.table[slot]! - 1;
      if (k < 0) return -1;
      if (this.keyHash[k] !== h || this.keyLength[k] !== length) continue;
      const start = this.keyStart[k]!;
      let i = 0;
      while (i < length && this.keyBytes[start + i] === buf[s + i]) i++;
      if (i === length) return this.keyCode[k]!;
    }
  }

  add(buf: Uint8Array, s: number, e: number, h: number, text: string): number {
    let code = this.codeOfText.get(text);
    if (code === undefined) {
      code = this.labels.length;
      this.labels.push(text);
      this.codeOfText.set(text, code);
    }
    const length = e - s;
    if (this.used + length > this.keyBytes.length) this.keyBytes = grown(this.keyBytes, Math.max(this.keyBytes.length * 2, this.used + length));
    this.keyBytes.set(buf.subarray(s, e), this.used);
    if (this.keys === this.keyStart.length) {
      const size = this.keys * 2;
      this.keyStart = grown(this.keyStart, size);
      this.keyLength = grown(this.keyLength, size);
      this.keyCode = grown(this.keyCode, size);
      this.keyHash = grown(this.keyHash, size);
    }
    const k = this.keys++;
    this.keyStart[k] = this.used;
    this.keyLength[k] = length;
    this.keyCode[k] = code;
    this.keyHash[k] = h;
    this.used += length;
    if (this.keys * 2 > this.table.length) {
      this.table = new Int32Array(this.table.length * 2);
      for (let j = 0; j < this.keys; j++) this.insert(j);
    } else this.insert(k);
    return code;
  }

  private insert(k: number): void {
    const mask = this.table.length - 1;
    let slot = this.keyHash[k]! & mask;
    while (this.table[slot] !== 0) slot = (slot + 1) & mask;
    this.table[slot] = k + 1;
  }
}

function grown<T extends Uint8Array | Int32Array>(a: T, size: number): T {
  const bigger = new (a.constructor as new (n: number) => T)(size);
  bigger.set(a);
  return bigger;
}

/** FNV-1a of `buf[s, e)`. */
function fieldHash(buf: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h;
}

interface Header {
  names: string[];
  /** Byte offset where the data rows begin. */
  end: number;
  /** Line number of the first data row's line. */
  nextLine: number;
  bom: number;
}

class CsvParser {
  /** Column index → its array in the batch's numbers, or −1 when not read as a number. */
  private readonly numberSlots: Int32Array;
  /** Column index → its array in the batch's texts, or −1 (a column may be read both ways). */
  private readonly textSlots: Int32Array;
  /** Column index → 1 when a missing cell reads as NaN (ColumnRequest.missing). */
  private readonly missingAllowed: Uint8Array;
  /** Text slot → its coder when the column is read as codes (ColumnRequest.coded). */
  private readonly coders: (LabelCoder | undefined)[];
  /**
   * Column index → 1 while every row read holds a boolean in pandas' spellings: pandas reads such a
   * column as bool (1.0 and 0.0 to scikit-learn), and one mixing booleans with numbers as text,
   * which scikit-learn refuses.
   */
  private readonly booleanColumns: Uint8Array;
  /** Whether any column is a boolean one (plain records, all numbers, are then not read apart). */
  private anyBoolean = false;
  /** Rows taken in earlier batches. */
  private rowsBefore = 0;
  line: number;
  /** The line after the header: where a row one field longer than the header is R's row names. */
  private readonly firstDataLine: number;
  /** Filled in place; the same arrays are refilled after `take` (see DatasetBatch). */
  readonly batch: DatasetBatch;

  constructor(
    private readonly file: string,
    private readonly names: readonly string[],
    request: readonly ColumnRequest[],
    private readonly batchSize: number,
    firstLine: number,
  ) {
    this.missingAllowed = new Uint8Array(names.length);
    this.booleanColumns = new Uint8Array(names.length);
    for (const r of request) if (r.missing) this.missingAllowed[names.indexOf(r.name)] = 1;
    this.numberSlots = new Int32Array(names.length).fill(-1);
    this.textSlots = new Int32Array(names.length).fill(-1);
    let n = 0;
    let t = 0;
    for (const r of request) {
      if (r.text) this.textSlots[names.indexOf(r.name)] = t++;
      else this.numberSlots[names.indexOf(r.name)] = n++;
    }
    this.line = firstLine;
    this.firstDataLine = firstLine;
    this.batch = emptyBatch(request, batchSize);
    this.coders = request.filter((r) => r.text).map((r) => (r.coded ? new LabelCoder() : undefined));
    if (this.coders.some((c) => c)) {
      this.batch.codes = this.coders.map((c) => (c ? new Int32Array(batchSize) : undefined));
      this.batch.labels = this.coders.map((c) => c?.labels);
      this.batch.texts = this.batch.texts.map((t, k) => (this.coders[k] ? [] : t));
    }
  }

  /**
   * Parses whole records of `buf[0, len)` from `pos` until the batch is full or the bytes end.
   * Returns where it stopped: at the start of an incomplete record when `final` is false.
   * `buf[len]` must exist and be 0.
   *
   * A numeric field is read in the pass that finds its end: sign, digits, a point and digits
   * accumulate into the value as they are scanned; when the field holds anything else (an
   * exponent, a space, too many digits) the scan goes on to the field's end and the text goes
   * through `Number`.
   */
  parse(buf: Uint8Array, pos: number, len: number, final: boolean): number {
    const width = this.names.length;
    const numberSlots = this.numberSlots;
    const textSlots = this.textSlots;
    const batch = this.batch;
    const numbers = batch.numbers;
    const batchSize = this.batchSize;
    while (pos < len && batch.rows < batchSize) {
      const recordStart = pos;
      const recordLine = this.line;
      // A blank line (LF or CRLF) is skipped.
      if (buf[pos] === LF || (buf[pos] === CR && buf[pos + 1] === LF)) {
        if (buf[pos] === CR && pos + 1 >= len && !final) return recordStart;
        pos += buf[pos] === CR ? 2 : 1;
        this.line++;
        continue;
      }
      if (buf[pos] === CR && pos + 1 >= len && !final) return recordStart;
      // A line of spaces and tabs only is blank too (pandas' skip_blank_lines takes it as one).
      if (buf[pos] === SPACE || buf[pos] === TAB) {
        let q = pos;
        while (q < len && (buf[q] === SPACE || buf[q] === TAB)) q++;
        if (q >= len && !final) return recordStart;
        if (q >= len || buf[q] === LF || (buf[q] === CR && buf[q + 1] === LF)) {
          if (buf[q] === CR && q + 1 >= len && !final) return recordStart;
          pos = q >= len ? q : q + (buf[q] === CR ? 2 : 1);
          this.line++;
          continue;
        }
      }
      // As many plain records as come in a row (see plainRecords); the general loop takes the next.
      const plain = this.anyBoolean ? 0 : this.plainRecords(buf, pos, batch.rows, batchSize);
      if (plain > 0) {
        pos = this.plainEnd;
        batch.rows += plain;
        continue;
      }
      const row = batch.rows;
      let field = 0;
      let ended = false;
      while (!ended) {
        const slot = field < width ? numberSlots[field]! : -1;
        let s = pos;
        let e: number;
        let escaped = false;
        let value = NaN;
        if (buf[pos] === QUOTE) {
          s = ++pos;
          for (;;) {
            if (pos >= len) {
              if (!final) {
                this.line = recordLine;
                return recordStart;
              }
              throw new DatasetError(`${this.file}:${recordLine}: a quoted field is not closed before the end of the file`);
            }
            const c = buf[pos]!;
            if (c === QUOTE) {
              if (buf[pos + 1] === QUOTE) {
                escaped = true;
                pos += 2;
                continue;
              }
              if (pos + 1 >= len && !final) {
                this.line = recordLine;
                return recordStart;
              }
              break;
            }
            if (c === LF) this.line++;
            pos++;
          }
          e = pos++;
          const next = buf[pos];
          if (pos < len && next !== COMMA && next !== LF && !(next === CR && buf[pos + 1] === LF)) {
            if (next === CR && pos + 1 >= len && !final) {
              this.line = recordLine;
              return recordStart;
            }
            throw new DatasetError(`${this.file}:${this.line}: unexpected text after the closing quote of column ${field + 1} (expected a comma or a line end)`);
          }
          if (slot >= 0 && !escaped) value = fieldDecimal(buf, s, e);
        } else {
          let c = 0;
          if (slot >= 0) {
            // The number in the pass that finds the field's end (scanDecimal).
            value = scanDecimal(buf, pos);
            pos = decimalEnd;
            c = buf[pos]!;
            if (!Number.isNaN(value) && pos < len && (c === COMMA || c === LF || (c === CR && buf[pos + 1] === LF))) {
              e = pos;
              if (this.anyBoolean && this.booleanColumns[field] === 1) this.mixed(field, recordLine, this.text(buf, s, e, false), false);
              if (c === CR) pos++;
              ended = c !== COMMA;
              numbers[slot]![row] = value;
              const textSlot = textSlots[field]!;
              if (textSlot >= 0) this.putText(textSlot, row, buf, s, e, false);
              field++;
              pos++;
              continue;
            }
          }
          // Any other field: to its end (a comma or LF; a CR before the LF is not part of it).
          value = NaN;
          // A quote that does not open the field is part of it (`5'10"`), as pandas and Python's csv read it.
          while (pos < len) {
            c = buf[pos]!;
            if (c === COMMA || c === LF) break;
            pos++;
          }
          if (pos >= len && !final) {
            this.line = recordLine;
            return recordStart;
          }
          e = pos;
          if (e > s && buf[e - 1] === CR && (pos >= len || buf[pos] === LF)) e--;
          if (slot >= 0 && pos >= len) value = fieldDecimal(buf, s, e);
        }
        // Here pos is at a comma, a line end (CR LF or LF) or the end of the bytes.
        if (pos >= len || buf[pos] === LF) ended = true;
        else if (buf[pos] === CR) {
          ended = true;
          pos++;
        }
        if (field < width) {
          if (slot >= 0) {
            if (Number.isNaN(value)) value = this.numberOf(field, row, recordLine, this.text(buf, s, e, escaped));
            else if (this.anyBoolean && this.booleanColumns[field] === 1) this.mixed(field, recordLine, this.text(buf, s, e, escaped), false);
            numbers[slot]![row] = value;
          }
          const textSlot = textSlots[field]!;
          if (textSlot >= 0) this.putText(textSlot, row, buf, s, e, escaped);
        }
        field++;
        pos++;
      }
      this.line++;
      if (field > width) {
        throw new DatasetError(`${this.file}:${recordLine}: expected ${width} fields as in the header, found ${field}${field === width + 1 && recordLine === this.firstDataLine ? ROW_NAMES_HINT : ''}`);
      }
      // Fields missing at the row's end are missing cells, as pandas reads them (NaN): an error only
      // in a column that is read and must hold a value.
      for (let missing = field; missing < width; missing++) this.absent(missing, row, recordLine, field);
      batch.rows++;
    }
    return pos;
  }

  /** A field the row `line` does not reach (it has `found` fields): empty text, NaN where missing cells are allowed, else an error. */
  private absent(field: number, row: number, line: number, found: number): void {
    const slot = this.numberSlots[field]!;
    if (slot >= 0) {
      if (this.missingAllowed[field] !== 1) {
        throw new DatasetError(`${this.file}:${line}: column '${this.names[field]}' is missing: the row has ${found} of the header's ${this.names.length} fields (expected a number)`, this.names[field]);
      }
      this.batch.numbers[slot]![row] = NaN;
    }
    const textSlot = this.textSlots[field]!;
    if (textSlot >= 0) this.putText(textSlot, row, EMPTY, 0, 0, false);
  }

  /** A numeric field that is no plain decimal: a boolean (in a column of booleans only), or as numberFromText reads it. */
  private numberOf(field: number, row: number, line: number, text: string): number {
    const missing = this.missingAllowed[field] === 1;
    // pandas takes a boolean spelt exactly (` True` is text to it, which scikit-learn cannot convert).
    const bool = missing ? undefined : booleanOf(text);
    if (bool === undefined && !missing && text !== text.trim() && booleanOf(text.trim()) !== undefined) {
      throw new DatasetError(
        `${this.file}:${line}: column '${this.names[field]}' is ${JSON.stringify(text)}, a boolean with spaces around it: pandas reads it as text, which scikit-learn cannot convert; write True/False without spaces`,
        this.names[field],
      );
    }
    if (bool === undefined) {
      const value = numberFromText(text, `${this.file}:${line}`, this.names[field]!, missing);
      if (this.booleanColumns[field] === 1) this.mixed(field, line, text, false);
      return value;
    }
    if (this.rowsBefore + row === 0) {
      this.booleanColumns[field] = 1;
      this.anyBoolean = true;
    } else if (this.booleanColumns[field] !== 1) this.mixed(field, line, text, true);
    return bool;
  }

  /** The error for a column mixing booleans and numbers, at the cell `text` of `line`. */
  private mixed(field: number, line: number, text: string, isBoolean: boolean): never {
    const cell = shownCell(text.trim());
    throw new DatasetError(
      `${this.file}:${line}: column '${this.names[field]}' mixes booleans and numbers ('${cell}' here, ${isBoolean ? 'numbers' : 'booleans'} above): ` +
        `pandas reads such a column as text, which scikit-learn cannot convert; write it as numbers (1/0) or as True/False throughout`,
      this.names[field],
    );
  }

  /** Where the last `plainRecords` stopped: after its last record. */
  private plainEnd = 0;

  /**
   * The common records, read in one tight loop from `pos` into rows `firstRow` up to `endRow`: each
   * numeric field a plain decimal (scanDecimal), each other field unquoted or quoted without a
   * doubled quote or a line break inside, each record ended by LF or CR LF inside the bytes read
   * (`buf` holds a 0 byte at their end, which ends the loop). Stops at the first other record (a
   * quoted number, an exponent, a missing or extra field, a blank line, the end of the bytes) without
   * keeping any of it: `parse`'s general loop reads that one from its start, rewriting its row.
   * Returns the records read (`line` counts them); `plainEnd` is where they end.
   */
  private plainRecords(buf: Uint8Array, pos: number, firstRow: number, endRow: number): number {
    const width = this.names.length;
    const numberSlots = this.numberSlots;
    const textSlots = this.textSlots;
    const numbers = this.batch.numbers;
    let row = firstRow;
    records: for (; row < endRow; row++) {
      const recordStart = pos;
      // A blank line (which the general loop skips), a CR, a space or a tab (a line of them is blank) at the start: not plain.
      const first = buf[pos];
      if (first === LF || first === CR || first === SPACE || first === TAB) break;
      for (let field = 0; field < width; field++) {
        const slot = numberSlots[field]!;
        let s = pos;
        let e: number;
        let c = buf[pos]!;
        if (slot >= 0) {
          // scanDecimal, by hand: V8 does not inline the call here, which costs ~10 % of a parse.
          let negative = false;
          if (c === 45 || c === 43) {
            negative = c === 45;
            c = buf[++pos]!;
          }
          let mantissa = 0;
          const digitsStart = pos;
          let d = c - 48;
          while ((d >>> 0) <= 9) {
            mantissa = mantissa * 10 + d;
            c = buf[++pos]!;
            d = c - 48;
          }
          let digits = pos - digitsStart;
          let scale = 0;
          if (c === 46) {
            c = buf[++pos]!;
            const fractionStart = pos;
            d = c - 48;
            while ((d >>> 0) <= 9) {
              mantissa = mantissa * 10 + d;
              c = buf[++pos]!;
              d = c - 48;
            }
            scale = pos - fractionStart;
            digits += scale;
          }
          if (digits === 0 || mantissa >= EXACT || scale > 22) {
            pos = recordStart;
            break records;
          }
          const v = scale === 0 ? mantissa : mantissa / POW10[scale]!;
          numbers[slot]![row] = negative ? -v : v;
          e = pos;
        } else if (c === QUOTE) {
          s = pos + 1;
          e = plainQuotedEnd(buf, s);
          if (e < 0) {
            pos = recordStart;
            break records;
          }
          pos = e + 1;
          c = buf[pos]!;
        } else {
          while (c !== COMMA && c !== LF && c !== CR && c !== QUOTE && c !== 0) c = buf[++pos]!;
          e = pos;
        }
        if (field < width - 1) {
          if (c !== COMMA) {
            pos = recordStart;
            break records;
          }
        } else if (c === CR && buf[pos + 1] === LF) pos++;
        else if (c !== LF) {
          pos = recordStart;
          break records;
        }
        const textSlot = textSlots[field]!;
        if (textSlot >= 0) this.putText(textSlot, row, buf, s, e, false);
        pos++;
      }
      // Counted per record: a text field's error (not UTF-8) names its line.
      this.line++;
    }
    this.plainEnd = pos;
    return row - firstRow;
  }

  /** A text field into the batch: its string, or its code when the column is coded. */
  private putText(slot: number, row: number, buf: Uint8Array, s: number, e: number, escaped: boolean): void {
    const coder = this.coders[slot];
    if (!coder) {
      this.batch.texts[slot]![row] = this.text(buf, s, e, escaped);
      return;
    }
    // A field with doubled quotes is decoded every time (rare) and keyed on its text's bytes.
    if (escaped) {
      this.batch.codes![slot]![row] = this.escapedCode(coder, buf, s, e);
      return;
    }
    if (e - s === 1) {
      const known = coder.oneByte[buf[s]!]!;
      if (known >= 0) {
        this.batch.codes![slot]![row] = known;
        return;
      }
    }
    const h = fieldHash(buf, s, e);
    let code = coder.find(buf, s, e, h);
    if (code < 0) code = coder.add(buf, s, e, h, this.text(buf, s, e, false));
    if (e - s === 1) coder.oneByte[buf[s]!] = code;
    this.batch.codes![slot]![row] = code;
  }

  private escapedCode(coder: LabelCoder, buf: Uint8Array, s: number, e: number): number {
    const text = this.text(buf, s, e, true);
    const bytes = Buffer.from(text, 'utf8');
    const h = fieldHash(bytes, 0, bytes.length);
    const code = coder.find(bytes, 0, bytes.length, h);
    return code >= 0 ? code : coder.add(bytes, 0, bytes.length, h, text);
  }

  private text(buf: Uint8Array, s: number, e: number, escaped: boolean): string {
    const t = Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('utf8');
    if (t.includes('\uFFFD') && !isUtf8(buf.subarray(s, e))) throw new DatasetError(`${this.file}:${this.line}: the text is not UTF-8 (save the file as UTF-8)`);
    return escaped ? t.replace(/""/g, '"') : t;
  }

  /** The filled batch (cut to its rows when not full); the next `parse` refills the same arrays. */
  take(): DatasetBatch {
    const full = this.batch.rows === this.batchSize ? { ...this.batch } : trimBatch(this.batch);
    this.rowsBefore += this.batch.rows;
    this.batch.rows = 0;
    return full;
  }
}

/** Reads the header record from the start of the file. */
async function readHeader(file: string, displayName: string): Promise<Header> {
  const handle = await open(file, 'r');
  try {
    let size = 1 << 16;
    for (;;) {
      const buf = Buffer.alloc(size);
      const { bytesRead } = await handle.read(buf, 0, size, 0);
      const bytes = buf.subarray(0, bytesRead);
      const final = bytesRead < size;
      const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
      let start = bom;
      let line = 1;
      while (start < bytes.length && (bytes[start] === LF || bytes[start] === CR)) {
        if (bytes[start] === LF) line++;
        start++;
      }
      if (start >= bytes.length) {
        if (final) throw new DatasetError(`${displayName}: the file is empty (expected a header row naming the columns)`);
        size *= 4;
        continue;
      }
      const names: string[] = [];
      const parser = new HeaderParser(displayName, names, line);
      const end = parser.parse(bytes, start, final);
      if (end < 0) {
        size *= 4;
        continue;
      }
      // A header in another encoding (Latin-1, UTF-16) would name columns with U+FFFD in them.
      if (!isUtf8(bytes.subarray(start, end))) throw new DatasetError(`${displayName}:${line}: the header is not UTF-8 text (save the file as UTF-8)`);
      if (names.some((n) => n.includes('\r')) && !bytes.subarray(start, end).includes(LF)) {
        throw new DatasetError(`${displayName}:${line}: the lines end in a carriage return alone (classic Mac OS); save the file with LF or CRLF line endings`);
      }
      return { names: pandasNames(names), end, nextLine: parser.line, bom };
    }
  } finally {
    await handle.close();
  }
}

/**
 * The header's names as pandas' read_csv gives them: a name given again gets `.1`, `.2`, … (its C
 * parser's `_get_header`: `a,a,a.1` → `a`, `a.2`, `a.1`, the suffix skipping names the header has).
 * Columns with no name (a spreadsheet's trailing empty columns, pandas' `Unnamed: N`) stay unnamed.
 */
export function pandasNames(names: readonly string[]): string[] {
  const out = [...names];
  const inHeader = new Set(names);
  const counts = new Map<string, number>();
  out.forEach((name, i) => {
    if (name.trim() === '') return;
    let col = name;
    let count = counts.get(col) ?? 0;
    while (count > 0) {
      counts.set(name, count + 1);
      col = `${name}.${count}`;
      count = inHeader.has(col) ? count + 1 : (counts.get(col) ?? 0);
    }
    out[i] = col;
    counts.set(col, count + 1);
  });
  return out;
}

/** Said of a row with one field more than the header: the shape R's write.table gives with row names. */
const ROW_NAMES_HINT = " (a header one name short of its rows is how R's write.table writes row names: write it with row.names = FALSE, or name the first column)";

/** The header row: the same field rules, every field read as text. */
class HeaderParser {
  constructor(
    private readonly file: string,
    private readonly names: string[],
    public line: number,
  ) {}

  /** The offset after the header record, or −1 when the bytes end inside it. */
  parse(buf: Uint8Array, start: number, final: boolean): number {
    let pos = start;
    const len = buf.length;
    for (;;) {
      let value: string;
      if (buf[pos] === QUOTE) {
        let s = ++pos;
        const parts: string[] = [];
        for (;;) {
          if (pos >= len) {
            if (!final) return -1;
            throw new DatasetError(`${this.file}:${this.line}: a quoted header field is not closed`);
          }
          if (buf[pos] === QUOTE) {
            if (buf[pos + 1] === QUOTE) {
              parts.push(Buffer.from(buf.subarray(s, pos + 1)).toString('utf8'));
              pos += 2;
              s = pos;
              continue;
            }
            break;
          }
          if (buf[pos] === LF) this.line++;
          pos++;
        }
        parts.push(Buffer.from(buf.subarray(s, pos)).toString('utf8'));
        value = parts.join('');
        pos++;
      } else {
        const s = pos;
        while (pos < len && buf[pos] !== COMMA && buf[pos] !== LF) pos++;
        if (pos >= len && !final) return -1;
        let e = pos;
        if (e > s && buf[e - 1] === CR) e--;
        value = Buffer.from(buf.subarray(s, e)).toString('utf8');
      }
      this.names.push(value.trim());
      if (pos >= len) return pos;
      if (buf[pos] === CR) pos++;
      if (buf[pos] === LF) {
        this.line++;
        return pos + 1;
      }
      if (pos >= len) return pos;
      if (buf[pos] !== COMMA) throw new DatasetError(`${this.file}:${this.line}: unexpected text after a quoted header field`);
      pos++;
    }
  }
}

export async function openCsv(file: string, displayName = file): Promise<DatasetReader> {
  const header = await readHeader(file, displayName);
  return {
    file: displayName,
    format: 'csv',
    columns: header.names,
    hashesFile: true,
    async *batches(request: readonly ColumnRequest[], batchSize: number, hash?: ByteSink): AsyncIterable<DatasetBatch> {
      checkColumns(displayName, header.names, request);
      const parser = new CsvParser(displayName, header.names, request, batchSize, header.nextLine);
      let any = false;
      // One buffer, refilled: the unparsed tail of a read moves to its start and the next read
      // lands after it. It doubles when one record does not fit. The file is read from its first
      // byte so that `hash` sees all of it; parsing starts after the header.
      let buf = Buffer.allocUnsafe(CHUNK);
      let filled = 0;
      let pos = 0;
      let offset = 0;
      let skip = header.end;
      // `hash` is given the bytes as they are parsed, after each batch (buf[0, hashed) has been):
      // hashing a whole read before parsing it stalled a consumer waiting for the next batch.
      let hashed = 0;
      const hashTo = (end: number) => {
        if (hash && end > hashed) hash.update(buf.subarray(hashed, end));
        hashed = Math.max(hashed, end);
      };
      const handle = await open(file, 'r');
      try {
        for (;;) {
          if (pos > 0) {
            hashTo(pos);
            buf.copyWithin(0, pos, filled);
            filled -= pos;
            hashed -= pos;
            pos = 0;
          }
          if (filled + 1 >= buf.length) {
            const bigger = Buffer.allocUnsafe(buf.length * 2);
            buf.copy(bigger, 0, 0, filled);
            buf = bigger;
          }
          const { bytesRead } = await handle.read(buf, filled, buf.length - filled - 1, offset);
          offset += bytesRead;
          filled += bytesRead;
          const final = bytesRead === 0;
          if (skip > 0) {
            const skipped = Math.min(skip, filled);
            pos = skipped;
            skip -= skipped;
            if (skip > 0) continue;
          }
          buf[filled] = 0;
          for (;;) {
            pos = parser.parse(buf, pos, filled, final);
            if (parser.batch.rows < batchSize) break;
            any = true;
            yield parser.take();
            // Not past the data: a last record without a line end leaves pos after the 0 byte put there.
            hashTo(Math.min(pos, filled));
          }
          if (final) break;
        }
        hashTo(filled);
        if (parser.batch.rows > 0) {
          any = true;
          yield parser.take();
        }
        if (!any) throw new DatasetError(`${displayName}: no data rows after the header`);
      } finally {
        await handle.close();
      }
    },
  };
}
