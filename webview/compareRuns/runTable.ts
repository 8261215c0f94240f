/**
 * The runs table of the Compare Runs page, virtualised on both axes: whatever the number of runs and
 * columns, only the cells in view exist in the DOM (a sticky viewport over a sizer as large as the
 * whole table), so 10,000 runs × 200 columns scroll like 20 × 10. The run column is pinned on the
 * left, the header on top, and the baseline run (when one is pinned) right under the header.
 *
 * Accessibility: the scroller is an ARIA grid (aria-rowcount/colcount for the whole table, row and
 * column indexes on the rendered cells) that takes the keyboard focus and points
 * aria-activedescendant at the active cell: arrows, Home/End, PageUp/PageDown move it; Space
 * selects the run for the charts; Enter edits an editable cell (name, note, tags) or opens the run;
 * B pins the run as the baseline. Values are set with textContent, never parsed as HTML; positions
 * go through the CSSOM (element.style), which the page's Content-Security-Policy allows.
 */
import { formatDuration, formatMetricCompact, formatTimestamp } from '../../core/views/displayFormat';
import {
  cellNumber,
  deltaAgainst,
  DURATION_COLUMN,
  START_TIME_COLUMN,
  type CellValue,
  type RunGroup,
  type RunTable,
  type RunTableColumn,
} from '../../core/views/runTableModel';
import { el } from '../page/dom';

export const ROW_HEIGHT = 24;
export const HEADER_HEIGHT = 28;
export const NAME_WIDTH = 260;
export const COLUMN_WIDTH = 130;

/** A row as the table shows it: a run, or a group's header with its stats. */
export type DisplayRow = { kind: 'run'; row: number } | { kind: 'group'; group: RunGroup; label: string };

export interface TableView {
  table: RunTable;
  rows: DisplayRow[];
  /** Column indexes of the table shown right of the run column, in order. */
  columns: number[];
  /** Row index of the baseline run, if one is pinned. */
  baseline: number | null;
  selected: ReadonlySet<string>;
  sort: { column: number; descending: boolean } | null;
}

export interface RunTableEvents {
  sort(column: number): void;
  toggleSelected(runId: string, extendRange: boolean): void;
  pinBaseline(runId: string): void;
  edit(runId: string, column: number, value: string): void;
  open(runId: string): void;
}

/** The text a cell shows (a metric compactly, times and durations readably). */
export function cellText(column: RunTableColumn, v: CellValue): string {
  if (v === null) return '';
  if (column.id === START_TIME_COLUMN && typeof v === 'number') return formatTimestamp(v);
  if (column.id === DURATION_COLUMN && typeof v === 'number') return formatDuration(v);
  if (column.kind === 'metric') return formatMetricCompact(cellNumber(v));
  return String(v);
}

function deltaText(d: number): string {
  return `${d > 0 ? '+' : d < 0 ? '−' : '±'}${formatMetricCompact(Math.abs(d))}`;
}

export class RunTableView {
  readonly element: HTMLDivElement;
  private readonly sizer: HTMLDivElement;
  private readonly viewport: HTMLDivElement;
  /** The rendered cells; the inline editor sits beside it, so a re-render does not take its focus. */
  private readonly cells: HTMLDivElement;
  private view: TableView | undefined;
  private frame = 0;
  /** The active cell: display row (-1: the header) and column (0: the run column, then view.columns). */
  private active = { row: 0, col: 0 };
  private editor: HTMLInputElement | undefined;
  /** How long the last render took (ms); also on the grid as data-render-ms, for the bench. */
  lastRenderMs = 0;

  constructor(private readonly events: RunTableEvents) {
    this.element = el('div', undefined, { class: 'run-table', role: 'grid', tabindex: '0', 'aria-label': 'Runs', 'aria-multiselectable': 'true', id: 'run-table' });
    this.sizer = el('div', undefined, { class: 'run-table-sizer' });
    this.viewport = el('div', undefined, { class: 'run-table-viewport' });
    this.cells = el('div', undefined, { class: 'run-table-cells' });
    this.viewport.appendChild(this.cells);
    this.sizer.appendChild(this.viewport);
    this.element.appendChild(this.sizer);
    this.element.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.element.addEventListener('keydown', (e) => this.onKey(e));
    this.viewport.addEventListener('click', (e) => this.onClick(e));
    this.viewport.addEventListener('dblclick', (e) => this.onDoubleClick(e));
    new ResizeObserver(() => this.schedule()).observe(this.element);
  }

  setView(view: TableView): void {
    this.view = view;
    this.active.row = Math.min(this.active.row, Math.max(0, view.rows.length - 1));
    this.active.col = Math.min(this.active.col, view.columns.length);
    this.render();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private baselineHeight(): number {
    return this.view?.baseline !== null && this.view?.baseline !== undefined ? ROW_HEIGHT : 0;
  }

  /** Draws the cells in view. */
  render(): void {
    const t0 = performance.now();
    const view = this.view;
    if (!view) return;
    const { table, rows, columns } = view;
    const top = HEADER_HEIGHT + this.baselineHeight();
    const totalWidth = NAME_WIDTH + columns.length * COLUMN_WIDTH;
    const totalHeight = top + rows.length * ROW_HEIGHT;
    this.sizer.style.width = `${totalWidth}px`;
    this.sizer.style.height = `${totalHeight}px`;
    const width = this.element.clientWidth;
    const height = this.element.clientHeight;
    this.viewport.style.width = `${width}px`;
    this.viewport.style.height = `${height}px`;
    this.element.setAttribute('aria-rowcount', String(rows.length + 1 + (view.baseline !== null ? 1 : 0)));
    this.element.setAttribute('aria-colcount', String(columns.length + 1));
    const scrollTop = this.element.scrollTop;
    const scrollLeft = this.element.scrollLeft;
    const firstRow = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT));
    const lastRow = Math.min(rows.length - 1, Math.ceil((scrollTop + height - top) / ROW_HEIGHT));
    const firstCol = Math.max(0, Math.floor(scrollLeft / COLUMN_WIDTH));
    const lastCol = Math.min(columns.length - 1, Math.ceil((scrollLeft + width - NAME_WIDTH) / COLUMN_WIDTH));

    const out: HTMLElement[] = [];
    // Header.
    const header = this.rowElement(1, 'run-table-header');
    header.appendChild(this.headerCell(1, 0, table.columns[0]!, 0));
    for (let j = firstCol; j <= lastCol; j++) header.appendChild(this.headerCell(j + 2, columns[j]!, table.columns[columns[j]!]!, NAME_WIDTH + j * COLUMN_WIDTH - scrollLeft));
    // Baseline, pinned under the header.
    if (view.baseline !== null) {
      const row = this.runRow(view.baseline, 2, HEADER_HEIGHT, firstCol, lastCol, scrollLeft, -2, true);
      row.classList.add('baseline-row');
      out.push(row);
    }
    for (let i = firstRow; i <= lastRow; i++) {
      const d = rows[i]!;
      const y = top + i * ROW_HEIGHT - scrollTop;
      const ariaRow = i + 2 + (view.baseline !== null ? 1 : 0);
      out.push(d.kind === 'run' ? this.runRow(d.row, ariaRow, y, firstCol, lastCol, scrollLeft, i, false) : this.groupRow(d, ariaRow, y, firstCol, lastCol, scrollLeft, i));
    }
    out.push(header);
    this.cells.replaceChildren(...out);
    const active = this.cells.querySelector(`#${this.cellId(this.active.row, this.active.col)}`);
    if (active) {
      active.classList.add('active');
      this.element.setAttribute('aria-activedescendant', active.id);
    } else {
      this.element.removeAttribute('aria-activedescendant');
    }
    this.lastRenderMs = performance.now() - t0;
    // For bench/webview/compareRuns.bench.ts: what the last frame's cells cost to build.
    this.element.dataset.renderMs = this.lastRenderMs.toFixed(3);
  }

  private cellId(row: number, col: number): string {
    return `cell-${row < 0 ? `h${-row}` : row}-${col}`;
  }

  private rowElement(ariaIndex: number, cls: string): HTMLDivElement {
    return el('div', undefined, { role: 'row', 'aria-rowindex': String(ariaIndex), class: cls });
  }

  private place(cell: HTMLElement, x: number, y: number, w: number): HTMLElement {
    cell.style.transform = `translate(${x}px, ${y}px)`;
    cell.style.width = `${w}px`;
    return cell;
  }

  private headerCell(ariaCol: number, column: number, c: RunTableColumn, x: number): HTMLElement {
    const sort = this.view!.sort;
    const sorted = sort?.column === column ? (sort.descending ? 'descending' : 'ascending') : 'none';
    const cell = el('div', undefined, { role: 'columnheader', 'aria-colindex': String(ariaCol), 'aria-sort': sorted, class: `cell header-cell kind-${c.kind}`, title: `${c.id} — click to sort`, id: this.cellId(-1, ariaCol - 1) });
    cell.dataset.action = 'sort';
    cell.dataset.column = String(column);
    cell.appendChild(el('span', c.label, { class: 'label' }));
    if (sorted !== 'none') cell.appendChild(el('span', sorted === 'ascending' ? ' ▲' : ' ▼', { class: 'sort-mark', 'aria-hidden': 'true' }));
    if (ariaCol === 1) cell.classList.add('pinned');
    return this.place(cell, x, 0, ariaCol === 1 ? NAME_WIDTH : COLUMN_WIDTH);
  }

  private runRow(row: number, ariaRow: number, y: number, firstCol: number, lastCol: number, scrollLeft: number, displayIndex: number, isBaselineRow: boolean): HTMLElement {
    const view = this.view!;
    const r = view.table.rows[row]!;
    const selected = view.selected.has(r.runId);
    const rowEl = this.rowElement(ariaRow, `run-row status-${r.status.toLowerCase()}${selected ? ' selected' : ''}${row === view.baseline ? ' is-baseline' : ''}`);
    rowEl.setAttribute('aria-selected', String(selected));
    rowEl.dataset.run = r.runId;
    const name = el('div', undefined, { role: 'rowheader', 'aria-colindex': '1', class: 'cell pinned name-cell', id: this.cellId(displayIndex, 0) });
    name.dataset.run = r.runId;
    name.dataset.column = '0';
    const box = el('span', selected ? '☑' : '☐', { class: 'select-box', 'aria-hidden': 'true' });
    box.dataset.action = 'select';
    const pin = el('span', row === view.baseline ? '◆' : '◇', { class: `pin${row === view.baseline ? ' pinned-on' : ''}`, title: row === view.baseline ? 'The baseline (click to unpin)' : 'Pin as the baseline', 'aria-hidden': 'true' });
    pin.dataset.action = 'pin';
    name.append(box, el('span', String(r.values[0] ?? ''), { class: 'run-name' }), pin);
    rowEl.appendChild(this.place(name, 0, y, NAME_WIDTH));
    for (let j = firstCol; j <= lastCol; j++) {
      const c = view.columns[j]!;
      const column = view.table.columns[c]!;
      const v = r.values[c] ?? null;
      const cell = el('div', cellText(column, v), { role: 'gridcell', 'aria-colindex': String(j + 2), class: `cell${column.numeric ? ' numeric' : ''}`, id: this.cellId(displayIndex, j + 1) });
      cell.dataset.run = r.runId;
      cell.dataset.column = String(c);
      if (view.baseline !== null && !isBaselineRow && column.numeric && column.kind !== 'attribute') {
        const d = deltaAgainst(view.table, row, view.baseline, c);
        if (d !== undefined) cell.appendChild(el('span', ` ${deltaText(d)}`, { class: `delta ${d > 0 ? 'up' : d < 0 ? 'down' : 'same'}` }));
      }
      rowEl.appendChild(this.place(cell, NAME_WIDTH + j * COLUMN_WIDTH - scrollLeft, y, COLUMN_WIDTH));
    }
    return rowEl;
  }

  private groupRow(d: Extract<DisplayRow, { kind: 'group' }>, ariaRow: number, y: number, firstCol: number, lastCol: number, scrollLeft: number, displayIndex: number): HTMLElement {
    const view = this.view!;
    const rowEl = this.rowElement(ariaRow, 'group-row');
    const name = el('div', `${d.label} (${d.group.rows.length} run${d.group.rows.length === 1 ? '' : 's'})`, { role: 'rowheader', 'aria-colindex': '1', class: 'cell pinned name-cell', id: this.cellId(displayIndex, 0) });
    rowEl.appendChild(this.place(name, 0, y, NAME_WIDTH));
    for (let j = firstCol; j <= lastCol; j++) {
      const s = d.group.stats[view.columns[j]!];
      const text = s ? `μ ${formatMetricCompact(s.mean)} [${formatMetricCompact(s.min)}, ${formatMetricCompact(s.max)}]` : '';
      const cell = el('div', text, { role: 'gridcell', 'aria-colindex': String(j + 2), class: 'cell numeric group-stats', id: this.cellId(displayIndex, j + 1) });
      if (s) cell.title = `mean ${s.mean}, min ${s.min}, max ${s.max} over ${s.count} run(s)`;
      rowEl.appendChild(this.place(cell, NAME_WIDTH + j * COLUMN_WIDTH - scrollLeft, y, COLUMN_WIDTH));
    }
    return rowEl;
  }

  private onClick(e: MouseEvent): void {
    const target = e.target as HTMLElement;
    const cell = target.closest<HTMLElement>('.cell');
    if (!cell) return;
    const action = target.dataset.action ?? cell.dataset.action;
    const runId = cell.dataset.run;
    if (action === 'sort') return this.events.sort(Number(cell.dataset.column));
    if (runId && action === 'select') return this.events.toggleSelected(runId, e.shiftKey);
    if (runId && action === 'pin') return this.events.pinBaseline(runId);
    // Any other click makes the cell the active one.
    const pos = /^cell-(\d+)-(\d+)$/.exec(cell.id);
    if (pos) {
      this.active = { row: Number(pos[1]), col: Number(pos[2]) };
      this.element.focus({ preventScroll: true });
      this.render();
    }
  }

  private onDoubleClick(e: MouseEvent): void {
    const cell = (e.target as HTMLElement).closest<HTMLElement>('.cell');
    const pos = cell ? /^cell-(\d+)-(\d+)$/.exec(cell.id) : null;
    if (!pos) return;
    this.active = { row: Number(pos[1]), col: Number(pos[2]) };
    this.activate(true);
  }

  /** The run and table column under the active cell. */
  private activeTarget(): { runId: string; row: number; column: number } | undefined {
    const view = this.view;
    const d = view?.rows[this.active.row];
    if (!view || !d || d.kind !== 'run') return undefined;
    return { runId: view.table.rows[d.row]!.runId, row: d.row, column: this.active.col === 0 ? 0 : view.columns[this.active.col - 1]! };
  }

  /** Enter on the active cell: edit it when it is editable (or `editOnly`), else open the run. */
  private activate(editOnly = false): void {
    const t = this.activeTarget();
    if (!t) return;
    const column = this.view!.table.columns[t.column]!;
    if (column.editable) this.startEdit(t.runId, t.row, t.column);
    else if (!editOnly) this.events.open(t.runId);
  }

  private startEdit(runId: string, row: number, column: number): void {
    const view = this.view!;
    const c = view.table.columns[column]!;
    const current = view.table.rows[row]!.values[column];
    const input = el('input', undefined, { type: 'text', class: 'cell-editor', 'aria-label': `${c.label} of run ${String(view.table.rows[row]!.values[0])}`, id: 'cell-editor' });
    input.value = current === null || current === undefined ? '' : String(current);
    const activeCell = this.cells.querySelector<HTMLElement>(`#${this.cellId(this.active.row, this.active.col)}`);
    if (activeCell) input.style.transform = activeCell.style.transform;
    input.style.width = `${this.active.col === 0 ? NAME_WIDTH : Math.max(COLUMN_WIDTH, 240)}px`;
    let done = false;
    const finish = (commit: boolean): void => {
      if (done) return;
      done = true;
      this.editor = undefined;
      input.remove();
      if (commit && input.value !== input.defaultValue) this.events.edit(runId, column, input.value);
      this.render();
      this.element.focus({ preventScroll: true });
    };
    input.defaultValue = input.value;
    input.addEventListener('keydown', (e) => {
      e.stopPropagation();
      if (e.key === 'Enter') finish(true);
      else if (e.key === 'Escape') finish(false);
    });
    input.addEventListener('blur', () => finish(true));
    this.editor = input;
    this.viewport.appendChild(input);
    input.focus();
    input.select();
  }

  private onKey(e: KeyboardEvent): void {
    const view = this.view;
    if (!view || this.editor) return;
    const rows = view.rows.length;
    const cols = view.columns.length + 1;
    const page = Math.max(1, Math.floor((this.element.clientHeight - HEADER_HEIGHT) / ROW_HEIGHT) - 1);
    const a = this.active;
    let handled = true;
    switch (e.key) {
      case 'ArrowDown': a.row = Math.min(rows - 1, a.row + 1); break;
      case 'ArrowUp': a.row = Math.max(0, a.row - 1); break;
      case 'ArrowRight': a.col = Math.min(cols - 1, a.col + 1); break;
      case 'ArrowLeft': a.col = Math.max(0, a.col - 1); break;
      case 'PageDown': a.row = Math.min(rows - 1, a.row + page); break;
      case 'PageUp': a.row = Math.max(0, a.row - page); break;
      case 'Home': if (e.ctrlKey) a.row = 0; a.col = 0; break;
      case 'End': if (e.ctrlKey) a.row = rows - 1; a.col = cols - 1; break;
      case ' ': {
        const t = this.activeTarget();
        if (t) this.events.toggleSelected(t.runId, e.shiftKey);
        break;
      }
      case 'Enter': this.activate(); break;
      case 'b': case 'B': {
        const t = this.activeTarget();
        if (t) this.events.pinBaseline(t.runId);
        break;
      }
      default: handled = false;
    }
    if (!handled) return;
    e.preventDefault();
    this.scrollIntoView();
    this.render();
  }

  /** Scrolls so the active cell is in view (below the header and baseline, right of the run column). */
  private scrollIntoView(): void {
    const top = HEADER_HEIGHT + this.baselineHeight();
    const y = this.active.row * ROW_HEIGHT;
    const viewH = this.element.clientHeight - top;
    if (y < this.element.scrollTop) this.element.scrollTop = y;
    else if (y + ROW_HEIGHT > this.element.scrollTop + viewH) this.element.scrollTop = y + ROW_HEIGHT - viewH;
    if (this.active.col > 0) {
      const x = (this.active.col - 1) * COLUMN_WIDTH;
      const viewW = this.element.clientWidth - NAME_WIDTH;
      if (x < this.element.scrollLeft) this.element.scrollLeft = x;
      else if (x + COLUMN_WIDTH > this.element.scrollLeft + viewW) this.element.scrollLeft = x + COLUMN_WIDTH - viewW;
    }
  }
}
