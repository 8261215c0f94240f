/**
 * Robustness: random and mutated pipeline YAML through every feature at random offsets never throws
 * and returns well-formed spans; alias bombs and very large files stay bounded; cancellation stops
 * long requests. (No timed assertions: timings live in bench/.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import fc from 'fast-check';

import { createLanguageService } from '../../../core/language/languageService';
import type { Span } from '../../../core/language/yaml/yamlTree';
import { loadFixture, memoryWorkspace } from './languageHarness';

const seeds = [
  ['get-started', 'dvc.yaml'],
  ['templating', 'dvc.yaml'],
  ['runwise', 'runwise.yaml'],
  ['dvclive', 'dvc.yaml'],
  ['hf-cards', 'whisper/README.md'],
  ['modelcard', 'churn.modelcard.yaml'],
  ['templating', 'params.yaml'],
] as const;

const PIECES = [':', ' ', '\n', '  ', '- ', '${', '}', '{', '[', ']', ',', '&a ', '*a', '!!str ', '|', '>', '#', "'", '"', '\\', '@', 'item', 'stages', 'deps', 'foreach', 'matrix', '---', '\t', '\u00e9', '\ud83d\ude00'];

type Mutation =
  | { op: 'insert'; at: number; piece: string }
  | { op: 'delete'; at: number; len: number }
  | { op: 'dupLine'; at: number }
  | { op: 'indent'; at: number; by: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), piece: fc.constantFrom(...PIECES) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant('dupLine' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('indent' as const), at: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
);

function mutate(text: string, muts: Mutation[]): string {
  let t = text;
  for (const m of muts) {
    const at = t.length ? m.at % (t.length + 1) : 0;
    if (m.op === 'insert') t = t.slice(0, at) + m.piece + t.slice(at);
    else if (m.op === 'delete') t = t.slice(0, at) + t.slice(at + m.len);
    else {
      const start = t.lastIndexOf('\n', at - 1) + 1;
      const endNl = t.indexOf('\n', at);
      const end = endNl < 0 ? t.length : endNl + 1;
      const line = t.slice(start, end);
      if (m.op === 'dupLine') t = t.slice(0, end) + line + t.slice(end);
      else t = t.slice(0, start) + (m.by >= 0 ? ' '.repeat(m.by) + line : line.replace(new RegExp(`^ {0,${-m.by}}`), '')) + t.slice(end);
    }
  }
  return t;
}

function wellFormed(span: Span, length: number, what: string): void {
  assert.ok(Number.isInteger(span.start) && Number.isInteger(span.end), `${what}: integer offsets`);
  assert.ok(0 <= span.start && span.start <= span.end && span.end <= length, `${what}: 0 <= ${span.start} <= ${span.end} <= ${length}`);
}

function exercise(files: Map<string, string>, relPath: string, text: string, offsets: number[]): void {
  const map = new Map(files);
  map.set(relPath, text);
  const service = createLanguageService(memoryWorkspace(map));
  const doc = service.analyze(`file:///${relPath}`, relPath, text);
  if (!doc) return;
  const len = text.length;
  const index = service.pipelineIndex(doc);
  const diags = service.diagnostics(doc, undefined, index);
  for (const d of diags) wellFormed(d, len, `diagnostic ${d.code}`);
  for (const s of service.documentSymbols(doc)) wellFormed(s.span, len, 'symbol');
  for (const f of service.foldingRanges(doc)) assert.ok(0 <= f.startLine && f.startLine <= f.endLine && f.endLine <= text.split(/\r\n|\r|\n/).length, 'folding');
  for (const o of offsets) {
    const offset = len ? o % (len + 1) : 0;
    for (const e of service.completion(doc, offset, undefined, index)) wellFormed(e.replace, len, `completion ${e.label}`);
    const h = service.hover(doc, offset, index);
    if (h) wellFormed(h, len, 'hover');
    for (const t of [...service.definition(doc, offset, index), ...service.references(doc, offset, index)]) {
      const target = t.relPath === relPath ? len : (map.get(t.relPath)?.length ?? 0);
      wellFormed(t.span, target, `target ${t.relPath}`);
    }
    for (const a of service.codeActions(doc, { start: offset, end: offset }, diags, index)) {
      for (const e of a.edits) if (e.span && e.relPath === relPath) wellFormed(e.span, len, `edit ${a.title}`);
    }
  }
}

describe('robustness', { timeout: 120_000 }, () => {
  test('mutated real-world files: every feature, random offsets, never throws, spans well-formed', () => {
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), ([fixture, file], muts, offsets) => {
        const files = loadFixture(fixture);
        exercise(files, file, mutate(files.get(file)!, muts), offsets);
      }),
      { numRuns: 150, seed: 20240501 },
    );
  });

  test('random text from YAML-ish pieces', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PIECES, 'cmd', 'outs', 'a', 'b.c', '0'), { maxLength: 120 }), fc.array(fc.nat(), { maxLength: 5 }), (pieces, offsets) => {
        exercise(new Map(), 'dvc.yaml', pieces.join(''), [0, ...offsets]);
        exercise(new Map(), 'README.md', `---\n${pieces.join('')}\n---\n`, [0, ...offsets]);
      }),
      { numRuns: 150, seed: 7 },
    );
  });

  test('an alias bomb stays bounded', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const bomb = `vars:\n  - ${lines.join('\n    ')}\nstages:\n  s:\n    foreach: \${a11}\n    do:\n      cmd: echo \${item}\n`;
    exercise(new Map(), 'dvc.yaml', bomb, [10, bomb.length - 3]);
    const service = createLanguageService(memoryWorkspace({ 'dvc.yaml': bomb }));
    const doc = service.analyze('file:///dvc.yaml', 'dvc.yaml', bomb)!;
    const index = service.pipelineIndex(doc)!;
    assert.ok(index.instances.length <= 1000, 'foreach expansion is capped');
  });

  test('a line of 200,000 unclosed `${`: diagnostics are capped, hover returns', () => {
    // Quadratic scanning made this take minutes; each `${${}}` is also an interpolation error.
    const text = `stages:\n  s:\n    cmd: echo ${'${${}}'.repeat(200_000)}\n`;
    const service = createLanguageService(memoryWorkspace({ 'dvc.yaml': text }));
    const doc = service.analyze('file:///dvc.yaml', 'dvc.yaml', text)!;
    const index = service.pipelineIndex(doc)!;
    const diagnostics = service.diagnostics(doc, undefined, index);
    assert.equal(diagnostics.length, 1000);
    assert.equal(diagnostics.at(-1)!.code, 'too-many-diagnostics');
    assert.match(diagnostics.at(-1)!.message, /problems found; only the first 999 are shown/);
    service.hover(doc, text.length - 10, index);
  });

  test('a 50,000-line pipeline: every feature returns', () => {
    const stages: string[] = ['stages:'];
    for (let i = 0; stages.length < 50_000; i++) {
      stages.push(`  s${i}:`, `    cmd: python step.py ${i} \${lr}`, '    deps:', `      - data/${i}`, '    outs:', `      - data/${i + 1}`, `    desc: stage ${i}`);
    }
    const text = `vars:\n  - lr: 0.1\n${stages.join('\n')}\n`;
    const files = new Map([['dvc.yaml', text], ['data/0', '']]);
    const service = createLanguageService(memoryWorkspace(files));
    const doc = service.analyze('file:///dvc.yaml', 'dvc.yaml', text)!;
    const index = service.pipelineIndex(doc)!;
    assert.equal(index.stages.length, 7143);
    assert.deepEqual(service.diagnostics(doc, undefined, index), []);
    const deep = text.lastIndexOf('    deps:') + 4;
    assert.ok(service.completion(doc, deep, undefined, index).some((e) => e.label === 'plots'));
    assert.match(service.hover(doc, text.lastIndexOf('${lr}') + 2, index)!.contents, /0\.1/);
    assert.equal(service.references(doc, text.indexOf('  s0:') + 3, index).length, 1);
  });

  test('cancellation stops diagnostics early', () => {
    const files = loadFixture('get-started');
    const text = files.get('dvc.yaml')!.replace('prepare.seed', 'prepare.sed');
    const service = createLanguageService(memoryWorkspace(files));
    const doc = service.analyze('file:///dvc.yaml', 'dvc.yaml', text)!;
    assert.deepEqual(service.diagnostics(doc, () => true), []);
    assert.equal(service.diagnostics(doc, () => false).length, 1);
  });
});
