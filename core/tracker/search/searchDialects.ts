/**
 * What each searchable entity offers to filters and order_by: its fields, their types, operators
 * and SQL columns (runs, experiments, MLflow 3's logged models, the Model Registry's registered
 * models and versions), and the parsers bound to each.
 */
import { NUMERIC_OPS, PLAIN_STRING_OPS, STRING_OPS, parseFilter, parseOrderBy, type Dialect, type EntitySpec, type FieldSpec, type FilterExpr, type OrderTerm } from './filterSyntax';

/** Tags as experiments and the Model Registry search them: `=`, `!=`, LIKE, ILIKE; not in order_by. */
const PLAIN_TAGS: EntitySpec = { noun: 'tag', anyKey: { type: 'string', ops: PLAIN_STRING_OPS }, orderable: false };

export const RUN_DIALECT: Dialect = {
  subject: 'runs',
  example: 'metrics.acc',
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

export const EXPERIMENT_DIALECT: Dialect = {
  subject: 'experiments',
  example: 'name',
  entities: {
    tags: PLAIN_TAGS,
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
export const LOGGED_MODEL_DIALECT: Dialect = {
  subject: 'logged models',
  example: 'name',
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

/** A registry table's timestamps (`rm` or `mv`): in order_by only, as in MLflow's SearchModelUtils. */
function registryTimestamps(table: 'rm' | 'mv'): Record<string, FieldSpec> {
  return {
    creation_timestamp: { type: 'number', ops: NUMERIC_OPS, column: `${table}.creation_time`, filterable: false },
    last_updated_timestamp: { type: 'number', ops: NUMERIC_OPS, column: `${table}.last_updated_time`, filterable: false },
  };
}

/** Registered models (mlflow/utils/search_utils.py: SearchModelUtils): `name`, the timestamps, `tags.<key>`. */
export const REGISTERED_MODEL_DIALECT: Dialect = {
  subject: 'registered models',
  example: 'name',
  entities: {
    tags: PLAIN_TAGS,
    attributes: {
      noun: 'attribute',
      keys: {
        name: { type: 'string', ops: PLAIN_STRING_OPS, column: 'rm.name' },
        ...registryTimestamps('rm'),
      },
      aliases: { timestamp: 'last_updated_timestamp' },
      orderable: true,
    },
  },
};

/** Model versions (mlflow/utils/search_utils.py: SearchModelVersionUtils). */
export const MODEL_VERSION_DIALECT: Dialect = {
  subject: 'model versions',
  example: 'name',
  entities: {
    tags: PLAIN_TAGS,
    attributes: {
      noun: 'attribute',
      keys: {
        name: { type: 'string', ops: PLAIN_STRING_OPS, column: 'rm.name' },
        version_number: { type: 'number', ops: NUMERIC_OPS, column: 'mv.version', quotedInteger: true },
        run_id: { type: 'string', ops: STRING_OPS, column: 'mv.run_id', nullable: true },
        source_path: { type: 'string', ops: PLAIN_STRING_OPS, column: 'mv.source' },
        current_stage: { type: 'string', ops: STRING_OPS, column: 'mv.current_stage' },
        ...registryTimestamps('mv'),
      },
      aliases: { version: 'version_number', source: 'source_path', timestamp: 'last_updated_timestamp' },
      orderable: true,
    },
  },
};

/** Parses a run filter; undefined for an empty one. Throws `FilterSyntaxError`. */
export function parseRunFilter(text: string): FilterExpr | undefined {
  return parseFilter(text, RUN_DIALECT);
}

/** Parses an experiment filter (`name`, `creation_time`, `last_update_time`, `tags.<key>`). */
export function parseExperimentFilter(text: string): FilterExpr | undefined {
  return parseFilter(text, EXPERIMENT_DIALECT);
}

/** Parses run `order_by` clauses such as `metrics.acc DESC` or `start_time`. */
export function parseRunOrderBy(clauses: readonly string[] | undefined): OrderTerm[] {
  return parseOrderBy(clauses, RUN_DIALECT);
}

/** Parses a logged-model filter; undefined for an empty one. Throws `FilterSyntaxError`. */
export function parseLoggedModelFilter(text: string): FilterExpr | undefined {
  return parseFilter(text, LOGGED_MODEL_DIALECT);
}
