import { API_VERSION } from '../../shared/api/common.js';
import { MODEL_VERSION_KIND, type ModelVersion } from '../../shared/api/model-version.js';
import type { TrainingRun } from '../../shared/api/training-run.js';
import type { WorkerSuccess } from '../../shared/api/worker-report.js';
import { Labels, MANAGED_BY } from '../shared/labels.js';
import { bornEligibility } from './eligibility.js';
import { modelVersionName } from '../shared/names.js';

/**
 * WorkerSuccess + TrainingRun → the ModelVersion to create. Pure. It carries no owner
 * reference on purpose: ModelVersions outlive their run (a GitOps prune of the run must not
 * erase the registry); the run is named in lineage and labels instead.
 */
export interface ModelVersionInput {
  run: TrainingRun;
  outcome: WorkerSuccess;
  version: number;
  /** The image that trained it (the Job's). */
  workerImage?: string;
}

export function desiredModelVersion({ run, outcome, version, workerImage }: ModelVersionInput): ModelVersion {
  if (!run.metadata.uid) throw new Error(`TrainingRun ${run.metadata.name} has no uid`);
  const mv: ModelVersion = {
    apiVersion: API_VERSION,
    kind: MODEL_VERSION_KIND,
    metadata: {
      name: modelVersionName(run.spec.model, version),
      namespace: run.metadata.namespace,
      labels: {
        [Labels.model]: run.spec.model,
        [Labels.version]: String(version),
        [Labels.trainingRun]: run.metadata.name,
        [Labels.trainingRunUid]: run.metadata.uid,
        [Labels.managedBy]: MANAGED_BY,
      },
    },
    spec: {
      model: run.spec.model,
      version,
      artifact: { uri: outcome.artifactUri, format: outcome.format, sha256: outcome.sha256 },
      classes: [...outcome.classes],
      inputShape: [...outcome.inputShape],
      metrics: structuredClone(outcome.metrics),
      lineage: {
        trainingRun: run.metadata.name,
        trainingRunUid: run.metadata.uid,
        dataset: {
          uri: outcome.datasetUri,
          digest: outcome.datasetDigest,
          ...(outcome.datasetSources ? { sources: structuredClone(outcome.datasetSources) } : {}),
        },
        codeVersion: outcome.codeVersion,
        backend: outcome.backend,
      },
    },
  };
  const sweep = run.metadata.labels?.[Labels.trainingSweep];
  if (sweep) {
    mv.metadata.labels = { ...mv.metadata.labels, [Labels.trainingSweep]: sweep };
    mv.metadata.annotations = bornEligibility(run);
  }
  if (workerImage) mv.spec.lineage.workerImage = workerImage;
  if (run.spec.evaluation) mv.spec.gate = structuredClone(run.spec.evaluation);
  return mv;
}
