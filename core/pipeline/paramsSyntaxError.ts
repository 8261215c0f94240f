/** A params file whose text its format (TOML, Python) refuses: the 1-based line and column, and why. */
export class ParamsSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`${line}:${column}: ${reason}`);
    this.name = 'ParamsSyntaxError';
  }
}
