import { expect } from 'chai';
import { Registry } from 'prom-client';
import { liveSummary } from './live-summary.js';
import { ServeMetrics } from './metrics.js';

describe('liveSummary', () => {
  const identity = { name: 'pets', version: '7' };

  it('reads requests, the label mix, the confidence bins and live accuracy from the served version’s series', async () => {
    const registry = new Registry();
    const metrics = new ServeMetrics({ registry, model: 'pets', version: '7' });
    metrics.setClasses(['cat', 'dog']);
    metrics.observeRequest('predict', 200, 0.01);
    metrics.observeRequest('v2_infer', 200, 0.01);
    metrics.observeRequest('predict', 415, 0.01);
    metrics.observeRequest('healthz', 200, 0.01);
    metrics.observePrediction('cat', 0.95);
    metrics.observePrediction('cat', 0.55, true);
    metrics.observePrediction('dog', 0.999);
    metrics.observeFeedback('cat', true);
    metrics.observeFeedback('dog', true);
    metrics.observeFeedback('dog', false);
    metrics.observeFeedback('dog', false, '6'); // the previous version's prediction: not this one's accuracy
    const baseline = [0, 0, 0, 0, 0, 1, 1, 2, 6, 10];
    const live = await liveSummary(registry, identity, ['cat', 'dog'], { accuracy: 0.9, confidenceHistogram: baseline });
    expect(live.requests).to.deep.equal({ total: 3, failed: 1 });
    expect(live.labels).to.deep.equal({ cat: 2, dog: 1 });
    expect(live.unsure).to.equal(1);
    expect(live.confidence.live).to.deep.equal([0, 0, 0, 0, 0, 1, 0, 0, 0, 2]);
    expect(live.confidence.baseline).to.deep.equal(baseline);
    expect(live.feedback.correct).to.equal(2);
    expect(live.feedback.wrong).to.equal(1);
    expect(live.feedback.accuracy).to.be.closeTo(2 / 3, 1e-9);
    expect(live.baselineAccuracy).to.equal(0.9);
  });

  it('answers zeros and nulls before anything happened or without metrics.json', async () => {
    const registry = new Registry();
    new ServeMetrics({ registry, model: 'pets', version: '7' }).setClasses(['cat', 'dog']);
    const live = await liveSummary(registry, identity, ['cat', 'dog'], undefined);
    expect(live).to.deep.equal({
      requests: { total: 0, failed: 0 },
      labels: { cat: 0, dog: 0 },
      unsure: 0,
      confidence: { live: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], baseline: null },
      feedback: { correct: 0, wrong: 0, accuracy: null },
      baselineAccuracy: null,
    });
  });
});
