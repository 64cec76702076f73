/**
 * Folds a Keras functional convolutional network (as saved by the TF.js converter) into a graph
 * of convolutions with bias and activation and residual additions: every BatchNormalization that
 * follows a convolution is folded into that convolution's kernel and bias (inference statistics,
 * i.e. frozen batch norm), a following ReLU / ReLU6 becomes the convolution's activation, and a
 * ZeroPadding2D in front of a VALID convolution becomes SAME padding (Keras' `correct_pad` is the
 * padding SAME computes for the input size at hand, so the graph can be rebuilt at any size).
 * Pure: no TensorFlow.js, no I/O.
 */

export type Activation = 'linear' | 'relu' | 'relu6';

export interface ConvNode {
  readonly kind: 'conv';
  readonly name: string;
  readonly input: string;
  /** true: depthwise (HWC1 kernel, channel multiplier 1); false: HWIO kernel. */
  readonly depthwise: boolean;
  readonly kernel: Float32Array;
  readonly kernelShape: readonly [number, number, number, number];
  readonly bias: Float32Array;
  readonly strides: readonly [number, number];
  readonly padding: 'same' | 'valid';
  readonly activation: Activation;
}

export interface AddNode {
  readonly kind: 'add';
  readonly name: string;
  readonly inputs: readonly [string, string];
}

export type FoldedNode = ConvNode | AddNode;

/** Nodes in topological order; `input` is the graph input's name; `output` the last node's. */
export interface FoldedGraph {
  readonly input: string;
  readonly output: string;
  readonly nodes: readonly FoldedNode[];
  /** Source layer name → the node that computes its output (a folded BN or ReLU names its convolution). */
  readonly aliases: ReadonlyMap<string, string>;
}

/** The parts of a Keras layer config the folder reads. */
interface KerasLayer {
  readonly class_name: string;
  readonly name: string;
  readonly config: Record<string, unknown>;
  readonly inbound_nodes: ReadonlyArray<ReadonlyArray<readonly [string, number, number, unknown?]>>;
}

export interface KerasTopology {
  readonly model_config: { readonly config: { readonly layers: readonly KerasLayer[] } };
}

/** A weight by its saved name (e.g. `block_1_expand/kernel`), with its shape. */
export type WeightLookup = (name: string) => { data: Float32Array; shape: readonly number[] } | undefined;

export class FoldError extends Error {
  override readonly name = 'FoldError';
}

/**
 * Folds the layers of `topology` that `cut` depends on. `cut` names any layer of the source
 * model (a BatchNormalization or ReLU folded into a convolution names that convolution's output).
 * Throws FoldError for a layer it cannot fold (anything but InputLayer, ZeroPadding2D, Conv2D,
 * DepthwiseConv2D, BatchNormalization, ReLU and Add on the way to `cut`).
 */
export function foldKerasGraph(topology: KerasTopology, weights: WeightLookup, cut: string): FoldedGraph {
  const layers = topology.model_config.config.layers;
  const byName = new Map(layers.map((l) => [l.name, l]));
  if (!byName.has(cut)) throw new FoldError(`layer "${cut}" is not in the model`);
  const needed = ancestors(byName, cut);
  const consumers = new Map<string, string[]>();
  for (const l of layers) for (const src of inputsOf(l)) consumers.set(src, [...(consumers.get(src) ?? []), l.name]);

  /** Source layer name → the folded node (or graph input) that produces the same tensor. */
  const alias = new Map<string, string>();
  /** ZeroPadding2D layers waiting for their convolution: name → folded input. */
  const padded = new Map<string, string>();
  const nodes: FoldedNode[] = [];
  let input: string | undefined;
  const resolve = (name: string): string => {
    const a = alias.get(name);
    if (a === undefined) throw new FoldError(`layer "${name}" is used before it is defined, or only by layers the folder skips`);
    return a;
  };

  for (const layer of layers) {
    if (!needed.has(layer.name)) continue;
    const srcs = inputsOf(layer);
    switch (layer.class_name) {
      case 'InputLayer':
        input = layer.name;
        alias.set(layer.name, layer.name);
        break;
      case 'ZeroPadding2D':
        padded.set(layer.name, resolve(one(layer, srcs)));
        break;
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const src = one(layer, srcs);
        const fromPad = padded.get(src);
        const node = convNode(layer, fromPad ?? resolve(src), fromPad !== undefined, weights);
        nodes.push(node);
        alias.set(layer.name, node.name);
        break;
      }
      case 'BatchNormalization': {
        const src = one(layer, srcs);
        const idx = nodes.findIndex((n) => n.name === resolve(src));
        const conv = nodes[idx];
        if (!conv || conv.kind !== 'conv' || conv.activation !== 'linear' || (consumers.get(src) ?? []).length !== 1) {
          throw new FoldError(`BatchNormalization "${layer.name}" does not directly follow a convolution it alone consumes`);
        }
        nodes[idx] = foldBatchNorm(conv, layer, weights);
        alias.set(layer.name, conv.name);
        break;
      }
      case 'ReLU':
      case 'Activation': {
        const src = one(layer, srcs);
        const idx = nodes.findIndex((n) => n.name === resolve(src));
        const conv = nodes[idx];
        const activation = activationOf(layer);
        if (!conv || conv.kind !== 'conv' || conv.activation !== 'linear' || (consumers.get(src) ?? []).length !== 1) {
          throw new FoldError(`${layer.class_name} "${layer.name}" does not directly follow a convolution it alone consumes`);
        }
        nodes[idx] = { ...conv, activation };
        alias.set(layer.name, conv.name);
        break;
      }
      case 'Add': {
        if (srcs.length !== 2) throw new FoldError(`Add "${layer.name}" has ${srcs.length} inputs; only 2 are supported`);
        const node: AddNode = { kind: 'add', name: layer.name, inputs: [resolve(srcs[0] as string), resolve(srcs[1] as string)] };
        nodes.push(node);
        alias.set(layer.name, node.name);
        break;
      }
      default:
        throw new FoldError(`cannot fold layer "${layer.name}" of class ${layer.class_name}`);
    }
  }
  if (input === undefined) throw new FoldError('the model has no InputLayer');
  return { input, output: resolve(cut), nodes, aliases: alias };
}

function inputsOf(layer: KerasLayer): string[] {
  if (layer.inbound_nodes.length > 1) throw new FoldError(`layer "${layer.name}" is applied ${layer.inbound_nodes.length} times; shared layers are not supported`);
  return (layer.inbound_nodes[0] ?? []).map((ref) => ref[0]);
}

function one(layer: KerasLayer, srcs: string[]): string {
  if (srcs.length !== 1) throw new FoldError(`layer "${layer.name}" has ${srcs.length} inputs, expected 1`);
  return srcs[0] as string;
}

/** Names of `cut` and every layer it depends on. */
function ancestors(byName: Map<string, KerasLayer>, cut: string): Set<string> {
  const seen = new Set<string>();
  const stack = [cut];
  while (stack.length) {
    const name = stack.pop() as string;
    if (seen.has(name)) continue;
    const layer = byName.get(name);
    if (!layer) throw new FoldError(`layer "${name}" is referenced but not defined`);
    seen.add(name);
    stack.push(...inputsOf(layer));
  }
  return seen;
}

function pair(v: unknown, what: string): [number, number] {
  if (Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x))) return [v[0] as number, v[1] as number];
  if (Number.isInteger(v)) return [v as number, v as number];
  throw new FoldError(`bad ${what}: ${JSON.stringify(v)}`);
}

function convNode(layer: KerasLayer, input: string, afterPad: boolean, weights: WeightLookup): ConvNode {
  const cfg = layer.config;
  const depthwise = layer.class_name === 'DepthwiseConv2D';
  if (cfg.data_format !== undefined && cfg.data_format !== 'channels_last') throw new FoldError(`"${layer.name}": only channels_last is supported`);
  const dilation = pair(cfg.dilation_rate ?? 1, 'dilation_rate');
  if (dilation[0] !== 1 || dilation[1] !== 1) throw new FoldError(`"${layer.name}": dilated convolutions are not supported`);
  if (depthwise && (cfg.depth_multiplier ?? 1) !== 1) throw new FoldError(`"${layer.name}": depth_multiplier ${String(cfg.depth_multiplier)} is not supported`);
  const kernelName = `${layer.name}/${depthwise ? 'depthwise_kernel' : 'kernel'}`;
  const k = weights(kernelName);
  if (!k || k.shape.length !== 4) throw new FoldError(`weight "${kernelName}" is missing or not 4-D`);
  const outChannels = depthwise ? (k.shape[2] as number) : (k.shape[3] as number);
  const b = cfg.use_bias ? weights(`${layer.name}/bias`) : undefined;
  if (cfg.use_bias && (!b || b.data.length !== outChannels)) throw new FoldError(`weight "${layer.name}/bias" is missing or has the wrong size`);
  const padding = cfg.padding === 'same' || afterPad ? 'same' : cfg.padding === 'valid' ? 'valid' : undefined;
  if (!padding) throw new FoldError(`"${layer.name}": padding ${JSON.stringify(cfg.padding)} is not supported`);
  if (afterPad && cfg.padding !== 'valid') throw new FoldError(`"${layer.name}": explicit padding followed by SAME padding is not supported`);
  return {
    kind: 'conv',
    name: layer.name,
    input,
    depthwise,
    kernel: Float32Array.from(k.data),
    kernelShape: k.shape as [number, number, number, number],
    bias: b ? Float32Array.from(b.data) : new Float32Array(outChannels),
    strides: pair(cfg.strides ?? 1, 'strides'),
    padding,
    activation: cfg.activation === 'relu' ? 'relu' : 'linear',
  };
}

/** y = gamma·(conv(x) + b − mean)/sqrt(var + ε) + beta, as one convolution: the output channel's scale goes into its kernel. */
function foldBatchNorm(conv: ConvNode, bn: KerasLayer, weights: WeightLookup): ConvNode {
  const cfg = bn.config;
  const axis = cfg.axis;
  if (!(axis === -1 || axis === 3 || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3)))) throw new FoldError(`"${bn.name}": only the channel axis is supported`);
  const c = conv.bias.length;
  const get = (w: string, fallback: number): Float32Array => {
    const v = weights(`${bn.name}/${w}`);
    if (v && v.data.length !== c) throw new FoldError(`"${bn.name}/${w}" has ${v.data.length} values for ${c} channels`);
    if (!v && (w === 'moving_mean' || w === 'moving_variance')) throw new FoldError(`weight "${bn.name}/${w}" is missing`);
    return v ? v.data : new Float32Array(c).fill(fallback);
  };
  const gamma = cfg.scale === false ? new Float32Array(c).fill(1) : get('gamma', 1);
  const beta = cfg.center === false ? new Float32Array(c) : get('beta', 0);
  const mean = get('moving_mean', 0);
  const variance = get('moving_variance', 1);
  const eps = typeof cfg.epsilon === 'number' ? cfg.epsilon : 1e-3;
  const scale = new Float32Array(c);
  for (let i = 0; i < c; i++) scale[i] = (gamma[i] as number) / Math.sqrt((variance[i] as number) + eps);
  const kernel = conv.kernel.slice();
  // The output channel is the fastest-varying index of both HWIO (O) and a depthwise HWC1 (C) kernel.
  for (let j = 0; j < kernel.length; j++) kernel[j] = (kernel[j] as number) * (scale[j % c] as number);
  const bias = new Float32Array(c);
  for (let i = 0; i < c; i++) bias[i] = ((conv.bias[i] as number) - (mean[i] as number)) * (scale[i] as number) + (beta[i] as number);
  return { ...conv, kernel, bias };
}

function activationOf(layer: KerasLayer): Activation {
  const cfg = layer.config;
  if (layer.class_name === 'Activation') {
    if (cfg.activation === 'relu' || cfg.activation === 'relu6' || cfg.activation === 'linear') return cfg.activation;
    throw new FoldError(`"${layer.name}": activation ${JSON.stringify(cfg.activation)} is not supported`);
  }
  const max = cfg.max_value;
  const slope = cfg.negative_slope ?? 0;
  const threshold = cfg.threshold ?? 0;
  if (slope !== 0 || threshold !== 0) throw new FoldError(`"${layer.name}": leaky or thresholded ReLU is not supported`);
  if (max === null || max === undefined) return 'relu';
  if (max === 6) return 'relu6';
  throw new FoldError(`"${layer.name}": ReLU with max_value ${String(max)} is not supported`);
}
