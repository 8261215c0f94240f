/** The schema of each kind of file. */
import type { FileKind } from '../languageTypes';
import { HF_MODEL_CARD_SCHEMA, MODEL_CARD_FILE_SCHEMA } from './modelCardSchema';
import { DVC_PIPELINE_SCHEMA, RUNWISE_PIPELINE_SCHEMA } from './pipelineSchema';
import type { SchemaNode } from './schemaModel';
import { SPACE_CARD_SCHEMA } from './spaceCardSchema';

/** Params files are free-form: any mapping. */
export const PARAMS_SCHEMA: SchemaNode = { any: true };

export function schemaFor(kind: FileKind): SchemaNode {
  switch (kind) {
    case 'runwise-pipeline':
      return RUNWISE_PIPELINE_SCHEMA;
    case 'dvc-pipeline':
      return DVC_PIPELINE_SCHEMA;
    case 'params':
      return PARAMS_SCHEMA;
    case 'model-card':
      return MODEL_CARD_FILE_SCHEMA;
    case 'readme-model-card':
      return HF_MODEL_CARD_SCHEMA;
    case 'space-card':
      return SPACE_CARD_SCHEMA;
  }
}
