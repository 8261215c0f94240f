/**
 * Run and experiment searches compiled to one parameterised SQLite SELECT over the tracker schema
 * (schema.ts), with MLflow's paging: `max_results`, page tokens, view types.
 */
import type { ExperimentSearch, Page, RunSearch, ViewType } from '../model';
import type { SqlValue } from '../sqlStore';
import { invalid } from '../trackerError';
import { parseOrderBy, type Comparison, type FieldSpec, type FilterEntity, type FilterExpr, type OrderTerm, type Dialect } from './filterSyntax';
import { EXPERIMENT_DIALECT, RUN_DIALECT, parseExperimentFilter, parseRunFilter, parseRunOrderBy } from './searchDialects';


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
export function predicate(column: string, c: Comparison, params: SqlValue[]): string {
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


export function closedColumn(dialect: Dialect, entity: FilterEntity, key: string): FieldSpec {
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
export function orderKey(expr: string, descending: boolean, nullable: boolean): string[] {
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

/**
 * Experiment ids one search may name (MLflow bounds none): each is a parameter of the search's one
 * SQL statement; with the filter's own bounds (filterSyntax.ts) it stays well under SQLite's 32,766.
 */
export const MAX_SEARCH_EXPERIMENT_IDS = 10_000;

export const DEFAULT_MAX_RESULTS = 1000;
export const MAX_RESULTS_LIMIT = 50000;

export function checkMaxResults(maxResults: number | undefined): number {
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

export function experimentId(id: string): number {
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
