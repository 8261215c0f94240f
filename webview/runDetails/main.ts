/**
 * The run details page: one run's status, timing, note, params, latest metrics, tags, datasets and
 * logged models, with buttons for the run actions. Browser code only (no Node, no vscode); it talks
 * to the host through the typed messages of webview/runDetails/messages.ts, and formats numbers,
 * dates and durations with core/views/displayFormat.ts, as the Runs view and the CLI do.
 *
 * Every value that comes from the tracker (run name, params, tags, note, dataset names) is set with
 * textContent: data is never parsed as HTML. Buttons are real <button>s, so Tab and Enter/Space
 * reach them; the tables have captions and header cells for screen readers.
 */
import { formatBytes, formatDuration, formatMetricValue } from '../../core/views/displayFormat';
import { loggedModelFlavorsText, loggedModelStatusText, type LoggedModelSummary } from '../../core/views/loggedModelSummary';
import { el, factList, onHostMessage, pageRoot, type VsCodeApi } from '../page/dom';
import { fromWireNumber } from '../shared/messages';
import type { RunDetails, RunDetailsHostMessage, RunDetailsWebviewMessage } from './messages';
import '../page/base.css';
import './runDetails.css';

declare function acquireVsCodeApi(): VsCodeApi<RunDetailsWebviewMessage>;

const vscode = acquireVsCodeApi();
const root = pageRoot();

function actionButton(label: string, title: string, message: RunDetailsWebviewMessage, danger = false): HTMLButtonElement {
  const b = el('button', label, { type: 'button', title });
  b.dataset.action = message.type;
  if (danger) b.classList.add('danger');
  b.addEventListener('click', () => vscode.postMessage(message));
  return b;
}

/** A two-or-more-column table with a caption and a heading; `empty` when there are no rows. */
function table(caption: string, headers: string[], rows: string[][], empty: string, heading: 'h2' | 'h4' = 'h2'): HTMLElement {
  const section = el('section', undefined, { 'aria-label': caption });
  section.appendChild(el(heading, caption));
  if (rows.length === 0) {
    section.appendChild(el('p', empty, { class: 'empty' }));
    return section;
  }
  const t = el('table');
  t.appendChild(el('caption', caption, { class: 'visually-hidden' }));
  const head = t.createTHead().insertRow();
  for (const h of headers) head.appendChild(el('th', h, { scope: 'col' }));
  const body = t.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    row.forEach((cell, i) => tr.appendChild(i === 0 ? el('th', cell, { scope: 'row' }) : el('td', cell)));
  }
  section.appendChild(t);
  return section;
}

/** The "Logged models" section: per model its name, id, flavors, status and top-level files. */
function loggedModels(models: readonly LoggedModelSummary[]): HTMLElement {
  const section = el('section', undefined, { 'aria-label': 'Logged models', id: 'logged-models' });
  section.appendChild(el('h2', 'Logged models'));
  if (models.length === 0) {
    section.appendChild(el('p', 'No logged models.', { class: 'empty' }));
    return section;
  }
  for (const m of models) {
    const article = el('article', undefined, { class: 'logged-model', 'aria-label': `Logged model ${m.name}` });
    article.appendChild(el('h3', m.name));
    article.appendChild(
      factList([
        ['Model ID', m.modelId],
        ['Flavors', loggedModelFlavorsText(m)],
        ['Status', loggedModelStatusText(m.status)],
      ]),
    );
    const files = table(
      `Files of ${m.name}`,
      ['Path', 'Size'],
      m.artifacts.map((a) => [a.isDir ? `${a.path}/` : a.path, a.isDir || a.fileSize === undefined ? '' : formatBytes(a.fileSize)]),
      'No files.',
      'h4',
    );
    article.appendChild(files);
    section.appendChild(article);
  }
  return section;
}

function render(run: RunDetails): void {
  const end = run.endTime ?? (run.status === 'RUNNING' ? Date.now() : null);
  const header = el('header');
  const title = el('h1', run.runName, { id: 'run-name' });
  const status = el('span', run.status.toLowerCase(), { class: `status status-${run.status.toLowerCase()}`, id: 'run-status' });
  header.append(title, status);
  if (run.lifecycleStage === 'deleted') header.appendChild(el('span', 'deleted', { class: 'status status-deleted' }));

  const actions = el('div', undefined, { class: 'actions', role: 'toolbar', 'aria-label': 'Run actions' });
  actions.append(
    actionButton('Rename…', 'Rename this run', { type: 'renameRun', runId: run.runId }),
    actionButton(run.note ? 'Edit note…' : 'Add note…', 'Add or edit the run note', { type: 'editNote', runId: run.runId }),
    actionButton('Copy run ID', 'Copy the run id to the clipboard', { type: 'copyRunId', runId: run.runId }),
    actionButton('Delete…', 'Delete this run (it can be restored with the CLI)', { type: 'deleteRun', runId: run.runId }, true),
  );

  const entries: [string, string][] = [
    ['Run ID', run.runId],
    ['Experiment', `${run.experimentName} (${run.experimentId})`],
    ['Started', run.startTimeText],
  ];
  if (end !== null) entries.push([run.endTime === null ? 'Running for' : 'Duration', formatDuration(end - run.startTime)]);
  if (run.userId) entries.push(['User', run.userId]);
  if (run.parentRunId) entries.push(['Parent run', run.parentRunId]);
  const facts = factList(entries);

  const note = el('section', undefined, { 'aria-label': 'Note' });
  note.appendChild(el('h2', 'Note'));
  note.appendChild(run.note ? el('p', run.note, { class: 'note', id: 'run-note' }) : el('p', 'No note.', { class: 'empty' }));

  root.replaceChildren(
    header,
    actions,
    facts,
    note,
    table('Parameters', ['Name', 'Value'], run.params.map((p) => [p.key, p.value]), 'No parameters logged.'),
    table(
      'Metrics',
      ['Name', 'Latest value', 'Step'],
      run.metrics.map((m) => [m.key, formatMetricValue(fromWireNumber(m.value)), String(m.step)]),
      'No metrics logged.',
    ),
    table('Tags', ['Name', 'Value'], run.tags.map((t) => [t.key, t.value]), 'No tags.'),
    table('Datasets', ['Name', 'Digest', 'Source'], run.datasets.map((d) => [d.name, d.digest, d.source]), 'No dataset inputs.'),
    loggedModels(run.loggedModels ?? []),
  );
  document.title = `Run ${run.runName}`;
}

function renderMissing(runId: string, reason: string): void {
  root.replaceChildren(el('h1', 'Run not available'), el('p', reason, { class: 'empty', id: 'run-missing' }), el('p', `Run ID: ${runId}`));
}

onHostMessage<RunDetailsHostMessage>((msg) => {
  if (msg.type === 'run') {
    vscode.setState({ run: msg.run });
    render(msg.run);
  } else if (msg.type === 'runMissing') {
    renderMissing(msg.runId, msg.reason);
  }
});

// Restored after the panel was hidden: show what was last known until the host sends fresh data.
const saved = vscode.getState() as { run?: RunDetails } | undefined;
if (saved?.run) render(saved.run);
else root.replaceChildren(el('p', 'Loading run…', { class: 'empty' }));
vscode.postMessage({ type: 'ready' });
