/**
 * Params from a Python file (`params.py`), read as DVC reads them (dvc/utils/serialize/_py.py),
 * without running anything: the module's top-level assignments `NAME = literal` (and annotated
 * `NAME: type = literal`), each class as a nested mapping of its own such assignments and of the
 * `self.NAME = literal` assignments at the top of its `__init__`. A literal is what Python's
 * `ast.literal_eval` takes: numbers, strings, True, False, None, and lists, tuples, sets and dicts of
 * literals (tuples and sets read as lists). Assignments of anything else (calls, names, f-strings,
 * several targets) are skipped, as DVC skips them; other statements are passed over with their blocks.
 *
 * The file is tokenized as Python does (strings with prefixes and triple quotes, brackets joining
 * lines, backslash continuations, indentation), and what breaks that — an unclosed string or
 * bracket, an indentation that matches no outer level, an assignment without a value — raises
 * ParamsSyntaxError with the 1-based line and column. This is a reader of literal assignments, not
 * a Python parser: other syntax errors in statements it passes over go unnoticed.
 */

import { ParamsSyntaxError } from './paramsSyntaxError';

type Token =
  | { kind: 'name'; text: string; line: number; column: number }
  | { kind: 'number'; text: string; line: number; column: number }
  | { kind: 'string'; text: string; value: string | undefined; line: number; column: number }
  | { kind: 'op'; text: string; line: number; column: number };

interface LogicalLine {
  indent: number;
  tokens: Token[];
  line: number;
}

const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const CLOSERS = new Set([')', ']', '}']);
const COMPOUND = new Set(['class', 'def', 'async', 'if', 'elif', 'else', 'for', 'while', 'try', 'except', 'finally', 'with']);
const OPERATORS = ['**=', '//=', '>>=', '<<=', '...', '->', ':=', '**', '//', '<<', '>>', '<=', '>=', '==', '!=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '@='];
const NOT_LITERAL = Symbol('not a literal');

export function parsePythonParams(text: string): Record<string, unknown> {
  const lines = logicalLines(text);
  const [result] = readBlock(lines, 0, 0, false);
  return result;
}

/** The statements of one block (its lines at `indent`): DVC's _ast_tree_to_dict. */
function readBlock(lines: LogicalLine[], from: number, indent: number, onlySelf: boolean): [Record<string, unknown>, number] {
  const out: Record<string, unknown> = {};
  let i = from;
  while (i < lines.length) {
    const l = lines[i]!;
    if (l.indent < indent) break;
    if (l.indent > indent) fail(l.tokens[0]!, 'unexpected indent');
    const first = l.tokens[0]!;
    const compound = (first.kind === 'name' && COMPOUND.has(first.text)) || first.text === '@' || lastTopLevel(l.tokens)?.text === ':';
    if (!compound) {
      for (const stmt of splitTopLevel(l.tokens, ';')) if (stmt.length) readAssignment(stmt, onlySelf, out);
      i++;
      continue;
    }
    if (first.text === '@') {
      i++; // a decorator: the class or function follows
      continue;
    }
    // A compound statement: its body is the suite after ':' on the same line, or the indented lines below.
    const colon = topLevelIndex(l.tokens, ':');
    if (colon < 0) fail(first, `expected ':' in the '${first.text}' statement`);
    const inline = l.tokens.slice(colon + 1);
    let bodyEnd = i + 1;
    let body: Record<string, unknown> | undefined;
    const isClass = first.kind === 'name' && first.text === 'class';
    const isInit = first.kind === 'name' && first.text === 'def' && l.tokens[1]?.text === '__init__';
    if (inline.length === 0) {
      const next = lines[i + 1];
      if (!next || next.indent <= indent) fail(next?.tokens[0] ?? lastOf(l.tokens), 'expected an indented block');
      [body, bodyEnd] = readBlock(lines, i + 1, next.indent, isInit);
      const after = lines[bodyEnd];
      if (after && after.indent > indent && after.indent < next.indent) fail(after.tokens[0]!, 'unindent does not match any outer indentation level');
    } else {
      body = {};
      for (const stmt of splitTopLevel(inline, ';')) if (stmt.length) readAssignment(stmt, isInit, body);
    }
    if (isClass) {
      const name = l.tokens[1];
      if (!name || name.kind !== 'name') fail(name ?? first, 'expected a class name');
      out[name.text] = body;
    } else if (isInit) Object.assign(out, body);
    i = bodyEnd;
  }
  return [out, i];
}

/** `NAME = literal`, `NAME: type = literal`, `self.NAME = literal` (DVC's _ast_assign_to_dict): into `out`, or skipped. */
function readAssignment(tokens: Token[], onlySelf: boolean, out: Record<string, unknown>): void {
  const parts = splitTopLevel(tokens, '=');
  if (parts.length !== 2) return; // an expression, or several targets
  let target = parts[0]!;
  const value = parts[1]!;
  const colon = topLevelIndex(target, ':');
  if (colon >= 0) target = target.slice(0, colon);
  if (value.length === 0) fail(tokens[topLevelIndex(tokens, '=')]!, "expected a value after '='");
  let name: string | undefined;
  if (target.length === 1 && target[0]!.kind === 'name' && !onlySelf) name = target[0]!.text;
  else if (target.length === 3 && target[0]!.text === 'self' && target[1]!.text === '.' && target[2]!.kind === 'name') name = target[2]!.text;
  if (name === undefined) return;
  const parsed = literal(value, 0);
  if (parsed === NOT_LITERAL || parsed[1] !== value.length) return;
  out[name] = parsed[0];
}

/** A literal starting at `at`: [value, index after it], or NOT_LITERAL. */
function literal(tokens: Token[], at: number): [unknown, number] | typeof NOT_LITERAL {
  const t = tokens[at];
  if (!t) return NOT_LITERAL;
  if (t.kind === 'number') {
    const n = pythonNumber(t.text);
    return n === undefined ? NOT_LITERAL : [n, at + 1];
  }
  if (t.kind === 'op' && (t.text === '-' || t.text === '+') && tokens[at + 1]?.kind === 'number') {
    const n = pythonNumber(tokens[at + 1]!.text);
    return n === undefined ? NOT_LITERAL : [t.text === '-' ? -n : n, at + 2];
  }
  if (t.kind === 'string') {
    // Adjacent strings are one string; a bytes or f-string is not a literal DVC keeps.
    let s = '';
    let i = at;
    for (; tokens[i]?.kind === 'string'; i++) {
      const v = (tokens[i] as Extract<Token, { kind: 'string' }>).value;
      if (v === undefined) return NOT_LITERAL;
      s += v;
    }
    return [s, i];
  }
  if (t.kind === 'name') {
    if (t.text === 'True') return [true, at + 1];
    if (t.text === 'False') return [false, at + 1];
    if (t.text === 'None') return [null, at + 1];
    return NOT_LITERAL;
  }
  if (t.text === '[' || t.text === '(' || t.text === '{') {
    const close = OPENERS[t.text]!;
    const items: unknown[] = [];
    const dict: Record<string, unknown> = {};
    let isDict: boolean | undefined = t.text === '{' ? undefined : false;
    let i = at + 1;
    let sawComma = false;
    while (tokens[i]?.text !== close) {
      const item = literal(tokens, i);
      if (item === NOT_LITERAL) return NOT_LITERAL;
      i = item[1];
      if (isDict === undefined) isDict = tokens[i]?.text === ':';
      if (isDict) {
        if (tokens[i]?.text !== ':') return NOT_LITERAL;
        const v = literal(tokens, i + 1);
        if (v === NOT_LITERAL) return NOT_LITERAL;
        const k = item[0];
        if (typeof k === 'object' && k !== null) return NOT_LITERAL;
        dict[String(k)] = v[0];
        i = v[1];
      } else items.push(item[0]);
      if (tokens[i]?.text === ',') {
        sawComma = true;
        i++;
      } else if (tokens[i]?.text !== close) return NOT_LITERAL;
    }
    // `(x)` is x; `(x,)` and `()` are tuples; `{}` is an empty dict.
    if (t.text === '(' && items.length === 1 && !sawComma) return [items[0], i + 1];
    if (t.text === '{' && isDict === undefined) return [{}, i + 1];
    return [isDict ? dict : items, i + 1];
  }
  return NOT_LITERAL;
}

function pythonNumber(text: string): number | undefined {
  const s = text.replace(/_/g, '');
  if (/[jJ]$/.test(s)) return undefined; // complex
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
  if (/^0[oO][0-7]+$/.test(s)) return parseInt(s.slice(2), 8);
  if (/^0[bB][01]+$/.test(s)) return parseInt(s.slice(2), 2);
  if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
  return undefined;
}

function splitTopLevel(tokens: Token[], sep: string): Token[][] {
  const parts: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'op' && OPENERS[t.text]) depth++;
    else if (t.kind === 'op' && CLOSERS.has(t.text)) depth--;
    if (depth === 0 && t.kind === 'op' && t.text === sep) parts.push([]);
    else parts[parts.length - 1]!.push(t);
  }
  return parts;
}

function topLevelIndex(tokens: Token[], text: string): number {
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'op') continue;
    if (OPENERS[t.text]) depth++;
    else if (CLOSERS.has(t.text)) depth--;
    else if (depth === 0 && t.text === text) return i;
  }
  return -1;
}

function lastTopLevel(tokens: Token[]): Token | undefined {
  return tokens[tokens.length - 1];
}

function lastOf(tokens: Token[]): Token {
  return tokens[tokens.length - 1]!;
}

function fail(at: { line: number; column: number }, reason: string): never {
  throw new ParamsSyntaxError(at.line, at.column, reason);
}

/** The file as logical lines (brackets and backslashes join physical lines), blank and comment lines left out. */
function logicalLines(text: string): LogicalLine[] {
  const out: LogicalLine[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let current: LogicalLine | undefined;
  const brackets: Token[] = [];
  const pos = (at: number) => ({ line, column: at - lineStart + 1 });
  const newline = (at: number) => {
    line++;
    lineStart = at + 1;
  };
  if (text.charCodeAt(0) === 0xfeff) i = lineStart = 1;
  while (i < text.length) {
    // At the start of a logical line: its indentation.
    if (!current) {
      let col = 0;
      while (text[i] === ' ' || text[i] === '\t' || text[i] === '\f') {
        col = text[i] === '\t' ? (Math.floor(col / 8) + 1) * 8 : text[i] === '\f' ? 0 : col + 1;
        i++;
      }
      const c = text[i];
      if (c === '#') {
        while (i < text.length && text[i] !== '\n') i++;
        continue;
      }
      if (c === '\n' || c === '\r') {
        if (c === '\r' && text[i + 1] === '\n') i++;
        newline(i);
        i++;
        continue;
      }
      if (c === undefined) break;
      current = { indent: col, tokens: [], line };
    }
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\f') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
      continue;
    }
    if (c === '\\' && (text[i + 1] === '\n' || text[i + 1] === '\r')) {
      i += text[i + 1] === '\r' && text[i + 2] === '\n' ? 2 : 1;
      newline(i);
      i++;
      continue;
    }
    if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      newline(i);
      i++;
      if (brackets.length === 0) {
        if (current.tokens.length) out.push(current);
        current = undefined;
      }
      continue;
    }
    const start = pos(i);
    const stringStart = /^(?:[rRuUbBfF]|[rR][bBfF]|[bBfF][rR])?['"]/.exec(text.slice(i, i + 3));
    if (stringStart) {
      const prefix = stringStart[0].slice(0, -1).toLowerCase();
      const quote = text[i + prefix.length]!;
      const triple = text.startsWith(quote.repeat(3), i + prefix.length);
      const delim = triple ? quote.repeat(3) : quote;
      let j = i + prefix.length + delim.length;
      const bodyStart = j;
      for (;;) {
        if (j >= text.length) fail(start, triple ? `the string is not closed by ${delim}` : 'the string is not closed on its line');
        const d = text[j]!;
        if (d === '\\') {
          if (text[j + 1] === '\r' && text[j + 2] === '\n') j++;
          if (text[j + 1] === '\n') newline(j + 1);
          j += 2;
          continue;
        }
        if (!triple && (d === '\n' || d === '\r')) fail(start, 'the string is not closed on its line');
        if (d === '\n') newline(j);
        if (text.startsWith(delim, j)) break;
        j++;
      }
      const raw = text.slice(bodyStart, j);
      const value = prefix.includes('b') || prefix.includes('f') ? undefined : prefix.includes('r') ? raw.replace(/\r\n/g, '\n') : unescapePython(raw.replace(/\r\n/g, '\n'));
      current.tokens.push({ kind: 'string', text: text.slice(i, j + delim.length), value, ...start });
      i = j + delim.length;
      continue;
    }
    const num = /^(?:0[xXoObB][0-9a-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJ]?)/.exec(text.slice(i, i + 80));
    if (num && /[\d.]/.test(c) && !(c === '.' && !/\d/.test(text[i + 1] ?? ''))) {
      current.tokens.push({ kind: 'number', text: num[0], ...start });
      i += num[0].length;
      continue;
    }
    const name = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*/u.exec(text.slice(i, i + 256));
    if (name) {
      current.tokens.push({ kind: 'name', text: name[0], ...start });
      i += name[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i)) ?? c;
    if (!/[-+*/%@&|^~<>=!.,:;()[\]{}]/.test(op[0]!)) fail(start, `unexpected character '${c}'`);
    const token: Token = { kind: 'op', text: op, ...start };
    if (OPENERS[op]) brackets.push(token);
    else if (CLOSERS.has(op)) {
      const open = brackets.pop();
      if (!open) fail(start, `'${op}' closes nothing`);
      if (OPENERS[open.text] !== op) fail(start, `'${op}' does not match '${open.text}' at line ${open.line}`);
    }
    current.tokens.push(token);
    i += op.length;
  }
  if (brackets.length) {
    const open = brackets[brackets.length - 1]!;
    fail(open, `'${open.text}' is never closed`);
  }
  if (current?.tokens.length) out.push(current);
  return out;
}

/** Python's escapes in a string that is not raw. */
function unescapePython(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(\n|[\\'"abfnrtv]|[0-7]{1,3}|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|N\{[^}]*\})/g, (m, e: string) => {
    switch (e[0]) {
      case '\n':
        return '';
      case 'a':
        return '\x07';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'v':
        return '\v';
      case 'x':
      case 'u':
      case 'U':
        return String.fromCodePoint(parseInt(e.slice(1), 16));
      case 'N':
        return m; // a character by name: kept as written
      default:
        return /^[0-7]/.test(e) ? String.fromCharCode(parseInt(e, 8)) : e;
    }
  });
}
