import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the test bed's binaries live and which Go packages they are built from.
 *
 * Each group is a small Go wrapper module beside this file (`<group>/go.mod` + `go.sum`) that pins
 * its upstream module with a `tool` directive; the groups are separate modules so that one tool's
 * dependency versions never bend another's. The cache key is derived from those pins, so changing
 * any version builds into a fresh directory and never mixes binaries of two versions.
 */
export const testbedGroups = [
  {
    group: 'fake-gcs-server',
    binaries: [{ name: 'fake-gcs-server', pkg: 'github.com/fsouza/fake-gcs-server' }],
  },
  {
    group: 'etcd',
    binaries: [{ name: 'etcd', pkg: 'go.etcd.io/etcd/server/v3' }],
  },
  {
    group: 'kubernetes',
    // Stamp the release into the binaries: without it they report v0.0.0-master (`kubectl
    // version`, the API server's /version, Helm's .Capabilities.KubeVersion).
    versionLdflags: (v: string) => {
      const [major, minor] = v.replace(/^v/, '').split('.');
      return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
        `-X ${pkg}.gitVersion=${v}`,
        `-X ${pkg}.gitMajor=${major}`,
        `-X ${pkg}.gitMinor=${minor}`,
        `-X ${pkg}.gitTreeState=clean`,
      ]);
    },
    binaries: [
      { name: 'kube-apiserver', pkg: 'k8s.io/kubernetes/cmd/kube-apiserver' },
      { name: 'kube-controller-manager', pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager' },
      { name: 'kubectl', pkg: 'k8s.io/kubernetes/cmd/kubectl' },
    ],
  },
  {
    group: 'helm',
    binaries: [{ name: 'helm', pkg: 'helm.sh/helm/v3/cmd/helm' }],
  },
] as const;

export type TestbedBinary = (typeof testbedGroups)[number]['binaries'][number]['name'];

/** Extra `-ldflags` of a group (its version stamping), given the group's pinned main module version. */
export function groupLdflags(group: string): string[] {
  if (group !== 'kubernetes') return [];
  const entry = testbedGroups.find((g) => g.group === group);
  return entry && 'versionLdflags' in entry ? entry.versionLdflags(pinnedVersion('kubernetes', 'k8s.io/kubernetes')) : [];
}

/** Bump when the way binaries are built changes (flags, stamping), so they land in a new directory. */
const buildRecipe = 'v2: -trimpath -s -w, kubernetes version stamped';

/** The directory holding the wrapper modules (this file's directory). */
export const wrapperRoot = fileURLToPath(new URL('.', import.meta.url));

/** `KENNEL_TESTBED_CACHE`, or `~/.cache/kennel/testbed`. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.KENNEL_TESTBED_CACHE ?? join(homedir(), '.cache', 'kennel', 'testbed');
}

/** The pinned version of `mod` in a wrapper module's go.mod, e.g. `v1.36.3` for k8s.io/kubernetes. */
export function pinnedVersion(group: string, mod: string): string {
  const goMod = readFileSync(join(wrapperRoot, group, 'go.mod'), 'utf8');
  const escaped = mod.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = new RegExp(`^\\s*${escaped}\\s+(v\\S+)`, 'm').exec(goMod);
  if (!match?.[1]) throw new Error(`${mod} is not pinned in ${group}/go.mod`);
  return match[1];
}

/**
 * The cache key: the Kubernetes version plus a digest of every wrapper module's go.mod and go.sum,
 * e.g. `k8s-v1.36.3-3f9a0c1d2e4b`.
 */
export function testbedVersion(): string {
  const hash = createHash('sha256');
  hash.update(`${buildRecipe}\n`);
  for (const { group } of testbedGroups) {
    for (const file of ['go.mod', 'go.sum']) {
      hash.update(`${group}/${file}\n`);
      hash.update(readFileSync(join(wrapperRoot, group, file)));
    }
  }
  return `k8s-${pinnedVersion('kubernetes', 'k8s.io/kubernetes')}-${hash.digest('hex').slice(0, 12)}`;
}

/** `~/.cache/kennel/testbed/<version>/bin`. */
export function testbedBinDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), testbedVersion(), 'bin');
}
