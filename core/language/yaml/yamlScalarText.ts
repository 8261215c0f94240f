/** Writing a value as a YAML scalar: quoted only when plain style would change its meaning. */

const NEEDS_QUOTES = /^[>!<=&*|%@`#,[\]{}?:'"-]|: | #|^\s|\s$|^(true|false|null|~|[-+]?\d[\d.e+-]*)$/i;

export function quoteIfNeeded(v: string): string {
  if (v === '' || !NEEDS_QUOTES.test(v)) return v;
  if (/^[-+]?\d/.test(v) && !/[>!<=]/.test(v)) return v;
  return `'${v.replace(/'/g, "''")}'`;
}
