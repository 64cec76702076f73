import type { V1Container, V1PodSecurityContext, V1Volume, V1VolumeMount } from '@kubernetes/client-node';

/**
 * The restricted pod security every Kennel pod runs with: non-root, read-only root file system
 * (an emptyDir at /tmp for scratch), no privilege escalation, no capabilities, seccomp
 * RuntimeDefault — the Pod Security Standards "restricted" profile.
 */
export const RUN_AS_USER = 1000;

export function podSecurityContext(): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: RUN_AS_USER,
    runAsGroup: RUN_AS_USER,
    fsGroup: RUN_AS_USER,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function containerSecurityContext(): NonNullable<V1Container['securityContext']> {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
  };
}

export function tmpVolume(sizeLimit: string): V1Volume {
  return { name: 'tmp', emptyDir: { sizeLimit } };
}

export const TMP_MOUNT: V1VolumeMount = { name: 'tmp', mountPath: '/tmp' };
