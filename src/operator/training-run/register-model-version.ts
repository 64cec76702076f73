import type { ModelVersion } from '../../shared/api/model-version.js';
import { parseModelVersion } from '../../shared/api/parse.js';
import type { KubeClient, KubeObject } from '../kube/client.js';
import { isAlreadyExists } from '../kube/errors.js';
import { Resources } from '../kube/resources.js';
import { Labels } from '../shared/labels.js';
import { nextVersion } from '../model-version/version.js';

export interface RegisterOptions {
  kube: KubeClient;
  namespace: string;
  model: string;
  /** UID of the run: a run registers at most one ModelVersion (found by this label). */
  runUid: string;
  /** ModelVersions of the namespace as the cache sees them (may lag behind the server). */
  cached: readonly ModelVersion[];
  /** The ModelVersion to create as version `n` (name `<model>-v<n>`, labels included). */
  render: (version: number) => ModelVersion;
  maxAttempts?: number;
}

const versionOf = (mv: KubeObject): number => {
  const parsed = parseModelVersion(mv);
  return parsed.ok ? parsed.value.spec.version : 0;
};

/**
 * Registers the run's ModelVersion exactly once, with a version number one above the highest of
 * its model. Two runs of one model finishing at the same moment both pick N; the name
 * `<model>-vN` is deterministic, so the API server lets exactly one create win and the other
 * gets AlreadyExists and tries N+1 — no lock, no counter object. Before creating, the server
 * (not the cache, which may not have seen our own create yet) is asked whether this run already
 * registered one, so a retried reconcile never registers a second.
 */
export async function registerModelVersion(o: RegisterOptions): Promise<{ name: string; version: number; created: boolean }> {
  const existing = await o.kube.list<KubeObject>(Resources.modelVersion, o.namespace, { labelSelector: `${Labels.trainingRunUid}=${o.runUid}` });
  const mine = existing.items[0];
  if (mine?.metadata?.name) return { name: mine.metadata.name, version: versionOf(mine), created: false };
  let version = nextVersion(o.cached, o.model);
  const attempts = o.maxAttempts ?? 50;
  for (let i = 0; i < attempts; i++, version++) {
    const obj = o.render(version);
    try {
      const created = await o.kube.create(Resources.modelVersion, obj);
      return { name: created.metadata?.name ?? '', version, created: true };
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  throw new Error(`could not register a ModelVersion of ${o.model} after ${attempts} attempts (versions taken)`);
}
