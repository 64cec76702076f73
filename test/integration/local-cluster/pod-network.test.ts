import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { createPodNetwork, type PodNetwork } from '../../../local-cluster/node-agent/pod-network.js';

const run = promisify(execFile);

/**
 * The pod network against the real kernel (needs root and iproute2; skipped, saying why, in
 * loopback mode).
 */
describe('test bed pod network', function () {
  this.timeout(30_000);
  let net: PodNetwork;
  const leftovers: string[] = [];

  before(async function () {
    net = await createPodNetwork();
    if (net.mode !== 'netns') {
      console.log(`      skipped: ${net.fallbackReason ?? 'no network namespaces'}`);
      this.skip();
    }
  });
  after(async () => {
    for (const link of leftovers) if (existsSync(`/sys/class/net/${link}`)) await run('ip', ['link', 'del', link]).catch(() => undefined);
    await net?.destroy();
  });

  it('creates a sandbox over a host veth of the same name left by an earlier test bed on this subnet', async () => {
    // A test bed that stopped while a pod's process outlived it leaves that process's network
    // namespace alive, and with it the host end `knv<N>x<M>` of its veth; the next test bed on
    // subnet N failed every pod given address M with "RTNETLINK answers: File exists".
    const subnet = net.podCidr.split('.')[2];
    const stale = `knv${subnet}x2`; // the first address of a fresh network: 10.244.N.2
    leftovers.push(stale, `${stale}p`);
    await run('ip', ['link', 'add', stale, 'type', 'veth', 'peer', 'name', `${stale}p`]);
    const sandbox = await net.createSandbox('ns/first');
    try {
      expect(sandbox.ip).to.equal(`10.244.${subnet}.2`);
      const { stdout } = await run('ip', ['-d', '-o', 'link', 'show', stale]);
      expect(stdout, 'the host end is a veth on the bridge now').to.match(/veth/).and.to.match(new RegExp(`master knbr${subnet}\\b`));
    } finally {
      await net.removeSandbox('ns/first');
    }
  });
});
