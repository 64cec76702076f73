import * as tf from '@tensorflow/tfjs';
import { batchNormTrain, maxPoolRelu, type BatchStats } from '../kernels/train-ops.js';

/** A moving-statistics update produced by one training forward pass. */
export interface MovingStatsUpdate {
  layer: tf.layers.Layer;
  stats: BatchStats;
}

export interface TrainForwardResult {
  /** [N, classes] pre-softmax logits when the model ends in a softmax dense layer, else probabilities. */
  output: tf.Tensor2D;
  logits: boolean;
  updates: MovingStatsUpdate[];
}

type LayerConfig = Record<string, unknown>;

function weightNamed(layer: tf.layers.Layer, suffix: string): tf.Tensor | undefined {
  const w = layer.weights.find((v) => v.originalName.endsWith(suffix) || v.name.endsWith(suffix));
  return w?.read();
}

function applyActivation(x: tf.Tensor, activation: unknown): tf.Tensor {
  switch (activation ?? 'linear') {
    case 'linear':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'softmax':
      return tf.softmax(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    default:
      throw new Error(`train forward: unsupported activation ${String(activation)}`);
  }
}

/**
 * The training-mode forward pass of a sequential model, written with ops whose gradients are
 * cheap on Kennel's backends: plain conv2d (gradients computed only for what needs them, unlike
 * the fused op), fused batch norm and ReLU + max-pool ops (train-ops.ts), seeded dropout, and
 * logits instead of a softmax so that the loss is computed stably. Same function as
 * `model.apply(x, { training: true })`; layers it does not know run through `layer.apply`.
 * Batch-norm moving statistics are returned, not written, so the caller decides when to apply.
 * Call inside a gradient scope; x is [N, S, S, 3].
 */
export function trainForward(model: tf.LayersModel, x: tf.Tensor4D, dropoutSeed: number): TrainForwardResult {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const updates: MovingStatsUpdate[] = [];
  let h: tf.Tensor = x;
  let logits = false;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i] as tf.layers.Layer;
    const cfg = layer.getConfig() as LayerConfig;
    const kind = layer.getClassName();
    const last = i === layers.length - 1;
    if (kind === 'Conv2D') {
      const strides = cfg.strides as [number, number];
      const dilation = cfg.dilationRate as number | [number, number];
      const dilated = Array.isArray(dilation) ? dilation.some((d) => d !== 1) : dilation !== 1;
      if (cfg.dataFormat === 'channelsFirst' || dilated) {
        h = layer.apply(h, { training: true }) as tf.Tensor;
        continue;
      }
      h = tf.conv2d(h as tf.Tensor4D, weightNamed(layer, 'kernel') as tf.Tensor4D, strides, cfg.padding as 'same' | 'valid');
      const bias = cfg.useBias ? weightNamed(layer, 'bias') : undefined;
      if (bias) h = tf.add(h, bias);
      h = applyActivation(h, cfg.activation);
    } else if (kind === 'BatchNormalization' && (cfg.axis === -1 || cfg.axis === h.rank - 1) && cfg.center && cfg.scale) {
      const gamma = weightNamed(layer, 'gamma') as tf.Tensor1D;
      const beta = weightNamed(layer, 'beta') as tf.Tensor1D;
      h = batchNormTrain(h, gamma, beta, cfg.epsilon as number, (stats) => updates.push({ layer, stats }));
      const next = layers[i + 1];
      const after = layers[i + 2];
      if (h.rank === 4 && next?.getClassName() === 'ReLU' && after && isPool2x2(after)) {
        h = maxPoolRelu(h as tf.Tensor4D);
        i += 2;
      }
    } else if (kind === 'ReLU' && (cfg.maxValue === null || cfg.maxValue === undefined)) {
      h = tf.relu(h);
    } else if (kind === 'Activation') {
      h = applyActivation(h, cfg.activation);
    } else if (kind === 'MaxPooling2D' && isPool2x2(layer)) {
      h = tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid');
    } else if (kind === 'GlobalAveragePooling2D' && cfg.dataFormat !== 'channelsFirst') {
      h = tf.mean(h, [1, 2]);
    } else if (kind === 'Dense' && h.rank === 2) {
      h = tf.matMul(h as tf.Tensor2D, weightNamed(layer, 'kernel') as tf.Tensor2D);
      const bias = cfg.useBias ? weightNamed(layer, 'bias') : undefined;
      if (bias) h = tf.add(h, bias);
      if (last && cfg.activation === 'softmax') logits = true;
      else h = applyActivation(h, cfg.activation);
    } else if (kind === 'Dropout') {
      const rate = cfg.rate as number;
      if (rate > 0) h = tf.dropout(h, rate, undefined, dropoutSeed + i);
    } else if (kind === 'Flatten') {
      h = tf.reshape(h, [h.shape[0] as number, -1]);
    } else {
      h = layer.apply(h, { training: true }) as tf.Tensor;
    }
  }
  return { output: h as tf.Tensor2D, logits, updates };
}

function isPool2x2(layer: tf.layers.Layer): boolean {
  if (layer.getClassName() !== 'MaxPooling2D') return false;
  const cfg = layer.getConfig() as LayerConfig;
  const pool = cfg.poolSize as number[];
  const strides = cfg.strides as number[];
  return pool[0] === 2 && pool[1] === 2 && strides[0] === 2 && strides[1] === 2 && cfg.padding === 'valid' && cfg.dataFormat !== 'channelsFirst';
}

/** Applies moving-average updates the way TF.js layers does: v ← v − (v − batch)·(1 − momentum). */
export function applyMovingStats(updates: MovingStatsUpdate[]): void {
  tf.tidy(() => {
    for (const { layer, stats } of updates) {
      const momentum = (layer.getConfig() as LayerConfig).momentum as number;
      for (const [suffix, value] of [
        ['moving_mean', stats.mean],
        ['moving_variance', stats.variance],
      ] as const) {
        const v = layer.weights.find((w) => w.originalName.endsWith(suffix) || w.name.endsWith(suffix));
        if (!v) continue;
        const cur = v.read();
        v.write(tf.sub(cur, tf.mul(tf.sub(cur, tf.tensor1d(value)), 1 - momentum)));
      }
    }
  });
}
