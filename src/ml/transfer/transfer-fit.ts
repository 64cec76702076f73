import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { isPretrainedArchitecture, type PretrainedArchitecture } from '../architectures.js';
import { applyFoldedGraph } from '../backbone/build.js';
import type { FoldedGraph, FoldedNode } from '../backbone/fold.js';
import { fitTemperature } from '../calibration.js';
import { trainDataParallel } from '../fit/data-parallel.js';
import type { FitResult } from '../fit/fit.js';
import { replicaModule, startReplicas } from '../fit/replica-host.js';
import type { EpochLog, FitOptions } from '../fit/types.js';
import { assignAll } from './assign.js';
import { loadBackbone, type Backbone } from './backbone.js';
import { extractInParallel } from './extract-parallel.js';
import type { FeatureReplicaInit } from './feature-replica.js';
import { memoryFeatureCache, type FeatureCache, type FeatureMaps } from './features.js';
import { GraphNet, splitAt } from './graph-net.js';
import { Head, headNet, poolMaps, topHeadNet, viewSource } from './nets.js';
import { evaluateLogits, trainLoop } from './train-loop.js';

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

/** Weights of the trainable part: the top blocks' nodes and the head. */
interface TopWeights {
  readonly top: readonly FoldedNode[];
  readonly kernel: Float32Array;
  readonly bias: Float32Array;
}

/** What one run works on once the backbone's features are computed. */
interface Features {
  readonly backbone: Backbone;
  readonly bottom: FoldedNode[];
  readonly top: FoldedNode[];
  /** One FeatureMaps per view of the training images (photo, then mirror). */
  readonly trainViews: FeatureMaps[];
  readonly validation: FeatureMaps;
  readonly seconds: number;
}

type Options = ReturnType<typeof options>;

/**
 * Transfer learning on a pretrained backbone, in the order that makes it fit in minutes on two
 * CPU cores:
 * 1. the frozen bottom of the backbone runs ONCE per image (and once per mirror image, when
 *    flipping is on), on both cores, its output maps cached by content hash;
 * 2. the top blocks run once over the cached maps, and the head is trained on the pooled result
 *    (many epochs for almost nothing); this phase is reported as a stage, not as epochs;
 * 3. the top blocks and head are fine-tuned together at a low learning rate on the cached maps,
 *    data-parallel on both cores, with feature-space augmentation (mirror views, random shifts),
 *    keeping the best epoch (or the head alone, when fine-tuning never beats it);
 * 4. a temperature is fitted on the validation split and folded into the head.
 * `history` holds the fine-tuning epochs (`bestEpoch` 0 when the head-only model was kept);
 * `pretrained.headHistory` the head phase's.
 */
export async function transferFit(fit: FitOptions, tuning: TransferTuning = {}): Promise<FitResult> {
  const o = options(fit, tuning);
  const features = await extractPhase(o);
  const topNet = new GraphNet(features.top, features.backbone.boundary, features.backbone.graph.output, { trainable: true });
  const head = new Head(features.backbone.features, o.numClasses, o.dropout ?? 0.2, o.seed);
  try {
    const headPhase = trainHead(o, features, topNet, head);
    const finePhase = await fineTune(o, features, topNet, head, headPhase);
    const temperature = fitTemperature(finePhase.validationLogits, o.validation.labels, o.numClasses);
    const { backbone } = features;
    const model = assemble(backbone.graph, [...features.bottom, ...finePhase.weights.top], finePhase.weights, temperature, o.imageSize, o.numClasses);
    return {
      model,
      history: finePhase.history,
      bestEpoch: finePhase.bestEpoch,
      stoppedEarly: finePhase.stoppedEarly,
      backend: tf.getBackend(),
      replicas: o.threads,
      pretrained: {
        backbone: { ...backbone.provenance, cut: backbone.spec.cut, boundary: backbone.spec.boundary, trainableBlocks: blockNames(features.top) },
        temperature,
        headHistory: headPhase.history,
        seconds: { features: features.seconds, head: headPhase.seconds, fineTune: finePhase.seconds },
      },
    };
  } finally {
    topNet.dispose();
    head.dispose();
  }
}

/** 1. The frozen bottom's maps of every training image (each view) and validation image. */
async function extractPhase(o: Options): Promise<Features> {
  const backbone = loadBackbone(o.architecture);
  const { bottom, top } = splitAt(backbone.graph.nodes, backbone.boundary);
  const views: Array<'photo' | 'mirror'> = o.augmentation.horizontalFlip ? ['photo', 'mirror'] : ['photo'];
  const started = performance.now();
  o.onStage?.(`computing ${backbone.spec.architecture} features up to ${backbone.boundary} for ${o.train.count * views.length + o.validation.count} images`);
  const maps = await extractInParallel({
    nodes: bottom,
    input: backbone.graph.input,
    output: backbone.boundary,
    size: o.imageSize,
    sets: [
      { name: 'train', pixels: o.train.pixels, count: o.train.count, views, ...(o.train.keys ? { keys: o.train.keys } : {}) },
      { name: 'validation', pixels: o.validation.pixels, count: o.validation.count, views: ['photo'], ...(o.validation.keys ? { keys: o.validation.keys } : {}) },
    ],
    threads: o.threads,
    backend: o.backend,
    cache: o.cache ?? memoryFeatureCache(),
    cacheScope: `${backbone.provenance.package}@${backbone.provenance.version}/${backbone.spec.model}/${backbone.boundary}/${o.imageSize}`,
    ...(o.onFeatures ? { onProgress: o.onFeatures } : {}),
  });
  return {
    backbone,
    bottom,
    top,
    trainViews: views.map((v) => maps.get(`train/${v}`) as FeatureMaps),
    validation: maps.get('validation/photo') as FeatureMaps,
    seconds: (performance.now() - started) / 1000,
  };
}

/** 2. The head alone, on the top blocks' pooled output (photos only): a good start for fine-tuning. */
function trainHead(o: Options, f: Features, topNet: GraphNet, head: Head): { history: EpochLog[]; weights: TopWeights; valLoss: number; validationLogits: Float32Array; seconds: number } {
  const started = performance.now();
  o.onStage?.('training the classifier head on frozen features');
  const width = f.backbone.features;
  const trainPooled = poolMaps(topOutputs(topNet, f.trainViews[0] as FeatureMaps));
  const valPooled = poolMaps(topOutputs(topNet, f.validation));
  const history: EpochLog[] = [];
  const result = trainLoop({
    net: headNet(head),
    numClasses: o.numClasses,
    train: viewSource({ views: [trainPooled], count: o.train.count, rowShape: [width], labels: o.train.labels }),
    validation: viewSource({ views: [valPooled], count: o.validation.count, rowShape: [width], labels: o.validation.labels }),
    epochs: o.headEpochs ?? 40,
    batchSize: 64,
    learningRate: o.headLearningRate ?? 3e-3,
    patience: 6,
    weightDecay: { rate: 1e-4, variables: [head.kernel] },
    augment: true,
    seed: o.seed,
    onEpoch: (log) => history.push({ ...log, phase: 'head' }),
  });
  const best = history[result.bestEpoch - 1];
  o.onStage?.(`head trained: validation accuracy ${(best?.valAccuracy ?? 0).toFixed(3)} at epoch ${result.bestEpoch} of ${history.length}`);
  return {
    history,
    weights: { top: f.top, kernel: head.kernel.dataSync().slice() as Float32Array, bias: head.bias.dataSync().slice() as Float32Array },
    valLoss: best?.valLoss ?? Infinity,
    validationLogits: result.validationLogits,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * 3. The top blocks and the head together, data-parallel over `o.threads` replicas. Keeps the best
 * epoch, or the head-only weights when no epoch lowers their validation loss.
 */
async function fineTune(
  o: Options,
  f: Features,
  topNet: GraphNet,
  head: Head,
  start: { weights: TopWeights; valLoss: number; validationLogits: Float32Array },
): Promise<{ history: EpochLog[]; bestEpoch: number; stoppedEarly: boolean; weights: TopWeights; validationLogits: Float32Array; seconds: number }> {
  const started = performance.now();
  const history: EpochLog[] = [];
  const headOnly = { history, bestEpoch: 0, stoppedEarly: false, weights: start.weights, validationLogits: start.validationLogits };
  if (o.epochs < 1 || f.top.length === 0) return { ...headOnly, seconds: 0 };
  o.onStage?.(`fine-tuning ${blockNames(f.top).length} top blocks and the head`);
  const shape = f.validation.shape;
  const init: FeatureReplicaInit = {
    backend: o.backend,
    learningRate: o.learningRate,
    top: { nodes: f.top, input: f.backbone.boundary, output: f.backbone.graph.output },
    head: { kernel: start.weights.kernel, bias: start.weights.bias, dropout: head.dropout, classes: o.numClasses },
    shape: [...shape],
    trainViews: f.trainViews.map((v) => v.data),
    trainLabels: o.train.labels,
    valMaps: f.validation.data,
    valLabels: o.validation.labels,
    shift: o.augmentation.randomCrop ? 1 : 0,
  };
  const hosts = await startReplicas({ module: replicaModule(import.meta.url, 'feature-replica'), init }, o.workers === 0 ? 0 : o.threads);
  let run: Awaited<ReturnType<typeof trainDataParallel>>;
  try {
    run = await trainDataParallel({
      hosts,
      trainCount: o.train.count,
      validationCount: o.validation.count,
      epochs: o.epochs,
      batchSize: o.batchSize,
      learningRate: o.learningRate,
      patience: o.earlyStopping?.patience ?? o.epochs + 1,
      seed: o.seed + 1,
      onEpoch: (log) => {
        const tagged = { ...log, phase: 'fine-tune' as const };
        history.push(tagged);
        o.onEpoch?.(tagged);
      },
      ...(o.onBatch ? { onBatch: o.onBatch } : {}),
    });
  } finally {
    await Promise.all(hosts.map((h) => h.close()));
  }
  const seconds = (performance.now() - started) / 1000;
  const bestLoss = history[run.bestEpoch - 1]?.valLoss ?? Infinity;
  if (!(bestLoss <= start.valLoss)) {
    o.onStage?.('fine-tuning did not lower the validation loss of the head alone: keeping the head-only model');
    return { ...headOnly, stoppedEarly: run.stoppedEarly, seconds };
  }
  // The best epoch's weights (replica order: the top blocks' variables, then the head's).
  const net = topHeadNet(topNet, head);
  assignAll(net.variables(), run.bestWeights);
  const validationLogits = evaluateLogits(net, viewSource({ views: [f.validation.data], count: o.validation.count, rowShape: shape, labels: o.validation.labels }), o.numClasses).logits;
  return {
    history,
    bestEpoch: run.bestEpoch,
    stoppedEarly: run.stoppedEarly,
    weights: { top: topNet.snapshot(), kernel: head.kernel.dataSync().slice() as Float32Array, bias: head.bias.dataSync().slice() as Float32Array },
    validationLogits,
    seconds,
  };
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

/** 4. The served model: one flat layers model of the backbone's nodes (as given) and the head, its logits divided by `temperature`. */
export function assemble(graph: FoldedGraph, nodes: readonly FoldedNode[], head: { kernel: Float32Array; bias: Float32Array }, temperature: number, imageSize: number, numClasses: number): tf.LayersModel {
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

/** Block names of nodes (`block_13_expand` → `block_13`), in order. */
function blockNames(nodes: readonly FoldedNode[]): string[] {
  return [...new Set(nodes.map((n) => n.name.replace(/_(expand|depthwise|project|add)$/, '')))];
}

/** The recipe's inputs: `kennel train`'s FitOptions and the tuning it does not expose. */
function options(fit: FitOptions, tuning: TransferTuning) {
  const architecture: string = fit.spec.architecture;
  if (!isPretrainedArchitecture(architecture)) throw new RangeError(`transferFit trains pretrained architectures, not ${architecture}`);
  return {
    ...tuning,
    architecture: architecture as PretrainedArchitecture,
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
    /** Threads for feature extraction (at least 1) and fine-tuning replicas: one per core, at most 2. */
    threads: Math.max(1, fit.workers ?? Math.min(2, os.availableParallelism())),
    backend: fit.backend ?? 'auto',
    dropout: fit.spec.dropout ?? tuning.dropout,
    onStage: fit.onStage,
    onFeatures: fit.onProgress,
    onEpoch: fit.onEpoch,
    onBatch: fit.onBatch,
  };
}
