/**
 * MLflow's search filter grammar, extended with `or` and parentheses, and its `order_by` clauses.
 *
 * Grammar (keywords are case-insensitive; `and` binds tighter than `or`):
 *
 *   filter     := or-expr?
 *   or-expr    := and-expr ( OR and-expr )*
 *   and-expr   := primary ( AND primary )*
 *   primary    := '(' or-expr ')' | comparison
 *   comparison := field operator value
 *   field      := prefix '.' key | attribute          (prefix: metrics, params, tags, attributes, datasets
 *                                                      and MLflow's aliases; a bare name is an attribute)
 *   key        := bare-key | `quoted key` | "quoted key"
 *   value      := 'string' | "string" | number | '(' string ( ',' string )* ')'
 *   order-term := field ( ASC | DESC )?
 *
 * This module is the language: the syntax tree, a lazy tokenizer (`Lexer`) and a recursive-descent
 * parser that checks every field, operator and value against a dialect (searchDialects.ts says what
 * runs, experiments and logged models offer). Compilers from the checked tree to SQL are
 * runSearchSql.ts and loggedModelSearchSql.ts. Everything the user wrote reaches SQLite as a bound
 * `?` parameter; only table and column names chosen there and operators from a closed set appear in
 * the SQL text.
 */
import { invalid, TrackerError } from '../trackerError';

// ---------------------------------------------------------------------------------------------
// Syntax tree

export type FilterEntity = 'metrics' | 'params' | 'tags' | 'attributes' | 'datasets';
export type CompareOp = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

export interface Comparison {
  kind: 'compare';
  entity: FilterEntity;
  /** The key as written (unquoted); for attributes, the canonical attribute name (`created` → `start_time`). */
  key: string;
  op: CompareOp;
  /** A number for numeric fields, a string for string fields, a list for IN / NOT IN. */
  value: string | number | string[];
  /** Offsets of the comparison in the filter text, `end` exclusive. */
  start: number;
  end: number;
}

export interface Junction {
  kind: 'and' | 'or';
  left: FilterExpr;
  right: FilterExpr;
}

export type FilterExpr = Comparison | Junction;

export interface OrderTerm {
  entity: Exclude<FilterEntity, 'datasets'>;
  /** As for `Comparison.key`. */
  key: string;
  descending: boolean;
}

/** A filter the parser rejected; `position` is the 0-based offset of the offending text. */
export class FilterSyntaxError extends TrackerError {
  constructor(
    readonly position: number,
    readonly detail: string,
  ) {
    super('INVALID_PARAMETER_VALUE', `Invalid filter at position ${position}: ${detail}`);
    this.name = 'FilterSyntaxError';
  }
}

// ---------------------------------------------------------------------------------------------
// Dialects: which fields exist, their types, operators and columns

export type ValueType = 'number' | 'string';

export const NUMERIC_OPS: readonly CompareOp[] = ['=', '!=', '>', '>=', '<', '<='];
export const STRING_OPS: readonly CompareOp[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];
export const PLAIN_STRING_OPS: readonly CompareOp[] = ['=', '!=', 'LIKE', 'ILIKE'];
const ALL_OPS: readonly CompareOp[] = ['=', '!=', '>', '>=', '<', '<=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];

export interface FieldSpec {
  type: ValueType;
  ops: readonly CompareOp[];
  /** SQL column or expression, for closed-keyed entities. */
  column?: string;
  /** The column may be NULL (sorts last, like a missing key). */
  nullable?: boolean;
  /** False for fields that may be ordered by but not filtered on. */
  filterable?: boolean;
  /** A quoted integer is taken as that number (MLflow's `int(value)` for a model version's number). */
  quotedInteger?: boolean;
}

export interface EntitySpec {
  /** Singular, for messages: "metric 'acc'". */
  noun: string;
  /** Open-keyed entities (metrics, params, tags): every key has this spec. */
  anyKey?: FieldSpec;
  /** Closed-keyed entities (attributes, datasets): the keys there are, by canonical name. */
  keys?: Record<string, FieldSpec>;
  aliases?: Record<string, string>;
  orderable: boolean;
}

export interface Dialect {
  /** 'runs' or 'experiments', for messages. */
  subject: string;
  /** A field to show in "expected … such as X". */
  example: string;
  entities: Partial<Record<FilterEntity, EntitySpec>>;
}

/** MLflow's entity prefixes and their aliases. */
const PREFIXES: Record<string, FilterEntity> = {
  metrics: 'metrics',
  metric: 'metrics',
  params: 'params',
  param: 'params',
  parameters: 'params',
  parameter: 'params',
  tags: 'tags',
  tag: 'tags',
  attributes: 'attributes',
  attribute: 'attributes',
  attr: 'attributes',
  run: 'attributes',
  datasets: 'datasets',
  dataset: 'datasets',
};

/** A field the parser resolved against a dialect. */
interface Field {
  entity: FilterEntity;
  key: string;
  spec: FieldSpec;
  noun: string;
  start: number;
  end: number;
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

type TokenKind = 'word' | 'string' | 'backtick' | 'op' | '(' | ')' | ',' | 'end';

interface Token {
  kind: TokenKind;
  /** The source text of the token. */
  text: string;
  /** Strings and backtick keys: the unquoted, unescaped content; otherwise the text. */
  value: string;
  start: number;
  end: number;
}

export type Fail = (position: number, detail: string) => never;

/** Characters of bare keys, attribute names, keywords and numbers (MLflow keys: `[\w./\- :]`). */
const WORD = /[\p{L}\p{N}_.\-/:+]+/uy;
const SPACE = /\s+/y;
const OPERATOR = /!=|>=|<=|=|>|</y;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

class Lexer {
  private pos = 0;
  private lookahead: Token | undefined;

  constructor(
    readonly text: string,
    readonly fail: Fail,
    /** How the end of the input is named in messages. */
    private readonly endName: string,
  ) {}

  peek(): Token {
    return (this.lookahead ??= this.scan());
  }

  next(): Token {
    const t = this.peek();
    this.lookahead = undefined;
    return t;
  }

  /** The next token if it is the keyword `word` (case-insensitive). */
  acceptKeyword(word: string): Token | undefined {
    const t = this.peek();
    if (t.kind === 'word' && t.text.toUpperCase() === word) return this.next();
    return undefined;
  }

  describe(t: Token): string {
    if (t.kind === 'end') return this.endName;
    if (t.kind === 'string') return `the string ${t.text}`;
    return `'${t.text}'`;
  }

  private scan(): Token {
    const text = this.text;
    SPACE.lastIndex = this.pos;
    if (SPACE.test(text)) this.pos = SPACE.lastIndex;
    const start = this.pos;
    if (start >= text.length) return { kind: 'end', text: '', value: '', start, end: start };
    const ch = text[start]!;
    if (ch === '(' || ch === ')' || ch === ',') {
      this.pos = start + 1;
      return { kind: ch, text: ch, value: ch, start, end: start + 1 };
    }
    if (ch === "'" || ch === '"' || ch === '`') return this.scanQuoted(ch, start);
    OPERATOR.lastIndex = start;
    const op = OPERATOR.exec(text);
    if (op) return this.token('op', start, start + op[0].length);
    WORD.lastIndex = start;
    if (WORD.test(text)) return this.token('word', start, WORD.lastIndex);
    const shown = String.fromCodePoint(text.codePointAt(start)!);
    return this.fail(start, `unexpected character '${shown}'${ch === '!' ? " (did you mean '!='?)" : ''}`);
  }

  private token(kind: TokenKind, start: number, end: number): Token {
    this.pos = end;
    const text = this.text.slice(start, end);
    return { kind, text, value: text, start, end };
  }

  /**
   * A quoted string ('…' or "…") or key (`…`). A doubled quote stands for itself; in strings a
   * backslash escapes a quote or a backslash (any other backslash is kept as written).
   */
  private scanQuoted(quote: string, start: number): Token {
    const text = this.text;
    let value = '';
    for (let i = start + 1; i < text.length; ) {
      const ch = text[i]!;
      if (ch === '\\' && quote !== '`' && i + 1 < text.length) {
        const escaped = text[i + 1]!;
        value += escaped === "'" || escaped === '"' || escaped === '\\' ? escaped : ch + escaped;
        i += 2;
      } else if (ch === quote && text[i + 1] === quote) {
        value += quote;
        i += 2;
      } else if (ch === quote) {
        this.pos = i + 1;
        const kind = quote === '`' ? 'backtick' : 'string';
        return { kind, text: text.slice(start, i + 1), value, start, end: i + 1 };
      } else {
        value += ch;
        i += 1;
      }
    }
    const what = quote === '`' ? 'quoted key' : 'string';
    return this.fail(start, `unterminated ${what}: no closing ${quote} for the ${quote} at position ${start}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Parser

export class Parser {
  readonly lex: Lexer;

  constructor(
    text: string,
    private readonly dialect: Dialect,
    fail: Fail,
    endName: string,
  ) {
    this.lex = new Lexer(text, fail, endName);
  }

  private fail(position: number, detail: string): never {
    return this.lex.fail(position, detail);
  }

  /** Comparisons and IN-list values read so far, parentheses open now: bounded, so a hostile filter costs little. */
  private comparisons = 0;
  private listValues = 0;
  private depth = 0;

  filter(): FilterExpr | undefined {
    if (this.lex.peek().kind === 'end') return undefined;
    const expr = this.orExpr();
    const t = this.lex.peek();
    if (t.kind === ')') this.fail(t.start, "unbalanced ')': there is no '(' for it to close");
    if (t.kind !== 'end') {
      const found = this.lex.describe(t);
      this.fail(t.start, `expected AND, OR or the end of the filter after the comparison, found ${found}`);
    }
    return expr;
  }

  orderTerm(): OrderTerm {
    const field = this.field('order');
    let descending = false;
    if (this.lex.acceptKeyword('DESC')) descending = true;
    else this.lex.acceptKeyword('ASC');
    const t = this.lex.peek();
    if (t.kind !== 'end') {
      this.fail(t.start, `expected ASC, DESC or the end of the clause, found ${this.lex.describe(t)}`);
    }
    return { entity: field.entity as OrderTerm['entity'], key: field.key, descending };
  }

  private orExpr(): FilterExpr {
    let left = this.andExpr();
    while (this.lex.acceptKeyword('OR')) left = { kind: 'or', left, right: this.andExpr() };
    return left;
  }

  private andExpr(): FilterExpr {
    let left = this.primary();
    while (this.lex.acceptKeyword('AND')) left = { kind: 'and', left, right: this.primary() };
    return left;
  }

  private primary(): FilterExpr {
    const t = this.lex.peek();
    if (t.kind !== '(') {
      if (++this.comparisons > MAX_FILTER_COMPARISONS) {
        this.fail(t.start, `too many comparisons: a filter may hold at most ${MAX_FILTER_COMPARISONS}`);
      }
      return this.comparison();
    }
    if (++this.depth > MAX_FILTER_NESTING) {
      this.fail(t.start, `parentheses nested too deep: at most ${MAX_FILTER_NESTING} levels`);
    }
    this.lex.next();
    const inner = this.lex.peek();
    if (inner.kind === ')') this.fail(inner.start, "empty parentheses: expected a comparison between '(' and ')'");
    const expr = this.orExpr();
    const close = this.lex.next();
    if (close.kind !== ')') {
      this.fail(
        close.start,
        `expected ')' to close the '(' at position ${t.start}, found ${this.lex.describe(close)}`,
      );
    }
    this.depth--;
    return expr;
  }

  private comparison(): Comparison {
    const field = this.field('filter');
    const opToken = this.lex.peek();
    const op = this.operator(field);
    if (!field.spec.ops.includes(op)) {
      const nature =
        field.entity === 'metrics' || field.entity === 'params' || field.entity === 'tags'
          ? `${field.entity} are ${field.spec.type === 'number' ? 'numbers' : 'strings'}`
          : `${field.noun} '${field.key}' is ${field.spec.type === 'number' ? 'a number' : 'a string'}`;
      this.fail(
        opToken.start,
        `operator '${op}' is not valid for ${field.noun} '${field.key}' (${nature}); use one of ${field.spec.ops.join(', ')}`,
      );
    }
    const { value, end } = op === 'IN' || op === 'NOT IN' ? this.list(field, op) : this.scalar(field);
    return { kind: 'compare', entity: field.entity, key: field.key, op, value, start: field.start, end };
  }

  /** `prefix.key`, `` prefix.`key` ``, `prefix."key"` or a bare attribute name. */
  private field(purpose: 'filter' | 'order'): Field {
    const t = this.lex.next();
    const example = this.dialect.example;
    if (t.kind !== 'word') {
      const what = purpose === 'filter' ? 'a comparison' : 'a field to order by';
      this.fail(t.start, `expected ${what} such as ${example}, found ${this.lex.describe(t)}`);
    }
    const dot = t.text.indexOf('.');
    if (dot < 0) return this.closedKey('attributes', t.text, t.start, t.end, purpose, true);

    const prefix = t.text.slice(0, dot);
    const entity = own(PREFIXES, prefix.toLowerCase());
    if (!entity) this.fail(t.start, this.unknownPrefix(prefix, t.text.slice(dot + 1)));
    const spec = this.dialect.entities[entity];
    if (!spec) this.fail(t.start, `${this.dialect.subject} have no ${entity}; ${this.fieldsHint(purpose)}`);
    if (purpose === 'order' && !spec.orderable) {
      this.fail(t.start, `cannot order ${this.dialect.subject} by ${entity}; ${this.fieldsHint('order')}`);
    }

    let key = t.text.slice(dot + 1);
    let keyStart = t.start + dot + 1;
    let end = t.end;
    if (key === '') {
      const quoted = this.lex.peek();
      const adjacent = quoted.start === t.end && (quoted.kind === 'backtick' || quoted.text.startsWith('"'));
      if (!adjacent) {
        this.fail(t.end, `expected a key after '${t.text}' (quote it with backticks or double quotes if it has spaces)`);
      }
      this.lex.next();
      if (quoted.value === '') this.fail(quoted.start, `empty key after '${t.text}'`);
      key = quoted.value;
      keyStart = quoted.start;
      end = quoted.end;
    }
    if (spec.anyKey) return { entity, key, spec: spec.anyKey, noun: spec.noun, start: t.start, end };
    return this.closedKey(entity, key, keyStart, end, purpose, false, t.start);
  }

  /** An attribute or dataset field, which must be one the dialect knows. */
  private closedKey(
    entity: FilterEntity,
    written: string,
    keyStart: number,
    end: number,
    purpose: 'filter' | 'order',
    bare: boolean,
    start = keyStart,
  ): Field {
    const spec = this.dialect.entities[entity]!;
    const keys = spec.keys!;
    const key = own(spec.aliases ?? {}, written) ?? (own(keys, written) ? written : written.toLowerCase());
    const field = own(keys, key);
    const usable = field && (purpose === 'order' || field.filterable !== false);
    if (!usable) {
      const known = Object.keys(keys).filter((k) => purpose === 'order' || keys[k]!.filterable !== false);
      let detail = `unknown ${spec.noun} '${written}'; ${this.dialect.subject} have ${known.join(', ')}`;
      if (bare && this.dialect.entities.metrics && this.dialect.entities.params) {
        detail += `, or use metrics.${written}, params.${written} or tags.${written}`;
      } else if (bare) {
        detail += `, or use tags.${written}`;
      }
      this.fail(keyStart, detail);
    }
    return { entity, key, spec: field, noun: spec.noun, start, end };
  }

  private operator(field: Field): CompareOp {
    const t = this.lex.next();
    if (t.kind === 'op') return t.text as CompareOp;
    if (t.kind === 'word') {
      const upper = t.text.toUpperCase();
      if (upper === 'LIKE' || upper === 'ILIKE' || upper === 'IN') return upper;
      if (upper === 'NOT') {
        const next = this.lex.next();
        if (next.kind === 'word' && next.text.toUpperCase() === 'IN') return 'NOT IN';
        this.fail(next.start, `expected IN after NOT, found ${this.lex.describe(next)}`);
      }
    }
    const written = this.lex.text.slice(field.start, field.end);
    return this.fail(
      t.start,
      `expected a comparison operator (${ALL_OPS.join(', ')}) after '${written}', found ${this.lex.describe(t)}`,
    );
  }

  private scalar(field: Field): { value: string | number; end: number } {
    const t = this.lex.next();
    const what = `${field.noun} '${field.key}'`;
    const isNumber = t.kind === 'word' && NUMBER.test(t.text);
    if (field.spec.type === 'number') {
      if (field.spec.quotedInteger && t.kind === 'string' && /^\s*[+-]?\d+\s*$/.test(t.value)) return { value: Number(t.value), end: t.end };
      if (!isNumber) this.fail(t.start, `expected a number for ${what}, found ${this.lex.describe(t)}`);
      return { value: Number(t.text), end: t.end };
    }
    if (t.kind === 'string') return { value: t.value, end: t.end };
    const hint = isNumber ? ` (strings are quoted: '${t.text}')` : '';
    return this.fail(t.start, `expected a quoted string for ${what}, found ${this.lex.describe(t)}${hint}`);
  }

  private list(field: Field, op: CompareOp): { value: string[]; end: number } {
    const open = this.lex.next();
    if (open.kind !== '(') {
      this.fail(open.start, `expected '(' to start the list after ${op}, found ${this.lex.describe(open)}`);
    }
    if (this.lex.peek().kind === ')') this.fail(this.lex.peek().start, `empty list after ${op}`);
    const values: string[] = [];
    for (;;) {
      const item = this.lex.next();
      if (item.kind !== 'string') {
        this.fail(
          item.start,
          `expected a quoted string in the list for ${field.noun} '${field.key}', found ${this.lex.describe(item)}`,
        );
      }
      if (++this.listValues > MAX_FILTER_LIST_VALUES) {
        this.fail(item.start, `too many values in IN lists: a filter may hold at most ${MAX_FILTER_LIST_VALUES} in all`);
      }
      values.push(item.value);
      const sep = this.lex.next();
      if (sep.kind === ')') return { value: values, end: sep.end };
      if (sep.kind !== ',') {
        this.fail(sep.start, `expected ',' or ')' in the list after ${op}, found ${this.lex.describe(sep)}`);
      }
    }
  }

  private unknownPrefix(prefix: string, rest: string): string {
    const allowed = Object.keys(PREFIXES).filter((p) => this.dialect.entities[PREFIXES[p]!]);
    let best: string | undefined;
    let bestDistance = 3;
    for (const candidate of allowed) {
      const d = editDistance(prefix.toLowerCase(), candidate);
      if (d < bestDistance) {
        bestDistance = d;
        best = PREFIXES[candidate];
      }
    }
    const canonical = Object.keys(this.dialect.entities).map((e) => `${e}.`);
    return best
      ? `unknown prefix '${prefix}.'; did you mean '${best}.${rest}'?`
      : `unknown prefix '${prefix}.'; use ${canonical.join(', ')}`;
  }

  private fieldsHint(purpose: 'filter' | 'order'): string {
    const entities = Object.entries(this.dialect.entities)
      .filter(([, spec]) => purpose === 'filter' || spec.orderable)
      .map(([entity, spec]) =>
        spec.anyKey
          ? `${entity}.<key>`
          : Object.keys(spec.keys!)
              .filter((k) => purpose === 'order' || spec.keys![k]!.filterable !== false)
              .map((k) => (entity === 'attributes' ? k : `${entity}.${k}`))
              .join(', '),
      );
    return `use ${entities.join(', ')}`;
  }
}

/** `record[key]` if it is the record's own property (never `constructor` and the like). */
export function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

export function filterFail(position: number, detail: string): never {
  throw new FilterSyntaxError(position, detail);
}

/** Bounds on one filter, far above what a person writes, well below SQLite's expression limits. */
export const MAX_FILTER_COMPARISONS = 200;
export const MAX_FILTER_NESTING = 32;
/**
 * Values in all the IN / NOT IN lists of one filter (MLflow bounds none): each is a parameter of
 * the search's one SQL statement, and SQLite takes at most 32,766.
 */
export const MAX_FILTER_LIST_VALUES = 10_000;

export function parseFilter(text: string, dialect: Dialect): FilterExpr | undefined {
  return new Parser(text, dialect, filterFail, 'the end of the filter').filter();
}


export function parseOrderBy(clauses: readonly string[] | undefined, dialect: Dialect): OrderTerm[] {
  const terms: OrderTerm[] = [];
  const seen = new Set<string>();
  for (const clause of clauses ?? []) {
    if (clause.trim() === '') continue;
    const fail: Fail = (position, detail) => {
      throw invalid(`Invalid order_by clause '${clause}' at position ${position}: ${detail}`);
    };
    const term = new Parser(clause, dialect, fail, 'the end of the clause').orderTerm();
    const id = `${term.entity}.${term.key}`;
    if (seen.has(id)) throw invalid(`Invalid order_by: ${id} appears more than once`);
    seen.add(id);
    terms.push(term);
  }
  return terms;
}

