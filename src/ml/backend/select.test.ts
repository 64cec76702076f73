import { Writable } from 'node:stream';
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { createLogger } from '../../shared/logger.js';
import { selectBackend } from './select.js';

function captured(): { logger: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { logger: createLogger({ destination, level: 'info' }), lines: () => chunks.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('selectBackend', function () {
  this.timeout(60000);

  it("'auto' falls back from tfjs-node (not installable here) to wasm with Kennel's kernels, and logs it", async () => {
    const { logger, lines } = captured();
    const chosen = await selectBackend({ preference: 'auto', logger });
    let native = true;
    try {
      await import('@tensorflow/tfjs-node' as string);
    } catch {
      native = false;
    }
    // Training (the default purpose) runs the reproducible build of the kernels.
    expect(chosen).to.deep.equal(native ? { name: 'tensorflow', native: true } : { name: 'wasm', native: false, kernels: 'simd' });
    expect(tf.getBackend()).to.equal(chosen.name);
    if (!native) expect(tf.getKernel('Conv2DBackpropFilter', 'wasm'), 'Kennel kernel registered').to.not.equal(undefined);
    const line = lines().find((l) => l.msg === 'tensorflow backend selected');
    expect(line).to.include({ backend: chosen.name, native: chosen.native, preference: 'auto' });
    if (!native) expect(line).to.include({ kernels: 'simd' });
  });

  it('is idempotent for the same preference and honours an explicit one', async () => {
    const a = await selectBackend({ preference: 'wasm' });
    await tf.setBackend('cpu'); // switched away behind its back
    const { logger, lines } = captured();
    const b = await selectBackend({ preference: 'wasm', logger });
    expect(b).to.deep.equal(a).and.deep.equal({ name: 'wasm', native: false, kernels: 'simd' });
    expect(lines().find((l) => l.msg === 'tensorflow backend selected'), 'a reused selection is logged to its caller too').to.include({ backend: 'wasm', reused: true });
    expect(tf.getBackend()).to.equal('wasm');
    expect(await selectBackend({ preference: 'cpu' })).to.deep.equal({ name: 'cpu', native: false });
    expect(tf.getBackend()).to.equal('cpu');
    await selectBackend({ preference: 'wasm' });
    expect(tf.getBackend()).to.equal('wasm');
  });
});
