import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { testbedBin } from '../../local-cluster/index.js';
import { createKubeClient, type KubeClient } from '../../src/operator/kube/client.js';
import type { ExistingClusterOptions } from './options.js';

/**
 * The demo on a cluster that already exists (`npm run demo -- --kubeconfig ...`): the tools a
 * person has (helm, kubectl), the chart installed the way a user installs it, and predictions
 * through the API server's service proxy, which reaches a Service on any cluster (kind, minikube,
 * GKE, the local cluster of `npm run cluster:up`) without a port-forward or a LoadBalancer.
 */

export const CHART_DIR = fileURLToPath(new URL('../../charts/kennel/', import.meta.url));
/** Where the chart installs the operator. */
export const RELEASE_NAMESPACE = 'kennel-system';

/** `KENNEL_HELM` / `KENNEL_KUBECTL`, else the one on PATH, else the local cluster's build of it. */
export function toolPath(tool: 'helm' | 'kubectl', env: NodeJS.ProcessEnv = process.env): string {
  const override = env[tool === 'helm' ? 'KENNEL_HELM' : 'KENNEL_KUBECTL'];
  if (override) return override;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, tool);
    // The same lookup a shell does, once per run.
    if (isExecutable(candidate)) return candidate;
  }
  try {
    return testbedBin(tool);
  } catch {
    throw new Error(`${tool} is not on PATH (and not built by \`npm run testbed:build\`): install it, or set ${tool === 'helm' ? 'KENNEL_HELM' : 'KENNEL_KUBECTL'}`);
  }
}

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface ToolRun {
  (args: readonly string[], opts?: { input?: string }): Promise<{ stdout: string; stderr: string }>;
}

/** Runs a tool with `--kubeconfig`; rejects with its stderr. */
export function toolRunner(binary: string, kubeconfig: string): ToolRun {
  return (args, opts = {}) =>
    new Promise((resolve, reject) => {
      const child = execFile(binary, ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(Object.assign(new Error(`${path.basename(binary)} ${args.join(' ')}: ${stderr.trim() || err.message}`), { stderr }));
        else resolve({ stdout, stderr });
      });
      if (opts.input !== undefined) child.stdin?.end(opts.input);
    });
}

/** `repo:tag` or `repo@sha256:...` → the chart's image values (a registry port is not a tag). */
export function imageValues(image: string): { repository: string; tag?: string; digest?: string } {
  const at = image.indexOf('@');
  if (at >= 0) return { repository: image.slice(0, at), digest: image.slice(at + 1) };
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  if (colon > slash) return { repository: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { repository: image };
}

/** The chart values of the demo's release: the given images, the emulator as the bucket, one namespace watched. */
export function chartValues(c: ExistingClusterOptions, artifactRoot: string): object {
  return {
    image: { operator: imageValues(c.operatorImage), worker: imageValues(c.workerImage) },
    storage: { artifactRoot, gcs: { auth: 'emulator', endpoint: c.gcsEndpoint } },
    // One replica is enough for a demo; leader election stays on, as in production.
    operator: { replicas: 1, watchNamespaces: [c.namespace] },
  };
}

/** `helm upgrade --install` of the chart in this checkout, waiting for the operator to be ready. */
export async function installChart(helm: ToolRun, c: ExistingClusterOptions, artifactRoot: string, tmpDir: string): Promise<string> {
  const valuesFile = path.join(tmpDir, 'kennel-values.json');
  await writeFile(valuesFile, JSON.stringify(chartValues(c, artifactRoot), null, 2));
  const { stdout } = await helm([
    'upgrade', '--install', c.release, CHART_DIR,
    '--namespace', RELEASE_NAMESPACE, '--create-namespace',
    '-f', valuesFile,
    '--wait', '--timeout', '5m',
  ]);
  return stdout;
}

/** Creates the namespace unless it exists. */
export async function ensureNamespace(kubectl: ToolRun, namespace: string): Promise<void> {
  try {
    await kubectl(['get', 'namespace', namespace]);
  } catch {
    await kubectl(['create', 'namespace', namespace]);
  }
}

export interface ProxiedPrediction {
  label: string | null;
  confidence: number;
}

/**
 * One KServe v1 prediction through the API server's service proxy
 * (`POST /api/v1/namespaces/NS/services/NAME:PORT/proxy/v1/models/MODEL:predict`), with the
 * kubeconfig's credentials: it reaches the Service on any cluster, with no port-forward.
 */
export async function predictThroughApiServer(kube: KubeClient, o: { namespace: string; service: string; port: number; model: string; image: Buffer }): Promise<ProxiedPrediction> {
  const answer = await kube.request<{ predictions?: ProxiedPrediction[] }>({
    method: 'POST',
    path: `/api/v1/namespaces/${o.namespace}/services/${o.service}:${o.port}/proxy/v1/models/${o.model}:predict`,
    body: { instances: [{ image_bytes: { b64: o.image.toString('base64') } }] },
    timeoutMs: 60_000,
  });
  const first = answer.predictions?.[0];
  if (!first) throw new Error(`no prediction in the answer: ${JSON.stringify(answer).slice(0, 300)}`);
  return first;
}

/** A client of the kubeconfig's current cluster. */
export function kubeClientOf(kubeconfig: string): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return createKubeClient(kc);
}
