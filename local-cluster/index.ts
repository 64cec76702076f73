/**
 * The Kennel local cluster (the "test bed"): a real Kubernetes control plane, a GCS emulator and a
 * local node on this machine, plus what a command needs to use it as a person would: kubectl, the
 * operator as a process, a stand-in for kube-proxy, a dataset upload, the examples adapted to it.
 * Product code behind `npm run demo` and `npm run cluster:up`; the tests import it from here.
 * Build its binaries with `npm run testbed:build` first. See README.md.
 */
export { startTestbed, type Testbed, type StartTestbedOptions } from './testbed.js';
export { compactEtcd } from './etcd.js';
export { startFakeGcs, type FakeGcs, type StartFakeGcsOptions } from './fake-gcs.js';
export { testbedBin, type TestbedBinary } from './testbed-bin.js';
export { serviceUrl } from './service-url.js';
export { startServiceProxy, type ServiceProxy, type ServiceProxyOptions } from './service-proxy.js';
export { startOperatorProcess, type OperatorProcess } from './operator-process.js';
export { Kubectl, type Obj, type KubeEvent } from './kubectl.js';
export { inferenceServiceFromExample, merge, readExample, trainingRunFromExample } from './manifests.js';
export { choosePhotos, uploadPhotos, type PhotoSplit } from './dataset-upload.js';
export { freePort, waitFor, type WaitOptions } from './net-utils.js';
export type { NodeAgent } from './node-agent/node-agent.js';
export type { PodNetwork } from './node-agent/pod-network.js';
