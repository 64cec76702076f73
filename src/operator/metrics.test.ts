import { expect } from 'chai';
import { Registry } from 'prom-client';
import { createOperatorMetrics } from './metrics.js';

describe('operator metrics', () => {
  it('creates every series at zero and counts reconciles by controller and result', async () => {
    const registry = new Registry();
    const m = createOperatorMetrics({ registry, resources: ['jobs'] });
    let text = await registry.metrics();
    expect(text).to.include('kennel_operator_reconciles_total{controller="trainingrun",result="error"} 0');
    expect(text).to.include('kennel_operator_queue_depth{controller="inferenceservice"} 0');
    expect(text).to.include('kennel_operator_rollbacks_total{reason="ProgressDeadlineExceeded"} 0');
    expect(text).to.include('kennel_operator_informer_restarts_total{resource="jobs"} 0');
    expect(text).to.include('kennel_operator_training_runs{phase="Running"} 0');
    m.observeReconcile('trainingrun', 'error', 0.02);
    m.observeReconcile('trainingrun', 'success', 0.01);
    m.setRunPhaseSource(() => ({ Running: 3 }));
    text = await registry.metrics();
    expect(text).to.include('kennel_operator_reconciles_total{controller="trainingrun",result="error"} 1');
    expect(text).to.include('kennel_operator_reconcile_errors_total{controller="trainingrun"} 1');
    expect(text).to.include('kennel_operator_reconcile_duration_seconds_count{controller="trainingrun"} 2');
    expect(text).to.include('kennel_operator_training_runs{phase="Running"} 3');
  });
});
