/**
 * MLflow's Model Registry flows, replayed against the endpoint as the `mlflow` client sends them
 * (mlflow/store/model_registry/rest_store.py: every body is `message_to_json` of the request proto;
 * rest_utils.call_endpoint sends a GET's message as query parameters, anything else as JSON;
 * tracking/_model_registry/fluent.py `_register_model`; store/artifact/models_artifact_repo.py and
 * mlflow_artifacts_repo.py for `load_model("models:/name@alias")`).
 */
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { after, before, describe, it } from 'node:test';
import { startTrackingServer, type TrackingServer } from '../../core/endpoint/trackingServer';
import { MLFLOW_ARTIFACTS_PREFIX, MLFLOW_ARTIFACTS_ROUTES as A, MLFLOW_REGISTRY_ROUTES as RR, MLFLOW_ROUTES as R, routeUrl, type RestRoute } from '../../core/mlflow/restApi';
import { tempWorkspace } from '../support/tempWorkspace';
import { withExternalData } from '../unit/evaluation/onnxTestModels';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Reply {
  status: number;
  body: Json;
  bytes: Buffer;
}

let s: TrackingServer;

async function send(method: string, url: string, message?: Record<string, unknown>, raw?: Buffer): Promise<Reply> {
  const headers: Record<string, string> = { Authorization: `Bearer ${s.token}` };
  let full = `${s.uri}${url}`;
  let body: string | Buffer | undefined = raw;
  if (message !== undefined) {
    if (method === 'GET') {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(message)) {
        if (v === undefined || v === null) continue;
        for (const item of Array.isArray(v) ? v : [v]) q.append(k, typeof item === 'boolean' ? (item ? 'True' : 'False') : String(item));
      }
      full += `?${q}`;
    } else {
      body = JSON.stringify(message);
      headers['Content-Type'] = 'application/json';
    }
  }
  const res = await fetch(full, { method, headers, ...(body !== undefined ? { body } : {}) });
  const bytes = Buffer.from(await res.arrayBuffer());
  let parsed: Json;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, bytes };
}

/** call_endpoint: the route's own method and path; a non-200 is thrown as the client's RestException. */
async function call(route: RestRoute, message: Record<string, unknown>): Promise<Json> {
  const reply = await send(route.method, routeUrl(route), message);
  if (reply.status !== 200) throw Object.assign(new Error(`${reply.body?.error_code}: ${reply.body?.message}`), { status: reply.status, body: reply.body });
  assert.ok(reply.body && typeof reply.body === 'object', 'a 200 is a JSON object');
  return reply.body;
}

async function callError(route: RestRoute, message: Record<string, unknown>): Promise<{ status: number; body: Json }> {
  try {
    await call(route, message);
  } catch (e) {
    return e as { status: number; body: Json };
  }
  assert.fail('expected an error reply');
}

/** A run with a model's files under `model/` (what log_model uploads in MLflow 2). */
async function runWithModel(bytes: string): Promise<{ runId: string; experimentId: string; artifactUri: string }> {
  const run = (await call(R.CreateRun, { experiment_id: '0', run_name: 'train' })).run.info;
  const root = run.artifact_uri.replace('mlflow-artifacts:/', '');
  for (const [file, content] of [['model/MLmodel', 'flavors:\n  python_function: {}\n'], ['model/model.pkl', bytes]] as const) {
    const put = await send('PUT', routeUrl(A.UploadArtifact, { artifact_path: `${root}/${file}` }, MLFLOW_ARTIFACTS_PREFIX), undefined, Buffer.from(content));
    assert.equal(put.status, 200);
  }
  return { runId: run.run_id, experimentId: run.experiment_id, artifactUri: run.artifact_uri };
}

/** fluent._register_model: create the registered model (RESOURCE_ALREADY_EXISTS is fine), then the version. */
async function registerModel(source: string, name: string, runId?: string, modelId?: string): Promise<Json> {
  try {
    await call(RR.CreateRegisteredModel, { name });
  } catch (e) {
    assert.equal((e as { body: Json }).body.error_code, 'RESOURCE_ALREADY_EXISTS');
  }
  const body: Record<string, unknown> = { name, source };
  if (runId) body.run_id = runId;
  if (modelId) body.model_id = modelId;
  const mv = (await call(RR.CreateModelVersion, body)).model_version;
  assert.equal(mv.status, 'READY', 'no PENDING_REGISTRATION: _await_model_version_creation returns at once');
  return mv;
}

/** What load_model("models:/name@alias") fetches: get-by-alias, get-download-uri, then list + GET through the proxy. */
async function downloadByAlias(name: string, alias: string): Promise<Map<string, string>> {
  const mv = (await call(RR.GetModelVersionByAlias, { name, alias })).model_version;
  const uri: string = (await call(RR.GetModelVersionDownloadUri, { name, version: mv.version })).artifact_uri;
  assert.match(uri, /^mlflow-artifacts:\//);
  const root = uri.replace(/^mlflow-artifacts:\/+/, '');
  const files = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    const listed = await send('GET', routeUrl(A.ListArtifacts, {}, MLFLOW_ARTIFACTS_PREFIX), { path: dir ? `${root}/${dir}` : root });
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    for (const f of listed.body.files ?? []) {
      const rel = dir ? `${dir}/${f.path}` : f.path;
      if (f.is_dir) await walk(rel);
      else {
        const got = await send('GET', routeUrl(A.DownloadArtifact, { artifact_path: `${root}/${rel}` }, MLFLOW_ARTIFACTS_PREFIX));
        assert.equal(got.status, 200);
        files.set(rel, got.bytes.toString('utf8'));
      }
    }
  };
  await walk('');
  return files;
}

describe('MLflow Model Registry REST flows', () => {
  let ws: string;
  before(async () => {
    ws = tempWorkspace('registry-rest');
    s = await startTrackingServer({ workspace: ws, orphanSweepIntervalMs: 0 });
  });
  after(() => s.close());

  it('register_model("runs:/<id>/model") twice: versions 1 and 2 of one model, the second after RESOURCE_ALREADY_EXISTS', async () => {
    const a = await runWithModel('weights-1');
    const v1 = await registerModel(`runs:/${a.runId}/model`, 'from-runs', a.runId);
    assert.deepEqual([v1.name, v1.version, v1.run_id, v1.current_stage], ['from-runs', '1', a.runId, 'None']);
    // MLflow 2's client resolves runs:/ to the run's artifact URI before sending it.
    const b = await runWithModel('weights-2');
    const v2 = await registerModel(`${b.artifactUri}/model`, 'from-runs', b.runId);
    assert.equal(v2.version, '2');
    const model = (await call(RR.GetRegisteredModel, { name: 'from-runs' })).registered_model;
    assert.deepEqual(model.latest_versions.map((v: Json) => v.version), ['2']);
    const dup = await callError(RR.CreateRegisteredModel, { name: 'from-runs' });
    assert.deepEqual([dup.status, dup.body.error_code], [400, 'RESOURCE_ALREADY_EXISTS']);
  });

  it('register_model("models:/m-…") and log_model(registered_model_name=…): the logged model\'s files become the version', async () => {
    const run = (await call(R.CreateRun, { experiment_id: '0' })).run.info;
    const logged = (await call(R.CreateLoggedModel, { experiment_id: '0', name: 'model', source_run_id: run.run_id })).model.info;
    const root = logged.artifact_uri.replace('mlflow-artifacts:/', '');
    await send('PUT', routeUrl(A.UploadArtifact, { artifact_path: `${root}/MLmodel` }, MLFLOW_ARTIFACTS_PREFIX), undefined, Buffer.from('flavors: {}\n'));
    await send('PATCH', routeUrl(R.FinalizeLoggedModel, { model_id: logged.model_id }), { model_id: logged.model_id, status: 'LOGGED_MODEL_READY' });
    const mv = await registerModel(`models:/${logged.model_id}`, 'from-logged', run.run_id, logged.model_id);
    assert.deepEqual([mv.version, mv.model_id, mv.run_id], ['1', logged.model_id, run.run_id]);
    // Without run_id, the logged model's source run is recorded.
    const again = await registerModel(`models:/${logged.model_id}`, 'from-logged');
    assert.deepEqual([again.version, again.run_id], ['2', run.run_id]);
    // The server adds each version to the logged model's mlflow.modelVersions tag (handlers.py
    // _create_model_version → set_model_versions_tags), as json.dumps writes it, an entry once.
    // A request without model_id (the second) adds nothing, as there.
    const tagOf = async () => (await send('GET', routeUrl(R.GetLoggedModel, { model_id: logged.model_id }))).body.model.info.tags.find((t: Json) => t.key === 'mlflow.modelVersions')?.value;
    assert.equal(await tagOf(), '[{"name": "from-logged", "version": 1}]');
    // What the client itself writes (fluent._register_model: the version as a string) is kept and appended to.
    const tagged = await send('PATCH', routeUrl(R.SetLoggedModelTags, { model_id: logged.model_id }), { model_id: logged.model_id, tags: [{ key: 'mlflow.modelVersions', value: '[{"name": "from-logged", "version": "2"}]' }] });
    assert.equal(tagged.status, 200);
    await registerModel(`models:/${logged.model_id}`, 'from-logged', undefined, logged.model_id);
    assert.equal(await tagOf(), '[{"name": "from-logged", "version": "2"}, {"name": "from-logged", "version": 3}]');
    // The logged model's artifact URI and runs:/ of its source run name it too; a source naming
    // anything else with model_id would record a provenance the version's bytes do not have.
    const byUri = await registerModel(`${logged.artifact_uri}`, 'from-logged', undefined, logged.model_id);
    const byRun = await registerModel(`runs:/${run.run_id}/model`, 'from-logged', undefined, logged.model_id);
    assert.deepEqual([byUri.version, byRun.version], ['4', '5']);
    // Without model_id or run_id, the logged model's mlflow-artifacts URI records no run: MLflow's
    // store fills run_id from a models:/m-… source or a model_id only.
    const byUriAlone = await registerModel(`${logged.artifact_uri}`, 'from-logged-uri');
    assert.deepEqual([byUriAlone.version, byUriAlone.run_id, byUriAlone.model_id], ['1', undefined, undefined]);
    const other = (await call(R.CreateRun, { experiment_id: '0' })).run.info;
    for (const source of ['file:///etc/passwd', '/etc/passwd', 's3://bucket/model', `runs:/${other.run_id}/model`, `runs:/${run.run_id}/other-model`, `models:/m-${'0'.repeat(32)}`]) {
      const refused = await callError(RR.CreateModelVersion, { name: 'from-logged', source, model_id: logged.model_id });
      assert.deepEqual([refused.status, refused.body.error_code], [400, 'INVALID_PARAMETER_VALUE'], source);
      assert.match(refused.body.message, /the source must name that logged model/);
    }
    assert.deepEqual((await call(RR.SearchModelVersions, { filter: "name='from-logged'" })).model_versions.map((v: Json) => v.version).sort(), ['1', '2', '3', '4', '5']);
    // MLflow 3's copy_model_version (AbstractStore.copy_model_version): the source version as
    // models:/<name>/<version>, its run_id and its model_id. Its copy becomes the new version's.
    const copy = await registerModel('models:/from-logged/1', 'promoted', run.run_id, logged.model_id);
    assert.deepEqual([copy.version, copy.source, copy.model_id, copy.run_id], ['1', 'models:/from-logged/1', logged.model_id, run.run_id]);
    await call(RR.SetRegisteredModelAlias, { name: 'promoted', alias: 'prod', version: '1' });
    const served = await downloadByAlias('promoted', 'prod');
    assert.equal(served.get('MLmodel'), 'flavors: {}\n');
    // A version of another model (or of none) with this model_id is refused as any other source.
    const plain = await runWithModel('other-bytes');
    await registerModel(`runs:/${plain.runId}/model`, 'unrelated', plain.runId);
    const forged = await callError(RR.CreateModelVersion, { name: 'promoted', source: 'models:/unrelated/1', model_id: logged.model_id });
    assert.deepEqual([forged.status, forged.body.error_code], [400, 'INVALID_PARAMETER_VALUE']);
    assert.match(forged.body.message, /the source must name that logged model/);
  });

  it('set_registered_model_alias, get_model_version_by_alias, load_model("models:/name@champion") through the artifact proxy', async () => {
    const a = await runWithModel('champion-bytes');
    await registerModel(`runs:/${a.runId}/model`, 'served', a.runId);
    await call(RR.SetRegisteredModelAlias, { name: 'served', alias: 'champion', version: '1' });
    const model = (await call(RR.GetRegisteredModel, { name: 'served' })).registered_model;
    assert.deepEqual(model.aliases, [{ alias: 'champion', version: '1' }]);
    const files = await downloadByAlias('served', 'champion');
    assert.deepEqual([...files.keys()].sort(), ['MLmodel', 'model.pkl']);
    assert.equal(files.get('model.pkl'), 'champion-bytes');
    // The version is its own copy: re-uploading the run's file does not change what is served.
    const root = a.artifactUri.replace('mlflow-artifacts:/', '');
    await send('PUT', routeUrl(A.UploadArtifact, { artifact_path: `${root}/model/model.pkl` }, MLFLOW_ARTIFACTS_PREFIX), undefined, Buffer.from('overwritten'));
    assert.equal((await downloadByAlias('served', 'champion')).get('model.pkl'), 'champion-bytes');
    // Uploading into a version's copy is refused.
    const uri = (await call(RR.GetModelVersionDownloadUri, { name: 'served', version: '1' })).artifact_uri.replace('mlflow-artifacts:/', '');
    const put = await send('PUT', routeUrl(A.UploadArtifact, { artifact_path: `${uri}/model.pkl` }, MLFLOW_ARTIFACTS_PREFIX), undefined, Buffer.from('x'));
    assert.deepEqual([put.status, put.body.error_code], [400, 'INVALID_PARAMETER_VALUE']);
    await call(RR.DeleteRegisteredModelAlias, { name: 'served', alias: 'champion' });
    const gone = await callError(RR.GetModelVersionByAlias, { name: 'served', alias: 'champion' });
    assert.deepEqual([gone.body.error_code, gone.body.message], ['INVALID_PARAMETER_VALUE', 'Registered model alias champion not found.']);
    // A model that does not exist: the same answer (MLflow looks the alias up first).
    const noModel = await callError(RR.GetModelVersionByAlias, { name: 'never-registered', alias: 'champion' });
    assert.deepEqual([noModel.status, noModel.body.error_code, noModel.body.message], [400, 'INVALID_PARAMETER_VALUE', 'Registered model alias champion not found.']);
  });

  it('a bare .onnx version (runwise models register) is served with the MLmodel that mlflow.pyfunc and mlflow.onnx load it by', async () => {
    // Registered as the CLI does, with its external data file: model.onnx + weights.bin, no MLmodel.
    const { model, weights } = withExternalData({ weights: [-1, 1, -0.5, 0.5], bias: [0.1, -0.1], features: 2, classes: 2 }, 'weights.bin');
    mkdirSync(path.join(ws, 'bare'), { recursive: true });
    writeFileSync(path.join(ws, 'bare', 'model.onnx'), model);
    writeFileSync(path.join(ws, 'bare', 'weights.bin'), weights);
    const v = await s.tracker.registerModelFiles('bare-onnx', path.join(ws, 'bare', 'model.onnx'));
    s.tracker.registry.setAlias('bare-onnx', 'champion', v.version);
    const files = await downloadByAlias('bare-onnx', 'champion');
    assert.deepEqual([...files.keys()].sort(), ['MLmodel', 'model.onnx', 'weights.bin']);
    const mlmodel = parse(files.get('MLmodel')!) as { flavors: Record<string, Record<string, unknown>>; model_uuid: string; utc_time_created: string };
    // pyfunc.load_model: the python_function flavor's loader_module gets the data path; _OnnxModelWrapper reads onnx.providers.
    assert.deepEqual(mlmodel.flavors.python_function, { data: 'model.onnx', loader_module: 'mlflow.onnx' });
    assert.deepEqual(mlmodel.flavors.onnx, { code: null, data: 'model.onnx', providers: ['CPUExecutionProvider'] });
    assert.match(mlmodel.utc_time_created, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    assert.equal(mlmodel.model_uuid, v.sha256.slice(0, 32));
    // The same bytes every time, and the version's own files and hash untouched.
    assert.equal((await downloadByAlias('bare-onnx', 'champion')).get('MLmodel'), files.get('MLmodel'));
    assert.deepEqual(s.tracker.registry.versionFiles('bare-onnx', v.version).map((f) => f.path).sort(), ['model.onnx', 'weights.bin']);
    // A version that has its own MLmodel (the runs:/ versions above) gets no second one.
    const a = await runWithModel('own');
    await registerModel(`runs:/${a.runId}/model`, 'own-mlmodel', a.runId);
    await call(RR.SetRegisteredModelAlias, { name: 'own-mlmodel', alias: 'champion', version: '1' });
    assert.equal((await downloadByAlias('own-mlmodel', 'champion')).get('MLmodel'), 'flavors:\n  python_function: {}\n');
  });

  it('a stored copy changed after registration: get-download-uri and the proxy refuse it, naming both hashes', async () => {
    const a = await runWithModel('to-be-tampered');
    await registerModel(`runs:/${a.runId}/model`, 'tampered', a.runId);
    const root = (await call(RR.GetModelVersionDownloadUri, { name: 'tampered', version: '1' })).artifact_uri.replace('mlflow-artifacts:/', '');
    const pkl = s.tracker.registry.versionFiles('tampered', 1).find((f) => f.path === 'model.pkl')!;
    const blob = s.tracker.artifacts.blobPath(pkl.sha256);
    chmodSync(blob, 0o644);
    appendFileSync(blob, '!');
    const refused = await callError(RR.GetModelVersionDownloadUri, { name: 'tampered', version: '1' });
    assert.equal(refused.body.error_code, 'INVALID_STATE');
    assert.match(refused.body.message, new RegExp(`tampered/1 is refused: its file 'model.pkl' was registered with sha256 ${pkl.sha256} but the stored copy now has sha256 [0-9a-f]{64}`));
    assert.notEqual(refused.status, 500, 'not retried by the client');
    const served = await send('GET', routeUrl(A.DownloadArtifact, { artifact_path: `${root}/model.pkl` }, MLFLOW_ARTIFACTS_PREFIX));
    assert.deepEqual([served.status, served.body.error_code], [400, 'INVALID_STATE']);
    assert.match(served.body.message, /is refused/);
  });

  it("a run artifact whose stored file changed size is refused, not streamed past its Content-Length", async () => {
    const a = await runWithModel('sized-bytes');
    const run = s.tracker.getRun(a.runId);
    const record = s.tracker.openArtifact(a.runId, 'model/model.pkl').record;
    const blob = s.tracker.artifacts.blobPath(record.sha256);
    chmodSync(blob, 0o644);
    // What a crafted blob would carry: a second HTTP response after the recorded bytes.
    appendFileSync(blob, 'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nINJECTED!');
    const root = run.info.artifactUri.replace('mlflow-artifacts:/', '');
    const served = await send('GET', routeUrl(A.DownloadArtifact, { artifact_path: `${root}/model/model.pkl` }, MLFLOW_ARTIFACTS_PREFIX));
    assert.deepEqual([served.status, served.body.error_code], [400, 'INVALID_STATE']);
    assert.match(served.body.message, /holds \d+ bytes where 11 were recorded: it was changed in \.runwise\/ and is not served/);
  });

  it('a download URI names its version by content too: after a delete gives the row id out again, it is gone, not another model', async () => {
    const a = await runWithModel('first-bytes');
    await registerModel(`runs:/${a.runId}/model`, 'reused-a', a.runId);
    const uri = (await call(RR.GetModelVersionDownloadUri, { name: 'reused-a', version: '1' })).artifact_uri;
    assert.match(uri, /^mlflow-artifacts:\/model-versions\/\d+-[0-9a-f]{16}$/);
    const root = uri.replace('mlflow-artifacts:/', '');
    await call(RR.DeleteModelVersion, { name: 'reused-a', version: '1' });
    const b = await runWithModel('other-bytes');
    await registerModel(`runs:/${b.runId}/model`, 'reused-b', b.runId);
    // The highest row was deleted, so SQLite gives the new version the same row id.
    const again = (await call(RR.GetModelVersionDownloadUri, { name: 'reused-b', version: '1' })).artifact_uri.replace('mlflow-artifacts:/', '');
    assert.equal(again.split('-')[0], root.split('-')[0]);
    const listed = await send('GET', routeUrl(A.ListArtifacts, {}, MLFLOW_ARTIFACTS_PREFIX), { path: root });
    assert.deepEqual([listed.status, listed.body.error_code], [404, 'RESOURCE_DOES_NOT_EXIST']);
    const file = await send('GET', routeUrl(A.DownloadArtifact, { artifact_path: `${root}/model.pkl` }, MLFLOW_ARTIFACTS_PREFIX));
    assert.equal(file.status, 404);
    assert.equal((await send('GET', routeUrl(A.DownloadArtifact, { artifact_path: `${again}/model.pkl` }, MLFLOW_ARTIFACTS_PREFIX))).bytes.toString(), 'other-bytes');
  });

  it('re-hashing a large version for get-download-uri and its download does not hold other requests', async () => {
    const big = 'x'.repeat(48 * 1024 * 1024);
    const a = await runWithModel(big);
    await registerModel(`runs:/${a.runId}/model`, 'large', a.runId);
    const order: string[] = [];
    const download = call(RR.GetModelVersionDownloadUri, { name: 'large', version: '1' }).then(() => order.push('download-uri'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const quick = call(R.GetExperiment, { experiment_id: '0' }).then(() => order.push('get-experiment'));
    await Promise.all([download, quick]);
    assert.deepEqual(order, ['get-experiment', 'download-uri']);
    const root = (await call(RR.GetModelVersionDownloadUri, { name: 'large', version: '1' })).artifact_uri.replace('mlflow-artifacts:/', '');
    order.length = 0;
    const file = send('GET', routeUrl(A.DownloadArtifact, { artifact_path: `${root}/model.pkl` }, MLFLOW_ARTIFACTS_PREFIX)).then((r) => {
      assert.equal(r.bytes.length, big.length);
      order.push('file');
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const quick2 = call(R.GetExperiment, { experiment_id: '0' }).then(() => order.push('get-experiment'));
    await Promise.all([file, quick2]);
    assert.deepEqual(order, ['get-experiment', 'file']);
  });

  it('search_registered_models and search_model_versions: filters and pagination', async () => {
    const a = await runWithModel('s');
    for (const name of ['search-a', 'search-b', 'search-c']) await registerModel(`runs:/${a.runId}/model`, name, a.runId);
    await call(RR.SetRegisteredModelTag, { name: 'search-b', key: 'team', value: 'risk' });
    const names = async (msg: Record<string, unknown>) => (await call(RR.SearchRegisteredModels, msg)).registered_models?.map((m: Json) => m.name) ?? [];
    assert.deepEqual(await names({ filter: "name LIKE 'search-%'", max_results: 100 }), ['search-a', 'search-b', 'search-c']);
    assert.deepEqual(await names({ filter: "name='search-c'" }), ['search-c']);
    assert.deepEqual(await names({ filter: "tags.team = 'risk'" }), ['search-b']);
    const page1 = await call(RR.SearchRegisteredModels, { filter: "name LIKE 'search-%'", max_results: 2 });
    assert.equal(page1.registered_models.length, 2);
    const page2 = await call(RR.SearchRegisteredModels, { filter: "name LIKE 'search-%'", max_results: 2, page_token: page1.next_page_token });
    assert.deepEqual(page2.registered_models.map((m: Json) => m.name), ['search-c']);
    assert.equal(page2.next_page_token, undefined);
    const versions = await call(RR.SearchModelVersions, { filter: `run_id = '${a.runId}'`, max_results: 10000 });
    assert.deepEqual(versions.model_versions.map((v: Json) => v.name).sort(), ['search-a', 'search-b', 'search-c']);
    // MLflow 3's client adds the prompt term to every search_registered_models (prompt/registry_utils.py
    // add_prompt_filter_string), with or without a filter of the user's; models have no such tag.
    const prompt = "tag.`mlflow.prompt.is_prompt` != 'true'";
    assert.deepEqual(await names({ filter: `name LIKE 'search-%' AND ${prompt}`, max_results: 100 }), ['search-a', 'search-b', 'search-c']);
    assert.deepEqual(await names({ filter: `name = 'search-c' AND ${prompt}` }), ['search-c']);
    assert.ok((await names({ filter: prompt, max_results: 100 })).includes('search-a'));
    const none = await call(RR.SearchModelVersions, { filter: "name = 'no-such-model'" });
    assert.deepEqual(none, {});
    const bad = await callError(RR.SearchRegisteredModels, { max_results: 5000 });
    assert.deepEqual([bad.status, bad.body.error_code], [400, 'INVALID_PARAMETER_VALUE']);
  });

  it('update, rename, tags, transition_model_version_stage, get_latest_versions, delete', async () => {
    const a = await runWithModel('lifecycle');
    await registerModel(`runs:/${a.runId}/model`, 'life', a.runId);
    await registerModel(`runs:/${a.runId}/model`, 'life', a.runId);
    assert.equal((await call(RR.UpdateRegisteredModel, { name: 'life', description: 'churn model' })).registered_model.description, 'churn model');
    assert.equal((await call(RR.UpdateModelVersion, { name: 'life', version: '1', description: 'first' })).model_version.description, 'first');
    // set_model_version_tag sends `version` as given: an int is accepted.
    await call(RR.SetModelVersionTag, { name: 'life', version: 2, key: 'validated', value: 'yes' });
    assert.deepEqual((await call(RR.GetModelVersion, { name: 'life', version: '2' })).model_version.tags, [{ key: 'validated', value: 'yes' }]);
    await call(RR.DeleteModelVersionTag, { name: 'life', version: '2', key: 'validated' });
    // A tag that is not set: MLflow answers 200, and so does this.
    await call(RR.DeleteModelVersionTag, { name: 'life', version: '2', key: 'validated' });
    await call(RR.DeleteRegisteredModelTag, { name: 'life', key: 'never-set' });
    await call(RR.TransitionModelVersionStage, { name: 'life', version: '1', stage: 'Production', archive_existing_versions: false });
    const moved = await call(RR.TransitionModelVersionStage, { name: 'life', version: '2', stage: 'production', archive_existing_versions: true });
    assert.equal(moved.model_version.current_stage, 'Production');
    const latest = await call(RR.GetLatestVersions, { name: 'life', stages: ['Production'] });
    assert.deepEqual(latest.model_versions.map((v: Json) => v.version), ['2']);
    const viaGet = await send('GET', routeUrl(RR.GetLatestVersions), { name: 'life', stages: 'Archived' });
    assert.deepEqual(viaGet.body.model_versions.map((v: Json) => v.version), ['1']);
    // stages repeated in a GET's query: a list, as MLflow's server reads repeated arguments.
    const both = await send('GET', routeUrl(RR.GetLatestVersions), { name: 'life', stages: ['Archived', 'Production'] });
    assert.deepEqual(both.body.model_versions.map((v: Json) => v.version).sort(), ['1', '2']);
    const renamed = (await call(RR.RenameRegisteredModel, { name: 'life', new_name: 'life2' })).registered_model;
    assert.equal(renamed.name, 'life2');
    assert.equal((await call(RR.GetModelVersion, { name: 'life2', version: '1' })).model_version.name, 'life2');
    await call(RR.DeleteModelVersion, { name: 'life2', version: '1' });
    // Deleting the highest version does not free its number: models:/life2/2 keeps meaning what it meant.
    await call(RR.DeleteModelVersion, { name: 'life2', version: '2' });
    assert.equal((await registerModel(`runs:/${a.runId}/model`, 'life2', a.runId)).version, '3');
    const missing = await callError(RR.GetModelVersion, { name: 'life2', version: '1' });
    assert.deepEqual([missing.status, missing.body.error_code, missing.body.message], [404, 'RESOURCE_DOES_NOT_EXIST', 'Model Version (name=life2, version=1) not found']);
    await call(RR.DeleteRegisteredModel, { name: 'life2' });
    const gone = await callError(RR.GetRegisteredModel, { name: 'life2' });
    assert.deepEqual([gone.status, gone.body.message], [404, 'Registered Model with name=life2 not found']);
  });

  it('bad requests get MLflow\'s error shape: missing name, a non-integer version, an unknown source', async () => {
    const noName = await callError(RR.CreateRegisteredModel, {});
    assert.match(noName.body.message, /Missing value for required parameter 'name'/);
    await call(RR.CreateRegisteredModel, { name: 'errs' });
    const badVersion = await callError(RR.GetModelVersion, { name: 'errs', version: 'abc' });
    assert.deepEqual([badVersion.status, badVersion.body.message], [400, "Parameter 'version' must be an integer, got 'abc'."]);
    // 0 and -1 are integers to MLflow's _validate_model_version: no version has them, so they are not found.
    for (const version of ['0', '-1']) {
      const none = await callError(RR.GetModelVersion, { name: 'errs', version });
      assert.deepEqual([none.status, none.body.error_code, none.body.message], [404, 'RESOURCE_DOES_NOT_EXIST', `Model Version (name=errs, version=${Number(version)}) not found`]);
    }
    const badSource = await callError(RR.CreateModelVersion, { name: 'errs', source: 's3://bucket/model' });
    assert.match(badSource.body.message, /Invalid model version source: 's3:\/\/bucket\/model'/);
    const noModel = await callError(RR.CreateModelVersion, { name: 'never-created', source: 'runs:/0123456789abcdef0123456789abcdef/model' });
    assert.equal(noModel.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
    // As sqlalchemy_store's _get_sql_model_version: a version of a model that does not exist is a missing version.
    const noVersion = await callError(RR.GetModelVersion, { name: 'never-created', version: '1' });
    assert.deepEqual([noVersion.status, noVersion.body.error_code, noVersion.body.message], [404, 'RESOURCE_DOES_NOT_EXIST', 'Model Version (name=never-created, version=1) not found']);
    // A reserved alias is refused on delete and get too (_validate_model_alias_name), before the model is looked up.
    for (const [route, message] of [
      [RR.DeleteRegisteredModelAlias, { name: 'errs', alias: 'latest' }],
      [RR.GetModelVersionByAlias, { name: 'errs', alias: 'LATEST' }],
    ] as const) {
      const reserved = await callError(route, message);
      assert.deepEqual([reserved.status, reserved.body.error_code, reserved.body.message], [400, 'INVALID_PARAMETER_VALUE', "'latest' alias name (case insensitive) is reserved."]);
    }
  });

  it("a logged model registered many times: its mlflow.modelVersions tag grows past a run tag's 8000 characters, and a full one never blocks a version", async () => {
    const run = (await call(R.CreateRun, { experiment_id: '0' })).run.info;
    const logged = (await call(R.CreateLoggedModel, { experiment_id: '0', name: 'promoted-often', source_run_id: run.run_id })).model.info;
    const root = logged.artifact_uri.replace('mlflow-artifacts:/', '');
    await send('PUT', routeUrl(A.UploadArtifact, { artifact_path: `${root}/MLmodel` }, MLFLOW_ARTIFACTS_PREFIX), undefined, Buffer.from('flavors: {}\n'));
    const setList = (entries: number) =>
      send('PATCH', routeUrl(R.SetLoggedModelTags, { model_id: logged.model_id }), {
        model_id: logged.model_id,
        // As json.dumps writes it: 47 characters an entry.
        tags: [{ key: 'mlflow.modelVersions', value: `[${Array.from({ length: entries }, (_, i) => `{"name": "promoted-often", "version": "${i + 1000}"}`).join(', ')}]` }],
      });
    const tagOf = async () => (await send('GET', routeUrl(R.GetLoggedModel, { model_id: logged.model_id }))).body.model.info.tags.find((t: Json) => t.key === 'mlflow.modelVersions')?.value as string;
    // What the client writes after ~120 registrations (MLflow's store checks no length on a logged model's tag).
    assert.equal((await setList(200)).status, 200);
    assert.ok((await tagOf()).length > 8000);
    const next = await registerModel(`models:/${logged.model_id}`, 'promoted-often', undefined, logged.model_id);
    assert.equal(next.version, '1');
    assert.match(await tagOf(), /\{"name": "promoted-often", "version": 1\}\]$/);
    // A list the tag cannot take one more entry of is left as it is; the version is registered.
    assert.equal((await setList(1394)).status, 200);
    const full = await tagOf();
    assert.equal(full.length, 47 * 1394);
    assert.equal((await registerModel(`models:/${logged.model_id}`, 'promoted-often', undefined, logged.model_id)).version, '2');
    assert.equal(await tagOf(), full);
  });

  it('mlflow.genai.register_prompt is refused at its first call, leaving nothing behind', async () => {
    // AbstractStore.create_prompt: a registered model tagged as a prompt; create_prompt_version: a
    // version with source 'prompt-template' and the text as a tag. Runwise's registry holds models' bytes.
    const prompt = await callError(RR.CreateRegisteredModel, { name: 'greeting', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }], description: 'p' });
    assert.deepEqual([prompt.status, prompt.body.error_code], [400, 'INVALID_PARAMETER_VALUE']);
    assert.match(prompt.body.message, /holds models, not prompts: the tag mlflow\.prompt\.is_prompt=true .*nothing was written/);
    const searched = await call(RR.SearchRegisteredModels, { filter: "tags.`mlflow.prompt.is_prompt` = 'true'" });
    assert.deepEqual(searched, {});
    assert.equal((await callError(RR.GetRegisteredModel, { name: 'greeting' })).status, 404);
    // A model made a prompt afterwards, or a prompt version on a model: refused the same way.
    const a = await runWithModel('not-a-prompt');
    await registerModel(`runs:/${a.runId}/model`, 'plain', a.runId);
    for (const [route, message] of [
      [RR.SetRegisteredModelTag, { name: 'plain', key: 'mlflow.prompt.is_prompt', value: 'True' }],
      [RR.SetModelVersionTag, { name: 'plain', version: '1', key: 'mlflow.prompt.is_prompt', value: 'true' }],
      [RR.CreateModelVersion, { name: 'plain', source: 'prompt-template', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }, { key: 'mlflow.prompt.text', value: 'Hi {{x}}' }] }],
    ] as const) {
      const refused = await callError(route, message);
      assert.deepEqual([refused.status, refused.body.error_code], [400, 'INVALID_PARAMETER_VALUE'], route.path);
      assert.match(refused.body.message, /not prompts/);
    }
    // The tag saying 'false' is an ordinary tag.
    await call(RR.SetRegisteredModelTag, { name: 'plain', key: 'mlflow.prompt.is_prompt', value: 'false' });
    assert.deepEqual((await call(RR.SearchRegisteredModels, { filter: "name = 'plain'" })).registered_models.map((m: Json) => m.name), ['plain']);
  });

  it("MLflow's registry details: a quoted version_number, rename updating the versions, the registry's tag length, an alias on a missing model", async () => {
    const a = await runWithModel('details');
    await registerModel(`runs:/${a.runId}/model`, 'detail', a.runId);
    await registerModel(`runs:/${a.runId}/model`, 'detail', a.runId);
    // SearchModelVersionUtils keeps a quoted value, and the store compares int(value): '2' is version 2.
    const quoted = await call(RR.SearchModelVersions, { filter: "name = 'detail' AND version_number = '2'" });
    assert.deepEqual(quoted.model_versions.map((v: Json) => v.version), ['2']);
    assert.deepEqual((await call(RR.SearchModelVersions, { filter: "name = 'detail' AND version_number >= ' 1'" })).model_versions.length, 2);
    const notInt = await callError(RR.SearchModelVersions, { filter: "version_number = 'two'" });
    assert.deepEqual([notInt.status, notInt.body.error_code], [400, 'INVALID_PARAMETER_VALUE']);
    // rename_registered_model sets every version's last_updated_timestamp to the rename's time.
    const before = (await call(RR.GetModelVersion, { name: 'detail', version: '1' })).model_version.last_updated_timestamp;
    await new Promise((r) => setTimeout(r, 5));
    const renamed = (await call(RR.RenameRegisteredModel, { name: 'detail', new_name: 'detail2' })).registered_model;
    const versions = (await call(RR.SearchModelVersions, { filter: "name = 'detail2'" })).model_versions;
    assert.ok(Number(renamed.last_updated_timestamp) > Number(before));
    assert.deepEqual(versions.map((v: Json) => v.last_updated_timestamp), [renamed.last_updated_timestamp, renamed.last_updated_timestamp]);
    // MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH is 5000 (runs take 8000): what a team's MLflow server would refuse is refused here.
    await call(RR.SetRegisteredModelTag, { name: 'detail2', key: 'long', value: 'x'.repeat(5000) });
    for (const [route, message] of [
      [RR.SetRegisteredModelTag, { name: 'detail2', key: 'long', value: 'x'.repeat(5001) }],
      [RR.SetModelVersionTag, { name: 'detail2', version: '1', key: 'long', value: 'x'.repeat(5001) }],
    ] as const) {
      const long = await callError(route, message);
      assert.deepEqual([long.status, long.body.error_code], [400, 'INVALID_PARAMETER_VALUE']);
      assert.match(long.body.message, /exceeds the maximum length of 5000 characters \(got 5001\)/);
    }
    // set_registered_model_alias looks up the version alone (_get_sql_model_version).
    const noModel = await callError(RR.SetRegisteredModelAlias, { name: 'nope', alias: 'champion', version: '1' });
    assert.deepEqual([noModel.status, noModel.body.message], [404, 'Model Version (name=nope, version=1) not found']);
  });

  it("create_model_version from one file of a run (runs:/<id>/model.onnx); run_id as the request gives it, as MLflow's store keeps it", async () => {
    const a = await runWithModel('pickle-bytes');
    await call(RR.CreateRegisteredModel, { name: 'one-file' });
    const mv = (await call(RR.CreateModelVersion, { name: 'one-file', source: `runs:/${a.runId}/model/model.pkl`, run_id: a.runId })).model_version;
    assert.deepEqual([mv.version, mv.run_id], ['1', a.runId]);
    const files = await downloadByAlias('one-file', (await call(RR.SetRegisteredModelAlias, { name: 'one-file', alias: 'only', version: '1' }), 'only'));
    assert.deepEqual([...files.keys()].filter((f) => f !== 'MLmodel'), ['model.pkl']);
    assert.equal(files.get('model.pkl'), 'pickle-bytes');
    // No run_id in the request: none on the version (only a logged model's source run is filled in).
    const bare = (await call(RR.CreateModelVersion, { name: 'one-file', source: `runs:/${a.runId}/model` })).model_version;
    assert.deepEqual([bare.version, bare.run_id], ['2', undefined]);
    // A run whose stored file is gone from .runwise/: no version that could never be downloaded.
    const b = await runWithModel('soon-gone-bytes');
    unlinkSync(s.tracker.openArtifact(b.runId, 'model/model.pkl').filePath);
    const gone = await callError(RR.CreateModelVersion, { name: 'one-file', source: `runs:/${b.runId}/model` });
    assert.deepEqual([gone.status, gone.body.error_code], [400, 'INVALID_STATE']);
    assert.match(gone.body.message, /the stored file of its 'model\.pkl' \(sha256 [0-9a-f]{64}\) is gone from \.runwise\/; nothing was registered/);
    assert.equal((await call(RR.GetRegisteredModel, { name: 'one-file' })).registered_model.latest_versions[0].version, '2');
  });
});
