// The example's data: a seeded, synthetic customer-churn table, and reading and writing it as CSV.
//
// Each row is one customer: four numeric features and a binary label, `churned`. The label is drawn
// from a logistic model of the features (short tenure, high spend, many support calls and little
// usage make churn likelier), so a logistic regression reaches about 0.85 accuracy and no model can
// do much better. The live table is the same population with its spend and usage moved by `shift`
// standard deviations: what the drift step compares with the training data.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const FEATURES = ['tenure_months', 'monthly_spend', 'support_calls', 'usage_hours'];
const TARGET = 'churned';

/** A deterministic generator of floats in [0, 1) (mulberry32). */
function seededRandom(seed) {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box–Muller). */
function normal(rand) {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** A Poisson draw (Knuth's method; fine for small means). */
function poisson(rand, mean) {
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = rand(); p > limit; p *= rand()) k++;
  return k;
}

const round = (x, digits) => Number(x.toFixed(digits));

/** One customer; `shift` moves spend up and usage down by that many standard deviations. */
function customer(rand, shift) {
  const tenure = Math.min(72, Math.max(1, Math.round(-24 * Math.log(1 - rand()))));
  const spend = Math.max(5, 65 + 20 * normal(rand) + 20 * shift);
  const calls = poisson(rand, 1.5);
  const usage = Math.max(0, 30 + 10 * normal(rand) - 10 * shift);
  const logit = -0.09 * (tenure - 24) + 0.08 * (spend - 65) + 1.3 * (calls - 1.5) - 0.18 * (usage - 30) - 0.6;
  const churned = rand() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
  return [tenure, round(spend, 2), calls, round(usage, 1), churned];
}

/**
 * The example's three tables from the `prepare` params: `rows` customers split 80/20 into train and
 * test, and `rows / 4` live customers drawn with `shift`. Rows are `[...features, label]`.
 */
function makeDataset({ rows, seed, shift }) {
  if (!Number.isInteger(rows) || rows < 10) throw new Error(`rows must be an integer of at least 10, got ${rows}`);
  if (!Number.isFinite(shift)) throw new Error(`shift must be a number, got ${shift}`);
  const rand = seededRandom(seed);
  const all = Array.from({ length: rows }, () => customer(rand, 0));
  const cut = Math.round(rows * 0.8);
  const live = Array.from({ length: Math.max(1, Math.round(rows / 4)) }, () => customer(rand, shift));
  return { train: all.slice(0, cut), test: all.slice(cut), live };
}

/** Writes rows under the example's header, creating the folder. */
function writeCsv(file, rows) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const lines = [[...FEATURES, TARGET].join(','), ...rows.map((r) => r.join(','))];
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

/**
 * Reads a table with the example's columns (in any order) as `{ x: number[][], y: number[] }`;
 * a missing column or a value that is not a number is an error naming the file and line.
 */
function readCsv(file) {
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error(`${file}: empty, expected a header line`);
  const header = lines[0].split(',').map((h) => h.trim());
  const columns = [...FEATURES, TARGET].map((name) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${file}:1: no column '${name}' (the header has ${header.join(', ')})`);
    return i;
  });
  const x = [];
  const y = [];
  for (let n = 1; n < lines.length; n++) {
    const cells = lines[n].split(',');
    const values = columns.map((i) => Number(cells[i]));
    const bad = values.findIndex((v, k) => cells[columns[k]] === undefined || cells[columns[k]].trim() === '' || !Number.isFinite(v));
    if (bad >= 0) throw new Error(`${file}:${n + 1}: '${[...FEATURES, TARGET][bad]}' is not a number: '${cells[columns[bad]] ?? ''}'`);
    const label = values.pop();
    if (label !== 0 && label !== 1) throw new Error(`${file}:${n + 1}: '${TARGET}' must be 0 or 1, got ${label}`);
    x.push(values);
    y.push(label);
  }
  return { x, y };
}

module.exports = { FEATURES, TARGET, seededRandom, makeDataset, writeCsv, readCsv };
