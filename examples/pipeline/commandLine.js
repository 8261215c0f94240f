// The example scripts' command line: `--name value` pairs of numbers, every one required, so that a
// stage runs with exactly the params runwise.yaml passes it.
'use strict';

/** `{ name: number }` for each of `names` from `argv`; exits with a usage line when one is missing or not a number. */
function numberArguments(argv, names, usage) {
  const values = {};
  const problems = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : undefined;
    if (name === undefined) problems.push(`unexpected argument '${argv[i]}'`);
    else if (!names.includes(name)) {
      problems.push(`unknown option --${name} (expected ${names.map((n) => `--${n}`).join(', ')})`);
      i++;
    } else if (i + 1 >= argv.length) problems.push(`--${name} needs a value`);
    else {
      const text = argv[++i];
      const value = Number(text);
      if (text.trim() === '' || !Number.isFinite(value)) problems.push(`--${name} must be a number, got '${text}'`);
      else values[name] = value;
    }
  }
  for (const name of names) if (!(name in values) && !problems.some((p) => p.startsWith(`--${name} `))) problems.push(`--${name} is missing`);
  if (problems.length > 0) {
    console.error(`${problems.join('; ')}\nusage: ${usage}`);
    process.exit(2);
  }
  return values;
}

module.exports = { numberArguments };
