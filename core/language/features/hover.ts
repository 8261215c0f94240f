/**
 * Hover: what a key means (the schema's short docs), a stage's summary (what it runs, reads,
 * writes, generated names, upstream and downstream stages), the resolved value of a `${...}` (per
 * generated stage when it differs), a param's value from its params file, a metric's or license's
 * meaning. Returned spans are FILE offsets.
 */
import type { FeatureContext } from './featureContext';
import { isPipelineKind } from '../files/fileKinds';
import { formatSegments, resolveSegments, resolvedText, type Resolution } from '../pipeline/interpolation';
import type { HoverResult } from '../languageTypes';
import { describeValue, isParamGlob, lookupParam, paramGlobMatches, type ParamGlobMatch } from '../files/paramsIndex';
import { stageDeclNamed, type PipelineIndex, type StageDecl } from '../pipeline/pipelineIndex';
import { pipelineTargetAt, producersOfRef } from '../pipeline/pipelineLookup';
import { METRIC_DOCS } from '../schema/builtinSteps';
import { HF_LICENSE_IDS } from '../schema/hfLicenses';
import { schemaFor } from '../schema/schemaFor';
import { schemaAtPath } from '../schema/schemaNavigation';
import type { SchemaNode } from '../schema/schemaModel';
import { nodeAtOffset } from '../yaml/nodeAt';
import type { Span } from '../yaml/yamlTree';

const MAX_LISTED = 8;

export function hoverAt(ctx: FeatureContext, offset: number): HoverResult | undefined {
  const { doc } = ctx;
  const o = offset - doc.yamlOffset;
  if (o < 0 || o > doc.yaml.text.length) return undefined;
  const result = (isPipelineKind(doc.kind) && ctx.index ? pipelineHover(ctx.index, o) : undefined) ?? schemaHover(ctx, o);
  return result && { ...result, start: result.start + doc.yamlOffset, end: result.end + doc.yamlOffset };
}

/** A glob params entry (DVC matches it with dpath): the keys it matches and their values. */
function globHover(key: string, file: string, matches: readonly ParamGlobMatch[]): string {
  if (matches.length === 0) return `\`${key}\` matches no key in \`${file}\``;
  const listed = matches.slice(0, MAX_LISTED).map((m) => `\`${m.key}\` = \`${describeValue(m.node)}\``);
  const more = matches.length > MAX_LISTED ? `  \n… and more` : '';
  return `\`${key}\` matches in \`${file}\`:  \n${listed.join('  \n')}${more}`;
}

function pipelineHover(index: PipelineIndex, o: number): HoverResult | undefined {
  const target = pipelineTargetAt(index, o);
  switch (target.kind) {
    case 'token': {
      const t = target.token;
      if (!t.segments) return undefined;
      const name = formatSegments(t.segments);
      const scopes = target.stage?.instances.length ? target.stage.instances : [{ name: '', scope: index.topScope }];
      const lines: string[] = [];
      const distinct = new Set<string>();
      for (const inst of scopes.slice(0, MAX_LISTED)) {
        const r = resolveSegments(t.segments, inst.scope);
        const shown = showResolution(r);
        distinct.add(shown);
        lines.push(`${inst.name && scopes.length > 1 ? `\`${inst.name}\`: ` : ''}${shown}`);
      }
      const body = distinct.size === 1 ? [...distinct][0]! : lines.join('  \n') + (scopes.length > MAX_LISTED ? `  \n… ${scopes.length - MAX_LISTED} more` : '');
      return { start: t.start, end: t.end, contents: `\`\${${name}}\` = ${body}` };
    }
    case 'stage':
      return { start: target.key.start, end: target.key.end, contents: stageSummary(index, target.stage) };
    case 'param': {
      const p = target.refs[0]!;
      if (p.key === undefined || !p.file) return undefined;
      const f = index.paramsFile(p.file);
      if (f && isParamGlob(p.key)) return { start: target.scalar.start, end: target.scalar.end, contents: globHover(p.key, p.file, paramGlobMatches(f, p.key, MAX_LISTED + 1)) };
      const found = f && lookupParam(f, p.key);
      return {
        start: target.scalar.start,
        end: target.scalar.end,
        contents: found ? `**${p.key}** = \`${describeValue(found.node)}\`  \nfrom \`${p.file}\`` : `**${p.key}** is not defined in \`${p.file}\``,
      };
    }
    case 'path': {
      const { ref } = target.refs[0]!;
      const where = ref.resolved?.kind === 'inside' ? `\`${ref.resolved.path}\`` : `\`${ref.text ?? ref.raw}\``;
      const role = ref.role === 'dep' || ref.role === 'step-input' ? 'input' : 'output';
      const lines = [`${role} ${where}`];
      if (role === 'input') {
        const producers = new Set(target.refs.flatMap(({ ref: r }) => producersOfRef(index, r)).map((i) => i.name));
        if (producers.size) lines.push(`produced by ${[...producers].map((n) => `\`${n}\``).join(', ')}`);
      }
      if (target.refs.length > 1) {
        lines.push(
          target.refs
            .slice(0, MAX_LISTED)
            .map(({ ref: r, instance }) => `\`${instance.name}\`: \`${r.resolved?.kind === 'inside' ? r.resolved.path : (r.text ?? '?')}\``)
            .join('  \n'),
        );
      }
      return { start: target.scalar.start, end: target.scalar.end, contents: lines.join('  \n') };
    }
    case 'dataset': {
      const ds = index.datasets.get(target.name);
      return {
        start: target.scalar.start,
        end: target.scalar.end,
        contents: ds ? `dataset **${target.name}**: \`${describeValue(ds, 160)}\`` : `dataset **${target.name}** is not declared in \`datasets\``,
      };
    }
    case 'stage-ref': {
      const stage = stageDeclNamed(index, target.name);
      return stage ? { ...target.span, contents: stageSummary(index, stage) } : undefined;
    }
    default:
      return undefined;
  }
}

function showResolution(r: Resolution): string {
  if (r.kind === 'missing') return `*not defined* (${r.message})`;
  if (r.kind === 'unknown') return '*unknown* (the foreach/matrix data does not resolve)';
  const text = r.text ?? (resolvedText(r) !== undefined ? describeValue(r.node) : describeValue(r.node, 160));
  return `\`${text}\`${r.relPath ? ` — \`${r.relPath}\`` : ''}`;
}

export function stageSummary(index: PipelineIndex, stage: StageDecl): string {
  const lines = [`**stage ${stage.name}**${stage.step && stage.step !== 'cmd' ? ` (built-in \`${stage.step}\`)` : ''}`];
  if (stage.form !== 'plain') {
    const names = stage.instances.slice(0, MAX_LISTED).map((i) => `\`${i.name}\``);
    lines.push(`${stage.form}: ${stage.instances.length} stage(s): ${names.join(', ')}${stage.instances.length > MAX_LISTED ? ', …' : ''}`);
  }
  const first = stage.instances[0];
  if (first) {
    const paths = (refs: typeof first.inputs) =>
      refs
        .slice(0, MAX_LISTED)
        .map((r) => `\`${r.resolved?.kind === 'inside' ? r.resolved.path : r.raw}\``)
        .join(', ');
    if (first.inputs.length) lines.push(`reads ${paths(first.inputs)}`);
    if (first.outputs.length) lines.push(`writes ${paths(first.outputs)}`);
    const up = new Set<string>();
    const down = new Set<string>();
    for (const inst of stage.instances) {
      for (const u of index.graph.upstream(inst.index)) up.add(index.instances[u]!.name);
      for (const d of index.graph.downstream(inst.index)) down.add(index.instances[d]!.name);
    }
    if (up.size) lines.push(`after ${[...up].slice(0, MAX_LISTED).map((n) => `\`${n}\``).join(', ')}`);
    if (down.size) lines.push(`before ${[...down].slice(0, MAX_LISTED).map((n) => `\`${n}\``).join(', ')}`);
  }
  return lines.join('  \n');
}

function schemaHover(ctx: FeatureContext, o: number): HoverResult | undefined {
  const { doc } = ctx;
  const at = nodeAtOffset(doc.yaml, o);
  const rootSchema = schemaFor(doc.kind);
  if (at.inKeyOf) {
    const { schema } = schemaAtPath(rootSchema, doc.yaml.root, at.path);
    const text = describe(schema, at.path[at.path.length - 1]);
    return text ? { start: at.inKeyOf.key.start, end: at.inKeyOf.key.end, contents: text } : undefined;
  }
  const node = at.node;
  if (!node || node.kind !== 'scalar' || at.path.length === 0) return undefined;
  const { schema } = schemaAtPath(rootSchema, doc.yaml.root, at.path);
  const span: Span = { start: node.start, end: node.end };
  const value = node.value === null ? '' : String(node.value);
  const hint = schema?.scalar?.hint;
  if ((hint === 'metric-name' || hint === 'metric-ref') && METRIC_DOCS[value.slice(value.lastIndexOf(':') + 1)]) {
    return { ...span, contents: `**${value}**: ${METRIC_DOCS[value.slice(value.lastIndexOf(':') + 1)]}` };
  }
  if (hint === 'license') {
    const known = HF_LICENSE_IDS.includes(value);
    return { ...span, contents: known ? `License \`${value}\` (a Hugging Face license id)` : `\`${value}\` is not a Hugging Face license id; use \`other\` with \`license_name\`.` };
  }
  // A value: the docs of the key it belongs to.
  const keyPath = at.path.filter((s) => typeof s === 'string');
  const ownerPath = at.path.slice(0, at.path.lastIndexOf(keyPath[keyPath.length - 1]!) + 1);
  const owner = schemaAtPath(rootSchema, doc.yaml.root, ownerPath).schema;
  const text = describe(owner, ownerPath[ownerPath.length - 1]);
  return text ? { ...span, contents: text } : undefined;
}

function describe(schema: SchemaNode | undefined, key: string | number | undefined): string | undefined {
  if (!schema?.description) return undefined;
  const dflt = (schema as { default?: unknown }).default;
  return `**${String(key)}**: ${schema.description}${dflt !== undefined ? `  \nDefault: \`${String(dflt)}\`` : ''}${schema.deprecated ? `  \n*Deprecated*: ${schema.deprecated}` : ''}`;
}
