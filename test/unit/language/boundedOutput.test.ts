/**
 * Diagnostics whose number grows with the input keep each message bounded, so the total output
 * grows linearly: a dependency cycle through thousands of stages, long lists of names, huge values.
 * Sizes are asserted in bytes (timings live in bench/).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { boundedList, clip } from '../../../core/language/pipeline/interpolation';
import { MAX_DIAGNOSTICS_PER_DOCUMENT } from '../../../core/language/features/diagnostics';
import { cyclePath, pipelineDiagnostics } from '../../../core/language/pipeline/pipelineDiagnostics';
import { buildPipelineIndex } from '../../../core/language/pipeline/pipelineIndex';
import { diagnosticsOf, open } from './languageHarness';

/** `n` stages in one cycle: stage i reads the output of stage i-1, stage 0 reads the last one's. */
function cyclePipeline(n: number): string {
  let text = 'stages:\n';
  for (let i = 0; i < n; i++) {
    text += `  s${i}:\n    cmd: run ${i}\n    deps:\n      - out/${(i + n - 1) % n}.txt\n    outs:\n      - out/${i}.txt\n`;
  }
  return text;
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('bounded diagnostic output', () => {
  test('a cycle of 5,000 stages: reported at each stage, every message bounded, total linear', () => {
    const n = 5000;
    const text = cyclePipeline(n);
    const session = open({}, 'dvc.yaml', text);
    // The pipeline checks report the cycle once per stage, on the dependency that closes it there.
    const index = buildPipelineIndex(session.doc, session.workspace)!;
    const cycles = pipelineDiagnostics(index, session.workspace, () => false);
    assert.deepEqual(new Set(cycles.map((d) => d.code)), new Set(['stage-cycle']));
    assert.equal(cycles.length, n);
    const covered = new Set(cycles.map((d) => text.slice(d.start, d.end)));
    for (let i = 0; i < n; i++) assert.ok(covered.has(`out/${i}.txt`), `cycle reported at the dependency out/${i}.txt`);
    const longest = Math.max(...cycles.map((d) => bytes(d.message)));
    assert.ok(longest < 300, `longest message ${longest} bytes`);
    const total = cycles.reduce((sum, d) => sum + bytes(d.message), 0);
    assert.ok(total < 1_500_000, `total message size ${total} bytes`);
    // What a client receives: the document's first diagnostics, bounded in number and size.
    const sent = diagnosticsOf(session);
    assert.equal(sent.length, MAX_DIAGNOSTICS_PER_DOCUMENT);
    const sentBytes = bytes(JSON.stringify(sent));
    assert.ok(sentBytes < 400_000, `diagnostics sent: ${sentBytes} bytes`);
    assert.match(cycles[0]!.message, /^Dependency cycle: 'out\/4999\.txt' is written by 's4999', which depends on this stage \(s0 → s1 → s2 → … \(4,995 more\) … → s4998 → s4999 → s0\)\.$/);
  });

  test('a short cycle is spelled out in full', () => {
    assert.equal(cyclePath(['a', 'b', 'c']), 'a → b → c → a');
    assert.equal(cyclePath(['a', 'b', 'c', 'd', 'e', 'f']), 'a → b → c → d → e → f → a');
    assert.equal(cyclePath(['a', 'b', 'c', 'd', 'e', 'f', 'g']), 'a → b → c → … (2 more) … → f → g → a');
  });

  test('names and values quoted in messages are clipped', () => {
    const long = 'x'.repeat(10_000);
    assert.equal(clip(long).length, 80);
    // A plain YAML key is at most 1,024 characters long.
    const name = 'n'.repeat(1000);
    assert.equal(boundedList(['a', 'b']), 'a, b');
    assert.equal(boundedList(Array.from({ length: 1000 }, (_, i) => `d${i}`)), 'd0, d1, d2, d3, d4, d5, d6, d7, … (992 more)');
    const text = `stages:\n  ${name}:\n    cmd: run\n    deps:\n      - ${long}/b.txt\n    outs:\n      - ${long}/a.txt\n  t:\n    cmd: run\n    deps:\n      - ${long}/a.txt\n    outs:\n      - ${long}/b.txt\n`;
    const diags = diagnosticsOf(open({}, 'dvc.yaml', text));
    assert.deepEqual(
      diags.map((d) => d.code),
      ['stage-cycle', 'stage-cycle'],
    );
    for (const d of diags) assert.ok(bytes(d.message) < 400, `${d.code}: ${bytes(d.message)} bytes`);
  });

  test('a matrix with many dimensions: an unknown dimension lists a bounded number of them', () => {
    const dims = Array.from({ length: 500 }, (_, i) => `      d${i}: [v]\n`).join('');
    const text = `stages:\n  sweep:\n    matrix:\n${dims}    cmd: run \${item.nope}\n`;
    const diags = diagnosticsOf(open({}, 'dvc.yaml', text));
    assert.deepEqual(
      diags.map((d) => [d.code, d.message]),
      [['unresolved-variable', `'nope' is not a matrix dimension (d0, d1, d2, d3, d4, d5, d6, d7, … (492 more)) (in ${clip(`sweep@${Array(500).fill('v').join('-')}`)}).`]],
    );
  });
});
