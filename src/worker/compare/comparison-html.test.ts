import { expect } from 'chai';
import { compareModels } from './comparison.js';
import { inlineSvg, renderComparisonHtml } from './comparison-html.js';
import { modelFromArtifact } from './compared-model.js';
import { renderCurvesOverlaySvg } from './curves-overlay-svg.js';
import { metadataFixture, metricsFixture } from './test-support/fixtures.js';

describe('compare: the HTML page', () => {
  const a = modelFromArtifact('gs://b/m/a', 'a<b>', metadataFixture(), metricsFixture(0.8, { precision: 0.7, recall: 0.9, f1: 0.79 }));
  const b = modelFromArtifact('gs://b/m/b', 'b', metadataFixture({}, { epochs: 5 }), metricsFixture(0.75, { precision: 0.75, recall: 0.85, f1: 0.8 }, { training: undefined }));
  const html = renderComparisonHtml(compareModels([a, b]));

  it('has every section, one confusion matrix per model, and escapes names', () => {
    for (const id of ['models', 'metrics', 'curves', 'confusion', 'per-class', 'hyperparameters', 'lineage', 'notes']) expect(html).to.include(`<section id="${id}">`);
    expect(html.match(/<figure class="confusion"/g)).to.have.length(2);
    expect(html).to.include('a&lt;b&gt;').and.not.include('a<b>');
    expect(html).to.not.match(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it('colours deltas by whether they are better, and highlights differing settings', () => {
    expect(html).to.match(/data-metric="accuracy"[^\n]*<span class="delta worse">−5\.0 pp<\/span>/);
    expect(html).to.match(/<tr class="differs"><th scope="row">epochs<\/th><td>2<\/td><td>5<\/td>/);
    expect(html).to.include('No training curves recorded for b.');
  });

  it('overlays one validation and one training line per model with curves', () => {
    const svg = renderCurvesOverlaySvg([{ label: 'a', curves: a.curves ?? [] }, { label: 'c', curves: [{ loss: 1, accuracy: 0.5, valLoss: 1.1, valAccuracy: 0.4 }, { loss: 0.7, accuracy: 0.6, valLoss: 0.9, valAccuracy: 0.5 }, { loss: 0.5, accuracy: 0.7, valLoss: 0.8, valAccuracy: 0.6 }] }]);
    // Loss panel: a's validation loss has one point (the other is null), drawn as a dot.
    expect(svg.match(/<polyline[^>]*data-model="c"/g)).to.have.length(4);
    expect(svg.match(/<polyline[^>]*data-model="a"/g)).to.have.length(3);
    expect(svg).to.match(/<circle[^>]*data-model="a" data-series="validation"/);
    expect(svg).to.include('role="img"');
  });

  it('marks where a pretrained model\'s fine-tuning starts, in its colour, once per panel, and only for that model', () => {
    const three = [{ loss: 1, accuracy: 0.5, valLoss: 1.1, valAccuracy: 0.4 }, { loss: 0.7, accuracy: 0.6, valLoss: 0.9, valAccuracy: 0.5 }, { loss: 0.5, accuracy: 0.7, valLoss: 0.8, valAccuracy: 0.6 }];
    const svg = renderCurvesOverlaySvg([{ label: 'scratch', curves: three }, { label: 'pre', curves: three, fineTuningFrom: 3 }]);
    const markers = svg.match(/<line[^>]*data-marker="fine-tuning"[^>]*>/g) ?? [];
    expect(markers).to.have.length(2);
    for (const m of markers) expect(m).to.include('data-model="pre"').and.include('stroke="#d62728"');
    // between epoch 2 and 3 of the loss panel: x = left 50 + 1.5/2 × width 360
    expect(markers[0]).to.include('x1="320"');
    expect(svg).to.include('pre: head on frozen features for 2 epochs, fine-tuning from epoch 3');
    expect(svg).to.include('dotted vertical: fine-tuning starts');
    const plain = renderCurvesOverlaySvg([{ label: 'scratch', curves: three }]);
    expect(plain).not.to.include('data-marker');
    expect(plain).not.to.include('dotted vertical');
  });

  it('names each inline SVG once and makes it scale', () => {
    expect(inlineSvg('<svg xmlns="x" width="40" height="30"><rect/></svg>', 'A & B')).to.equal('<svg role="img" aria-label="A &amp; B" viewBox="0 0 40 30" xmlns="x" width="40" height="30"><rect/></svg>');
    expect(inlineSvg('<svg width="40" height="30" viewBox="0 0 40 30" role="img" aria-label="Confusion matrix"><rect width="9"/></svg>', 'Mine')).to.equal('<svg role="img" aria-label="Mine" width="40" height="30" viewBox="0 0 40 30"><rect width="9"/></svg>');
  });
});
