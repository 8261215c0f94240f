/**
 * Runwise's settings, read through one typed reader: each setting's key, type and default are
 * written here once (package.json's `contributes.configuration` declares the same defaults for the
 * Settings editor; test/unit/settings.test.ts keeps the two equal). Client code reads a setting
 * with `readSetting(vscode.workspace, 'runs.statusBar')`, never with a default of its own.
 *
 * The module imports `vscode` for types only, so the table can be tested without an editor.
 */
import type { ConfigurationChangeEvent, ConfigurationScope, WorkspaceConfiguration } from 'vscode';
import { RUNS_VIEW_DEFAULTS } from '../core/views/runsTreeModel';

/** The section every Runwise setting lives in. */
export const SETTINGS_SECTION = 'runwise';

/** Every setting (without the `runwise.` prefix) with its default; the default's type is the setting's type. */
export const SETTINGS = {
  'trackingServer.autoStart': true as boolean,
  'trackingServer.port': 0 as number,
  'runs.keyMetrics': RUNS_VIEW_DEFAULTS.keyMetrics,
  'runs.maxMetricsInDescription': RUNS_VIEW_DEFAULTS.maxMetrics as number,
  'runs.maxPerExperiment': RUNS_VIEW_DEFAULTS.maxRunsPerExperiment as number,
  'runs.statusBar': true as boolean,
  'languageServer.enabled': true as boolean,
  /** *Runwise: Pull Runs* also downloads the runs' artifacts (as `runwise pull --artifacts`). */
  'sync.pullArtifacts': false as boolean,
  /** The Python a stage's leading `python` runs when the Python extension selects none ('' = python3 on PATH). */
  pythonPath: '' as string,
  /** Read by vscode-languageclient itself (`<id>.trace.server`); listed so its default is kept here too. */
  'trace.server': 'off' as 'off' | 'messages' | 'verbose',
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type SettingValue<K extends SettingKey> = (typeof SETTINGS)[K];

/** Where settings come from: `vscode.workspace`, or a stand-in in tests. */
export interface ConfigurationSource {
  getConfiguration(section?: string, scope?: ConfigurationScope | null): WorkspaceConfiguration;
}

/**
 * A setting's value for `scope` (a resource, for resource-scoped settings), or its default when it
 * is unset or of the wrong type (a hand-edited settings.json can hold anything).
 */
export function readSetting<K extends SettingKey>(source: ConfigurationSource, key: K, scope?: ConfigurationScope): SettingValue<K> {
  const fallback = SETTINGS[key];
  const value: unknown = source.getConfiguration(SETTINGS_SECTION, scope).get(key);
  return sameType(value, fallback) ? (value as SettingValue<K>) : fallback;
}

/** Did this change touch the setting (or, given a prefix like 'runs', any setting under it)? */
export function affectsSetting(e: ConfigurationChangeEvent, key: SettingKey | 'runs' | 'trackingServer'): boolean {
  return e.affectsConfiguration(`${SETTINGS_SECTION}.${key}`);
}

function sameType(value: unknown, like: unknown): boolean {
  if (Array.isArray(like)) return Array.isArray(value) && value.every((v) => typeof v === 'string');
  if (typeof like === 'number') return typeof value === 'number' && Number.isFinite(value);
  return typeof value === typeof like;
}
