/**
 * Colours for the Compare Runs canvases, read from the theme's CSS variables (VS Code sets them on
 * the page: light, dark and high contrast), so a chart drawn on a canvas follows the theme as the
 * CSS-styled parts do. Read again whenever a chart redraws: the theme may have changed meanwhile.
 */
const CHART_VARIABLES = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-red', '--vscode-charts-purple', '--vscode-charts-yellow'];
const FALLBACKS = ['#3794ff', '#d18616', '#89d185', '#f14c4c', '#b180d7', '#cca700'];

function cssVariable(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export interface ChartTheme {
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  /** The series colours, cycled. */
  palette: string[];
  /** The colour of a highlighted element (the baseline, a brush). */
  accent: string;
}

export function chartTheme(): ChartTheme {
  return {
    foreground: cssVariable('--vscode-foreground', '#cccccc'),
    muted: cssVariable('--vscode-descriptionForeground', '#999999'),
    grid: cssVariable('--vscode-editorWidget-border', '#80808040'),
    background: cssVariable('--vscode-editor-background', '#1f1f1f'),
    palette: CHART_VARIABLES.map((v, i) => cssVariable(v, FALLBACKS[i]!)),
    accent: cssVariable('--vscode-focusBorder', '#007fd4'),
  };
}

/**
 * The opacity of a run's min–max band behind its line (filled in the run's colour): light enough
 * that a few overlapping bands and the lines over them stay readable, in dark and light themes.
 */
export const BAND_ALPHA = 0.2;

/** The colour of the i-th series. */
export function seriesColor(theme: ChartTheme, i: number): string {
  return theme.palette[i % theme.palette.length]!;
}

/** A canvas sized to `cssWidth` × `cssHeight` CSS pixels at the device's pixel ratio; its context scaled to match. */
export function sizeCanvas(canvas: HTMLCanvasElement, cssWidth: number, cssHeight: number): CanvasRenderingContext2D {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.max(1, Math.round(cssWidth * ratio));
  canvas.height = Math.max(1, Math.round(cssHeight * ratio));
  canvas.style.width = `${cssWidth}px`;
  canvas.style.height = `${cssHeight}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}
