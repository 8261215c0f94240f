/**
 * MLflow 3's logged-model search (search-logged-models) compiled to SQL: filters over attributes,
 * metrics (optionally on datasets), params and tags; order_by entries; page tokens bound to the search.
 */
import type { LoggedModelOrder, LoggedModelSearch } from '../model';
import { LOGGED_MODEL_STATUSES } from '../model';
import type { SqlValue } from '../sqlStore';
import { invalid } from '../trackerError';
import { own, Parser, type Fail, type FilterEntity, type FilterExpr } from './filterSyntax';
import { checkMaxResults, closedColumn, experimentId, orderKey, predicate, type CompiledSearch } from './runSearchSql';
import { LOGGED_MODEL_DIALECT, parseLoggedModelFilter } from './searchDialects';


// ---------------------------------------------------------------------------------------------
// Logged models (MLflow 3)

/** SEARCH_LOGGED_MODEL_MAX_RESULTS_DEFAULT in mlflow/store/tracking/__init__.py. */
export const DEFAULT_LOGGED_MODEL_RESULTS = 100;

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

