import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { Obj } from './kubectl.js';

const EXAMPLES = fileURLToPath(new URL('../examples/cats-vs-dogs/', import.meta.url));

/** An example manifest from examples/cats-vs-dogs/, parsed (the demo and the e2e patch a copy). */
export function readExample(file: 'training-run.yaml' | 'inference-service.yaml'): Obj {
  return parse(readFileSync(`${EXAMPLES}${file}`, 'utf8')) as Obj;
}

/** Deep-merges `patch` into a copy of `base` (objects merge; arrays and scalars replace; `undefined` deletes). */
export function merge<T>(base: T, patch: unknown): T {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch as T;
  const out: Record<string, unknown> = base && typeof base === 'object' && !Array.isArray(base) ? { ...(base as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === undefined) delete out[k];
    else out[k] = merge(out[k], v);
  }
  return out as T;
}

/**
 * The example TrainingRun, renamed and pointed at a dataset in the local cluster's bucket, with the
 * given hyperparameters and gate, and a footprint that fits a two-core machine.
 */
export function trainingRunFromExample(o: {
  name: string;
  namespace: string;
  datasetUri: string;
  classes?: readonly string[];
  /** Default: the example's (the default architecture, mobilenet-v2). */
  architecture?: string;
  hyperparameters: Record<string, unknown>;
  evaluation: Record<string, unknown>;
}): Obj {
  const example = readExample('training-run.yaml');
  return merge(example, {
    metadata: { name: o.name, namespace: o.namespace },
    spec: {
      dataset: { uri: o.datasetUri, ...(o.classes ? { classes: [...o.classes] } : {}) },
      ...(o.architecture ? { architecture: o.architecture } : {}),
      hyperparameters: o.hyperparameters,
      evaluation: o.evaluation,
      // Two cores are shared by the control plane, the operator, the serving pods and training.
      resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '3Gi' } },
      activeDeadlineSeconds: 900,
    },
  });
}

/**
 * The example InferenceService with short canary pauses, a short progress deadline and a 5 s
 * scrape interval; its prediction log and retraining policy only when given (the example's
 * point at a bucket the local cluster does not have).
 */
export function inferenceServiceFromExample(o: { namespace: string; progressDeadlineSeconds: number; logging?: Record<string, unknown>; retraining?: Record<string, unknown> }): Obj {
  const example = readExample('inference-service.yaml');
  return merge(example, {
    metadata: { namespace: o.namespace },
    spec: {
      replicas: 2,
      rollout: {
        strategy: 'Canary',
        steps: [{ weight: 50, pauseSeconds: 10 }, { weight: 100 }],
        analysis: { maxErrorRate: 0.01, maxP95LatencyMs: 3000, minRequests: 5, window: '30s', maxConfidenceDrift: undefined },
        progressDeadlineSeconds: o.progressDeadlineSeconds,
      },
      resources: { requests: { cpu: '250m', memory: '512Mi' } },
      monitoring: { enabled: true, interval: '5s' },
      logging: o.logging,
      retraining: o.retraining,
    },
  });
}
