/** MLflow's limits on what one request or one entity may hold (mlflow/utils/validation.py). */
export const MAX_METRICS_PER_BATCH = 1000;
export const MAX_PARAMS_TAGS_PER_BATCH = 100;
export const MAX_ENTITIES_PER_BATCH = 1000;
export const MAX_BATCH_LOG_REQUEST_SIZE = 1024 * 1024;
export const MAX_ENTITY_KEY_LENGTH = 250;
export const MAX_PARAM_VAL_LENGTH = 6000;
export const MAX_TAG_VAL_LENGTH = 8000;
/**
 * A logged model's tag value: MLflow's store checks none (a TEXT column; 65,535 bytes on MySQL).
 * Its `mlflow.modelVersions` tag grows by an entry with every version registered from the model.
 */
export const MAX_LOGGED_MODEL_TAG_VAL_LENGTH = 65_535;
/** A registered model's or a model version's tag value (runs take 8000). */
export const MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH = 5000;
export const MAX_EXPERIMENT_NAME_LENGTH = 500;
export const MAX_RUN_NAME_LENGTH = 250;
export const MAX_DATASET_NAME_LENGTH = 500;
export const MAX_DATASET_DIGEST_LENGTH = 36;
export const MAX_DATASET_SCHEMA_LENGTH = 1_048_575;
export const MAX_DATASET_PROFILE_LENGTH = 16_384;
export const MAX_DATASET_SOURCE_LENGTH = 65_535;
export const MAX_RESULTS_SEARCH_RUNS = 50_000;
export const MAX_RESULTS_GET_METRIC_HISTORY = 25_000;
