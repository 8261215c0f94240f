/**
 * CodeLens above a model card (Markdown with YAML front matter named as a card, README.md or
 * MODEL_CARD.md, or holding a card's keys; or a Model Card Toolkit `*.modelcard.yaml` or
 * `model_card.json`): "Evaluate",
 * "Register" and "Update from Latest Evaluation" (which, run from the palette, takes any Markdown
 * with front matter, as `runwise card update` does).
 *
 * Update from Latest Evaluation writes the latest finished evaluation of a registered version into
 * the card with core/modelCard (`runwise card update CARD --from NAME/VERSION` does the same): the
 * version is the one registered with a card of this name whose model is in the card's folder, else
 * a pick; the edit is
 * applied to the open document (undoable, left unsaved for review) and touches only the entries
 * Runwise writes.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { extractFrontMatter } from '../core/language/modelCard/frontMatter';
import { isMarkdownCard } from '../core/language/files/fileKinds';
import type { CardEvaluation } from '../core/modelCard/cardEvaluation';
import { cardFormatOf } from '../core/modelCard/cardUpdate';
import { isAtOrUnder } from '../core/workspace/workspacePath';
import { registeredModels, versionsOf } from './modelsView';
import type { TrackingService } from './trackingService';

/** The documents the lens looks at: Markdown, and the toolkit's YAML and JSON cards, on disk. */
export const MODEL_CARD_SELECTOR: vscode.DocumentSelector = [
  { scheme: 'file', pattern: '**/*.md' },
  { scheme: 'file', pattern: '**/*.modelcard.{yaml,yml}' },
  { scheme: 'file', pattern: '**/*{model_card,model-card,modelcard,MODEL_CARD,MODEL-CARD,MODELCARD,ModelCard}.json' },
];

/**
 * Is this document a model card the lens and the update command handle? A Model Card Toolkit
 * file, or Markdown with front matter that is named as a card (README.md, MODEL_CARD.md) or holds a
 * card's keys: not any page with front matter (a Jekyll or Hugo page has `layout` and `title`).
 */
export function isModelCard(document: vscode.TextDocument): boolean {
  if (cardFormatOf(document.fileName) === 'model-card-toolkit') return true;
  const front = markdownFrontMatter(document);
  return front !== undefined && isMarkdownCard(path.basename(document.fileName), front.yaml);
}

/** What the update command takes, as `runwise card update` does: any Markdown with front matter, or a Model Card Toolkit file. */
function isCardFile(document: vscode.TextDocument): boolean {
  return cardFormatOf(document.fileName) === 'model-card-toolkit' || markdownFrontMatter(document) !== undefined;
}

/** A Markdown card's front matter; undefined for another file or Markdown without it. */
function markdownFrontMatter(document: vscode.TextDocument): ReturnType<typeof extractFrontMatter> {
  return cardFormatOf(document.fileName) === 'huggingface' ? extractFrontMatter(document.getText()) : undefined;
}

export class ModelCardCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.emitter, vscode.workspace.onDidGrantWorkspaceTrust(() => this.emitter.fire())];

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!isModelCard(document)) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    const arg = { card: document.uri.toString() };
    const trusted = vscode.workspace.isTrusted;
    const needsTrust = trusted ? '' : ' (trust the workspace)';
    return [
      new vscode.CodeLens(top, { title: `Evaluate${needsTrust}`, command: 'runwise.evaluateModel', arguments: [arg], tooltip: 'Evaluate the model this card describes on a dataset (Runwise: Evaluate Model…)' }),
      new vscode.CodeLens(top, { title: `Register${needsTrust}`, command: 'runwise.registerModel', arguments: [arg], tooltip: 'Register the model as a new version, with this card kept beside it' }),
      new vscode.CodeLens(top, { title: 'Update from Latest Evaluation', command: 'runwise.updateModelCard', arguments: [arg], tooltip: 'Write the latest evaluation of the registered version into this card (runwise card update)' }),
    ];
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** Runwise: Update Model Card from Latest Evaluation. */
export async function updateCardFromLatestEvaluation(tracking: TrackingService, arg: { card: string } | vscode.Uri | undefined): Promise<void> {
  const uri = arg instanceof vscode.Uri ? arg : arg ? vscode.Uri.parse(arg.card) : vscode.window.activeTextEditor?.document.uri;
  if (!uri) throw new Error('Open a model card (README.md with front matter, *.modelcard.yaml or model_card.json) first.');
  const document = await vscode.workspace.openTextDocument(uri);
  if (!isCardFile(document)) throw new Error(`${path.basename(uri.fsPath)} is not a model card (expected a Markdown file with front matter, *.modelcard.yaml or model_card.json).`);
  const tracker = await tracking.tracker();
  if (!tracker) throw new Error('This workspace has no tracker yet: register and evaluate a model first.');
  const base = path.basename(uri.fsPath);
  const all = registeredModels(tracker).flatMap((m) => versionsOf(tracker, m.name));
  if (all.length === 0) throw new Error('No model is registered yet: register one (the Register lens) and evaluate it first.');
  // The versions registered with a card of this name; taken without asking only when it is one
  // version whose model lies in the card's folder (every Hugging Face card is README.md).
  const withThisCard = all.filter((v) => v.card && path.basename(v.card.path) === base);
  const candidates = withThisCard.length > 0 ? withThisCard : all;
  const cardDir = tracking.workspace ? path.relative(tracking.workspace, path.dirname(uri.fsPath)).split(path.sep).join('/') : undefined;
  // A model file or folder in the card's folder or below it (models/model.onnx under a root card).
  const besideCard = (source: string) => cardDir !== undefined && isAtOrUnder(source, cardDir);
  let chosen = candidates.length === 1 && besideCard(candidates[0]!.source) ? candidates[0] : undefined;
  if (!chosen) {
    const pick = await vscode.window.showQuickPick(
      candidates.map((v) => ({ label: `${v.name}/${v.version}`, description: v.aliases.map((a) => `@${a}`).join(' '), v })),
      { title: `Runwise: Update ${base} from the latest evaluation of`, placeHolder: 'Pick the registered version this card describes' },
    );
    chosen = pick?.v;
  }
  if (!chosen) return;
  const { latestEvaluationsByData } = await import('../core/modelCard/cardEvaluation');
  const { huggingFaceDatasetType: typeOf, runwiseResults, updateCardText } = await import('../core/modelCard/cardUpdate');
  const subject = `${chosen.name}/${chosen.version}`;
  const rel = tracking.workspace ? path.relative(tracking.workspace, uri.fsPath).split(path.sep).join('/') : base;
  const byData = latestEvaluationsByData(tracker, chosen.sha256, subject);
  if (byData.length === 0) throw new Error(`${subject} has no finished evaluation yet: evaluate it first (the Evaluate lens).`);
  // Evaluated on several files: which one's numbers the card shows is asked, the data the card
  // shows now (a README's Runwise result names it) offered first, else the latest.
  const dataOf = (e: CardEvaluation) => e.dataset.path || e.dataset.name;
  const shown = runwiseResults(document.getText(), rel)[0]?.dataset;
  const ordered = [...byData.filter((e) => typeOf(e) === shown), ...byData.filter((e) => typeOf(e) !== shown)];
  let evaluation = ordered[0]!;
  if (ordered.length > 1) {
    const pick = await vscode.window.showQuickPick(
      ordered.map((e) => ({
        label: dataOf(e),
        description: `run ${e.runId.slice(0, 8)}${e.threshold !== undefined ? ` · threshold ${e.threshold}` : ''}${typeOf(e) === shown ? ' · the data the card shows' : ''}${e === byData[0] ? ' · latest' : ''}`,
        detail: e.metrics.slice(0, 4).map((m) => `${m.key} ${Number(m.value.toPrecision(4))}`).join(' · '),
        e,
      })),
      { title: `Runwise: Update ${base} with ${subject}'s evaluation on`, placeHolder: `${subject} was evaluated on ${ordered.length} files: pick the one whose numbers the card shows` },
    );
    if (!pick) return;
    evaluation = pick.e;
  }
  const result = updateCardText(document.getText(), evaluation, { file: rel, modelName: chosen.name });
  if (result.edits.length === 0 || result.text === document.getText()) {
    void vscode.window.showInformationMessage(`Runwise: ${base} already holds this evaluation of ${subject} (on ${dataOf(evaluation)}).`);
    return;
  }
  const edit = new vscode.WorkspaceEdit();
  for (const e of result.edits) edit.replace(uri, new vscode.Range(document.positionAt(e.start), document.positionAt(e.end)), e.text);
  if (!(await vscode.workspace.applyEdit(edit))) throw new Error(`${base} could not be edited (it changed meanwhile?): try again.`);
  await vscode.window.showTextDocument(document, { preview: false });
  void vscode.window.showInformationMessage(`Runwise: wrote evaluation run ${evaluation.runId.slice(0, 8)} of ${subject} on ${dataOf(evaluation)} into ${base}; review and save it.`);
}
