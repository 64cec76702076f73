import { StorageError } from './storage.js';

export const GcsAuthModes = ['emulator', 'keyfile', 'adc'] as const;
export type GcsAuthMode = (typeof GcsAuthModes)[number];

/** How the GCS client authenticates, decided once from the environment. */
export type GcsConfig =
  | { readonly mode: 'emulator'; readonly endpoint: string; readonly projectId: string }
  | { readonly mode: 'keyfile'; readonly keyFilename: string; readonly endpoint?: string }
  | { readonly mode: 'adc'; readonly endpoint?: string };

/**
 * Chooses the GCS credentials mode from the environment (contract: KENNEL_GCS_AUTH,
 * KENNEL_GCS_ENDPOINT, GOOGLE_APPLICATION_CREDENTIALS). With no explicit KENNEL_GCS_AUTH:
 * an endpoint means the emulator, a key file means keyfile, otherwise application default
 * credentials. There is no anonymous mode: ADC without credentials fails on first use with
 * an AccessDenied error instead of silently reading public buckets.
 */
export function gcsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): GcsConfig {
  const explicit = env.KENNEL_GCS_AUTH?.trim();
  const endpoint = env.KENNEL_GCS_ENDPOINT?.trim() || undefined;
  const keyFilename = env.GOOGLE_APPLICATION_CREDENTIALS?.trim() || undefined;
  const mode = explicit || (endpoint ? 'emulator' : keyFilename ? 'keyfile' : 'adc');
  switch (mode) {
    case 'emulator':
      if (!endpoint) throw misconfigured('KENNEL_GCS_AUTH=emulator needs KENNEL_GCS_ENDPOINT (e.g. http://127.0.0.1:4443)');
      if (!/^https?:\/\//.test(endpoint)) throw misconfigured(`KENNEL_GCS_ENDPOINT must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
      return { mode, endpoint: endpoint.replace(/\/+$/, ''), projectId: env.GOOGLE_CLOUD_PROJECT?.trim() || 'kennel-emulator' };
    case 'keyfile':
      if (!keyFilename) throw misconfigured('KENNEL_GCS_AUTH=keyfile needs GOOGLE_APPLICATION_CREDENTIALS (path to a service account key file)');
      return endpoint ? { mode, keyFilename, endpoint } : { mode, keyFilename };
    case 'adc':
      return endpoint ? { mode, endpoint } : { mode };
    default:
      throw misconfigured(`KENNEL_GCS_AUTH must be one of ${GcsAuthModes.join(', ')}, got ${JSON.stringify(explicit)}`);
  }
}

function misconfigured(message: string): StorageError {
  return new StorageError('Misconfigured', 'gs://', message);
}
