import { expect } from 'chai';
import { exampleBatchPrediction, exampleModelVersion } from '../../../test/fixtures/api-examples.js';
import type { BatchPrediction } from '../../shared/api/batch-prediction.js';
import { batchJobName, batchOutputUri, desiredBatchJob, predictBatchArgs } from './desired.js';

function batch(mutate?: (b: BatchPrediction) => void): BatchPrediction {
  const b = exampleBatchPrediction('relabel');
  b.metadata = { ...b.metadata, uid: 'uid-b', generation: 1 };
  mutate?.(b);
  return b;
}

const options = { workerImage: 'ghcr.io/kennel-dev/kennel-worker:0.1.0', artifactRoot: 'gs://bucket/kennel/', serviceAccountName: 'kennel-worker' };
const mv = exampleModelVersion('cats-dogs-v3', 3);

describe('batch-prediction desired Job', () => {
  it('is an Indexed Job of `parallelism` pods, named from the batch and a hash of its spec', () => {
    const job = desiredBatchJob(batch(), mv, options);
    expect(job.metadata?.name).to.match(/^relabel-[0-9a-f]{8}$/);
    expect(job.spec).to.deep.include({ completionMode: 'Indexed', completions: 3, parallelism: 3, backoffLimitPerIndex: 2, maxFailedIndexes: 0, activeDeadlineSeconds: 7200 });
    expect(desiredBatchJob(batch(), mv, options)).to.deep.equal(job);
    expect(batchJobName(batch((b) => (b.spec.parallelism = 4)))).not.to.equal(job.metadata?.name);
    expect(batchJobName(batch((b) => (b.status = { phase: 'Running' })))).to.equal(job.metadata?.name);
    expect(job.metadata?.ownerReferences?.[0]).to.deep.include({ kind: 'BatchPrediction', name: 'relabel', uid: 'uid-b', controller: true });
  });

  it('pins the model it was made with: artifact, digest and version name in its arguments, the version in an annotation', () => {
    const b = batch();
    const job = desiredBatchJob(b, mv, options);
    expect(job.metadata?.annotations).to.deep.equal({ 'kennel.dev/output-uri': 'gs://pet-catalogue/labels/2026-03-01', 'kennel.dev/model-version': 'cats-dogs-v3' });
    expect(job.spec?.template.spec?.containers[0]?.args).to.deep.equal([
      'predict-batch', '--model', mv.spec.artifact.uri, '--model-sha256', mv.spec.artifact.sha256, '--model-version', 'cats-dogs-v3',
      '--input', 'gs://pet-catalogue/photos/', '--output', 'gs://pet-catalogue/labels/2026-03-01', '--shards', '3', '--batch-size', '32',
    ]);
  });

  it('writes under the artifact root by default, one prefix per Job', () => {
    const b = batch((x) => delete x.spec.outputUri);
    expect(batchOutputUri(b, 'gs://bucket/kennel/')).to.equal(`gs://bucket/kennel/default/batch/relabel/${batchJobName(b)}`);
    expect(predictBatchArgs(batch((x) => delete x.spec.batchSize), mv, 'gs://o')).to.not.include('--batch-size');
  });

  it('fails a shard at once on the worker\'s terminal exit code, retries crashes, and runs locked down', () => {
    const job = desiredBatchJob(batch(), mv, options);
    const rules = job.spec?.podFailurePolicy?.rules ?? [];
    expect(rules[0]).to.deep.equal({ action: 'FailIndex', onExitCodes: { containerName: 'predict', operator: 'In', values: [1] } });
    expect(rules[1]?.action).to.equal('Ignore');
    const pod = job.spec?.template.spec;
    expect(pod?.restartPolicy).to.equal('Never');
    expect(pod?.automountServiceAccountToken).to.equal(false);
    expect(pod?.serviceAccountName).to.equal('kennel-worker');
    expect(pod?.securityContext?.runAsNonRoot).to.equal(true);
    expect(pod?.containers[0]?.securityContext?.readOnlyRootFilesystem).to.equal(true);
    expect(job.spec?.template.metadata?.labels).to.include({ 'kennel.dev/batch-prediction': 'relabel', 'app.kubernetes.io/managed-by': 'kennel-operator', 'app.kubernetes.io/component': 'batch-prediction' });
  });
});
