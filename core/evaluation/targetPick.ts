/**
 * The order in which the editor offers a dataset's columns as an evaluation's target: the column the
 * model's metadata names as its target (`metadata_props` `target`, as the example's writer records
 * it), else the last column (where a target usually is; a JSON Lines file's key order says nothing),
 * first, so that Enter takes it; the columns the model's metadata names as its features last, as
 * they cannot be the target of the model that reads them.
 */
import { onnxMetadata } from './onnxGraph';
import { metadataFeatures } from './onnxModel';

export interface TargetCandidate {
  column: string;
  /** Why it stands where it does, for the pick's description. */
  note?: string;
}

/** What a model's metadata says of its columns. */
export interface ModelColumns {
  target?: string;
  features?: string[];
}

/** The target and features a model's metadata names (none for bytes that are no model). */
export function modelColumns(model: Uint8Array): ModelColumns {
  const metadata = onnxMetadata(model);
  const target = metadata.get('target')?.trim();
  const features = metadataFeatures(metadata);
  return { ...(target ? { target } : {}), ...(features ? { features } : {}) };
}

export function targetCandidates(columns: readonly string[], options: { lastIsLikely: boolean; model?: ModelColumns }): TargetCandidate[] {
  const { model } = options;
  const declared = model?.target !== undefined && columns.includes(model.target) ? model.target : undefined;
  const features = new Set(model?.features ?? []);
  const last = options.lastIsLikely ? columns[columns.length - 1] : undefined;
  const first = declared ?? (last !== undefined && !features.has(last) ? last : undefined);
  const rest = columns.filter((c) => c !== first);
  return [
    ...(first === undefined ? [] : [{ column: first, note: first === declared ? "the model's target (its metadata)" : 'last column' }]),
    ...rest.filter((c) => !features.has(c)).map((column) => ({ column })),
    ...rest.filter((c) => features.has(c)).map((column) => ({ column, note: 'a feature of the model' })),
  ];
}
