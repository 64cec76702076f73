/**
 * The Kennel test bed: a real Kubernetes control plane, a GCS emulator and a local node on this
 * machine. Build its binaries with `npm run testbed:build` first.
 */
export { startTestbed, type Testbed, type StartTestbedOptions } from './testbed.js';
export { startFakeGcs, type FakeGcs, type StartFakeGcsOptions } from './fake-gcs.js';
export { testbedBin, type TestbedBinary } from './testbed-bin.js';
export { serviceUrl } from './service-url.js';
export { createReadyNamespace } from './namespace.js';
export type { NodeAgent } from './node-agent/node-agent.js';
export type { PodNetwork } from './node-agent/pod-network.js';
