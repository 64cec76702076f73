import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { pinnedVersion } from '../../scripts/testbed/layout.js';
import { testbedBin } from '../../local-cluster/testbed-bin.js';
import { repoRoot } from './paths.js';

export const chartDir = join(repoRoot, 'charts', 'kennel');

/**
 * The Kubernetes version offline commands (lint, template) assume: the test bed's. helm built
 * from its Go module without release ldflags would otherwise assume v1.20.
 */
export function kubeVersion(): string {
  return pinnedVersion('kubernetes', 'k8s.io/kubernetes');
}

/** A rendered Kubernetes object, as far as these tests look into it. */
export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
};

export type HelmResult = { code: number; stdout: string; stderr: string };

/**
 * The helm binary of the test bed (`npm run testbed:build` builds it from its Go module);
 * KENNEL_HELM overrides. A missing binary throws, naming the command to run: a failure, not a skip.
 */
export function findHelm(): string {
  const override = process.env.KENNEL_HELM;
  if (override) {
    if (!existsSync(override)) throw new Error(`KENNEL_HELM=${override} does not exist`);
    return override;
  }
  return testbedBin('helm');
}

/** Runs helm; never throws on a non-zero exit (the caller asserts on it). */
export async function runHelm(args: readonly string[], env: Record<string, string> = {}): Promise<HelmResult> {
  const helm = findHelm();
  // A private HELM_* home so that the user's repositories and plugins play no part.
  const home = await mkdtemp(join(tmpdir(), 'kennel-helm-home-'));
  try {
    return await new Promise((resolve) => {
      execFile(
        helm,
        [...args],
        {
          cwd: repoRoot,
          maxBuffer: 32 * 1024 * 1024,
          env: {
            PATH: process.env.PATH ?? '',
            HOME: home,
            HELM_CACHE_HOME: join(home, 'cache'),
            HELM_CONFIG_HOME: join(home, 'config'),
            HELM_DATA_HOME: join(home, 'data'),
            ...env,
          },
        },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** Writes values to a temporary file (JSON is YAML) and passes it with -f. */
export async function withValuesFile<T>(values: object, use: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'kennel-values-'));
  const path = join(dir, 'values.json');
  try {
    await writeFile(path, JSON.stringify(values));
    return await use(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The minimum every install needs. */
export const requiredValues = { storage: { artifactRoot: 'gs://kennel-test-bucket/kennel' } } as const;

export type RenderOptions = { release?: string; namespace?: string; extraArgs?: string[] };

/** `helm template` with the given values; returns the result without judging it. */
export async function helmTemplateRaw(values: object, options: RenderOptions = {}): Promise<HelmResult> {
  return withValuesFile(values, (file) =>
    runHelm([
      'template',
      options.release ?? 'kennel',
      chartDir,
      '--namespace',
      options.namespace ?? 'kennel-system',
      '--kube-version',
      kubeVersion(),
      '-f',
      file,
      ...(options.extraArgs ?? []),
    ]),
  );
}

/** `helm template`, parsed into objects; throws with helm's message when rendering fails. */
export async function helmTemplate(values: object, options: RenderOptions = {}): Promise<KubeObject[]> {
  const result = await helmTemplateRaw(values, options);
  if (result.code !== 0) throw new Error(`helm template failed (${result.code}): ${result.stderr}`);
  return parseManifests(result.stdout);
}

export function parseManifests(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
      return doc.toJS() as KubeObject | null;
    })
    .filter((o): o is KubeObject => o !== null && typeof o === 'object');
}

export function findObject(objects: readonly KubeObject[], kind: string, name: string, namespace?: string): KubeObject {
  const found = objects.find(
    (o) => o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace),
  );
  if (!found) {
    const have = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).join(', ');
    throw new Error(`no ${kind} ${namespace ?? '*'}/${name} among: ${have}`);
  }
  return found;
}
