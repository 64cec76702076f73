import * as tf from '@tensorflow/tfjs';

interface LayerJson {
  class_name: string;
  config: Record<string, unknown> & { name: string };
}
interface SequentialJson {
  class_name: string;
  config: { name: string; layers: LayerJson[] };
  [key: string]: unknown;
}

/**
 * Inference-only rewrite of a Sequential model: every Conv2D → BatchNormalization (→ ReLU)
 * becomes one Conv2D with bias (and a fused ReLU), with the batch-norm statistics folded into
 * the kernel and bias: `s = γ / √(σ² + ε)`, `W' = W·s`, `b' = (b − μ)·s + β`. Dropout layers,
 * identities at inference, are dropped. The outputs are the same up to float rounding, but the
 * WebAssembly backend then runs one fused convolution per block instead of three passes over
 * the activations (batch norm alone cost as much as the convolutions, measured).
 * Returns the input model unchanged (folded: 0) when it is not Sequential or has no such block.
 * The caller keeps ownership of `model`; the returned model, when new, is the caller's too.
 */
export async function foldBatchNorm(model: tf.LayersModel): Promise<{ model: tf.LayersModel; folded: number }> {
  const json = model.toJSON(undefined, false) as unknown as SequentialJson;
  if (json.class_name !== 'Sequential') return { model, folded: 0 };
  const layers = json.config.layers;
  const out: LayerJson[] = [];
  const weights = new Map<string, tf.Tensor[]>();
  let folded = 0;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i] as LayerJson;
    const next = layers[i + 1];
    if (layer.class_name === 'Conv2D' && layer.config.activation === 'linear' && next?.class_name === 'BatchNormalization' && isLastAxis(next.config.axis)) {
      const after = layers[i + 2];
      const relu = after !== undefined && isPlainRelu(after);
      const [kernel, bias] = foldWeights(model.getLayer(layer.config.name), model.getLayer(next.config.name), next.config);
      out.push({ class_name: 'Conv2D', config: { ...layer.config, use_bias: true, activation: relu ? 'relu' : 'linear' } });
      weights.set(layer.config.name, [kernel, bias]);
      folded++;
      i += relu ? 2 : 1;
      continue;
    }
    if (layer.class_name === 'Dropout' && layer.config.batch_input_shape === undefined) continue;
    out.push(layer);
    weights.set(layer.config.name, model.getLayer(layer.config.name).getWeights().map((w) => w.clone()));
  }
  if (folded === 0) {
    for (const ws of weights.values()) tf.dispose(ws);
    return { model, folded: 0 };
  }
  const topology = { ...json, config: { ...json.config, layers: out } };
  const rebuilt = await tf.models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] });
  try {
    for (const l of rebuilt.layers) {
      const ws = weights.get(l.name);
      if (ws && ws.length > 0) l.setWeights(ws);
    }
  } finally {
    for (const ws of weights.values()) tf.dispose(ws);
  }
  return { model: rebuilt, folded };
}

function isLastAxis(axis: unknown): boolean {
  return axis === -1 || axis === 3 || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3));
}

function isPlainRelu(layer: LayerJson): boolean {
  if (layer.class_name === 'ReLU') return layer.config.max_value === null || layer.config.max_value === undefined;
  return layer.class_name === 'Activation' && layer.config.activation === 'relu';
}

function foldWeights(conv: tf.layers.Layer, bn: tf.layers.Layer, bnConfig: Record<string, unknown>): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const [kernel, convBias] = conv.getWeights() as [tf.Tensor4D, tf.Tensor1D | undefined];
    const bnWeights = [...bn.getWeights()];
    const gamma = bnConfig.scale === false ? undefined : bnWeights.shift();
    const beta = bnConfig.center === false ? undefined : bnWeights.shift();
    const [mean, variance] = bnWeights as [tf.Tensor1D, tf.Tensor1D];
    const epsilon = typeof bnConfig.epsilon === 'number' ? bnConfig.epsilon : 1e-3;
    const s = (gamma ?? tf.onesLike(mean)).div(variance.add(epsilon).sqrt());
    const b = (convBias ?? tf.zerosLike(mean)).sub(mean).mul(s).add(beta ?? tf.zerosLike(mean));
    return [kernel.mul(s), b];
  });
}
