import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import type { ExperimentSearch, RunSearch } from '../../core/tracker/model';
import { migrate } from '../../core/tracker/schema';
import { FilterSyntaxError, type Comparison, type FilterExpr } from '../../core/tracker/search/filterSyntax';
import { parseExperimentFilter, parseRunFilter, parseRunOrderBy } from '../../core/tracker/search/searchDialects';
import { compileExperimentSearch, compileRunSearch, likeToGlob, nextPageToken, pageOffset, takePage } from '../../core/tracker/search/runSearchSql';
import { openSqlDatabase, type SqlDatabase } from '../../core/tracker/sqlStore';
import { TrackerError } from '../../core/tracker/trackerError';

function compare(filter: string): Comparison {
  const e = parseRunFilter(filter);
  assert.ok(e && e.kind === 'compare', `expected one comparison from ${filter}`);
  return e;
}

/** The tree with comparisons reduced to `entity.key op value`, to assert shapes compactly. */
function shape(e: FilterExpr | undefined): unknown {
  if (!e) return undefined;
  if (e.kind === 'compare') return `${e.entity}.${e.key} ${e.op} ${JSON.stringify(e.value)}`;
  return { [e.kind]: [shape(e.left), shape(e.right)] };
}

function syntaxError(filter: string, position: number, message: RegExp, parse = parseRunFilter): void {
  assert.throws(
    () => parse(filter),
    (e: unknown) => {
      assert.ok(e instanceof FilterSyntaxError, `not a FilterSyntaxError: ${String(e)}`);
      assert.equal(e.code, 'INVALID_PARAMETER_VALUE');
      assert.equal(e.position, position, `position for ${filter}: ${e.message}`);
      assert.match(e.message, new RegExp(`^Invalid filter at position ${position}: `));
      assert.match(e.message, message);
      return true;
    },
  );
}

function invalidValue(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TrackerError);
    assert.equal(e.code, 'INVALID_PARAMETER_VALUE');
    assert.match(e.message, message);
    return true;
  });
}

describe('parseRunFilter', () => {
  test('an empty or blank filter is no filter', () => {
    assert.equal(parseRunFilter(''), undefined);
    assert.equal(parseRunFilter('  \n\t '), undefined);
  });

  test('a comparison carries entity, key, operator, value and its span', () => {
    assert.deepEqual(parseRunFilter('metrics.acc > 0.9'), {
      kind: 'compare',
      entity: 'metrics',
      key: 'acc',
      op: '>',
      value: 0.9,
      start: 0,
      end: 17,
    });
    const c = compare("  params.lr   !=  'x' ");
    assert.deepEqual([c.start, c.end, c.value], [2, 21, 'x']);
  });

  test('and binds tighter than or; parentheses override; keywords are case-insensitive', () => {
    assert.deepEqual(shape(parseRunFilter("metrics.a > 1 or params.b = 'x' and tags.c = 'y'")), {
      or: ['metrics.a > 1', { and: ['params.b = "x"', 'tags.c = "y"'] }],
    });
    assert.deepEqual(shape(parseRunFilter("(metrics.a > 1 OR params.b = 'x') AnD tags.c like 'y'")), {
      and: [{ or: ['metrics.a > 1', 'params.b = "x"'] }, 'tags.c LIKE "y"'],
    });
    assert.deepEqual(shape(parseRunFilter('metrics.a > 1 and metrics.b > 2 and metrics.c > 3')), {
      and: [{ and: ['metrics.a > 1', 'metrics.b > 2'] }, 'metrics.c > 3'],
    });
    assert.deepEqual(shape(parseRunFilter('((metrics.a > 1))')), 'metrics.a > 1');
  });

  test("MLflow's entity aliases and attribute names are normalised", () => {
    const cases: [string, string][] = [
      ['metric.a = 1', 'metrics.a = 1'],
      ["param.a = 'x'", 'params.a = "x"'],
      ["parameters.a = 'x'", 'params.a = "x"'],
      ["parameter.a = 'x'", 'params.a = "x"'],
      ["tag.a = 'x'", 'tags.a = "x"'],
      ["attribute.status = 'x'", 'attributes.status = "x"'],
      ["attr.status = 'x'", 'attributes.status = "x"'],
      ["run.status = 'x'", 'attributes.status = "x"'],
      ["status = 'x'", 'attributes.status = "x"'],
      ['attributes.Created > 5', 'attributes.start_time > 5'],
      ['created > 5', 'attributes.start_time > 5'],
      ["dataset.name = 'x'", 'datasets.name = "x"'],
      ["Metrics.a = 1", 'metrics.a = 1'],
    ];
    for (const [filter, expected] of cases) assert.equal(shape(parseRunFilter(filter)), expected, filter);
  });

  test('keys: everything after the first dot, or quoted with backticks or double quotes', () => {
    assert.equal(compare('metrics.val/loss < 1').key, 'val/loss');
    assert.equal(compare("params.model.lr = '1'").key, 'model.lr');
    assert.equal(compare("params.a-b:c = '1'").key, 'a-b:c');
    assert.equal(compare('metrics.`my acc` >= 1').key, 'my acc');
    assert.equal(compare('tags."mlflow.runName" = \'x\'').key, 'mlflow.runName');
    assert.equal(compare('tags.`a``b` = \'x\'').key, 'a`b');
    assert.deepEqual(shape(parseRunFilter("metrics.a>=1 and params.b!='x'")), {
      and: ['metrics.a >= 1', 'params.b != "x"'],
    });
  });

  test('values: quoted strings with escapes, numbers, lists', () => {
    assert.equal(compare("params.a = 'it\\'s'").value, "it's");
    assert.equal(compare("params.a = 'it''s'").value, "it's");
    assert.equal(compare('params.a = "dq"').value, 'dq');
    assert.equal(compare('params.a = "say ""hi"" \\"x\\""').value, 'say "hi" "x"');
    assert.equal(compare("params.a = 'back\\\\slash'").value, 'back\\slash');
    assert.equal(compare("params.a = 'a\\_b'").value, 'a\\_b');
    assert.equal(compare("params.a = ''").value, '');
    for (const [text, n] of [
      ['-1', -1],
      ['1e-3', 0.001],
      ['2.5E2', 250],
      ['.5', 0.5],
      ['2.', 2],
      ['+3', 3],
      ['-0.25', -0.25],
    ] as const) {
      assert.equal(compare(`metrics.a > ${text}`).value, n, text);
    }
    assert.deepEqual(compare("params.a IN ('x', \"y\",'z''s')").value, ['x', 'y', "z's"]);
    const notIn = compare("attributes.run_id not in ('r1')");
    assert.deepEqual([notIn.op, notIn.value], ['NOT IN', ['r1']]);
    assert.equal(compare("params.a ilike 'x%'").op, 'ILIKE');
  });

  test('errors name the position and what was expected and found', () => {
    assert.throws(() => parseRunFilter("params.a = 'x' and metrics.acc foo 1"), {
      message:
        "Invalid filter at position 31: expected a comparison operator (=, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN) after 'metrics.acc', found 'foo'",
    });
    syntaxError("params.x = 'abc", 11, /unterminated string/);
    syntaxError('params.x = "abc\\"', 11, /unterminated string/);
    syntaxError('metrics.`acc > 1', 8, /unterminated quoted key/);
    syntaxError('(metrics.a > 1', 14, /expected '\)' to close the '\(' at position 0, found the end of the filter/);
    syntaxError('(metrics.a > 1 or (params.b = \'x\')', 34, /close the '\(' at position 0/);
    syntaxError('metrics.a > 1)', 13, /unbalanced '\)'/);
    syntaxError('metrc.a > 1', 0, /unknown prefix 'metrc\.'; did you mean 'metrics\.a'\?/);
    syntaxError('parms.a > 1', 0, /did you mean 'params\.a'/);
    syntaxError('zzz.a > 1', 0, /unknown prefix 'zzz\.'; use metrics\., params\., tags\., attributes\., datasets\./);
    syntaxError('params.lr > 1', 10, /operator '>' is not valid for param 'lr' \(params are strings\); use one of =, !=, LIKE, ILIKE, IN, NOT IN/);
    syntaxError("metrics.acc LIKE '0.9'", 12, /operator 'LIKE' is not valid for metric 'acc' \(metrics are numbers\)/);
    syntaxError("metrics.acc IN ('1')", 12, /operator 'IN' is not valid/);
    syntaxError("attributes.start_time LIKE '1%'", 22, /attribute 'start_time' is a number/);
    syntaxError('attributes.status > 1', 18, /attribute 'status' is a string/);
    syntaxError("metrics.acc > 'high'", 14, /expected a number for metric 'acc', found the string 'high'/);
    syntaxError('metrics.acc > high', 14, /expected a number for metric 'acc', found 'high'/);
    syntaxError('metrics.acc >', 13, /expected a number .* found the end of the filter/);
    syntaxError("start_time > '5'", 13, /expected a number for attribute 'start_time'/);
    syntaxError('params.lr = 0.1', 12, /expected a quoted string for param 'lr', found '0\.1' \(strings are quoted: '0\.1'\)/);
    syntaxError('metrics.a > 1 garbage', 14, /expected AND, OR or the end of the filter after the comparison, found 'garbage'/);
    syntaxError('metrics.a > 1 and', 17, /expected a comparison such as metrics\.acc, found the end of the filter/);
    syntaxError('()', 1, /empty parentheses/);
    syntaxError('metrics.a > 1 and ()', 19, /empty parentheses/);
    syntaxError('params.x IN ()', 13, /empty list after IN/);
    syntaxError("params.x IN 'a'", 12, /expected '\(' to start the list after IN/);
    syntaxError("params.x IN ('a' 'b')", 17, /expected ',' or '\)' in the list/);
    syntaxError('params.x IN (1)', 13, /expected a quoted string in the list/);
    syntaxError("params.x NOT 'a'", 13, /expected IN after NOT, found the string 'a'/);
    syntaxError('acc > 1', 0, /unknown attribute 'acc'; runs have run_id, .*, or use metrics\.acc, params\.acc or tags\.acc/);
    syntaxError("attributes.colour = 'x'", 11, /unknown attribute 'colour'/);
    syntaxError("datasets.size = 'x'", 9, /unknown dataset field 'size'; runs have name, digest, context/);
    syntaxError('metrics. > 1', 8, /expected a key after 'metrics\.'/);
    syntaxError("tags.`` = 'x'", 5, /empty key/);
    syntaxError('metrics.a ! 1', 10, /unexpected character '!' \(did you mean '!='\?\)/);
    syntaxError('metrics.a == 1', 11, /expected a number for metric 'a', found '='/);
    syntaxError("'x' = 1", 0, /expected a comparison such as metrics\.acc, found the string 'x'/);
    syntaxError('metrics.a > 1; drop table runs', 13, /unexpected character ';'/);
    syntaxError('constructor > 1', 0, /unknown attribute 'constructor'/);
  });
});

describe('parseRunOrderBy', () => {
  test('fields with optional direction, bare attributes, quoted keys', () => {
    assert.deepEqual(
      parseRunOrderBy(['metrics.acc DESC', 'start_time', 'params.`learning rate` asc', 'tags."a.b" desc']),
      [
        { entity: 'metrics', key: 'acc', descending: true },
        { entity: 'attributes', key: 'start_time', descending: false },
        { entity: 'params', key: 'learning rate', descending: false },
        { entity: 'tags', key: 'a.b', descending: true },
      ],
    );
    assert.deepEqual(parseRunOrderBy(['attributes.Created desc']), [{ entity: 'attributes', key: 'start_time', descending: true }]);
  });

  test('bad clauses are INVALID_PARAMETER_VALUE with the clause and position', () => {
    invalidValue(() => parseRunOrderBy(['metrics.acc DOWN']), /Invalid order_by clause 'metrics\.acc DOWN' at position 12: expected ASC, DESC or the end of the clause, found 'DOWN'/);
    invalidValue(() => parseRunOrderBy(['datasets.name']), /cannot order runs by datasets/);
    invalidValue(() => parseRunOrderBy(['colour DESC']), /unknown attribute 'colour'/);
    invalidValue(() => parseRunOrderBy(['metric.acc', 'metrics.acc DESC']), /metrics\.acc appears more than once/);
    invalidValue(() => parseRunOrderBy(['start_time', 'created']), /attributes\.start_time appears more than once/);
    invalidValue(() => parseRunOrderBy(['metrics.`acc']), /unterminated quoted key/);
  });
});

test('likeToGlob translates wildcards and escapes GLOB metacharacters', () => {
  assert.equal(likeToGlob('a%b_c'), 'a*b?c');
  assert.equal(likeToGlob('x*y?z[w]'), 'x[*]y[?]z[[]w]');
  assert.equal(likeToGlob('plain'), 'plain');
});

describe('page tokens and limits', () => {
  test('tokens round-trip; MLflow-style base64 tokens are accepted', () => {
    assert.equal(pageOffset(undefined), 0);
    assert.equal(pageOffset(''), 0);
    assert.equal(pageOffset(nextPageToken(40)), 40);
    assert.match(nextPageToken(123456), /^[A-Za-z0-9_-]+$/);
    assert.equal(pageOffset(Buffer.from('{"offset": 7}').toString('base64')), 7);
  });

  test('malformed tokens are INVALID_PARAMETER_VALUE', () => {
    for (const token of [
      'not a token!',
      Buffer.from('hello').toString('base64url'),
      Buffer.from('{"offset": -1}').toString('base64url'),
      Buffer.from('{"offset": 1.5}').toString('base64url'),
      Buffer.from('{"offset": "3"}').toString('base64url'),
      Buffer.from('null').toString('base64url'),
    ]) {
      invalidValue(() => pageOffset(token), /Invalid page token/);
    }
  });

  test('max_results: default 1000, at most 50000, positive', () => {
    const q = compileRunSearch({});
    assert.deepEqual(q.params.slice(-2), [1001, 0]);
    assert.equal(compileExperimentSearch({}).maxResults, 1000);
    invalidValue(
      () => compileRunSearch({ maxResults: 60000 }),
      /^Invalid value 60000 for parameter 'max_results' supplied\. It must be at most 50000$/,
    );
    invalidValue(() => compileExperimentSearch({ maxResults: 60000 }), /at most 50000/);
    invalidValue(() => compileRunSearch({ maxResults: 0 }), /must be a positive integer/);
    invalidValue(() => compileRunSearch({ maxResults: 2.5 }), /must be a positive integer/);
  });

  test('takePage keeps maxResults rows and makes a token only when more follow', () => {
    assert.deepEqual(takePage([1, 2, 3], { maxResults: 3, offset: 0 }), { items: [1, 2, 3] });
    const page = takePage([1, 2, 3], { maxResults: 2, offset: 4 });
    assert.deepEqual(page.items, [1, 2]);
    assert.equal(pageOffset(page.nextPageToken), 6);
  });
});

describe('compiled searches against a real database', () => {
  let dir: string;
  let db: SqlDatabase;
  const names = new Map<number, string>();

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'runwise-search-'));
    db = openSqlDatabase(join(dir, 'tracker.db'));
    migrate(db, () => 1000);
    const exec = (sql: string, ...rows: (string | number | null)[][]) => {
      const st = db.prepare(sql);
      for (const row of rows) st.run(...row);
    };
    exec(
      'INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (?, ?, ?, ?, ?, ?)',
      [1, 'vision', 'a/1', 'active', 100, 500],
      [2, 'nlp-bert', 'a/2', 'active', 200, 300],
      [3, 'old-stuff', 'a/3', 'deleted', 50, 60],
    );
    exec('INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)', [1, 'team', 'CV'], [2, 'team', 'nlp'], [2, 'stage', 'prod']);
    const runs: [number, string, number, string, string, number, number | null, string, string][] = [
      [1, 'a1', 1, 'alpha', 'FINISHED', 1000, 2000, 'active', 'ann'],
      [2, 'b2', 1, 'beta', 'FINISHED', 2000, 3000, 'active', 'bob'],
      [3, 'c3', 1, 'gamma', 'RUNNING', 3000, null, 'active', 'ann'],
      [4, 'd4', 2, 'delta', 'FAILED', 4000, 5000, 'active', 'bob'],
      [5, 'e5', 1, 'eps', 'FINISHED', 5000, 6000, 'deleted', 'ann'],
      [6, 'f6', 2, 'zeta', 'KILLED', 2000, 2500, 'active', 'cara'],
    ];
    exec(
      'INSERT INTO runs (id, run_uuid, experiment_id, name, status, start_time, end_time, lifecycle_stage, user_id, artifact_uri) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ...runs.map((r) => [...r, `artifacts/${r[1]}`]),
    );
    for (const r of runs) names.set(r[0], r[3]);
    exec(
      'INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)',
      [1, 'lr', '0.1'],
      [1, 'model', 'CNN'],
      [1, 'opt', 'adam'],
      [2, 'lr', '0.01'],
      [2, 'model', 'cnn'],
      [3, 'lr', '0.1'],
      [3, 'model', 'RNN*'],
      [4, 'model', 'RNNx'],
      [4, 'x', "a' OR 1=1 --"],
      [5, 'lr', '0.1'],
      [6, 'x', 'a'],
      [6, 'opt', 'sgd'],
    );
    exec(
      'INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)',
      [1, 't1', 'x'],
      [1, 'env', 'Prod'],
      [1, 'mlflow.runName', 'alpha'],
      [2, 't1', 'y'],
      [2, 'env', 'prod'],
      [3, 'env', 'dev'],
      [4, 't1', 'x'],
      [6, 'my tag', 'v'],
    );
    exec('INSERT INTO metric_keys (key_id, key) VALUES (?, ?)', [1, 'acc'], [2, 'loss'], [3, 'val/loss'], [4, 'my acc']);
    exec(
      'INSERT INTO latest_metrics (run_id, key_id, step, timestamp, value) VALUES (?, ?, 0, 0, ?)',
      [1, 1, 0.9],
      [1, 2, 0.3],
      [1, 3, 0.4],
      [2, 1, 0.7],
      [2, 2, null], // NaN
      [3, 1, 0.5],
      [3, 4, 1],
      [4, 2, 0.1],
      [5, 1, 0.95],
      [6, 1, 0.7],
      [6, 2, 0.2],
    );
    exec(
      'INSERT INTO datasets (dataset_id, experiment_id, name, digest) VALUES (?, ?, ?, ?)',
      [1, 1, 'mnist', 'abc123'],
      [2, 1, 'cifar', 'def456'],
    );
    exec(
      'INSERT INTO run_inputs (run_id, dataset_id, tags) VALUES (?, ?, ?)',
      [1, 1, '{"mlflow.data.context":"train"}'],
      [1, 2, '{"mlflow.data.context":"eval"}'],
      [2, 2, '{"mlflow.data.context":"train"}'],
      [3, 1, '{}'],
    );
  });

  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Names of the runs on one page, in the order returned. */
  function runs(search: RunSearch): string[] {
    const q = compileRunSearch(search);
    const rows = db.prepare(q.sql).all(...q.params);
    return takePage(rows, q).items.map((row) => names.get(Number(row.id))!);
  }

  /** Names of the active runs a filter matches, sorted. */
  function matching(filter: string, search: RunSearch = {}): string[] {
    return runs({ ...search, filter }).sort();
  }

  test('metrics compare against the latest value; NaN and missing keys match nothing', () => {
    assert.deepEqual(matching('metrics.acc > 0.6'), ['alpha', 'beta', 'zeta']);
    assert.deepEqual(matching('metrics.acc = 0.7'), ['beta', 'zeta']);
    assert.deepEqual(matching('metrics.loss != 0.3'), ['delta', 'zeta']);
    assert.deepEqual(matching('metrics.loss < 1'), ['alpha', 'delta', 'zeta']);
    assert.deepEqual(matching('metrics.loss >= 0.2 and metrics.loss <= 0.3'), ['alpha', 'zeta']);
    assert.deepEqual(matching('metrics.val/loss < 0.5'), ['alpha']);
    assert.deepEqual(matching('metrics.`my acc` >= 1'), ['gamma']);
    assert.deepEqual(matching('metrics.nope > -1'), []);
  });

  test('params and tags: = and !=, where != needs the key to be present', () => {
    assert.deepEqual(matching("params.lr = '0.1'"), ['alpha', 'gamma']);
    assert.deepEqual(matching("params.lr != '0.1'"), ['beta']);
    assert.deepEqual(matching("tags.t1 != 'x'"), ['beta']);
    assert.deepEqual(matching("tags.t1 = 'x'"), ['alpha', 'delta']);
    assert.deepEqual(matching('tags."mlflow.runName" = \'alpha\''), ['alpha']);
    assert.deepEqual(matching("tags.`my tag` = 'v'"), ['zeta']);
    assert.deepEqual(matching("params.missing != 'x'"), []);
  });

  test('and binds tighter than or; parentheses regroup', () => {
    assert.deepEqual(matching("params.lr = '0.1' or tags.t1 = 'x' and metrics.loss < 0.2"), ['alpha', 'delta', 'gamma']);
    assert.deepEqual(matching("(params.lr = '0.1' or tags.t1 = 'x') and metrics.loss < 0.2"), ['delta']);
    assert.deepEqual(matching("metrics.acc > 0.6 and params.model ILIKE 'cnn' and status = 'FINISHED'"), ['alpha', 'beta']);
    assert.deepEqual(matching("metrics.acc > 0.6 and (tags.t1 = 'y' or params.opt = 'sgd') and tags.env LIKE '%'"), ['beta']);
    assert.deepEqual(matching("metrics.acc > 0.8 OR metrics.loss < 0.15 OR params.x = 'a'"), ['alpha', 'delta', 'zeta']);
  });

  test('IN and NOT IN', () => {
    assert.deepEqual(matching("params.model IN ('CNN', 'RNNx')"), ['alpha', 'delta']);
    assert.deepEqual(matching("params.model NOT IN ('CNN')"), ['beta', 'delta', 'gamma']);
    assert.deepEqual(matching("attributes.run_id IN ('a1', 'f6', 'zz')"), ['alpha', 'zeta']);
    assert.deepEqual(matching("run_id NOT IN ('a1', 'b2')"), ['delta', 'gamma', 'zeta']);
    assert.deepEqual(matching("status IN ('RUNNING', 'FAILED')"), ['delta', 'gamma']);
  });

  test('LIKE is case-sensitive and treats GLOB characters literally; ILIKE is not', () => {
    assert.deepEqual(matching("params.model LIKE 'C%'"), ['alpha']);
    assert.deepEqual(matching("params.model ILIKE 'c%'"), ['alpha', 'beta']);
    assert.deepEqual(matching("params.model LIKE 'RNN*'"), ['gamma']);
    assert.deepEqual(matching("params.model LIKE 'RNN_'"), ['delta', 'gamma']);
    assert.deepEqual(matching("params.model LIKE '[Cc]%'"), []);
    assert.deepEqual(matching("tags.env LIKE 'P%'"), ['alpha']);
    assert.deepEqual(matching("tags.env ILIKE 'P%'"), ['alpha', 'beta']);
    assert.deepEqual(matching("attributes.run_name LIKE '%ta'"), ['beta', 'delta', 'zeta']);
    assert.deepEqual(matching("attributes.run_name ILIKE '%TA'"), ['beta', 'delta', 'zeta']);
    assert.deepEqual(matching("attributes.run_name LIKE '%TA'"), []);
  });

  test('attributes: numeric times, aliases, strings, lifecycle', () => {
    assert.deepEqual(matching('attributes.start_time >= 3000'), ['delta', 'gamma']);
    assert.deepEqual(matching('created < 2000'), ['alpha']);
    assert.deepEqual(matching('attributes.Created = 2000'), ['beta', 'zeta']);
    assert.deepEqual(matching('attributes.end_time > 2500'), ['beta', 'delta']);
    assert.deepEqual(matching('attributes.end_time != 2000'), ['beta', 'delta', 'zeta']);
    assert.deepEqual(matching("status = 'RUNNING'"), ['gamma']);
    assert.deepEqual(matching("attributes.status != 'FINISHED'"), ['delta', 'gamma', 'zeta']);
    assert.deepEqual(matching("attributes.run_name = 'beta'"), ['beta']);
    assert.deepEqual(matching("run.user_id = 'ann'"), ['alpha', 'gamma']);
    assert.deepEqual(matching("attributes.artifact_uri = 'artifacts/d4'"), ['delta']);
    assert.deepEqual(matching("attributes.lifecycle_stage = 'deleted'", { viewType: 'ALL' }), ['eps']);
  });

  test('datasets: name, digest and context', () => {
    assert.deepEqual(matching("datasets.name = 'mnist'"), ['alpha', 'gamma']);
    assert.deepEqual(matching("dataset.digest LIKE 'def%'"), ['alpha', 'beta']);
    assert.deepEqual(matching("datasets.context = 'train'"), ['alpha', 'beta']);
    assert.deepEqual(matching("datasets.context = 'eval' and datasets.name = 'cifar'"), ['alpha']);
    assert.deepEqual(matching("datasets.name != 'mnist'"), ['alpha', 'beta']);
    assert.deepEqual(matching("datasets.name IN ('cifar') and metrics.acc < 0.8"), ['beta']);
  });

  test('experiment ids and view type', () => {
    assert.deepEqual(matching('', { experimentIds: ['2'] }), ['delta', 'zeta']);
    assert.deepEqual(matching('', { experimentIds: ['1', '2'], viewType: 'DELETED_ONLY' }), ['eps']);
    assert.deepEqual(matching('', { experimentIds: ['1'], viewType: 'ALL' }), ['alpha', 'beta', 'eps', 'gamma']);
    assert.deepEqual(matching('', { experimentIds: [] }), []);
    assert.deepEqual(matching('metrics.acc > 0.9', { viewType: 'ALL' }), ['eps']);
    invalidValue(() => compileRunSearch({ experimentIds: ['1', 'x'] }), /Invalid experiment id 'x'/);
    invalidValue(() => compileRunSearch({ experimentIds: ['1 OR 1=1'] }), /Invalid experiment id/);
    invalidValue(() => compileRunSearch({ viewType: 'SOME' as RunSearch['viewType'] }), /Invalid view type 'SOME'/);
  });

  test('default order: start_time DESC, then run id', () => {
    assert.deepEqual(runs({}), ['delta', 'gamma', 'beta', 'zeta', 'alpha']);
  });

  test('order_by metrics: runs lacking the key (or NaN) sort last in both directions', () => {
    assert.deepEqual(runs({ orderBy: ['metrics.loss ASC'] }), ['delta', 'zeta', 'alpha', 'gamma', 'beta']);
    assert.deepEqual(runs({ orderBy: ['metrics.loss DESC'] }), ['alpha', 'zeta', 'delta', 'gamma', 'beta']);
    assert.deepEqual(runs({ orderBy: ['metrics.`my acc` DESC'] }), ['gamma', 'delta', 'beta', 'zeta', 'alpha']);
    assert.deepEqual(runs({ orderBy: ['metrics.acc', 'attributes.start_time ASC'] }), ['gamma', 'beta', 'zeta', 'alpha', 'delta']);
  });

  test('order_by params, tags and attributes', () => {
    assert.deepEqual(runs({ orderBy: ['params.lr DESC'] }), ['gamma', 'alpha', 'beta', 'delta', 'zeta']);
    assert.deepEqual(runs({ orderBy: ['params.lr ASC'] }), ['beta', 'gamma', 'alpha', 'delta', 'zeta']);
    assert.deepEqual(runs({ orderBy: ['tags.t1 DESC', 'run_name'] }), ['beta', 'alpha', 'delta', 'gamma', 'zeta']);
    assert.deepEqual(runs({ orderBy: ['start_time ASC'] }), ['alpha', 'beta', 'zeta', 'gamma', 'delta']);
    assert.deepEqual(runs({ orderBy: ['attributes.end_time ASC'] }), ['alpha', 'zeta', 'beta', 'delta', 'gamma']);
    assert.deepEqual(runs({ orderBy: ['attributes.end_time DESC'] }), ['delta', 'beta', 'zeta', 'alpha', 'gamma']);
    assert.deepEqual(runs({ orderBy: ['attributes.run_id DESC'] }), ['zeta', 'delta', 'gamma', 'beta', 'alpha']);
    // Blank clauses are ignored; ties on status fall back to start_time DESC.
    assert.deepEqual(runs({ orderBy: ['status', ' '] }), ['delta', 'beta', 'alpha', 'zeta', 'gamma']);
    invalidValue(() => compileRunSearch({ orderBy: ['metrics.acc sideways'] }), /Invalid order_by clause/);
  });

  test('paging through every run with tokens returns each exactly once, in order', () => {
    for (const orderBy of [undefined, ['metrics.loss DESC'], ['params.model ASC'], ['start_time ASC']]) {
      for (const maxResults of [1, 2, 4, 6, 7]) {
        const all = runs({ viewType: 'ALL', orderBy });
        const seen: string[] = [];
        let pageToken: string | undefined;
        let pages = 0;
        do {
          const q = compileRunSearch({ viewType: 'ALL', orderBy, maxResults, pageToken });
          const page = takePage(db.prepare(q.sql).all(...q.params), q);
          seen.push(...page.items.map((row) => names.get(Number(row.id))!));
          pageToken = page.nextPageToken;
          pages++;
        } while (pageToken);
        assert.deepEqual(seen, all, `${String(orderBy)} by ${maxResults}`);
        assert.equal(seen.length, 6);
        assert.equal(pages, Math.max(1, Math.ceil(6 / maxResults)));
      }
    }
  });

  test('a quote-injection attempt matches only the literal value', () => {
    const filter = "params.x = 'a'' OR 1=1 --'";
    assert.equal(compare(filter).value, "a' OR 1=1 --");
    assert.deepEqual(matching(filter), ['delta']);
    assert.deepEqual(matching("params.x = 'a'"), ['zeta']);
    assert.deepEqual(matching("params.`x' OR 1=1 --` = 'a'"), []);
    assert.deepEqual(matching("tags.t1 = 'x\\' OR 1=1 --'"), []);
    const q = compileRunSearch({ filter });
    assert.ok(!q.sql.includes('1=1'), q.sql);
    assert.ok(!q.sql.includes("'x'"), q.sql);
  });

  test('keys, values and aliases are bound parameters, never SQL text', () => {
    const q = compileRunSearch({
      filter: "metrics.`secret key` > 0.5 and params.p IN ('v1', 'v2') and datasets.name = 'd'",
      orderBy: ['tags.`sort key` DESC'],
      experimentIds: ['7'],
    });
    for (const literal of ['secret key', 'v1', 'sort key', "'d'", '0.5', '7']) {
      assert.ok(!q.sql.includes(literal), `${literal} in ${q.sql}`);
    }
    assert.deepEqual(q.params, ['sort key', 7, 'active', 'secret key', 0.5, 'p', 'v1', 'v2', 'd', 1001, 0]);
    assert.equal(q.sql.split('?').length - 1, q.params.length);
  });

  describe('experiments', () => {
    function experiments(search: ExperimentSearch): string[] {
      const q = compileExperimentSearch(search);
      const rows = db.prepare(q.sql).all(...q.params);
      return takePage(rows, q).items.map((row) =>
        String(db.prepare('SELECT name FROM experiments WHERE experiment_id = ?').get(row.experiment_id!)!.name),
      );
    }

    test('default order is creation_time DESC over active experiments', () => {
      assert.deepEqual(experiments({}), ['Default', 'nlp-bert', 'vision']);
      assert.deepEqual(experiments({ viewType: 'DELETED_ONLY' }), ['old-stuff']);
      assert.deepEqual(experiments({ viewType: 'ALL' }), ['Default', 'nlp-bert', 'vision', 'old-stuff']);
    });

    test('filters over name, times and tags', () => {
      assert.deepEqual(experiments({ filter: "name LIKE 'n%'" }), ['nlp-bert']);
      assert.deepEqual(experiments({ filter: "name LIKE 'N%'" }), []);
      assert.deepEqual(experiments({ filter: "attributes.name ILIKE '%BERT%'" }), ['nlp-bert']);
      assert.deepEqual(experiments({ filter: "name != 'vision'" }), ['Default', 'nlp-bert']);
      assert.deepEqual(experiments({ filter: "tags.team = 'CV'" }), ['vision']);
      assert.deepEqual(experiments({ filter: "tags.team ILIKE 'cv' or tags.team = 'nlp'" }), ['nlp-bert', 'vision']);
      assert.deepEqual(experiments({ filter: "tags.team != 'CV'" }), ['nlp-bert']);
      assert.deepEqual(experiments({ filter: 'attributes.creation_time > 150' }), ['Default', 'nlp-bert']);
      assert.deepEqual(experiments({ filter: "attributes.last_update_time < 400 or name = 'vision'" }), ['nlp-bert', 'vision']);
      assert.deepEqual(experiments({ filter: "tags.stage = 'prod' and creation_time >= 200" }), ['nlp-bert']);
    });

    test('order_by and paging', () => {
      assert.deepEqual(experiments({ orderBy: ['name'] }), ['Default', 'nlp-bert', 'vision']);
      assert.deepEqual(experiments({ orderBy: ['attributes.last_update_time DESC'] }), ['Default', 'vision', 'nlp-bert']);
      assert.deepEqual(experiments({ orderBy: ['experiment_id DESC'], viewType: 'ALL' }), ['old-stuff', 'nlp-bert', 'vision', 'Default']);
      const seen: string[] = [];
      let pageToken: string | undefined;
      do {
        const q = compileExperimentSearch({ viewType: 'ALL', maxResults: 3, pageToken });
        const page = takePage(db.prepare(q.sql).all(...q.params), q);
        seen.push(...page.items.map((row) => String(row.experiment_id)));
        pageToken = page.nextPageToken;
      } while (pageToken);
      assert.deepEqual(seen, ['0', '2', '1', '3']);
    });

    test('experiment filters reject run-only fields', () => {
      syntaxError('metrics.x > 1', 0, /experiments have no metrics; use tags\.<key>, name, creation_time, last_update_time/, parseExperimentFilter);
      syntaxError("params.x = 'a'", 0, /experiments have no params/, parseExperimentFilter);
      syntaxError("name IN ('a')", 5, /operator 'IN' is not valid for attribute 'name'/, parseExperimentFilter);
      syntaxError('experiment_id = 1', 0, /unknown attribute 'experiment_id'/, parseExperimentFilter);
      syntaxError("status = 'x'", 0, /unknown attribute 'status'; experiments have name, creation_time, last_update_time, or use tags\.status/, parseExperimentFilter);
      invalidValue(() => compileExperimentSearch({ orderBy: ['tags.team'] }), /cannot order experiments by tags/);
      invalidValue(() => compileExperimentSearch({ orderBy: ['start_time'] }), /unknown attribute 'start_time'/);
    });
  });
});

test('filters past the nesting and size bounds get a syntax error with a position, not a crash', () => {
  const deep = `${'('.repeat(20_000)}metrics.a > 1${')'.repeat(20_000)}`;
  assert.throws(() => parseRunFilter(deep), (e: unknown) => e instanceof FilterSyntaxError && e.position === 32 && /nested too deep/.test(e.message));
  const wide = Array.from({ length: 3000 }, (_, i) => `metrics.m${i} > 1`).join(' or ');
  assert.throws(() => parseRunFilter(wide), (e: unknown) => e instanceof FilterSyntaxError && /at most 200/.test(e.message));
  assert.ok(parseRunFilter(Array.from({ length: 200 }, (_, i) => `metrics.m${i} > 1`).join(' or ')));
});
