import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { waitFor } from '../../../local-cluster/net-utils.js';
import { startServiceProxy, type ServiceProxy } from '../../../local-cluster/service-proxy.js';
import { startTestbed, type Testbed } from '../../../local-cluster/testbed.js';
import { createReadyNamespace } from '../../harness/namespace.js';
import { fakeWebDeployment, fakeWebService } from './fixtures/web.js';

const fakeCli = fileURLToPath(new URL('./fixtures/fake-cli.mjs', import.meta.url));

/**
 * The demo's stand-in for kube-proxy against the real endpointslice controller: it follows a
 * Service's ready endpoints as pods come and go, and says so when there are none.
 */
describe('local cluster: service proxy', function () {
  this.timeout(120_000);
  let tb: Testbed;
  let proxy: ServiceProxy | undefined;
  const ns = 'proxy';

  before(async function () {
    this.timeout(180_000);
    tb = await startTestbed({ cliPath: fakeCli });
    await createReadyNamespace(tb.kubeConfig.makeApiClient(CoreV1Api), ns);
  });
  after(async () => {
    await proxy?.stop();
    await tb?.stop();
  });

  it('spreads requests over every ready pod of the Service, follows a scale-down, and answers 503 NoEndpoints at zero', async () => {
    const apps = tb.kubeConfig.makeApiClient(AppsV1Api);
    const core = tb.kubeConfig.makeApiClient(CoreV1Api);
    await apps.createNamespacedDeployment({ namespace: ns, body: fakeWebDeployment('web', { replicas: 2, terminationGracePeriodSeconds: 2 }) });
    await core.createNamespacedService({ namespace: ns, body: fakeWebService('web') });
    proxy = await startServiceProxy({ kubeConfig: tb.kubeConfig, namespace: ns, service: 'web', port: 80 });
    const p = proxy;
    expect(p.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);

    await waitFor(() => (p.endpoints().length === 2 ? true : undefined), { timeoutMs: 60_000, what: 'two ready endpoints behind the proxy' });
    const hostnames = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${p.url}/hostname`);
      expect(res.status).to.equal(200);
      hostnames.add(await res.text());
    }
    expect([...hostnames].sort()).to.deep.equal((await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items.map((x) => x.metadata?.name).sort());

    await apps.patchNamespacedDeploymentScale({ name: 'web', namespace: ns, body: [{ op: 'replace', path: '/spec/replicas', value: 1 }] });
    await waitFor(() => (p.endpoints().length === 1 ? true : undefined), { timeoutMs: 60_000, what: 'one endpoint after the scale-down' });
    const [left] = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items.filter((x) => !x.metadata?.deletionTimestamp);
    for (let i = 0; i < 3; i++) expect(await (await fetch(`${p.url}/hostname`)).text()).to.equal(left?.metadata?.name);

    await apps.patchNamespacedDeploymentScale({ name: 'web', namespace: ns, body: [{ op: 'replace', path: '/spec/replicas', value: 0 }] });
    await waitFor(() => (p.endpoints().length === 0 ? true : undefined), { timeoutMs: 60_000, what: 'no endpoint after scaling to zero' });
    const res = await fetch(`${p.url}/hostname`);
    expect(res.status).to.equal(503);
    expect(((await res.json()) as { reason: string }).reason).to.equal('NoEndpoints');
  });
});
