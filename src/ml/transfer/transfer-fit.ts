import * as tf from '@tensorflow/tfjs';
import { applyFoldedGraph } from '../backbone/build.js';
import type { FoldedGraph } from '../backbone/fold.js';
import type { WeightsProvenance } from '../backbone/nsfwjs.js';
import type { Augmentation, EpochLog, LabeledImages } from '../fit/types.js';
import { loadBackbone, type PretrainedArchitecture } from './backbone.js';
import { fitTemperature } from './calibration.js';
import { extractFeatures, flipImages, memoryFeatureCache, type FeatureCache, type FeatureMaps } from './features.js';
import { GraphNet, splitAt } from './graph-net.js';
import { Head, headNet, poolMaps, shiftMap, topHeadNet, viewSource } from './nets.js';
import { trainLoop } from './train-loop.js';

/** Images with the content hash of each (the feature cache's key). */
export interface KeyedImages extends LabeledImages {
  readonly keys?: readonly string[];
}

export interface TransferFitOptions {
  readonly architecture: PretrainedArchitecture;
  readonly imageSize: number;
  readonly numClasses: number;
  readonly train: KeyedImages;
  readonly validation: KeyedImages;
  /** Fine-tuning epochs (after the head has been trained on frozen features). */
  readonly epochs: number;
  readonly batchSize: number;
  /** Peak learning rate of fine-tuning (the head phase uses its own, higher rate). */
  readonly learningRate: number;
  readonly augmentation: Augmentation;
  readonly earlyStopping?: { readonly patience: number };
  readonly seed: number;
  /** Epochs of the head phase (early stopping applies); default 40. */
  readonly headEpochs?: number;
  readonly headLearningRate?: number;
  readonly dropout?: number;
  readonly cache?: FeatureCache;
  onStage?(message: string): void;
  onEpoch?(log: EpochLog & { phase: 'head' | 'fine-tune' }): void;
  onBatch?(info: { epoch: number; batch: number; batches: number; loss: number; accuracy: number }): void;
  onFeatures?(done: number, total: number): void;
}

export interface TransferFitResult {
  /** The whole classifier as one layers model: [N, S, S, 3] in [0, 1] → calibrated probabilities. */
  readonly model: tf.LayersModel;
  readonly history: Array<EpochLog & { phase: 'head' | 'fine-tune' }>;
  /** 1-based index into `history` of the weights the model holds. */
  readonly bestEpoch: number;
  readonly stoppedEarly: boolean;
  readonly temperature: number;
  readonly provenance: WeightsProvenance;
  readonly backbone: { readonly cut: string; readonly boundary: string; readonly trainableBlocks: readonly string[] };
  readonly seconds: { readonly features: number; readonly head: number; readonly fineTune: number };
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
export async function transferFit(o: TransferFitOptions): Promise<TransferFitResult> {
  const backbone = loadBackbone(o.architecture);
  const { bottom, top } = splitAt(backbone.graph.nodes, backbone.boundary);
  const cache = o.cache ?? memoryFeatureCache();
  const scope = `${backbone.provenance.package}@${backbone.provenance.version}/${backbone.spec.model}/${backbone.boundary}/${o.imageSize}`;
  const bottomNet = new GraphNet(bottom, backbone.graph.input, backbone.boundary, { namePrefix: 'bottom' });
  const views = o.augmentation.horizontalFlip ? 2 : 1;
  const total = o.train.count * views + o.validation.count;
  let done = 0;
  const t0 = performance.now();
  o.onStage?.(`computing ${backbone.spec.architecture} features up to ${backbone.boundary} for ${total} images`);
  const extract = (images: KeyedImages, view: 'photo' | 'mirror'): FeatureMaps => {
    const base = done;
    const maps = extractFeatures({
      net: bottomNet,
      pixels: view === 'mirror' ? flipImages(images.pixels, images.count, images.imageSize) : images.pixels,
      count: images.count,
      size: images.imageSize,
      cache,
      cacheScope: `${scope}/${view}`,
      ...(images.keys ? { keys: images.keys } : {}),
      onProgress: (n) => o.onFeatures?.(base + n, total),
    });
    done += images.count;
    return maps;
  };
  let trainViews: FeatureMaps[];
  let valMaps: FeatureMaps;
  try {
    trainViews = [extract(o.train, 'photo'), ...(views === 2 ? [extract(o.train, 'mirror')] : [])];
    valMaps = extract(o.validation, 'photo');
  } finally {
    bottomNet.dispose();
  }
  const featureSeconds = (performance.now() - t0) / 1000;
  const shape = (trainViews[0] as FeatureMaps).shape;

  const topNet = new GraphNet(top, backbone.boundary, backbone.graph.output, { trainable: true, namePrefix: 'top' });
  const head = new Head(backbone.features, o.numClasses, o.dropout ?? 0.2, o.seed);
  const history: Array<EpochLog & { phase: 'head' | 'fine-tune' }> = [];
  try {
    // 2. The head on pooled top-block outputs.
    const t1 = performance.now();
    o.onStage?.('training the classifier head on frozen features');
    const pooled = (maps: FeatureMaps): Float32Array =>
      poolMaps(topOutputs(topNet, maps));
    const trainPooled = trainViews.map(pooled);
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
      const [h, w, c] = shape;
      const fine = trainLoop({
        net: topHeadNet(topNet, head),
        numClasses: o.numClasses,
        train: viewSource({ views: trainViews.map((v) => v.data), count: o.train.count, rowShape: shape, labels: o.train.labels, ...(o.augmentation.randomCrop ? { transform: shiftMap(h, w, c, 1) } : {}) }),
        validation: viewSource({ views: [valMaps.data], count: o.validation.count, rowShape: shape, labels: o.validation.labels }),
        epochs: o.epochs,
        batchSize: o.batchSize,
        learningRate: o.learningRate,
        patience: o.earlyStopping?.patience ?? 0,
        weightDecay: { rate: 1e-4, variables: [head.kernel] },
        augment: true,
        seed: o.seed + 1,
        onEpoch: (log) => {
          const tagged = { ...log, epoch: headLogs + log.epoch, epochs: headLogs + o.epochs, phase: 'fine-tune' as const };
          history.push(tagged);
          o.onEpoch?.(tagged);
        },
        ...(o.onBatch ? { onBatch: o.onBatch } : {}),
      });
      // Fine-tuning's best epoch replaces the head-only model only when its validation loss is lower.
      const headBest = history[headResult.bestEpoch - 1]?.valLoss ?? Infinity;
      const fineBest = history[headLogs + fine.bestEpoch - 1]?.valLoss ?? Infinity;
      if (fineBest <= headBest) {
        best = {
          index: headLogs + fine.bestEpoch,
          logits: fine.validationLogits,
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
      temperature,
      provenance: backbone.provenance,
      backbone: { cut: backbone.spec.cut, boundary: backbone.spec.boundary, trainableBlocks: blockNames(top) },
      seconds: { features: featureSeconds, head: headSeconds, fineTune: fineSeconds },
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

/** The served model: one flat layers model, the fine-tuned top weights and the calibrated head. */
function assemble(graph: FoldedGraph, nodes: FoldedGraph['nodes'], head: { kernel: Float32Array; bias: Float32Array }, temperature: number, imageSize: number, numClasses: number): tf.LayersModel {
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
