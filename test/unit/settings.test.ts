// The typed settings reader (client/settings.ts): its defaults are package.json's, key for key, so
// the Settings editor and the extension cannot disagree; a value of the wrong type reads as the default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { WorkspaceConfiguration } from 'vscode';
import { SETTINGS, SETTINGS_SECTION, readSetting, type ConfigurationSource } from '../../client/settings';

const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, { type: string; default: unknown }> } };
};

test('every setting in package.json is in the reader, with the same default and type, and no other', () => {
  const declared = manifest.contributes.configuration.properties;
  assert.deepEqual(Object.keys(SETTINGS).map((k) => `${SETTINGS_SECTION}.${k}`).sort(), Object.keys(declared).sort());
  for (const [key, value] of Object.entries(SETTINGS)) {
    const d = declared[`${SETTINGS_SECTION}.${key}`]!;
    assert.deepEqual(value, d.default, `default of ${key}`);
    const type = Array.isArray(value) ? 'array' : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
    assert.equal(type, d.type, `type of ${key}`);
  }
});

/** A stand-in for vscode.workspace holding these user values. */
function source(values: Record<string, unknown>): ConfigurationSource & { asked: [string | undefined, unknown][] } {
  const asked: [string | undefined, unknown][] = [];
  return {
    asked,
    getConfiguration(section, scope) {
      asked.push([section, scope]);
      return { get: (key: string) => values[key] } as unknown as WorkspaceConfiguration;
    },
  };
}

test('a set value is read in its section and scope; unset or mistyped values read as the default', () => {
  const s = source({ 'runs.maxPerExperiment': 50, 'runs.statusBar': 'no', 'runs.keyMetrics': ['loss', 3], 'trackingServer.port': 8080 });
  assert.equal(readSetting(s, 'runs.maxPerExperiment'), 50);
  assert.equal(readSetting(s, 'runs.statusBar'), true);
  assert.deepEqual(readSetting(s, 'runs.keyMetrics'), []);
  assert.equal(readSetting(s, 'runs.maxMetricsInDescription'), 3);
  const scope = { uri: 'file:///ws' };
  assert.equal(readSetting(s, 'trackingServer.port', scope as never), 8080);
  assert.deepEqual(s.asked.at(-1), ['runwise', scope]);
});
