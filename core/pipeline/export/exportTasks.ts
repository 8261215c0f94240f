/**
 * The stage graph as an orchestrator sees it: one task per expanded stage, named with a DNS-1123
 * label (what Kubernetes, Argo and Kubeflow accept as a name; Airflow accepts it as a task_id),
 * with the tasks it waits for. Stages come in the runner's order (upstream first, ties in file
 * then declaration order), so every export lists them the same way each time.
 *
 * Naming is stable: a stage id that is already a label keeps it; any other id is lower-cased,
 * every run of other characters becomes one `-`, and the result is cut to fit. Where that makes
 * two stages share a name (`train@US` and `train@us`), or a cut name could meet another, each
 * stage whose id was changed gets `-` and the first hex digits of its id's SHA-256: the same id
 * gets the same name in every export, whatever else the pipeline holds.
 */
import { createHash } from 'node:crypto';
import type { PipelineGraph } from '../pipelineModel';

export interface ExportTask {
  /** The stage id, as `runwise run` takes it. */
  stageId: string;
  /** DNS-1123 label, unique among the tasks. */
  name: string;
  /** Names of the tasks this one waits for (the graph's edges), in task order. */
  after: string[];
}

/** At most 63 characters: lower-case letters, digits and `-`, starting and ending with a letter or digit. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const MAX_LABEL = 63;
const HASH_DIGITS = 8;

export function isDnsLabel(s: string): boolean {
  return DNS_LABEL.test(s);
}

/** `id` made into a DNS-1123 label, before collisions are settled ('' when nothing usable is left). */
export function sanitizedLabel(id: string, maxLength = MAX_LABEL): string {
  const lowered = id
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return lowered.slice(0, maxLength).replace(/-+$/, '');
}

function hashSuffix(id: string, digits: number): string {
  return createHash('sha256').update(id, 'utf8').digest('hex').slice(0, digits);
}

/**
 * Labels for the ids: unique, each a DNS-1123 label. Ids that are labels already keep them; the
 * others are sanitized, and carry a hash of the id when another stage claims the same label.
 */
export function taskNames(ids: readonly string[]): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  // Ids that are labels already keep them: nothing another stage does renames them.
  for (const id of ids) {
    if (isDnsLabel(id)) {
      names.set(id, id);
      taken.add(id);
    }
  }
  const others = ids.filter((id) => !names.has(id));
  const byLabel = new Map<string, string[]>();
  for (const id of others) {
    const label = sanitizedLabel(id);
    const list = byLabel.get(label);
    if (list) list.push(id);
    else byLabel.set(label, [id]);
  }
  for (const id of others) {
    const label = sanitizedLabel(id);
    const shared = label === '' || taken.has(label) || byLabel.get(label)!.length > 1;
    if (!shared) {
      names.set(id, label);
      continue;
    }
    // A hash long enough to part it from every name given so far (8 hex digits nearly always are).
    for (let digits = HASH_DIGITS; ; digits += 4) {
      const suffix = hashSuffix(id, digits);
      const base = sanitizedLabel(id, MAX_LABEL - suffix.length - 1);
      const name = base ? `${base}-${suffix}` : `s-${suffix}`;
      if (!taken.has(name) && ![...names.values()].includes(name)) {
        names.set(id, name);
        break;
      }
      if (digits >= 56) throw new Error(`No unique task name for stage '${id}'`);
    }
  }
  return names;
}

/** The graph's stages as tasks, in the runner's order, each with the tasks it waits for. */
export function exportTasks(graph: PipelineGraph): ExportTask[] {
  const names = taskNames(graph.stages.map((s) => s.id));
  const position = new Map(graph.stages.map((s, i) => [s.id, i]));
  return graph.stages.map((s) => ({
    stageId: s.id,
    name: names.get(s.id)!,
    after: graph
      .upstream(s.id)
      .filter((u) => u !== s.id)
      .sort((a, b) => position.get(a)! - position.get(b)!)
      .map((u) => names.get(u)!),
  }));
}
