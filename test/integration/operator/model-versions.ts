import type { KubeObject } from '../../../src/operator/kube/client.js';

/**
 * A ModelVersion `<model>-v<version>` that needs no training: it points at an existing artifact
 * (e.g. createTinyArtifact's, 32×32 input, classes cat and dog) and carries metrics that pass the
 * default gate.
 */
export function servingModelVersion(namespace: string, model: string, version: number, artifact: { uri: string; sha256: string }, accuracy = 0.9): KubeObject {
  const perClass = { precision: accuracy, recall: accuracy, f1: accuracy, support: 50 };
  return {
    apiVersion: 'kennel.dev/v1alpha1',
    kind: 'ModelVersion',
    metadata: { name: `${model}-v${version}`, namespace },
    spec: {
      model,
      version,
      artifact: { uri: artifact.uri, format: 'tfjs-layers', sha256: artifact.sha256 },
      classes: ['cat', 'dog'],
      inputShape: [32, 32, 3],
      metrics: {
        accuracy,
        precision: accuracy,
        recall: accuracy,
        f1: accuracy,
        testImages: 100,
        perClass: { cat: perClass, dog: perClass },
        confusionMatrix: [
          [45, 5],
          [5, 45],
        ],
        confidenceHistogram: [0, 0, 0, 0, 0, 10, 10, 20, 30, 30],
        meanConfidence: 0.8,
      },
      lineage: { dataset: { uri: 'file:///data/pets', digest: 'sha256:x' }, codeVersion: 'test' },
    },
  };
}
