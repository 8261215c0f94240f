// The one display formatter (core/views/displayFormat.ts) that the Runs view, the run details
// webview and the CLI share; the surfaces themselves are checked in runsTree, cli and webview tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { aliasesSuffix, formatBytes, formatDuration, formatMetricCompact, formatMetricValue, formatTimestamp } from '../../core/views/displayFormat';

test('metric values in full: every digit, read back as the same number', () => {
  assert.equal(formatMetricValue(0.912345678), '0.912345678');
  assert.equal(formatMetricValue(42), '42');
  assert.equal(formatMetricValue(-0.5), '-0.5');
  assert.equal(formatMetricValue(1.5e-7), '1.5e-7');
  assert.equal(formatMetricValue(2e21), '2e21');
  assert.equal(formatMetricValue(NaN), 'NaN');
  assert.equal(formatMetricValue(Infinity), 'Infinity');
  assert.equal(formatMetricValue(-Infinity), '-Infinity');
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
      assert.equal(Number(formatMetricValue(v)), v === 0 ? 0 : v);
    }),
  );
});

test('metric values compact: at most 4 significant digits, whole numbers below a million in full', () => {
  assert.equal(formatMetricCompact(0.912345), '0.9123');
  assert.equal(formatMetricCompact(0.9), '0.9');
  assert.equal(formatMetricCompact(42), '42');
  assert.equal(formatMetricCompact(12345), '12345');
  assert.equal(formatMetricCompact(999999.99), '1e6', 'rounds up to a million: the exponent form, as 1000000.5 gets');
  assert.equal(formatMetricCompact(1000000.5), '1e6');
  assert.equal(formatMetricCompact(-999999.99), '-1e6');
  assert.equal(formatMetricCompact(1234.5678), '1235');
  assert.equal(formatMetricCompact(0.0000123), '1.23e-5');
  assert.equal(formatMetricCompact(0.00012346), '1.235e-4');
  assert.equal(formatMetricCompact(1234567), '1.235e6');
  assert.equal(formatMetricCompact(-2e21), '-2e21');
  assert.equal(formatMetricCompact(0), '0');
  assert.equal(formatMetricCompact(NaN), 'NaN');
  assert.equal(formatMetricCompact(-Infinity), '-Infinity');
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
      const text = formatMetricCompact(v);
      const digits = text.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
      if (!(Number.isInteger(v) && Math.abs(v) < 1e6)) assert.ok(digits.length <= 4, `${v} → ${text}`);
      const back = Number(text); // (rounding up the largest doubles reads back as ±Infinity)
      assert.ok(back === v || !Number.isFinite(back) || Math.abs(back - v) <= Math.abs(v) * 5e-4, `${v} → ${text}`);
    }),
  );
});

test('timestamps in local time, YYYY-MM-DD HH:MM:SS', () => {
  const zone = process.env.TZ;
  try {
    process.env.TZ = 'Asia/Kolkata';
    assert.equal(formatTimestamp(Date.UTC(2025, 0, 2, 20, 4, 5)), '2025-01-03 01:34:05');
    process.env.TZ = 'America/New_York';
    assert.equal(formatTimestamp(Date.UTC(2025, 0, 2, 3, 4, 5)), '2025-01-01 22:04:05');
    assert.equal(formatTimestamp(Number.NaN), '-');
  } finally {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  }
});

test('durations from milliseconds to days, never "60.0 s" or "4 min 60 s"', () => {
  assert.equal(formatDuration(-5), '0 ms');
  assert.equal(formatDuration(850), '850 ms');
  assert.equal(formatDuration(12_000), '12.0 s');
  assert.equal(formatDuration(12_340), '12.3 s');
  assert.equal(formatDuration(59_970), '1 min 00 s');
  assert.equal(formatDuration(245_000), '4 min 05 s');
  assert.equal(formatDuration(299_600), '5 min 00 s');
  assert.equal(formatDuration(7_380_000), '2 h 03 min');
  assert.equal(formatDuration(3 * 86_400_000 + 4 * 3_600_000), '3 d 04 h');
});

test('sizes: bytes, then binary units with one decimal', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1.0 KiB');
  assert.equal(formatBytes(3000), '2.9 KiB');
  assert.equal(formatBytes(1_048_575), '1.0 MiB');
  assert.equal(formatBytes(1.5 * 1024 ** 3), '1.5 GiB');
});

test('a version\'s aliases after its name', () => {
  assert.equal(aliasesSuffix(['champion', 'candidate']), ' (@champion, @candidate)');
  assert.equal(aliasesSuffix([]), '');
});
