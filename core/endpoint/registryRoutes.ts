/**
 * MLflow's Model Registry REST API (model_registry.proto; the server's handlers in
 * mlflow/server/handlers.py, the client's requests in mlflow/store/model_registry/rest_store.py)
 * over the tracker's registry (core/tracker/modelRegistry.ts). Requests are read as protobuf-JSON,
 * like mlflowProtocol.ts reads the tracking service's; errors are MLflow's codes and messages where
 * the client reads them (RESOURCE_ALREADY_EXISTS on create is how `register_model` knows to add a
 * version to an existing model).
 *
 * A version's download URI is its own immutable copy behind the artifact proxy
 * (`mlflow-artifacts:/model-versions/<id>-<hash>`); resolving it re-hashes the files first.
 */
import { MLFLOW_REGISTRY_ROUTES as R, type ModelVersionJson, type RegisteredModelJson, type RestRoute } from '../mlflow/restApi';
import type { ModelVersion, RegisteredModel, RegistrySearch } from '../tracker/modelRegistry';
import type { Tag } from '../tracker/model';
import type { Tracker } from '../tracker/tracker';
import { field, keyValueList, optBool, optInt64, optString, pageJson, reqString, stringList, stringOrEmpty, type Message } from './mlflowProtocol';
import { currentUser } from '../workspace/currentUser';

export type RegistryHandler = (tracker: Tracker, msg: Message) => unknown;

// -----------------------------------------------------------------------------------------------
// Fields (protobuf-JSON: `null` is absent; a GET's fields are query strings)

/** `version`: a string in the proto; set_model_version_tag sends the number as given, so a JSON integer is taken too. */
function reqVersion(msg: Message): string {
  const v = field(msg, 'version');
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  return reqString(msg, 'version');
}

/** An integer field; the empty string (a GET's `max_results=`) is absent. */
function optInt(msg: Message, name: string): number | undefined {
  return field(msg, name) === '' ? undefined : optInt64(msg, name);
}

function tag(msg: Message): Tag {
  return { key: reqString(msg, 'key'), value: stringOrEmpty(msg, 'value') };
}

function search(msg: Message): RegistrySearch {
  const out: RegistrySearch = {};
  const filter = optString(msg, 'filter');
  if (filter) out.filter = filter;
  const maxResults = optInt(msg, 'max_results');
  if (maxResults !== undefined) out.maxResults = maxResults;
  const orderBy = stringList(msg, 'order_by');
  if (orderBy.length > 0) out.orderBy = orderBy;
  const pageToken = optString(msg, 'page_token');
  if (pageToken) out.pageToken = pageToken;
  return out;
}


// -----------------------------------------------------------------------------------------------
// Responses (ModelVersion.to_proto, RegisteredModel.to_proto: unset fields and empty lists left out)

export function modelVersionJson(v: ModelVersion): ModelVersionJson {
  const out: ModelVersionJson = {
    name: v.name,
    version: v.version,
    creation_timestamp: v.creationTimestamp,
    last_updated_timestamp: v.lastUpdatedTimestamp,
    current_stage: v.currentStage,
    source: v.source,
    status: v.status,
  };
  if (v.userId) out.user_id = v.userId;
  if (v.description) out.description = v.description;
  if (v.runId) out.run_id = v.runId;
  if (v.runLink) out.run_link = v.runLink;
  if (v.tags.length > 0) out.tags = v.tags.map((t) => ({ key: t.key, value: t.value }));
  if (v.aliases.length > 0) out.aliases = [...v.aliases];
  if (v.modelId) out.model_id = v.modelId;
  return out;
}

export function registeredModelJson(m: RegisteredModel): RegisteredModelJson {
  const out: RegisteredModelJson = { name: m.name, creation_timestamp: m.creationTimestamp, last_updated_timestamp: m.lastUpdatedTimestamp };
  if (m.description) out.description = m.description;
  if (m.latestVersions.length > 0) out.latest_versions = m.latestVersions.map(modelVersionJson);
  if (m.tags.length > 0) out.tags = m.tags.map((t) => ({ key: t.key, value: t.value }));
  if (m.aliases.length > 0) out.aliases = m.aliases.map((a) => ({ alias: a.alias, version: a.version }));
  return out;
}

const registered = (m: RegisteredModel) => ({ registered_model: registeredModelJson(m) });
const version = (v: ModelVersion) => ({ model_version: modelVersionJson(v) });

// -----------------------------------------------------------------------------------------------
// Handlers, by rpc

export const REGISTRY_ROUTES: readonly (readonly [RestRoute, RegistryHandler])[] = [
  [
    R.CreateRegisteredModel,
    (t, m) => {
      const description = optString(m, 'description');
      return registered(t.registry.createRegisteredModel(reqString(m, 'name'), { tags: keyValueList(m, 'tags'), ...(description ? { description } : {}) }));
    },
  ],
  [R.GetRegisteredModel, (t, m) => registered(t.registry.getRegisteredModel(reqString(m, 'name')))],
  [R.UpdateRegisteredModel, (t, m) => registered(t.registry.updateRegisteredModel(reqString(m, 'name'), optString(m, 'description') ?? ''))],
  [R.RenameRegisteredModel, (t, m) => registered(t.registry.renameRegisteredModel(reqString(m, 'name'), reqString(m, 'new_name')))],
  [R.DeleteRegisteredModel, (t, m) => (t.registry.deleteRegisteredModel(reqString(m, 'name')), {})],
  [R.SearchRegisteredModels, (t, m) => pageJson('registered_models', t.registry.searchRegisteredModels(search(m)), registeredModelJson)],
  [
    R.GetLatestVersions,
    (t, m) => {
      const versions = t.registry.getLatestVersions(reqString(m, 'name'), stringList(m, 'stages'));
      return versions.length > 0 ? { model_versions: versions.map(modelVersionJson) } : {};
    },
  ],
  [R.SetRegisteredModelTag, (t, m) => (t.registry.setRegisteredModelTag(reqString(m, 'name'), tag(m)), {})],
  [R.DeleteRegisteredModelTag, (t, m) => (t.registry.deleteRegisteredModelTag(reqString(m, 'name'), reqString(m, 'key')), {})],
  [R.SetRegisteredModelAlias, (t, m) => (t.registry.setAlias(reqString(m, 'name'), reqString(m, 'alias'), reqVersion(m), currentUser()), {})],
  [R.DeleteRegisteredModelAlias, (t, m) => (t.registry.deleteAlias(reqString(m, 'name'), reqString(m, 'alias'), currentUser()), {})],
  [R.GetModelVersionByAlias, (t, m) => version(t.registry.getVersionByAlias(reqString(m, 'name'), reqString(m, 'alias')))],
  [
    R.CreateModelVersion,
    (t, m) => {
      const options: Parameters<Tracker['createModelVersionFromSource']>[0] = { name: reqString(m, 'name'), source: reqString(m, 'source'), tags: keyValueList(m, 'tags') };
      const runId = optString(m, 'run_id');
      if (runId) options.runId = runId;
      const runLink = optString(m, 'run_link');
      if (runLink) options.runLink = runLink;
      const description = optString(m, 'description');
      if (description) options.description = description;
      const modelId = optString(m, 'model_id');
      if (modelId) options.modelId = modelId;
      return version(t.createModelVersionFromSource(options));
    },
  ],
  [R.GetModelVersion, (t, m) => version(t.registry.getModelVersion(reqString(m, 'name'), reqVersion(m)))],
  [R.UpdateModelVersion, (t, m) => version(t.registry.updateModelVersion(reqString(m, 'name'), reqVersion(m), optString(m, 'description') ?? ''))],
  [
    R.TransitionModelVersionStage,
    (t, m) => version(t.registry.transitionModelVersionStage(reqString(m, 'name'), reqVersion(m), reqString(m, 'stage'), optBool(m, 'archive_existing_versions') ?? false)),
  ],
  [R.DeleteModelVersion, (t, m) => (t.registry.deleteModelVersion(reqString(m, 'name'), reqVersion(m), currentUser()), {})],
  [R.SearchModelVersions, (t, m) => pageJson('model_versions', t.registry.searchModelVersions(search(m)), modelVersionJson)],
  [R.GetModelVersionDownloadUri, async (t, m) => ({ artifact_uri: await t.modelVersionDownloadUri(reqString(m, 'name'), reqVersion(m)) })],
  [R.SetModelVersionTag, (t, m) => (t.registry.setModelVersionTag(reqString(m, 'name'), reqVersion(m), tag(m)), {})],
  [R.DeleteModelVersionTag, (t, m) => (t.registry.deleteModelVersionTag(reqString(m, 'name'), reqVersion(m), reqString(m, 'key')), {})],
];
