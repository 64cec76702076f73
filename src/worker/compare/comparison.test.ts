import { expect } from 'chai';
import { compareModels, figureRow } from './comparison.js';
import { formatComparisonText } from './comparison-text.js';
import { modelFromArtifact } from './compared-model.js';
import { metadataFixture, metricsFixture } from './test-support/fixtures.js';
import { formatDelta, isImprovement } from './format.js';

describe('compare: the comparison table', () => {
  const a = modelFromArtifact('gs://b/models/a', 'a', metadataFixture(), metricsFixture(0.8, { precision: 0.7, recall: 0.9, f1: 0.79 }));
  const b = modelFromArtifact('gs://b/models/b', 'b', metadataFixture({}, { epochs: 5 }), metricsFixture(0.85, { precision: 0.75, recall: 0.85, f1: 0.8 }, { expectedCalibrationError: 0.08 }));

  it('gives every metric and per-class figure its delta against the first model', () => {
    const c = compareModels([a, b]);
    const row = (k: string) => c.metrics.find((r) => r.key === k);
    expect(row('accuracy')?.values).to.deep.equal([0.8, 0.85]);
    expect(row('accuracy')?.deltas[0]).to.equal(undefined);
    expect(row('accuracy')?.deltas[1]).to.be.closeTo(0.05, 1e-12);
    // ECE: the first from metrics.json's calibration section, the second from the summary; lower is better.
    expect(row('ece')?.values).to.deep.equal([0.05, 0.08]);
    expect(row('ece')?.better).to.equal('lower');
    const cat = c.perClass.find((k) => k.className === 'cat');
    expect(cat?.recall.deltas[1]).to.be.closeTo(-0.05, 1e-12);
    expect(cat?.precision.deltas[1]).to.be.closeTo(0.05, 1e-12);
    expect(cat?.support).to.deep.equal([10, 10]);
  });

  it('marks the settings that differ and carries the curves, null losses dropped', () => {
    const c = compareModels([a, b]);
    expect(c.hyperparameters.find((h) => h.key === 'epochs')).to.deep.include({ values: [2, 5], differs: true });
    expect(c.hyperparameters.find((h) => h.key === 'learningRate')?.differs).to.equal(false);
    expect(c.lineage.find((l) => l.key === 'split')).to.deep.include({ values: ['0.8,0.1,0.1 seed 0', '0.8,0.1,0.1 seed 0'], differs: false });
    expect(a.curves?.[1]).to.deep.equal({ loss: 0.5, accuracy: 0.8, valAccuracy: 0.75 });
    expect(c.notes).to.deep.equal([]);
  });

  it('warns when the test sets differ or the classes differ, and leaves blanks for a missing class', () => {
    const other = modelFromArtifact('gs://b/models/c', 'c', metadataFixture({ classes: ['cat', 'fox'], dataset: { uri: 'gs://b/other', digest: 'e'.repeat(64) } }), metricsFixture(0.9, { precision: 0.9, recall: 0.9, f1: 0.9 }, {
      perClass: { cat: { precision: 0.9, recall: 0.9, f1: 0.9, support: 10 }, fox: { precision: 0.9, recall: 0.9, f1: 0.9, support: 10 } },
    }));
    const c = compareModels([a, other]);
    expect(c.notes.join('\n')).to.include('do not classify the same classes').and.include('not tested on the same images (different dataset digests)');
    expect(c.perClass.map((k) => k.className)).to.deep.equal(['cat', 'dog', 'fox']);
    const fox = c.perClass.find((k) => k.className === 'fox');
    expect(fox?.f1.values).to.deep.equal([undefined, 0.9]);
    expect(fox?.f1.deltas).to.deep.equal([undefined, undefined]);
  });

  it('says when the same recipe on the same data was run twice', () => {
    expect(compareModels([a, { ...a, label: 'a2' }]).notes).to.deep.equal(['same hyperparameters and dataset: differences are run-to-run variation']);
  });

  it('refuses fewer than two models', () => {
    expect(() => compareModels([a])).to.throw('at least two models');
  });

  it('formats deltas in percentage points with their sign, and judges them by which way is better', () => {
    const acc = figureRow('accuracy', 'accuracy', 'higher', [0.8, 0.85]);
    const ece = figureRow('ece', 'ECE', 'lower', [0.05, 0.08]);
    expect(formatDelta(acc, acc.deltas[1])).to.equal('+5.0 pp');
    expect(formatDelta(ece, ece.deltas[1])).to.equal('+3.0 pp');
    expect(isImprovement(acc, acc.deltas[1])).to.equal(true);
    expect(isImprovement(ece, ece.deltas[1])).to.equal(false);
    expect(formatDelta(acc, -0.0001)).to.equal('±0.0 pp');
    expect(isImprovement(acc, -0.0001)).to.equal(undefined);
    expect(formatDelta(figureRow('rocAuc', 'ROC-AUC', 'higher', [0.9, 0.88]), -0.02)).to.equal('−0.020');
  });

  it('prints the models side by side as text', () => {
    const text = formatComparisonText(compareModels([a, b]));
    expect(text).to.match(/accuracy\s+80\.0%\s+85\.0% \(\+5\.0 pp\)/);
    expect(text).to.match(/ECE \(calibration error\)\s+5\.0%\s+8\.0% \(\+3\.0 pp\)/);
    expect(text).to.match(/cat\s+precision\s+70\.0%\s+75\.0% \(\+5\.0 pp\)/);
    expect(text).to.match(/\* epochs\s+2\s+5/);
    expect(text).to.match(/ {2}learningRate\s+0\.001\s+0\.001/);
    expect(text).to.match(/datasetDigest\s+dddddddddddd…/);
    expect(text).to.include('deltas against a');
  });
});
