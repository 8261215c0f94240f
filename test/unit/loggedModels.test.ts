// MLflow 3's logged models in the tracker (schema migration 4, core/tracker/loggedModels.ts):
// create → files → finalize, tags, immutable params, metrics linked through log-batch, runs/outputs,
// soft delete and search-logged-models' filter, order and pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tracker } from '../../core/tracker/tracker';
import { TrackerError } from '../../core/tracker/trackerError';
import { tempWorkspace } from '../support/tempWorkspace';

function open(): { t: Tracker; clock: { now: number } } {
  const clock = { now: 1_700_000_000_000 };
  const t = Tracker.open(tempWorkspace('models'), { now: () => clock.now });
  return { t, clock };
}

function rejects(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TrackerError, `expected a TrackerError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  });
}

test('a logged model is created PENDING with an m-<32 hex> id, its artifact root, params and tags; then finalized', () => {
  const { t, clock } = open();
  try {
    const e = t.createExperiment('models');
    const run = t.createRun({ experimentId: e.experimentId }).info.runId;
    const m = t.createLoggedModel({
      experimentId: e.experimentId,
      name: 'model',
      sourceRunId: run,
      modelType: 'classifier',
      params: [{ key: 'lr', value: '0.01' }],
      tags: [{ key: 'mlflow.user', value: 'alice' }],
    });
    assert.match(m.modelId, /^m-[0-9a-f]{32}$/);
    assert.deepEqual(
      { ...m, modelId: 'ID' },
      {
        modelId: 'ID',
        experimentId: e.experimentId,
        name: 'model',
        artifactUri: `mlflow-artifacts:/${e.experimentId}/models/${m.modelId}/artifacts`,
        creationTimestamp: clock.now,
        lastUpdatedTimestamp: clock.now,
        status: 'LOGGED_MODEL_PENDING',
        modelType: 'classifier',
        sourceRunId: run,
        lifecycleStage: 'active',
        tags: [{ key: 'mlflow.user', value: 'alice' }],
        params: [{ key: 'lr', value: '0.01' }],
        metrics: [],
      },
    );
    clock.now += 5;
    const ready = t.finalizeLoggedModel(m.modelId, 'LOGGED_MODEL_READY');
    assert.equal(ready.status, 'LOGGED_MODEL_READY');
    assert.equal(ready.lastUpdatedTimestamp, clock.now);
    assert.equal(ready.creationTimestamp, clock.now - 5);
    assert.deepEqual(t.getLoggedModel(m.modelId), ready);
    rejects(() => t.finalizeLoggedModel(m.modelId, 'LOGGED_MODEL_STATUS_UNSPECIFIED'), 'INVALID_PARAMETER_VALUE');

    // Unnamed: a readable random name, as MLflow's _generate_random_name; default experiment 0.
    const unnamed = t.createLoggedModel();
    assert.match(unnamed.name, /^[a-z]+-[a-z]+-\d{3}$/);
    assert.equal(unnamed.experimentId, '0');
    assert.equal(unnamed.sourceRunId, undefined);
  } finally {
    t.close();
  }
});

test('creating a model refuses bad names, unknown experiments or runs, and conflicting params', () => {
  const { t } = open();
  try {
    rejects(() => t.createLoggedModel({ name: 'my.model' }), 'INVALID_PARAMETER_VALUE', /cannot contain/);
    rejects(() => t.createLoggedModel({ name: 'a/b' }), 'INVALID_PARAMETER_VALUE');
    rejects(() => t.createLoggedModel({ experimentId: '42' }), 'RESOURCE_DOES_NOT_EXIST');
    rejects(() => t.createLoggedModel({ experimentId: 'x' }), 'INVALID_PARAMETER_VALUE');
    rejects(() => t.createLoggedModel({ sourceRunId: 'f'.repeat(32) }), 'RESOURCE_DOES_NOT_EXIST');
    rejects(
      () => t.createLoggedModel({ params: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }] }),
      'INVALID_PARAMETER_VALUE',
      /Duplicate params/,
    );
    assert.equal(t.searchLoggedModels({ experimentIds: ['0'] }).items.length, 0, 'nothing was created');
    rejects(() => t.getLoggedModel('m-0123456789abcdef0123456789abcdef'), 'RESOURCE_DOES_NOT_EXIST', /Logged model with ID/);
  } finally {
    t.close();
  }
});

test('tags are set and deleted; params are immutable', () => {
  const { t } = open();
  try {
    const id = t.createLoggedModel({ name: 'm' }).modelId;
    t.setLoggedModelTags(id, [{ key: 'stage', value: 'dev' }, { key: 'team', value: 'ml' }]);
    t.setLoggedModelTags(id, [{ key: 'stage', value: 'prod' }]);
    assert.deepEqual(t.getLoggedModel(id).tags, [{ key: 'stage', value: 'prod' }, { key: 'team', value: 'ml' }]);
    t.deleteLoggedModelTag(id, 'team');
    rejects(() => t.deleteLoggedModelTag(id, 'team'), 'RESOURCE_DOES_NOT_EXIST', /No tag with key 'team'/);
    assert.deepEqual(t.getLoggedModel(id).tags, [{ key: 'stage', value: 'prod' }]);

    t.logLoggedModelParams(id, [{ key: 'depth', value: '3' }]);
    t.logLoggedModelParams(id, [{ key: 'depth', value: '3' }]);
    rejects(() => t.logLoggedModelParams(id, [{ key: 'depth', value: '4' }]), 'INVALID_PARAMETER_VALUE', /Changing param values is not allowed/);
    assert.deepEqual(t.getLoggedModel(id).params, [{ key: 'depth', value: '3' }]);
    rejects(() => t.setLoggedModelTags('m-nope', [{ key: 'a', value: 'b' }]), 'RESOURCE_DOES_NOT_EXIST');
  } finally {
    t.close();
  }
});

test('metrics logged with a model_id land in the model (with run and dataset) and once in the run', () => {
  const { t } = open();
  try {
    const run = t.createRun().info.runId;
    const id = t.createLoggedModel({ sourceRunId: run }).modelId;
    t.logBatch(run, { metrics: [{ key: 'acc', value: 0.8, timestamp: 10, step: 0 }, { key: 'loss', value: NaN, timestamp: 10, step: 0 }] });
    // What log_model does: re-log the run's points at the step with the new model's id.
    t.logBatch(run, {
      metrics: [
        { key: 'acc', value: 0.8, timestamp: 10, step: 0, modelId: id },
        { key: 'loss', value: NaN, timestamp: 10, step: 0, modelId: id },
      ],
    });
    t.logMetric(run, { key: 'acc', value: 0.9, timestamp: 20, step: 1, modelId: id, datasetName: 'val', datasetDigest: 'abc' });
    assert.deepEqual(
      t.getMetricHistory(run, 'acc').items.map((m) => [m.step, m.value]),
      [
        [0, 0.8],
        [1, 0.9],
      ],
      'the re-logged point is not a second point of the run',
    );
    assert.equal(t.getMetricHistory(run, 'loss').items.length, 1);
    const metrics = t.getLoggedModel(id).metrics;
    assert.deepEqual(
      metrics.map((m) => ({ ...m, value: Number.isNaN(m.value) ? 'NaN' : m.value })),
      [
        { key: 'acc', value: 0.8, timestamp: 10, step: 0, modelId: id, runId: run },
        { key: 'acc', value: 0.9, timestamp: 20, step: 1, modelId: id, runId: run, datasetName: 'val', datasetDigest: 'abc' },
        { key: 'loss', value: 'NaN', timestamp: 10, step: 0, modelId: id, runId: run },
      ],
    );
    // An unknown model fails the whole batch.
    rejects(() => t.logBatch(run, { metrics: [{ key: 'x', value: 1, timestamp: 1, step: 0 }, { key: 'x', value: 2, timestamp: 1, step: 0, modelId: 'm-nope' }] }), 'RESOURCE_DOES_NOT_EXIST');
    assert.equal(t.getMetricHistory(run, 'x').items.length, 0);
  } finally {
    t.close();
  }
});

test('runs/outputs and model inputs link runs to models; the run is reported as changed', () => {
  const { t } = open();
  try {
    const run = t.createRun().info.runId;
    const a = t.createLoggedModel({ sourceRunId: run }).modelId;
    const b = t.createLoggedModel().modelId;
    const before = t.changeMarker();
    t.logOutputs(run, [{ modelId: a, step: 0 }]);
    t.logOutputs(run, [{ modelId: a, step: 0 }]);
    t.logOutputs(run, [{ modelId: a, step: 3 }]);
    t.logInputs(run, [], [{ modelId: b }]);
    const got = t.getRun(run);
    assert.deepEqual(got.modelOutputs, [
      { modelId: a, step: 0 },
      { modelId: a, step: 3 },
    ]);
    assert.deepEqual(got.modelInputs, [{ modelId: b }]);
    assert.deepEqual(t.changesSince(before).runs.map((r) => r.info.runId), [run]);
    assert.equal(t.createRun().modelOutputs, undefined, 'a run without links has none');
    rejects(() => t.logOutputs(run, [{ modelId: 'm-nope', step: 0 }]), 'RESOURCE_DOES_NOT_EXIST');
    t.deleteRun(run);
    rejects(() => t.logOutputs(run, [{ modelId: a, step: 1 }]), 'INVALID_PARAMETER_VALUE', /must be in the 'active' state/);
  } finally {
    t.close();
  }
});

test("a model's files are stored by content under its own root, listed like a directory, and refused once deleted", async () => {
  const { t } = open();
  try {
    const id = t.createLoggedModel().modelId;
    await t.putLoggedModelArtifact(id, 'MLmodel', Buffer.from('flavors: {}\n'));
    await t.putLoggedModelArtifact(id, 'model.pkl', Buffer.from('weights'));
    await t.putLoggedModelArtifact(id, 'metadata/MLmodel', Buffer.from('flavors: {}\n'));
    assert.deepEqual(t.listLoggedModelArtifacts(id), [
      { path: 'MLmodel', isDir: false, fileSize: 12 },
      { path: 'metadata', isDir: true },
      { path: 'model.pkl', isDir: false, fileSize: 7 },
    ]);
    assert.deepEqual(t.listLoggedModelArtifacts(id, 'metadata'), [{ path: 'metadata/MLmodel', isDir: false, fileSize: 12 }]);
    const opened = t.openLoggedModelArtifact(id, 'MLmodel');
    assert.equal(opened.record.sha256, t.openLoggedModelArtifact(id, 'metadata/MLmodel').record.sha256, 'one blob for equal content');
    await assert.rejects(t.putLoggedModelArtifact(id, 'metadata', Buffer.from('x')), /is a directory/);
    // Nor below a file: model.pkl/inner would list model.pkl as both, and no export could write it.
    await assert.rejects(t.putLoggedModelArtifact(id, 'model.pkl/inner', Buffer.from('x')), new RegExp(`Artifact path 'model\\.pkl/inner' is below 'model\\.pkl', a file of logged model ${id}`));
    await assert.rejects(t.putLoggedModelArtifact(id, '../escape', Buffer.from('x')), /Invalid artifact path/);
    rejects(() => t.openLoggedModelArtifact(id, 'missing'), 'RESOURCE_DOES_NOT_EXIST');

    t.deleteLoggedModel(id);
    rejects(() => t.getLoggedModel(id), 'RESOURCE_DOES_NOT_EXIST');
    assert.equal(t.getLoggedModel(id, { allowDeleted: true }).lifecycleStage, 'deleted');
    await assert.rejects(t.putLoggedModelArtifact(id, 'late.txt', Buffer.from('x')), /not found/);
    assert.deepEqual(t.searchLoggedModels({ experimentIds: ['0'] }).items, []);
  } finally {
    t.close();
  }
});

test('search-logged-models: filter by attributes, status, tags, params and metrics (on datasets), order and pages', () => {
  const { t, clock } = open();
  try {
    const e = t.createExperiment('search').experimentId;
    const run = t.createRun({ experimentId: e }).info.runId;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock.now += 1000;
      const m = t.createLoggedModel({
        experimentId: e,
        name: `model-${i}`,
        modelType: i % 2 === 0 ? 'tree' : 'linear',
        params: [{ key: 'depth', value: String(i) }],
        tags: [{ key: 'team', value: i < 3 ? 'ml' : 'ops' }],
      });
      ids.push(m.modelId);
      t.logBatch(run, { metrics: [{ key: 'acc', value: i / 10, timestamp: clock.now, step: 0, modelId: m.modelId, datasetName: i === 4 ? 'test' : 'val', datasetDigest: 'd1' }] });
    }
    t.finalizeLoggedModel(ids[1]!, 'LOGGED_MODEL_READY');
    t.createLoggedModel({ name: 'elsewhere' });
    const names = (filter?: string, more: Partial<Parameters<Tracker['searchLoggedModels']>[0]> = {}) =>
      t.searchLoggedModels({ experimentIds: [e], ...(filter ? { filter } : {}), ...more }).items.map((m) => m.name);

    assert.deepEqual(names(), ['model-4', 'model-3', 'model-2', 'model-1', 'model-0'], 'newest first by default');
    assert.deepEqual(names("name = 'model-2'"), ['model-2']);
    assert.deepEqual(names("name LIKE 'model-%' AND model_type = 'linear'"), ['model-3', 'model-1']);
    assert.deepEqual(names("status = 'READY'"), ['model-1']);
    assert.deepEqual(names("status = 'LOGGED_MODEL_PENDING' AND tags.team = 'ops'"), ['model-4', 'model-3']);
    assert.deepEqual(names("params.depth IN ('0', '4')"), ['model-4', 'model-0']);
    assert.deepEqual(names('metrics.acc >= 0.2'), ['model-4', 'model-3', 'model-2']);
    assert.deepEqual(names('metrics.acc >= 0.2', { datasets: [{ datasetName: 'val' }] }), ['model-3', 'model-2']);
    assert.deepEqual(names(undefined, { datasets: [{ datasetName: 'test', datasetDigest: 'd1' }] }), ['model-4']);
    assert.deepEqual(names(`creation_time <= ${clock.now - 3000}`), ['model-1', 'model-0']);
    assert.deepEqual(names("tags.team = 'ml' OR name = 'model-4'"), ['model-4', 'model-2', 'model-1', 'model-0']);

    assert.deepEqual(names(undefined, { orderBy: [{ fieldName: 'metrics.acc', ascending: false }] }), ['model-4', 'model-3', 'model-2', 'model-1', 'model-0']);
    assert.deepEqual(
      names(undefined, { orderBy: [{ fieldName: 'metrics.acc', ascending: false, datasetName: 'val' }] }),
      ['model-3', 'model-2', 'model-1', 'model-0', 'model-4'],
      'models without a point on the dataset come last',
    );
    assert.deepEqual(names(undefined, { orderBy: [{ fieldName: 'model_type' }, { fieldName: 'name', ascending: false }] }), [
      'model-3',
      'model-1',
      'model-4',
      'model-2',
      'model-0',
    ]);
    assert.deepEqual(names(undefined, { orderBy: [{ fieldName: 'creation_time', ascending: true }] }), ['model-0', 'model-1', 'model-2', 'model-3', 'model-4']);

    // Pages: max_results, then the token of the same search until there is none.
    const seen: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = t.searchLoggedModels({ experimentIds: [e], maxResults: 2, ...(pageToken ? { pageToken } : {}) });
      seen.push(...page.items.map((m) => m.name));
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.deepEqual(seen, ['model-4', 'model-3', 'model-2', 'model-1', 'model-0']);
    const token = t.searchLoggedModels({ experimentIds: [e], maxResults: 2 }).nextPageToken!;
    rejects(() => t.searchLoggedModels({ experimentIds: [e], maxResults: 2, filter: "name = 'x'", pageToken: token }), 'INVALID_PARAMETER_VALUE', /other experiment_ids, filter or order_by/);
    rejects(() => t.searchLoggedModels({ experimentIds: [e], pageToken: 'garbage' }), 'INVALID_PARAMETER_VALUE', /Invalid page token/);

    // What is not supported is refused clearly.
    rejects(() => names('datasets.name = "x"'), 'INVALID_PARAMETER_VALUE', /logged models have no datasets/);
    rejects(() => names("flavor = 'sklearn'"), 'INVALID_PARAMETER_VALUE', /unknown attribute 'flavor'.*metrics\.flavor/);
    rejects(() => names('metrics.acc > 0.5 AND'), 'INVALID_PARAMETER_VALUE', /position \d+/);
    rejects(() => names(undefined, { orderBy: [{ fieldName: 'params.depth' }] }), 'INVALID_PARAMETER_VALUE', /cannot order logged models by params/);
    rejects(() => t.searchLoggedModels({ experimentIds: [] }), 'INVALID_PARAMETER_VALUE', /experiment_ids/);
    rejects(() => t.searchLoggedModels({ experimentIds: [e], maxResults: -1 }), 'INVALID_PARAMETER_VALUE', /max_results/);
  } finally {
    t.close();
  }
});
