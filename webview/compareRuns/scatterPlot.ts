/**
 * A scatter of the runs: a param (or any numeric column) across, the chosen metric's latest value
 * up, one dot per run with both values, the selected runs in the accent colour. Drawn on a canvas;
 * a click on a dot selects or deselects its run.
 *
 * By keyboard, with the canvas focused: Left/Right go to the previous/next point across (Home/End:
 * the first/last), Up/Down to the next point higher/lower; the focused point is ringed and its run
 * and values are announced through the plot's live region. Space selects or deselects its run (as
 * a click does), Enter opens the run.
 */
import { formatMetricCompact, formatMetricValue } from '../../core/views/displayFormat';
import { cellNumber, RUN_NAME_COLUMN, type RunTable } from '../../core/views/runTableModel';
import { el } from '../page/dom';
import { chartTheme, sizeCanvas } from './chartTheme';

const HEIGHT = 260;
const PAD = { left: 64, right: 16, top: 16, bottom: 36 };
/** The ring around the focused point, in CSS pixels. */
const RING = 14;

export interface ScatterEvents {
  toggle(runId: string): void;
  /** Open the run (its details), as Enter in the table does. */
  open(runId: string): void;
}

interface Point {
  x: number;
  y: number;
  runId: string;
  name: string;
  xValue: number;
  yValue: number;
}

export class ScatterPlot {
  readonly element: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly live: HTMLElement;
  private readonly ring: HTMLElement;
  private points: Point[] = [];
  /** Indexes into `points` across (by x, then y) and up (by y, then x). */
  private acrossOrder: number[] = [];
  private upOrder: number[] = [];
  private selected: ReadonlySet<string> = new Set();
  private labels = { x: '', y: '' };
  /** The run of the point the keyboard is on (kept across redraws while the run is plotted). */
  private focusedRun: string | undefined;

  constructor(private readonly events: ScatterEvents) {
    this.element = el('div', undefined, { class: 'scatter-plot', id: 'scatter-plot' });
    this.element.style.position = 'relative';
    // role=application: a screen reader passes the arrow keys through to the point navigation below.
    this.canvas = el('canvas', undefined, {
      role: 'application',
      'aria-roledescription': 'scatter plot',
      'aria-label': 'Scatter of a param against the metric',
      'aria-keyshortcuts': 'ArrowLeft ArrowRight ArrowUp ArrowDown Home End Space Enter',
      tabindex: '0',
    });
    this.live = el('div', undefined, { class: 'visually-hidden', id: 'scatter-status', 'aria-live': 'polite' });
    // The focused point's ring: an element over the canvas, so moving it does not redraw every dot.
    this.ring = el('div', undefined, { class: 'point-focus', 'aria-hidden': 'true' });
    Object.assign(this.ring.style, {
      position: 'absolute',
      width: `${RING}px`,
      height: `${RING}px`,
      boxSizing: 'border-box',
      borderRadius: '50%',
      border: '2px solid var(--vscode-focusBorder, #007fd4)',
      pointerEvents: 'none',
    });
    this.ring.hidden = true;
    this.element.append(this.canvas, this.ring, this.live);
    this.canvas.addEventListener('click', (e) => {
      let best: { runId: string; d: number } | undefined;
      for (const p of this.points) {
        const d = Math.hypot(p.x - e.offsetX, p.y - e.offsetY);
        if (d <= 6 && (!best || d < best.d)) best = { runId: p.runId, d };
      }
      if (best) this.events.toggle(best.runId);
    });
    this.canvas.addEventListener('keydown', (e) => this.onKey(e));
    this.canvas.addEventListener('focus', () => {
      if (this.focusedIndex() === undefined && this.acrossOrder.length > 0) this.focusedRun = this.points[this.acrossOrder[0]!]!.runId;
      this.showFocus(true);
    });
    this.canvas.addEventListener('blur', () => (this.ring.hidden = true));
  }

  /** Draws `rows` of `table` with column `xColumn` across and `yColumn` up. */
  draw(table: RunTable, rows: readonly number[], xColumn: number, yColumn: number, selected: ReadonlySet<string>): void {
    const theme = chartTheme();
    const width = Math.max(320, this.element.clientWidth || 640);
    const ctx = sizeCanvas(this.canvas, width, HEIGHT);
    ctx.clearRect(0, 0, width, HEIGHT);
    const nameColumn = table.columns.findIndex((c) => c.id === RUN_NAME_COLUMN);
    const xs: number[] = [];
    const ys: number[] = [];
    const ids: string[] = [];
    const names: string[] = [];
    for (const r of rows) {
      const row = table.rows[r]!;
      const x = cellNumber(row.values[xColumn] ?? null);
      const y = cellNumber(row.values[yColumn] ?? null);
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      xs.push(x);
      ys.push(y);
      ids.push(row.runId);
      names.push(nameColumn >= 0 && row.values[nameColumn] ? String(row.values[nameColumn]) : row.runId);
    }
    const xLabel = table.columns[xColumn]!.label;
    const yLabel = table.columns[yColumn]!.label;
    this.labels = { x: xLabel, y: yLabel };
    this.selected = selected;
    this.element.dataset.points = String(ids.length);
    ctx.font = '11px sans-serif';
    ctx.fillStyle = theme.muted;
    if (ids.length === 0) {
      ctx.fillText(`No run has both ${xLabel} and ${yLabel} as numbers.`, 12, 24);
      this.setPoints([]);
      this.canvas.setAttribute('aria-label', `Scatter of ${yLabel} against ${xLabel}: no run has both as numbers.`);
      return;
    }
    const [x0, x1] = extent(xs);
    const [y0, y1] = extent(ys);
    const px = (v: number) => PAD.left + ((v - x0) / (x1 - x0 || 1)) * (width - PAD.left - PAD.right);
    const py = (v: number) => HEIGHT - PAD.bottom - ((v - y0) / (y1 - y0 || 1)) * (HEIGHT - PAD.top - PAD.bottom);
    ctx.strokeStyle = theme.grid;
    ctx.strokeRect(PAD.left, PAD.top, width - PAD.left - PAD.right, HEIGHT - PAD.top - PAD.bottom);
    ctx.textAlign = 'center';
    ctx.fillText(`${xLabel}  (${formatMetricCompact(x0)} … ${formatMetricCompact(x1)})`, (PAD.left + width - PAD.right) / 2, HEIGHT - 8);
    ctx.save();
    ctx.translate(14, (PAD.top + HEIGHT - PAD.bottom) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(`${yLabel}  (${formatMetricCompact(y0)} … ${formatMetricCompact(y1)})`, 0, 0);
    ctx.restore();
    this.setPoints(ids.map((runId, i) => ({ runId, name: names[i]!, xValue: xs[i]!, yValue: ys[i]!, x: px(xs[i]!), y: py(ys[i]!) })));
    // One path per pass: thousands of dots filled at once.
    for (const pass of [false, true]) {
      const r = pass ? 4 : 3;
      ctx.fillStyle = pass ? theme.accent : theme.palette[0]!;
      ctx.globalAlpha = pass ? 1 : 0.6;
      ctx.beginPath();
      for (const p of this.points) {
        if (selected.has(p.runId) !== pass) continue;
        ctx.moveTo(p.x + r, p.y);
        ctx.arc(p.x, p.y, r, 0, Math.PI * 2);
      }
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }

  private setPoints(points: Point[]): void {
    this.points = points;
    const order = points.map((_, i) => i);
    this.acrossOrder = [...order].sort((a, b) => points[a]!.xValue - points[b]!.xValue || points[a]!.yValue - points[b]!.yValue || a - b);
    this.upOrder = [...order].sort((a, b) => points[a]!.yValue - points[b]!.yValue || points[a]!.xValue - points[b]!.xValue || a - b);
    if (this.focusedIndex() === undefined) this.focusedRun = undefined;
    this.canvas.setAttribute(
      'aria-label',
      `Scatter of ${this.labels.y} against ${this.labels.x}: ${points.length} run${points.length === 1 ? '' : 's'}. Left and right arrows go across, up and down arrows go higher and lower, Space selects, Enter opens the run.`,
    );
    this.showFocus(false);
  }

  /** The index in `points` of the focused run, if it is plotted. */
  private focusedIndex(): number | undefined {
    if (this.focusedRun === undefined) return undefined;
    const i = this.points.findIndex((p) => p.runId === this.focusedRun);
    return i >= 0 ? i : undefined;
  }

  /** Rings the focused point (while the canvas has focus); `announce`: says its run and values. */
  private showFocus(announce: boolean): void {
    const i = this.focusedIndex();
    this.element.dataset.focusedRun = i === undefined ? '' : this.points[i]!.runId;
    if (i === undefined) {
      this.ring.hidden = true;
      return;
    }
    const p = this.points[i]!;
    this.ring.style.left = `${this.canvas.offsetLeft + p.x - RING / 2}px`;
    this.ring.style.top = `${this.canvas.offsetTop + p.y - RING / 2}px`;
    this.ring.hidden = document.activeElement !== this.canvas;
    if (announce) this.say(`${this.describe(p)}. Point ${this.acrossOrder.indexOf(i) + 1} of ${this.points.length} across.`);
  }

  private describe(p: Point): string {
    return `${p.name}: ${this.labels.x} ${formatMetricValue(p.xValue)}, ${this.labels.y} ${formatMetricValue(p.yValue)}${this.selected.has(p.runId) ? ', selected' : ''}`;
  }

  private say(text: string): void {
    this.live.textContent = text;
  }

  private onKey(e: KeyboardEvent): void {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const n = this.points.length;
    const i = this.focusedIndex();
    const move = (order: number[], by: number | 'first' | 'last') => {
      const at = i === undefined ? -1 : order.indexOf(i);
      const to = by === 'first' ? 0 : by === 'last' ? n - 1 : at < 0 ? 0 : Math.min(n - 1, Math.max(0, at + by));
      if (at === to) this.say(`${this.describe(this.points[i!]!)}. No point further that way.`);
      else {
        this.focusedRun = this.points[order[to]!]!.runId;
        this.showFocus(true);
      }
    };
    switch (e.key) {
      case 'ArrowRight':
      case 'ArrowLeft':
      case 'Home':
      case 'End':
        if (n > 0) move(this.acrossOrder, e.key === 'Home' ? 'first' : e.key === 'End' ? 'last' : e.key === 'ArrowRight' ? 1 : -1);
        break;
      case 'ArrowUp':
      case 'ArrowDown':
        if (n > 0) move(this.upOrder, e.key === 'ArrowUp' ? 1 : -1);
        break;
      case ' ':
      case 'Enter': {
        // With no point focused yet the key still belongs to the chart (Space would scroll the page).
        if (i === undefined) break;
        const p = this.points[i]!;
        if (e.key === 'Enter') this.events.open(p.runId);
        else {
          const was = this.selected.has(p.runId);
          this.events.toggle(p.runId);
          this.say(`${p.name} ${was ? 'deselected' : 'selected'}.`);
        }
        break;
      }
      default:
        return;
    }
    e.preventDefault();
  }
}

function extent(vs: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of vs) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}
