/**
 * Evaluation and the registry in the editor: the commands behind the explorer's context menu on
 * `.onnx` files, the model card CodeLens and the Models view.
 *
 * - Evaluate Model…: the model (the clicked file, or a pick), the dataset (a pick of the workspace's
 *   CSV / JSON Lines / Parquet files, or a file dialog), the target column (offered from the file's
 *   header), the task (inferred unless picked; a threshold for binary), an optional slice column.
 *   evaluateModel runs in the extension host under a cancellable progress notification that counts
 *   the rows; the run lands in the tracker and the report opens in the evaluation report webview.
 * - Register Model…: a name (existing ones offered, or a new one typed), an optional alias; the
 *   model file (and the card, from a card's CodeLens, saved first if the user says so) become an
 *   immutable version, under a progress notification.
 * - Set Model Alias…, Compare Metrics, Open Card, Show Lineage, Show Evaluation Report.
 *
 * Nothing here evaluates or writes the tracker in an untrusted workspace: those commands throw
 * UntrustedWorkspaceError first, which extension.ts turns into the Manage Workspace Trust message.
 */
import { withVersionModel } from '../core/tracker/versionModel';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EvaluationReport, EvaluationTask } from '../core/evaluation/evaluate';
import { parseThreshold } from '../core/evaluation/threshold';
import type { ModelColumns } from '../core/evaluation/targetPick';
import { checkAlias, checkModelName, type ModelVersion } from '../core/tracker/modelRegistry';
import type { Tracker } from '../core/tracker/tracker';
import type { RunSummary } from '../core/views/runsTreeModel';
import { compareRuns } from '../core/tracker/runComparison';
import { aliasesSuffix, formatMetricCompact, formatMetricValue } from '../core/views/displayFormat';
import { isAtOrUnder, relativeInside } from '../core/workspace/workspacePath';
import { EvaluationReportPanel } from './evaluationReportPanel';
import { KEY_METRICS, orderedMetrics } from '../core/views/evaluationMetrics';
import { latestEvaluationOf, registeredModels, versionsOf, type ModelsView, type VersionArgument, type VersionNode } from './modelsView';
import { comparableEvaluations, metricChange, worseOnSameData } from '../core/modelCard/cardEvaluation';
import { cardModelName } from '../core/modelCard/cardUpdate';
import { modelNameProblem } from '../core/tracker/registryNames';
import { UntrustedWorkspaceError, type TrackingService } from './trackingService';
import { currentUser } from '../core/workspace/currentUser';

/** Files the commands never offer: tool folders and the tracker's own store. */
const EXCLUDE = '**/{node_modules,.git,.runwise,.venv,venv,__pycache__}/**';
const DATASET_GLOB = '**/*.{csv,jsonl,ndjson,parquet}';
const MODEL_GLOB = '**/*.onnx';

/** The scheme of the read-only documents the commands open (metric comparisons, stored cards). */
export const REGISTRY_DOCUMENT_SCHEME = 'runwise-registry';

/**
 * What the model commands receive: the explorer's file (a Uri), a card's CodeLens (`{card}`, the
 * card's URI as a string), or nothing (palette: ask).
 */
export type ModelCommandArgument = vscode.Uri | { card: string } | undefined;

export interface EvaluationCommandsOptions {
  tracking: TrackingService;
  models: ModelsView;
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  /** The run a Runs view argument names (RunCommands.resolveRun). */
  resolveRun(arg: unknown, action: string, only?: { keep: (run: RunSummary) => boolean; none: string }): Promise<string | undefined>;
}

function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * Throws, naming the file, when `file` is no ONNX model (empty, truncated, a Git LFS pointer): said
 * when it is picked. A file over 64 MiB, or not a regular file, is left to the evaluation's checks.
 */
async function checkModelFile(file: string, shown: string): Promise<ModelColumns> {
  const { readFile, stat } = await import('node:fs/promises');
  const st = await stat(file);
  if (!st.isFile() || st.size > 64 * 1024 * 1024) return {};
  const { onnxModelProblem } = await import('../core/evaluation/onnxGraph');
  const { modelColumns } = await import('../core/evaluation/targetPick');
  const bytes = await readFile(file);
  const problem = onnxModelProblem(bytes);
  if (problem) throw new Error(`${shown} is ${problem}.`);
  return modelColumns(bytes);
}

/** A read-only text document per URI, filled in before it is opened. */
export class RegistryDocuments implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;

  async open(docPath: string, text: string, language?: string, options: { show?: boolean } = {}): Promise<vscode.Uri> {
    const uri = vscode.Uri.from({ scheme: REGISTRY_DOCUMENT_SCHEME, path: docPath });
    this.texts.set(uri.toString(), text);
    this.emitter.fire(uri);
    let doc = await vscode.workspace.openTextDocument(uri);
    if (language && doc.languageId !== language) doc = await vscode.languages.setTextDocumentLanguage(doc, language);
    if (options.show !== false) await vscode.window.showTextDocument(doc, { preview: true });
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? 'This document is no longer available: run the command again.';
  }
}

export class EvaluationCommands {
  readonly documents = new RegistryDocuments();

  constructor(private readonly options: EvaluationCommandsOptions) {}

  private get workspace(): string {
    const ws = this.options.tracking.workspace;
    if (!ws) throw new Error('Runwise needs a folder on disk open in the window.');
    return ws;
  }

  private requireTrust(what: string): void {
    if (!vscode.workspace.isTrusted) throw new UntrustedWorkspaceError(what);
  }

  private relative(file: string): string {
    return relativeInside(this.workspace, file)?.split(path.sep).join('/') ?? file;
  }

  private async readTracker(): Promise<Tracker> {
    const tracker = await this.options.tracking.tracker();
    if (!tracker) throw new Error('This workspace has no tracker yet: nothing is registered.');
    return tracker;
  }

  /** The model file: the clicked one, or a pick of the workspace's `.onnx` files (those beside a card first). */
  private async modelFile(arg: ModelCommandArgument, action: string): Promise<string | undefined> {
    if (arg instanceof vscode.Uri) return arg.fsPath;
    const near = arg && 'card' in arg ? path.dirname(vscode.Uri.parse(arg.card).fsPath) : undefined;
    const found = (await vscode.workspace.findFiles(MODEL_GLOB, EXCLUDE, 1000)).filter((u) => u.scheme === 'file').map((u) => u.fsPath);
    if (found.length === 0) throw new Error('This workspace has no .onnx model file.');
    // From a card's lens, the models registered with this card (its saved bytes, or a card of its name
    // registered with a model in its folder) come first, then those in its folder.
    const cardFile = arg && 'card' in arg ? vscode.Uri.parse(arg.card).fsPath : undefined;
    const tracker = cardFile ? await this.options.tracking.tracker() : undefined;
    const cardSha = cardFile && existsSync(cardFile) ? sha256Of(cardFile) : undefined;
    const cardDir = cardFile ? this.relative(path.dirname(cardFile)) : undefined;
    const inCardDir = (source: string) => cardDir !== undefined && isAtOrUnder(source, cardDir);
    const sources = tracker
      ? registeredModels(tracker)
          .flatMap((m) => versionsOf(tracker, m.name))
          .filter((v) => v.card !== undefined && (v.card.sha256 === cardSha || (v.card.path === path.basename(cardFile!) && inCardDir(v.source))))
          .map((v) => v.source)
      : [];
    // A version's source is its file, or the folder it was registered from.
    const withCard = (f: string) => sources.some((src) => this.relative(f) === src || this.relative(f).startsWith(`${src}/`));
    const distance = (f: string) => (withCard(f) ? 0 : near && (path.dirname(f) === near || path.dirname(f).startsWith(near + path.sep)) ? 1 : 2);
    found.sort((a, b) => distance(a) - distance(b) || (a < b ? -1 : 1));
    const pick = await vscode.window.showQuickPick(
      found.map((f) => ({ label: this.relative(f), file: f, ...(withCard(f) ? { description: 'registered with this card' } : {}) })),
      { title: `Runwise: ${action}`, placeHolder: 'Pick the model (.onnx)' },
    );
    return pick?.file;
  }

  private async datasetFile(title: string): Promise<string | undefined> {
    const found = (await vscode.workspace.findFiles(DATASET_GLOB, EXCLUDE, 2000)).filter((u) => u.scheme === 'file').map((u) => u.fsPath).sort();
    const browse = { label: '$(folder-opened) Browse…', description: 'pick a file with the file dialog', file: '' };
    const pick = await vscode.window.showQuickPick([...found.map((f) => ({ label: this.relative(f), description: path.extname(f).slice(1), file: f })), browse], {
      title,
      placeHolder: 'Pick the dataset to evaluate on (CSV, JSON Lines or Parquet)',
      matchOnDescription: true,
    });
    if (!pick) return undefined;
    if (pick.file) return pick.file;
    const chosen = await vscode.window.showOpenDialog({
      title: 'Runwise: the dataset to evaluate on',
      canSelectMany: false,
      defaultUri: vscode.Uri.file(this.workspace),
      filters: { Datasets: ['csv', 'jsonl', 'ndjson', 'parquet'] },
    });
    return chosen?.[0]?.fsPath;
  }

  /** The dataset's named columns (a column with no name, such as pandas' index, is never a target or a slice). */
  private async columnsOf(data: string): Promise<string[]> {
    const { openDataset, isNamedColumn, headerLooksLikeData } = await import('../core/dataset/dataset');
    const reader = await openDataset(data, this.relative(data));
    const columns = reader.columns.filter(isNamedColumn);
    if (reader.format === 'csv' && headerLooksLikeData(columns)) {
      const goOn = 'Use the First Row as the Header';
      const choice = await vscode.window.showWarningMessage(
        `Runwise: the first row of ${this.relative(data)} looks like data (every name in it is a number); an evaluation reads the first row as the header naming the columns.`,
        { modal: true },
        goOn,
      );
      if (choice !== goOn) return [];
    }
    if (columns.length < 2) throw new Error(`${this.relative(data)}: found ${columns.length} named column${columns.length === 1 ? '' : 's'}; an evaluation needs features and a target column.`);
    return columns;
  }

  private async targetColumn(data: string, columns: readonly string[], title: string, model: ModelColumns): Promise<string | undefined> {
    // The model's own target, or the last column (where a target usually is), first: Enter takes it.
    const { targetCandidates } = await import('../core/evaluation/targetPick');
    const ordered = targetCandidates(columns, { lastIsLikely: !/\.jsonl$|\.ndjson$/i.test(data), model });
    const pick = await vscode.window.showQuickPick(
      ordered.map((c) => ({ label: c.column, description: c.note })),
      { title, placeHolder: `Target column of ${path.basename(data)}; the others feed the model` },
    );
    return pick?.label;
  }

  /** The slice column (optional): '' for none, undefined when the pick is dismissed. */
  private async sliceColumn(columns: readonly string[], target: string, title: string): Promise<string | undefined> {
    const none = { label: 'No slices', description: 'the metrics on the whole dataset only', column: '' };
    const pick = await vscode.window.showQuickPick([none, ...columns.filter((c) => c !== target).map((c) => ({ label: c, description: 'metrics per value, the largest gap marked', column: c }))], {
      title,
      placeHolder: 'Slice the metrics by a column (a fairness check), or none',
    });
    return pick?.column;
  }

  private async taskAndThreshold(title: string): Promise<{ task?: EvaluationTask; threshold?: number } | undefined> {
    const items: (vscode.QuickPickItem & { task?: EvaluationTask; askThreshold?: boolean })[] = [
      { label: 'Infer from the model', description: 'probabilities of width 2 → binary (threshold 0.5), wider → multiclass, one value → regression' },
      { label: 'binary, with a threshold…', task: 'binary', askThreshold: true },
      { label: 'multiclass', task: 'multiclass' },
      { label: 'regression', task: 'regression' },
    ];
    const pick = await vscode.window.showQuickPick(items, { title, placeHolder: 'The task' });
    if (!pick) return undefined;
    if (!pick.askThreshold) return pick.task ? { task: pick.task } : {};
    const text = await vscode.window.showInputBox({
      title: 'Runwise: decision threshold',
      prompt: 'A row is predicted positive when P(class 1) is above this',
      value: '0.5',
      validateInput: (v) => (parseThreshold(v) !== undefined ? undefined : 'A number between 0 and 1'),
    });
    if (text === undefined) return undefined;
    return { task: 'binary', threshold: parseThreshold(text)! };
  }

  /**
   * Runwise: Evaluate Model Version…: the registry's own copy of a version (re-hashed first), named
   * `models:/NAME/N` in the report and its run, as a pipeline's gate measures a champion.
   */
  async evaluateVersion(arg: VersionArgument): Promise<EvaluationReport | undefined> {
    this.requireTrust('evaluate models');
    const target = await this.version(arg, 'Evaluate Model Version…');
    if (!target) return undefined;
    const tracker = await this.readTracker();
    const onnx = tracker.registry.versionFiles(target.name, target.version).filter((f) => /\.onnx$/i.test(f.path));
    if (onnx.length !== 1) throw new Error(`${target.name}/${target.version} holds ${onnx.length === 0 ? 'no .onnx file' : `${onnx.length} .onnx files`}: evaluate its model file from the Explorer instead.`);
    // A private copy of the bytes re-hashed, as gates and the CLI evaluate a version.
    return withVersionModel(tracker, target.name, target.version, (modelPath) => this.evaluate(vscode.Uri.file(modelPath), `models:/${target.name}/${target.version}`));
  }

  /** Runwise: Evaluate Model… (`modelName`: what the model is called instead of its path, a registered version's copy). */
  async evaluate(arg: ModelCommandArgument, modelName?: string): Promise<EvaluationReport | undefined> {
    this.requireTrust('evaluate models');
    // Numbered steps: the model is one of them when it is picked rather than clicked.
    const pickedModel = !(arg instanceof vscode.Uri);
    const steps = pickedModel ? 5 : 4;
    const title = modelName ? 'Evaluate Model Version…' : 'Evaluate Model…';
    const step = (n: number) => `Runwise: ${title} (${n + (pickedModel ? 1 : 0)}/${steps})`;
    const model = await this.modelFile(arg, pickedModel ? `Evaluate Model… (1/${steps})` : 'Evaluate Model…');
    if (!model) return undefined;
    // A file that is no ONNX model is said now, not after every other pick.
    const modelColumns = await checkModelFile(model, modelName ?? this.relative(model));
    const data = await this.datasetFile(step(1));
    if (!data) return undefined;
    const columns = await this.columnsOf(data);
    if (columns.length === 0) return undefined;
    const target = await this.targetColumn(data, columns, step(2), modelColumns);
    if (!target) return undefined;
    const task = await this.taskAndThreshold(step(3));
    if (!task) return undefined;
    const sliceBy = await this.sliceColumn(columns, target, step(4));
    if (sliceBy === undefined) return undefined;
    const tracker = await this.options.tracking.writableTracker();
    const { evaluateModel, EvaluationCancelledError, EvaluationError } = await import('../core/evaluation/evaluate');
    const started = performance.now();
    let report: EvaluationReport | undefined;
    // Every column but the target feeds the model, unless that is not as many as it takes (an id
    // column beside the features): the features are then picked, and the evaluation starts again.
    let features: string[] | undefined;
    while (!report) {
      try {
        report = await this.runEvaluation({ evaluateModel, model, modelName, data, target, task, sliceBy, features, tracker });
      } catch (e) {
        if (e instanceof EvaluationCancelledError) {
          void vscode.window.showInformationMessage(`Runwise: ${e.message}.`);
          return undefined;
        }
        if (e instanceof EvaluationError && e.kind === 'feature-count' && e.expectedFeatures !== undefined && features === undefined) {
          features = await this.featureColumns(columns, target, e.expectedFeatures, data);
          if (!features) return undefined;
          continue;
        }
        throw e;
      } finally {
        void this.options.models.refresh();
      }
    }
    this.options.log.info(`evaluated ${report.model.path} on ${report.dataset.path}: ${report.rows} rows in ${(performance.now() - started).toFixed(0)} ms, run ${report.run_id ?? '(none)'}`);
    EvaluationReportPanel.show({ report }, this.panelDependencies());
    const head = orderedMetrics(Object.entries(report.metrics).map(([key, value]) => ({ key, value })))
      .slice(0, 3)
      .map((m) => `${m.key} ${formatMetricCompact(m.value)}`)
      .join(', ');
    // A registered version's copy is registered already: no Register button.
    const register = modelName ? [] : ['Register Model…'];
    void vscode.window.showInformationMessage(`Runwise: evaluated ${report.model.path} (${report.task}, ${report.rows} rows): ${head}.`, ...register).then((choice) => {
      if (choice) void vscode.commands.executeCommand('runwise.registerModel', vscode.Uri.file(model));
    });
    return report;
  }

  /**
   * The columns that feed a model taking `count` features a row, picked from the dataset's (the
   * target aside), in file order: those named like an id (`customer_id`, `ID`) are not picked at
   * first. Undefined when dismissed.
   */
  private async featureColumns(columns: readonly string[], target: string, count: number, data: string): Promise<string[] | undefined> {
    const candidates = columns.filter((c) => c !== target);
    const idLike = (c: string) => /(^|[_\s.-])id$/i.test(c) || /^(id|index|unnamed.*)$/i.test(c);
    const preferred = [...candidates.filter((c) => !idLike(c)), ...candidates.filter(idLike)].slice(0, count);
    const qp = vscode.window.createQuickPick<vscode.QuickPickItem>();
    const title = `Runwise: the model takes ${count} feature${count === 1 ? '' : 's'} a row; ${path.basename(data)} has ${candidates.length} columns besides '${target}'`;
    qp.title = title;
    qp.placeholder = `Pick the ${count} columns that feed it (they go in file order, as the model was trained on them)`;
    qp.canSelectMany = true;
    qp.items = candidates.map((c) => ({ label: c, ...(idLike(c) ? { description: 'looks like an id' } : {}) }));
    qp.selectedItems = qp.items.filter((i) => preferred.includes(i.label));
    const picked = await new Promise<string[] | undefined>((resolve) => {
      qp.onDidAccept(() => {
        const chosen = qp.selectedItems.map((i) => i.label);
        if (chosen.length !== count) {
          qp.title = `${title}: ${chosen.length} picked, the model takes ${count}`;
          return;
        }
        resolve(candidates.filter((c) => chosen.includes(c)));
        qp.hide();
      });
      qp.onDidHide(() => resolve(undefined));
      qp.show();
    });
    qp.dispose();
    return picked;
  }

  private async runEvaluation(o: {
    evaluateModel: typeof import('../core/evaluation/evaluate').evaluateModel;
    model: string;
    modelName: string | undefined;
    data: string;
    target: string;
    task: { task?: EvaluationTask; threshold?: number };
    sliceBy: string;
    features: string[] | undefined;
    tracker: Tracker | undefined;
  }): Promise<EvaluationReport> {
    const { model, data } = o;
    const controller = new AbortController();
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Runwise: evaluating ${o.modelName ?? this.relative(model)} on ${this.relative(data)}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => controller.abort());
        progress.report({ message: 'loading the model…' });
        // The rows done, at most every 200 ms; the bar moves while the size-based estimate of the
        // rows holds (a Parquet file, or rows past the estimate, show the count alone).
        let shown = 0;
        let said = 0;
        const onProgress = (rows: number, expected: number) => {
          const percent = rows < expected ? Math.min(99, Math.floor((rows / expected) * 100)) : shown;
          const now = Date.now();
          if (percent <= shown && now - said < 200) return;
          // The total is an estimate from the file's size (exact for Parquet): said as one.
          const of = rows < expected ? ` of about ${expected.toLocaleString('en-US')}` : '';
          progress.report({ message: `${rows.toLocaleString('en-US')}${of} rows (${Math.max(shown, percent)}%)`, ...(percent > shown ? { increment: percent - shown } : {}) });
          shown = Math.max(shown, percent);
          said = now;
        };
        return o.evaluateModel({ model, ...(o.modelName ? { modelName: o.modelName } : {}), data, target: o.target, ...o.task, ...(o.sliceBy ? { sliceBy: o.sliceBy } : {}), ...(o.features ? { features: o.features } : {}), workspace: this.workspace, tracker: o.tracker, signal: controller.signal, onProgress });
      },
    );
  }

  private panelDependencies() {
    return { extensionUri: this.options.extensionUri, tracker: () => this.options.tracking.tracker(), log: this.options.log };
  }

  private cardModelName(card: string): string | undefined {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === card);
    let text: string;
    try {
      text = open ? open.getText() : readFileSync(card, 'utf8');
    } catch {
      return undefined;
    }
    const named = cardModelName(text, card);
    return named !== undefined && !modelNameProblem(named) ? named : undefined;
  }

  /** A name picked from the registry's, or typed (a new model). */
  private async modelName(tracker: Tracker | undefined, suggested: string, title: string): Promise<string | undefined> {
    const existing = tracker ? registeredModels(tracker) : [];
    return pickOrTypeValue({
      title,
      placeholder: existing.length > 0 ? 'Pick a registered model, or type a new name' : 'Type the new model’s name',
      value: existing.length > 0 ? '' : suggested,
      items: (typed) => {
        const items = existing.map((m) => ({
          label: m.name,
          description: m.aliases.map((a) => `@${a.alias}→${a.version}`).join(' '),
          name: m.name,
        }));
        if (typed && !existing.some((m) => m.name === typed)) items.unshift({ label: typed, description: 'register as a new model', name: typed });
        else if (!typed && !existing.some((m) => m.name === suggested)) items.push({ label: suggested, description: 'register as a new model', name: suggested });
        return items;
      },
      valueOf: (item) => item.name,
      check: checkModelName,
      errorTitle: title,
    });
  }

  /** Runwise: Register Model… */
  async register(arg: ModelCommandArgument): Promise<ModelVersion | undefined> {
    this.requireTrust('register models');
    const model = await this.modelFile(arg, 'Register Model…');
    if (!model) return undefined;
    // A file that is no ONNX model is said before any question, as Evaluate Model… says it.
    await checkModelFile(model, this.relative(model));
    const card = arg && !(arg instanceof vscode.Uri) ? vscode.Uri.parse(arg.card).fsPath : undefined;
    const tracker = await this.options.tracking.writableTracker();
    // From a card's lens: the name the card gives its model (model-index, model_details), when it is one the registry takes.
    const fromCard = card ? this.cardModelName(card) : undefined;
    const name = await this.modelName(tracker, fromCard ?? path.basename(model).replace(/\.onnx$/i, ''), `Runwise: Register ${this.relative(model)} as`);
    if (!name) return undefined;
    const alias = await vscode.window.showInputBox({
      title: `Runwise: Register ${this.relative(model)} as ${name}`,
      prompt: 'An alias to point at the new version (optional, e.g. champion); leave empty for none',
      validateInput: (v) => {
        if (v.trim() === '') return undefined;
        try {
          checkAlias(v.trim());
          return undefined;
        } catch (e) {
          return e instanceof Error ? e.message : String(e);
        }
      },
    });
    if (alias === undefined) return undefined;
    // The version keeps the card's bytes on disk: an edited card (Update from Latest Evaluation leaves its edit unsaved) is saved first, if the user says so.
    const cardDocument = card ? vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === card) : undefined;
    if (cardDocument?.isDirty) {
      const save = 'Save and Register';
      const choice = await vscode.window.showWarningMessage(
        `Runwise: ${this.relative(card!)} has unsaved changes; the version keeps the card as saved.`,
        { modal: true },
        save,
        'Register the Saved Card',
      );
      if (!choice) return undefined;
      if (choice === save && !(await cardDocument.save())) throw new Error(`${this.relative(card!)} could not be saved.`);
    }
    if (card) {
      const { checkCardForRegistration } = await import('../core/modelCard/cardFile');
      checkCardForRegistration(card, this.relative(card));
    }
    // The same bytes and card registered again make a version identical to one there is (the
    // pipeline's register step reuses it): asked, not done silently. Hashed a chunk at a time, under
    // a progress notification, so the extension host (and its tracking server) is not held.
    const same = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Runwise: hashing ${this.relative(model)}` }, async () => {
      const { modelSha256, sha256OfFileAsync } = await import('../core/tracker/modelRegistry');
      const cardSha = card ? await sha256OfFileAsync(card) : undefined;
      return tracker.registry.versionsWithHash(await modelSha256(model, this.options.tracking.workspace)).filter((v) => v.name === name && v.card?.sha256 === cardSha);
    });
    if (same.length > 0) {
      const last = same[same.length - 1]!;
      const again = 'Register Another Version';
      const choice = await vscode.window.showWarningMessage(
        `Runwise: ${name} version ${last.version}${aliasesSuffix(last.aliases)} already holds these bytes${card ? ' and this card' : ''}. Register them again as a new version?`,
        { modal: true },
        again,
      );
      if (choice !== again) return undefined;
    }
    const v = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Runwise: registering ${this.relative(model)} as ${name}` },
      async (progress) => {
        progress.report({ message: 'copying and hashing the files…' });
        return tracker.registerModelFiles(name, model, {
          source: this.relative(model),
          userId: currentUser(),
          ...(card ? { cardPath: card } : {}),
          ...(alias.trim() ? { alias: alias.trim() } : {}),
        });
      },
    );
    await this.options.models.refresh();
    const aliases = aliasesSuffix(v.aliases);
    void vscode.window.showInformationMessage(`Runwise: registered ${v.name} version ${v.version}${aliases}.`);
    const node = this.options.models.versionNode(v.name, v.version);
    if (node && this.options.models.treeView.visible) await this.options.models.treeView.reveal(node, { select: true });
    return v;
  }

  /** The version a command acts on: the argument, the view's selection, or a pick (model, then version). */
  private async version(arg: VersionArgument, action: string): Promise<{ name: string; version: string } | undefined> {
    if (arg) return { name: arg.name, version: arg.version };
    // The view's selection when it is one version; with several selected, which one is asked.
    const selected = this.options.models.selectedVersions();
    if (selected.length === 1) return selected[0];
    return this.pickVersion(action);
  }

  /** A pick of the registry's versions (but `except`; with `eligible`, only those that pass it). */
  private async pickVersion(action: string, except?: { name: string; version: string }, eligible?: (v: ModelVersion) => boolean, noneEligible?: string): Promise<{ name: string; version: string } | undefined> {
    const tracker = await this.readTracker();
    const all = registeredModels(tracker).flatMap((m) => versionsOf(tracker, m.name));
    const items = all
      .filter((v) => !(except && v.name === except.name && v.version === except.version) && (!eligible || eligible(v)))
      .map((v) => ({ label: `${v.name}/${v.version}`, description: v.aliases.map((a) => `@${a}`).join(' '), name: v.name, version: v.version }));
    if (items.length === 0) {
      if (all.length === 0) throw new Error('No registered model versions to pick: register a model first (Runwise: Register Model…).');
      if (eligible && noneEligible) throw new Error(noneEligible);
      if (eligible) {
        const other = except ? `besides ${except.name}/${except.version} ` : '';
        throw new Error(`No registered version ${other}has a finished evaluation to compare: evaluate one first (Runwise: Evaluate Model…).`);
      }
      throw new Error(`Only ${except!.name}/${except!.version} is registered: there is no other version to pick.`);
    }
    const pick = await vscode.window.showQuickPick(items, { title: `Runwise: ${action}`, placeHolder: 'Pick a model version' });
    return pick ? { name: pick.name, version: pick.version } : undefined;
  }

  /** Runwise: Set Model Alias… */
  async setAlias(arg: VersionArgument): Promise<void> {
    this.requireTrust('move model aliases');
    const target = await this.version(arg, 'Set Model Alias…');
    if (!target) return;
    const tracker = await this.options.tracking.writableTracker();
    const model = tracker.registry.getRegisteredModel(target.name);
    const known = new Map<string, string>(model.aliases.map((a) => [a.alias, `now → version ${a.version}`]));
    for (const common of ['champion', 'challenger']) if (!known.has(common)) known.set(common, '');
    const alias = await pickOrTypeValue({
      title: `Runwise: Set an alias on ${target.name}/${target.version}`,
      placeholder: 'Pick an alias or type a new one (it moves here from the version that holds it)',
      items: (typed) => {
        const items: vscode.QuickPickItem[] = [...known].map(([label, description]) => ({ label, description }));
        if (typed && !known.has(typed)) items.unshift({ label: typed, description: 'new alias' });
        return items;
      },
      valueOf: (item) => item.label,
      check: checkAlias,
      errorTitle: 'Runwise',
    });
    if (!alias) return;
    const before = model.aliases.find((a) => a.alias === alias)?.version;
    // Moving an alias to a version that measured worse on the same data is asked about first.
    if (before !== undefined && before !== target.version) {
      const worse = worseOnSameData(tracker, tracker.registry.getModelVersion(target.name, before).sha256, tracker.registry.getModelVersion(target.name, target.version).sha256, KEY_METRICS);
      if (worse) {
        const move = `Move @${alias}`;
        // The safe answer first: it is the dialog's default, so Enter keeps the better version.
        const keep = `Keep @${alias} on Version ${before}`;
        const choice = await vscode.window.showWarningMessage(
          `Runwise: version ${target.version}'s ${worse.metric} (${formatMetricCompact(worse.to)}) is worse than version ${before}'s (${formatMetricCompact(worse.from)}), both on ${worse.dataset}. Move @${alias} to version ${target.version} anyway?`,
          { modal: true },
          keep,
          move,
        );
        if (choice !== move) return;
      }
    }
    tracker.registry.setAlias(target.name, alias, target.version, currentUser());
    await this.options.models.refresh();
    const moved = before === undefined ? '' : before === target.version ? ' (it already pointed there)' : ` (moved from version ${before})`;
    void vscode.window.showInformationMessage(`Runwise: ${target.name}@${alias} → version ${target.version}${moved}.`);
  }

  /** Runwise: Remove Model Alias…: one of the version's aliases (a pick when it has several), after a confirmation. */
  async removeAlias(arg: VersionArgument): Promise<void> {
    this.requireTrust('remove model aliases');
    const selected = this.options.models.selectedVersions();
    const target = arg ? { name: arg.name, version: arg.version } : selected.length === 1 ? selected[0] : await this.pickVersion('Remove Model Alias…', undefined, (v) => v.aliases.length > 0, 'No registered version holds an alias.');
    if (!target) return;
    const tracker = await this.options.tracking.writableTracker();
    const aliases = tracker.registry.getModelVersion(target.name, target.version).aliases;
    if (aliases.length === 0) throw new Error(`${target.name}/${target.version} has no alias to remove.`);
    const alias =
      aliases.length === 1 ? aliases[0]! : (await vscode.window.showQuickPick(aliases, { title: `Runwise: Remove an alias of ${target.name}/${target.version}`, placeHolder: 'Pick the alias to remove' }));
    if (!alias) return;
    const remove = 'Remove Alias';
    const choice = await vscode.window.showWarningMessage(
      `Runwise: remove ${target.name}@${alias} (now on version ${target.version})? Loading models:/${target.name}@${alias} then fails, and gates comparing with ${alias} pass.`,
      { modal: true },
      remove,
    );
    if (choice !== remove) return;
    tracker.registry.deleteAlias(target.name, alias, currentUser());
    await this.options.models.refresh();
    void vscode.window.showInformationMessage(`Runwise: removed ${target.name}@${alias} from version ${target.version}.`);
  }

  /** Runwise: Compare Model Metrics: the latest evaluations of two versions, side by side. */
  async compare(arg: VersionArgument, selection?: readonly VersionNode[]): Promise<void> {
    const tracker = await this.readTracker();
    const chosen = (selection ?? []).filter((n) => n.kind === 'version');
    if (chosen.length > 2) throw new Error(`Compare Model Metrics compares two versions: ${chosen.length} are selected.`);
    let first: { name: string; version: string } | undefined = chosen[0] ?? (arg ? { name: arg.name, version: arg.version } : undefined);
    let second: { name: string; version: string } | undefined = chosen[1];
    const evaluated = (v: ModelVersion) => latestEvaluationOf(tracker, v) !== undefined;
    for (const ref of [first, second]) {
      if (ref && !evaluated(tracker.registry.getModelVersion(ref.name, ref.version))) {
        throw new Error(`${ref.name}/${ref.version} has no finished evaluation to compare: evaluate it first (Runwise: Evaluate Model…).`);
      }
    }
    first ??= await this.pickVersion('Compare Model Metrics: the first version', undefined, evaluated);
    if (!first) return;
    second ??= await this.pickVersion(`Compare Model Metrics: ${first.name}/${first.version} with`, first, evaluated);
    if (!second) return;
    const versions = [first, second].map((ref) => tracker.registry.getModelVersion(ref.name, ref.version));
    // On one dataset when both were evaluated on one (the latest such pair), else each one's latest, said so.
    const chosenRuns = comparableEvaluations(tracker, versions[0]!.sha256, versions[1]!.sha256);
    if (!chosenRuns) throw new Error(`${first.name}/${first.version} or ${second.name}/${second.version} has no finished evaluation to compare: evaluate it first (Runwise: Evaluate Model…).`);
    const pair = versions.map((mv, i) => ({
      label: `${mv.name}/${mv.version}${aliasesSuffix(mv.aliases)}`,
      run: tracker.getRun(i === 0 ? chosenRuns.a : chosenRuns.b),
    }));
    const comparison = compareRuns(pair.map((p) => p.run));
    const cell = (v: string | number | null) => (v === null ? '–' : typeof v === 'number' ? formatMetricValue(v) : v.replace(/\|/g, '\\|'));
    // Metrics in 4 significant digits, so that the table fits beside its source (the runs keep them whole).
    const compact = (v: string | number | null) => (typeof v === 'number' ? formatMetricCompact(v) : cell(v));
    const [a, b] = pair.map((p) => cell(p.label)) as [string, string];
    const [dataA, dataB] = chosenRuns.datasets.map((d) => (d ? `${d.source} (md5 ${d.digest.slice(0, 8)})` : 'an unrecorded dataset'));
    const lines = [
      `# ${a} vs ${b}`,
      '',
      chosenRuns.shared
        ? `Both evaluated on ${dataA}: the latest such evaluation of each version (its run in parentheses).`
        : `> **Not comparable:** ${a} was last evaluated on ${dataA}, ${b} on ${dataB}, and never both on one dataset. Evaluate both on the same file to compare them; below, each one's latest evaluation.`,
      '',
      `| metric | ${a} (${pair[0]!.run.info.runId.slice(0, 8)}) | ${b} (${pair[1]!.run.info.runId.slice(0, 8)}) | ${b} − ${a} |`,
      '|---|---:|---:|---:|',
      ...orderedMetrics(comparison.metrics.map((m) => ({ key: m.key, value: 0 }))).map(({ key }) => {
        const m = comparison.metrics.find((x) => x.key === key)!;
        const [x, y] = m.values;
        return `| ${key} | ${compact(x ?? null)} | ${compact(y ?? null)} | ${typeof x === 'number' && typeof y === 'number' ? metricChange(key, x, y, formatMetricCompact) : ''} |`;
      }),
      '',
      `| parameter | ${a} | ${b} |`,
      '|---|---|---|',
      ...comparison.params.map((p) => `| ${p.key} | ${cell(p.values[0] ?? null)} | ${cell(p.values[1] ?? null)} |`),
      '',
    ];
    const uri = await this.documents.open(`/compare/${first.name}-${first.version}-vs-${second.name}-${second.version}.md`, lines.join('\n'), 'markdown', { show: false });
    // Rendered as tables by the built-in Markdown preview, its source not opened beside it (the same
    // pair again reveals the same preview); without the preview, the Markdown itself.
    try {
      await vscode.commands.executeCommand('markdown.showPreview', uri);
    } catch {
      await vscode.window.showTextDocument(uri, { preview: true });
    }
  }

  /** Runwise: Open Model Card: the workspace file when it still holds the registered bytes, else the stored copy (read-only). */
  async openCard(arg: VersionArgument): Promise<void> {
    const target = await this.version(arg, 'Open Card');
    if (!target) return;
    const tracker = await this.readTracker();
    const mv = tracker.registry.getModelVersion(target.name, target.version);
    if (!mv.card) {
      void vscode.window.showInformationMessage(`Runwise: ${mv.name}/${mv.version} was registered without a model card (register from a card's CodeLens to keep one).`);
      return;
    }
    const base = path.basename(mv.card.path);
    const same = (await vscode.workspace.findFiles(`**/${base}`, EXCLUDE, 200)).find((u) => u.scheme === 'file' && sha256Of(u.fsPath) === mv.card!.sha256);
    if (same) {
      await vscode.window.showTextDocument(same);
      return;
    }
    const stored = tracker.openModelVersionCard(mv.name, mv.version)!;
    await this.documents.open(`/card/${mv.name}/${mv.version}/${base}`, stored.verified.text());
  }

  /** Runwise: Show Lineage as a Tree in the Models View. */
  async showLineage(arg: VersionArgument): Promise<void> {
    const target = await this.version(arg, 'Show Lineage as a Tree in the Models View');
    if (!target) return;
    await vscode.commands.executeCommand('runwise.models.focus');
    await this.options.models.showLineage(target.name, target.version);
  }

  /** Runwise: Show Evaluation Report: an evaluation run's report (a Runs view row, a lineage row, a version's latest). */
  async showReport(arg: VersionNode | { runId: string } | undefined): Promise<void> {
    let runId: string | undefined;
    let version: string | undefined;
    if (arg && 'kind' in arg && arg.kind === 'version') {
      runId = arg.evaluation?.runId;
      version = `${arg.name}/${arg.version}`;
      if (!runId) throw new Error(`${arg.name}/${arg.version} has not been evaluated yet.`);
    } else {
      runId = await this.options.resolveRun(arg, 'Show Evaluation Report', {
        keep: (run) => run.evaluation === true && run.status === 'FINISHED',
        none: 'There is no finished evaluation in this workspace yet: evaluate a model first (Runwise: Evaluate Model…).',
      });
    }
    if (!runId) return;
    EvaluationReportPanel.show({ runId, ...(version ? { version } : {}) }, this.panelDependencies());
  }
}

/**
 * A quick pick of known values that also takes a typed one: `items(typed)` is what to offer for the
 * text typed so far (trimmed). On accept, the picked item's value (or the typed text) must pass
 * `check`; if it throws, its message shows in the title (`<errorTitle>: <message>`) and the pick
 * stays open. Undefined when the pick is closed.
 */
async function pickOrTypeValue<Item extends vscode.QuickPickItem>(options: {
  title: string;
  placeholder: string;
  /** Text already typed when the pick opens. */
  value?: string;
  items: (typed: string) => Item[];
  valueOf: (item: Item) => string;
  check: (value: string) => void;
  errorTitle: string;
}): Promise<string | undefined> {
  const qp = vscode.window.createQuickPick<Item>();
  qp.title = options.title;
  qp.placeholder = options.placeholder;
  if (options.value !== undefined) qp.value = options.value;
  const update = () => {
    qp.items = options.items(qp.value.trim());
    // A message from a refused value goes once the value changes.
    qp.title = options.title;
  };
  update();
  qp.onDidChangeValue(update);
  const value = await new Promise<string | undefined>((resolve) => {
    qp.onDidAccept(() => {
      const picked = qp.selectedItems[0];
      const chosen = picked ? options.valueOf(picked) : qp.value.trim();
      try {
        options.check(chosen);
      } catch (e) {
        qp.title = `${options.errorTitle}: ${e instanceof Error ? e.message : String(e)}`;
        return;
      }
      resolve(chosen);
      qp.hide();
    });
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  qp.dispose();
  return value;
}
