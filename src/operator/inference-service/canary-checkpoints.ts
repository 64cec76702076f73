import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.js';
import { Resources } from '../kube/resources.js';
import type { Informer } from '../runtime/informer.js';
import { Annotations } from '../shared/labels.js';
import { servingDeploymentName } from '../shared/names.js';
import type { DeploymentWire } from '../shared/wire.js';
import type { MetricsSnapshot } from './canary-metrics.js';

/**
 * The canary analysis's history, kept in the cluster so that a new leader (the old one killed,
 * or the operator upgraded) resumes a canary's analysis window instead of starting it again: the
 * summed counters of the canary pods at a few moments, in an annotation on the canary's own
 * Deployment. There it lives exactly as long as the canary does (a rollback deletes the
 * Deployment; a promotion clears it), it costs no status schema, and only the leader writes it,
 * under a field manager of its own so the Deployment's own apply never removes it.
 */

/** Which canary is measured: the InferenceService's key (`namespace/name`), the version on trial and when its rollout began. */
export interface CanaryKey {
  service: string;
  modelVersion: string;
  /** `status.canary.startedAt`: a later rollout of the same version starts a new history. */
  startedAt: string;
}

/** The canary pods' summed counters at one moment (ms since the epoch). */
export interface Checkpoint {
  at: number;
  snapshot: MetricsSnapshot;
}

export interface CheckpointStore {
  /** The checkpoints kept for this canary, oldest first; empty when there are none (or they belong to another rollout). */
  load(key: CanaryKey): Checkpoint[];
  save(key: CanaryKey, checkpoints: readonly Checkpoint[]): Promise<void>;
  /** Removes what is kept for the canary (it was promoted: its Deployment now serves as the stable one). */
  clear(key: CanaryKey): Promise<void>;
}

/** The field manager of the checkpoint annotation, apart from the Deployment's own. */
export const CANARY_ANALYSIS_FIELD_MANAGER = 'kennel-operator-canary-analysis';

interface Encoded {
  modelVersion: string;
  startedAt: string;
  points: Array<{ at: number; requests: number; errors: number; latency: Record<string, number>; confidenceSum: number; confidenceCount: number }>;
}

export function encodeCheckpoints(key: CanaryKey, checkpoints: readonly Checkpoint[]): string {
  const encoded: Encoded = {
    modelVersion: key.modelVersion,
    startedAt: key.startedAt,
    points: checkpoints.map(({ at, snapshot: s }) => ({
      at,
      requests: s.requests,
      errors: s.errors,
      // JSON has no Infinity: the +Inf bucket is written as Prometheus writes it.
      latency: Object.fromEntries([...s.latencyBuckets].map(([le, n]) => [le === Infinity ? '+Inf' : String(le), n])),
      confidenceSum: s.confidenceSum,
      confidenceCount: s.confidenceCount,
    })),
  };
  return JSON.stringify(encoded);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/**
 * The checkpoints of `text` when they belong to this canary, oldest first. Anything malformed
 * (someone edited the annotation) throws with what is wrong; the caller then starts afresh.
 */
export function decodeCheckpoints(key: CanaryKey, text: string): Checkpoint[] {
  const parsed = JSON.parse(text) as Partial<Encoded> | null;
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(parsed.points)) throw new Error('not an object with a list of points');
  if (parsed.modelVersion !== key.modelVersion || parsed.startedAt !== key.startedAt) return [];
  return parsed.points
    .map((p, i) => {
      const counts = [p?.at, p?.requests, p?.errors, p?.confidenceSum, p?.confidenceCount];
      if (!counts.every(isCount) || typeof p.latency !== 'object' || p.latency === null) throw new Error(`point ${i} is malformed`);
      const latencyBuckets = new Map<number, number>();
      for (const [le, n] of Object.entries(p.latency)) {
        const bound = le === '+Inf' ? Infinity : Number(le);
        if (Number.isNaN(bound) || !isCount(n)) throw new Error(`point ${i} has a malformed latency bucket ${le}`);
        latencyBuckets.set(bound, n);
      }
      return { at: p.at, snapshot: { requests: p.requests, errors: p.errors, latencyBuckets, confidenceSum: p.confidenceSum, confidenceCount: p.confidenceCount } };
    })
    .sort((a, b) => a.at - b.at);
}

/** The checkpoint store over the canary Deployments: read from the informer cache, written by server-side apply. */
export function deploymentCheckpointStore(options: { kube: KubeClient; deployments: Informer<DeploymentWire>; logger: Logger }): CheckpointStore {
  const { kube, deployments, logger } = options;
  const where = (key: CanaryKey) => {
    const [namespace = '', name = ''] = key.service.split('/');
    return { namespace, name: servingDeploymentName(name, key.modelVersion) };
  };
  const applyAnnotations = async (key: CanaryKey, annotations: Record<string, string> | undefined) => {
    const { namespace, name } = where(key);
    const metadata = { name, namespace, ...(annotations ? { annotations } : {}) };
    await kube.apply(Resources.deployment, { apiVersion: 'apps/v1', kind: 'Deployment', metadata }, { fieldManager: CANARY_ANALYSIS_FIELD_MANAGER });
  };
  return {
    load(key) {
      const { namespace, name } = where(key);
      const text = deployments.get(namespace, name)?.metadata?.annotations?.[Annotations.canaryAnalysis];
      if (!text) return [];
      try {
        return decodeCheckpoints(key, text);
      } catch (err) {
        logger.warn({ err, deployment: `${namespace}/${name}` }, 'canary analysis checkpoints unreadable; measuring afresh');
        return [];
      }
    },
    save: (key, checkpoints) => applyAnnotations(key, { [Annotations.canaryAnalysis]: encodeCheckpoints(key, checkpoints) }),
    // Applying nothing under this field manager lets go of the annotation, and the API server removes it.
    clear: (key) => applyAnnotations(key, undefined),
  };
}
