import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { trainDataParallel } from '../fit/data-parallel.js';
import { replicaModule, startReplicas } from '../fit/replica-host.js';
import { extractInParallel } from './extract-parallel.js';
import type { FeatureReplicaInit } from './feature-replica.js';
import { applyFoldedGraph } from '../backbone/build.js';
import type { FoldedGraph } from '../backbone/fold.js';
import type { FitResult } from '../fit/fit.js';
import type { FitOptions } from '../fit/types.js';
import type { EpochLog } from '../fit/types.js';
import { isPretrainedArchitecture } from '../architectures.js';
import { loadBackbone } from './backbone.js';
import { fitTemperature } from '../calibration.js';
import { memoryFeatureCache, type FeatureCache, type FeatureMaps } from './features.js';
import { GraphNet, splitAt } from './graph-net.js';
import { Head, headNet, poolMaps, topHeadNet, viewSource } from './nets.js';
import { evaluateLogits, trainLoop } from './train-loop.js';
import { assignAll } from './assign.js';

/** Tuning of the pretrained recipe that `kennel train` does not expose (defaults measured in docs/pretrained.md). */
export interface TransferTuning {
  /** Epochs of the head phase (early stopping applies); default 40. */
  readonly headEpochs?: number;
  readonly headLearningRate?: number;
  /** Dropout before the head; default 0.2. */
  readonly dropout?: number;
  /** Where backbone features are kept (default: in memory, for this run). */
  readonly cache?: FeatureCache;
}

/**
 * Transfer learning on a pretrained backbone, in the order that makes it fit in minutes on two
 * CPU cores:
 * 1. the frozen bottom of the backbone runs ONCE per image (and once per mirror image, when
 *    flipping is on), its output maps cached by content hash;
 * 2. the top blocks run once over the cached maps, and the head is trained on the pooled result
 *    (many epochs for almost nothing);
 * 3. the top blocks and head are fine-tuned together at a low learning rate on the cached maps,
 *    with feature-space augmentation (mirror views, random shifts), keeping the best epoch;
 * 4. a temperature is fitted on the validation split and folded into the head.
 */
export async function transferFit(fit: FitOptions, tuning: TransferTuning = {}): Promise<FitResult> {
  const o = options(fit, tuning);
  const backbone = loadBackbone(o.architecture);
  const { bottom, top } = splitAt(backbone.graph.nodes, backbone.boundary);
  const cache = o.cache ?? memoryFeatureCache();
  const scope = `${backbone.provenance.package}@${backbone.provenance.version}/${backbone.spec.model}/${backbone.boundary}/${o.imageSize}`;
  const views: Array<'photo' | 'mirror'> = o.augmentation.horizontalFlip ? ['photo', 'mirror'] : ['photo'];
  const threads = o.workers ?? Math.min(2, os.availableParallelism());
  const t0 = performance.now();
  const total = o.train.count * views.length + o.validation.count;
  o.onStage?.(`computing ${backbone.spec.architecture} features up to ${backbone.boundary} for ${total} images`);
  const maps = await extractInParallel({
    nodes: bottom,
    input: backbone.graph.input,
    output: backbone.boundary,
    size: o.imageSize,
    sets: [
      { name: 'train', pixels: o.train.pixels, count: o.train.count, views, ...(o.train.keys ? { keys: o.train.keys } : {}) },
      { name: 'validation', pixels: o.validation.pixels, count: o.validation.count, views: ['photo'], ...(o.validation.keys ? { keys: o.validation.keys } : {}) },
    ],
    threads: Math.max(1, threads),
    backend: o.backend ?? 'auto',
    cache,
    cacheScope: scope,
    ...(o.onFeatures ? { onProgress: o.onFeatures } : {}),
  });
  const trainViews = views.map((v) => maps.get(`train/${v}`) as FeatureMaps);
  const valMaps = maps.get('validation/photo') as FeatureMaps;
  const featureSeconds = (performance.now() - t0) / 1000;
  const shape = (trainViews[0] as FeatureMaps).shape;

  const topNet = new GraphNet(top, backbone.boundary, backbone.graph.output, { trainable: true });
  const head = new Head(backbone.features, o.numClasses, o.dropout ?? 0.2, o.seed);
  const history: Array<EpochLog & { phase: 'head' | 'fine-tune' }> = [];
  try {
    // 2. The head on pooled top-block outputs.
    const t1 = performance.now();
    o.onStage?.('training the classifier head on frozen features');
    const pooled = (maps: FeatureMaps): Float32Array =>
      poolMaps(topOutputs(topNet, maps));
    const trainPooled = [pooled(trainViews[0] as FeatureMaps)];
    const valPooled = pooled(valMaps);
    const headEpochs = o.headEpochs ?? 40;
    const headResult = trainLoop({
      net: headNet(head),
      numClasses: o.numClasses,
      train: viewSource({ views: trainPooled, count: o.train.count, rowShape: [backbone.features], labels: o.train.labels }),
      validation: viewSource({ views: [valPooled], count: o.validation.count, rowShape: [backbone.features], labels: o.validation.labels }),
      epochs: headEpochs,
      batchSize: 64,
      learningRate: o.headLearningRate ?? 3e-3,
      patience: 6,
      weightDecay: { rate: 1e-4, variables: [head.kernel] },
      augment: true,
      seed: o.seed,
      onEpoch: (log) => {
        const tagged = { ...log, epochs: headEpochs + o.epochs, phase: 'head' as const };
        history.push(tagged);
        o.onEpoch?.(tagged);
      },
    });
    const headLogs = history.length;
    const headSeconds = (performance.now() - t1) / 1000;
    const headOnly = { top: [...top], kernel: head.kernel.dataSync().slice() as Float32Array, bias: head.bias.dataSync().slice() as Float32Array };

    // 3. Fine-tune the top blocks with the head.
    const t2 = performance.now();
    let best = { index: headResult.bestEpoch, logits: headResult.validationLogits, stoppedEarly: headResult.stoppedEarly, weights: headOnly };
    if (o.epochs > 0 && top.length > 0) {
      o.onStage?.(`fine-tuning ${countBlocks(top)} top blocks and the head`);
      const init: FeatureReplicaInit = {
        backend: o.backend ?? 'auto',
        learningRate: o.learningRate,
        top: { nodes: top, input: backbone.boundary, output: backbone.graph.output },
        head: { kernel: head.kernel.dataSync().slice() as Float32Array, bias: head.bias.dataSync().slice() as Float32Array, dropout: head.dropout, classes: o.numClasses },
        shape: [...shape],
        trainViews: trainViews.map((v) => v.data),
        trainLabels: o.train.labels,
        valMaps: valMaps.data,
        valLabels: o.validation.labels,
        shift: o.augmentation.randomCrop ? 1 : 0,
      };
      const hosts = await startReplicas({ module: replicaModule(import.meta.url, 'feature-replica'), init }, threads);
      let fine: { bestEpoch: number; stoppedEarly: boolean; bestWeights: Float32Array[] };
      try {
        fine = await trainDataParallel({
          hosts,
          trainCount: o.train.count,
          validationCount: o.validation.count,
          epochs: o.epochs,
          batchSize: o.batchSize,
          learningRate: o.learningRate,
          patience: o.earlyStopping?.patience ?? o.epochs + 1,
          seed: o.seed + 1,
          onEpoch: (log) => {
            const tagged = { ...log, epoch: headLogs + log.epoch, epochs: headLogs + o.epochs, phase: 'fine-tune' as const };
            history.push(tagged);
            o.onEpoch?.(tagged);
          },
          ...(o.onBatch ? { onBatch: o.onBatch } : {}),
        });
      } finally {
        await Promise.all(hosts.map((h) => h.close()));
      }
      // The best epoch's weights, back into this thread's top blocks and head (replica order: top variables, then head).
      const vars = topHeadNet(topNet, head).variables();
      assignAll(vars, fine.bestWeights);
      const fineLogits = evaluateLogits(topHeadNet(topNet, head), viewSource({ views: [valMaps.data], count: o.validation.count, rowShape: shape, labels: o.validation.labels }), o.numClasses).logits;
      // Fine-tuning's best epoch replaces the head-only model only when its validation loss is lower.
      const headBest = history[headResult.bestEpoch - 1]?.valLoss ?? Infinity;
      const fineBest = history[headLogs + fine.bestEpoch - 1]?.valLoss ?? Infinity;
      if (fineBest <= headBest) {
        best = {
          index: headLogs + fine.bestEpoch,
          logits: fineLogits,
          stoppedEarly: fine.stoppedEarly,
          weights: { top: topNet.snapshot(), kernel: head.kernel.dataSync().slice() as Float32Array, bias: head.bias.dataSync().slice() as Float32Array },
        };
      } else {
        o.onStage?.('fine-tuning did not lower the validation loss of the head alone: keeping the head-only model');
      }
    }
    const fineSeconds = (performance.now() - t2) / 1000;

    // 4. Calibration, folded into the head: softmax(z / T).
    const temperature = fitTemperature(best.logits, o.validation.labels, o.numClasses);
    const model = assemble(backbone.graph, [...bottom, ...best.weights.top], best.weights, temperature, o.imageSize, o.numClasses);
    return {
      model,
      history,
      bestEpoch: best.index,
      stoppedEarly: best.stoppedEarly,
      backend: tf.getBackend(),
      replicas: Math.max(1, threads),
      pretrained: {
        backbone: { ...backbone.provenance, cut: backbone.spec.cut, boundary: backbone.spec.boundary, trainableBlocks: blockNames(top) },
        temperature,
        seconds: { features: featureSeconds, head: headSeconds, fineTune: fineSeconds },
      },
    };
  } finally {
    topNet.dispose();
    head.dispose();
  }
}

/** Runs the top blocks (inference) over cached maps, in chunks. */
function topOutputs(top: GraphNet, maps: FeatureMaps): FeatureMaps {
  const per = maps.shape[0] * maps.shape[1] * maps.shape[2];
  let out: Float32Array | undefined;
  let shape: [number, number, number] | undefined;
  for (let s = 0; s < maps.count; s += 64) {
    const n = Math.min(64, maps.count - s);
    const y = tf.tidy(() => top.forward(tf.tensor4d(maps.data.subarray(s * per, (s + n) * per), [n, ...maps.shape]), { training: false }));
    shape ??= [y.shape[1], y.shape[2], y.shape[3]];
    const values = y.dataSync() as Float32Array;
    y.dispose();
    out ??= new Float32Array(maps.count * (values.length / n));
    out.set(values, s * (values.length / n));
  }
  return { count: maps.count, shape: shape ?? maps.shape, data: out ?? new Float32Array(0) };
}

/** The served model: one flat layers model of the backbone's nodes (as given) and the head, its logits divided by `temperature`. */
export function assemble(graph: FoldedGraph, nodes: FoldedGraph['nodes'], head: { kernel: Float32Array; bias: Float32Array }, temperature: number, imageSize: number, numClasses: number): tf.LayersModel {
  const input = tf.input({ shape: [imageSize, imageSize, 3], name: 'image' });
  const maps = applyFoldedGraph({ ...graph, nodes }, input);
  const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(maps) as tf.SymbolicTensor;
  const dense = tf.layers.dense({ units: numClasses, activation: 'softmax', name: 'classifier' });
  const output = dense.apply(pooled) as tf.SymbolicTensor;
  const features = head.bias.length === 0 ? 0 : head.kernel.length / head.bias.length;
  const kernel = tf.tensor2d(head.kernel.map((v) => v / temperature), [features, numClasses]);
  const bias = tf.tensor1d(head.bias.map((v) => v / temperature));
  dense.setWeights([kernel, bias]);
  tf.dispose([kernel, bias]);
  return tf.model({ inputs: input, outputs: output, name: `${graph.input}_classifier` });
}

function blockNames(nodes: FoldedGraph['nodes']): string[] {
  return [...new Set(nodes.map((n) => n.name.replace(/_(expand|depthwise|project|add)$/, '')))];
}

function countBlocks(nodes: FoldedGraph['nodes']): number {
  return blockNames(nodes).length;
}

/** The recipe's inputs: `kennel train`'s FitOptions and the tuning it does not expose. */
function options(fit: FitOptions, tuning: TransferTuning) {
  const architecture = fit.spec.architecture;
  if (!isPretrainedArchitecture(architecture)) throw new RangeError(`transferFit trains pretrained architectures, not ${architecture}`);
  return {
    architecture,
    imageSize: fit.spec.imageSize,
    numClasses: fit.spec.numClasses,
    train: fit.train,
    validation: fit.validation,
    epochs: fit.epochs,
    batchSize: fit.batchSize,
    learningRate: fit.learningRate,
    augmentation: fit.augmentation,
    earlyStopping: fit.earlyStopping,
    seed: fit.seed,
    workers: fit.workers,
    backend: fit.backend,
    dropout: fit.spec.dropout ?? tuning.dropout,
    headEpochs: tuning.headEpochs,
    headLearningRate: tuning.headLearningRate,
    cache: tuning.cache,
    onStage: fit.onStage,
    onFeatures: fit.onProgress,
    onEpoch: fit.onEpoch,
    onBatch: fit.onBatch,
  };
}
