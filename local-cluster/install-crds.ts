import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiextensionsV1Api, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
// Not re-exported from the package root; the package has no `exports` map, so the path is stable within 1.x.
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { parseAllDocuments } from 'yaml';
import { statusCode } from './api-errors.js';
import { waitFor } from './net-utils.js';

/** The third-party CRDs the local cluster adds (`local-cluster/crds/`: GKE's PodMonitoring). */
export const thirdPartyCrdDir = fileURLToPath(new URL('./crds/', import.meta.url));

/** Kennel's generated CRDs (`crds/`) and the third-party CRDs the local cluster adds. */
export const defaultCrdDirs = [fileURLToPath(new URL('../crds/', import.meta.url)), thirdPartyCrdDir];

/**
 * Every CustomResourceDefinition in the `.yaml`/`.yml` files of `dirs`. A missing directory is an
 * error: skipping it would start a cluster without CRDs the caller asked for (a moved folder once
 * did that silently).
 */
export function readCrds(dirs: readonly string[]): V1CustomResourceDefinition[] {
  const crds: V1CustomResourceDefinition[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) throw new Error(`CRD directory ${dir} does not exist`);
    for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
      for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
        if (doc.errors.length > 0) throw new Error(`${join(dir, file)}: ${doc.errors[0]?.message}`);
        const obj = doc.toJS() as { kind?: string } | null;
        if (obj?.kind === 'CustomResourceDefinition') crds.push(obj as V1CustomResourceDefinition);
      }
    }
  }
  return crds;
}

/**
 * The typed client serializes by its model's attribute names (`x_kubernetes_validations`) and
 * silently drops the wire names YAML carries (`x-kubernetes-validations`,
 * `x-kubernetes-int-or-string`, `$ref`); deserializing first maps wire names to model names by
 * type, so CEL rules, list types and int-or-string survive the trip (a lossless round trip).
 */
function toClientModel(wire: V1CustomResourceDefinition): V1CustomResourceDefinition {
  return ObjectSerializer.deserialize(wire, 'V1CustomResourceDefinition', '') as V1CustomResourceDefinition;
}

/** Creates (or replaces) each CRD and waits until the API server reports it Established. */
export async function installCrds(kc: KubeConfig, crds: readonly V1CustomResourceDefinition[], timeoutMs = 30_000): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  await Promise.all(
    crds.map(async (wire) => {
      const crd = toClientModel(wire);
      const name = crd.metadata?.name;
      if (!name) throw new Error('a CRD without metadata.name');
      try {
        await api.createCustomResourceDefinition({ body: crd });
      } catch (err) {
        if (statusCode(err) !== 409) throw new Error(`installing CRD ${name}: ${String(err)}`);
        const current = await api.readCustomResourceDefinition({ name });
        await api.replaceCustomResourceDefinition({
          name,
          body: { ...crd, metadata: { ...crd.metadata, resourceVersion: current.metadata?.resourceVersion } },
        });
      }
      await waitFor(
        async () => {
          const got = await api.readCustomResourceDefinition({ name });
          return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
        },
        { timeoutMs, what: `CRD ${name} to become Established` },
      );
    }),
  );
}
