/**
 * What a place in a pipeline document is, for hover and navigation: a `${...}` token, a stage name,
 * a declared path (dependency or output, with the stage instances declaring it), a param entry, a
 * vars/params file entry, a `ds://` dataset, a stage named in a gate. Found from nodeAtOffset and
 * the PipelineIndex, never by walking the document. Offsets are YAML offsets.
 */
import { scalarInterpolations, type InterpolationToken } from './interpolation';
import type { ParamRef, PathRef, PipelineIndex, StageDecl, StageInstance, VarsEntry } from './pipelineIndex';
import { asMap, asScalar, asSeq, valueOf } from '../yaml/yamlAccess';
import { nodeAtOffset } from '../yaml/nodeAt';
import type { NodeAtOffset, YamlScalar } from '../yaml/yamlTree';

export type PipelineTarget =
  | { kind: 'token'; token: InterpolationToken; scalar: YamlScalar; stage: StageDecl | undefined }
  | { kind: 'stage'; stage: StageDecl; key: YamlScalar }
  | { kind: 'path'; refs: { ref: PathRef; instance: StageInstance }[]; scalar: YamlScalar; stage: StageDecl }
  | { kind: 'param'; refs: ParamRef[]; scalar: YamlScalar; stage: StageDecl }
  | { kind: 'vars-file'; entry: VarsEntry }
  | { kind: 'dataset'; name: string; scalar: YamlScalar }
  | { kind: 'stage-ref'; name: string; scalar: YamlScalar; span: { start: number; end: number } }
  | { kind: 'none'; at: NodeAtOffset };

export function pipelineTargetAt(index: PipelineIndex, offset: number): PipelineTarget {
  const doc = index.doc.yaml;
  const at = nodeAtOffset(doc, offset);
  const node = at.node;
  const scalar = node && node.kind === 'scalar' ? node : null;
  const stage = at.path[0] === 'stages' && typeof at.path[1] === 'string' ? index.stageByName.get(at.path[1]) : undefined;
  if (scalar) {
    for (const t of scalarInterpolations(scalar)) {
      if (offset >= t.start && offset <= t.end) return { kind: 'token', token: t, scalar, stage };
    }
  }
  if (stage && at.inKeyOf && at.path.length === 2) return { kind: 'stage', stage, key: at.inKeyOf.key };
  if (!scalar) return { kind: 'none', at };
  if (stage) {
    const refs: { ref: PathRef; instance: StageInstance }[] = [];
    const params: ParamRef[] = [];
    for (const inst of stage.instances) {
      for (const r of inst.inputs) if (r.node === scalar) refs.push({ ref: r, instance: inst });
      for (const r of inst.outputs) if (r.node === scalar) refs.push({ ref: r, instance: inst });
      for (const p of inst.params) if (p.node === scalar || p.fileNode === scalar) params.push(p);
      for (const d of inst.datasets) if (d.node === scalar) return { kind: 'dataset', name: d.name, scalar };
    }
    if (refs.length) return { kind: 'path', refs, scalar, stage };
    if (params.length) return { kind: 'param', refs: params, scalar, stage };
  }
  for (const v of index.varsEntries) if (v.node === scalar) return { kind: 'vars-file', entry: v };
  if (at.path[0] === 'gates' && typeof at.path[1] === 'number' && !at.inKeyOf) {
    const field = at.path[2];
    const text = typeof scalar.value === 'string' ? scalar.value : '';
    const shift = scalar.style === 'single' || scalar.style === 'double' ? 1 : 0;
    if (field === 'stage') return { kind: 'stage-ref', name: text, scalar, span: { start: scalar.start, end: scalar.end } };
    if (field === 'metric') {
      const colon = text.lastIndexOf(':');
      const source = colon > 0 ? text.slice(0, colon) : '';
      if (source && !/[./]/.test(source) && offset <= scalar.start + shift + colon) {
        return { kind: 'stage-ref', name: source, scalar, span: { start: scalar.start + shift, end: scalar.start + shift + colon } };
      }
    }
  }
  return { kind: 'none', at };
}

/** The stage instances (by index) whose outputs a path is, lies in, or contains. */
export function producersOfRef(index: PipelineIndex, ref: PathRef): StageInstance[] {
  if (ref.resolved?.kind !== 'inside') return [];
  return index.graph.producersOf(ref.resolved.path).map((i) => index.instances[i]!);
}

/** Top-level `gates` entries naming a stage (in `stage:` or `metric: stage:x`). */
export function gateStageScalars(index: PipelineIndex, name: string): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (const item of asSeq(valueOf(asMap(index.doc.yaml.root), 'gates'))?.items ?? []) {
    const gate = asMap(item);
    const s = asScalar(valueOf(gate, 'stage'));
    if (s && s.value === name) out.push({ start: s.start, end: s.end });
    const m = asScalar(valueOf(gate, 'metric'));
    if (m && typeof m.value === 'string' && m.value.startsWith(`${name}:`)) {
      const shift = m.style === 'single' || m.style === 'double' ? 1 : 0;
      out.push({ start: m.start + shift, end: m.start + shift + name.length });
    }
  }
  return out;
}

