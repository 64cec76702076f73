import * as tf from '@tensorflow/tfjs';

/** One layer of a saved Keras/TF.js topology, as `model.toJSON()` gives it. */
interface LayerJson {
  readonly class_name: string;
  readonly name?: string;
  readonly config: Record<string, unknown> & { name: string };
  readonly inbound_nodes?: ReadonlyArray<ReadonlyArray<readonly [string, number, number, unknown?]>>;
}

interface TopologyJson {
  readonly class_name: string;
  readonly config: { readonly layers: readonly LayerJson[]; readonly output_layers?: ReadonlyArray<readonly [string, number, number]> };
}

type Step = (inputs: tf.Tensor[]) => tf.Tensor;

const FUSABLE = new Set(['linear', 'relu', 'relu6', 'elu']);

/**
 * Compiles a layers model (Sequential or functional with single-input layers and Add) into an
 * inference function that runs each layer as ONE fused op where TF.js has one: convolutions and
 * depthwise convolutions with their bias and activation (ReLU6 included, which TF.js layers runs
 * as three separate passes), dense layers with bias and activation. Other layers run through
 * `layer.apply`. Same outputs as `model.apply(x, { training: false })` up to float rounding.
 * x [N, H, W, C] → the model's output. Call inside `tf.tidy`; the weights are read once here,
 * so compile again after changing them.
 */
export function compileInference(model: tf.LayersModel): (x: tf.Tensor) => tf.Tensor {
  const run = compileInferenceTo(model);
  return (x) => run(x)[0] as tf.Tensor;
}

/**
 * {@link compileInference} returning the outputs of the named layers (default: the model's
 * output), e.g. a backbone's intermediate feature maps; layers none of them depends on still run.
 */
export function compileInferenceTo(model: tf.LayersModel, outputs?: readonly string[]): (x: tf.Tensor) => tf.Tensor[] {
  const topology = model.toJSON(undefined, false) as unknown as TopologyJson;
  const layers = topology.config.layers;
  const sequential = topology.class_name === 'Sequential';
  const plan: Array<{ name: string; inputs: string[]; step: Step | 'input' }> = [];
  let previous = 'input';
  for (const [i, layer] of layers.entries()) {
    const name = layer.config.name ?? layer.name ?? `layer_${i}`;
    if (layer.class_name === 'InputLayer') {
      plan.push({ name, inputs: [], step: 'input' });
      previous = name;
      continue;
    }
    const inputs = sequential ? [previous] : (layer.inbound_nodes?.[0] ?? []).map((ref) => ref[0]);
    if (!sequential && (layer.inbound_nodes?.length ?? 0) !== 1) throw new Error(`compileInference: layer "${name}" is applied ${layer.inbound_nodes?.length ?? 0} times`);
    if (sequential && i === 0) plan.push({ name: 'input', inputs: [], step: 'input' });
    plan.push({ name, inputs, step: stepFor(model.getLayer(name), layer) });
    previous = name;
  }
  const outputNames = outputs ?? [sequential ? previous : (topology.config.output_layers?.[0]?.[0] ?? previous)];
  for (const n of outputNames) if (!plan.some((p) => p.name === n)) throw new Error(`compileInference: the model has no layer "${n}"`);
  return (x: tf.Tensor): tf.Tensor[] => {
    const values = new Map<string, tf.Tensor>();
    for (const p of plan) {
      if (p.step === 'input') {
        values.set(p.name, x);
        continue;
      }
      values.set(
        p.name,
        p.step(
          p.inputs.map((n) => {
            const v = values.get(n);
            if (!v) throw new Error(`compileInference: "${p.name}" needs "${n}", not computed yet`);
            return v;
          }),
        ),
      );
    }
    return outputNames.map((n) => values.get(n) as tf.Tensor);
  };
}

function stepFor(layer: tf.layers.Layer, json: LayerJson): Step {
  const cfg = json.config;
  const w = layer.getWeights();
  const activation = typeof cfg.activation === 'string' ? cfg.activation : 'linear';
  const fusable = FUSABLE.has(activation);
  const channelsLast = cfg.data_format === undefined || cfg.data_format === 'channels_last';
  const undilated = isOne(cfg.dilation_rate);
  const only = (inputs: tf.Tensor[]): tf.Tensor => inputs[0] as tf.Tensor;
  switch (json.class_name) {
    case 'Conv2D':
      if (channelsLast && undilated) {
        const [filter, bias] = w as [tf.Tensor4D, tf.Tensor1D | undefined];
        const strides = cfg.strides as [number, number];
        const pad = cfg.padding as 'same' | 'valid';
        return (inputs) => {
          const y = tf.fused.conv2d({ x: only(inputs) as tf.Tensor4D, filter, strides, pad, ...(bias ? { bias } : {}), activation: fusable ? (activation as tf.fused.Activation) : 'linear' });
          return fusable ? y : applyNamed(y, activation);
        };
      }
      break;
    case 'DepthwiseConv2D':
      if (channelsLast && undilated) {
        const [filter, bias] = w as [tf.Tensor4D, tf.Tensor1D | undefined];
        const strides = cfg.strides as [number, number];
        const pad = cfg.padding as 'same' | 'valid';
        return (inputs) => {
          const y = tf.fused.depthwiseConv2d({ x: only(inputs) as tf.Tensor4D, filter, strides, pad, ...(bias ? { bias } : {}), activation: fusable ? (activation as tf.fused.Activation) : 'linear' });
          return fusable ? y : applyNamed(y, activation);
        };
      }
      break;
    case 'Dense': {
      const [kernel, bias] = w as [tf.Tensor2D, tf.Tensor1D | undefined];
      return (inputs) => {
        const x = only(inputs);
        if (x.rank !== 2) return layer.apply(x, { training: false }) as tf.Tensor;
        const y = tf.fused.matMul({ a: x as tf.Tensor2D, b: kernel, ...(bias ? { bias } : {}), activation: fusable ? (activation as tf.fused.Activation) : 'linear' });
        return fusable ? y : applyNamed(y, activation);
      };
    }
    case 'Add':
      return (inputs) => (inputs.length === 2 ? tf.add(inputs[0] as tf.Tensor, inputs[1] as tf.Tensor) : tf.addN(inputs));
    case 'GlobalAveragePooling2D':
      if (channelsLast) return (inputs) => tf.mean(only(inputs), [1, 2]);
      break;
    case 'Dropout':
      return only;
    case 'ReLU':
      if ((cfg.negative_slope ?? 0) === 0 && (cfg.threshold ?? 0) === 0) {
        if (cfg.max_value === null || cfg.max_value === undefined) return (inputs) => tf.relu(only(inputs));
        if (cfg.max_value === 6) return (inputs) => tf.relu6(only(inputs));
      }
      break;
    case 'Activation':
      return (inputs) => applyNamed(only(inputs), activation);
    default:
      break;
  }
  return (inputs) => layer.apply(inputs.length === 1 ? (inputs[0] as tf.Tensor) : inputs, { training: false }) as tf.Tensor;
}

function isOne(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  return Array.isArray(v) ? v.every((d) => d === 1) : v === 1;
}

function applyNamed(x: tf.Tensor, activation: string): tf.Tensor {
  switch (activation) {
    case 'linear':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'softmax':
      return tf.softmax(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'tanh':
      return tf.tanh(x);
    case 'elu':
      return tf.elu(x);
    default:
      throw new Error(`compileInference: unsupported activation ${activation}`);
  }
}
