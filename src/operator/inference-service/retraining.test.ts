import { expect } from 'chai';
import { exampleInferenceService, exampleTrainingRun } from '../../../test/fixtures/api-examples.js';
import type { InferenceService, LiveQuality } from '../../shared/api/inference-service.js';
import { decideRetraining, liveWindowMs } from './retraining.js';

const now = new Date('2026-11-20T12:00:00Z');

function service(status: Partial<NonNullable<InferenceService['status']>> = {}): InferenceService {
  const s = exampleInferenceService('web');
  s.metadata.uid = 'isvc-uid';
  const template = exampleTrainingRun('template').spec;
  template.dataset = { sources: [{ uri: 'gs://kennel-data/datasets/cats-dogs' }, { uri: 'gs://kennel-data/logs/web', type: 'PredictionLog' }] };
  s.spec.retraining = { minAccuracy: 0.8, window: '6h', minFeedback: 20, minInterval: '12h', template };
  s.status = { phase: 'Ready', currentModelVersion: 'cats-dogs-v3', ...status };
  return s;
}

const live = (over: Partial<LiveQuality> = {}): LiveQuality => ({ modelVersion: 'cats-dogs-v3', windowSeconds: 21600, predictions: 900, feedback: 40, accuracy: 0.6, measuredAt: now.toISOString(), ...over });

describe('retraining policy', () => {
  it('starts a TrainingRun from the template when live accuracy over the window is below the threshold', () => {
    const d = decideRetraining({ isvc: service(), live: live(), now });
    expect(d.start).to.equal(true);
    if (!d.start) return;
    expect(d.run.metadata).to.deep.include({ name: 'web-retrain-1', namespace: 'default' });
    expect(d.run.metadata.ownerReferences?.[0]).to.deep.include({ kind: 'InferenceService', name: 'web', uid: 'isvc-uid' });
    expect(d.run.spec.dataset.sources?.map((src) => src.type ?? 'ClassFolders')).to.deep.equal(['ClassFolders', 'PredictionLog']);
    expect(d.status).to.deep.include({ runs: 1, lastTrainingRun: 'web-retrain-1', lastStartedAt: now.toISOString() });
    expect(d.message).to.match(/live accuracy of cats-dogs-v3 was 0.6 on 40 feedback .* below 0.8/);
    expect(liveWindowMs(service())).to.equal(6 * 3600_000);
  });

  it('is off by default and never fires on too little feedback, good accuracy, a rollout, another version\'s figures or an unfinished run', () => {
    const noPolicy = service();
    delete noPolicy.spec.retraining;
    const cases: [string, Parameters<typeof decideRetraining>[0]][] = [
      ['no policy', { isvc: noPolicy, live: live(), now }],
      ['no measurement', { isvc: service(), live: undefined, now }],
      ['too little feedback', { isvc: service(), live: live({ feedback: 19 }), now }],
      ['accuracy at the threshold', { isvc: service(), live: live({ accuracy: 0.8 }), now }],
      ['a rollout in progress', { isvc: service({ canary: { modelVersion: 'cats-dogs-v4', step: 0, weight: 25, startedAt: now.toISOString(), stepStartedAt: now.toISOString() } }), live: live(), now }],
      ['figures of a version no longer serving', { isvc: service(), live: live({ modelVersion: 'cats-dogs-v2' }), now }],
      ['the previous run still running', { isvc: service({ retraining: { runs: 1, lastTrainingRun: 'web-retrain-1', lastStartedAt: '2026-11-19T00:00:00Z' } }), live: live(), lastRunPhase: 'Running', now }],
    ];
    for (const [what, input] of cases) expect(decideRetraining(input).start, what).to.equal(false);
  });

  it('never fires more often than minInterval, counted from status so an operator restart does not reset it', () => {
    const recent = service({ retraining: { runs: 2, lastTrainingRun: 'web-retrain-2', lastStartedAt: '2026-11-20T01:00:00Z' } });
    expect(decideRetraining({ isvc: recent, live: live(), lastRunPhase: 'Succeeded', now }).start).to.equal(false);
    const later = decideRetraining({ isvc: recent, live: live(), lastRunPhase: 'Failed', now: new Date('2026-11-20T13:00:01Z') });
    expect(later.start).to.equal(true);
    if (later.start) expect(later.run.metadata.name).to.equal('web-retrain-3');
  });
});
