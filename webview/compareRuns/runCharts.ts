/**
 * The metric chart of the Compare Runs page: one line per selected run (no cap on how many), each
 * run its own x values (runs log different steps and times). uPlot lays out the axes, grid and
 * scales (over a frame of the data's extremes) and handles the cursor and drag-to-zoom; this module
 * strokes the lines itself, one path per run straight from the typed arrays the host sends, on
 * uPlot's canvas after the grid. uPlot's own per-point path building for 100 runs of 1,000 points
 * took as long as the canvas rasterising them.
 * The host sends each run downsampled (the last value per bucket, and its min and max when the chart
 * shows at most BAND_MAX_RUNS runs); the line is the last value, smoothed on request with
 * TensorBoard's debiased exponential moving average. Behind a few runs' lines, each run's min–max
 * band (translucent, in its colour, never smoothed) shows the spikes a downsampled line hides; among
 * more runs the bands would only cover one another, so they are neither drawn nor asked for.
 * Zooming by dragging over the chart asks the host again for the visible step range (on the step
 * axis), so a million-step run shows full detail once zoomed in; a double click zooms out. With the
 * chart focused, the keyboard does the same: + and - zoom around the centre, the left and right
 * arrows pan, 0 (or Home) zooms out; each change is announced through the page's live region.
 * Hovering over the plot shows a tooltip (RunTooltip) with the x at the cursor and, for the runs
 * whose lines are nearest the cursor, the value of their bucket there.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { el } from '../page/dom';
import { BAND_ALPHA, chartTheme, seriesColor } from './chartTheme';
import { BAND_MAX_RUNS, type ChartSeries, type XAxis } from './messages';

/**
 * TensorBoard's smoothing: an exponential moving average debiased for its start (so the first
 * points are not pulled towards zero). `weight` 0 leaves the values as they are; gaps (NaN, null,
 * infinite) stay gaps, as NaN.
 */
export function smoothSeries(values: ArrayLike<number | null>, weight: number): Float64Array {
  const out = new Float64Array(values.length);
  let last = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      out[i] = NaN;
      continue;
    }
    if (weight <= 0) {
      out[i] = v;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    n++;
    out[i] = last / (1 - weight ** n);
  }
  return out;
}

/**
 * One run's line as drawn: x and y (NaN: a gap) and its colour; with its band, each bucket's min
 * and max (the host's arrays as they came: NaN a gap, and on a log scale a non-positive min too).
 */
interface Line {
  xs: Float64Array;
  ys: Float64Array;
  /** The host's last value per bucket (what the tooltip shows; `ys` is it smoothed, or NaN off a log scale). */
  last: Float64Array;
  name: string;
  color: string;
  band?: { min: Float64Array; max: Float64Array } | undefined;
}

export interface ChartRun {
  runId: string;
  name: string;
  /** Milliseconds since the epoch, for the relative-time axis. */
  startTime: number;
}

export interface ChartOptions {
  xAxis: XAxis;
  logScale: boolean;
  /** 0 (none) to 0.99. */
  smoothing: number;
  /** The step range the series were asked for (zoomed in on the step axis), if any. */
  zoom?: { minStep: number; maxStep: number } | undefined;
}

export interface MetricChartEvents {
  /** The user zoomed the step axis to [min, max], or zoomed out (no range). */
  zoom(range: { minStep: number; maxStep: number } | undefined): void;
  /** Something changed that a screen reader should say (a keyboard zoom or pan). */
  announce(message: string): void;
}

/** How much + zooms in (the shown range shrinks to this share of itself), and an arrow pans. */
const ZOOM_FACTOR = 0.5;
const PAN_SHARE = 0.25;

const AXIS_LABEL: Record<XAxis, string> = { step: 'Step', wallTime: 'Time', relativeTime: 'Relative time (s)' };

export class MetricChart {
  readonly element: HTMLDivElement;
  private plot: uPlot | undefined;
  private lines: Line[] = [];
  private logScale = false;
  private zoomed = false;
  private xAxis: XAxis = 'step';
  /** The x range of all the data (the steps the runs logged, or their times). */
  private extent: [number, number] | undefined;
  /** The x range shown when zoomed in (step axis: the range asked for; time axes: the scale set). */
  private view: [number, number] | undefined;
  private smoothed = false;
  private readonly tooltip = new RunTooltip();

  constructor(private readonly events: MetricChartEvents) {
    // role=application: a screen reader passes the keys through to the chart's own handling.
    this.element = el('div', undefined, {
      class: 'metric-chart',
      id: 'metric-chart',
      role: 'application',
      'aria-roledescription': 'chart',
      'aria-label': 'Metric chart',
      'aria-keyshortcuts': 'Plus - ArrowLeft ArrowRight 0 Home',
      tabindex: '0',
    });
    // uPlot's own double click refits the zoomed data; zooming out means asking for the whole series.
    this.element.addEventListener('dblclick', () => {
      if (this.zoomed) this.resetZoom();
    });
    this.element.addEventListener('keydown', (e) => this.onKey(e));
  }

  /** Draws `series` (one per run, in `runs` order) with `options`. */
  draw(metric: string, runs: readonly ChartRun[], series: readonly ChartSeries[], options: ChartOptions): void {
    const theme = chartTheme();
    const byRun = new Map(series.map((s) => [s.runId, s]));
    const shown = runs.filter((r) => byRun.has(r.runId));
    const withBands = shown.length <= BAND_MAX_RUNS;
    this.xAxis = options.xAxis;
    this.logScale = options.logScale;
    this.smoothed = options.smoothing > 0;
    let lo = Infinity;
    let hi = -Infinity;
    // The data's x and y extent: uPlot ranges its scales over a frame series of these corners, not
    // over every point (the lines are drawn here; uPlot's auto range is the same from the extremes).
    let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
    this.lines = shown.map((run, i) => {
      const s = byRun.get(run.runId)!;
      const n = s.step.length;
      let xs = s.step;
      if (options.xAxis !== 'step') {
        xs = new Float64Array(n);
        const start = options.xAxis === 'wallTime' ? 0 : run.startTime;
        for (let j = 0; j < n; j++) xs[j] = (s.timestamp[j]! - start) / 1000;
      }
      const range: readonly [number, number] | undefined = options.xAxis === 'step' && s.stepRange ? s.stepRange : n > 0 ? [xs[0]!, xs[n - 1]!] : undefined;
      if (range) [lo, hi] = [Math.min(lo, range[0]), Math.max(hi, range[1])];
      // Unsmoothed on a linear scale the values are drawn as they came (gaps are NaN).
      const ys = options.smoothing > 0 || options.logScale ? smoothSeries(s.last, options.smoothing) : s.last;
      for (let j = 0; j < n; j++) {
        const y = ys[j]!;
        if (options.logScale && !(y > 0)) ys[j] = NaN;
        else if (Number.isFinite(y)) {
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
      }
      const band = withBands && s.min && s.max && s.min.length === n && s.max.length === n ? { min: s.min, max: s.max } : undefined;
      // The y range takes in the bands' buckets that are drawn (on a log scale: a positive min).
      if (band) {
        for (let j = 0; j < n; j++) {
          const [bmin, bmax] = [band.min[j]!, band.max[j]!];
          if (!bandBucket(bmin, bmax, options.logScale)) continue;
          if (bmin < y0) y0 = bmin;
          if (bmax > y1) y1 = bmax;
        }
      }
      if (n > 0) [x0, x1] = [Math.min(x0, xs[0]!), Math.max(x1, xs[n - 1]!)];
      return { xs, ys, last: s.last, name: run.name, color: seriesColor(theme, i), band };
    });
    const frame = x0 <= x1 ? [[x0, x1], y0 <= y1 ? [y0, y1] : [null, null]] : [[], []];
    const data = [null, frame] as unknown as uPlot.AlignedData;
    const seriesOpts: uPlot.Series[] = [
      {},
      {
        label: metric,
        facets: [
          { scale: 'x', auto: true, sorted: 1 },
          { scale: 'y', auto: true },
        ],
        paths: () => null,
        points: { show: false },
      } as uPlot.Series,
    ];
    this.extent = lo <= hi ? [lo, hi] : undefined;
    this.view = options.xAxis === 'step' && options.zoom ? [options.zoom.minStep, options.zoom.maxStep] : undefined;
    this.zoomed = this.view !== undefined;
    this.element.dataset.series = String(shown.length);
    this.element.dataset.metric = metric;
    this.element.setAttribute(
      'aria-label',
      `${metric} of ${shown.length} run${shown.length === 1 ? '' : 's'} against ${AXIS_LABEL[options.xAxis].toLowerCase()}. Plus and minus zoom, left and right arrows pan, 0 zooms out.`,
    );
    const width = Math.max(300, this.element.clientWidth || 600);
    const axis = (label: string): uPlot.Axis => ({
      label,
      stroke: theme.foreground,
      grid: { stroke: theme.grid, width: 1 },
      ticks: { stroke: theme.grid, width: 1 },
    });
    const opts: uPlot.Options = {
      mode: 2,
      width,
      height: 280,
      legend: { show: false },
      // No hover points: with hundreds of runs, a point element per series on every mouse move.
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      scales: {
        x: { time: options.xAxis === 'wallTime', auto: true },
        y: { distr: options.logScale ? 3 : 1, auto: true },
      },
      axes: [axis(AXIS_LABEL[options.xAxis]), axis(metric)],
      series: seriesOpts,
      hooks: {
        // The tooltip follows the cursor (uPlot puts it off the plot, at -10, when the mouse leaves).
        setCursor: [(u) => this.tooltip.move(u, this.lines, this.xAxis, this.smoothed)],
        // The bands and lines, after the grid.
        draw: [(u) => this.strokeLines(u)],
        // A drag over the chart selects an x range: on the step axis the host is asked for that range
        // (full detail there); on the time axes the chart zooms into what it has.
        setSelect: [
          (u) => {
            const { left, width } = u.select;
            if (width < 3) return;
            const min = u.posToVal(left, 'x');
            const max = u.posToVal(left + width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            this.showRange(min, max);
          },
        ],
      },
    };
    this.tooltip.hide();
    this.plot?.destroy();
    this.element.replaceChildren();
    this.plot = new uPlot(opts, data, this.element);
    this.tooltip.attach(this.plot.over);
  }

  /**
   * Fills every band, then strokes every line over them, clipped to the plotting area, after uPlot's
   * grid (uPlot's own series draw nothing). One path per run built straight from the typed arrays:
   * uPlot's per-point path building took as long as the canvas's rasterisation of the 1-pixel lines
   * (which it does as hairlines). Sets `data-bands` to the number of bands filled.
   */
  private strokeLines(u: uPlot): void {
    const { left, top, width, height } = u.bbox;
    const [xMin, xMax, yMin, yMax] = [u.scales.x?.min, u.scales.x?.max, u.scales.y?.min, u.scales.y?.max];
    const linearX = u.scales.x?.distr === 1 && xMin != null && xMax != null && xMax > xMin;
    const linearY = u.scales.y?.distr === 1 && yMin != null && yMax != null && yMax > yMin;
    const kx = linearX ? width / (xMax - xMin) : 0;
    const ky = linearY ? height / (yMax - yMin) : 0;
    const px = (v: number) => (linearX ? left + (v - xMin) * kx : u.valToPos(v, 'x', true));
    const py = (v: number) => (linearY ? top + height - (v - yMin) * ky : u.valToPos(v, 'y', true));
    const ctx = u.ctx;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    let bands = 0;
    ctx.globalAlpha = BAND_ALPHA;
    for (const line of this.lines) {
      if (!line.band) continue;
      ctx.fillStyle = line.color;
      ctx.fill(bandPath(line.xs, line.band.min, line.band.max, this.logScale, px, py));
      bands++;
    }
    ctx.globalAlpha = 1;
    ctx.lineWidth = uPlot.pxRatio;
    for (const line of this.lines) {
      ctx.strokeStyle = line.color;
      const path = new Path2D();
      let open = false;
      for (let j = 0; j < line.xs.length; j++) {
        const y = line.ys[j]!;
        if (!Number.isFinite(y)) {
          open = false;
          continue;
        }
        if (open) path.lineTo(px(line.xs[j]!), py(y));
        else path.moveTo(px(line.xs[j]!), py(y));
        open = true;
      }
      ctx.stroke(path);
    }
    ctx.restore();
    this.element.dataset.bands = String(bands);
  }

  /** Whether the user zoomed into a step range (the series shown are that range's). */
  get isZoomed(): boolean {
    return this.zoomed;
  }

  /** Zooms out (double click on the chart, or the Reset zoom button). */
  resetZoom(): void {
    this.zoomed = false;
    this.view = undefined;
    if (this.xAxis === 'step') this.events.zoom(undefined);
    else if (this.plot && this.extent) this.plot.setScale('x', { min: this.extent[0], max: this.extent[1] });
  }

  /**
   * Shows x from `min` to `max`: on the step axis the host is asked for that range (full detail
   * there); on the time axes the chart zooms into what it has.
   */
  private showRange(min: number, max: number): void {
    this.zoomed = true;
    if (this.xAxis === 'step') {
      const range = { minStep: Math.floor(min), maxStep: Math.ceil(max) };
      this.view = [range.minStep, range.maxStep];
      this.events.zoom(range);
    } else {
      this.view = [min, max];
      this.plot?.setScale('x', { min, max });
    }
  }

  /** + and - zoom around the centre, the arrows pan, 0 or Home zooms out. */
  private onKey(e: KeyboardEvent): void {
    if (e.altKey || e.ctrlKey || e.metaKey || !this.plot || !this.extent) return;
    const [lo, hi] = this.extent;
    const [from, to] = this.view ?? this.extent;
    const width = to - from;
    let next: [number, number] | 'whole' | undefined;
    if (e.key === '+' || e.key === '=') next = [from + (width * (1 - ZOOM_FACTOR)) / 2, to - (width * (1 - ZOOM_FACTOR)) / 2];
    else if (e.key === '-' || e.key === '_') next = [from - (width * (1 / ZOOM_FACTOR - 1)) / 2, to + (width * (1 / ZOOM_FACTOR - 1)) / 2];
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      const shift = Math.min(width * PAN_SHARE, e.key === 'ArrowLeft' ? from - lo : hi - to) * (e.key === 'ArrowLeft' ? -1 : 1);
      next = shift === 0 ? undefined : [from + shift, to + shift];
      if (!next) this.events.announce(`Already at the ${e.key === 'ArrowLeft' ? 'start' : 'end'}.`);
    } else if (e.key === '0' || e.key === 'Home') next = 'whole';
    else return;
    e.preventDefault();
    if (next === undefined) return;
    const what = AXIS_LABEL[this.xAxis].toLowerCase().replace(/ \(s\)$/, '');
    // The smallest range: two steps (or two milliseconds of time); past the data's ends is the whole.
    const smallest = this.xAxis === 'step' ? 2 : 0.002;
    if (next !== 'whole' && next[1] - next[0] < smallest) {
      this.events.announce(`Zoomed in as far as it goes: ${what} ${format(from, this.xAxis)} to ${format(to, this.xAxis)}.`);
      return;
    }
    if (next === 'whole' || next[1] - next[0] >= hi - lo) {
      if (!this.zoomed) return this.events.announce(`Showing the whole ${what} range.`);
      this.resetZoom();
      this.events.announce(`Zoomed out: the whole ${what} range, ${format(lo, this.xAxis)} to ${format(hi, this.xAxis)}.`);
      return;
    }
    const [a, b] = [Math.max(lo, next[0]), Math.min(hi, next[1])];
    // Clamping at an end keeps the width: a pan or zoom-out against the start shows start..start+width.
    const span = next[1] - next[0];
    const [min, max] = a === lo ? [lo, Math.min(hi, lo + span)] : b === hi ? [Math.max(lo, hi - span), hi] : [a, b];
    this.showRange(min, max);
    const [shownMin, shownMax] = this.view!;
    this.events.announce(`${e.key === 'ArrowLeft' || e.key === 'ArrowRight' ? 'Panned' : e.key === '-' || e.key === '_' ? 'Zoomed out' : 'Zoomed in'}: ${what} ${format(shownMin, this.xAxis)} to ${format(shownMax, this.xAxis)}.`);
  }


  /** Draws nothing but a message. */
  clear(message: string): void {
    this.tooltip.hide();
    this.plot?.destroy();
    this.plot = undefined;
    this.lines = [];
    this.zoomed = false;
    this.view = undefined;
    this.extent = undefined;
    this.element.dataset.series = '0';
    this.element.dataset.bands = '0';
    this.element.replaceChildren(el('p', message, { class: 'empty' }));
  }

  resize(): void {
    if (this.plot) this.plot.setSize({ width: Math.max(300, this.element.clientWidth), height: 280 });
  }
}

/** Is a bucket's band drawn: both ends a value, and on a log scale above zero (else a gap, as for the line)? */
function bandBucket(min: number, max: number, logScale: boolean): boolean {
  return Number.isFinite(min) && Number.isFinite(max) && (!logScale || min > 0);
}

/**
 * A run's min–max band as one path: each stretch of buckets without a gap is a polygon along the
 * maxima and back along the minima (a lone bucket between gaps has no width, and no band, as the
 * line draws nothing there either).
 */
function bandPath(xs: Float64Array, min: Float64Array, max: Float64Array, logScale: boolean, px: (v: number) => number, py: (v: number) => number): Path2D {
  const path = new Path2D();
  const n = xs.length;
  let j = 0;
  while (j < n) {
    while (j < n && !bandBucket(min[j]!, max[j]!, logScale)) j++;
    const start = j;
    while (j < n && bandBucket(min[j]!, max[j]!, logScale)) j++;
    if (j - start < 2) continue;
    path.moveTo(px(xs[start]!), py(max[start]!));
    for (let k = start + 1; k < j; k++) path.lineTo(px(xs[k]!), py(max[k]!));
    for (let k = j - 1; k >= start; k--) path.lineTo(px(xs[k]!), py(min[k]!));
    path.closePath();
  }
  return path;
}

/** An x value as said aloud: a step as a whole number, a wall time as a date, seconds with two decimals. */
function format(x: number, axis: XAxis): string {
  if (axis === 'step') return String(Math.round(x));
  if (axis === 'wallTime') return new Date(x * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return `${x.toFixed(2)} s`;
}

/** How many runs the tooltip lists (those whose lines are nearest the cursor); the rest are counted. */
export const TOOLTIP_MAX_RUNS = 8;

/**
 * The hover tooltip of the metric chart: a small box inside uPlot's overlay (so it moves with the
 * plot, and takes no pointer events) with the x at the cursor and, for each run whose line is among
 * the TOOLTIP_MAX_RUNS nearest the cursor's y there, its colour, name and the value of its bucket
 * at that x (the last value; with a band, also the bucket's min–max; smoothed, also the smoothed
 * line's value), then "+N more". Updated at most once per animation frame; each run's bucket found
 * by binary search on its x; its scratch arrays grow with the run count and are reused, so a mouse
 * move allocates no more than the text it shows. Hidden from screen readers (aria-hidden): the
 * keyboard's zooms and pans are announced through the page's live region instead.
 */
class RunTooltip {
  private readonly box: HTMLDivElement = el('div', undefined, { class: 'chart-tooltip', 'aria-hidden': 'true', hidden: '' });
  private readonly header: HTMLDivElement = el('div', undefined, { class: 'chart-tooltip-x' });
  /** The rows, each with the run it shows now. */
  private readonly rows: { row: HTMLDivElement; swatch: HTMLSpanElement; name: HTMLSpanElement; value: HTMLSpanElement; run: Line | undefined }[] = [];
  private readonly more: HTMLDivElement = el('div', undefined, { class: 'chart-tooltip-more' });
  /** Per run: its bucket's index at the cursor (-1: none there) and its distance from the cursor in pixels. */
  private index = new Int32Array(0);
  private distance = new Float64Array(0);
  /** The listed runs' indices, nearest first. */
  private readonly nearest = new Int32Array(TOOLTIP_MAX_RUNS);
  private frame = 0;
  private pending: { u: uPlot; lines: readonly Line[]; axis: XAxis; smoothed: boolean } | undefined;

  constructor() {
    this.box.append(this.header);
    for (let i = 0; i < TOOLTIP_MAX_RUNS; i++) {
      const row = el('div', undefined, { class: 'chart-tooltip-run' });
      const swatch = el('span', undefined, { class: 'chart-tooltip-swatch' });
      const name = el('span', undefined, { class: 'chart-tooltip-name' });
      const value = el('span', undefined, { class: 'chart-tooltip-value' });
      row.append(swatch, name, value);
      this.rows.push({ row, swatch, name, value, run: undefined });
      this.box.append(row);
    }
    this.box.append(this.more);
  }

  /** Puts the tooltip in a new plot's overlay (hidden until the cursor moves there). */
  attach(over: HTMLElement): void {
    this.hide();
    for (const row of this.rows) row.run = undefined;
    over.append(this.box);
  }

  hide(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.pending = undefined;
    this.box.hidden = true;
  }

  /** The cursor moved (or left the plot): shows the tooltip there on the next frame. */
  move(u: uPlot, lines: readonly Line[], axis: XAxis, smoothed: boolean): void {
    const { left, top } = u.cursor;
    if (left == null || top == null || left < 0 || top < 0) return this.hide();
    if (this.pending) {
      this.pending.u = u;
      this.pending.lines = lines;
      return;
    }
    this.pending = { u, lines, axis, smoothed };
    this.frame = requestAnimationFrame(() => {
      const p = this.pending;
      this.frame = 0;
      this.pending = undefined;
      if (p) this.show(p.u, p.lines, p.axis, p.smoothed);
    });
  }

  private show(u: uPlot, lines: readonly Line[], axis: XAxis, smoothed: boolean): void {
    const { left, top } = u.cursor;
    if (left == null || top == null || left < 0 || top < 0 || lines.length === 0) return this.hide();
    const x = u.posToVal(left, 'x');
    if (this.index.length < lines.length) {
      this.index = new Int32Array(lines.length);
      this.distance = new Float64Array(lines.length);
    }
    // Each run's bucket nearest the cursor's x (none when the cursor is outside the run's x range),
    // and the x of the nearest bucket of all, which the header shows.
    let snapped = NaN;
    let found = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const j = nearestIndex(line.xs, x);
      const y = j < 0 ? NaN : line.ys[j]!;
      if (j < 0 || !Number.isFinite(y)) {
        this.index[i] = -1;
        continue;
      }
      this.index[i] = j;
      this.distance[i] = Math.abs(u.valToPos(y, 'y') - top);
      const xj = line.xs[j]!;
      if (!(Math.abs(xj - x) >= Math.abs(snapped - x))) snapped = xj;
      found++;
    }
    if (found === 0) return this.hide();
    // The TOOLTIP_MAX_RUNS nearest the cursor's y, by insertion into a short sorted list.
    let listed = 0;
    for (let i = 0; i < lines.length; i++) {
      if (this.index[i]! < 0) continue;
      const d = this.distance[i]!;
      if (listed === TOOLTIP_MAX_RUNS && d >= this.distance[this.nearest[listed - 1]!]!) continue;
      let k = listed < TOOLTIP_MAX_RUNS ? listed++ : listed - 1;
      while (k > 0 && this.distance[this.nearest[k - 1]!]! > d) {
        this.nearest[k] = this.nearest[k - 1]!;
        k--;
      }
      this.nearest[k] = i;
    }
    this.header.textContent = `${AXIS_LABEL[axis].replace(/ \(s\)$/, '')} ${format(snapped, axis)}`;
    for (let r = 0; r < TOOLTIP_MAX_RUNS; r++) {
      const row = this.rows[r]!;
      if (r >= listed) {
        row.row.hidden = true;
        continue;
      }
      const line = lines[this.nearest[r]!]!;
      const j = this.index[this.nearest[r]!]!;
      row.row.hidden = false;
      // Only what changed is written: a run's row moves only when the nearest runs change order.
      if (row.run !== line) {
        row.run = line;
        row.swatch.style.backgroundColor = line.color;
        row.name.textContent = line.name;
      }
      let text = formatValue(line.last[j]!);
      if (line.band) text += ` (${formatValue(line.band.min[j]!)}–${formatValue(line.band.max[j]!)})`;
      if (smoothed) text += `, smoothed ${formatValue(line.ys[j]!)}`;
      if (row.value.textContent !== text) row.value.textContent = text;
    }
    this.more.hidden = found <= listed;
    const more = `+${found - listed} more`;
    if (found > listed && this.more.textContent !== more) this.more.textContent = more;
    // Beside the cursor, on the side with more room: moved by a transform (no layout), its own
    // size (the percentages) taken off when it goes to the left or above.
    const width = u.bbox.width / uPlot.pxRatio;
    const height = u.bbox.height / uPlot.pxRatio;
    const dx = left > width / 2 ? `calc(${left - 12}px - 100%)` : `${left + 12}px`;
    const dy = top > height / 2 ? `calc(${top - 12}px - 100%)` : `${top + 12}px`;
    this.box.style.transform = `translate(${dx}, ${dy})`;
    this.box.hidden = false;
  }
}

/**
 * The index of the value in `xs` (ascending; NaN-free) nearest `x`, by binary search; -1 when `x` is
 * outside xs's range (the run logged nothing there) or xs is empty.
 */
export function nearestIndex(xs: ArrayLike<number>, x: number): number {
  const n = xs.length;
  if (n === 0 || !(x >= xs[0]!) || !(x <= xs[n - 1]!)) return -1;
  let lo = 0;
  let hi = n - 1;
  // The first index whose x is at least `x`.
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && x - xs[lo - 1]! <= xs[lo]! - x ? lo - 1 : lo;
}

/** A metric value in the tooltip: six significant digits, no trailing zeros; a gap as "–". */
export function formatValue(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : '–';
}
