/**
 * Runs side by side: every param and latest metric of the runs, one row per key, the rows whose
 * values differ between runs first (then alphabetical). The same comparison feeds the CLI and the
 * comparison view.
 */
import type { Run } from './model';

export interface ComparedValue {
  key: string;
  /** One value per run, in the order the runs were given; null where a run lacks the key. */
  values: (string | number | null)[];
  differs: boolean;
}

export interface RunComparison {
  runs: { runId: string; runName: string; status: string }[];
  params: ComparedValue[];
  metrics: ComparedValue[];
}

function sameValue(a: string | number | null, b: string | number | null): boolean {
  return a === b || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));
}

function compareRows(keysPerRun: Map<string, string | number>[]): ComparedValue[] {
  const keys = new Set(keysPerRun.flatMap((m) => [...m.keys()]));
  const rows = [...keys].map((key) => {
    const values = keysPerRun.map((m) => (m.has(key) ? m.get(key)! : null));
    return { key, values, differs: values.some((v) => !sameValue(v, values[0]!)) };
  });
  return rows.sort((a, b) => (a.differs === b.differs ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.differs ? -1 : 1));
}

export function compareRuns(runs: readonly Run[]): RunComparison {
  return {
    runs: runs.map((r) => ({ runId: r.info.runId, runName: r.info.runName, status: r.info.status })),
    params: compareRows(runs.map((r) => new Map(r.params.map((p) => [p.key, p.value])))),
    metrics: compareRows(runs.map((r) => new Map(r.metrics.map((m) => [m.key, m.value])))),
  };
}
