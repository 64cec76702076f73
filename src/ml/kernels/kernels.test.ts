import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../backend/select.js';
import { batchNormTrain, maxPoolRelu } from './train-ops.js';
import { conv2dForward, conv2dForwardWinograd, winogradApplies, winogradFilter, type ConvGeometry } from './conv.js';
import { KernelModule } from './kernel-module.js';
import { kernelVariant, relaxedSimdSupported } from './kernel-variant.js';
import { seededRandom as rng } from '../../shared/random.js';


function randomArray(n: number, r: () => number): Float32Array {
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

async function on<T>(backend: string, f: () => T): Promise<T> {
  await tf.setBackend(backend);
  return f();
}

function expectClose(actual: Float32Array | number[], expected: Float32Array | number[], what: string, tol = 1e-4): void {
  expect(actual.length, `${what}: length`).to.equal(expected.length);
  let scale = 1;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)));
  expect(worst / scale, `${what}: max relative error`).to.be.below(tol);
}

interface Case {
  batch: number;
  h: number;
  w: number;
  inC: number;
  outC: number;
  f: number;
  stride: 1 | 2;
  pad: 'same' | 'valid';
}

function cases(): Case[] {
  const r = rng(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: Case[] = [];
  for (const stride of [1, 2] as const) {
    for (const pad of ['same', 'valid'] as const) {
      for (let i = 0; i < 4; i++) {
        const c: Case = { batch: pick([1, 2, 3]), h: pick([5, 6, 8, 11]), w: pick([4, 7, 8, 9]), inC: pick([1, 3, 4, 8, 13]), outC: pick([1, 5, 8, 16, 20]), f: pick([1, 2, 3, 3, 5]), stride, pad };
        c.f = Math.min(c.f, c.h, c.w); // no empty outputs
        out.push(c);
      }
    }
  }
  // 3×3 stride-1 convolutions with inC % 4 == 0 take the Winograd path: odd output sizes (partial
  // tiles), both paddings, and one with enough tiles to span several chunks.
  out.push(
    { batch: 2, h: 40, w: 37, inC: 16, outC: 24, f: 3, stride: 1, pad: 'same' },
    { batch: 1, h: 9, w: 6, inC: 8, outC: 5, f: 3, stride: 1, pad: 'valid' },
    { batch: 3, h: 7, w: 10, inC: 12, outC: 16, f: 3, stride: 1, pad: 'same' },
  );
  // 1×1 stride-1 convolutions with outC % 8 == 0 run in place on the backend's heap (pointwise.ts):
  // pixel counts that leave a partial last tile of 1, 3 and 2 rows, and inC > 256 (two r-blocks).
  out.push(
    { batch: 1, h: 5, w: 5, inC: 160, outC: 16, f: 1, stride: 1, pad: 'same' },
    { batch: 3, h: 3, w: 3, inC: 300, outC: 24, f: 1, stride: 1, pad: 'valid' },
    { batch: 2, h: 7, w: 5, inC: 24, outC: 40, f: 1, stride: 1, pad: 'same' },
  );
  return out;
}

describe('Kennel WebAssembly kernels (against the reference CPU backend)', function () {
  this.timeout(120000);

  before(async function () {
    const chosen = await selectBackend({ preference: 'wasm' });
    if (chosen.name !== 'wasm') throw new Error('the wasm backend must initialise for these tests');
  });
  after(async () => {
    await tf.setBackend('wasm');
  });

  for (const c of cases()) {
    const label = `b${c.batch} ${c.h}x${c.w}x${c.inC}→${c.outC} f${c.f} s${c.stride} ${c.pad}`;
    const xShape: [number, number, number, number] = [c.batch, c.h, c.w, c.inC];
    const fShape: [number, number, number, number] = [c.f, c.f, c.inC, c.outC];
    const info = tf.backend_util.computeConv2DInfo(xShape, fShape, c.stride, 1, c.pad);
    const dyShape = [c.batch, info.outHeight, info.outWidth, c.outC];
    const r = rng(c.batch * 1000 + c.h * 100 + c.inC * 10 + c.outC);
    const x = randomArray(xShape.reduce((a, b) => a * b), r);
    const filter = randomArray(fShape.reduce((a, b) => a * b), r);
    const dy = randomArray(dyShape.reduce((a, b) => a * b), r);

    it(`Conv2D ${label}`, async () => {
      const run = (): Float32Array => tf.tidy(() => tf.conv2d(tf.tensor(x, xShape) as tf.Tensor4D, tf.tensor(filter, fShape) as tf.Tensor4D, c.stride, c.pad).dataSync() as Float32Array);
      expectClose(await on('wasm', run), await on('cpu', run), 'y');
    });

    it(`FusedConv2D with bias and ReLU ${label}`, async () => {
      const bias = randomArray(c.outC, rng(c.outC));
      const run = (): Float32Array =>
        tf.tidy(() => tf.fused.conv2d({ x: tf.tensor(x, xShape) as tf.Tensor4D, filter: tf.tensor(filter, fShape) as tf.Tensor4D, strides: c.stride, pad: c.pad, bias: tf.tensor1d(bias), activation: 'relu' }).dataSync() as Float32Array);
      expectClose(await on('wasm', run), await on('cpu', run), 'y');
    });

    it(`FusedConv2D with bias and ReLU6 ${label}`, async () => {
      const bias = randomArray(c.outC, rng(c.outC + 1)).map((v) => v * 4);
      const run = (): Float32Array =>
        tf.tidy(() => tf.fused.conv2d({ x: tf.mul(tf.tensor(x, xShape), 3) as tf.Tensor4D, filter: tf.tensor(filter, fShape) as tf.Tensor4D, strides: c.stride, pad: c.pad, bias: tf.tensor1d(bias), activation: 'relu6' }).dataSync() as Float32Array);
      expectClose(await on('wasm', run), await on('cpu', run), 'y');
    });

    it(`Conv2DBackpropFilter ${label}`, async () => {
      const run = (): Float32Array =>
        tf.tidy(() => {
          const out = tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor(x, xShape), dy: tf.tensor(dy, dyShape) }, { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: fShape }) as tf.Tensor;
          return out.dataSync() as Float32Array;
        });
      expectClose(await on('wasm', run), await on('cpu', run), 'dW');
    });

    it(`Conv2DBackpropInput ${label}`, async () => {
      const run = (): Float32Array =>
        tf.tidy(() => {
          const out = tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor(dy, dyShape), filter: tf.tensor(filter, fShape) }, { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: xShape }) as tf.Tensor;
          return out.dataSync() as Float32Array;
        });
      expectClose(await on('wasm', run), await on('cpu', run), 'dx');
    });

    it(`conv2d gradients through the tape ${label}`, async () => {
      const run = (): Float32Array[] =>
        tf.tidy(() => {
          const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), tf.tensor(dy, dyShape))));
          return g([tf.tensor(x, xShape), tf.tensor(filter, fShape)]).map((t) => t.dataSync() as Float32Array);
        });
      const [dxW, dfW] = await on('wasm', run);
      const [dxC, dfC] = await on('cpu', run);
      expectClose(dxW as Float32Array, dxC as Float32Array, 'dx');
      expectClose(dfW as Float32Array, dfC as Float32Array, 'dW');
    });
  }

  for (const [n, h, w, ch] of [
    [2, 6, 8, 4],
    [3, 5, 7, 16],
    [1, 4, 4, 12],
    [2, 3, 5, 6], // channels % 4 != 0: the TF.js-ops path
  ] as const) {
    const shape: [number, number, number, number] = [n, h, w, ch];
    const r = rng(n * h * w * ch);
    const x = Float32Array.from(randomArray(n * h * w * ch, r), (v, i) => v * 3 + (i % ch));
    const gamma = Float32Array.from({ length: ch }, () => 0.5 + r());
    const beta = randomArray(ch, r);
    const dyBn = randomArray(n * h * w * ch, r);

    it(`batchNormTrain ${shape.join('x')}: output, batch statistics and gradients match TF.js batch norm`, async () => {
      const reference = (): Float32Array[] =>
        tf.tidy(() => {
          const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => {
            const m = tf.moments(a, [0, 1, 2]);
            return tf.batchNorm(a, m.mean, m.variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-3);
          };
          const args = [tf.tensor(x, shape), tf.tensor1d(gamma), tf.tensor1d(beta)];
          const y = f(args[0] as tf.Tensor, args[1] as tf.Tensor, args[2] as tf.Tensor);
          const m = tf.moments(args[0] as tf.Tensor, [0, 1, 2]);
          const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, g, b), tf.tensor(dyBn, shape))))(args);
          return [y, m.mean, m.variance, ...grads].map((t) => t.dataSync() as Float32Array);
        });
      const ours = (): Float32Array[] =>
        tf.tidy(() => {
          let stats: Float32Array[] = [];
          const args = [tf.tensor(x, shape), tf.tensor1d(gamma), tf.tensor1d(beta)];
          const y = batchNormTrain(args[0] as tf.Tensor, args[1] as tf.Tensor1D, args[2] as tf.Tensor1D, 1e-3, (s) => (stats = [s.mean, s.variance]));
          const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(batchNormTrain(a, g as tf.Tensor1D, b as tf.Tensor1D, 1e-3), tf.tensor(dyBn, shape))))(args);
          return [y.dataSync() as Float32Array, ...stats, ...grads.map((t) => t.dataSync() as Float32Array)];
        });
      const expected = await on('cpu', reference);
      const actual = await on('wasm', ours);
      ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'].forEach((name, i) => expectClose(actual[i] as Float32Array, expected[i] as Float32Array, name, 2e-4));
    });

    it(`maxPoolRelu ${shape.join('x')}: output and gradient match relu(maxPool) on CPU`, async () => {
      const dyShape: [number, number, number, number] = [n, Math.floor(h / 2), Math.floor(w / 2), ch];
      const dy = randomArray(dyShape.reduce((a, b) => a * b), r);
      const run = (f: (v: tf.Tensor4D) => tf.Tensor4D) => (): Float32Array[] =>
        tf.tidy(() => {
          const xt = tf.tensor(x, shape) as tf.Tensor4D;
          const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v as tf.Tensor4D), tf.tensor(dy, dyShape))))(xt);
          return [f(xt).dataSync() as Float32Array, g.dataSync() as Float32Array];
        });
      const [yC, gC] = await on('cpu', run((v) => tf.relu(tf.maxPool(v, 2, 2, 'valid'))));
      const [yW, gW] = await on('wasm', run(maxPoolRelu));
      expectClose(yW as Float32Array, yC as Float32Array, 'y');
      expectClose(gW as Float32Array, gC as Float32Array, 'dx');
    });
  }
});

describe('Kennel depthwise convolution gradients (against the reference CPU backend)', function () {
  this.timeout(120000);
  before(async function () {
    const chosen = await selectBackend({ preference: 'wasm' });
    if (chosen.name !== 'wasm') throw new Error('the wasm backend must initialise for these tests');
  });
  after(async () => {
    await tf.setBackend('wasm');
  });

  // MobileNet's shapes (3×3, stride 1 and 2, SAME) plus VALID, 5×5, odd sizes and channel counts
  // that are not a multiple of 4 (padded inside the kernel).
  const shapes: Array<{ batch: number; h: number; w: number; c: number; f: number; stride: 1 | 2; pad: 'same' | 'valid' }> = [
    { batch: 2, h: 14, w: 14, c: 96, f: 3, stride: 1, pad: 'same' },
    { batch: 3, h: 14, w: 14, c: 64, f: 3, stride: 2, pad: 'same' },
    { batch: 2, h: 7, w: 9, c: 24, f: 3, stride: 2, pad: 'same' },
    { batch: 1, h: 8, w: 11, c: 13, f: 3, stride: 1, pad: 'valid' },
    { batch: 2, h: 9, w: 8, c: 6, f: 5, stride: 2, pad: 'valid' },
    { batch: 1, h: 5, w: 6, c: 1, f: 3, stride: 1, pad: 'same' },
  ];
  for (const c of shapes) {
    const label = `b${c.batch} ${c.h}x${c.w}x${c.c} f${c.f} s${c.stride} ${c.pad}`;
    const xShape: [number, number, number, number] = [c.batch, c.h, c.w, c.c];
    const fShape: [number, number, number, number] = [c.f, c.f, c.c, 1];
    const info = tf.backend_util.computeConv2DInfo(xShape, fShape, c.stride, 1, c.pad, undefined, true);
    const dyShape = [c.batch, info.outHeight, info.outWidth, c.c];
    const r = rng(c.h * 100 + c.c);
    const x = randomArray(xShape.reduce((a, b) => a * b), r);
    const filter = randomArray(fShape.reduce((a, b) => a * b), r);
    const dy = randomArray(dyShape.reduce((a, b) => a * b), r);

    it(`DepthwiseConv2dNativeBackpropFilter ${label}`, async () => {
      const run = (): Float32Array =>
        tf.tidy(() => (tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor(x, xShape), dy: tf.tensor(dy, dyShape) }, { strides: c.stride, pad: c.pad, dilations: 1, filterShape: fShape }) as tf.Tensor).dataSync() as Float32Array);
      expectClose(await on('wasm', run), await on('cpu', run), 'dW');
    });

    it(`DepthwiseConv2dNativeBackpropInput ${label}`, async () => {
      const run = (): Float32Array =>
        tf.tidy(() => (tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: tf.tensor(dy, dyShape), filter: tf.tensor(filter, fShape) }, { strides: c.stride, pad: c.pad, dilations: 1, inputShape: xShape }) as tf.Tensor).dataSync() as Float32Array);
      expectClose(await on('wasm', run), await on('cpu', run), 'dx');
    });

    it(`gradients of relu6(depthwiseConv2d + bias) through tf.grads ${label}`, async () => {
      const bias = randomArray(c.c, rng(c.c)).map((v) => v * 3);
      const run = (): Float32Array[] =>
        tf.tidy(() => {
          const f = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor): tf.Tensor => tf.sum(tf.mul(tf.relu6(tf.add(tf.depthwiseConv2d(tf.mul(xi, 4) as tf.Tensor4D, wi as tf.Tensor4D, c.stride, c.pad), bi)), tf.tensor(dy, dyShape)));
          return tf.grads(f)([tf.tensor(x, xShape), tf.tensor(filter, fShape), tf.tensor1d(bias)]).map((g) => g.dataSync() as Float32Array);
        });
      const expected = await on('cpu', run);
      const actual = await on('wasm', run);
      ['dx', 'dW', 'dbias'].forEach((name, i) => expectClose(actual[i] as Float32Array, expected[i] as Float32Array, name));
    });
  }
});

describe('Winograd F(2×2, 3×3) forward convolution', () => {
  it('matches the direct GEMM convolution, with bias and ReLU, across chunks and partial tiles', async () => {
    const mod = await KernelModule.create();
    const r = rng(11);
    const g: ConvGeometry = { batchSize: 3, inHeight: 31, inWidth: 29, inChannels: 20, outHeight: 31, outWidth: 29, outChannels: 36, filterHeight: 3, filterWidth: 3, strideHeight: 1, strideWidth: 1, padTop: 1, padLeft: 1 };
    expect(winogradApplies(g)).to.equal(true);
    const x = randomArray(g.batchSize * g.inHeight * g.inWidth * g.inChannels, r);
    const filter = randomArray(9 * g.inChannels * g.outChannels, r);
    const bias = randomArray(g.outChannels, r);
    const direct = conv2dForward(mod, x, filter, g, undefined, { bias, activation: 'relu' });
    const wino = conv2dForwardWinograd(mod, x, winogradFilter(filter, g.inChannels, g.outChannels), g, undefined, { bias, activation: 'relu' });
    expect(direct.some((v) => v === 0) && direct.some((v) => v > 0), 'ReLU clips some outputs and keeps others').to.equal(true);
    expectClose(wino, direct, 'y');
  });

  it('applies ReLU6 in both epilogues: the linear result clamped to [0, 6]', async () => {
    const mod = await KernelModule.create();
    const r = rng(12);
    const g: ConvGeometry = { batchSize: 2, inHeight: 9, inWidth: 11, inChannels: 16, outHeight: 9, outWidth: 11, outChannels: 12, filterHeight: 3, filterWidth: 3, strideHeight: 1, strideWidth: 1, padTop: 1, padLeft: 1 };
    const x = randomArray(g.batchSize * g.inHeight * g.inWidth * g.inChannels, r).map((v) => v * 4);
    const filter = randomArray(9 * g.inChannels * g.outChannels, r);
    const bias = randomArray(g.outChannels, r);
    const linear = conv2dForward(mod, x, filter, g, undefined, { bias });
    const expected = linear.map((v) => Math.min(6, Math.max(0, v)));
    expect(linear.some((v) => v > 6) && linear.some((v) => v < 0), 'the inputs reach both clamps').to.equal(true);
    expectClose(conv2dForward(mod, x, filter, g, undefined, { bias, activation: 'relu6' }), expected, 'direct');
    expectClose(conv2dForwardWinograd(mod, x, winogradFilter(filter, g.inChannels, g.outChannels), g, undefined, { bias, activation: 'relu6' }), expected, 'winograd');
  });

  it('is not used where it does not apply (stride 2, 5×5, inC not a multiple of 4)', () => {
    const base: ConvGeometry = { batchSize: 1, inHeight: 8, inWidth: 8, inChannels: 8, outHeight: 8, outWidth: 8, outChannels: 8, filterHeight: 3, filterWidth: 3, strideHeight: 1, strideWidth: 1, padTop: 1, padLeft: 1 };
    expect(winogradApplies({ ...base, strideHeight: 2, strideWidth: 2 })).to.equal(false);
    expect(winogradApplies({ ...base, filterHeight: 5, filterWidth: 5 })).to.equal(false);
    expect(winogradApplies({ ...base, inChannels: 6 })).to.equal(false);
  });
});

describe('the relaxed-SIMD build of the kernels', () => {
  it('runs for inference on this Node (relaxed SIMD switched on behind its V8 flag); training keeps the plain build', () => {
    expect(kernelVariant('inference', {})).to.equal('relaxed-simd');
    expect(relaxedSimdSupported()).to.equal(true);
    expect(kernelVariant('training', {})).to.equal('simd');
    for (const off of ['simd', 'off', '0', 'FALSE']) expect(kernelVariant('inference', { KENNEL_WASM_RELAXED_SIMD: off }), off).to.equal('simd');
    expect(kernelVariant('inference', { KENNEL_WASM_RELAXED_SIMD: 'auto' })).to.equal('relaxed-simd');
  });

  it('computes the same convolutions as the plain SIMD build, to float rounding (fused multiply-add)', async () => {
    const plain = await KernelModule.create('simd');
    const fused = await KernelModule.create('relaxed-simd');
    const r = rng(13);
    const cases: ConvGeometry[] = [
      // 1×1, 3×3 and 3×3 stride 2 (odd sizes: partial row and column tiles)
      { batchSize: 2, inHeight: 10, inWidth: 10, inChannels: 96, outHeight: 10, outWidth: 10, outChannels: 40, filterHeight: 1, filterWidth: 1, strideHeight: 1, strideWidth: 1, padTop: 0, padLeft: 0 },
      { batchSize: 1, inHeight: 13, inWidth: 11, inChannels: 24, outHeight: 13, outWidth: 11, outChannels: 16, filterHeight: 3, filterWidth: 3, strideHeight: 1, strideWidth: 1, padTop: 1, padLeft: 1 },
      { batchSize: 2, inHeight: 9, inWidth: 9, inChannels: 8, outHeight: 5, outWidth: 5, outChannels: 12, filterHeight: 3, filterWidth: 3, strideHeight: 2, strideWidth: 2, padTop: 1, padLeft: 1 },
    ];
    for (const g of cases) {
      const x = randomArray(g.batchSize * g.inHeight * g.inWidth * g.inChannels, r);
      const filter = randomArray(g.filterHeight * g.filterWidth * g.inChannels * g.outChannels, r);
      const bias = randomArray(g.outChannels, r);
      const a = conv2dForward(plain, x, filter, g, undefined, { bias, activation: 'relu6' });
      const b = conv2dForward(fused, x, filter, g, undefined, { bias, activation: 'relu6' });
      expect(a.some((v) => v > 0 && v < 6), 'some outputs between the clamps').to.equal(true);
      expectClose(b, a, `${g.filterHeight}×${g.filterHeight} s${g.strideHeight}`, 1e-5);
    }
  });
});

