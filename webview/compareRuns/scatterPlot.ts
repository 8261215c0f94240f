/**
 * A scatter of the runs: a param (or any numeric column) across, the chosen metric's latest value
 * up, one dot per run with both values, the selected runs in the accent colour. Drawn on a canvas;
 * a click on a dot selects or deselects its run.
 */
import { formatMetricCompact } from '../../core/views/displayFormat';
import { cellNumber, type RunTable } from '../../core/views/runTableModel';
import { el } from '../page/dom';
import { chartTheme, sizeCanvas } from './chartTheme';

const HEIGHT = 260;
const PAD = { left: 64, right: 16, top: 16, bottom: 36 };

export interface ScatterEvents {
  toggle(runId: string): void;
}

export class ScatterPlot {
  readonly element: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private points: { x: number; y: number; runId: string }[] = [];

  constructor(private readonly events: ScatterEvents) {
    this.element = el('div', undefined, { class: 'scatter-plot', id: 'scatter-plot' });
    this.canvas = el('canvas', undefined, { role: 'img', 'aria-label': 'Scatter of a param against the metric' });
    this.element.appendChild(this.canvas);
    this.canvas.addEventListener('click', (e) => {
      let best: { runId: string; d: number } | undefined;
      for (const p of this.points) {
        const d = Math.hypot(p.x - e.offsetX, p.y - e.offsetY);
        if (d <= 6 && (!best || d < best.d)) best = { runId: p.runId, d };
      }
      if (best) this.events.toggle(best.runId);
    });
  }

  /** Draws `rows` of `table` with column `xColumn` across and `yColumn` up. */
  draw(table: RunTable, rows: readonly number[], xColumn: number, yColumn: number, selected: ReadonlySet<string>): void {
    const theme = chartTheme();
    const width = Math.max(320, this.element.clientWidth || 640);
    const ctx = sizeCanvas(this.canvas, width, HEIGHT);
    ctx.clearRect(0, 0, width, HEIGHT);
    const xs: number[] = [];
    const ys: number[] = [];
    const ids: string[] = [];
    for (const r of rows) {
      const x = cellNumber(table.rows[r]!.values[xColumn] ?? null);
      const y = cellNumber(table.rows[r]!.values[yColumn] ?? null);
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      xs.push(x);
      ys.push(y);
      ids.push(table.rows[r]!.runId);
    }
    const xLabel = table.columns[xColumn]!.label;
    const yLabel = table.columns[yColumn]!.label;
    this.canvas.setAttribute('aria-label', `Scatter of ${yLabel} against ${xLabel}: ${ids.length} runs`);
    this.element.dataset.points = String(ids.length);
    ctx.font = '11px sans-serif';
    ctx.fillStyle = theme.muted;
    if (ids.length === 0) {
      ctx.fillText(`No run has both ${xLabel} and ${yLabel} as numbers.`, 12, 24);
      this.points = [];
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
    this.points = ids.map((runId, i) => ({ runId, x: px(xs[i]!), y: py(ys[i]!) }));
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
