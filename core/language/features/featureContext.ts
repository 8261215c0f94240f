/**
 * What each feature receives: the document, the workspace, the pipeline index (for pipelines), the
 * parser for other workspace files and the cancellation check. Passed in, never cached inside.
 */
import type { ParseYaml } from '../analyzeDocument';
import type { AnalyzedDocument, Cancelled, WorkspaceView } from '../languageTypes';
import type { PipelineIndex } from '../pipeline/pipelineIndex';

export interface FeatureContext {
  doc: AnalyzedDocument;
  workspace: WorkspaceView;
  /** Present for pipeline documents. */
  index: PipelineIndex | undefined;
  parse: ParseYaml | undefined;
  cancelled: Cancelled;
}
