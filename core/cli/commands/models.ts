/** `runwise models …`: register, list, show, alias, lineage and export registered model versions. */
import { existsSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import * as path from 'node:path';
import { flag, optionValue, positionals, UsageError, type OptionSpecs, type ParsedArgs } from '../args';
import { CliError, type CommandContext } from '../context';
import { oneLine, renderTable } from '../table';
import { checkCardForRegistration } from '../../modelCard/cardFile';
import { CardUpdateError } from '../../modelCard/cardUpdate';
import { lstatIfAny, type AliasMove, type LineageRun, type ModelLineage, type ModelVersion, type RegisteredModel } from '../../tracker/modelRegistry';
import { hashFileSync } from '../../pipeline/fileHash';
import { PARENT_RUN_TAG } from '../../tracker/model';
import { recordedOutputs } from '../../tracker/recordedOutputs';
import type { Tracker } from '../../tracker/tracker';
import { aliasesSuffix, formatBytes, formatMetricCompact, formatTimestamp } from '../../views/displayFormat';
import { isRunStatistic, orderedMetrics } from '../../views/evaluationMetrics';
import { resolveInside } from '../../workspace/workspacePath';
import { commandLinePath } from '../../workspace/workspaceRoot';
import { currentUser } from '../../workspace/currentUser';

export const modelsRegisterOptions: OptionSpecs = { path: { value: true }, run: { value: true }, card: { value: true }, alias: { value: true }, description: { value: true } };
export const modelsExportOptions: OptionSpecs = { output: { value: true, short: 'o' }, force: {} };

/** A path given on the command line, relative to the current folder, inside the workspace. */
function workspaceFile(ctx: CommandContext, given: string, what: string): string {
  // As every command reads a path: from the current folder, or else from the workspace.
  const abs = resolveInside(ctx.workspace, commandLinePath(ctx.workspace, given));
  if (!existsSync(abs)) throw new CliError(`${what} '${given}' does not exist`);
  return abs;
}

/** The record `--json` prints for a version. */
function versionRecord(v: ModelVersion): Record<string, unknown> {
  return {
    name: v.name,
    version: Number(v.version),
    created: v.creationTimestamp,
    user: v.userId,
    stage: v.currentStage,
    description: v.description,
    source: v.source,
    run_id: v.runId ?? null,
    model_id: v.modelId ?? null,
    sha256: v.sha256,
    size: v.size,
    aliases: v.aliases,
    tags: Object.fromEntries(v.tags.map((t) => [t.key, t.value])),
    card: v.card ?? null,
  };
}

function modelRecord(m: RegisteredModel, versions: number): Record<string, unknown> {
  return {
    name: m.name,
    description: m.description,
    created: m.creationTimestamp,
    updated: m.lastUpdatedTimestamp,
    versions,
    latest_version: m.latestVersions.reduce((n, v) => Math.max(n, Number(v.version)), 0) || null,
    aliases: Object.fromEntries(m.aliases.map((a) => [a.alias, Number(a.version)])),
    tags: Object.fromEntries(m.tags.map((t) => [t.key, t.value])),
  };
}

function versionsOf(tracker: Tracker, name: string): ModelVersion[] {
  const out: ModelVersion[] = [];
  let token: string | undefined;
  do {
    const page = tracker.registry.searchModelVersions({ filter: `name = '${name.replace(/'/g, "\\'")}'`, orderBy: ['version_number DESC'], ...(token ? { pageToken: token } : {}) });
    out.push(...page.items);
    token = page.nextPageToken;
  } while (token);
  return out;
}

export async function modelsRegister(ctx: CommandContext, args: ParsedArgs): Promise<void> {
  const [name] = positionals(args, ['name']);
  const given = optionValue(args, 'path');
  if (given === undefined || given.trim() === '') throw new UsageError("--path MODEL is needed (the model's file or folder)");
  const modelPath = workspaceFile(ctx, given, 'Model path');
  const card = optionValue(args, 'card');
  const cardPath = card !== undefined ? workspaceFile(ctx, card, 'Model card') : undefined;
  if (cardPath !== undefined) {
    try {
      checkCardForRegistration(cardPath, path.relative(ctx.workspace, cardPath).split(path.sep).join('/'));
    } catch (e) {
      if (e instanceof CardUpdateError) throw new CliError(e.message);
      throw e;
    }
  }
  const tracker = ctx.openTracker(true);
  const run = optionValue(args, 'run');
  const alias = optionValue(args, 'alias');
  const description = optionValue(args, 'description');
  const source = path.relative(ctx.workspace, modelPath).split(path.sep).join('/');
  const runId = run !== undefined ? tracker.resolveRunId(run) : undefined;
  if (runId !== undefined) checkRunWrote(tracker, runId, modelPath, source);
  const v = await tracker.registerModelFiles(name!, modelPath, {
    source: source || '.',
    userId: currentUser(),
    ...(runId !== undefined ? { runId } : {}),
    ...(cardPath !== undefined ? { cardPath } : {}),
    ...(alias !== undefined ? { alias } : {}),
    ...(description !== undefined ? { description } : {}),
  });
  if (ctx.json) {
    ctx.printJson(versionRecord(v));
    return;
  }
  const aliasText = aliasesSuffix(v.aliases);
  ctx.io.out(`Registered ${v.name} version ${v.version}${aliasText}: sha256 ${v.sha256}, ${formatBytes(v.size)}\n`);
}

/**
 * `--run RUN` names the run that made the model, which the version's lineage then shows as such. A
 * run that recorded writing this very path (a stage's outputs; a pipeline run's through its stage
 * runs) with other bytes, and never with these, did not make them: refused, rather than a lineage
 * that says it did. Anything else is taken at its word (a script that saved the model to disk and
 * logged only a plot records nothing of it); a folder is not checked.
 */
function checkRunWrote(tracker: Tracker, runId: string, modelPath: string, shown: string): void {
  if (!statSync(modelPath).isFile()) return;
  const children = tracker.db
    .prepare("SELECT r.run_uuid FROM tags t JOIN runs r ON r.id = t.run_id WHERE t.key = ? AND t.value = ? AND r.lifecycle_stage = 'active'")
    .all(PARENT_RUN_TAG, runId)
    .map((r) => String(r.run_uuid));
  const written = [runId, ...children].flatMap((id) => recordedOutputs(tracker, id)).filter((o) => o.path === shown);
  if (written.length === 0) return;
  const md5 = hashFileSync(modelPath);
  if (written.some((o) => o.md5 === md5)) return;
  throw new CliError(
    `run ${runId.slice(0, 8)} did not write these bytes of ${shown} (md5 ${md5.slice(0, 8)}…): it wrote ${shown} with md5 ${(written[written.length - 1]!.md5 ?? 'none').slice(0, 8)}…. ` +
      'Name the run that made them (`runwise runs list`), or leave out --run; nothing was registered.',
  );
}

export function modelsList(ctx: CommandContext, args: ParsedArgs): void {
  positionals(args, []);
  if (!ctx.hasTracker()) {
    if (ctx.json) ctx.printJson([]);
    else ctx.io.out(`No tracker in ${ctx.workspace} yet: nothing is registered (register a model with \`runwise models register NAME --path MODEL\`).\n`);
    return;
  }
  const tracker = ctx.openTracker();
  const models: { model: RegisteredModel; versions: number }[] = [];
  let token: string | undefined;
  do {
    const page = tracker.registry.searchRegisteredModels({ maxResults: 1000, ...(token ? { pageToken: token } : {}) });
    for (const m of page.items) models.push({ model: m, versions: versionsOf(tracker, m.name).length });
    token = page.nextPageToken;
  } while (token);
  if (ctx.json) {
    ctx.printJson(models.map((m) => modelRecord(m.model, m.versions)));
    return;
  }
  if (models.length === 0) {
    ctx.io.out('No registered models yet: register one with `runwise models register NAME --path MODEL`.\n');
    return;
  }
  const rows = models.map(({ model, versions }) => [
    model.name,
    String(versions),
    String(model.latestVersions.reduce((n, v) => Math.max(n, Number(v.version)), 0) || ''),
    model.aliases.map((a) => `${a.alias}→${a.version}`).join(', '),
    formatTimestamp(model.lastUpdatedTimestamp),
  ]);
  ctx.io.out(`${renderTable(['NAME', 'VERSIONS', 'LATEST', 'ALIASES', 'UPDATED'], rows, { rightAligned: new Set([1, 2]) })}\n`);
}

export function modelsShow(ctx: CommandContext, args: ParsedArgs): void {
  const [refText] = positionals(args, ['model']);
  const tracker = ctx.openTracker();
  const ref = tracker.registry.parseRef(refText!);
  if (ref.version === undefined && ref.alias === undefined) {
    const model = tracker.registry.getRegisteredModel(ref.name);
    const versions = versionsOf(tracker, model.name);
    if (ctx.json) {
      ctx.printJson({ ...modelRecord(model, versions.length), model_versions: versions.map(versionRecord), alias_history: tracker.registry.aliasHistory(model.name).map(aliasMoveRecord) });
      return;
    }
    const lines = [`Model ${model.name}`];
    if (model.description) lines.push(`  ${oneLine(model.description)}`);
    lines.push(`Created ${formatTimestamp(model.creationTimestamp)}, updated ${formatTimestamp(model.lastUpdatedTimestamp)}`, '');
    if (versions.length === 0) lines.push('No versions yet.');
    else {
      const rows = versions.map((v) => [v.version, v.aliases.map((a) => `@${a}`).join(' '), v.currentStage === 'None' ? '' : v.currentStage, v.sha256.slice(0, 12), formatBytes(v.size), v.runId?.slice(0, 8) ?? '', formatTimestamp(v.creationTimestamp)]);
      lines.push(renderTable(['VERSION', 'ALIASES', 'STAGE', 'SHA256', 'SIZE', 'RUN', 'CREATED'], rows, { rightAligned: new Set([0]) }));
    }
    ctx.io.out(`${lines.join('\n')}\n`);
    return;
  }
  const v = tracker.registry.resolveVersion(ref);
  // Showing a version checks its stored files against their recorded hashes.
  const files = tracker.registry.verifyVersion(v.name, v.version);
  if (ctx.json) {
    ctx.printJson({ ...versionRecord(v), files, verified: true });
    return;
  }
  const lines = [
    `Model ${v.name} version ${v.version}${aliasesSuffix(v.aliases)}`,
    `  sha256   ${v.sha256} (verified)`,
    `  size     ${formatBytes(v.size)} in ${files.length} file${files.length === 1 ? '' : 's'}`,
    `  source   ${v.source}`,
    `  run      ${v.runId ?? '-'}`,
    // MLflow's stages (None, Staging, Production, Archived): shown once a version has one.
    ...(v.currentStage === 'None' ? [] : [`  stage    ${v.currentStage}`]),
    `  created  ${formatTimestamp(v.creationTimestamp)}${v.userId ? ` by ${v.userId}` : ''}`,
  ];
  if (v.card) lines.push(`  card     ${v.card.path} (sha256 ${v.card.sha256.slice(0, 12)}…)`);
  if (v.description) lines.push(`  ${v.description}`);
  if (v.tags.length > 0) lines.push('Tags:', ...v.tags.map((t) => `  ${t.key} = ${t.value}`));
  if (files.length > 1) lines.push('Files:', ...files.map((f) => `  ${f.path} (${formatBytes(f.size)})`));
  // Each entry one line: a description, tag or file name holding a line break adds no line of its own.
  ctx.io.out(`${lines.map(oneLine).join('\n')}\n`);
}

export function modelsAlias(ctx: CommandContext, args: ParsedArgs): void {
  if (flag(args, 'delete')) {
    const [name, alias] = positionals(args, ['name', 'alias']);
    const tracker = ctx.openTracker();
    const held = tracker.registry.getRegisteredModel(name!).aliases.find((a) => a.alias === alias);
    if (!held) throw new CliError(`Registered model '${name}' has no alias '${alias}'`);
    tracker.registry.deleteAlias(name!, alias!, currentUser());
    if (ctx.json) ctx.printJson({ name, alias, removed_from_version: Number(held.version) });
    else ctx.io.out(`${name}@${alias} removed (it pointed at version ${held.version})\n`);
    return;
  }
  // NAME VERSION ALIAS (VERSION a number or `latest`), or NAME/VERSION ALIAS and NAME@OTHER ALIAS as
  // the other models commands name a version.
  const given = args.positionals;
  if (given.length === 2 && !/[/@]/.test(given[0]!)) throw new UsageError(`missing ALIAS (or name the version: ${given[0]}/VERSION ${given[1]})`);
  const [first, second, third] = given.length === 2 ? positionals(args, ['version', 'alias']) : positionals(args, ['name', 'version', 'alias']);
  if (given.length === 3 && second !== 'latest' && !/^\d+$/.test(second!)) throw new UsageError(`VERSION must be a version number or 'latest' (got '${second}')`);
  const tracker = ctx.openTracker();
  const ref = given.length === 2 ? tracker.registry.parseRef(first!) : { name: first!, version: second! };
  const target = tracker.registry.resolveVersion(ref);
  const alias = given.length === 2 ? second! : third!;
  const prior = tracker.registry.getRegisteredModel(target.name).aliases.find((a) => a.alias === alias)?.version;
  tracker.registry.setAlias(target.name, alias, target.version, currentUser());
  const v = tracker.registry.getModelVersion(target.name, target.version);
  if (ctx.json) {
    ctx.printJson({ name: v.name, alias, version: Number(v.version), previous_version: prior === undefined ? null : Number(prior) });
    return;
  }
  const moved = prior === undefined ? '' : prior === v.version ? ' (it already pointed there)' : ` (moved from version ${prior})`;
  ctx.io.out(`${v.name}@${alias} → version ${v.version}${moved}\n`);
}

export function modelsLineage(ctx: CommandContext, args: ParsedArgs): void {
  const [refText] = positionals(args, ['model']);
  const tracker = ctx.openTracker();
  const v = tracker.registry.resolveVersion(tracker.registry.parseRef(refText!));
  const lineage = tracker.modelLineage(v.name, v.version);
  if (ctx.json) {
    ctx.printJson({
      version: versionRecord(lineage.version),
      datasets: lineage.datasets,
      source_run: lineage.sourceRun ? lineageRunRecord(lineage.sourceRun) : null,
      produced_by: lineage.producedBy ?? null,
      pipeline_run: lineage.pipelineRun ? lineageRunRecord(lineage.pipelineRun) : null,
      stage_runs: lineage.stageRuns.map(lineageRunRecord),
      // {k: v}, as every other --json gives metrics.
      evaluations: lineage.evaluations.map((e) => ({ ...lineageRunRecord(e), metrics: Object.fromEntries(e.metrics.map((m) => [m.key, m.value])) })),
      aliases: lineage.aliases,
      alias_history: lineage.aliasHistory.map(aliasMoveRecord),
    });
    return;
  }
  ctx.io.out(lineageText(lineage));
}

/** A lineage run as --json prints it: snake_case, as every other record the CLI prints (and MLflow's JSON). */
function lineageRunRecord(r: LineageRun): Record<string, unknown> {
  return { run_id: r.runId, run_name: r.runName, status: r.status, stage: r.stage ?? null, parent_run_id: r.parentRunId ?? null, datasets: r.datasets };
}

/** An alias move as --json prints it; `version` null when the move deleted the alias. */
function aliasMoveRecord(m: AliasMove): Record<string, unknown> {
  return { alias: m.alias, version: m.version === undefined ? null : Number(m.version), previous_version: m.previousVersion === undefined ? null : Number(m.previousVersion), user_id: m.userId, changed_at: m.changedAt };
}

/** The lineage as a tree, upstream first: inputs → stage runs → evaluations → the version → aliases. */
function lineageText(l: ModelLineage): string {
  const v = l.version;
  const lines: string[] = [`Lineage of ${v.name}/${v.version} (sha256 ${v.sha256})`];
  // What the runs logged as inputs: datasets, and the dependencies a stage recorded (code, params).
  lines.push('Inputs (the digests the runs recorded: a file\'s md5, or MLflow\'s dataset digest)');
  if (l.datasets.length === 0) lines.push('  (none recorded)');
  const nameWidth = Math.max(0, ...l.datasets.map((d) => d.name.length));
  const digestWidth = Math.max(0, ...l.datasets.map((d) => d.digest.length));
  for (const d of l.datasets) lines.push(`  ${d.name.padEnd(nameWidth)}  ${d.digest.padEnd(digestWidth)}${d.source && d.source !== d.name ? `  ${d.source}` : ''}`.trimEnd());
  if (!l.sourceRun) lines.push('Source run (none recorded: registered from a file)');
  else {
    lines.push(l.pipelineRun ? `Pipeline run ${l.pipelineRun.runName} (${l.pipelineRun.runId.slice(0, 8)}, ${l.pipelineRun.status})` : 'Pipeline run (none: the source run has no parent)');
    for (const s of l.stageRuns) {
      const mark = s.runId === l.producedBy ? '  ← produced this model' : s.runId === l.sourceRun.runId ? '  ← registered this version' : '';
      // A stage that run left as it was: the earlier run that wrote what it read.
      const earlier = l.pipelineRun && s.parentRunId !== l.pipelineRun.runId ? `, in an earlier pipeline run${s.parentRunId ? ` (${s.parentRunId.slice(0, 8)})` : ''}` : '';
      lines.push(`  stage ${s.stage ?? s.runName} (${s.runId.slice(0, 8)}, ${s.status}${earlier})${mark}`);
    }
    if (!l.stageRuns.some((s) => s.runId === l.sourceRun!.runId)) lines.push(`Source run ${l.sourceRun.runName} (${l.sourceRun.runId.slice(0, 8)}, ${l.sourceRun.status})`);
  }
  lines.push('Evaluations of these model bytes');
  if (l.evaluations.length === 0) lines.push('  (none)');
  for (const e of l.evaluations) {
    // The quality metrics, key ones first; not the timings (latency_*, rows_per_second), which say nothing of the model's fit.
    const quality = orderedMetrics(e.metrics.filter((m) => !isRunStatistic(m.key)));
    const metrics = quality.map((m) => `${m.key}=${formatMetricCompact(m.value)}`).join(' ');
    const data = e.datasets.map((d) => `${d.name}@${d.digest.slice(0, 8)}`).join(', ');
    lines.push(`  ${e.runName} (${e.runId.slice(0, 8)})${data ? ` on ${data}` : ''}: ${metrics}`);
  }
  lines.push(`Aliases ${l.aliases.length > 0 ? l.aliases.map((a) => `@${a}`).join(', ') : '(none)'}`);
  for (const m of l.aliasHistory) {
    const what = m.version === undefined ? `removed from version ${m.previousVersion}` : m.previousVersion === undefined ? `set to version ${m.version}` : `moved from version ${m.previousVersion} to ${m.version}`;
    lines.push(`  @${m.alias} ${what} by ${m.userId || 'unknown'} at ${formatTimestamp(m.changedAt)}`);
  }
  // Each entry one line: a run, file or alias name holding a line break cannot add lines of its own.
  return `${lines.map(oneLine).join('\n')}\n`;
}

/** Copies a version's files (and its card) out, each re-hashed first: a changed copy is refused, not exported. */
export function modelsExport(ctx: CommandContext, args: ParsedArgs): void {
  const [refText] = positionals(args, ['model']);
  const output = optionValue(args, 'output');
  if (output === undefined) throw new UsageError('--output DIR is needed (the folder to copy the files into)');
  const tracker = ctx.openTracker();
  const v = tracker.registry.resolveVersion(tracker.registry.parseRef(refText!));
  const dest = path.resolve(process.cwd(), output);
  const files = tracker.registry.versionFiles(v.name, v.version);
  // Every file and the card re-hashed before anything is copied: a changed one leaves no half-written export.
  const opened = files.map((f) => tracker.openModelVersionFile(v.name, v.version, f.path));
  const stored = tracker.openModelVersionCard(v.name, v.version);
  // The card registered with the version goes with it, under its own name (beside a model file of that name: `.card` added).
  let card: string | undefined;
  if (stored) {
    const base = path.basename(stored.path);
    card = files.some((f) => f.path === base) ? `${base}.card` : base;
  }
  // Copied from the descriptors they were hashed from: what is written is what was verified.
  const copies = [...opened.map((o) => ({ from: o.verified, to: resolveInside(dest, o.record.path) })), ...(stored && card ? [{ from: stored.verified, to: resolveInside(dest, card) }] : [])];
  const closeAll = () => copies.forEach((c) => c.from.close());
  // Checked before any copy: nothing is written through a link inside DIR, and no file there is
  // replaced unless --force says so (a link is never followed, even then).
  const force = flag(args, 'force');
  try {
    checkExportTargets(copies.map((c) => c.to), dest, force);
  } catch (e) {
    closeAll();
    throw e;
  }
  for (const { from, to } of copies) {
    mkdirSync(path.dirname(to), { recursive: true });
    if (force && lstatIfAny(to)) unlinkSync(to);
    from.copyTo(to);
  }
  if (ctx.json) ctx.printJson({ name: v.name, version: Number(v.version), sha256: v.sha256, output: dest, files, card: card ?? null });
  else ctx.io.out(`Exported ${v.name}/${v.version} (${files.length} file${files.length === 1 ? '' : 's'}${card ? ` and its card ${card}` : ''}, sha256 verified) to ${dest}\n`);
}

/** Nothing is written through a link inside DIR, and no file there is replaced unless --force says so. */
function checkExportTargets(targets: readonly string[], dest: string, force: boolean): void {
  for (const to of targets) {
    for (let dir = path.dirname(to); dir.length > dest.length && dir.startsWith(dest); dir = path.dirname(dir)) {
      if (lstatIfAny(dir)?.isSymbolicLink()) throw new CliError(`${dir} is a symbolic link: export does not write through links; export into a plain folder`);
    }
    const there = lstatIfAny(to);
    if (there?.isSymbolicLink()) throw new CliError(`${to} is a symbolic link: export does not write through links`);
    if (there?.isDirectory()) throw new CliError(`${to} is a folder where the version's file goes: export into another folder`);
    if (there && !force) throw new CliError(`${to} exists: export into an empty folder, or give --force to replace the version's files there`);
  }
}
