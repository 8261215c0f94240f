/**
 * The drift report as one self-contained HTML file (`runwise drift REF CUR --html OUT`; the same shell,
 * selfContainedViewHtml, writes `runwise lineage --html OUT` with the lineage view): the report
 * view's bundle (webview/driftReport, built by esbuild.mjs into dist/webview/driftReport.{js,css})
 * inlined, the report as JSON in a `<script type="application/json">` data block the bundle reads,
 * and a strict Content-Security-Policy: nothing loads (`default-src 'none'`), the one script and the
 * one stylesheet run only because their sha256 hashes are listed. It opens from file:// with no
 * network request.
 *
 * No user text reaches the HTML itself: names and values travel only inside the JSON block (every
 * `<` written as \u003c, so nothing in it can end the element) and the page sets them as text.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DriftReport } from './driftReport';

/** The id of the data block; webview/driftReport/messages.ts's DRIFT_REPORT_DATA_ID says the same. */
const DATA_ID = 'runwise-drift-report';

/** A built webview page: its bundle's script and stylesheet. */
export interface ViewAssets {
  script: string;
  style: string;
}
export type DriftViewAssets = ViewAssets;

/**
 * A built view (`bundle`: its name under dist/webview, as esbuild.mjs's webviewEntries write it):
 * beside the running bundle (dist/cli.js, dist/cli-NAME.js and dist/extension.js look in
 * dist/webview), or in the repository's dist/ when run from source. Throws a message that says what
 * to build when neither has it.
 */
export function readViewAssets(bundle: string, what: string): ViewAssets {
  const candidates = [path.join(__dirname, 'webview'), path.join(__dirname, '..', '..', 'dist', 'webview')];
  for (const dir of candidates) {
    const script = path.join(dir, `${bundle}.js`);
    const style = path.join(dir, `${bundle}.css`);
    if (existsSync(script) && existsSync(style)) return { script: readFileSync(script, 'utf8'), style: readFileSync(style, 'utf8') };
  }
  throw new Error(`${what} is not built (no ${bundle}.js and ${bundle}.css in ${candidates.join(' or ')}): run \`npm run build\``);
}

export function readDriftViewAssets(): DriftViewAssets {
  return readViewAssets('driftReport', 'the drift report view');
}

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The whole HTML document for `report`. */
export function driftHtml(report: DriftReport, assets: DriftViewAssets = readDriftViewAssets()): string {
  return selfContainedViewHtml({ title: 'Drift report', assets, dataId: DATA_ID, data: report });
}

export interface SelfContainedViewOptions {
  /** The document title (text; escaped here). */
  title: string;
  assets: ViewAssets;
  /** The id of the JSON data block the page reads its data from. */
  dataId: string;
  /** The page's data, written as JSON. */
  data: unknown;
}

/**
 * One webview page as a self-contained HTML document (this module's comment says how it stays
 * offline and safe): the shell the drift report, the lineage graph and any other view written to a
 * file share.
 */
export function selfContainedViewHtml(options: SelfContainedViewOptions): string {
  const { assets } = options;
  // Inside <script> and <style> only the end tag is special; `<\/` reads the same in JS strings,
  // regular expressions and CSS escapes.
  // The source map comment goes: the file is alone, nothing beside it to point at.
  const script = assets.script.replace(/\n\/\/# sourceMappingURL=\S*\s*$/, '\n').replace(/<\/(script)/gi, '<\\/$1');
  const style = assets.style.replace(/\n\/\*# sourceMappingURL=\S* \*\/\s*$/, '\n').replace(/<\/(style)/gi, '<\\/$1');
  const data = JSON.stringify(options.data).replace(/</g, '\\u003c');
  const csp = ["default-src 'none'", `script-src ${sha256(script)}`, `style-src ${sha256(style)}`, "img-src data:", "base-uri 'none'", "form-action 'none'"].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${csp}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    <meta name="generator" content="Runwise">
    <title>${options.title.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}</title>
    <style>${style}</style>
  </head>
  <body>
    <main id="root"></main>
    <script type="application/json" id="${options.dataId.replace(/[^\w-]/g, '')}">${data}</script>
    <script>${script}</script>
  </body>
</html>
`;
}

/** Writes `report` as a self-contained HTML file at `file`. */
export function writeDriftHtml(report: DriftReport, file: string, assets?: DriftViewAssets): void {
  writeFileSync(file, driftHtml(report, assets));
}
