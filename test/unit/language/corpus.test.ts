/**
 * Pipelines, model cards and Space READMEs (test/fixtures/language/corpus: real public files, and
 * files written in the shapes DVC's and the Hub's documentation define; sources in SOURCES.md)
 * analysed the way `runwise check` analyses them: each fixture folder is a workspace root on disk,
 * every pipeline, params file and card in it is checked, with every pipeline file of the fixture as
 * one graph. No file may get an error, and a
 * warning only where expected-warnings.json records it (with the reason the file really has that
 * problem). A recorded warning that no longer appears fails too, so the manifest stays true.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';

import { FileSystemWorkspace } from '../../../core/language/files/fileSystemWorkspace';
import { extractFrontMatter } from '../../../core/language/modelCard/frontMatter';
import { createLanguageService } from '../../../core/language/languageService';
import { WorkspacePipelines } from '../../../core/language/pipeline/workspacePipelines';
import { computeLineStarts, positionAt } from '../../../core/language/text/lineIndex';
import { FIXTURES } from './languageHarness';

const CORPUS = path.join(FIXTURES, 'corpus');
const GROUPS = ['dvc', 'cards', 'spaces'].filter((g) => existsSync(path.join(CORPUS, g)));
/** The extensions `runwise check` looks at. */
const CANDIDATE = /\.(ya?ml|json|md)$/i;

interface ExpectedWarning {
  /** `group/fixture/relPath`, as the findings below name files. */
  file: string;
  line: number;
  code: string;
  /** Why the file really has this problem. */
  reason: string;
}

const expected: ExpectedWarning[] = JSON.parse(readFileSync(path.join(CORPUS, 'expected-warnings.json'), 'utf8'));

function filesUnder(root: string, dir = '', only = CANDIDATE): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(root, dir), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...filesUnder(root, rel, only));
    else if (only.test(e.name)) out.push(rel);
  }
  return out;
}

interface Finding {
  file: string;
  line: number;
  severity: string;
  code: string;
  message: string;
}

/**
 * Findings for every analysed file of one fixture workspace, how many files were analysed, and the
 * README.md files without front matter (the Hub shows them with no metadata; Runwise leaves them alone).
 */
function checkFixture(group: string, name: string): { findings: Finding[]; analysed: number; plainReadmes: string[] } {
  const root = path.join(CORPUS, group, name);
  const view = new FileSystemWorkspace(root);
  // As `runwise check` does: every pipeline file of the fixture is one graph.
  const service = createLanguageService(view, { pipelines: new WorkspacePipelines(view) });
  const findings: Finding[] = [];
  let analysed = 0;
  const plainReadmes: string[] = [];
  for (const relPath of filesUnder(root)) {
    const text = view.readFile(relPath);
    if (text === undefined) continue;
    const doc = service.analyze(`file://${path.join(root, relPath)}`, relPath, text);
    if (/(^|\/)readme\.md$/i.test(relPath) && extractFrontMatter(text) === undefined) {
      assert.equal(doc, undefined, `${relPath}: a README.md without front matter is not a card`);
      plainReadmes.push(relPath);
    }
    if (!doc) continue;
    analysed++;
    const lines = { lineStarts: computeLineStarts(text) };
    for (const d of service.diagnostics(doc)) {
      findings.push({
        file: `${group}/${name}/${relPath}`,
        line: positionAt(lines, Math.max(0, Math.min(text.length, d.start))).line + 1,
        severity: d.severity,
        code: d.code,
        message: d.message.replace(/\s*\n\s*/g, ' '),
      });
    }
  }
  return { findings, analysed, plainReadmes };
}

const shown = (f: Finding) => `${f.file}:${f.line}: ${f.severity} ${f.code} ${f.message}`;

describe('corpus of pipelines, model cards and Space READMEs', () => {
  const all: Finding[] = [];
  for (const group of GROUPS) {
    const fixtures = readdirSync(path.join(CORPUS, group)).sort();
    for (const name of fixtures) {
      test(`${group}/${name}`, () => {
        const { findings, analysed, plainReadmes } = checkFixture(group, name);
        all.push(...findings);
        assert.ok(analysed > 0 || plainReadmes.length > 0, `${group}/${name}: no file in it is analysed`);
        const errors = findings.filter((f) => f.severity === 'error');
        const unexpected = findings.filter(
          (f) => f.severity === 'warning' && !expected.some((e) => e.file === f.file && e.line === f.line && e.code === f.code),
        );
        assert.deepEqual([...errors, ...unexpected].map(shown), []);
      });
    }
  }

  test('every recorded warning still appears', () => {
    const missing = expected.filter((e) => !all.some((f) => f.severity === 'warning' && e.file === f.file && e.line === f.line && e.code === f.code));
    assert.deepEqual(missing, []);
  });

  test('every fixture file is listed in SOURCES.md', () => {
    const sources = readFileSync(path.join(CORPUS, 'SOURCES.md'), 'utf8');
    const unlisted = GROUPS.flatMap((group) =>
      readdirSync(path.join(CORPUS, group)).flatMap((name) =>
        filesUnder(path.join(CORPUS, group, name), '', /./).map((f) => `${group}/${name}/${f}`),
      ),
    ).filter((f) => !sources.includes(`\`${f}\``));
    assert.deepEqual(unlisted, []);
  });
});
