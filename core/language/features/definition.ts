/**
 * Go to definition and find references.
 * Definition: a `${...}` → the key in its params/vars file (or the inline vars, or the foreach
 * item); a param entry → its line in the params file; a params/vars file entry → the file; a
 * dependency → the file, and the stage output that produces it; an output → the file; `ds://x` →
 * the dataset; a stage named in a gate → the stage.
 * References: a stage → the dependencies (in other stages) that read its outputs, and gates naming
 * it; a path → every declaration of the same path; a key in a params file → the params entries and
 * `${...}` of the pipelines next to it (or above it) that use it.
 * Spans in the same document are FILE offsets; in other files, offsets into those files.
 */
import { analyzeDocument } from '../analyzeDocument';
import type { FeatureContext } from './featureContext';
import { dirName, isPipelineKind, pipelineFilesIn } from '../files/fileKinds';
import { resolveSegments, scalarInterpolations } from '../pipeline/interpolation';
import type { TargetLocation } from '../languageTypes';
import { isParamGlob, lookupParam, paramGlobMatches } from '../files/paramsIndex';
import { buildPipelineIndex, stageDeclNamed, type PipelineIndex } from '../pipeline/pipelineIndex';
import { gateStageScalars, pipelineTargetAt, producersOfRef } from '../pipeline/pipelineLookup';
import { keyName } from '../yaml/yamlAccess';
import { nodeAtOffset } from '../yaml/nodeAt';
import type { Span, YamlNode } from '../yaml/yamlTree';

const FILE_START: Span = { start: 0, end: 0 };

export function definitionAt(ctx: FeatureContext, offset: number): TargetLocation[] {
  const { doc, index } = ctx;
  const o = offset - doc.yamlOffset;
  if (!index || o < 0 || o > doc.yaml.text.length) return [];
  const here = (span: Span): TargetLocation => ({ relPath: doc.relPath, span: { start: span.start + doc.yamlOffset, end: span.end + doc.yamlOffset } });
  const target = pipelineTargetAt(index, o);
  switch (target.kind) {
    case 'token': {
      const t = target.token;
      if (!t.segments) return [];
      const scope = target.stage?.scope ?? index.topScope;
      const r = resolveSegments(t.segments, scope);
      if (r.kind !== 'found') return [];
      if (t.segments[0] === 'item' || t.segments[0] === 'key') {
        const n = r.at?.span ?? (r.node ? { start: r.node.start, end: r.node.end } : undefined);
        if (n && !r.relPath) return [here(n)];
        if (n && r.relPath) return [{ relPath: r.relPath, span: n }];
        return [];
      }
      if (!r.at) return [];
      return [r.relPath ? { relPath: r.relPath, span: r.at.span } : here(r.at.span)];
    }
    case 'param': {
      const out: TargetLocation[] = [];
      for (const p of target.refs) {
        if (!p.file) continue;
        const f = index.paramsFile(p.file);
        if (!f) continue;
        if (p.key === undefined || target.scalar === p.fileNode) {
          out.push({ relPath: p.file, span: FILE_START });
          continue;
        }
        if (isParamGlob(p.key)) {
          // DVC matches a glob entry (`dataset_kwargs.india*`) with dpath: every matched key is a definition.
          for (const m of paramGlobMatches(f, p.key)) out.push({ relPath: p.file, span: m.span });
          continue;
        }
        const found = lookupParam(f, p.key);
        out.push({ relPath: p.file, span: found ? found.span : FILE_START });
      }
      return dedupe(out);
    }
    case 'vars-file':
      return target.entry.file && index.paramsFile(target.entry.file) ? [{ relPath: target.entry.file, span: FILE_START }] : [];
    case 'path': {
      const out: TargetLocation[] = [];
      for (const { ref } of target.refs) {
        if (ref.resolved?.kind !== 'inside') continue;
        if (ctx.workspace.exists(ref.resolved.path)) out.push({ relPath: ref.resolved.path, span: FILE_START });
        if (ref.role === 'dep' || ref.role === 'step-input') {
          for (const producer of producersOfRef(index, ref)) {
            for (const o2 of producer.outputs) {
              if (o2.resolved?.kind === 'inside' && index.graph.producersOf(ref.resolved.path).includes(producer.index) && overlaps(o2.resolved.path, ref.resolved.path)) {
                out.push(here(o2.node));
              }
            }
          }
          // A stage of another pipeline file of the workspace that writes it.
          for (const p of index.otherPipelines?.producersOf(ref.resolved.path, doc.relPath) ?? []) out.push({ relPath: p.relPath, span: p.span });
        }
      }
      return dedupe(out);
    }
    case 'dataset': {
      const ds = index.datasets.get(target.name);
      return ds ? [here(ds)] : [];
    }
    case 'stage-ref': {
      const stage = stageDeclNamed(index, target.name);
      return stage ? [here(stage.pair.key)] : [];
    }
    default:
      return [];
  }
}

function overlaps(a: string, b: string): boolean {
  return a === b || b.startsWith(`${a}/`) || a.startsWith(`${b}/`);
}

function dedupe(list: TargetLocation[]): TargetLocation[] {
  const seen = new Set<string>();
  return list.filter((l) => {
    const k = `${l.relPath}:${l.span.start}:${l.span.end}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function referencesAt(ctx: FeatureContext, offset: number): TargetLocation[] {
  const { doc, index } = ctx;
  const o = offset - doc.yamlOffset;
  if (o < 0 || o > doc.yaml.text.length) return [];
  if (doc.kind === 'params') return paramUsages(ctx, o);
  if (!index || !isPipelineKind(doc.kind)) return [];
  const here = (span: Span): TargetLocation => ({ relPath: doc.relPath, span: { start: span.start + doc.yamlOffset, end: span.end + doc.yamlOffset } });
  const target = pipelineTargetAt(index, o);
  if (target.kind === 'stage' || target.kind === 'stage-ref') {
    const stage = target.kind === 'stage' ? target.stage : stageDeclNamed(index, target.name);
    if (!stage) return [];
    const out: TargetLocation[] = [];
    const mine = new Set(stage.instances.map((i) => i.index));
    for (const inst of stage.instances) {
      for (const d of index.graph.downstream(inst.index)) {
        const consumer = index.instances[d]!;
        for (const ref of consumer.inputs) {
          if (ref.resolved?.kind !== 'inside') continue;
          if (index.graph.producersOf(ref.resolved.path).some((p) => mine.has(p))) out.push(here(ref.node));
        }
      }
    }
    for (const span of gateStageScalars(index, stage.name)) out.push(here(span));
    return dedupe(out);
  }
  if (target.kind === 'path') {
    const paths = new Set(target.refs.flatMap(({ ref }) => (ref.resolved?.kind === 'inside' ? [ref.resolved.path] : [])));
    const out: TargetLocation[] = [];
    for (const inst of index.instances) {
      for (const ref of [...inst.outputs, ...inst.inputs]) {
        if (ref.resolved?.kind !== 'inside') continue;
        for (const p of paths) if (overlaps(p, ref.resolved.path)) out.push(here(ref.node));
      }
    }
    return dedupe(out);
  }
  if (target.kind === 'param' || target.kind === 'token') {
    // Usages of the same param key in this pipeline.
    const defs = definitionAt(ctx, offset).filter((d) => d.relPath !== doc.relPath);
    const def = defs[0];
    if (!def) return [];
    return dedupe([def, ...usagesInPipeline(index, def.relPath, def.span)]);
  }
  return [];
}

/** Params entries and `${...}` in a pipeline that resolve to the key at `keySpan` of `file`. */
function usagesInPipeline(index: PipelineIndex, file: string, keySpan: Span): TargetLocation[] {
  const out: TargetLocation[] = [];
  const shift = index.doc.yamlOffset;
  const loc = (s: Span): TargetLocation => ({ relPath: index.doc.relPath, span: { start: s.start + shift, end: s.end + shift } });
  const f = index.paramsFile(file);
  if (!f) return out;
  for (const stage of index.stages) {
    const inst = stage.instances[0];
    if (!inst) continue;
    for (const p of inst.params) {
      if (p.file !== file || p.key === undefined) continue;
      const found = lookupParam(f, p.key);
      if (found && found.span.start === keySpan.start) out.push(loc(p.node));
    }
    const visit = (n: YamlNode | null, depth: number) => {
      if (!n || depth > 64) return;
      if (n.kind === 'scalar') {
        for (const t of scalarInterpolations(n)) {
          if (!t.segments) continue;
          const r = resolveSegments(t.segments, inst.scope);
          if (r.kind === 'found' && r.relPath === file && r.at && r.at.span.start === keySpan.start) out.push(loc(t));
        }
      } else if (n.kind === 'seq') for (const it of n.items) visit(it, depth + 1);
      else if (n.kind === 'map') for (const p of n.items) if (keyName(p) !== 'vars') visit(p.value, depth + 1);
    };
    visit(stage.body, 0);
  }
  return out;
}

/** References to a key of a params file from the pipelines in its directory and above. */
function paramUsages(ctx: FeatureContext, o: number): TargetLocation[] {
  const { doc, workspace } = ctx;
  const at = nodeAtOffset(doc.yaml, o);
  if (!at.inKeyOf) return [];
  const keySpan = { start: at.inKeyOf.key.start, end: at.inKeyOf.key.end };
  const out: TargetLocation[] = [];
  let dir = dirName(doc.relPath);
  for (let depth = 0; depth < 32; depth++) {
    for (const p of pipelineFilesIn(workspace, dir)) {
      const text = workspace.readFile(p);
      if (text === undefined) continue;
      const pdoc = analyzeDocument(`${p}`, p, text, ctx.parse);
      if (!pdoc) continue;
      const index = buildPipelineIndex(pdoc, workspace, { parse: ctx.parse, cancelled: ctx.cancelled });
      if (index) out.push(...usagesInPipeline(index, doc.relPath, keySpan));
      if (ctx.cancelled()) return out;
    }
    if (dir === '') break;
    dir = dirName(dir);
  }
  return out;
}
