import * as tf from '@tensorflow/tfjs';
import type { ConvNode, FoldedNode } from '../backbone/fold.js';

/**
 * A folded backbone graph (or a slice of it) as TensorFlow.js variables with two forward passes:
 * inference, one fused op per convolution (bias and ReLU6 inside the convolution kernel), and
 * training, plain ops whose gradients the WebAssembly backend has kernels for (Kennel's conv and
 * depthwise gradients). Nodes are in topological order; `input` names the tensor the first node
 * reads and `output` the node whose result is returned.
 */
export class GraphNet {
  private readonly weights = new Map<string, { kernel: tf.Variable; bias: tf.Variable }>();

  constructor(
    readonly nodes: readonly FoldedNode[],
    readonly input: string,
    readonly output: string,
    options: { trainable?: boolean } = {},
  ) {
    // Variable names are left to TF.js (unique per process): several nets of the same graph
    // may live in one thread (a replica beside the recipe's own top blocks).
    for (const n of nodes) {
      if (n.kind !== 'conv') continue;
      // tidy: tf.variable keeps its initial value's data, and the initial tensor itself is let go.
      this.weights.set(
        n.name,
        tf.tidy(() => ({
          kernel: tf.variable(tf.tensor4d(n.kernel, [...n.kernelShape]), options.trainable ?? false),
          bias: tf.variable(tf.tensor1d(n.bias), options.trainable ?? false),
        })),
      );
    }
  }

  /** The trainable variables (kernel then bias of every convolution, in node order). */
  variables(): tf.Variable[] {
    return [...this.weights.values()].flatMap((w) => [w.kernel, w.bias]);
  }

  /** x [N, H, W, C] (the graph input) → the output node's [N, h, w, c]. */
  forward(x: tf.Tensor4D, options: { training: boolean }): tf.Tensor4D {
    const values = new Map<string, tf.Tensor4D>([[this.input, x]]);
    const get = (name: string): tf.Tensor4D => {
      const v = values.get(name);
      if (!v) throw new Error(`GraphNet: "${name}" is not computed before it is used`);
      return v;
    };
    for (const n of this.nodes) {
      values.set(n.name, n.kind === 'add' ? tf.add(get(n.inputs[0]), get(n.inputs[1])) : this.conv(n, get(n.input), options.training));
    }
    return get(this.output);
  }

  private conv(n: ConvNode, x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const w = this.weights.get(n.name) as { kernel: tf.Variable; bias: tf.Variable };
    const strides: [number, number] = [n.strides[0], n.strides[1]];
    if (!training) {
      const args = { x, filter: w.kernel as tf.Tensor4D, strides, pad: n.padding, bias: w.bias as tf.Tensor1D, activation: n.activation };
      return n.depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
    }
    const y = tf.add(n.depthwise ? tf.depthwiseConv2d(x, w.kernel as tf.Tensor4D, strides, n.padding) : tf.conv2d(x, w.kernel as tf.Tensor4D, strides, n.padding), w.bias) as tf.Tensor4D;
    return n.activation === 'relu6' ? tf.relu6(y) : n.activation === 'relu' ? tf.relu(y) : y;
  }

  /** The nodes with the variables' current values (e.g. after fine-tuning). */
  snapshot(): FoldedNode[] {
    return this.nodes.map((n) => {
      if (n.kind !== 'conv') return n;
      const w = this.weights.get(n.name) as { kernel: tf.Variable; bias: tf.Variable };
      return { ...n, kernel: w.kernel.dataSync().slice() as Float32Array, bias: w.bias.dataSync().slice() as Float32Array };
    });
  }

  dispose(): void {
    for (const w of this.weights.values()) {
      w.kernel.dispose();
      w.bias.dispose();
    }
    this.weights.clear();
  }
}

/**
 * Splits a graph's nodes at `boundary`: `bottom` computes the boundary from the input, `top`
 * everything after it from the boundary alone. Throws if a top node reads anything below the
 * boundary but the boundary itself (the split must be a single tensor).
 */
export function splitAt(nodes: readonly FoldedNode[], boundary: string): { bottom: FoldedNode[]; top: FoldedNode[] } {
  const at = nodes.findIndex((n) => n.name === boundary);
  if (at < 0) throw new Error(`splitAt: no node "${boundary}"`);
  const bottom = nodes.slice(0, at + 1);
  const top = nodes.slice(at + 1);
  const below = new Set(bottom.map((n) => n.name));
  below.delete(boundary);
  for (const n of top) {
    const reads = n.kind === 'add' ? n.inputs : [n.input];
    for (const r of reads) if (below.has(r)) throw new Error(`splitAt: "${n.name}" reads "${r}" below the boundary "${boundary}"`);
  }
  return { bottom, top };
}
