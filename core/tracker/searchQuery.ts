/**
 * MLflow's search filter grammar, extended with `or` and parentheses, plus `order_by` clauses and
 * page tokens, compiled to one parameterised SQLite SELECT over the tracker schema (schema.ts).
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
 * The module is three layers: a lazy tokenizer (`Lexer`), a recursive-descent parser that checks
 * every field, operator and value against a dialect (runs or experiments), and compilers from the
 * checked syntax tree to SQL. Everything the user wrote reaches SQLite as a bound `?` parameter;
 * only table and column names chosen here and operators from a closed set appear in the SQL text.
 */
import type { ExperimentSearch, LoggedModelOrder, LoggedModelSearch, Page, RunSearch, ViewType } from './model';
import { LOGGED_MODEL_STATUSES } from './model';
import type { SqlValue } from './sqlStore';
import { invalid, TrackerError } from './trackerError';

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

type ValueType = 'number' | 'string';

const NUMERIC_OPS: readonly CompareOp[] = ['=', '!=', '>', '>=', '<', '<='];
const STRING_OPS: readonly CompareOp[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];
const PLAIN_STRING_OPS: readonly CompareOp[] = ['=', '!=', 'LIKE', 'ILIKE'];
const ALL_OPS: readonly CompareOp[] = ['=', '!=', '>', '>=', '<', '<=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];

interface FieldSpec {
  type: ValueType;
  ops: readonly CompareOp[];
  /** SQL column or expression, for closed-keyed entities. */
  column?: string;
  /** The column may be NULL (sorts last, like a missing key). */
  nullable?: boolean;
  /** False for fields that may be ordered by but not filtered on. */
  filterable?: boolean;
}

interface EntitySpec {
  /** Singular, for messages: "metric 'acc'". */
  noun: string;
  /** Open-keyed entities (metrics, params, tags): every key has this spec. */
  anyKey?: FieldSpec;
  /** Closed-keyed entities (attributes, datasets): the keys there are, by canonical name. */
  keys?: Record<string, FieldSpec>;
  aliases?: Record<string, string>;
  orderable: boolean;
}

interface Dialect {
  /** 'runs' or 'experiments', for messages. */
  subject: string;
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

const RUN_DIALECT: Dialect = {
  subject: 'runs',
  entities: {
    metrics: { noun: 'metric', anyKey: { type: 'number', ops: NUMERIC_OPS }, orderable: true },
    params: { noun: 'param', anyKey: { type: 'string', ops: STRING_OPS }, orderable: true },
    tags: { noun: 'tag', anyKey: { type: 'string', ops: STRING_OPS }, orderable: true },
    attributes: {
      noun: 'attribute',
      keys: {
        run_id: { type: 'string', ops: STRING_OPS, column: 'r.run_uuid' },
        run_name: { type: 'string', ops: STRING_OPS, column: 'r.name' },
        status: { type: 'string', ops: STRING_OPS, column: 'r.status' },
        user_id: { type: 'string', ops: STRING_OPS, column: 'r.user_id' },
        artifact_uri: { type: 'string', ops: STRING_OPS, column: 'r.artifact_uri' },
        lifecycle_stage: { type: 'string', ops: STRING_OPS, column: 'r.lifecycle_stage' },
        start_time: { type: 'number', ops: NUMERIC_OPS, column: 'r.start_time' },
        end_time: { type: 'number', ops: NUMERIC_OPS, column: 'r.end_time', nullable: true },
      },
      aliases: { created: 'start_time', Created: 'start_time' },
      orderable: true,
    },
    datasets: {
      noun: 'dataset field',
      keys: {
        name: { type: 'string', ops: STRING_OPS, column: 'd.name' },
        digest: { type: 'string', ops: STRING_OPS, column: 'd.digest' },
        context: {
          type: 'string',
          ops: STRING_OPS,
          column: `json_extract(ri.tags, '$."mlflow.data.context"')`,
        },
      },
      orderable: false,
    },
  },
};

const EXPERIMENT_DIALECT: Dialect = {
  subject: 'experiments',
  entities: {
    tags: { noun: 'tag', anyKey: { type: 'string', ops: PLAIN_STRING_OPS }, orderable: false },
    attributes: {
      noun: 'attribute',
      keys: {
        name: { type: 'string', ops: PLAIN_STRING_OPS, column: 'e.name' },
        creation_time: { type: 'number', ops: NUMERIC_OPS, column: 'e.creation_time' },
        last_update_time: { type: 'number', ops: NUMERIC_OPS, column: 'e.last_update_time' },
        experiment_id: { type: 'number', ops: [], column: 'e.experiment_id', filterable: false },
      },
      orderable: true,
    },
  },
};

/**
 * MLflow 3's logged models (mlflow/utils/search_logged_model_utils.py): attributes (the columns of
 * `logged_models`, with MLflow's aliases `creation_time`, `creation_timestamp`,
 * `last_updated_timestamp`), metrics (any point linked to the model), params and tags.
 */
const LOGGED_MODEL_DIALECT: Dialect = {
  subject: 'logged models',
  entities: {
    metrics: { noun: 'metric', anyKey: { type: 'number', ops: NUMERIC_OPS }, orderable: true },
    params: { noun: 'param', anyKey: { type: 'string', ops: STRING_OPS }, orderable: false },
    tags: { noun: 'tag', anyKey: { type: 'string', ops: STRING_OPS }, orderable: false },
    attributes: {
      noun: 'attribute',
      keys: {
        name: { type: 'string', ops: STRING_OPS, column: 'lm.name' },
        model_id: { type: 'string', ops: STRING_OPS, column: 'lm.model_id' },
        status: { type: 'string', ops: STRING_OPS, column: 'lm.status' },
        model_type: { type: 'string', ops: STRING_OPS, column: 'lm.model_type', nullable: true },
        source_run_id: { type: 'string', ops: STRING_OPS, column: 'lm.source_run_id', nullable: true },
        status_message: { type: 'string', ops: STRING_OPS, column: 'lm.status_message', nullable: true },
        artifact_location: { type: 'string', ops: STRING_OPS, column: 'lm.artifact_location' },
        creation_timestamp_ms: { type: 'number', ops: NUMERIC_OPS, column: 'lm.creation_timestamp_ms' },
        last_updated_timestamp_ms: { type: 'number', ops: NUMERIC_OPS, column: 'lm.last_updated_timestamp_ms' },
      },
      aliases: {
        creation_time: 'creation_timestamp_ms',
        creation_timestamp: 'creation_timestamp_ms',
        last_updated_timestamp: 'last_updated_timestamp_ms',
        artifact_uri: 'artifact_location',
      },
      orderable: true,
    },
  },
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

type Fail = (position: number, detail: string) => never;

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

class Parser {
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

  /** Comparisons read so far and parentheses open now: bounded, so a hostile filter costs little. */
  private comparisons = 0;
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
    const example = this.dialect === RUN_DIALECT ? 'metrics.acc' : 'name';
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
function own<T>(record: Record<string, T>, key: string): T | undefined {
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

function filterFail(position: number, detail: string): never {
  throw new FilterSyntaxError(position, detail);
}

/** Bounds on one filter, far above what a person writes, well below SQLite's expression limits. */
export const MAX_FILTER_COMPARISONS = 200;
export const MAX_FILTER_NESTING = 32;

function parseFilter(text: string, dialect: Dialect): FilterExpr | undefined {
  return new Parser(text, dialect, filterFail, 'the end of the filter').filter();
}

/** Parses a run filter; undefined for an empty one. Throws `FilterSyntaxError`. */
export function parseRunFilter(text: string): FilterExpr | undefined {
  return parseFilter(text, RUN_DIALECT);
}

/** Parses an experiment filter (`name`, `creation_time`, `last_update_time`, `tags.<key>`). */
export function parseExperimentFilter(text: string): FilterExpr | undefined {
  return parseFilter(text, EXPERIMENT_DIALECT);
}

function parseOrderBy(clauses: readonly string[] | undefined, dialect: Dialect): OrderTerm[] {
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

/** Parses run `order_by` clauses such as `metrics.acc DESC` or `start_time`. */
export function parseRunOrderBy(clauses: readonly string[] | undefined): OrderTerm[] {
  return parseOrderBy(clauses, RUN_DIALECT);
}

// ---------------------------------------------------------------------------------------------
// Compiler

/** Translates a (case-sensitive) SQL LIKE pattern to an equivalent SQLite GLOB pattern. */
export function likeToGlob(pattern: string): string {
  let glob = '';
  for (const ch of pattern) {
    if (ch === '%') glob += '*';
    else if (ch === '_') glob += '?';
    else if (ch === '*' || ch === '?' || ch === '[') glob += `[${ch}]`;
    else glob += ch;
  }
  return glob;
}

/** `column <op> ?`, pushing the comparison's value(s) onto `params`. */
function predicate(column: string, c: Comparison, params: SqlValue[]): string {
  const v = c.value;
  if (Array.isArray(v)) {
    params.push(...v);
    return `${column} ${c.op} (${v.map(() => '?').join(', ')})`;
  }
  if (c.op === 'LIKE') {
    params.push(likeToGlob(String(v)));
    return `${column} GLOB ?`;
  }
  if (c.op === 'ILIKE') {
    params.push(v);
    return `lower(${column}) LIKE lower(?)`;
  }
  params.push(v);
  return `${column} ${c.op} ?`;
}


function closedColumn(dialect: Dialect, entity: FilterEntity, key: string): FieldSpec {
  return dialect.entities[entity]!.keys![key]!;
}

/**
 * The ids of runs whose metric, param or tag matches: one range scan of the table's `(key, value)`
 * index (`latest_metrics_by_value`, `params_by_key`, `tags_by_key`). `!=` and NOT IN select runs
 * that have the key with another value, as in MLflow; runs without the key never match.
 */
function keyedRunIds(c: Comparison, params: SqlValue[]): string {
  params.push(c.key);
  if (c.entity === 'metrics') {
    return (
      'SELECT lm.run_id FROM latest_metrics lm WHERE ' +
      'lm.key_id = (SELECT mk.key_id FROM metric_keys mk WHERE mk.key = ?) AND ' +
      predicate('lm.value', c, params)
    );
  }
  const table = c.entity === 'params' ? 'params' : 'tags';
  return `SELECT k.run_id FROM ${table} k WHERE k.key = ? AND ${predicate('k.value', c, params)}`;
}

function isKeyed(e: FilterExpr): e is Comparison {
  return e.kind === 'compare' && (e.entity === 'metrics' || e.entity === 'params' || e.entity === 'tags');
}

function conjuncts(e: FilterExpr): FilterExpr[] {
  return e.kind === 'and' ? [...conjuncts(e.left), ...conjuncts(e.right)] : [e];
}

/**
 * A run filter as a WHERE condition. Metric, param and tag comparisons are `r.id IN (ids)`; the
 * keyed comparisons of one AND chain share a single `r.id IN (ids INTERSECT ids …)`, which SQLite
 * evaluates once, instead of probing every candidate run against each list.
 */
function runCondition(e: FilterExpr, params: SqlValue[]): string {
  if (e.kind === 'or') return `(${runCondition(e.left, params)} OR ${runCondition(e.right, params)})`;
  if (e.kind === 'compare') return isKeyed(e) ? `r.id IN (${keyedRunIds(e, params)})` : runComparison(e, params);
  const all = conjuncts(e);
  const keyed = all.filter(isKeyed);
  const parts: string[] = [];
  if (keyed.length > 1) parts.push(`r.id IN (${keyed.map((c) => keyedRunIds(c, params)).join(' INTERSECT ')})`);
  for (const c of all) {
    if (keyed.length > 1 && isKeyed(c)) continue;
    parts.push(runCondition(c, params));
  }
  return `(${parts.join(' AND ')})`;
}

/** An attribute or dataset comparison. */
function runComparison(c: Comparison, params: SqlValue[]): string {
  if (c.entity === 'datasets') {
    const column = closedColumn(RUN_DIALECT, 'datasets', c.key).column!;
    return (
      'EXISTS (SELECT 1 FROM run_inputs ri JOIN datasets d ON d.dataset_id = ri.dataset_id ' +
      `WHERE ri.run_id = r.id AND ${predicate(column, c, params)})`
    );
  }
  return predicate(closedColumn(RUN_DIALECT, 'attributes', c.key).column!, c, params);
}

function experimentCondition(e: FilterExpr, params: SqlValue[]): string {
  if (e.kind !== 'compare') {
    const left = experimentCondition(e.left, params);
    const right = experimentCondition(e.right, params);
    return `(${left} ${e.kind === 'and' ? 'AND' : 'OR'} ${right})`;
  }
  return experimentComparison(e, params);
}

function experimentComparison(c: Comparison, params: SqlValue[]): string {
  if (c.entity === 'tags') {
    params.push(c.key);
    return (
      'e.experiment_id IN (SELECT et.experiment_id FROM experiment_tags et ' +
      `WHERE et.key = ? AND ${predicate('et.value', c, params)})`
    );
  }
  return predicate(closedColumn(EXPERIMENT_DIALECT, 'attributes', c.key).column!, c, params);
}

/** `expr IS NULL, expr DIR` puts missing values last in both directions. */
function orderKey(expr: string, descending: boolean, nullable: boolean): string[] {
  const direction = `${expr} ${descending ? 'DESC' : 'ASC'}`;
  return nullable ? [`${expr} IS NULL`, direction] : [direction];
}

interface OrderSql {
  joins: string[];
  joinParams: SqlValue[];
  keys: string[];
}

/**
 * Run ordering: metrics by latest value, params and tags by value, each through a LEFT JOIN on the
 * table's primary key (at most one row per run); runs lacking the key (or with a NaN metric) sort
 * last. Like MLflow, `start_time DESC` and then `run_uuid` are appended unless already present.
 */
function runOrder(terms: OrderTerm[]): OrderSql {
  const out: OrderSql = { joins: [], joinParams: [], keys: [] };
  terms.forEach((term, i) => {
    const alias = `o${i}`;
    if (term.entity === 'attributes') {
      const spec = closedColumn(RUN_DIALECT, 'attributes', term.key);
      out.keys.push(...orderKey(spec.column!, term.descending, spec.nullable === true));
      return;
    }
    if (term.entity === 'metrics') {
      out.joins.push(
        `LEFT JOIN latest_metrics ${alias} ON ${alias}.run_id = r.id AND ` +
          `${alias}.key_id = (SELECT mk.key_id FROM metric_keys mk WHERE mk.key = ?)`,
      );
    } else {
      out.joins.push(`LEFT JOIN ${term.entity} ${alias} ON ${alias}.run_id = r.id AND ${alias}.key = ?`);
    }
    out.joinParams.push(term.key);
    out.keys.push(...orderKey(`${alias}.value`, term.descending, true));
  });
  const has = (key: string) => terms.some((t) => t.entity === 'attributes' && t.key === key);
  if (!has('start_time')) out.keys.push('r.start_time DESC');
  if (!has('run_id')) out.keys.push('r.run_uuid ASC');
  return out;
}

function experimentOrder(terms: OrderTerm[]): string[] {
  const keys = terms.flatMap((t) =>
    orderKey(closedColumn(EXPERIMENT_DIALECT, 'attributes', t.key).column!, t.descending, false),
  );
  if (terms.length === 0) keys.push('e.creation_time DESC');
  if (!terms.some((t) => t.key === 'experiment_id')) keys.push('e.experiment_id ASC');
  return keys;
}

// ---------------------------------------------------------------------------------------------
// Paging and search options

export const DEFAULT_MAX_RESULTS = 1000;
export const MAX_RESULTS_LIMIT = 50000;

function checkMaxResults(maxResults: number | undefined): number {
  if (maxResults === undefined) return DEFAULT_MAX_RESULTS;
  if (!Number.isInteger(maxResults) || maxResults < 1) {
    throw invalid(`Invalid value ${maxResults} for parameter 'max_results' supplied. It must be a positive integer`);
  }
  if (maxResults > MAX_RESULTS_LIMIT) {
    throw invalid(
      `Invalid value ${maxResults} for parameter 'max_results' supplied. It must be at most ${MAX_RESULTS_LIMIT}`,
    );
  }
  return maxResults;
}

/** An opaque token for the page starting at `offset` (base64url of `{"offset":n}`, as MLflow's). */
export function nextPageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

/** The offset a page token stands for; 0 for no token. Also accepts MLflow's base64 tokens. */
export function pageOffset(token?: string): number {
  if (token === undefined || token === '') return 0;
  const shown = token.length > 40 ? `${token.slice(0, 40)}…` : token;
  const bad = () => invalid(`Invalid page token '${shown}': it was not returned by a previous search`);
  if (!/^[A-Za-z0-9_\-+/]+={0,2}$/.test(token)) throw bad();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
  } catch {
    throw bad();
  }
  const offset = (decoded as { offset?: unknown } | null)?.offset;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw bad();
  return offset;
}

function lifecycleStage(viewType: ViewType | undefined): string | undefined {
  switch (viewType ?? 'ACTIVE_ONLY') {
    case 'ACTIVE_ONLY':
      return 'active';
    case 'DELETED_ONLY':
      return 'deleted';
    case 'ALL':
      return undefined;
    default:
      throw invalid(`Invalid view type '${String(viewType)}': expected ACTIVE_ONLY, DELETED_ONLY or ALL`);
  }
}

function experimentId(id: string): number {
  const n = /^\d+$/.test(id) ? Number(id) : NaN;
  if (!Number.isSafeInteger(n)) throw invalid(`Invalid experiment id '${id}': experiment ids are numbers`);
  return n;
}

/** A compiled search: run `sql` with `params`; it returns up to `maxResults + 1` ids. */
export interface CompiledSearch {
  sql: string;
  params: SqlValue[];
  maxResults: number;
  offset: number;
}

function assemble(
  head: string,
  joins: OrderSql,
  where: string[],
  whereParams: SqlValue[],
  maxResults: number,
  offset: number,
): CompiledSearch {
  const parts = [head, ...joins.joins];
  if (where.length > 0) parts.push(`WHERE ${where.join(' AND ')}`);
  parts.push(`ORDER BY ${joins.keys.join(', ')}`, 'LIMIT ? OFFSET ?');
  return {
    sql: parts.join(' '),
    params: [...joins.joinParams, ...whereParams, maxResults + 1, offset],
    maxResults,
    offset,
  };
}

/**
 * One SELECT of the matching runs' `r.id`, in order, for the requested page (plus one row, to
 * tell whether another page follows; see `takePage`). `experimentIds` undefined means every
 * experiment; an empty list matches nothing (as in MLflow).
 */
export function compileRunSearch(search: RunSearch): CompiledSearch {
  const maxResults = checkMaxResults(search.maxResults);
  const offset = pageOffset(search.pageToken);
  const filter = parseRunFilter(search.filter ?? '');
  const order = runOrder(parseRunOrderBy(search.orderBy));
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (search.experimentIds) {
    const ids = search.experimentIds.map(experimentId);
    where.push(`r.experiment_id IN (${ids.map(() => '?').join(', ')})`);
    params.push(...ids);
  }
  const stage = lifecycleStage(search.viewType);
  if (stage) {
    where.push('r.lifecycle_stage = ?');
    params.push(stage);
  }
  if (filter) where.push(runCondition(filter, params));
  return assemble('SELECT r.id FROM runs r', order, where, params, maxResults, offset);
}

/** One SELECT of the matching experiments' `e.experiment_id`, in order, for the requested page. */
export function compileExperimentSearch(search: ExperimentSearch): CompiledSearch {
  const maxResults = checkMaxResults(search.maxResults);
  const offset = pageOffset(search.pageToken);
  const filter = parseExperimentFilter(search.filter ?? '');
  const keys = experimentOrder(parseOrderBy(search.orderBy, EXPERIMENT_DIALECT));
  const where: string[] = [];
  const params: SqlValue[] = [];
  const stage = lifecycleStage(search.viewType);
  if (stage) {
    where.push('e.lifecycle_stage = ?');
    params.push(stage);
  }
  if (filter) where.push(experimentCondition(filter, params));
  const order: OrderSql = { joins: [], joinParams: [], keys };
  return assemble('SELECT e.experiment_id FROM experiments e', order, where, params, maxResults, offset);
}

/** The page a compiled search's rows make: at most `maxResults` items and the next page's token. */
export function takePage<T>(rows: readonly T[], search: Pick<CompiledSearch, 'maxResults' | 'offset'>): Page<T> {
  if (rows.length <= search.maxResults) return { items: [...rows] };
  return {
    items: rows.slice(0, search.maxResults),
    nextPageToken: nextPageToken(search.offset + search.maxResults),
  };
}

// ---------------------------------------------------------------------------------------------
// Logged models (MLflow 3)

/** SEARCH_LOGGED_MODEL_MAX_RESULTS_DEFAULT in mlflow/store/tracking/__init__.py. */
export const DEFAULT_LOGGED_MODEL_RESULTS = 100;

/** Parses a logged-model filter; undefined for an empty one. Throws `FilterSyntaxError`. */
export function parseLoggedModelFilter(text: string): FilterExpr | undefined {
  return parseFilter(text, LOGGED_MODEL_DIALECT);
}

/** `status = 'READY'` means LOGGED_MODEL_READY: the short names (LoggedModelStatus in Python) are accepted. */
function statusName(value: string): string {
  const upper = value.toUpperCase();
  if ((LOGGED_MODEL_STATUSES as readonly string[]).includes(upper)) return upper;
  const short: Record<string, string> = { UNSPECIFIED: 'LOGGED_MODEL_STATUS_UNSPECIFIED', PENDING: 'LOGGED_MODEL_PENDING', READY: 'LOGGED_MODEL_READY', FAILED: 'LOGGED_MODEL_UPLOAD_FAILED', UPLOAD_FAILED: 'LOGGED_MODEL_UPLOAD_FAILED' };
  return own(short, upper) ?? value;
}

type DatasetFilters = LoggedModelSearch['datasets'];

/** `(m.dataset_name = ? AND m.dataset_digest = ?) OR …` for the metric points that count. */
function datasetCondition(datasets: NonNullable<DatasetFilters>, params: SqlValue[]): string {
  return `(${datasets
    .map((d) => {
      params.push(d.datasetName);
      if (d.datasetDigest === undefined) return '(m.dataset_name = ?)';
      params.push(d.datasetDigest);
      return '(m.dataset_name = ? AND m.dataset_digest = ?)';
    })
    .join(' OR ')})`;
}

/**
 * A logged-model filter as a WHERE condition over `logged_models lm`. As in MLflow, a metric
 * comparison matches a model that has any linked point satisfying it (on one of `datasets`, when
 * given); params and tags match by key and value.
 */
function loggedModelCondition(e: FilterExpr, params: SqlValue[], datasets: DatasetFilters): string {
  if (e.kind !== 'compare') {
    const left = loggedModelCondition(e.left, params, datasets);
    const right = loggedModelCondition(e.right, params, datasets);
    return `(${left} ${e.kind === 'and' ? 'AND' : 'OR'} ${right})`;
  }
  if (e.entity === 'metrics') {
    params.push(e.key);
    let sql = `lm.id IN (SELECT m.model_id FROM logged_model_metrics m WHERE m.key = ? AND ${predicate('m.value', e, params)}`;
    if (datasets?.length) sql += ` AND ${datasetCondition(datasets, params)}`;
    return `${sql})`;
  }
  if (e.entity === 'params' || e.entity === 'tags') {
    params.push(e.key);
    const table = e.entity === 'params' ? 'logged_model_params' : 'logged_model_tags';
    return `lm.id IN (SELECT k.model_id FROM ${table} k WHERE k.key = ? AND ${predicate('k.value', e, params)})`;
  }
  const column = closedColumn(LOGGED_MODEL_DIALECT, 'attributes', e.key).column!;
  if (e.key === 'status' && e.op !== 'LIKE' && e.op !== 'ILIKE') {
    const value = Array.isArray(e.value) ? e.value.map(statusName) : statusName(String(e.value));
    return predicate(column, { ...e, value }, params);
  }
  return predicate(column, e, params);
}

interface LoggedModelPageToken {
  offset: number;
  experiment_ids: string[];
  filter: string | null;
  order_by: LoggedModelOrder[] | null;
}

function loggedModelToken(search: LoggedModelSearch, offset: number): string {
  const token: LoggedModelPageToken = {
    offset,
    experiment_ids: search.experimentIds,
    filter: search.filter ?? null,
    order_by: search.orderBy ?? null,
  };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

/**
 * The offset of a search-logged-models page token, which (as MLflow's SearchLoggedModelsPaginationToken)
 * also carries the search it belongs to: a token from another search is refused.
 */
function loggedModelOffset(search: LoggedModelSearch): number {
  const token = search.pageToken;
  if (token === undefined || token === '') return 0;
  const shown = token.length > 40 ? `${token.slice(0, 40)}…` : token;
  let decoded: Partial<LoggedModelPageToken> | null = null;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<LoggedModelPageToken>;
  } catch {
    /* refused below */
  }
  const offset = decoded?.offset;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw invalid(`Invalid page token '${shown}': it was not returned by a previous search of logged models`);
  }
  const same =
    JSON.stringify(decoded!.experiment_ids) === JSON.stringify(search.experimentIds) &&
    (decoded!.filter ?? null) === (search.filter ?? null) &&
    JSON.stringify(decoded!.order_by ?? null) === JSON.stringify(search.orderBy ?? null);
  if (!same) {
    throw invalid('Invalid page token: it belongs to a search with other experiment_ids, filter or order_by; repeat the search it came from.');
  }
  return offset;
}

/** A compiled search of logged models: it returns up to `maxResults + 1` rows of `id`. */
export interface CompiledLoggedModelSearch extends CompiledSearch {
  /** The token of the page starting at `offset`. */
  pageToken(offset: number): string;
}

/**
 * One SELECT of the matching, non-deleted logged models' `id` in the requested order: each
 * ordering by an attribute (missing values last) or by a metric's latest linked point (by
 * timestamp, then step; on the given dataset if named), then `creation_timestamp_ms DESC` unless
 * ordered by it, as MLflow.
 */
export function compileLoggedModelSearch(search: LoggedModelSearch): CompiledLoggedModelSearch {
  if (search.experimentIds.length === 0) throw invalid("Missing value for required parameter 'experiment_ids'.");
  const maxResults = search.maxResults === undefined || search.maxResults === 0 ? DEFAULT_LOGGED_MODEL_RESULTS : checkMaxResults(search.maxResults);
  const offset = loggedModelOffset(search);
  const filter = parseLoggedModelFilter(search.filter ?? '');
  for (const d of search.datasets ?? []) {
    if (!d.datasetName) throw invalid('`dataset_name` in the `datasets` clause must be specified.');
  }

  const columns: string[] = ['lm.id AS id', 'lm.creation_timestamp_ms AS creation_timestamp_ms'];
  const columnParams: SqlValue[] = [];
  const keys: string[] = [];
  let byCreation = false;
  (search.orderBy ?? []).forEach((o, i) => {
    if (typeof o.fieldName !== 'string' || o.fieldName.trim() === '') throw invalid("Missing value for required parameter 'order_by.field_name'.");
    const fail: Fail = (position, detail) => {
      throw invalid(`Invalid order by field name '${o.fieldName}' at position ${position}: ${detail}`);
    };
    const term = new Parser(o.fieldName, LOGGED_MODEL_DIALECT, fail, 'the end of the field name').orderTerm();
    const descending = term.descending || o.ascending === false;
    const alias = `o${i}`;
    if (term.entity === 'attributes') {
      const spec = closedColumn(LOGGED_MODEL_DIALECT, 'attributes', term.key);
      if (term.key === 'creation_timestamp_ms') byCreation = true;
      columns.push(`${spec.column!} AS ${alias}`);
      keys.push(...orderKey(alias, descending, spec.nullable === true));
      return;
    }
    if (o.datasetDigest && !o.datasetName) throw invalid('`dataset_digest` in an `order_by` clause may only be set together with `dataset_name`.');
    let sub = 'SELECT m.value FROM logged_model_metrics m WHERE m.model_id = lm.id AND m.key = ?';
    columnParams.push(term.key);
    if (o.datasetName) {
      sub += ' AND m.dataset_name = ?';
      columnParams.push(o.datasetName);
    }
    if (o.datasetDigest) {
      sub += ' AND m.dataset_digest = ?';
      columnParams.push(o.datasetDigest);
    }
    columns.push(`(${sub} ORDER BY m.timestamp DESC, m.step DESC LIMIT 1) AS ${alias}`);
    keys.push(...orderKey(alias, descending, true));
  });
  if (!byCreation) keys.push('creation_timestamp_ms DESC');
  keys.push('id DESC');

  const where: string[] = ["lm.lifecycle_stage = 'active'"];
  const whereParams: SqlValue[] = [];
  const ids = search.experimentIds.map(experimentId);
  where.push(`lm.experiment_id IN (${ids.map(() => '?').join(', ')})`);
  whereParams.push(...ids);
  if (filter) where.push(loggedModelCondition(filter, whereParams, search.datasets));
  const hasMetricFilter = filter !== undefined && hasEntity(filter, 'metrics');
  if (search.datasets?.length && !hasMetricFilter) {
    where.push(`lm.id IN (SELECT m.model_id FROM logged_model_metrics m WHERE ${datasetCondition(search.datasets, whereParams)})`);
  }
  const sql =
    `SELECT id FROM (SELECT ${columns.join(', ')} FROM logged_models lm WHERE ${where.join(' AND ')}) ` +
    `ORDER BY ${keys.join(', ')} LIMIT ? OFFSET ?`;
  return {
    sql,
    params: [...columnParams, ...whereParams, maxResults + 1, offset],
    maxResults,
    offset,
    pageToken: (at) => loggedModelToken(search, at),
  };
}

function hasEntity(e: FilterExpr, entity: FilterEntity): boolean {
  return e.kind === 'compare' ? e.entity === entity : hasEntity(e.left, entity) || hasEntity(e.right, entity);
}
