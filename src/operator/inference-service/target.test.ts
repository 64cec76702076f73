import { expect } from 'chai';
import { exampleInferenceService, exampleModelVersion } from '../../../test/fixtures/api-examples.js';
import type { ModelVersion } from '../../shared/api/model-version.js';
import { selectTarget } from './target.js';

function mv(version: number, passed: boolean | undefined, model = 'cats-dogs'): ModelVersion {
  const v = exampleModelVersion(`${model}-v${version}`, version);
  v.spec.model = model;
  if (passed !== undefined) v.status = { gate: { passed, policy: {}, reasons: [], evaluatedAt: '2026-01-01T00:00:00Z' } };
  return v;
}

describe('inference-service target', () => {
  const versions = [mv(1, true), mv(2, true), mv(3, false), mv(4, undefined), mv(9, true, 'other')];

  it('follows the newest passing version of the model', () => {
    const r = selectTarget(exampleInferenceService(), versions);
    expect(r.ok && r.modelVersion.metadata.name).to.equal('cats-dogs-v2');
  });

  it('skips versions rolled back here', () => {
    const isvc = exampleInferenceService();
    isvc.metadata.generation = 5;
    isvc.status = { failedRollouts: [{ modelVersion: 'cats-dogs-v2', generation: 5, reason: 'AnalysisFailed' }] };
    const r = selectTarget(isvc, versions);
    expect(r.ok && r.modelVersion.metadata.name).to.equal('cats-dogs-v1');
  });

  it('skips versions marked not eligible for serving (a sweep\'s trials but its best), unless pinned', () => {
    const ineligible = (v: ModelVersion) => {
      v.metadata.annotations = { 'kennel.dev/serving-eligible': 'false' };
      return v;
    };
    const winner = mv(2, true);
    winner.metadata.annotations = { 'kennel.dev/serving-eligible': 'true' };
    const sweep = [mv(1, true), winner, ineligible(mv(3, true)), ineligible(mv(4, true))];
    const r = selectTarget(exampleInferenceService(), sweep);
    expect(r.ok && r.modelVersion.metadata.name).to.equal('cats-dogs-v2');
    const none = selectTarget(exampleInferenceService(), [ineligible(mv(3, true)), mv(5, false)]);
    expect(none).to.deep.include({ ok: false, reason: 'NoEligibleVersion', terminal: false });
    if (!none.ok) expect(none.message).to.contain('1 passed their gate but are marked not eligible for serving');
    const pinned = exampleInferenceService();
    delete pinned.spec.model;
    pinned.spec.modelVersion = 'cats-dogs-v3';
    const p = selectTarget(pinned, [ineligible(mv(3, true))]);
    expect(p.ok && p.modelVersion.metadata.name).to.equal('cats-dogs-v3');
  });

  it('says why when nothing is eligible', () => {
    const r = selectTarget(exampleInferenceService(), [mv(3, false)]);
    expect(r).to.deep.include({ ok: false, reason: 'NoEligibleVersion', terminal: false });
  });

  it('serves a pinned version only once it passed; a rejected pin is terminal; a rolled back pin retries after a spec change', () => {
    const pinned = (name: string) => {
      const s = exampleInferenceService();
      delete s.spec.model;
      s.spec.modelVersion = name;
      s.metadata.generation = 2;
      return s;
    };
    const ok = selectTarget(pinned('cats-dogs-v1'), versions);
    expect(ok.ok && ok.modelVersion.metadata.name).to.equal('cats-dogs-v1');
    expect(selectTarget(pinned('cats-dogs-v3'), versions)).to.deep.include({ ok: false, reason: 'ModelVersionRejected', terminal: true });
    expect(selectTarget(pinned('cats-dogs-v4'), versions)).to.deep.include({ ok: false, reason: 'NoEligibleVersion' });
    expect(selectTarget(pinned('nope'), versions)).to.deep.include({ ok: false, reason: 'ModelVersionNotFound' });
    const blocked = pinned('cats-dogs-v2');
    blocked.status = { failedRollouts: [{ modelVersion: 'cats-dogs-v2', generation: 2, reason: 'ProgressDeadlineExceeded' }] };
    expect(selectTarget(blocked, versions)).to.deep.include({ ok: false, reason: 'RolledBack' });
    blocked.metadata.generation = 3;
    expect(selectTarget(blocked, versions).ok).to.equal(true);
  });
});
