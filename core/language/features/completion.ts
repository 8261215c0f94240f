/**
 * Completion at a cursor: keys valid there (with snippets for whole stages and built-in steps),
 * enum values, param keys from the stage's params file, `${...}` names (vars, params, `item`,
 * `key`), file paths relative to the stage's `wdir`, stage names, metric names known to the built-in
 * steps, Hugging Face license ids. Reads only what the cursor needs (nodeAtOffset, the index).
 * Returned replace spans are FILE offsets.
 */
import { containerOf, cursorContext, type Path } from './cursorContext';
import type { FeatureContext } from './featureContext';
import { isPipelineKind } from '../files/fileKinds';
import type { InterpolationScope } from '../pipeline/interpolation';
import type { CompletionEntry, CompletionKind } from '../languageTypes';
import { DEFAULT_PARAMS_FILE } from '../files/paramsFiles';
import { describeValue, paramKeys } from '../files/paramsIndex';
import { gateStageDecl, knownStageMetrics, registerSteps, stageDeclNamed, type PipelineIndex, type StageDecl } from '../pipeline/pipelineIndex';
import { BUILTIN_METRIC_NAMES, METRIC_DOCS, metricsForTask } from '../schema/builtinSteps';
import { stageSnippets } from '../schema/pipelineSchema';
import { schemaFor } from '../schema/schemaFor';
import type { MapSchema, PropertySchema, ScalarSchema, SchemaNode } from '../schema/schemaModel';
import { mapSchemaFor, presentKeys, schemaAtPath } from '../schema/schemaNavigation';
import { joinPath, resolveWorkspacePath } from '../files/workspacePaths';
import { asMap, keyName, scalarContentSpan, scalarText, valueOf } from '../yaml/yamlAccess';
import { quoteIfNeeded } from '../yaml/yamlScalarText';
import type { Span, YamlMap, YamlScalar } from '../yaml/yamlTree';

const MAX_ENTRIES = 1000;

export function completionAt(ctx: FeatureContext, offset: number): CompletionEntry[] {
  const { doc } = ctx;
  const o = offset - doc.yamlOffset;
  if (o < 0 || o > doc.yaml.text.length) return [];
  const cc = cursorContext(doc.yaml, o);
  const rootSchema = schemaFor(doc.kind);
  let out: CompletionEntry[] = [];
  switch (cc.kind) {
    case 'none':
      return [];
    case 'interpolation':
      if (!isPipelineKind(doc.kind) || !ctx.index) return [];
      out = interpolationEntries(ctx.index, cc.path, cc.typed, cc.replace, cc.closed);
      break;
    case 'key': {
      const { schema } = schemaAtPath(rootSchema, doc.yaml.root, cc.path);
      out = keyEntries(schema, cc.map, cc.path, cc.replace, cc.keyPair?.key ?? null, !!cc.keyPair && cc.keyPair.colon > 0, doc.kind === 'runwise-pipeline');
      break;
    }
    case 'value': {
      const { schema } = schemaAtPath(rootSchema, doc.yaml.root, cc.path);
      if (!schema) return [];
      out = valueEntries(ctx, schema, cc.path, cc.scalar, cc.replace, cc.typed);
      if (cc.alsoKeys && schema.map && !cc.scalar?.source.includes(':')) {
        out.push(...keyEntries(schema, null, cc.path, cc.replace, null, false, doc.kind === 'runwise-pipeline'));
      }
      break;
    }
  }
  if (out.length > MAX_ENTRIES) out = out.slice(0, MAX_ENTRIES);
  if (doc.yamlOffset) for (const e of out) e.replace = { start: e.replace.start + doc.yamlOffset, end: e.replace.end + doc.yamlOffset };
  return out;
}

// ---- keys ----

function keyEntries(
  schema: SchemaNode | undefined,
  map: YamlMap | null,
  path: Path,
  replace: Span,
  typingKey: YamlScalar | null,
  hasColon: boolean,
  runwise: boolean,
): CompletionEntry[] {
  if (!schema?.map) return [];
  const out: CompletionEntry[] = [];
  if (path.length === 1 && path[0] === 'stages') {
    for (const s of stageSnippets(runwise)) {
      out.push({ label: s.label, kind: 'snippet', insertText: s.body, snippet: true, replace, detail: s.detail, sortText: `0${s.label}` });
    }
    return out;
  }
  const present = presentKeys(map);
  if (typingKey) present.delete(typingKey.value === null ? typingKey.source : String(typingKey.value));
  const ms = mapSchemaFor(schema, map) as MapSchema;
  // For a stage without keys yet, offer every key a stage may have.
  const excluded = new Set<string>();
  for (const group of ms.exclusive ?? []) {
    if (group.keys.some((k) => present.has(k))) for (const k of group.keys) if (!present.has(k)) excluded.add(k);
  }
  if (present.has('foreach') || present.has('do')) for (const k of Object.keys(ms.properties)) if (k !== 'foreach' && k !== 'do') excluded.add(k);
  const required = new Set(ms.required ?? []);
  for (const [key, prop] of Object.entries(ms.properties)) {
    if (present.has(key) || excluded.has(key) || prop.deprecated) continue;
    const insert = hasColon ? { text: key, snippet: false } : keyInsertText(key, prop);
    out.push({
      label: key,
      kind: 'property',
      insertText: insert.text,
      snippet: insert.snippet || undefined,
      replace,
      detail: typeSummary(prop),
      documentation: prop.description,
      sortText: `${required.has(key) ? '0' : '1'}${key}`,
    });
  }
  return out;
}

function keyInsertText(key: string, prop: PropertySchema): { text: string; snippet: boolean } {
  const k = /^[\w.-]+$/.test(key) ? key : JSON.stringify(key);
  if (prop.snippet) return { text: prop.snippet, snippet: true };
  if (prop.any) return { text: `${k}: `, snippet: false };
  if (!prop.scalar && prop.map) return { text: `${k}:\n  $0`, snippet: true };
  if (!prop.scalar && prop.seq) return { text: `${k}:\n  - $0`, snippet: true };
  const sc = prop.scalar;
  if (sc?.enum && !sc.openEnum && sc.enum.length <= 12) return { text: `${k}: \${1|${sc.enum.map((v) => quoteIfNeeded(String(v)).replace(/[,|\\$}]/g, '\\$&')).join(',')}|}`, snippet: true };
  if (sc?.types.length === 1 && sc.types[0] === 'boolean') return { text: `${k}: \${1|true,false|}`, snippet: true };
  return { text: `${k}: `, snippet: false };
}

function typeSummary(s: SchemaNode): string {
  const parts: string[] = [];
  if (s.scalar) parts.push(...s.scalar.types.filter((t) => t !== 'null'));
  if (s.seq) parts.push('list');
  if (s.map) parts.push('mapping');
  return parts.join(' | ') || 'any';
}

// ---- values ----

function valueEntries(ctx: FeatureContext, schema: SchemaNode, path: Path, scalar: YamlScalar | null, replace: Span, typed: string): CompletionEntry[] {
  const sc = schema.scalar;
  if (!sc) return [];
  const quoted = scalar && (scalar.style === 'single' || scalar.style === 'double');
  const valueReplace = quoted ? contentReplace(scalar) : replace;
  const typedText = quoted ? ctx.doc.yaml.text.slice(scalarContentSpan(scalar).start, scalar.start + typed.length) : typed;
  const out: CompletionEntry[] = [];
  const add = (label: string, kind: CompletionKind, detail?: string, documentation?: string, sortText?: string) => {
    out.push({ label, kind, insertText: quoted ? label : quoteIfNeeded(label), replace: valueReplace, detail, documentation, sortText });
  };
  if (sc.enum) {
    const allowed = enumForContext(ctx, path, sc);
    for (const v of allowed) add(String(v), 'enum', undefined, METRIC_DOCS[String(v)]);
  }
  if (sc.types.includes('boolean') && !sc.enum) for (const b of ['true', 'false']) add(b, 'value');
  for (const s of sc.suggestions ?? []) add(s, 'value');
  const index = ctx.index;
  switch (sc.hint) {
    case 'input-path':
    case 'output-path':
      out.push(...pathEntries(ctx, path, scalar, typedText, valueReplace, undefined));
      if (sc.hint === 'input-path' && index && path.includes('deps')) {
        for (const name of index.datasets.keys()) add(`ds://${name}`, 'reference', 'dataset (top-level datasets)');
      }
      break;
    case 'params-file':
    case 'vars-file':
      out.push(...pathEntries(ctx, path, scalar, typedText, valueReplace, /\.(ya?ml|json|toml|py)$/i));
      break;
    case 'param-key':
      if (index) {
        const file = paramsFileForPath(ctx, path);
        const f = file ? index.paramsFile(file) : undefined;
        if (f) for (const k of paramKeys(f)) add(k.key, 'reference', k.isGroup ? `group in ${f.relPath}` : `${describeValue(k.pair.value, 60)} (${f.relPath})`);
      }
      break;
    case 'stage-name':
      if (index) for (const s of index.stages) add(s.name, 'reference', stageDetail(s));
      break;
    case 'metric-ref': {
      // A gate with `stage:` reads that stage's metrics: only those, when they are known.
      const gate = gateOf(ctx, path);
      const stage = index && gate ? stageDeclNamed(index, scalarText(valueOf(gate, 'stage'))) : undefined;
      const own = stage && knownStageMetrics(stage);
      if (own) {
        for (const m of own) add(m, 'value', `metric of stage ${stage.name}`, METRIC_DOCS[m], `0${m}`);
        break;
      }
      for (const m of BUILTIN_METRIC_NAMES) add(m, 'value', 'metric', METRIC_DOCS[m], `1${m}`);
      if (index) {
        for (const s of index.stages) {
          for (const m of knownStageMetrics(s) ?? []) add(`${s.name}:${m}`, 'reference', `metric of stage ${s.name}`, METRIC_DOCS[m], `0${s.name}:${m}`);
        }
      }
      break;
    }
    case 'gate-value': {
      // `previous.M` and `ALIAS.M` for the aliases the file's register steps set, M the gate's own
      // metric first, then the other metrics its stage gives.
      const gate = gateOf(ctx, path);
      if (!index || !gate) break;
      const metricText = scalarText(valueOf(gate, 'metric')) ?? '';
      const name = metricText.slice(metricText.lastIndexOf(':') + 1);
      const stage = gateStageDecl(index, metricText, scalarText(valueOf(gate, 'stage')));
      const metrics = [...new Set([...(name ? [name] : []), ...((stage && knownStageMetrics(stage)) ?? [])])];
      const aliases = [...new Set(registerSteps(index).flatMap((s) => s.alias ?? []))];
      metrics.forEach((m, i) => {
        add(`previous.${m}`, 'reference', `${m} of the last run of the stage no gate rejected`, METRIC_DOCS[m], `0${i}`);
        for (const a of aliases) add(`${a}.${m}`, 'reference', `${m} of the version @${a} points at, measured as the stage measures`, METRIC_DOCS[m], `1${i}`);
      });
      break;
    }
    case 'license':
      break;
    default:
      break;
  }
  return out;
}

/** Enum values, narrowed where the context decides (evaluate metrics by task). */
function enumForContext(ctx: FeatureContext, path: Path, sc: ScalarSchema): readonly (string | number | boolean)[] {
  const values = sc.enum ?? [];
  if (sc.hint !== 'metric-name') return values;
  const stepPath = path.slice(0, path.lastIndexOf('metrics'));
  const step = asMap(containerOf(ctx.doc.yaml, stepPath));
  return metricsForTask(scalarText(valueOf(step, 'task')));
}

/** The gate a value under `gates[i]` belongs to. */
function gateOf(ctx: FeatureContext, path: Path): YamlMap | undefined {
  return path[0] === 'gates' ? (asMap(containerOf(ctx.doc.yaml, path.slice(0, 2))) ?? undefined) : undefined;
}


function contentReplace(s: YamlScalar): Span {
  return scalarContentSpan(s);
}

function stageDetail(s: StageDecl): string {
  if (s.form !== 'plain') return `${s.form} stage (${s.instances.length} generated)`;
  return s.step ?? 'stage';
}

/** The stage a path points into (`stages.<name>...`). */
export function stageOfPath(index: PipelineIndex, path: Path): StageDecl | undefined {
  if (path[0] !== 'stages' || typeof path[1] !== 'string') return undefined;
  return index.stageByName.get(path[1]);
}

/** The directory paths at `path` are relative to: the stage's wdir, or the pipeline's directory. */
function baseDirFor(ctx: FeatureContext, path: Path): string {
  const index = ctx.index;
  if (!index) {
    const i = ctx.doc.relPath.lastIndexOf('/');
    return i < 0 ? '' : ctx.doc.relPath.slice(0, i);
  }
  const stage = stageOfPath(index, path);
  return stage?.instances[0]?.wdir ?? index.dir;
}

/** The params file a `params` entry at `path` refers to. */
function paramsFileForPath(ctx: FeatureContext, path: Path): string | undefined {
  const base = baseDirFor(ctx, path);
  const i = path.lastIndexOf('params');
  const rest = path.slice(i + 1);
  if (rest.length >= 2 && typeof rest[1] === 'string') {
    const r = resolveWorkspacePath(base, rest[1]);
    return r.kind === 'inside' ? r.path : undefined;
  }
  const r = resolveWorkspacePath(base, DEFAULT_PARAMS_FILE);
  return r.kind === 'inside' ? r.path : undefined;
}

function pathEntries(
  ctx: FeatureContext,
  path: Path,
  scalar: YamlScalar | null,
  typed: string,
  replace: Span,
  filter: RegExp | undefined,
): CompletionEntry[] {
  if (typed.includes('${') || /^[a-z][a-z0-9+.-]*:\/\//i.test(typed)) return [];
  const base = baseDirFor(ctx, path);
  const slash = typed.lastIndexOf('/');
  const typedDir = slash >= 0 ? typed.slice(0, slash + 1) : '';
  const r = resolveWorkspacePath(base, typedDir || '.');
  if (r.kind !== 'inside') return [];
  const entries = ctx.workspace.listDir(r.path) ?? [];
  const start = replace.start + (slash >= 0 ? slash + 1 : 0);
  const end = scalar ? Math.max(start, replace.end) : start;
  const out: CompletionEntry[] = [];
  for (const e of entries) {
    if (e === '.git/' || e === '.runwise/' || e === '.dvc/' || e === 'node_modules/') continue;
    const dir = e.endsWith('/');
    if (!dir && filter && !filter.test(e)) continue;
    out.push({
      label: e,
      kind: dir ? 'folder' : 'file',
      insertText: e,
      replace: { start, end },
      detail: joinPath(r.path, e),
      sortText: `${dir ? '1' : '0'}${e}`,
    });
    if (out.length >= MAX_ENTRIES) break;
  }
  return out;
}

// ---- ${...} ----

function interpolationEntries(index: PipelineIndex, path: Path, typed: string, replace: Span, closed: boolean): CompletionEntry[] {
  const stage = stageOfPath(index, path);
  const scope: InterpolationScope = stage?.scope ?? index.topScope;
  const prefix = typed.includes('.') ? typed.slice(0, typed.lastIndexOf('.') + 1) : '';
  const out: CompletionEntry[] = [];
  const seen = new Set<string>();
  const add = (name: string, detail: string, documentation?: string) => {
    if (seen.has(name) || !name.startsWith(prefix) || out.length >= MAX_ENTRIES) return;
    seen.add(name);
    out.push({ label: name, kind: 'variable', insertText: closed ? name : `${name}}`, replace, detail, documentation });
  };
  if (scope.item) {
    add('item', stage?.form === 'matrix' ? 'the matrix combination' : 'the foreach item');
    const item = scope.item;
    if (item.kind === 'node') {
      for (const p of asMap(item.node)?.items ?? []) add(`item.${keyName(p)}`, describeValue(p.value, 60));
    } else if (item.kind === 'matrix') {
      for (const [k, v] of item.values) add(`item.${k}`, describeValue(v, 60));
    }
  }
  if (scope.key !== undefined) add('key', 'the foreach key');
  for (const layer of scope.layers) {
    const root = asMap(layer.root);
    if (!root) continue;
    const walk = (map: YamlMap, pre: string, depth: number) => {
      for (const p of map.items) {
        const k = pre + keyName(p);
        if (!pre && layer.keys && !layer.keys.includes(keyName(p))) continue;
        add(k, `${describeValue(p.value, 60)}${layer.relPath ? ` (${layer.relPath})` : ' (vars)'}`);
        const child = asMap(p.value);
        if (child && depth < 8 && (k + '.').startsWith(prefix.slice(0, k.length + 1))) walk(child, k + '.', depth + 1);
      }
    };
    walk(root, '', 0);
  }
  return out;
}
