/**
 * Where a kind lives in the API. Paths are built from these, never by string concatenation at
 * call sites.
 */
export interface ResourceRef {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export function apiVersionOf(r: ResourceRef): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** The collection path, or the object path when `name` is given; `sub` picks a subresource. */
export function resourcePath(r: ResourceRef, namespace?: string, name?: string, sub?: string): string {
  let path = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  if (r.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${r.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (sub) path += `/${sub}`;
  return path;
}

const ref = (group: string, version: string, plural: string, kind: string, namespaced = true): ResourceRef =>
  Object.freeze({ group, version, plural, kind, namespaced });

/** The kinds the operator reads or writes. */
export const Resources = Object.freeze({
  trainingRun: ref('kennel.dev', 'v1alpha1', 'trainingruns', 'TrainingRun'),
  modelVersion: ref('kennel.dev', 'v1alpha1', 'modelversions', 'ModelVersion'),
  inferenceService: ref('kennel.dev', 'v1alpha1', 'inferenceservices', 'InferenceService'),
  batchPrediction: ref('kennel.dev', 'v1alpha1', 'batchpredictions', 'BatchPrediction'),
  trainingSweep: ref('kennel.dev', 'v1alpha1', 'trainingsweeps', 'TrainingSweep'),
  job: ref('batch', 'v1', 'jobs', 'Job'),
  pod: ref('', 'v1', 'pods', 'Pod'),
  service: ref('', 'v1', 'services', 'Service'),
  event: ref('', 'v1', 'events', 'Event'),
  namespace: ref('', 'v1', 'namespaces', 'Namespace', false),
  deployment: ref('apps', 'v1', 'deployments', 'Deployment'),
  replicaSet: ref('apps', 'v1', 'replicasets', 'ReplicaSet'),
  hpa: ref('autoscaling', 'v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler'),
  pdb: ref('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget'),
  lease: ref('coordination.k8s.io', 'v1', 'leases', 'Lease'),
  podMonitoring: ref('monitoring.googleapis.com', 'v1', 'podmonitorings', 'PodMonitoring'),
});
