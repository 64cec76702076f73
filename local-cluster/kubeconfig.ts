import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';

export type KubeconfigCredentials = { clientCert: string; clientKey: string } | { token: string };

export interface KubeconfigOptions {
  server: string;
  /** Path of the CA certificate that signed the server's certificate. */
  caCert: string;
  credentials: KubeconfigCredentials;
  /** Default namespace of the context. */
  namespace?: string;
  user?: string;
}

const b64 = (path: string): string => readFileSync(path).toString('base64');

/** A self-contained kubeconfig (certificates and keys embedded) as YAML text. */
export function renderKubeconfig(opts: KubeconfigOptions): string {
  const user = opts.user ?? 'admin';
  const creds = opts.credentials;
  const userEntry =
    'token' in creds
      ? { token: creds.token }
      : { 'client-certificate-data': b64(creds.clientCert), 'client-key-data': b64(creds.clientKey) };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kennel-testbed', cluster: { server: opts.server, 'certificate-authority-data': b64(opts.caCert) } }],
    users: [{ name: user, user: userEntry }],
    contexts: [
      {
        name: 'kennel-testbed',
        context: { cluster: 'kennel-testbed', user, ...(opts.namespace ? { namespace: opts.namespace } : {}) },
      },
    ],
    'current-context': 'kennel-testbed',
  });
}
