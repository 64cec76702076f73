import { expect } from 'chai';
import { exampleTrainingRun } from '../../../test/fixtures/api-examples.js';
import type { TrainingRun } from '../../shared/api/training-run.js';
import { desiredJob, trainArgs, trainingJobName, trainingOutputUri } from './desired.js';

function run(mutate?: (r: TrainingRun) => void): TrainingRun {
  const r = exampleTrainingRun('cats-dogs-1');
  r.metadata = { ...r.metadata, uid: 'uid-1', generation: 1 };
  mutate?.(r);
  return r;
}

const options = { workerImage: 'ghcr.io/kennel-dev/kennel-worker:0.1.0', artifactRoot: 'gs://bucket/kennel/', serviceAccountName: 'kennel-worker' };

describe('training-run desired Job', () => {
  it('is named from the run and a hash of its spec, stable across calls', () => {
    const job = desiredJob(run(), options);
    expect(job.metadata?.name).to.match(/^cats-dogs-1-[0-9a-f]{8}$/);
    expect(desiredJob(run(), options)).to.deep.equal(job);
    expect(desiredJob(run((r) => (r.spec.hyperparameters = { epochs: 2 })), options).metadata?.name).not.to.equal(job.metadata?.name);
    // status and metadata changes do not rename the Job
    expect(trainingJobName(run((r) => (r.status = { phase: 'Running' })))).to.equal(job.metadata?.name);
  });

  it('runs `kennel train` with the spec as arguments and the output under the artifact root', () => {
    const r = run();
    const out = trainingOutputUri(r, options.artifactRoot);
    expect(out).to.equal(`gs://bucket/kennel/default/cats-dogs/runs/${trainingJobName(r)}`);
    expect(trainArgs(r, out)).to.deep.equal([
      'train', '--data', 'gs://kennel-data/datasets/cats-dogs', '--out', out,
      '--classes', 'cat,dog', '--architecture', 'compact-cnn', '--epochs', '10', '--batch-size', '32',
      '--learning-rate', '0.002', '--image-size', '96', '--patience', '4', '--flip', '--random-crop', '--brightness', '0.1',
      '--split', '0.7,0.15,0.15', '--split-seed', '42',
    ]);
    const noAug = run((x) => (x.spec.hyperparameters = { augmentation: { horizontalFlip: false, randomCrop: false, brightness: 0 } }));
    expect(trainArgs(noAug, out)).to.include.members(['--no-flip', '--no-random-crop', '--brightness', '0']);
    const some = run((x) => (x.spec.hyperparameters = { augmentation: { horizontalFlip: true, brightness: 0.25 } }));
    const args = trainArgs(some, out);
    expect(args).to.include('--flip');
    expect(args).to.not.include('--no-random-crop');
    expect(args.slice(args.indexOf('--brightness'), args.indexOf('--brightness') + 2)).to.deep.equal(['--brightness', '0.25']);
    const minimal = run((x) => (x.spec = { model: 'm', dataset: { uri: 'file:///d' }, outputUri: 'file:///o' }));
    expect(trainArgs(minimal, trainingOutputUri(minimal, 'gs://x'))).to.deep.equal(['train', '--data', 'file:///d', '--out', 'file:///o']);
    // Several sources, in order: class folders as --data, prediction logs as --prediction-log.
    const several = run((x) => (x.spec = { model: 'm', dataset: { sources: [{ uri: 'gs://kennel-data/base' }, { uri: 'gs://kennel-data/logs/web', type: 'PredictionLog' }, { uri: 'gs://kennel-data/corrections-1', type: 'ClassFolders' }] }, outputUri: 'file:///o' }));
    expect(trainArgs(several, 'file:///o')).to.deep.equal(['train', '--data', 'gs://kennel-data/base', '--prediction-log', 'gs://kennel-data/logs/web', '--data', 'gs://kennel-data/corrections-1', '--out', 'file:///o']);
  });

  it('is locked down and bounded: non-root, read-only root, /tmp emptyDir, deadlines, TTL, owner', () => {
    const job = desiredJob(run(), { ...options, env: [{ name: 'KENNEL_GCS_ENDPOINT', value: 'http://127.0.0.1:4443' }] });
    const pod = job.spec?.template.spec;
    const c = pod?.containers[0];
    expect(c?.image).to.equal(options.workerImage);
    expect(pod?.securityContext?.runAsNonRoot).to.equal(true);
    expect(c?.securityContext?.readOnlyRootFilesystem).to.equal(true);
    expect(c?.securityContext?.allowPrivilegeEscalation).to.equal(false);
    expect(c?.volumeMounts).to.deep.include({ name: 'tmp', mountPath: '/tmp' });
    expect(pod?.volumes?.[0]?.emptyDir).to.not.equal(undefined);
    expect(pod?.restartPolicy).to.equal('Never');
    expect(pod?.serviceAccountName).to.equal('kennel-worker');
    expect(c?.terminationMessagePolicy).to.equal('File');
    expect(c?.env).to.deep.include({ name: 'KENNEL_GCS_ENDPOINT', value: 'http://127.0.0.1:4443' });
    expect(c?.resources).to.deep.equal({ requests: { cpu: '2', memory: '2Gi' }, limits: { memory: String(3 * 1024 ** 3) } });
    expect(job.spec?.backoffLimit).to.equal(1);
    expect(job.spec?.activeDeadlineSeconds).to.equal(3600);
    expect(job.spec?.ttlSecondsAfterFinished).to.be.greaterThan(0);
    expect(job.spec?.podFailurePolicy?.rules[0]?.action).to.equal('FailJob');
    expect(job.metadata?.ownerReferences).to.deep.equal([
      { apiVersion: 'kennel.dev/v1alpha1', kind: 'TrainingRun', name: 'cats-dogs-1', uid: 'uid-1', controller: true, blockOwnerDeletion: true },
    ]);
    expect(job.metadata?.labels?.['kennel.dev/training-run']).to.equal('cats-dogs-1');
  });

  it('honours spec overrides of image, service account and output', () => {
    const job = desiredJob(
      run((r) => Object.assign(r.spec, { image: 'my/worker:dev', serviceAccountName: 'sa2', outputUri: 'file:///out' })),
      options,
    );
    expect(job.spec?.template.spec?.containers[0]?.image).to.equal('my/worker:dev');
    expect(job.spec?.template.spec?.serviceAccountName).to.equal('sa2');
    expect(job.spec?.template.spec?.containers[0]?.args).to.include('file:///out');
  });

  it('refuses a run without a uid (no owner reference possible)', () => {
    expect(() => desiredJob(run((r) => delete r.metadata.uid), options)).to.throw(/uid/);
  });
});
