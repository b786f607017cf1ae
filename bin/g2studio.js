#!/usr/bin/env node
// The `g2studio` command: runs the built CLI bundle.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const cli = join(__dirname, '..', 'out', 'main', 'cli.js');
if (!existsSync(cli)) {
  process.stderr.write('G2 Studio is not built yet: run `npm run build` first.\n');
  process.exit(1);
}
require(cli);
