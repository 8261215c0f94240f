/**
 * What every webview's messages share. Each webview types its own messages in its own module
 * (webview/<view>/messages.ts), which both the host (client/) and the page import; this module
 * holds only what more than one view needs. Nothing here may import Node or vscode.
 *
 * Values are JSON-safe: metric values that JSON cannot carry (NaN, ±Infinity) travel as strings.
 */
import { RUN_ID_PATTERN } from '../../core/tracker/model';

/** A metric value as it travels: a finite number, or 'NaN' / 'Infinity' / '-Infinity'. */
export type WireNumber = number | 'NaN' | 'Infinity' | '-Infinity';

export function toWireNumber(v: number): WireNumber {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

export function fromWireNumber(v: WireNumber): number {
  return typeof v === 'number' ? v : Number(v);
}

/** Is `v` a run id (what a page may name a run by)? */
export function isRunId(v: unknown): v is string {
  return typeof v === 'string' && RUN_ID_PATTERN.test(v);
}
