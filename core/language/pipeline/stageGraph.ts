/**
 * The dependency graph of a pipeline's (expanded) stages, from the workspace paths they read and
 * write. A stage depends on another when it reads one of its outputs, a file inside an output
 * directory, or a directory that contains an output. Knows nothing about YAML: the PipelineIndex
 * builds it from the stages' resolved paths.
 */
import { ancestorsOf } from '../files/workspacePaths';

export interface GraphStage {
  /** `train`, or a generated name such as `train@us`. */
  name: string;
  /** Workspace-relative paths the stage reads. */
  inputs: readonly string[];
  /** Workspace-relative paths the stage writes. */
  outputs: readonly string[];
}

export interface OutputOverlap {
  /** Index of the stage declaring `path` first. */
  first: number;
  firstPath: string;
  second: number;
  secondPath: string;
  /** Same path, or one output inside the other's directory. */
  kind: 'same' | 'nested';
}

export class StageGraph {
  private readonly exact = new Map<string, number[]>();
  private readonly under = new Map<string, number[]>();
  private readonly edgesOut: Set<number>[];
  private readonly edgesIn: Set<number>[];

  constructor(readonly stages: readonly GraphStage[]) {
    stages.forEach((s, i) => {
      for (const out of s.outputs) {
        push(this.exact, out, i);
        for (const dir of ancestorsOf(out)) push(this.under, dir, i);
      }
    });
    this.edgesOut = stages.map(() => new Set<number>());
    this.edgesIn = stages.map(() => new Set<number>());
    stages.forEach((s, i) => {
      for (const input of s.inputs) {
        for (const p of this.producersOf(input)) {
          this.edgesOut[p]!.add(i);
          this.edgesIn[i]!.add(p);
        }
      }
    });
  }

  /** Stages whose outputs `path` is, lies in, or contains. */
  producersOf(path: string): number[] {
    const exact = this.exact.get(path);
    const under = this.under.get(path);
    let found: number[] | undefined = exact ? [...exact] : undefined;
    for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
      const owners = this.exact.get(path.slice(0, i));
      if (owners) (found ??= []).push(...owners);
    }
    if (under) (found ??= []).push(...under);
    if (!found) return [];
    return found.length > 1 ? [...new Set(found)] : found;
  }

  /** Whether `path` is (inside) some stage's output, so it need not exist before the pipeline runs. */
  isProduced(path: string): boolean {
    if (this.exact.has(path) || this.under.has(path)) return true;
    for (const dir of ancestorsOf(path)) if (this.exact.has(dir)) return true;
    return false;
  }

  upstream(i: number): number[] {
    return [...(this.edgesIn[i] ?? [])];
  }

  downstream(i: number): number[] {
    return [...(this.edgesOut[i] ?? [])];
  }

  /** Outputs declared twice, or nested in another output, across different stages. */
  overlappingOutputs(): OutputOverlap[] {
    const out: OutputOverlap[] = [];
    const firstOwner = new Map<string, number>();
    this.stages.forEach((s, i) => {
      for (const p of s.outputs) {
        const prev = firstOwner.get(p);
        if (prev !== undefined && prev !== i) out.push({ first: prev, firstPath: p, second: i, secondPath: p, kind: 'same' });
        else if (prev === undefined) firstOwner.set(p, i);
      }
    });
    this.stages.forEach((s, i) => {
      for (const p of s.outputs) {
        for (const dir of ancestorsOf(p)) {
          const owner = firstOwner.get(dir);
          if (owner !== undefined && owner !== i) out.push({ first: owner, firstPath: dir, second: i, secondPath: p, kind: 'nested' });
        }
      }
    });
    return out;
  }

  /**
   * Cycles: strongly connected components with more than one stage, or a stage reading its own
   * output. Each is listed in dependency order as far as the component allows.
   */
  cycles(): number[][] {
    const n = this.stages.length;
    const index = new Int32Array(n).fill(-1);
    const low = new Int32Array(n);
    const onStack = new Uint8Array(n);
    const stack: number[] = [];
    const result: number[][] = [];
    let counter = 0;
    for (let root = 0; root < n; root++) {
      if (index[root] !== -1) continue;
      // Iterative Tarjan: frames of (node, its successors, next successor position).
      const frames: { v: number; succ: number[]; pos: number }[] = [];
      const open = (v: number) => {
        index[v] = low[v] = counter++;
        stack.push(v);
        onStack[v] = 1;
        frames.push({ v, succ: [...this.edgesOut[v]!], pos: 0 });
      };
      open(root);
      while (frames.length) {
        const f = frames[frames.length - 1]!;
        if (f.pos < f.succ.length) {
          const w = f.succ[f.pos++]!;
          if (index[w] === -1) open(w);
          else if (onStack[w]) low[f.v] = Math.min(low[f.v]!, index[w]!);
          continue;
        }
        frames.pop();
        const parent = frames[frames.length - 1];
        if (parent) low[parent.v] = Math.min(low[parent.v]!, low[f.v]!);
        if (low[f.v] === index[f.v]) {
          const comp: number[] = [];
          let w: number;
          do {
            w = stack.pop()!;
            onStack[w] = 0;
            comp.push(w);
          } while (w !== f.v);
          if (comp.length > 1 || this.edgesOut[f.v]!.has(f.v)) result.push(comp.sort((a, b) => a - b));
        }
      }
    }
    return result;
  }
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (!list) map.set(key, [value]);
  else if (list[list.length - 1] !== value) list.push(value);
}
