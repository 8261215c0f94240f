// Lint rules that keep the architecture legible: each top-level folder (and each part of core/)
// imports only what sits below it in the dependency direction of DESIGN.md —
// client → core, server → core/language, core/cli → core, webview → message types and pure view
// code — and nothing in core/ or webview/ imports an editor API or Node where it must not.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * Where a file in a folder may import from (project folders, by prefix). The first matching `from`
 * wins, so the more specific folders come first. Folders not listed (test/, bench/, scripts/) are
 * free.
 */
const LAYERS = [
  { from: 'core/workspace', may: ['core/workspace'] },
  // Starting core's worker threads (their scripts in dist/ or bundled from source): below all that use them.
  { from: 'core/threads', may: ['core/threads'] },
  // The registry reads which external data files an .onnx names (onnxGraph imports nothing).
  { from: 'core/tracker', may: ['core/tracker', 'core/workspace', 'core/evaluation/onnxGraph'] },
  { from: 'core/mlflow', may: ['core/mlflow', 'core/tracker/model', 'core/tracker/limits'] },
  { from: 'core/endpoint', may: ['core/endpoint', 'core/mlflow', 'core/tracker', 'core/workspace'] },
  { from: 'core/trackingClient', may: ['core/trackingClient', 'core/mlflow', 'core/tracker/limits', 'core/tracker/model'] },
  // The registry's name rules (pure text) for the register step's diagnostics.
  { from: 'core/language', may: ['core/language', 'core/workspace', 'core/tracker/registryNames'] },
  { from: 'core/views', may: ['core/views', 'core/tracker', 'core/workspace', 'core/pipeline/pipelineModel', 'core/pipeline/stageStateModel', 'core/pipeline/stageTracking', 'core/pipeline/stageGroupRecords', 'core/sync/syncTags'] },
  { from: 'core/dataset', may: ['core/dataset', 'core/threads'] },
  { from: 'core/drift', may: ['core/drift', 'core/dataset', 'core/threads', 'core/tracker', 'core/workspace'] },
  { from: 'core/evaluation', may: ['core/evaluation', 'core/dataset', 'core/tracker', 'core/workspace'] },
  { from: 'core/modelCard', may: ['core/modelCard', 'core/language/modelCard/frontMatter', 'core/language/modelCard/cardNames', 'core/tracker', 'core/workspace'] },
  { from: 'core/pipeline', may: ['core/pipeline', 'core/language', 'core/modelCard', 'core/evaluation', 'core/drift', 'core/tracker', 'core/endpoint', 'core/trackingClient', 'core/mlflow', 'core/workspace'] },
  { from: 'core/sync', may: ['core/sync', 'core/mlflow', 'core/endpoint/mlflowProtocol', 'core/endpoint/httpErrors', 'core/trackingClient/runRequests', 'core/pipeline/lockFile', 'core/tracker', 'core/workspace'] },
  { from: 'core/cli', may: ['core'] },
  { from: 'server', may: ['server', 'core/language', 'core/workspace'] },
  { from: 'client', may: ['client', 'core', 'webview/shared', 'webview/*/messages'] },
  // Browser code: its own folder, and core modules that are pure data and formatting.
  { from: 'webview', may: ['webview', 'core/tracker/model', 'core/views/displayFormat', 'core/views/loggedModelSummary', 'core/views/lineageGraphModel', 'core/views/runTableModel', 'core/views/seriesColumns', 'core/drift/driftReport'] },
];

const EDITOR_APIS = /^(vscode|vscode-languageserver.*|vscode-languageclient.*|vscode-jsonrpc.*)$/;
const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** Packages a folder may not import at all, with the reason given in the message. */
const FORBIDDEN_PACKAGES = [
  { from: 'core', test: (s) => EDITOR_APIS.test(s), why: 'core/ imports no editor API' },
  { from: 'webview', test: (s) => EDITOR_APIS.test(s) || NODE_BUILTINS.has(s), why: 'webview code runs in a browser: no Node, no editor API' },
  { from: 'server', test: (s) => /^(vscode|vscode-languageclient.*)$/.test(s), why: 'the language server runs outside the extension host' },
];

const inFolder = (rel, folder) => {
  if (folder.includes('*')) {
    const re = new RegExp(`^${folder.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+')}(/|\\.ts$|$)`);
    return re.test(rel);
  }
  return rel === folder || rel.startsWith(`${folder}/`) || rel === `${folder}.ts`;
};

const importDirection = {
  meta: { type: 'problem', schema: [], messages: { layer: '{{from}} may not import {{target}}: {{why}}' } },
  create(context) {
    const file = path.relative(root, context.filename).split(path.sep).join('/');
    const layer = LAYERS.find((l) => inFolder(file, l.from));
    const forbidden = FORBIDDEN_PACKAGES.filter((f) => inFolder(file, f.from));
    const check = (node, spec) => {
      if (typeof spec !== 'string') return;
      if (!spec.startsWith('.')) {
        const hit = forbidden.find((f) => f.test(spec));
        if (hit) context.report({ node, messageId: 'layer', data: { from: file, target: spec, why: hit.why } });
        return;
      }
      if (!layer) return;
      const target = path.relative(root, path.resolve(path.dirname(context.filename), spec)).split(path.sep).join('/');
      if (!layer.may.some((m) => inFolder(target, m))) {
        context.report({ node, messageId: 'layer', data: { from: file, target, why: `${layer.from}/ may import only ${layer.may.join(', ')}` } });
      }
    };
    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
      CallExpression: (n) => {
        if (n.callee.type === 'Identifier' && n.callee.name === 'require' && n.arguments[0]?.type === 'Literal') check(n, n.arguments[0].value);
      },
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.runwise/**', 'test-results/**', '.cache/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'off',
    },
  },
  {
    files: ['core/**/*.ts', 'client/**/*.ts', 'server/**/*.ts', 'webview/**/*.ts'],
    plugins: { runwise: { rules: { 'import-direction': importDirection } } },
    rules: { 'runwise/import-direction': 'error' },
  },
);
