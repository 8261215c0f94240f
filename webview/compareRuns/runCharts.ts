/**
 * The metric chart of the Compare Runs page: one line per selected run (no cap on how many), drawn
 * by uPlot on a canvas in its faceted mode (each run its own x values: runs log different steps
 * and times). The host sends each run downsampled (min, max and last per bucket); the line is the
 * last value, smoothed on request with TensorBoard's debiased exponential moving average. Zooming by
 * dragging over the chart asks the host again for the visible step range (on the step axis), so a
 * million-step run shows full detail once zoomed in; a double click zooms out.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { el } from '../page/dom';
import { chartTheme, seriesColor } from './chartTheme';
import type { ChartSeries, XAxis } from './messages';

/**
 * TensorBoard's smoothing: an exponential moving average debiased for its start (so the first
 * points are not pulled towards zero). `weight` 0 leaves the values as they are; gaps stay gaps.
 */
export function smoothSeries(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return [...values];
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    last = last * weight + (1 - weight) * v;
    n++;
    return last / (1 - weight ** n);
  });
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
}

export interface MetricChartEvents {
  /** The user zoomed the step axis to [min, max], or zoomed out (no range). */
  zoom(range: { minStep: number; maxStep: number } | undefined): void;
}

const AXIS_LABEL: Record<XAxis, string> = { step: 'Step', wallTime: 'Time', relativeTime: 'Relative time (s)' };

export class MetricChart {
  readonly element: HTMLDivElement;
  private plot: uPlot | undefined;
  private zoomed = false;

  constructor(private readonly events: MetricChartEvents) {
    this.element = el('div', undefined, { class: 'metric-chart', id: 'metric-chart', role: 'img', 'aria-label': 'Metric chart' });
    // uPlot's own double click refits the zoomed data; zooming out means asking for the whole series.
    this.element.addEventListener('dblclick', () => {
      if (this.zoomed) this.resetZoom();
    });
  }

  /** Draws `series` (one per run, in `runs` order) with `options`. */
  draw(metric: string, runs: readonly ChartRun[], series: readonly ChartSeries[], options: ChartOptions): void {
    const theme = chartTheme();
    const byRun = new Map(series.map((s) => [s.runId, s]));
    const shown = runs.filter((r) => byRun.has(r.runId));
    const data: uPlot.AlignedData = [null as unknown as number[]];
    const seriesOpts: uPlot.Series[] = [{}];
    shown.forEach((run, i) => {
      const s = byRun.get(run.runId)!;
      const xs = options.xAxis === 'step' ? s.step : options.xAxis === 'wallTime' ? s.timestamp.map((t) => t / 1000) : s.timestamp.map((t) => (t - run.startTime) / 1000);
      let ys = smoothSeries(s.last, options.smoothing);
      if (options.logScale) ys = ys.map((v) => (v !== null && v > 0 ? v : null));
      (data as unknown as unknown[]).push([xs, ys]);
      seriesOpts.push({
        label: run.name,
        stroke: seriesColor(theme, i),
        width: 1,
        facets: [
          { scale: 'x', auto: true, sorted: 1 },
          { scale: 'y', auto: true },
        ],
        paths: uPlot.paths.linear!(),
        points: { show: false },
        spanGaps: false,
      } as uPlot.Series);
    });
    this.element.dataset.series = String(shown.length);
    this.element.dataset.metric = metric;
    this.element.setAttribute('aria-label', `${metric} of ${shown.length} run${shown.length === 1 ? '' : 's'} against ${AXIS_LABEL[options.xAxis].toLowerCase()}`);
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
        // A drag over the chart selects an x range: on the step axis the host is asked for that range
        // (full detail there); on the time axes the chart zooms into what it has.
        setSelect: [
          (u) => {
            const { left, width } = u.select;
            if (width < 3) return;
            const min = u.posToVal(left, 'x');
            const max = u.posToVal(left + width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            if (options.xAxis === 'step') {
              this.zoomed = true;
              this.events.zoom({ minStep: Math.floor(min), maxStep: Math.ceil(max) });
            } else {
              this.zoomed = true;
              u.setScale('x', { min, max });
            }
          },
        ],
      },
    };
    this.plot?.destroy();
    this.element.replaceChildren();
    this.plot = new uPlot(opts, data, this.element);
  }

  /** Whether the user zoomed into a step range (the series shown are that range's). */
  get isZoomed(): boolean {
    return this.zoomed;
  }

  /** Zooms out (double click on the chart, or the Reset zoom button). */
  resetZoom(): void {
    this.zoomed = false;
    this.events.zoom(undefined);
  }


  /** Draws nothing but a message. */
  clear(message: string): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.zoomed = false;
    this.element.dataset.series = '0';
    this.element.replaceChildren(el('p', message, { class: 'empty' }));
  }

  resize(): void {
    if (this.plot) this.plot.setSize({ width: Math.max(300, this.element.clientWidth), height: 280 });
  }
}
