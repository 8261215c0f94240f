/**
 * server/lspConvert.ts turns the analysis's UTF-16 offsets into LSP positions and back: checked on
 * CRLF, CR and mixed line endings and on characters outside the Basic Multilingual Plane (two
 * UTF-16 code units each), against vscode-languageserver-textdocument, the reference the editor's
 * own documents follow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { lineIndex } from '../../core/language/text/lineIndex';
import { toOffset, toPosition, toRange, toSpan } from '../../server/lspConvert';

test('CRLF: positions count lines by CRLF, a column past the end stops before the line break', () => {
  const text = 'a: 1\r\nbb: 2\r\n';
  const index = lineIndex(text);
  assert.deepEqual(toPosition(index, text.indexOf('bb')), { line: 1, character: 0 });
  assert.equal(toOffset(index, { line: 1, character: 0 }), 6);
  assert.equal(toOffset(index, { line: 0, character: 99 }), 4, 'end of line 0, before \\r\\n');
  assert.equal(toOffset(index, { line: 5, character: 0 }), text.length);
  assert.deepEqual(toRange(index, { start: 3, end: 8 }), { start: { line: 0, character: 3 }, end: { line: 1, character: 2 } });
});

test('CR-only and mixed endings, and CR-CR-LF as two breaks, as LSP counts them', () => {
  const text = 'a\rb\r\r\nc\nd';
  const index = lineIndex(text);
  const doc = TextDocument.create('file:///t.yaml', 'yaml', 1, text);
  for (let o = 0; o <= text.length; o++) assert.deepEqual(toPosition(index, o), doc.positionAt(o), `offset ${o}`);
  assert.deepEqual(toPosition(index, text.indexOf('c')), { line: 3, character: 0 });
});

test('characters outside the BMP are two code units: columns are UTF-16, as LSP positions are', () => {
  const text = 'name: "😀x"\nlicense: 𝔪it\n';
  const index = lineIndex(text);
  assert.deepEqual(toPosition(index, text.indexOf('x')), { line: 0, character: 9 });
  assert.equal(toOffset(index, { line: 1, character: 11 }), text.indexOf('it'), "'𝔪' counts 2: 'i' is at column 11");
  assert.deepEqual(toSpan(index, toRange(index, { start: 7, end: 10 })), { start: 7, end: 10 });
});

test('every offset and position agrees with vscode-languageserver-textdocument on random texts', () => {
  const piece = fc.constantFrom('a', 'é', '😀', '\n', '\r\n', '\r', ' ', ':', '𝔪');
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 40 }), fc.nat(60), fc.nat(12), (pieces, line, character) => {
      const text = pieces.join('');
      const index = lineIndex(text);
      const doc = TextDocument.create('file:///t.yaml', 'yaml', 1, text);
      for (let o = 0; o <= text.length; o++) assert.deepEqual(toPosition(index, o), doc.positionAt(o), `positionAt(${o}) of ${JSON.stringify(text)}`);
      const position = { line: line % (doc.lineCount + 1), character };
      assert.equal(toOffset(index, position), doc.offsetAt(position), `offsetAt(${JSON.stringify(position)}) of ${JSON.stringify(text)}`);
    }),
  );
});
