/**
 * The offline drift report file (core/drift/driftHtml.ts): its policy allows exactly the inline
 * script and stylesheet it carries (by sha256) and nothing else, and no text from the report or the
 * bundle can end the element it sits in. (That the page renders from file:// with no request is
 * test/webview/driftReport.test.ts, in Chromium.)
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { driftHtml } from '../../../core/drift/driftHtml';
import type { DriftReport } from '../../../core/drift/driftReport';

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

function report(name: string, score: number): DriftReport {
  const side = { count: 10, missing: 0, distinct: 10 };
  return { dataset_drift: false, drift_share: 0, n_drifted: 0, n_columns: 1, columns: [{ name, type: 'numerical', test: 'ks', score, threshold: 0.05, drifted: false, reference: side, current: side }] };
}

const assets = {
  script: 'const s = "</script><script>alert(1)</script>";\ndocument.title = s;\n//# sourceMappingURL=driftReport.js.map\n',
  style: 'body::after { content: "</style>"; }\n/*# sourceMappingURL=driftReport.css.map */\n',
};

/** The content of every `<tag ...>…</tag>` element, as an HTML parser ends them (at the first end tag). */
function elements(html: string, tag: string): { attrs: string; body: string }[] {
  return [...html.matchAll(new RegExp(`<${tag}([^>]*)>([\\s\\S]*?)</${tag}`, 'gi'))].map((m) => ({ attrs: m[1]!, body: m[2]! }));
}

describe('driftHtml', () => {
  it('lists the hashes of exactly its inline script and stylesheet, and nothing may load', () => {
    const html = driftHtml(report('x', 0.5), assets);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1];
    assert.ok(csp, 'the page has a Content-Security-Policy meta tag');
    const directives = new Map(csp.split(/;\s*/).map((d) => [d.split(' ')[0]!, d.split(' ').slice(1).join(' ')]));
    assert.equal(directives.get('default-src'), "'none'");
    const scripts = elements(html, 'script');
    assert.equal(scripts.length, 2, 'one data block and one script, the bundle cut nowhere');
    const code = scripts.find((s) => !/type=/.test(s.attrs));
    assert.ok(code);
    assert.equal(directives.get('script-src'), hash(code.body));
    assert.match(code.body, /<\\\/script><script>alert\(1\)<\\\/script>/);
    const styles = elements(html, 'style');
    assert.equal(styles.length, 1);
    assert.equal(directives.get('style-src'), hash(styles[0]!.body));
    assert.doesNotMatch(html, /sourceMappingURL/);
    assert.doesNotMatch(csp, /unsafe|https?:|\*/);
  });

  it('carries the report as JSON no column name can break out of; NaN becomes null', () => {
    const name = '</script><!--<script>alert(1)</script>';
    const html = driftHtml(report(name, NaN), assets);
    const data = elements(html, 'script').find((s) => /type="application\/json"/.test(s.attrs));
    assert.ok(data);
    assert.doesNotMatch(data.body, /</);
    const parsed = JSON.parse(data.body) as DriftReport;
    assert.equal(parsed.columns[0]!.name, name);
    assert.equal(parsed.columns[0]!.score, null);
  });
});
