// The lint rule that keeps each folder's imports in the dependency direction: fed imports that
// break it (and ones that keep it), through ESLint itself with the project's configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { ESLint } from 'eslint';

const root = path.resolve(__dirname, '..', '..');
const eslint = new ESLint({ cwd: root });

async function violations(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: path.join(root, file) });
  return result!.messages.filter((m) => m.ruleId === 'runwise/import-direction').map((m) => m.message);
}

test('core/tracker imports only the tracker and workspace paths', async () => {
  assert.deepEqual(await violations('core/tracker/probe.ts', "import { a } from './model';\nimport { b } from '../workspace/workspacePath';\nexport const c = [a, b];\n"), []);
  const found = await violations('core/tracker/probe.ts', "import { a } from '../endpoint/httpErrors';\nexport const c = a;\n");
  assert.equal(found.length, 1);
  assert.match(found[0]!, /may not import core\/endpoint\/httpErrors/);
});

test('core/ imports no editor API, whatever its subfolder', async () => {
  for (const file of ['core/views/probe.ts', 'core/cli/probe.ts', 'core/language/probe.ts']) {
    for (const pkg of ['vscode', 'vscode-languageserver/node', 'vscode-languageclient/node']) {
      assert.equal((await violations(file, `import * as x from '${pkg}';\nexport const y = x;\n`)).length, 1, `${file} ← ${pkg}`);
    }
  }
});

test('webview code imports no Node, no vscode, no host code; message modules and pure view code are fine', async () => {
  assert.equal((await violations('webview/runDetails/probe.ts', "import * as fs from 'node:fs';\nexport const y = fs;\n")).length, 1);
  assert.equal((await violations('webview/runDetails/probe.ts', "import * as fs from 'fs';\nexport const y = fs;\n")).length, 1);
  assert.equal((await violations('webview/runDetails/probe.ts', "import { x } from '../../client/runsView';\nexport const y = x;\n")).length, 1);
  assert.equal((await violations('webview/runDetails/probe.ts', "import { x } from '../../core/tracker/tracker';\nexport const y = x;\n")).length, 1);
  assert.deepEqual(await violations('webview/runDetails/probe.ts', "import { x } from '../shared/webviewHtml';\nimport { RUN_STATUSES } from '../../core/tracker/model';\nexport const y = [x, RUN_STATUSES];\n"), []);
});

test('the language server does not reach into the extension host or the tracker; the host does not reach into the server', async () => {
  assert.equal((await violations('server/probe.ts', "import { x } from '../client/extension';\nexport const y = x;\n")).length, 1);
  assert.equal((await violations('server/probe.ts', "import { x } from '../core/tracker/tracker';\nexport const y = x;\n")).length, 1);
  assert.equal((await violations('server/probe.ts', "import * as v from 'vscode';\nexport const y = v;\n")).length, 1);
  assert.equal((await violations('client/probe.ts', "import { x } from '../server/server';\nexport const y = x;\n")).length, 1);
  assert.deepEqual(await violations('client/probe.ts', "import { x } from '../core/tracker/tracker';\nimport * as v from 'vscode';\nexport const y = [x, v];\n"), []);
});

test('nothing in core/ below the CLI imports the CLI', async () => {
  assert.equal((await violations('core/endpoint/probe.ts', "import { x } from '../cli/main';\nexport const y = x;\n")).length, 1);
  assert.equal((await violations('core/views/probe.ts', "import { x } from '../cli/table';\nexport const y = x;\n")).length, 1);
});
