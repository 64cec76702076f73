import * as tf from '@tensorflow/tfjs';
import type { FoldedGraph } from './fold.js';

/**
 * Applies the folded graph's layers to `input` (a symbolic tensor standing for the graph's input)
 * and returns the symbolic output. Every node becomes a TF.js `conv2d` or `depthwiseConv2d`
 * layer with bias and its activation, or an `add` layer, named after the node, holding the folded
 * weights. Layers up to and including `frozenThrough` are not trainable.
 */
export function applyFoldedGraph(graph: FoldedGraph, input: tf.SymbolicTensor, options: { frozenThrough?: string; namePrefix?: string } = {}): tf.SymbolicTensor {
  const prefix = options.namePrefix ?? '';
  const tensors = new Map<string, tf.SymbolicTensor>([[graph.input, input]]);
  const pending: Array<{ layer: tf.layers.Layer; weights: () => tf.Tensor[] }> = [];
  let frozen = options.frozenThrough !== undefined;
  const get = (name: string): tf.SymbolicTensor => {
    const t = tensors.get(name);
    if (!t) throw new Error(`folded graph: "${name}" is used before it is defined`);
    return t;
  };
  for (const node of graph.nodes) {
    const trainable = !frozen;
    if (node.kind === 'add') {
      tensors.set(node.name, tf.layers.add({ name: prefix + node.name }).apply([get(node.inputs[0]), get(node.inputs[1])]) as tf.SymbolicTensor);
    } else {
      const [kh, kw] = node.kernelShape;
      const common = {
        name: prefix + node.name,
        kernelSize: [kh, kw] as [number, number],
        strides: [node.strides[0], node.strides[1]] as [number, number],
        padding: node.padding,
        useBias: true,
        activation: node.activation,
        trainable,
      };
      const layer = node.depthwise
        ? tf.layers.depthwiseConv2d({ ...common, depthMultiplier: 1, depthwiseInitializer: 'zeros', biasInitializer: 'zeros' })
        : tf.layers.conv2d({ ...common, filters: node.kernelShape[3], kernelInitializer: 'zeros', biasInitializer: 'zeros' });
      tensors.set(node.name, layer.apply(get(node.input)) as tf.SymbolicTensor);
      pending.push({ layer, weights: () => [tf.tensor4d(node.kernel, [...node.kernelShape]), tf.tensor1d(node.bias)] });
    }
    if (node.name === options.frozenThrough) frozen = false;
  }
  // Weights are set once the layers are built (they are created on first apply).
  for (const { layer, weights } of pending) {
    const ws = weights();
    layer.setWeights(ws);
    ws.forEach((w) => w.dispose());
  }
  return get(graph.output);
}
