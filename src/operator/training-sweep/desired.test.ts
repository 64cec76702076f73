import { expect } from 'chai';
import { exampleTrainingSweep } from '../../../test/fixtures/api-examples.js';
import type { TrainingRun } from '../../shared/api/training-run.js';
import { currentRuns, desiredTrialRun, trialOf, trialRunName, trialsToStart } from './desired.js';
import { expandTrials } from './trials.js';

function sweep() {
  const s = exampleTrainingSweep('search');
  s.metadata.uid = 'aaaaaaaa-0000-4000-8000-000000000001';
  s.metadata.generation = 1;
  return s;
}

function withPhase(run: TrainingRun, phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed', generation = 1): TrainingRun {
  return { ...run, metadata: { ...run.metadata, generation }, status: { phase, observedGeneration: 1 } };
}

describe('training-sweep desired', () => {
  it('names each trial\'s run deterministically, owned by the sweep and labelled with it', () => {
    const s = sweep();
    const [first] = expandTrials(s.spec);
    if (!first) throw new Error('no trial');
    const run = desiredTrialRun(s, first);
    expect(run.metadata.name).to.match(/^search-0-[0-9a-f]{8}$/);
    expect(desiredTrialRun(s, first)).to.deep.equal(run);
    expect(run.metadata.labels).to.include({ 'kennel.dev/training-sweep': 'search', 'kennel.dev/sweep-trial': '0', 'app.kubernetes.io/managed-by': 'kennel-operator' });
    expect(run.metadata.ownerReferences).to.deep.equal([
      { apiVersion: 'kennel.dev/v1alpha1', kind: 'TrainingSweep', name: 'search', uid: s.metadata.uid, controller: true, blockOwnerDeletion: true },
    ]);
    expect(run.spec.hyperparameters).to.deep.include({ imageSize: 64, learningRate: 0.001 });
    expect(trialOf(run, s)).to.equal(0);
    expect(trialOf({ ...run, metadata: { ...run.metadata, ownerReferences: [] } }, s), 'a run it does not own').to.equal(undefined);
    expect(trialRunName('x'.repeat(40), 99, run.spec).length).to.be.at.most(63);
  });

  it('names a trial\'s run by its spec: a changed sweep makes new runs and leaves the old ones to delete', () => {
    const s = sweep();
    const trials = expandTrials(s.spec);
    const before = trials.map((t) => desiredTrialRun(s, t));
    const changed = sweep();
    changed.spec.search.parameters.learningRate = { values: [0.001, 0.005] };
    changed.spec.maxTrials = 2;
    const after = expandTrials(changed.spec);
    // trial 0 keeps its values (learningRate 0.001) and its run; trial 1 too; trials 2.. are gone
    const { current, stale } = currentRuns(changed, after, before);
    expect([...current.keys()]).to.deep.equal([0, 1]);
    expect(stale.map((r) => r.metadata.name)).to.deep.equal(before.slice(2).map((r) => r.metadata.name));
    changed.spec.template.hyperparameters = { ...changed.spec.template.hyperparameters, batchSize: 64 };
    const respec = currentRuns(changed, expandTrials(changed.spec), before);
    expect(respec.current.size).to.equal(0);
    expect(respec.stale).to.have.length(8);
  });

  it('starts the lowest-numbered missing trials, never more than parallelism running', () => {
    const s = sweep();
    const trials = expandTrials(s.spec);
    const run = (i: number) => desiredTrialRun(s, trials[i] ?? trials[0]!);
    expect(trialsToStart(trials, new Map(), 2).map((t) => t.trial)).to.deep.equal([0, 1]);
    expect(trialsToStart(trials, new Map([[0, withPhase(run(0), 'Running')], [1, run(1)]]), 2)).to.deep.equal([]);
    const oneDone = new Map([[0, withPhase(run(0), 'Succeeded')], [1, withPhase(run(1), 'Running')]]);
    expect(trialsToStart(trials, oneDone, 2).map((t) => t.trial)).to.deep.equal([2]);
    // a finished status of an older generation is not finished: the run re-trains its new spec
    const stale = new Map([[0, withPhase(run(0), 'Succeeded', 2)], [1, withPhase(run(1), 'Failed')]]);
    expect(trialsToStart(trials, stale, 2).map((t) => t.trial)).to.deep.equal([2]);
    const allDone = new Map(trials.map((t) => [t.trial, withPhase(run(t.trial), 'Succeeded')]));
    expect(trialsToStart(trials, allDone, 2)).to.deep.equal([]);
  });
});
