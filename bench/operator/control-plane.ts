import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { startEtcd } from '../../local-cluster/etcd.js';
import { defaultCrdDirs, installCrds, readCrds } from '../../local-cluster/install-crds.js';
import { startKubeApiserver } from '../../local-cluster/kube-apiserver.js';
import { renderKubeconfig } from '../../local-cluster/kubeconfig.js';
import { createPki } from '../../local-cluster/pki.js';
import { startTestbed } from '../../local-cluster/index.js';

/** What the bench needs of a control plane. */
export interface BenchControlPlane {
  dir: string;
  kubeConfig: KubeConfig;
  kubeconfigPath: string;
  /** Whether the Job controller runs (then every Job gets a Pod, which the operator caches too). */
  withControllers: boolean;
  stop(): Promise<void>;
}

/**
 * `full` (default): the whole test bed — kube-controller-manager creates each Job's Pod — with
 * the node agent stopped, so the Pods stay Pending. `minimal`: etcd + kube-apiserver + CRDs
 * only (envtest's shape), for a quick run of the operator's own part.
 */
export async function startBenchControlPlane(mode: 'full' | 'minimal'): Promise<BenchControlPlane> {
  if (mode === 'full') {
    const bed = await startTestbed({});
    await bed.nodeAgent.stop();
    return { dir: bed.dir, kubeConfig: bed.kubeConfig, kubeconfigPath: bed.kubeconfigPath, withControllers: true, stop: () => bed.stop() };
  }
  const dir = mkdtempSync(join(tmpdir(), 'kennel-bench-'));
  mkdirSync(join(dir, 'pki'));
  const pki = await createPki({ dir: join(dir, 'pki'), ips: ['127.0.0.1'], dnsNames: ['localhost'] });
  const etcd = await startEtcd({ dir });
  const api = await startKubeApiserver({ dir, pki, etcdEndpoint: etcd.endpoint, host: '127.0.0.1' }).catch(async (err: unknown) => {
    await etcd.process.stop(5_000);
    throw err;
  });
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, renderKubeconfig({ server: api.server, caCert: pki.caCert, credentials: { clientCert: pki.adminCert, clientKey: pki.adminKey } }), { mode: 0o600 });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  await installCrds(kubeConfig, readCrds(defaultCrdDirs));
  return {
    dir,
    kubeConfig,
    kubeconfigPath,
    withControllers: false,
    async stop() {
      await api.process.stop(5_000);
      await etcd.process.stop(5_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
