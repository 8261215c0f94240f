/**
 * Reading a JSON plots file that Python's json.dump wrote with NaN in it (100,000 rows, about
 * 5.5 MB): standard JSON.parse refuses it, so core/pipeline/metricsFiles.ts reads it with its own
 * parser. Beside it, in the same run, median of 5: JSON.parse on the same rows with the NaNs as
 * strings (what the fallback costs over the common path), and Python's json.loads on the NaN file
 * (what DVC reads it with), when python3 is on PATH.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parsePythonJson } from '../../core/pipeline/metricsFiles';
import { fmt, median, samples } from '../stats';

const ROUNDS = 5;
const rows = Array.from({ length: 100_000 }, (_, i) => ({ step: i, loss: 1 / (i + 1), acc: i % 1000 === 0 ? 'NaN' : 0.5 + i / 1e6 }));
const standard = JSON.stringify(rows);
const python = standard.replace(/"NaN"/g, 'NaN');
const dir = mkdtempSync(path.join(tmpdir(), 'runwise-bench-metrics-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'plots.json');
writeFileSync(file, python);

const check = parsePythonJson(python);
if (!check.ok || (check.value as unknown[]).length !== rows.length) throw new Error('the NaN file did not parse');
const ours = median(samples(ROUNDS, () => parsePythonJson(python)));
const anchor = median(samples(ROUNDS, () => JSON.parse(standard)));
const py = spawnSync(
  'python3',
  ['-c', `import json,time,statistics\nt=[]\nfor _ in range(${ROUNDS}):\n  s=time.perf_counter(); json.load(open(${JSON.stringify(file)})); t.append((time.perf_counter()-s)*1000)\nprint(statistics.median(t))`],
  { encoding: 'utf8' },
);
const pyMs = py.status === 0 ? Number(py.stdout.trim()) : undefined;

console.log(`JSON plots file with NaN, ${fmt(python.length / 1e6)} MB, ${rows.length} rows, median of ${ROUNDS}`);
console.log(`  parsePythonJson (the NaN file):            ${fmt(ours)} ms`);
console.log(`  JSON.parse (same rows, NaN as strings):    ${fmt(anchor)} ms  (${fmt(ours / anchor)}×)`);
console.log(`  python3 json.load (the NaN file):          ${pyMs === undefined ? 'python3 not available' : `${fmt(pyMs)} ms  (${fmt(ours / pyMs)}×)`}`);
