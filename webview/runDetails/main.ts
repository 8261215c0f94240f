/**
 * The run details page: one run's status, timing, note, params, latest metrics, tags, datasets and
 * logged models, with buttons for the run actions. Browser code only (no Node, no vscode); it talks
 * to the host through the typed messages of webview/runDetails/messages.ts, and formats numbers,
 * dates and durations with core/views/displayFormat.ts, as the Runs view and the CLI do.
 *
 * Every value that comes from the tracker (run name, params, tags, note, dataset names, artifact
 * contents) is set with textContent: data is never parsed as HTML; an image artifact is shown from
 * the data: URI the host made of its bytes (the only image source the page's policy allows besides
 * the extension's own files). Buttons are real <button>s, so Tab and Enter/Space
 * reach them; the tables have captions and header cells for screen readers.
 */
import { formatBytes, formatDuration, formatMetricValue } from '../../core/views/displayFormat';
import { loggedModelFlavorsText, loggedModelStatusText, type LoggedModelSummary } from '../../core/views/loggedModelSummary';
import { el, factList, onHostMessage, pageRoot, type VsCodeApi } from '../page/dom';
import { fromWireNumber } from '../shared/messages';
import type { ArtifactPreviewMessage, RunDetails, RunDetailsHostMessage, RunDetailsWebviewMessage } from './messages';
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

const SVG = 'http://www.w3.org/2000/svg';

/** A sparkline of a metric's downsampled history (gaps where a value is not finite). */
function sparkline(values: readonly (number | null)[], label: string): SVGSVGElement {
  const width = 120;
  const height = 22;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'sparkline');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.length === 0) return svg;
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const x = (i: number) => (values.length === 1 ? width / 2 : (i * (width - 2)) / (values.length - 1) + 1);
  const y = (v: number) => (hi === lo ? height / 2 : height - 2 - ((v - lo) / (hi - lo)) * (height - 4));
  let points: string[] = [];
  const flush = () => {
    if (points.length === 0) return;
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', points.join(' '));
    svg.appendChild(line);
    points = [];
  };
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) flush();
    else points.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  });
  flush();
  return svg;
}

/** The metrics table: name, latest value, step, and a sparkline of the history. */
function metricsSection(run: RunDetails): HTMLElement {
  const section = table(
    'Metrics',
    ['Name', 'Latest value', 'Step', 'History'],
    run.metrics.map((m) => [m.key, formatMetricValue(fromWireNumber(m.value)), String(m.step), '']),
    'No metrics logged.',
  );
  section.id = 'metrics';
  const rows = section.querySelectorAll('tbody tr');
  run.metrics.forEach((m, i) => {
    const cell = rows[i]?.lastElementChild;
    if (cell && m.history && m.history.length > 1) cell.appendChild(sparkline(m.history, `History of ${m.key}: ${m.history.length} points`));
  });
  return section;
}

/** The artifacts: every file with its size, a Preview button, and Open for text files. */
function artifactsSection(run: RunDetails): HTMLElement {
  const files = run.artifacts ?? [];
  const section = el('section', undefined, { 'aria-label': 'Artifacts', id: 'artifacts' });
  section.appendChild(el('h2', 'Artifacts'));
  if (files.length === 0) {
    section.appendChild(el('p', 'No artifacts.', { class: 'empty' }));
    return section;
  }
  const t = el('table');
  t.appendChild(el('caption', 'Artifacts', { class: 'visually-hidden' }));
  const head = t.createTHead().insertRow();
  for (const h of ['Path', 'Size', 'Actions']) head.appendChild(el('th', h, { scope: 'col' }));
  const body = t.createTBody();
  for (const f of files) {
    const tr = body.insertRow();
    tr.append(el('th', f.path, { scope: 'row' }), el('td', formatBytes(f.size)));
    const actions = el('td', undefined, { class: 'row-actions' });
    actions.appendChild(actionButton('Preview', `Preview ${f.path}`, { type: 'previewArtifact', runId: run.runId, path: f.path }));
    if (!/\.(png|jpe?g|gif|webp|svg|bmp)$/i.test(f.path)) actions.appendChild(actionButton('Open', `Open ${f.path} in an editor`, { type: 'openArtifact', runId: run.runId, path: f.path }));
    tr.appendChild(actions);
  }
  section.appendChild(t);
  if (run.artifactsTruncated) section.appendChild(el('p', `Only the first ${files.length} files are listed.`, { class: 'empty' }));
  section.appendChild(el('div', undefined, { id: 'artifact-preview', 'aria-live': 'polite' }));
  return section;
}

/** Shows an artifact preview the host sent, under the artifacts list. */
function showPreview(p: ArtifactPreviewMessage): void {
  const box = document.getElementById('artifact-preview');
  if (!box) return;
  const heading = el('h3', p.path, { id: 'artifact-preview-path' });
  const parts: HTMLElement[] = [heading];
  const cut = (truncated: boolean) => (truncated ? [el('p', 'Only the start of the file is shown.', { class: 'empty' })] : []);
  switch (p.kind) {
    case 'image':
      parts.push(el('img', undefined, { src: p.dataUri, alt: p.path, class: 'artifact-image' }));
      break;
    case 'json':
    case 'text':
      parts.push(el('pre', p.text, { class: `artifact-text kind-${p.kind}` }), ...cut(p.truncated));
      break;
    case 'csv': {
      const t = el('table', undefined, { class: 'artifact-csv' });
      const [header, ...rows] = p.rows;
      const head = t.createTHead().insertRow();
      for (const h of header ?? []) head.appendChild(el('th', h, { scope: 'col' }));
      const body = t.createTBody();
      for (const r of rows) {
        const tr = body.insertRow();
        for (const v of r) tr.appendChild(el('td', v));
      }
      parts.push(t, ...cut(p.truncated));
      break;
    }
    case 'binary':
      parts.push(el('p', `A binary file (${formatBytes(p.size)}): no preview.`, { class: 'empty' }));
      break;
    case 'tooLarge':
      parts.push(el('p', `Too large to preview (${formatBytes(p.size)}; images up to ${formatBytes(p.limit)}).`, { class: 'empty' }));
      break;
    case 'error':
      parts.push(el('p', p.message, { class: 'error' }));
      break;
  }
  box.replaceChildren(...parts);
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
    metricsSection(run),
    table('Tags', ['Name', 'Value'], run.tags.map((t) => [t.key, t.value]), 'No tags.'),
    table('Datasets', ['Name', 'Digest', 'Source'], run.datasets.map((d) => [d.name, d.digest, d.source]), 'No dataset inputs.'),
    loggedModels(run.loggedModels ?? []),
    artifactsSection(run),
    stageLogSection(run),
    table(
      'Registered model versions',
      ['Model', 'Version', 'Aliases', 'Stage', 'Status', 'Content hash'],
      (run.modelVersions ?? []).map((v) => [v.name, v.version, v.aliases.map((a) => `@${a}`).join(' '), v.stage, v.status.toLowerCase().replace(/_/g, ' '), v.sha256]),
      'No model versions registered from this run.',
    ),
  );
  const versions = root.lastElementChild;
  if (versions) versions.id = 'model-versions';
  document.title = `Run ${run.runName}`;
}

/** The end of the pipeline stage's log, when the run is a stage run. */
function stageLogSection(run: RunDetails): HTMLElement {
  const section = el('section', undefined, { 'aria-label': 'Stage log', id: 'stage-log-section' });
  section.appendChild(el('h2', 'Stage log'));
  if (!run.stageLog) {
    section.appendChild(el('p', 'No stage log (not a pipeline stage run).', { class: 'empty' }));
    return section;
  }
  if (run.stageLog.truncated) section.appendChild(el('p', 'The end of the log:', { class: 'empty' }));
  section.appendChild(el('pre', run.stageLog.text, { class: 'stage-log', id: 'stage-log', tabindex: '0' }));
  return section;
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
  } else if (msg.type === 'artifactPreview') {
    showPreview(msg.preview);
  }
});

// Restored after the panel was hidden: show what was last known until the host sends fresh data.
const saved = vscode.getState() as { run?: RunDetails } | undefined;
if (saved?.run) render(saved.run);
else root.replaceChildren(el('p', 'Loading run…', { class: 'empty' }));
vscode.postMessage({ type: 'ready' });
