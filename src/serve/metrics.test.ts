import { expect } from 'chai';
import { Registry } from 'prom-client';
import { ServeMetrics } from './metrics.js';

describe('ServeMetrics', () => {
  it('uses its injected registry only, zeroes series at start and per class, and bounds error reasons', async () => {
    const registry = new Registry();
    const m = new ServeMetrics({ registry, model: 'pets', version: 'v1' });
    let text = await registry.metrics();
    expect(text).to.include('kennel_serve_errors_total{model="pets",version="v1",reason="BodyTooLarge"} 0');
    expect(text).to.include('kennel_serve_requests_total{model="pets",version="v1",route="predict",status="200"} 0');
    expect(text).not.to.include('class="cat"');
    m.setClasses(['cat', 'dog']);
    m.observePrediction('cat', 0.9);
    m.observePrediction('not-a-class', 0.9);
    expect(text).to.include('kennel_serve_unsure_predictions_total{model="pets",version="v1"} 0');
    m.observePrediction('dog', 0.55, true);
    m.observeError('SomethingUnheardOf');
    m.observeFeedback('dog', false);
    m.observeFeedback('cat', true, 'v0');
    text = await registry.metrics();
    expect(text).to.include('kennel_serve_predictions_total{model="pets",version="v1",class="cat"} 1');
    expect(text).to.include('kennel_serve_predictions_total{model="pets",version="v1",class="dog"} 1');
    expect(text).to.include('kennel_serve_unsure_predictions_total{model="pets",version="v1"} 1');
    expect(text).not.to.include('not-a-class');
    expect(text).not.to.include('SomethingUnheardOf');
    expect(text).to.include('kennel_serve_errors_total{model="pets",version="v1",reason="Other"} 1');
    expect(text).to.include('kennel_serve_feedback_total{model="pets",version="v1",class="dog",outcome="wrong"} 1');
    // Feedback on the previous version's predictions is that version's, with its series zeroed.
    expect(text).to.include('kennel_serve_feedback_total{model="pets",version="v0",class="cat",outcome="correct"} 1');
    expect(text).to.include('kennel_serve_feedback_total{model="pets",version="v0",class="dog",outcome="wrong"} 0');
    for (let i = 0; i < 40; i++) m.observeFeedback('cat', true, `old${i}`);
    text = await registry.metrics();
    expect(text).to.include('version="other",class="cat",outcome="correct"}');
    expect(text).not.to.include('version="old39"');
    // A second instance on its own registry does not clash (nothing global).
    new ServeMetrics({ registry: new Registry(), model: 'pets', version: 'v2' });
  });
});
