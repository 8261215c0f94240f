/**
 * Pipelines and cards written the way the DVC and Hugging Face docs write them produce no
 * diagnostics at all: every analysable file of every fixture workspace.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';

import { createLanguageService } from '../../../core/language/languageService';
import { describeDiagnostic, FIXTURES, loadFixture, memoryWorkspace } from './languageHarness';

// corpus/ holds workspaces of its own, checked by corpus.test.ts; multi-pipeline/ holds cross-file
// mistakes on purpose, checked by checkCommand.test.ts and analysisHost.test.ts.
const fixtures = readdirSync(FIXTURES).filter((d) => !d.startsWith('broken') && d !== 'corpus' && d !== 'multi-pipeline');

describe('real-world fixtures produce no diagnostics', () => {
  for (const name of fixtures) {
    const files = loadFixture(name);
    const workspace = memoryWorkspace(files);
    const service = createLanguageService(workspace);
    for (const [relPath, text] of files) {
      const doc = service.analyze(`file:///${name}/${relPath}`, relPath, text);
      if (!doc) continue;
      test(`${name}/${relPath} (${doc.kind})`, () => {
        const found = service.diagnostics(doc).map((d) => `${describeDiagnostic(text, d)}: ${d.message}`);
        assert.deepEqual(found, []);
      });
    }
  }

  test('every fixture kind is covered', () => {
    const kinds = new Set<string>();
    for (const name of fixtures) {
      const files = loadFixture(name);
      const service = createLanguageService(memoryWorkspace(files));
      for (const [relPath, text] of files) {
        const k = service.fileKind(relPath, text);
        if (k) kinds.add(k);
      }
    }
    assert.deepEqual([...kinds].sort(), ['dvc-pipeline', 'model-card', 'params', 'readme-model-card', 'runwise-pipeline', 'space-card']);
  });
});
