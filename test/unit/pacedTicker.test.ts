import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { PacedTicker } from '../../core/views/pacedTicker';

/**
 * A consumer like VS Code's CodeLens controller: each change event restarts a debounce of
 * `debounceMs`, after which it reads (and the ticker is told so).
 */
function debouncingReader(debounceMs: number, ticker: () => PacedTicker, live: () => boolean): { changed: () => void; reads: () => number } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let reads = 0;
  return {
    changed() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        reads++;
        ticker().read(live());
      }, debounceMs);
    },
    reads: () => reads,
  };
}

describe('PacedTicker', () => {
  it('ticks once per read while live, and not at all once the view is no longer live', (t) => {
    mock.timers.enable({ apis: ['setTimeout'] });
    t.after(() => mock.timers.reset());
    let fired = 0;
    const ticker = new PacedTicker(1000, () => fired++);
    ticker.read(true);
    ticker.read(true);
    assert.equal(ticker.armed, true);
    mock.timers.tick(999);
    assert.equal(fired, 0);
    mock.timers.tick(1);
    assert.equal(fired, 1, 'one tick for two reads before it');
    mock.timers.tick(5000);
    assert.equal(fired, 1, 'no read since the tick: no further tick');
    ticker.read(false);
    mock.timers.tick(5000);
    assert.equal(fired, 1, 'a read of nothing live arms nothing');
    assert.equal(ticker.armed, false);
  });

  it('a consumer whose debounce is longer than the period still reads once per tick', (t) => {
    mock.timers.enable({ apis: ['setTimeout'] });
    t.after(() => mock.timers.reset());
    const ticker = new PacedTicker(1000, () => reader.changed());
    // A debounce of 1.5 s, as VS Code computes when providing lenses took 1.5 s on average.
    const reader = debouncingReader(1500, () => ticker, () => true);
    reader.changed();
    for (let ms = 0; ms < 10_000; ms += 100) mock.timers.tick(100);
    // read at 1.5 s, tick at 2.5, read at 4, tick at 5, read at 6.5, tick at 7.5, read at 9.
    assert.equal(reader.reads(), 4);
    ticker.dispose();
  });

  it('after dispose nothing fires and nothing is armed', (t) => {
    mock.timers.enable({ apis: ['setTimeout'] });
    t.after(() => mock.timers.reset());
    let fired = 0;
    const ticker = new PacedTicker(1000, () => fired++);
    ticker.read(true);
    ticker.dispose();
    ticker.read(true);
    mock.timers.tick(5000);
    assert.equal(fired, 0);
    assert.equal(ticker.armed, false);
  });
});
