import type { V1EnvVar } from '@kubernetes/client-node';

/**
 * Environment the operator forwards to the pods it starts (training and serving), so they reach
 * storage the same way it was configured (contracts: KENNEL_GCS_ENDPOINT for an emulator,
 * KENNEL_GCS_AUTH to choose the credentials mode explicitly). On GKE, Workload Identity on
 * the pods' service account makes application default credentials work with nothing forwarded.
 */
export const FORWARDED_ENV = ['KENNEL_GCS_ENDPOINT', 'KENNEL_GCS_AUTH', 'GOOGLE_APPLICATION_CREDENTIALS', 'GOOGLE_CLOUD_PROJECT'] as const;

/** The forwarded variables present in `env`, in a fixed order (stable pod templates). */
export function forwardedEnv(env: Readonly<Record<string, string | undefined>>): V1EnvVar[] {
  const out: V1EnvVar[] = [];
  for (const name of FORWARDED_ENV) {
    const value = env[name];
    if (value !== undefined && value !== '') out.push({ name, value });
  }
  return out;
}
