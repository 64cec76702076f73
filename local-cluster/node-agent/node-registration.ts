import { cpus, hostname, release, totalmem } from 'node:os';
import type { CoreV1Api, V1Node } from '@kubernetes/client-node';
import { pinnedVersion } from '../../scripts/testbed/layout.js';
import type { PodNetwork } from './pod-network.js';

/**
 * Registers the Ready Node `nodeName` with this machine's CPU and memory, its pod CIDR (netns
 * network), its address on the pod network and the kubelet endpoint's port (for `kubectl logs`).
 */
export async function registerNode(core: CoreV1Api, nodeName: string, network: PodNetwork, kubeletPort: number): Promise<void> {
  const capacity = {
    cpu: String(cpus().length),
    memory: `${Math.floor(totalmem() / 1024)}Ki`,
    pods: '110',
    'ephemeral-storage': '100Gi',
  };
  const now = new Date();
  const node: V1Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName,
      labels: {
        'kubernetes.io/hostname': nodeName,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
        'node.kubernetes.io/instance-type': 'kennel-testbed',
      },
    },
    spec: network.mode === 'netns' ? { podCIDR: network.podCidr, podCIDRs: [network.podCidr] } : {},
    status: {
      capacity,
      allocatable: capacity,
      addresses: [
        { type: 'InternalIP', address: network.hostIp },
        { type: 'Hostname', address: nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } },
      conditions: [
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kennel test bed node agent is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', lastHeartbeatTime: now, lastTransitionTime: now },
      ],
      nodeInfo: {
        machineID: 'kennel-testbed',
        systemUUID: 'kennel-testbed',
        bootID: String(process.pid),
        kernelVersion: release(),
        osImage: `kennel test bed on ${hostname()}`,
        containerRuntimeVersion: `kennel-node-agent://${process.version}`,
        kubeletVersion: pinnedVersion('kubernetes', 'k8s.io/kubernetes'),
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      },
    },
  };
  const created = await core.createNode({ body: node });
  // Status is not guaranteed to survive create: write it through the status subresource too.
  await core.replaceNodeStatus({ name: nodeName, body: { ...created, status: node.status } });
}
