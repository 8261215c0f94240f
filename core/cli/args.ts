/**
 * Command-line arguments: a small declarative parser. Each command declares its options; anything
 * undeclared, a missing value or a missing positional is a UsageError (exit code 2).
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface OptionSpec {
  /** Takes a value (`--port 5000` or `--port=5000`); otherwise a flag. */
  value?: boolean;
  /** May be given several times; values collect in order. */
  repeat?: boolean;
  /** Short alias, one letter. */
  short?: string;
  /** A word that may follow the value as part of it (`--order-by metrics.acc DESC`). */
  continuedBy?: RegExp;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string[] | true>;
}

export function parseArgs(argv: readonly string[], specs: OptionSpecs): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string[] | true>();
  const byShort = new Map(Object.entries(specs).flatMap(([name, s]) => (s.short ? [[s.short, name] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else if (/^-[A-Za-z]/.test(arg)) {
      // `-j`, or `-j4` with its value attached; a word such as `-x1` is no positional either.
      name = byShort.get(arg[1]!);
      if (!name) throw new UsageError(`unknown option '${arg.length > 2 ? arg.slice(0, 2) : arg}'${arg.length > 2 ? ` (in '${arg}')` : ''}`);
      if (arg.length > 2) {
        if (!specs[name]!.value) throw new UsageError(`option '-${arg[1]}' takes no value (in '${arg}')`);
        inline = arg.slice(2);
      }
    } else {
      positionals.push(arg);
      continue;
    }
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown option '--${name}'`);
    if (!spec.value) {
      if (inline !== undefined) throw new UsageError(`option '--${name}' takes no value`);
      options.set(name, true);
      continue;
    }
    let value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`option '--${name}' needs a value`);
    if (inline === undefined && spec.continuedBy && argv[i + 1] !== undefined && spec.continuedBy.test(argv[i + 1]!)) value = `${value} ${argv[++i]}`;
    const prior = options.get(name);
    if (prior !== undefined && !spec.repeat) throw new UsageError(`option '--${name}' given more than once`);
    options.set(name, [...(Array.isArray(prior) ? prior : []), value]);
  }
  return { positionals, options };
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.options.get(name) === true;
}

export function optionValue(args: ParsedArgs, name: string): string | undefined {
  const v = args.options.get(name);
  return Array.isArray(v) ? v[v.length - 1] : undefined;
}

export function optionValues(args: ParsedArgs, name: string): string[] {
  const v = args.options.get(name);
  return Array.isArray(v) ? v : [];
}

export function intOption(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const v = optionValue(args, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`option '--${name}' needs a whole number from ${min} to ${max}, not '${v}'`);
  }
  return Number(v);
}

/** Exactly `names.length` positionals (or at least, with `rest`). */
export function positionals(args: ParsedArgs, names: string[], rest?: string): string[] {
  if (args.positionals.length < names.length) {
    throw new UsageError(`missing ${names.slice(args.positionals.length).map((n) => n.toUpperCase()).join(' ')}`);
  }
  if (!rest && args.positionals.length > names.length) {
    throw new UsageError(`unexpected argument '${args.positionals[names.length]}'`);
  }
  return args.positionals;
}
