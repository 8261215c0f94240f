/**
 * Parallel coordinates over the runs: one vertical axis per param (and the chosen metric last), one
 * polyline per run, drawn on a canvas so thousands of runs stay quick. Numeric columns get a linear
 * axis from their min to max; text columns an axis of their distinct values, evenly spaced.
 * Dragging along an axis brushes a range on it; the runs inside every brush become the selection
 * (what the metric chart draws). A click on an axis without a drag clears its brush.
 *
 * By keyboard, with the chart focused: Left/Right (Home/End) pick an axis; Shift+Up/Shift+Down grow
 * the brush on it upwards/downwards (the first press starts one at the other end of the axis); Up
 * and Down move the brush; Escape clears it. What changed is said through a live region.
 */
import { formatMetricCompact } from '../../core/views/displayFormat';
import { cellNumber, type RunTable } from '../../core/views/runTableModel';
import { el } from '../page/dom';
import { chartTheme, sizeCanvas } from './chartTheme';

const HEIGHT = 260;
const PAD_TOP = 28;
const PAD_BOTTOM = 24;
const PAD_X = 60;

interface Axis {
  column: number;
  label: string;
  /** Position 0 (bottom) to 1 (top) of each row's value, NaN where it has none. */
  position: Float64Array;
  /** Tick labels at the bottom and top (numeric), or every category. */
  ticks: { at: number; text: string }[];
  /** The value at a position, as said aloud. */
  valueAt(position: number): string;
}

/** How far one key press grows or moves a brush, in 0..1 positions. */
const KEY_STEP = 0.1;

export interface ParallelCoordinatesEvents {
  /** The runs inside every brush (undefined: no brush left). */
  brushed(runIds: string[] | undefined): void;
}

export class ParallelCoordinates {
  readonly element: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private axes: Axis[] = [];
  private table: RunTable | undefined;
  private rows: number[] = [];
  private selected: ReadonlySet<string> = new Set();
  /** Brushes per axis index: [low, high] in 0..1 positions. */
  private brushes = new Map<number, [number, number]>();
  private drag: { axis: number; from: number; to: number } | undefined;
  /** The axis the keyboard works on. */
  private focusedAxis = 0;
  private readonly live: HTMLElement;
  private readonly axisMarker: HTMLElement;

  constructor(private readonly events: ParallelCoordinatesEvents) {
    this.element = el('div', undefined, { class: 'parallel-coordinates', id: 'parallel-coordinates' });
    // role=application: a screen reader passes the arrow keys through to the brushing below.
    this.canvas = el('canvas', undefined, {
      role: 'application',
      'aria-roledescription': 'parallel coordinates chart',
      'aria-label': 'Parallel coordinates of the runs',
      'aria-keyshortcuts': 'ArrowLeft ArrowRight Shift+ArrowUp Shift+ArrowDown ArrowUp ArrowDown Escape',
      tabindex: '0',
    });
    this.live = el('div', undefined, { class: 'visually-hidden', id: 'parallel-status', 'aria-live': 'polite' });
    // The axis the keyboard works on, marked while the canvas has focus (compareRuns.css): an element
    // over the canvas, so moving it does not redraw thousands of lines.
    this.axisMarker = el('div', undefined, { class: 'axis-focus', 'aria-hidden': 'true' });
    this.element.append(this.canvas, this.axisMarker, this.live);
    this.canvas.addEventListener('keydown', (e) => this.onKey(e));
    this.canvas.addEventListener('pointerdown', (e) => this.onDown(e));
    this.canvas.addEventListener('pointermove', (e) => this.onMove(e));
    this.canvas.addEventListener('pointerup', (e) => this.onUp(e));
  }

  /** The runs (`rows` of `table`) over `columns` (table column indexes); brushes on columns that stay are kept. */
  setData(table: RunTable, rows: number[], columns: number[], selected: ReadonlySet<string>): void {
    const keep = new Map<number, [number, number]>();
    for (const [i, b] of this.brushes) {
      const j = columns.indexOf(this.axes[i]?.column ?? -1);
      if (j >= 0 && this.table === table) keep.set(j, b);
    }
    this.brushes = keep;
    this.table = table;
    this.rows = rows;
    this.selected = selected;
    this.axes = columns.map((c) => this.axisOf(table, rows, c));
    this.focusedAxis = Math.min(this.focusedAxis, Math.max(0, this.axes.length - 1));
    this.element.dataset.axes = String(this.axes.length);
    this.draw();
    this.describe();
  }

  setSelected(selected: ReadonlySet<string>): void {
    this.selected = selected;
    this.draw();
  }

  clearBrushes(): void {
    this.brushes.clear();
    this.draw();
    this.events.brushed(undefined);
  }

  private axisOf(table: RunTable, rows: number[], column: number): Axis {
    const c = table.columns[column]!;
    const position = new Float64Array(table.rows.length).fill(NaN);
    if (c.numeric) {
      let min = Infinity;
      let max = -Infinity;
      for (const r of rows) {
        const v = cellNumber(table.rows[r]!.values[column] ?? null);
        if (!Number.isFinite(v)) continue;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      const span = max - min;
      for (const r of rows) {
        const v = cellNumber(table.rows[r]!.values[column] ?? null);
        if (Number.isFinite(v)) position[r] = span > 0 ? (v - min) / span : 0.5;
      }
      const ticks = Number.isFinite(min) ? [{ at: 0, text: formatMetricCompact(min) }, ...(span > 0 ? [{ at: 1, text: formatMetricCompact(max) }] : [])] : [];
      return { column, label: c.label, position, ticks, valueAt: (p) => (Number.isFinite(min) ? formatMetricCompact(min + p * (span > 0 ? span : 0)) : 'none') };
    }
    const values = [...new Set(rows.map((r) => table.rows[r]!.values[column]).filter((v) => v !== null && v !== undefined).map(String))].sort();
    const at = new Map(values.map((v, i) => [v, values.length === 1 ? 0.5 : i / (values.length - 1)]));
    for (const r of rows) {
      const v = table.rows[r]!.values[column];
      if (v !== null && v !== undefined) position[r] = at.get(String(v))!;
    }
    const step = Math.max(1, Math.ceil(values.length / 12));
    const valueAt = (p: number): string => (values.length === 0 ? 'none' : values[Math.round(p * (values.length - 1))]!);
    return { column, label: c.label, position, ticks: values.filter((_, i) => i % step === 0).map((v) => ({ at: at.get(v)!, text: v })), valueAt };
  }

  private width(): number {
    return Math.max(320, this.element.clientWidth || 640);
  }

  private axisX(i: number): number {
    const n = this.axes.length;
    return n <= 1 ? this.width() / 2 : PAD_X + (i * (this.width() - 2 * PAD_X)) / (n - 1);
  }

  private y(position: number): number {
    return PAD_TOP + (1 - position) * (HEIGHT - PAD_TOP - PAD_BOTTOM);
  }

  private position(y: number): number {
    return Math.min(1, Math.max(0, 1 - (y - PAD_TOP) / (HEIGHT - PAD_TOP - PAD_BOTTOM)));
  }

  /** The runs inside every brush. */
  private inBrushes(r: number): boolean {
    for (const [i, [lo, hi]] of this.brushes) {
      const p = this.axes[i]!.position[r]!;
      if (!(p >= lo && p <= hi)) return false;
    }
    return true;
  }

  draw(): void {
    const t0 = performance.now();
    this.drawLines();
    // For bench/webview/compareRuns.bench.ts.
    this.element.dataset.drawMs = (performance.now() - t0).toFixed(1);
  }

  private drawLines(): void {
    const theme = chartTheme();
    const width = this.width();
    const ctx = sizeCanvas(this.canvas, width, HEIGHT);
    ctx.clearRect(0, 0, width, HEIGHT);
    const table = this.table;
    if (!table || this.axes.length === 0) {
      ctx.fillStyle = theme.muted;
      ctx.font = '12px sans-serif';
      ctx.fillText('No params to draw: choose runs with params.', 12, 24);
      return;
    }
    const brushing = this.brushes.size > 0;
    // Runs outside the brushes (or unselected ones) faint first, then the rest on top.
    const passes: [boolean, string, number][] = [
      [false, theme.muted, 0.25],
      [true, theme.palette[0]!, 0.8],
    ];
    let drawn = 0;
    for (const [highlighted, colour, alpha] of passes) {
      ctx.strokeStyle = colour;
      ctx.globalAlpha = alpha;
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (const r of this.rows) {
        const on = brushing ? this.inBrushes(r) : this.selected.has(table.rows[r]!.runId);
        if (on !== highlighted) continue;
        let started = false;
        for (let i = 0; i < this.axes.length; i++) {
          const p = this.axes[i]!.position[r]!;
          if (Number.isNaN(p)) {
            started = false;
            continue;
          }
          const x = this.axisX(i);
          const y = this.y(p);
          if (started) ctx.lineTo(x, y);
          else ctx.moveTo(x, y);
          started = true;
        }
        if (highlighted) drawn++;
      }
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    this.element.dataset.highlighted = String(drawn);
    ctx.font = '11px sans-serif';
    ctx.textAlign = 'center';
    for (let i = 0; i < this.axes.length; i++) {
      const a = this.axes[i]!;
      const x = this.axisX(i);
      ctx.strokeStyle = theme.foreground;
      ctx.beginPath();
      ctx.moveTo(x, this.y(1));
      ctx.lineTo(x, this.y(0));
      ctx.stroke();
      ctx.fillStyle = theme.foreground;
      ctx.fillText(truncate(a.label, 18), x, 14);
      ctx.fillStyle = theme.muted;
      for (const t of a.ticks) ctx.fillText(truncate(t.text, 14), x, this.y(t.at) + (t.at === 0 ? 14 : t.at === 1 ? -4 : 4));
      const b = this.drag?.axis === i ? ([Math.min(this.drag.from, this.drag.to), Math.max(this.drag.from, this.drag.to)] as const) : this.brushes.get(i);
      if (b) {
        ctx.fillStyle = theme.accent;
        ctx.globalAlpha = 0.3;
        ctx.fillRect(x - 8, this.y(b[1]), 16, this.y(b[0]) - this.y(b[1]));
        ctx.globalAlpha = 1;
      }
    }
  }

  private axisAt(x: number): number {
    for (let i = 0; i < this.axes.length; i++) if (Math.abs(this.axisX(i) - x) <= 14) return i;
    return -1;
  }

  private onDown(e: PointerEvent): void {
    const axis = this.axisAt(e.offsetX);
    if (axis < 0) return;
    const p = this.position(e.offsetY);
    this.drag = { axis, from: p, to: p };
    this.canvas.setPointerCapture(e.pointerId);
  }

  private onMove(e: PointerEvent): void {
    if (!this.drag) return;
    this.drag.to = this.position(e.offsetY);
    this.draw();
  }

  private onUp(e: PointerEvent): void {
    const d = this.drag;
    if (!d) return;
    this.drag = undefined;
    d.to = this.position(e.offsetY);
    if (Math.abs(d.to - d.from) < 0.01) this.brushes.delete(d.axis);
    else this.brushes.set(d.axis, [Math.min(d.from, d.to), Math.max(d.from, d.to)]);
    this.draw();
    this.emitBrushed();
  }

  /** Tells the page which runs are inside the brushes now; returns how many. */
  private emitBrushed(): number | undefined {
    const table = this.table;
    if (!table) return undefined;
    const inside = this.brushes.size === 0 ? undefined : this.rows.filter((r) => this.inBrushes(r)).map((r) => table.rows[r]!.runId);
    this.events.brushed(inside);
    return inside?.length;
  }

  private onKey(e: KeyboardEvent): void {
    if (e.altKey || e.ctrlKey || e.metaKey || this.axes.length === 0) return;
    const last = this.axes.length - 1;
    const i = this.focusedAxis;
    const brush = this.brushes.get(i);
    let next: [number, number] | null | undefined;
    switch (e.key) {
      case 'ArrowLeft':
      case 'ArrowRight':
      case 'Home':
      case 'End':
        this.focusedAxis = e.key === 'Home' ? 0 : e.key === 'End' ? last : Math.min(last, Math.max(0, i + (e.key === 'ArrowLeft' ? -1 : 1)));
        e.preventDefault();
        this.describe();
        return;
      case 'ArrowUp':
      case 'ArrowDown': {
        const up = e.key === 'ArrowUp';
        if (e.shiftKey) next = brush ? (up ? [brush[0], Math.min(1, brush[1] + KEY_STEP)] : [Math.max(0, brush[0] - KEY_STEP), brush[1]]) : up ? [0, KEY_STEP] : [1 - KEY_STEP, 1];
        else if (brush) {
          const shift = up ? Math.min(KEY_STEP, 1 - brush[1]) : -Math.min(KEY_STEP, brush[0]);
          next = [brush[0] + shift, brush[1] + shift];
        } else next = undefined;
        break;
      }
      case 'Escape':
        next = brush ? null : undefined;
        break;
      default:
        return;
    }
    e.preventDefault();
    if (next === undefined) {
      this.say(brush ? this.axisSummary(i) : `${this.axes[i]!.label}: no brush. Shift+Up or Shift+Down starts one.`);
      return;
    }
    if (next === null) this.brushes.delete(i);
    else this.brushes.set(i, [round(next[0]), round(next[1])]);
    this.draw();
    const count = this.emitBrushed();
    this.say(`${this.axisSummary(i)}${count === undefined ? ' No brush left: the selection is unchanged.' : ` ${count} run${count === 1 ? '' : 's'} inside the brushes.`}`);
  }

  /** The focused axis, for the canvas's label (screen readers read it when the chart gets focus). */
  private describe(): void {
    const n = this.axes.length;
    if (n === 0) {
      this.canvas.setAttribute('aria-label', 'Parallel coordinates: no params to draw');
      return;
    }
    this.canvas.setAttribute(
      'aria-label',
      `Parallel coordinates of ${this.rows.length} runs, axis ${this.focusedAxis + 1} of ${n}: ${this.axisSummary(this.focusedAxis)} Left and right arrows pick an axis, Shift+Up and Shift+Down grow a brush, Up and Down move it, Escape clears it.`,
    );
    this.element.dataset.focusedAxis = String(this.focusedAxis);
    this.axisMarker.style.left = `${this.axisX(this.focusedAxis) - 12}px`;
    this.axisMarker.style.top = `${this.y(1) - 4}px`;
    this.axisMarker.style.height = `${this.y(0) - this.y(1) + 8}px`;
  }

  private axisSummary(i: number): string {
    const a = this.axes[i]!;
    const b = this.brushes.get(i);
    return b ? `${a.label}: brushed from ${a.valueAt(b[0])} to ${a.valueAt(b[1])}.` : `${a.label}: not brushed.`;
  }

  private say(message: string): void {
    this.live.textContent = message;
    this.describe();
  }
}

/** A brush edge without the float noise of repeated steps (0.30000000000000004). */
function round(p: number): number {
  return Math.round(p * 1000) / 1000;
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
