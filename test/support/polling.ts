/** Waiting in tests for something another process does (a file written, a process gone). */

/** Resolves once `check()` holds; rejects after `ms` with what was awaited. */
export async function waitUntil(check: () => boolean, what: string, ms = 5_000, everyMs = 20): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
