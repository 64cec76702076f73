import type * as tf from '@tensorflow/tfjs';
import type { PretrainedArchitecture } from '../architectures.js';
import { foldKerasGraph, type FoldedGraph, type KerasTopology } from '../backbone/fold.js';
import { loadNsfwjsLayersModel, type WeightsProvenance } from '../backbone/nsfwjs.js';


/**
 * Where a backbone's weights come from and where it is cut. `cut` ends the network (its pooled
 * output feeds the classifier head); `boundary` splits it into the frozen bottom, whose output is
 * computed once per image and cached, and the top blocks that fine-tuning trains.
 * Chosen by measurement on the shared cats-and-dogs photos: see docs/pretrained.md.
 */
export interface BackboneSpec {
  readonly architecture: PretrainedArchitecture;
  readonly model: string;
  readonly shards: number;
  readonly cut: string;
  readonly boundary: string;
  /** Input sizes must be multiples of this (the network's total stride). */
  readonly sizeMultiple: number;
  readonly defaultImageSize: number;
}

export const BACKBONES: Readonly<Record<PretrainedArchitecture, BackboneSpec>> = Object.freeze({
  'mobilenet-v2': Object.freeze({
    architecture: 'mobilenet-v2',
    model: 'mobilenet_v2',
    shards: 1,
    cut: 'out_relu',
    boundary: 'block_12_add',
    sizeMultiple: 32,
    defaultImageSize: 160,
  }),
});

/** A backbone folded for inference and fine-tuning, with where its weights came from. */
export interface Backbone {
  readonly spec: BackboneSpec;
  readonly graph: FoldedGraph;
  /** The folded node whose output is cached (the end of the frozen part). */
  readonly boundary: string;
  readonly provenance: WeightsProvenance;
  /** Channels of the cut's output (the head's input width). */
  readonly features: number;
}

const loaded = new Map<PretrainedArchitecture, Backbone>();

/**
 * Loads and folds a pretrained backbone from the npm package that ships its weights (once per
 * process). Batch norm is folded into the convolutions: the backbone trains with frozen
 * statistics, the usual way to fine-tune on a small dataset.
 */
export function loadBackbone(architecture: PretrainedArchitecture): Backbone {
  const cached = loaded.get(architecture);
  if (cached) return cached;
  const spec = BACKBONES[architecture];
  const { topology, weights, provenance } = loadNsfwjsLayersModel(spec.model, spec.shards);
  try {
    const lookup = (name: string): { data: Float32Array; shape: readonly number[] } | undefined => {
      const t: tf.Tensor | undefined = weights[name];
      return t ? { data: t.dataSync() as Float32Array, shape: t.shape } : undefined;
    };
    const graph = foldKerasGraph(topology as KerasTopology, lookup, spec.cut);
    const boundary = graph.aliases.get(spec.boundary);
    if (!boundary) throw new Error(`backbone ${architecture}: boundary ${spec.boundary} is not below the cut ${spec.cut}`);
    const last = graph.nodes.find((n) => n.name === graph.output);
    if (!last || last.kind !== 'conv') throw new Error(`backbone ${architecture}: the cut must end in a convolution`);
    const backbone: Backbone = { spec, graph, boundary, provenance, features: last.bias.length };
    loaded.set(architecture, backbone);
    return backbone;
  } finally {
    for (const t of Object.values(weights)) t.dispose();
  }
}
