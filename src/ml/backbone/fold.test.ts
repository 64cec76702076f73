import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../backend/select.js';
import { seededRandom } from '../../shared/random.js';
import { applyFoldedGraph } from './build.js';
import { FoldError, foldKerasGraph, type KerasTopology } from './fold.js';
import { loadNsfwjsLayersModel } from './nsfwjs.js';

type Ref = [string, number, number, Record<string, never>];
const ref = (name: string): Ref => [name, 0, 0, {}];
const layer = (class_name: string, name: string, config: Record<string, unknown>, inputs: string[]): Record<string, unknown> => ({
  class_name,
  name,
  config: { name, trainable: true, ...config },
  inbound_nodes: inputs.length ? [inputs.map(ref)] : [],
});

/** A MobileNetV2-shaped toy: conv+BN+ReLU6, pad + stride-2 depthwise + BN + ReLU6, 1×1 project + BN, a second block and a residual Add. */
function toyTopology(): KerasTopology {
  const bn = (name: string, input: string) => layer('BatchNormalization', name, { axis: -1, momentum: 0.99, epsilon: 1e-3, center: true, scale: true }, [input]);
  const layers = [
    layer('InputLayer', 'input_1', { batch_input_shape: [null, 16, 16, 3], dtype: 'float32', sparse: false }, []),
    layer('Conv2D', 'conv1', { filters: 8, kernel_size: [3, 3], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], activation: 'linear', use_bias: false }, ['input_1']),
    bn('conv1_bn', 'conv1'),
    layer('ReLU', 'conv1_relu', { max_value: 6, negative_slope: 0, threshold: 0 }, ['conv1_bn']),
    layer('ZeroPadding2D', 'pad', { padding: [[0, 1], [0, 1]], data_format: 'channels_last' }, ['conv1_relu']),
    layer('DepthwiseConv2D', 'dw', { kernel_size: [3, 3], strides: [2, 2], padding: 'valid', data_format: 'channels_last', dilation_rate: [1, 1], depth_multiplier: 1, activation: 'linear', use_bias: false }, ['pad']),
    bn('dw_bn', 'dw'),
    layer('ReLU', 'dw_relu', { max_value: 6, negative_slope: 0, threshold: 0 }, ['dw_bn']),
    layer('Conv2D', 'project', { filters: 8, kernel_size: [1, 1], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], activation: 'linear', use_bias: false }, ['dw_relu']),
    bn('project_bn', 'project'),
    layer('Conv2D', 'expand2', { filters: 16, kernel_size: [1, 1], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], activation: 'linear', use_bias: false }, ['project_bn']),
    bn('expand2_bn', 'expand2'),
    layer('ReLU', 'expand2_relu', { max_value: 6, negative_slope: 0, threshold: 0 }, ['expand2_bn']),
    layer('Conv2D', 'project2', { filters: 8, kernel_size: [1, 1], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], activation: 'linear', use_bias: false }, ['expand2_relu']),
    bn('project2_bn', 'project2'),
    layer('Add', 'add', {}, ['project_bn', 'project2_bn']),
  ];
  return { model_config: { class_name: 'Model', config: { name: 'toy', layers, input_layers: [['input_1', 0, 0]], output_layers: [['add', 0, 0]] } } } as unknown as KerasTopology;
}

/** Weights of the toy's shapes, all 0.1 (variances 1). */
function constantLookup(name: string): { data: Float32Array; shape: readonly number[] } {
  const shapes: Record<string, number[]> = { conv1: [3, 3, 3, 8], dw: [3, 3, 8, 1], project: [1, 1, 8, 8], expand2: [1, 1, 8, 16], project2: [1, 1, 16, 8] };
  const base = (name.split('/')[0] as string).replace(/_bn$/, '');
  const shape = name.endsWith('kernel') ? (shapes[base] as number[]) : [base === 'expand2' ? 16 : 8];
  return { data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(name.includes('variance') ? 1 : 0.1), shape };
}

describe('foldKerasGraph', function () {
  this.timeout(120000);
  before(async () => {
    await selectBackend({ preference: 'wasm' });
  });

  it('folds batch norm, ReLU6 and explicit padding into convolutions with the same outputs as the Keras model', async () => {
    const topology = toyTopology();
    const original = await tf.models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] });
    const r = seededRandom(3);
    // Random weights everywhere, including non-trivial batch-norm statistics (variance > 0).
    const named: Record<string, tf.Tensor> = {};
    for (const w of original.weights) {
      const values = Float32Array.from({ length: w.shape.reduce((a, b) => (a as number) * (b as number), 1) as number }, () => (w.name.includes('variance') ? 0.5 + r() : r() * 2 - 1));
      const t = tf.tensor(values, w.shape as number[]);
      named[w.originalName] = t;
    }
    original.setWeights(original.weights.map((w) => named[w.originalName] as tf.Tensor));
    const lookup = (name: string): { data: Float32Array; shape: readonly number[] } | undefined => {
      const t = named[name];
      return t ? { data: t.dataSync() as Float32Array, shape: t.shape } : undefined;
    };
    const graph = foldKerasGraph(topology, lookup, 'add');
    expect(graph.nodes.map((n) => `${n.kind}:${n.name}`)).to.deep.equal(['conv:conv1', 'conv:dw', 'conv:project', 'conv:expand2', 'conv:project2', 'add:add']);
    const dw = graph.nodes[1];
    expect(dw?.kind === 'conv' && dw.depthwise && dw.padding === 'same' && dw.activation === 'relu6').to.equal(true);
    expect(graph.aliases.get('dw_relu')).to.equal('dw');

    const input = tf.input({ shape: [16, 16, 3] });
    const folded = tf.model({ inputs: input, outputs: applyFoldedGraph(graph, input) });
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 5);
    const expected = (original.predict(x) as tf.Tensor).dataSync();
    const actual = (folded.predict(x) as tf.Tensor).dataSync();
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)));
    expect(worst).to.be.below(1e-4);
    tf.dispose([x, ...Object.values(named)]);
    original.dispose();
    folded.dispose();
  });

  it('rebuilds at another input size with the padding Keras would compute for it (SAME)', () => {
    const topology = toyTopology();
    const graph = foldKerasGraph(topology, constantLookup, 'add');
    const input = tf.input({ shape: [21, 21, 3] });
    const out = applyFoldedGraph(graph, input);
    expect(out.shape).to.deep.equal([null, 11, 11, 8]);
  });

  it('refuses what it cannot fold, naming the layer', () => {
    const topology = toyTopology();
    const layers = (topology.model_config.config.layers as unknown as Array<Record<string, unknown>>).slice();
    layers.push(layer('MaxPooling2D', 'pool', { pool_size: [2, 2] }, ['add']));
    const bad = { model_config: { config: { layers } } } as unknown as KerasTopology;
    expect(() => foldKerasGraph(bad, constantLookup, 'pool')).to.throw(FoldError, /pool.*MaxPooling2D/);
    expect(() => foldKerasGraph(topology, () => undefined, 'nope')).to.throw(FoldError, /"nope" is not in the model/);
    expect(() => foldKerasGraph(topology, () => undefined, 'conv1')).to.throw(FoldError, /conv1\/kernel/);
  });

  it('folds the MobileNetV2 that the nsfwjs package ships to the same block outputs as the Keras original', async () => {
    const { topology, weights, provenance } = loadNsfwjsLayersModel('mobilenet_v2', 1);
    expect(provenance).to.include({ package: 'nsfwjs', license: 'MIT', model: 'mobilenet_v2' });
    const original = await tf.models.modelFromJSON({ modelTopology: topology as tf.io.ModelJSON['modelTopology'] });
    original.setWeights(original.weights.map((w) => weights[w.originalName] as tf.Tensor));
    const lookup = (name: string): { data: Float32Array; shape: readonly number[] } | undefined => {
      const t = weights[name];
      return t ? { data: t.dataSync() as Float32Array, shape: t.shape } : undefined;
    };
    const graph = foldKerasGraph(topology as KerasTopology, lookup, 'block_6_project_BN');
    const input = tf.input({ shape: [224, 224, 3] });
    const folded = tf.model({ inputs: input, outputs: applyFoldedGraph(graph, input) });
    const cut = tf.model({ inputs: original.inputs, outputs: original.getLayer('block_6_project_BN').output as tf.SymbolicTensor });
    const x = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 9);
    const expected = (cut.predict(x) as tf.Tensor).dataSync();
    const actual = (folded.predict(x) as tf.Tensor).dataSync();
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < expected.length; i++) {
      worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)));
      scale = Math.max(scale, Math.abs(expected[i] as number));
    }
    expect(worst / scale).to.be.below(1e-3);
    tf.dispose([x, ...Object.values(weights)]);
    original.dispose();
    folded.dispose();
  });
});
