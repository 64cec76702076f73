import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { startProcess, type ManagedProcess } from './managed-process.js';
import { freePort, waitFor } from './net-utils.js';
import type { Pki } from './pki.js';
import { testbedBin } from './testbed-bin.js';

export interface KubeApiserver {
  /** `https://HOST:PORT` */
  readonly server: string;
  readonly process: ManagedProcess;
}

export interface StartKubeApiserverOptions {
  dir: string;
  pki: Pki;
  etcdEndpoint: string;
  /** Address to bind and advertise (127.0.0.1, or the pod bridge's address so pods reach it too). */
  host: string;
  serviceClusterIpRange?: string;
  /** Port to listen on (a restart keeps its address); a free one by default. */
  port?: number;
  timeoutMs?: number;
}

/** GET over TLS with the admin client certificate; resolves with the status code and body. */
export function adminGet(url: string, pki: Pki): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        ca: readFileSync(pki.caCert),
        cert: readFileSync(pki.adminCert),
        key: readFileSync(pki.adminKey),
        timeout: 5_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * kube-apiserver with RBAC authorization, client-certificate authentication, service-account
 * tokens (TokenRequest) and the default admission chain, as a real cluster has them.
 */
export async function startKubeApiserver(opts: StartKubeApiserverOptions): Promise<KubeApiserver> {
  const bin = testbedBin('kube-apiserver');
  const port = opts.port ?? (await freePort(opts.host));
  const server = `https://${opts.host}:${port}`;
  const { pki } = opts;
  const proc = startProcess({
    name: 'kube-apiserver',
    command: bin,
    logPath: join(opts.dir, 'kube-apiserver.log'),
    args: [
      `--etcd-servers=${opts.etcdEndpoint}`,
      `--bind-address=${opts.host}`,
      `--advertise-address=${opts.host}`,
      `--secure-port=${port}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-cluster-ip-range=${opts.serviceClusterIpRange ?? '10.96.0.0/16'}`,
      // The node agent's kubelet endpoint (logs) presents a certificate from the same CA.
      `--kubelet-client-certificate=${pki.adminCert}`,
      `--kubelet-client-key=${pki.adminKey}`,
      `--kubelet-certificate-authority=${pki.caCert}`,
      '--kubelet-preferred-address-types=InternalIP',
      '--authorization-mode=RBAC',
      '--allow-privileged=true',
      '--profiling=false',
      `--cert-dir=${join(opts.dir, 'apiserver-certs')}`,
      '--v=1',
    ],
  });
  try {
    await waitFor(
      async () => {
        const res = await adminGet(`${server}/readyz`, pki);
        return res.status === 200 ? true : undefined;
      },
      {
        timeoutMs: opts.timeoutMs ?? 60_000,
        intervalMs: 200,
        what: `kube-apiserver on ${server} (log: ${proc.logPath})`,
        abort: () => (proc.hasExited() ? new Error(`kube-apiserver exited during start-up (log: ${proc.logPath})`) : undefined),
      },
    );
  } catch (err) {
    // Never leave a half-started process behind.
    await proc.stop(2_000);
    throw err;
  }
  return { server, process: proc };
}
