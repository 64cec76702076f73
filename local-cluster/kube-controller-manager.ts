import { join } from 'node:path';
import { startProcess, type ManagedProcess } from './managed-process.js';
import { freePort } from './net-utils.js';
import type { Pki } from './pki.js';
import { testbedBin } from './testbed-bin.js';

/**
 * The controllers Kennel relies on (Jobs, Deployments and their ReplicaSets, owner-reference
 * garbage collection, service-account tokens and the `default` ServiceAccount, namespace deletion,
 * Endpoints/EndpointSlices for Services, the kube-root-ca.crt ConfigMap, finished-Job TTL, pod GC),
 * plus HPA, PodDisruptionBudget, ResourceQuota, CronJob, StatefulSet and ClusterRole aggregation. Node lifecycle is left out on purpose: the node
 * agent is the only node and must not be tainted or have its pods evicted.
 */
export const testbedControllers = [
  'job-controller',
  'deployment-controller',
  'replicaset-controller',
  'garbage-collector-controller',
  'serviceaccount-token-controller',
  'serviceaccount-controller',
  'namespace-controller',
  'endpoints-controller',
  'endpointslice-controller',
  'endpointslice-mirroring-controller',
  'root-ca-certificate-publisher-controller',
  'ttl-after-finished-controller',
  'pod-garbage-collector-controller',
  'horizontal-pod-autoscaler-controller',
  'disruption-controller',
  'resourcequota-controller',
  'cronjob-controller',
  'statefulset-controller',
  'clusterrole-aggregation-controller',
] as const;

export async function startKubeControllerManager(opts: {
  dir: string;
  pki: Pki;
  kubeconfigPath: string;
}): Promise<ManagedProcess> {
  const bin = testbedBin('kube-controller-manager');
  const port = await freePort();
  return startProcess({
    name: 'kube-controller-manager',
    command: bin,
    logPath: join(opts.dir, 'kube-controller-manager.log'),
    args: [
      `--kubeconfig=${opts.kubeconfigPath}`,
      `--authentication-kubeconfig=${opts.kubeconfigPath}`,
      `--authorization-kubeconfig=${opts.kubeconfigPath}`,
      `--controllers=${testbedControllers.join(',')}`,
      `--service-account-private-key-file=${opts.pki.saKey}`,
      `--root-ca-file=${opts.pki.caCert}`,
      '--use-service-account-credentials=false',
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${join(opts.dir, 'kcm-certs')}`,
      // React quickly: tests wait on Jobs, Deployments and garbage collection.
      '--concurrent-gc-syncs=10',
      '--v=1',
    ],
  });
}
