/**
 * `runwise export-pipeline`: the example pipeline (test/fixtures/export/workspace: foreach, matrix,
 * params) against the golden files; the Argo output against Argo's JSON schema (the vendored
 * subset, made strict so that an unknown field fails too); the Kubeflow output against KFP's
 * pipeline_spec.proto field names and types (vendored subset, loaded with protobufjs) and its
 * references; the Airflow file through Python's own parser (a DAG with dag_id, every task assigned
 * and wired as the graph says). Task-name sanitization, a refused cycle, determinism, and the CLI.
 *
 * UPDATE_GOLDENS=1 rewrites the golden files from the current output (then read the diff).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import * as protobuf from 'protobufjs';
import { parseAllDocuments } from 'yaml';
import { commandOptions, main } from '../../core/cli/main';
import { exportPipelineOptions } from '../../core/cli/commands/exportPipeline';
import { loadPipeline } from '../../core/pipeline/loadPipeline';
import { argoWorkflowObject } from '../../core/pipeline/export/argoWorkflow';
import { exportTasks, isDnsLabel, taskNames } from '../../core/pipeline/export/exportTasks';
import { ExportOptionsError, type ExportOptions } from '../../core/pipeline/export/exportSettings';
import { exportPipeline } from '../../core/pipeline/export/pipelineExport';
import type { PipelineGraph } from '../../core/pipeline/pipelineModel';
import { tempWorkspace } from '../support/tempWorkspace';

const fixtures = path.join(__dirname, '..', 'fixtures', 'export');
const exampleWorkspace = path.join(fixtures, 'workspace');
const OPTIONS = { name: 'example', image: 'ghcr.io/acme/train:1.0', trackingUri: 'https://mlflow.example.com' };

const GOLDENS: { file: string; options: ExportOptions }[] = [
  { file: 'argo.yaml', options: { ...OPTIONS, format: 'argo' } },
  { file: 'kubeflow.yaml', options: { ...OPTIONS, format: 'kubeflow' } },
  { file: 'airflow_dag.py', options: { ...OPTIONS, format: 'airflow' } },
  { file: 'airflow_dag_k8s.py', options: { ...OPTIONS, format: 'airflow', operator: 'k8s' } },
];

function exampleGraph(): PipelineGraph {
  // No load cache: nothing is written into the fixture folder.
  return loadPipeline(exampleWorkspace);
}

/** The graph's edges as [upstream id, downstream id]. */
function graphEdges(graph: PipelineGraph): string[][] {
  return graph.stages.flatMap((s) => graph.upstream(s.id).map((u) => [u, s.id]));
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

test('the example pipeline exports to the golden files', () => {
  const graph = exampleGraph();
  assert.deepEqual(
    graph.stages.map((s) => s.id),
    ['prepare', 'featurize@us', 'featurize@eu', 'train@us-Linear', 'train@us-Tree', 'train@eu-Linear', 'train@eu-Tree', 'report'],
    'foreach and matrix are expanded as the runner expands them',
  );
  for (const g of GOLDENS) {
    const text = exportPipeline(graph, g.options);
    const goldenPath = path.join(fixtures, g.file);
    if (process.env.UPDATE_GOLDENS) writeFileSync(goldenPath, text);
    assert.equal(text, readFileSync(goldenPath, 'utf8'), `${g.file} differs from the export (UPDATE_GOLDENS=1 rewrites it)`);
  }
});

test('the Argo Workflow validates against Argo Workflows\' JSON schema, strictly', () => {
  const schema = JSON.parse(readFileSync(path.join(fixtures, 'argo-workflow.schema.json'), 'utf8')) as { $id: string; definitions: Record<string, Record<string, unknown>> };
  // Strict: a field the schema does not declare fails, so a misspelt one cannot pass unnoticed.
  for (const def of Object.values(schema.definitions)) if (def.type === 'object' && def.properties) def.additionalProperties = false;
  const ajv = new Ajv({ strict: true, allErrors: true });
  ajv.addSchema(schema);
  const validate = ajv.getSchema(`${schema.$id}#/definitions/io.argoproj.workflow.v1alpha1.Workflow`)!;
  const graph = exampleGraph();

  for (const options of [{ ...OPTIONS, format: 'argo' as const }, { name: 'example', image: 'img:1', format: 'argo' as const }]) {
    const [doc] = parseAllDocuments(exportPipeline(graph, options)).map((d) => d.toJS() as Record<string, unknown>);
    assert.ok(validate(doc), JSON.stringify(validate.errors, null, 2));
    assert.deepEqual(doc, argoWorkflowObject(graph, options), 'the YAML holds the object as built');
  }
  // The check can fail: a misspelt field and a missing required one are caught.
  const bad = argoWorkflowObject(graph, { ...OPTIONS, format: 'argo' }) as { spec: { templates: { dag?: { tasks: Record<string, unknown>[] } }[] } };
  bad.spec.templates[0]!.dag!.tasks[1]!.dependancies = ['prepare'];
  assert.equal(validate(bad), false);
  const noImage = argoWorkflowObject(graph, { ...OPTIONS, format: 'argo' }) as { spec: { templates: { container?: Record<string, unknown> }[] } };
  delete noImage.spec.templates[1]!.container!.image;
  assert.equal(validate(noImage), false);

  // What the schema cannot say: names are DNS labels, dependencies and templates exist.
  const wf = argoWorkflowObject(graph, { ...OPTIONS, format: 'argo' }) as {
    spec: { templates: { name: string; dag?: { tasks: { name: string; template: string; dependencies?: string[]; arguments: { parameters: { value: string }[] } }[] } }[] };
  };
  const templates = new Set(wf.spec.templates.map((t) => t.name));
  const tasks = wf.spec.templates[0]!.dag!.tasks;
  const names = new Set(tasks.map((t) => t.name));
  assert.equal(names.size, graph.stages.length);
  const idOf = new Map(tasks.map((t) => [t.name, t.arguments.parameters[0]!.value]));
  const edges: string[][] = [];
  for (const t of tasks) {
    assert.ok(isDnsLabel(t.name), t.name);
    assert.ok(templates.has(t.template));
    for (const d of t.dependencies ?? []) {
      assert.ok(names.has(d), `${t.name} depends on unknown task ${d}`);
      edges.push([idOf.get(d)!, idOf.get(t.name)!]);
    }
  }
  assert.deepEqual(edges, graphEdges(graph), 'dependencies are exactly the graph\'s edges');
});

/** Checks `value` (a YAML document as JSON) against `type` by protobuf's JSON mapping: field names, types, enums, oneofs. */
function checkMessage(type: protobuf.Type, value: unknown, at: string, problems: string[]): void {
  if (type.fullName === '.google.protobuf.Value') return; // any JSON value
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${at}: expected a ${type.name} object`);
    return;
  }
  const obj = value as Record<string, unknown>;
  for (const [key, v] of Object.entries(obj)) {
    const field = type.fields[key];
    if (!field) {
      problems.push(`${at}.${key}: no field '${key}' in ${type.fullName}`);
      continue;
    }
    const one = (x: unknown, where: string) => checkField(field, x, where, problems);
    if (field.map) {
      if (!isPlainObject(v)) problems.push(`${at}.${key}: expected a map`);
      else for (const [k, x] of Object.entries(v)) one(x, `${at}.${key}[${k}]`);
    } else if (field.repeated) {
      if (!Array.isArray(v)) problems.push(`${at}.${key}: expected a list`);
      else v.forEach((x, i) => one(x, `${at}.${key}[${i}]`));
    } else one(v, `${at}.${key}`);
  }
  for (const oneof of type.oneofsArray) {
    if (oneof.name.startsWith('_')) continue; // proto3 `optional`
    const set = oneof.oneof.filter((n) => n in obj);
    if (set.length > 1) problems.push(`${at}: more than one of ${oneof.name} (${set.join(', ')})`);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function checkField(field: protobuf.Field, v: unknown, at: string, problems: string[]): void {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return checkMessage(resolved, v, at, problems);
  if (resolved instanceof protobuf.Enum) {
    if (typeof v !== 'string' || !(v in resolved.values)) problems.push(`${at}: '${String(v)}' is not a ${resolved.name}`);
    return;
  }
  const expected = field.type === 'string' ? 'string' : field.type === 'bool' ? 'boolean' : 'number';
  if (typeof v !== expected) problems.push(`${at}: expected ${field.type}, got ${JSON.stringify(v)}`);
}

test('the Kubeflow pipeline spec has KFP\'s field names and types, and its references resolve', () => {
  const root = new protobuf.Root();
  root.loadSync(path.join(fixtures, 'kfp-pipeline-spec.subset.proto'));
  root.resolveAll();
  const graph = exampleGraph();
  for (const options of [{ ...OPTIONS, format: 'kubeflow' as const }, { name: 'example', image: 'img:1', format: 'kubeflow' as const }]) {
    const docs = parseAllDocuments(exportPipeline(graph, options)).map((d) => d.toJS() as Record<string, unknown>);
    assert.equal(docs.length, 2, 'the pipeline spec, then the Kubernetes platform spec');
    const problems: string[] = [];
    checkMessage(root.lookupType('ml_pipelines.PipelineSpec'), docs[0], 'spec', problems);
    checkMessage(root.lookupType('ml_pipelines.PlatformSpec'), docs[1], 'platform', problems);
    assert.deepEqual(problems, []);

    const spec = docs[0] as {
      schemaVersion: string;
      sdkVersion: string;
      pipelineInfo: { name: string };
      components: Record<string, { executorLabel: string; inputDefinitions: { parameters: Record<string, unknown> } }>;
      deploymentSpec: { executors: Record<string, { container: { image: string; command: string[]; args: string[] } }> };
      root: { dag: { tasks: Record<string, { componentRef: { name: string }; dependentTasks?: string[]; taskInfo: { name: string }; inputs: { parameters: Record<string, { componentInputParameter: string }> } }> }; inputDefinitions: { parameters: Record<string, unknown> } };
    };
    assert.equal(spec.schemaVersion, '2.1.0');
    assert.ok(spec.sdkVersion);
    assert.ok(isDnsLabel(spec.pipelineInfo.name));
    const tasks = spec.root.dag.tasks;
    assert.equal(Object.keys(tasks).length, graph.stages.length);
    const idOf = new Map<string, string>();
    for (const [name, task] of Object.entries(tasks)) {
      assert.ok(isDnsLabel(name), name);
      const component = spec.components[task.componentRef.name];
      assert.ok(component, `${name}: component ${task.componentRef.name} exists`);
      const executor = spec.deploymentSpec.executors[component.executorLabel];
      assert.ok(executor, `${name}: executor ${component.executorLabel} exists`);
      assert.ok((docs[1] as { platforms: { kubernetes: { deploymentSpec: { executors: Record<string, unknown> } } } }).platforms.kubernetes.deploymentSpec.executors[component.executorLabel]);
      for (const d of task.dependentTasks ?? []) assert.ok(d in tasks, `${name} depends on unknown task ${d}`);
      for (const [p, input] of Object.entries(task.inputs.parameters)) {
        assert.ok(p in component.inputDefinitions.parameters, `${name}: input ${p} is declared by its component`);
        assert.ok(input.componentInputParameter in spec.root.inputDefinitions.parameters, `${name}: ${input.componentInputParameter} is a pipeline input`);
      }
      const args = executor.container.args;
      assert.equal(executor.container.image, options.image);
      assert.deepEqual(args.slice(1, 3), ['runwise', 'run']);
      assert.equal(args[4], '--single');
      idOf.set(name, args[3]!);
    }
    // Every graph edge is a dependency; the extra ones only chain the runner's order.
    const deps = new Set(Object.entries(tasks).flatMap(([n, t]) => (t.dependentTasks ?? []).map((d) => `${idOf.get(d)} -> ${idOf.get(n)}`)));
    for (const [u, d] of graphEdges(graph)) assert.ok(deps.has(`${u} -> ${d}`), `${u} -> ${d}`);
    const order = graph.stages.map((s) => s.id);
    for (let i = 1; i < order.length; i++) assert.ok(deps.has(`${order[i - 1]} -> ${order[i]}`) || graph.upstream(order[i]!).includes(order[i - 1]!), `${order[i]} waits for ${order[i - 1]}`);
  }
  // The check can fail: an unknown field and a wrong enum value are reported.
  const problems: string[] = [];
  checkMessage(root.lookupType('ml_pipelines.PipelineSpec'), { root: { dag: { tasks: { a: { dependantTasks: ['b'] } } }, inputDefinitions: { parameters: { x: { parameterType: 'TEXT' } } } } }, 'spec', problems);
  assert.equal(problems.length, 2, problems.join('\n'));
});

const AIRFLOW_CHECK = `
import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read(), sys.argv[1])
out = {"dag_id": None, "tasks": {}, "edges": [], "imports": []}
for node in ast.walk(tree):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        for a in node.names:
            out["imports"].append((getattr(node, "module", None) or "") + ":" + a.name)
    if isinstance(node, ast.With):
        for item in node.items:
            call = item.context_expr
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "DAG":
                for kw in call.keywords:
                    if kw.arg == "dag_id":
                        out["dag_id"] = kw.value.value
                    if kw.arg == "schedule":
                        out["schedule"] = repr(kw.value.value)
                for stmt in node.body:
                    if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
                        kws = {kw.arg: kw.value for kw in stmt.value.keywords}
                        out["tasks"][stmt.targets[0].id] = {"operator": stmt.value.func.id, "task_id": kws["task_id"].value}
                    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.op, ast.RShift):
                        out["edges"].append([stmt.value.left.id, stmt.value.right.id])
print(json.dumps(out))
`;

test('the Airflow file is Python that builds a DAG with every stage a task, wired as the graph', () => {
  const graph = exampleGraph();
  const names = taskNames(graph.stages.map((s) => s.id));
  for (const g of GOLDENS.filter((x) => x.options.format === 'airflow')) {
    const file = path.join(tempWorkspace('airflow'), 'dag.py');
    writeFileSync(file, exportPipeline(graph, g.options));
    const found = JSON.parse(execFileSync('python3', ['-c', AIRFLOW_CHECK, file], { encoding: 'utf8' })) as {
      dag_id: string;
      schedule: string;
      tasks: Record<string, { operator: string; task_id: string }>;
      edges: [string, string][];
      imports: string[];
    };
    assert.equal(found.dag_id, 'example');
    assert.equal(found.schedule, 'None');
    const operator = g.options.operator === 'k8s' ? 'KubernetesPodOperator' : 'BashOperator';
    assert.ok(found.imports.includes(g.options.operator === 'k8s' ? 'airflow.providers.cncf.kubernetes.operators.pod:KubernetesPodOperator' : 'airflow.providers.standard.operators.bash:BashOperator'));
    assert.deepEqual(
      Object.values(found.tasks).map((t) => [t.operator, t.task_id]),
      graph.stages.map((s) => [operator, names.get(s.id)]),
      'one task per stage, in the runner\'s order',
    );
    const taskIdOf = (variable: string) => found.tasks[variable]?.task_id;
    assert.deepEqual(
      found.edges.map(([a, b]) => [taskIdOf(a), taskIdOf(b)]),
      graphEdges(graph).map(([u, d]) => [names.get(u!), names.get(d!)]),
      'every edge wired, and only the graph\'s',
    );
  }
  // The check can fail: a file that is not Python is refused by the parser.
  const broken = path.join(tempWorkspace('airflow'), 'dag.py');
  writeFileSync(broken, exportPipeline(graph, GOLDENS[2]!.options).replace('with DAG(', 'with DAG(('));
  assert.throws(() => execFileSync('python3', ['-c', AIRFLOW_CHECK, broken], { stdio: 'pipe' }));
});

test("the Airflow BashOperator tasks point the runs at the conf's URI when given, else keep the worker's MLFLOW_TRACKING_URI", () => {
  const dag = exportPipeline(exampleGraph(), { ...OPTIONS, format: 'airflow' });
  // The first task's command and env, as Python string literals (JSON-compatible here).
  const command = JSON.parse(/bash_command=("(?:[^"\\]|\\.)*")/.exec(dag)![1]!) as string;
  const confVar = /env=\{"(\w+)": "\{\{ params\.mlflow_tracking_uri or '' \}\}"\}/.exec(dag)![1]!;
  assert.match(command, / runwise run prepare --single --push$/);
  const uriSeen = (env: Record<string, string>) =>
    execFileSync('bash', ['-c', command.replace(/ runwise run .*$/, ' printenv MLFLOW_TRACKING_URI || true')], { env: { PATH: process.env.PATH!, ...env }, encoding: 'utf8' }).trim();
  // Airflow renders the conf as '' when it is not given (`or ''`): the worker's own URI is kept.
  assert.equal(uriSeen({ [confVar]: '', MLFLOW_TRACKING_URI: 'http://worker:5000' }), 'http://worker:5000');
  assert.equal(uriSeen({ [confVar]: 'https://conf.example.com', MLFLOW_TRACKING_URI: 'http://worker:5000' }), 'https://conf.example.com');
  assert.equal(uriSeen({ [confVar]: '' }), '');
});

test('task names: DNS-1123 labels, unique when sanitizing collides, the same for the same id', () => {
  const ids = ['train@us', 'train@US', 'train-us', 'Train_US', 'sub/dvc.yaml:train@us', '@@@', '___', 'x'.repeat(80), `${'x'.repeat(80)}y`, 'prepare'];
  const names = taskNames(ids);
  assert.equal(new Set(names.values()).size, ids.length, 'unique');
  for (const id of ids) assert.ok(isDnsLabel(names.get(id)!), `${id} → ${names.get(id)}`);
  assert.equal(names.get('train-us'), 'train-us', 'an id that is a label keeps it');
  assert.equal(names.get('prepare'), 'prepare');
  assert.match(names.get('train@us')!, /^train-us-[0-9a-f]{8}$/, 'a colliding id gets a hash of itself');
  assert.match(names.get('sub/dvc.yaml:train@us')!, /^sub-dvc-yaml-train-us$/, 'no collision, no hash');
  // Stable: an id's name does not depend on the order or on stages that do not collide with it.
  const again = taskNames([...ids].reverse());
  for (const id of ids) assert.equal(again.get(id), names.get(id), id);
  assert.equal(taskNames(['train@us', 'train-us']).get('train@us'), names.get('train@us'));
  assert.equal(taskNames(['train@us']).get('train@us'), 'train-us', 'alone it needs no hash');
});

test('the export is deterministic, and a pipeline the runner refuses is refused the same way', async () => {
  const graph = exampleGraph();
  for (const g of GOLDENS) assert.equal(exportPipeline(exampleGraph(), g.options), exportPipeline(graph, g.options), g.file);
  assert.deepEqual(
    exportTasks(graph).map((t) => t.name),
    exportTasks(exampleGraph()).map((t) => t.name),
  );

  const ws = tempWorkspace('export-cycle', {
    'runwise.yaml': 'stages:\n  a:\n    cmd: cp b.txt a.txt\n    deps: [b.txt]\n    outs: [a.txt]\n  b:\n    cmd: cp a.txt b.txt\n    deps: [a.txt]\n    outs: [b.txt]\n',
  });
  const exported = await cli('export-pipeline', '--format', 'argo', '--image', 'img:1', '--workspace', ws);
  const ran = await cli('run', '--dry', '--workspace', ws);
  assert.equal(exported.code, 1);
  assert.equal(exported.out, '');
  assert.match(exported.err, /^runwise\.yaml:4:12: error: Dependency cycle: .*\(a → b → a\)\. \[stage-cycle\]$/m);
  const diagnostics = (err: string) => err.split('\n').filter((l) => !l.startsWith('runwise: '));
  assert.deepEqual(diagnostics(exported.err), diagnostics(ran.err), 'the same diagnostics as the runner');
  assert.match(exported.err, /runwise: 2 errors in runwise\.yaml: nothing was exported\n$/);
  assert.match(ran.err, /runwise: 2 errors in runwise\.yaml: nothing was run\n$/);

  const invalid = tempWorkspace('export-invalid', { 'runwise.yaml': 'stages:\n  a:\n    cmd: [\n' });
  const bad = await cli('export-pipeline', '--format', 'kubeflow', '--image', 'img:1', '--workspace', invalid);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^runwise\.yaml:\d+:\d+: error: .*\[yaml-syntax\]$/m);
  assert.deepEqual(diagnostics(bad.err), diagnostics((await cli('run', '--dry', '--workspace', invalid)).err));
});

test('runwise export-pipeline: stdout, --output, and bad options', async () => {
  const ws = tempWorkspace('export-cli');
  cpSync(exampleWorkspace, ws, { recursive: true });
  const graph = exampleGraph();

  const argo = await cli('export-pipeline', '--format', 'argo', '--image', OPTIONS.image, '--tracking-uri', OPTIONS.trackingUri, '--name', 'example', '--workspace', ws);
  assert.equal(argo.code, 0, argo.err);
  assert.equal(argo.out, readFileSync(path.join(fixtures, 'argo.yaml'), 'utf8'));

  const out = path.join(ws, 'dag.py');
  const airflow = await cli('export-pipeline', '--format', 'airflow', '--output', out, '--name', 'example', '--tracking-uri', OPTIONS.trackingUri, '--workspace', ws);
  assert.equal(airflow.code, 0, airflow.err);
  assert.equal(airflow.out, '');
  assert.match(airflow.err, /Wrote the airflow pipeline \(8 stages\) to /);
  assert.equal(readFileSync(out, 'utf8'), readFileSync(path.join(fixtures, 'airflow_dag.py'), 'utf8'));

  // --pipeline names one file; the default name comes from the workspace folder.
  const kfp = await cli('export-pipeline', '--format', 'kubeflow', '--image', 'img:1', '--pipeline', 'runwise.yaml', '--workspace', ws);
  assert.equal(kfp.code, 0, kfp.err);
  assert.match(kfp.out, new RegExp(`^  name: ${path.basename(ws).toLowerCase().replace(/[^a-z0-9]+/g, '-')}$`, 'm'));
  assert.equal(exportPipeline(graph, { format: 'kubeflow', image: 'img:1', name: 'x' }).split('\n').length, kfp.out.split('\n').length);

  for (const [argv, message] of [
    [['--image', 'i'], /needs --format argo\|kubeflow\|airflow/],
    [['--format', 'dot'], /needs --format argo\|kubeflow\|airflow \(got 'dot'\)/],
    [['--format', 'argo'], /--format argo needs --image IMAGE/],
    [['--format', 'airflow', '--operator', 'k8s'], /--format airflow --operator k8s needs --image IMAGE/],
    [['--format', 'argo', '--image', 'i', '--operator', 'k8s'], /--operator is for --format airflow/],
    [['--format', 'airflow', '--operator', 'docker'], /--operator is bash or k8s/],
    [['--format', 'argo', '--image', 'i', '--name', 'Bad_Name'], /--name 'Bad_Name' is not a DNS-1123 label/],
    [['--format', 'argo', '--image', 'i', '--tracking-uri', 'not a uri'], /--tracking-uri 'not a uri' is not a URI/],
  ] as const) {
    const r = await cli('export-pipeline', ...argv, '--workspace', ws);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
    assert.match(r.err, message);
    assert.equal(r.out, '');
  }
  assert.throws(() => exportPipeline(graph, { format: 'argo', name: 'x' }), ExportOptionsError);
  assert.deepEqual(commandOptions('export-pipeline'), exportPipelineOptions, "main's option spec is the command module's");
  assert.ok(!existsSync(path.join(exampleWorkspace, '.runwise')), 'the fixture workspace is never written');
});
