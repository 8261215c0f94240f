/** "Did you mean": the closest candidate by edit distance (optimal string alignment), if close enough. */

export function editDistance(a: string, b: string, max = Infinity): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const n = b.length;
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = cur[0];
    for (let j = 1; j <= n; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a.charCodeAt(i - 1) === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === b.charCodeAt(j - 1)) {
        v = Math.min(v, prev2[j - 2]! + 1);
      }
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n]!;
}

/**
 * The best candidate within a distance that grows with the word (1 for short words, up to 3),
 * comparing case-insensitively and treating `-`/`_` alike; undefined when none is close.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/-/g, '_');
  const w = norm(word);
  const max = w.length <= 3 ? 1 : w.length <= 6 ? 2 : 3;
  let best: string | undefined;
  let bestD = max + 1;
  for (const c of candidates) {
    const nc = norm(c);
    if (nc === w) return c;
    const d = editDistance(w, nc, bestD);
    // On a tie, one holding the word and nothing but its characters (`=` → `==`, not `>=`), then
    // one holding it, then the one nearest the word's length (`=>` is `>=` swapped, not `>` with a
    // character more), then the shorter.
    const holds = (x: string) => {
      const n = norm(x);
      return !n.includes(w) ? 2 : [...n].every((ch) => w.includes(ch)) ? 0 : 1;
    };
    const nearer = best !== undefined && (holds(c) - holds(best) || Math.abs(c.length - w.length) - Math.abs(best.length - w.length) || c.length - best.length) < 0;
    if (d < bestD || (d === bestD && nearer)) {
      best = c;
      bestD = d;
    }
  }
  // A prefix of a long word (`stage` for `stages`) is also a near miss.
  return bestD <= max ? best : undefined;
}
