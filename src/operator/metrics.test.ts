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

  it('exports the process\'s metrics (CPU, memory, GC, event-loop lag) and the work queues\' under controller-runtime\'s names', async () => {
    const registry = new Registry();
    const m = createOperatorMetrics({ registry });
    const queue = m.queue('inferenceservice');
    queue.add();
    queue.depth(1);
    queue.taken(0.25);
    queue.done(1.5);
    queue.retry();
    const text = await registry.metrics();
    for (const series of [
      'kennel_operator_process_cpu_seconds_total',
      'kennel_operator_process_resident_memory_bytes',
      'kennel_operator_nodejs_heap_size_used_bytes',
      'kennel_operator_nodejs_eventloop_lag_seconds',
    ]) {
      expect(text, series).to.match(new RegExp(`^${series}[ {]`, 'm'));
    }
    // GC durations have a series once a collection has happened; the histogram is there from the start.
    expect(text).to.include('# TYPE kennel_operator_nodejs_gc_duration_seconds histogram');
    expect(text).to.include('workqueue_adds_total{name="inferenceservice"} 1');
    expect(text).to.include('workqueue_adds_total{name="trainingrun"} 0');
    expect(text).to.include('workqueue_depth{name="inferenceservice"} 1');
    expect(text).to.include('kennel_operator_queue_depth{controller="inferenceservice"} 1');
    expect(text).to.include('workqueue_queue_duration_seconds_count{name="inferenceservice"} 1');
    expect(text).to.include('workqueue_queue_duration_seconds_bucket{le="1",name="inferenceservice"} 1');
    expect(text).to.include('workqueue_work_duration_seconds_sum{name="inferenceservice"} 1.5');
    expect(text).to.include('workqueue_retries_total{name="inferenceservice"} 1');
    expect(text).to.include('workqueue_work_duration_seconds_count{name="modelversion"} 0');
  });
});
