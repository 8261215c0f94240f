/**
 * A Kubeflow Pipelines v2 pipeline spec (KFP's intermediate representation, pipeline_spec.proto's
 * PipelineSpec as YAML, schemaVersion 2.1.0), the shape `kfp` compiles to and the KFP backend and
 * `kfp.client.Client().upload_pipeline` accept: one component and one executor per stage, the
 * root DAG's tasks wired with `dependentTasks`. A second YAML document holds the Kubernetes
 * platform spec (kfp-kubernetes' KubernetesExecutorConfig): the workspace volume and the token
 * Secret. Keys are sorted, as the KFP SDK writes them. Field reasons: test/fixtures/export/README.md.
 */
import type { PipelineGraph } from '../pipelineModel';
import { exportTasks } from './exportTasks';
import {
  sourceNote,
  stageArgs,
  TRACKING_SECRET,
  TRACKING_TOKEN_ENV,
  TRACKING_URI_ENV,
  WORKSPACE_CLAIM,
  WORKSPACE_MOUNT,
  type ExportOptions,
} from './exportSettings';
import { yamlText } from './yamlText';

/** The pipeline input parameter holding the tracking server's URI. */
const URI_PARAMETER = 'mlflow_tracking_uri';
/** Written as the spec's sdkVersion: what produced the spec (the KFP SDK writes `kfp-VERSION`). */
const PRODUCER = `runwise-${process.env.RUNWISE_VERSION ?? '0.1.0'}`;

/** The two YAML documents as plain objects: the pipeline spec and the platform spec. */
export function kubeflowObjects(graph: PipelineGraph, options: ExportOptions): { pipelineSpec: Record<string, unknown>; platformSpec: Record<string, unknown> } {
  const tasks = exportTasks(graph);
  const components: Record<string, unknown> = {};
  const executors: Record<string, unknown> = {};
  const platformExecutors: Record<string, unknown> = {};
  const dagTasks: Record<string, unknown> = {};
  const inputParameter = { [URI_PARAMETER]: { parameterType: 'STRING' } };
  const order = new Map(tasks.map((t, i) => [t.name, i]));
  tasks.forEach((t, i) => {
    const component = `comp-${t.name}`;
    const executor = `exec-${t.name}`;
    components[component] = { executorLabel: executor, inputDefinitions: { parameters: inputParameter } };
    executors[executor] = {
      container: {
        // `env NAME=VALUE runwise ...`: the URI arrives as an input parameter placeholder, which KFP
        // substitutes in args (not in a container's env); no shell, so no quoting of the stage id.
        args: [`${TRACKING_URI_ENV}={{$.inputs.parameters['${URI_PARAMETER}']}}`, 'runwise', ...stageArgs(t.stageId)],
        command: ['env'],
        image: options.image,
      },
    };
    platformExecutors[executor] = {
      pvcMount: [{ constant: WORKSPACE_CLAIM, mountPath: WORKSPACE_MOUNT, pvcNameParameter: { runtimeValue: { constant: WORKSPACE_CLAIM } } }],
      secretAsEnv: [
        {
          keyToEnv: [{ envVar: TRACKING_TOKEN_ENV, secretKey: TRACKING_SECRET.key }],
          optional: true,
          secretName: TRACKING_SECRET.name,
          secretNameParameter: { runtimeValue: { constant: TRACKING_SECRET.name } },
        },
      ],
    };
    // The graph's edges, and the task before in the runner's order: one stage at a time on the shared volume.
    const previous = i > 0 ? tasks[i - 1]!.name : undefined;
    const after = previous === undefined || t.after.includes(previous) ? t.after : [...t.after, previous];
    dagTasks[t.name] = {
      // Caching off: a stage's inputs are files on the volume, which KFP's cache key does not see.
      cachingOptions: {},
      componentRef: { name: component },
      ...(after.length ? { dependentTasks: [...after].sort((a, b) => order.get(a)! - order.get(b)!) } : {}),
      inputs: { parameters: { [URI_PARAMETER]: { componentInputParameter: URI_PARAMETER } } },
      taskInfo: { name: t.name },
    };
  });
  const rootParameter = {
    ...(options.trackingUri !== undefined ? { defaultValue: options.trackingUri } : {}),
    parameterType: 'STRING',
  };
  return {
    pipelineSpec: sortKeys({
      components,
      deploymentSpec: { executors },
      pipelineInfo: { name: options.name },
      root: { dag: { tasks: dagTasks }, inputDefinitions: { parameters: { [URI_PARAMETER]: rootParameter } } },
      schemaVersion: '2.1.0',
      sdkVersion: PRODUCER,
    }) as Record<string, unknown>,
    platformSpec: sortKeys({ platforms: { kubernetes: { deploymentSpec: { executors: platformExecutors } } } }) as Record<string, unknown>,
  };
}

/** Object keys sorted at every level (arrays keep their order). */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sortKeys(o[k])]),
    );
  }
  return v;
}

export function kubeflowPipelineSpec(graph: PipelineGraph, options: ExportOptions): string {
  const { pipelineSpec, platformSpec } = kubeflowObjects(graph, options);
  const header = [
    '# PIPELINE DEFINITION',
    `# Name: ${options.name}`,
    '# Inputs:',
    `#    ${URI_PARAMETER}: str${options.trackingUri !== undefined ? ` [Default: '${options.trackingUri}']` : ''}`,
    `# The Runwise pipeline in ${sourceNote(graph)}: one task per stage, each running \`runwise run STAGE --single\``,
    '# on the workspace volume. Generated by `runwise export-pipeline --format kubeflow`; regenerate it rather than edit it.',
  ];
  return `${header.join('\n')}\n${yamlText(pipelineSpec)}---\n${yamlText(platformSpec)}`;
}
