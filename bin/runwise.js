#!/usr/bin/env node
// The `runwise` command: a thin launcher for the bundled CLI (built by `npm ci` through `prepare`).
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('runwise: dist/cli.js is missing; run `npm run build` first\n');
  process.exit(2);
}
require(cli).runCli();
