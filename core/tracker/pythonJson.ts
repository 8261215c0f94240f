/**
 * JSON as Python's `json.dumps` writes it with its defaults: `", "` and `": "` separators, and
 * ensure_ascii (every character outside printable ASCII as a \u escape). Where MLflow or DVC store
 * a value written that way (DVC's directory listings, MLflow's `mlflow.modelVersions` tag), Runwise
 * writes the same bytes.
 */

/** A string as Python's json.dumps writes it with ensure_ascii (the default). */
export function pythonJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += s[i];
  }
  return `${out}"`;
}

/** A JSON value (null, booleans, finite numbers, strings, arrays, plain objects in key order) as json.dumps writes it. */
export function pythonJsonDumps(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`pythonJsonDumps: ${value} is not a JSON number`);
    // Python writes an integral int without a fraction and a float with one (1 vs 1.0); JSON read here has lost that difference, so an integral value is written as an int.
    return String(value);
  }
  if (typeof value === 'string') return pythonJsonString(value);
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${pythonJsonString(k)}: ${pythonJsonDumps(v)}`)
      .join(', ')}}`;
  }
  throw new Error(`pythonJsonDumps: a ${typeof value} is not a JSON value`);
}
