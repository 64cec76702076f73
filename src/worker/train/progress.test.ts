import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { Value } from '@sinclair/typebox/value';
import { EpochProgress } from '../../shared/api/worker-report.js';
import { createLogger } from '../../shared/logger.js';
import { createProgressReporter } from './progress.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

const LOG = { epoch: 2, epochs: 10, loss: 0.5, accuracy: 0.75, valLoss: 0.6, valAccuracy: 0.7, imagesPerSecond: 41.26, seconds: 3 };

describe('progress reporter', () => {
  it('prints one contract JSON line per epoch when not on a terminal, and no bar', () => {
    const out = capture();
    const p = createProgressReporter({ tty: false, stream: out.stream, logger: createLogger({ destination: out.stream }) });
    p.decoding(5, 10);
    p.batch({ epoch: 2, batch: 1, batches: 5, loss: 1, accuracy: 0 });
    p.epoch(LOG);
    p.epoch({ ...LOG, epoch: 3, loss: NaN });
    const lines = out.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).to.have.length(2);
    expect(lines[0]).to.include({ event: 'epoch', epoch: 2, epochs: 10, loss: 0.5, accuracy: 0.75, valLoss: 0.6, valAccuracy: 0.7, imagesPerSecond: 41.3 });
    for (const l of lines) expect(Value.Check(EpochProgress, Value.Clean(EpochProgress, l))).to.equal(true);
  });

  it('draws a bar with loss and accuracy on a terminal', () => {
    const out = capture();
    const p = createProgressReporter({ tty: true, stream: out.stream, logger: createLogger({ destination: capture().stream }) });
    p.epoch(LOG);
    expect(out.text()).to.include('epoch  2/10 [#####...................]  loss 0.5000  acc 0.750  val_loss 0.6000  val_acc 0.700  41.3 img/s\n');
    expect(out.text()).to.not.include('{');
  });
});
