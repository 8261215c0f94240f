/**
 * A TOML 1.0 reader for params files (`params.toml`), dependency-free: key/value pairs with bare,
 * quoted and dotted keys; `[tables]` and `[[arrays of tables]]`; basic, literal and multi-line
 * strings with their escapes; integers (decimal, `0x`, `0o`, `0b`, `_` separators), floats (`inf`,
 * `nan` included), booleans, arrays and inline tables. Offset date-times, dates and times are kept
 * as their text (DVC's lock writes them as strings too). A key defined twice, a table opened twice
 * or anything else TOML refuses raises ParamsSyntaxError with the 1-based line and column.
 */

import { ParamsSyntaxError } from './paramsSyntaxError';

type Table = Record<string, unknown>;

const BARE_KEY = /[A-Za-z0-9_-]/;
const DATE_TIME = /\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})?)?|\d{2}:\d{2}:\d{2}(?:\.\d+)?/y;
const DECIMAL = /^[+-]?(?:0|[1-9](?:_?\d)*)$/;
const FLOAT = /^[+-]?(?:0|[1-9](?:_?\d)*)(?:\.\d(?:_?\d)*)?(?:[eE][+-]?\d(?:_?\d)*)?$/;

export function parseToml(text: string): Table {
  return new TomlReader(text).read();
}

class TomlReader {
  private at = 0;
  private readonly root: Table = Object.create(null) as Table;
  /** Tables opened by a `[header]`, or created by dotted keys or as inline tables: not to be opened again. */
  private readonly closed = new WeakSet<object>();
  /** Tables an `[header]` may still define (created on the way to another header). */
  private readonly implicit = new WeakSet<object>();
  /** Arrays created by `[[header]]`. */
  private readonly tableArrays = new WeakSet<object>();
  /** Inline tables and arrays: complete as written. */
  private readonly frozen = new WeakSet<object>();

  constructor(private readonly text: string) {}

  read(): Table {
    let current = this.root;
    for (;;) {
      this.skipBlank(true);
      if (this.at >= this.text.length) return this.root;
      const c = this.text[this.at];
      if (c === '[') current = this.header();
      else {
        this.keyValue(current, true);
        this.endOfLine();
      }
    }
  }

  private fail(reason: string, at = this.at): never {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at && i < this.text.length; i++) {
      if (this.text[i] === '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    throw new ParamsSyntaxError(line, at - lineStart + 1, reason);
  }

  /** Spaces and tabs; with `lines`, also newlines and comments. */
  private skipBlank(lines: boolean): void {
    for (;;) {
      const c = this.text[this.at];
      if (c === ' ' || c === '\t') this.at++;
      else if (lines && (c === '\n' || (c === '\r' && this.text[this.at + 1] === '\n'))) this.at += c === '\r' ? 2 : 1;
      else if (lines && c === '#') this.skipComment();
      else return;
    }
  }

  private skipComment(): void {
    while (this.at < this.text.length && this.text[this.at] !== '\n') {
      const code = this.text.charCodeAt(this.at);
      if ((code < 0x20 && code !== 0x09 && !(code === 0x0d && this.text[this.at + 1] === '\n')) || code === 0x7f) this.fail('control character in a comment');
      this.at++;
    }
  }

  private endOfLine(): void {
    this.skipBlank(false);
    if (this.text[this.at] === '#') this.skipComment();
    const c = this.text[this.at];
    if (this.at >= this.text.length || c === '\n') return;
    if (c === '\r' && this.text[this.at + 1] === '\n') return;
    this.fail(`expected the end of the line, found '${c}'`);
  }

  private header(): Table {
    const start = this.at;
    const array = this.text.startsWith('[[', this.at);
    this.at += array ? 2 : 1;
    this.skipBlank(false);
    const keys = this.key();
    this.skipBlank(false);
    if (!this.text.startsWith(array ? ']]' : ']', this.at)) this.fail(`expected '${array ? ']]' : ']'}' to close the table header`);
    this.at += array ? 2 : 1;
    this.endOfLine();
    let table = this.root;
    for (let i = 0; i < keys.length - 1; i++) table = this.descend(table, keys[i]!, start, keys);
    const last = keys[keys.length - 1]!;
    const existing = table[last];
    if (array) {
      if (existing === undefined) {
        const list: Table[] = [];
        this.tableArrays.add(list);
        table[last] = list;
      } else if (!Array.isArray(existing) || !this.tableArrays.has(existing)) this.fail(`'${keys.join('.')}' is already defined and is not an array of tables`, start);
      const next = Object.create(null) as Table;
      (table[last] as Table[]).push(next);
      return next;
    }
    if (existing === undefined) {
      const next = Object.create(null) as Table;
      this.closed.add(next);
      table[last] = next;
      return next;
    }
    if (isTable(existing) && this.implicit.has(existing) && !this.closed.has(existing)) {
      this.implicit.delete(existing);
      this.closed.add(existing);
      return existing;
    }
    return this.fail(`table '${keys.join('.')}' is already defined`, start);
  }

  /** The table under `key` on the way to a header, created when missing (the last table of an array of tables). */
  private descend(table: Table, key: string, at: number, keys: string[]): Table {
    const v = table[key];
    if (v === undefined) {
      const next = Object.create(null) as Table;
      this.implicit.add(next);
      table[key] = next;
      return next;
    }
    if (Array.isArray(v) && this.tableArrays.has(v)) return v[v.length - 1] as Table;
    if (isTable(v) && !this.frozen.has(v)) return v;
    return this.fail(`'${keys.join('.')}': '${key}' is already a value, not a table`, at);
  }

  /** `key = value` into `table`; dotted keys create tables. */
  private keyValue(table: Table, topLevel: boolean): void {
    const start = this.at;
    const keys = this.key();
    this.skipBlank(false);
    if (this.text[this.at] !== '=') this.fail(`expected '=' after the key '${keys.join('.')}'`);
    this.at++;
    this.skipBlank(false);
    let t = table;
    for (let i = 0; i < keys.length - 1; i++) {
      const k = keys[i]!;
      const v = t[k];
      if (v === undefined) {
        const next = Object.create(null) as Table;
        // A table made by dotted keys cannot be opened by a header later.
        this.closed.add(next);
        t[k] = next;
        t = next;
      } else if (isTable(v) && !this.frozen.has(v) && (this.closed.has(v) || !topLevel || !this.implicit.has(v))) t = v;
      else this.fail(`'${keys.join('.')}': '${k}' is already a value, not a table`, start);
    }
    const last = keys[keys.length - 1]!;
    if (last in t) this.fail(`'${keys.join('.')}' is defined twice`, start);
    t[last] = this.value();
  }

  /** A key, dotted or not: its segments. */
  private key(): string[] {
    const parts: string[] = [];
    for (;;) {
      const c = this.text[this.at];
      if (c === '"') parts.push(this.basicString());
      else if (c === "'") parts.push(this.literalString());
      else {
        const start = this.at;
        while (this.at < this.text.length && BARE_KEY.test(this.text[this.at]!)) this.at++;
        if (this.at === start) this.fail(`expected a key, found ${c === undefined ? 'the end of the file' : c === '\n' || c === '\r' ? 'a line break (an inline table stays on one line)' : `'${c}'`}`);
        parts.push(this.text.slice(start, this.at));
      }
      this.skipBlank(false);
      if (this.text[this.at] !== '.') return parts;
      this.at++;
      this.skipBlank(false);
    }
  }

  private value(): unknown {
    const c = this.text[this.at];
    if (c === '"') return this.text.startsWith('"""', this.at) ? this.multilineBasic() : this.basicString();
    if (c === "'") return this.text.startsWith("'''", this.at) ? this.multilineLiteral() : this.literalString();
    if (c === '[') return this.array();
    if (c === '{') return this.inlineTable();
    if (this.text.startsWith('true', this.at) && !BARE_KEY.test(this.text[this.at + 4] ?? '')) {
      this.at += 4;
      return true;
    }
    if (this.text.startsWith('false', this.at) && !BARE_KEY.test(this.text[this.at + 5] ?? '')) {
      this.at += 5;
      return false;
    }
    DATE_TIME.lastIndex = this.at;
    const date = DATE_TIME.exec(this.text);
    if (date) {
      this.at += date[0].length;
      return date[0];
    }
    return this.number();
  }

  private number(): number {
    const start = this.at;
    while (this.at < this.text.length && /[0-9A-Za-z_+.-]/.test(this.text[this.at]!)) this.at++;
    const word = this.text.slice(start, this.at);
    if (word === '') this.fail(this.at >= this.text.length ? 'expected a value, found the end of the file' : `expected a value, found '${this.text[this.at]}'`);
    const sign = word[0] === '-' ? -1 : 1;
    const unsigned = word.replace(/^[+-]/, '');
    if (unsigned === 'inf') return sign * Infinity;
    if (unsigned === 'nan') return NaN;
    const radix = /^0([xob])([0-9A-Fa-f](?:_?[0-9A-Fa-f])*)$/.exec(word);
    if (radix) {
      const digits = radix[2]!.replace(/_/g, '');
      const base = radix[1] === 'x' ? 16 : radix[1] === 'o' ? 8 : 2;
      const valid = base === 16 ? /^[0-9A-Fa-f]+$/ : base === 8 ? /^[0-7]+$/ : /^[01]+$/;
      if (!valid.test(digits)) this.fail(`'${word}' is not a valid number`, start);
      return parseInt(digits, base);
    }
    if (DECIMAL.test(word)) return Number(word.replace(/_/g, ''));
    if (FLOAT.test(word)) return Number(word.replace(/_/g, ''));
    return this.fail(`'${word}' is not a valid value (a string needs quotes)`, start);
  }

  private array(): unknown[] {
    this.at++; // [
    const list: unknown[] = [];
    this.frozen.add(list);
    for (;;) {
      this.skipBlank(true);
      if (this.text[this.at] === ']') {
        this.at++;
        return list;
      }
      if (this.at >= this.text.length) this.fail("expected ']' to close the array");
      list.push(this.value());
      this.skipBlank(true);
      if (this.text[this.at] === ',') this.at++;
      else if (this.text[this.at] !== ']') this.fail(`expected ',' or ']' in the array, found '${this.text[this.at] ?? 'the end of the file'}'`);
    }
  }

  private inlineTable(): Table {
    this.at++; // {
    const table = Object.create(null) as Table;
    this.skipBlank(false);
    if (this.text[this.at] === '}') {
      this.at++;
      this.frozen.add(table);
      return table;
    }
    for (;;) {
      this.skipBlank(false);
      this.keyValue(table, false);
      this.skipBlank(false);
      const c = this.text[this.at];
      if (c === ',') {
        this.at++;
        continue;
      }
      if (c === '}') {
        this.at++;
        this.freeze(table);
        return table;
      }
      this.fail(`expected ',' or '}' in the inline table, found '${c === '\n' || c === '\r' ? 'a line break' : (c ?? 'the end of the file')}'`);
    }
  }

  private freeze(table: Table): void {
    this.frozen.add(table);
    for (const v of Object.values(table)) if (isTable(v) && !this.frozen.has(v)) this.freeze(v);
  }

  private basicString(): string {
    const start = this.at;
    this.at++;
    let out = '';
    for (;;) {
      const c = this.text[this.at];
      if (c === undefined || c === '\n' || c === '\r') this.fail('the string is not closed on its line', start);
      if (c === '"') {
        this.at++;
        return out;
      }
      if (c === '\\') out += this.escape();
      else {
        this.checkControl(c);
        out += c;
        this.at++;
      }
    }
  }

  private multilineBasic(): string {
    const start = this.at;
    this.at += 3;
    if (this.text[this.at] === '\n') this.at++;
    else if (this.text.startsWith('\r\n', this.at)) this.at += 2;
    let out = '';
    for (;;) {
      if (this.at >= this.text.length) this.fail("the string is not closed by '\"\"\"'", start);
      if (this.text.startsWith('"""', this.at)) {
        // Up to two quotes right before the closing ones belong to the string.
        let extra = 0;
        while (extra < 2 && this.text[this.at + 3 + extra] === '"') extra++;
        out += '"'.repeat(extra);
        this.at += 3 + extra;
        return out;
      }
      const c = this.text[this.at]!;
      if (c === '\\') {
        // A backslash at the end of a line trims the line break and the blanks after it.
        const trim = /\\[ \t]*\r?\n[\s]*/y;
        trim.lastIndex = this.at;
        const m = trim.exec(this.text);
        if (m) {
          this.at += m[0].length;
          continue;
        }
        out += this.escape();
        continue;
      }
      if (c === '\r' && this.text[this.at + 1] === '\n') {
        out += '\n';
        this.at += 2;
        continue;
      }
      if (c !== '\n') this.checkControl(c);
      out += c;
      this.at++;
    }
  }

  private literalString(): string {
    const start = this.at;
    const end = this.text.indexOf("'", this.at + 1);
    const nl = this.text.indexOf('\n', this.at + 1);
    if (end < 0 || (nl >= 0 && nl < end)) this.fail('the string is not closed on its line', start);
    const s = this.text.slice(this.at + 1, end);
    for (const c of s) this.checkControl(c);
    this.at = end + 1;
    return s;
  }

  private multilineLiteral(): string {
    const start = this.at;
    this.at += 3;
    if (this.text[this.at] === '\n') this.at++;
    else if (this.text.startsWith('\r\n', this.at)) this.at += 2;
    const end = this.text.indexOf("'''", this.at);
    if (end < 0) this.fail("the string is not closed by \"'''\"", start);
    let close = end;
    while (close - end < 2 && this.text[close + 3] === "'") close++;
    const s = this.text.slice(this.at, close).replace(/\r\n/g, '\n');
    this.at = close + 3;
    return s;
  }

  private escape(): string {
    const start = this.at;
    const c = this.text[this.at + 1];
    this.at += 2;
    switch (c) {
      case 'b':
        return '\b';
      case 't':
        return '\t';
      case 'n':
        return '\n';
      case 'f':
        return '\f';
      case 'r':
        return '\r';
      case 'e':
        return '\x1b';
      case '"':
        return '"';
      case '\\':
        return '\\';
      case 'u':
      case 'U': {
        const n = c === 'u' ? 4 : 8;
        const hex = this.text.slice(this.at, this.at + n);
        const code = /^[0-9A-Fa-f]+$/.test(hex) && hex.length === n ? parseInt(hex, 16) : -1;
        if (code < 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) this.fail(`'\\${c}${hex}' is not a Unicode scalar value`, start);
        this.at += n;
        return String.fromCodePoint(code);
      }
      default:
        return this.fail(`'\\${c ?? ''}' is not an escape TOML knows`, start);
    }
  }

  private checkControl(c: string): void {
    const code = c.charCodeAt(0);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) this.fail(`control character U+${code.toString(16).padStart(4, '0')} in a string`);
  }
}

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
