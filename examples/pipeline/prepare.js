#!/usr/bin/env node
// Stage `prepare`: writes the example's data, a seeded synthetic churn table (see dataset.js).
//
//   node prepare.js --rows 2000 --seed 42 --shift 0.5
//
// data/train.csv and data/test.csv: `rows` customers split 80/20; data/live.csv: `rows / 4` newer
// customers whose spend and usage moved by `shift` standard deviations. Paths are relative to this
// folder, where runwise.yaml declares them.
'use strict';
const path = require('node:path');
const { makeDataset, writeCsv } = require('./dataset');
const { numberArguments } = require('./commandLine');

const params = numberArguments(process.argv.slice(2), ['rows', 'seed', 'shift'], 'node prepare.js --rows N --seed N --shift X');
const { train, test, live } = makeDataset(params);
const data = path.join(__dirname, 'data');
writeCsv(path.join(data, 'train.csv'), train);
writeCsv(path.join(data, 'test.csv'), test);
writeCsv(path.join(data, 'live.csv'), live);
console.log(`prepare: ${train.length} training rows, ${test.length} test rows, ${live.length} live rows (shift ${params.shift}) in data/`);
