/**
 * The TextMate injection that highlights `${...}` in pipeline YAML: valid JSON, every regex
 * compiles as a JavaScript RegExp (the grammar keeps to syntax Oniguruma and JS share), and a small
 * TextMate-style scanner over its rules gives `${item.lr}` the interpolation scopes and leaves
 * `\${x}` alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

interface Rule {
  name?: string;
  match?: string;
  begin?: string;
  end?: string;
  include?: string;
  beginCaptures?: Record<string, { name: string }>;
  endCaptures?: Record<string, { name: string }>;
  patterns?: Rule[];
}

interface Grammar {
  scopeName: string;
  injectionSelector: string;
  patterns: Rule[];
  repository: Record<string, Rule>;
}

const file = path.join(__dirname, '..', '..', 'syntaxes', 'runwise-interpolation.injection.json');
const grammar = JSON.parse(readFileSync(file, 'utf8')) as Grammar;

function resolve(rule: Rule): Rule {
  if (!rule.include) return rule;
  const r = grammar.repository[rule.include.replace(/^#/, '')];
  assert.ok(r, `include ${rule.include} names a repository rule`);
  return resolve(r);
}

function allRules(): Rule[] {
  const out: Rule[] = [];
  const visit = (r: Rule) => {
    out.push(r);
    for (const p of r.patterns ?? []) visit(p);
  };
  grammar.patterns.forEach(visit);
  Object.values(grammar.repository).forEach(visit);
  return out;
}

/** One token: its text and its scopes, outermost first. */
interface Token {
  text: string;
  scopes: string[];
}

/**
 * Tokenizes one line the way TextMate does for these rules: at each point the earliest match among
 * the current patterns (first listed wins a tie) and, inside a begin/end rule, its end pattern
 * (tried first, like an `L:` injection's outer end would not be).
 */
function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  const stack: { rule: Rule; scopes: string[] }[] = [{ rule: { patterns: grammar.patterns }, scopes: [] }];
  let pos = 0;
  const push = (text: string, scopes: string[]) => {
    if (text) tokens.push({ text, scopes });
  };
  while (pos <= line.length) {
    const frame = stack[stack.length - 1]!;
    let best: { index: number; length: number; rule: Rule | null; m: RegExpExecArray } | undefined;
    if (frame.rule.end) {
      const re = new RegExp(frame.rule.end, 'gu');
      re.lastIndex = pos;
      const m = re.exec(line);
      if (m) best = { index: m.index, length: m[0].length, rule: null, m };
    }
    for (const p of frame.rule.patterns ?? []) {
      const r = resolve(p);
      const re = new RegExp((r.match ?? r.begin)!, 'gu');
      re.lastIndex = pos;
      const m = re.exec(line);
      if (m && (!best || m.index < best.index)) best = { index: m.index, length: m[0].length, rule: r, m };
    }
    if (!best) {
      push(line.slice(pos), frame.scopes);
      break;
    }
    push(line.slice(pos, best.index), frame.scopes);
    const text = best.m[0];
    if (best.rule === null) {
      const cap = frame.rule.endCaptures?.['0']?.name;
      push(text, cap ? [...frame.scopes, cap] : frame.scopes);
      stack.pop();
    } else if (best.rule.match !== undefined) {
      push(text, best.rule.name ? [...frame.scopes, best.rule.name] : frame.scopes);
    } else {
      const scopes = best.rule.name ? [...frame.scopes, best.rule.name] : frame.scopes;
      const cap = best.rule.beginCaptures?.['0']?.name;
      push(text, cap ? [...scopes, cap] : scopes);
      stack.push({ rule: best.rule, scopes });
    }
    pos = best.index + best.length;
    if (best.length === 0 && best.rule !== null) pos++; // never loop on an empty begin/match
    if (pos >= line.length && stack.length === 1) break;
  }
  return tokens;
}

test('the injection is valid JSON aimed at YAML strings', () => {
  assert.equal(typeof grammar.scopeName, 'string');
  assert.match(grammar.scopeName, /runwise/);
  assert.match(grammar.injectionSelector, /L:source\.yaml/);
  assert.match(grammar.injectionSelector, /\bstring\b/);
  assert.ok(grammar.patterns.length > 0);
  for (const p of grammar.patterns) resolve(p);
});

test('every regex compiles as a JavaScript RegExp', () => {
  const regexes = allRules().flatMap((r) => [r.match, r.begin, r.end].filter((x): x is string => x !== undefined));
  assert.ok(regexes.length >= 4);
  for (const source of regexes) {
    assert.doesNotThrow(() => new RegExp(source, 'u'), `regex ${source}`);
    // Oniguruma-only syntax that JS would read differently.
    assert.doesNotMatch(source, /\\[AGzZhH]|\(\?[imx]-|\\p\{/, `regex ${source} keeps to syntax both engines share`);
  }
});

test('${item.lr} is an interpolation with variables and punctuation', () => {
  const tokens = tokenize('python train.py --lr ${item.lr}');
  const meta = tokens.filter((t) => t.scopes.includes('meta.interpolation.runwise'));
  assert.equal(meta.map((t) => t.text).join(''), '${item.lr}');
  assert.deepEqual(
    meta.map((t) => [t.text, t.scopes.at(-1)]),
    [
      ['${', 'punctuation.definition.interpolation.begin.runwise'],
      ['item', 'variable.other.runwise'],
      ['.', 'punctuation.accessor.runwise'],
      ['lr', 'variable.other.runwise'],
      ['}', 'punctuation.definition.interpolation.end.runwise'],
    ],
  );
  assert.deepEqual(tokens[0], { text: 'python train.py --lr ', scopes: [] });
});

test('\\${x} is not an interpolation; a real one after it still is', () => {
  const escaped = tokenize('echo \\${x} done');
  assert.ok(escaped.every((t) => t.scopes.length === 0), JSON.stringify(escaped));
  const mixed = tokenize('\\${x} ${y}');
  assert.deepEqual(
    mixed.filter((t) => t.scopes.includes('variable.other.runwise')).map((t) => t.text),
    ['y'],
  );
});

test('indexes, several interpolations, and an unclosed one that stops at the quote', () => {
  const tokens = tokenize('${models[0].name}-${seed}');
  assert.deepEqual(
    tokens.filter((t) => t.scopes.at(-1) === 'variable.other.runwise').map((t) => t.text),
    ['models', 'name', 'seed'],
  );
  assert.ok(tokens.some((t) => t.text === '0' && t.scopes.at(-1) === 'constant.numeric.integer.runwise'));
  const unclosed = tokenize('${a.b" tail');
  assert.ok(unclosed.some((t) => t.text === 'b' && t.scopes.includes('meta.interpolation.runwise')));
  assert.ok(unclosed.some((t) => t.text.includes('tail') && !t.scopes.includes('meta.interpolation.runwise')));
});
