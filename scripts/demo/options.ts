import { parseArgs } from 'node:util';

export interface DemoOptions {
  /** A class-per-folder folder of real photos; a generated dataset when absent. */
  readonly data?: string;
  /** Photos per class to train on (the next few are held out for the final prediction). */
  readonly perClass: number;
  readonly epochs: number;
  readonly imageSize: number;
  /** Tear everything down after the prediction instead of waiting for Ctrl-C. */
  readonly exit: boolean;
  readonly help: boolean;
  /** An existing cluster to install into (through the Helm chart) instead of starting a local one. */
  readonly cluster?: ExistingClusterOptions;
}

/** `--kubeconfig` and what installing into an existing cluster needs. */
export interface ExistingClusterOptions {
  readonly kubeconfig: string;
  readonly operatorImage: string;
  readonly workerImage: string;
  /** The GCS emulator's URL as the cluster's pods reach it. */
  readonly gcsEndpoint: string;
  /** The same emulator as this machine reaches it, for the dataset upload (defaults to gcsEndpoint). */
  readonly uploadEndpoint: string;
  readonly namespace: string;
  readonly release: string;
}

export const DEMO_USAGE = `npm run demo -- [--data <folder of class folders>] [--per-class N] [--epochs N] [--image-size N] [--exit]
npm run demo -- --kubeconfig <file> --operator-image <image> --worker-image <image> --gcs-endpoint <url>
                [--upload-endpoint <url>] [--namespace <ns>] [--release <name>] [dataset and model flags as above]

Starts a local Kubernetes control plane, a GCS emulator and the Kennel operator on this machine,
trains a classifier through a TrainingRun, serves it through an InferenceService and prints a
prediction. Without --data it generates a small dataset (horizontal vs vertical stripes); with
--data ../shared/datasets/cats-dogs it uses real photos. Ctrl-C tears everything down.

With --kubeconfig it uses that cluster instead (kind, minikube, \`npm run cluster:up\`): it installs
the chart (helm upgrade --install, release namespace kennel-system) with the two images, and uses
a GCS emulator as the bucket: --gcs-endpoint is its URL as pods reach it, --upload-endpoint its
URL from this machine (default: the same). It leaves the release and its objects in place; see
docs/kind.md.
`;

/** Parses the demo's command line; throws with the usage on anything unknown or malformed. */
export function parseDemoArgs(argv: readonly string[]): DemoOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      data: { type: 'string' },
      'per-class': { type: 'string' },
      epochs: { type: 'string' },
      'image-size': { type: 'string' },
      exit: { type: 'boolean', default: false },
      kubeconfig: { type: 'string' },
      'operator-image': { type: 'string' },
      'worker-image': { type: 'string' },
      'gcs-endpoint': { type: 'string' },
      'upload-endpoint': { type: 'string' },
      namespace: { type: 'string' },
      release: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const int = (name: string, raw: string | undefined, dflt: number, min: number, max: number): number => {
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}\n\n${DEMO_USAGE}`);
    return n;
  };
  const real = values.data !== undefined;
  // The demo trains the default architecture, the pretrained mobilenet-v2 (it halves the image five times).
  const multipleOf32 = (n: number): number => {
    if (n % 32 !== 0) throw new Error(`--image-size must be a multiple of 32 for the pretrained mobilenet-v2, e.g. ${Math.max(32, Math.round(n / 32) * 32)}, got ${n}\n\n${DEMO_USAGE}`);
    return n;
  };
  const cluster = existingCluster(values);
  return {
    ...(values.data !== undefined ? { data: values.data } : {}),
    ...(cluster ? { cluster } : {}),
    perClass: int('per-class', values['per-class'], 200, 10, 5000),
    epochs: int('epochs', values.epochs, 3, 1, 100),
    imageSize: multipleOf32(int('image-size', values['image-size'], real ? 128 : 32, 32, 512)),
    exit: values.exit === true,
    help: values.help === true,
  };
}

const CLUSTER_FLAGS = ['operator-image', 'worker-image', 'gcs-endpoint', 'upload-endpoint', 'namespace', 'release'] as const;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function existingCluster(values: Partial<Record<'kubeconfig' | (typeof CLUSTER_FLAGS)[number], string | boolean>>): ExistingClusterOptions | undefined {
  const str = (name: 'kubeconfig' | (typeof CLUSTER_FLAGS)[number]): string | undefined => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const kubeconfig = str('kubeconfig');
  if (kubeconfig === undefined) {
    const stray = CLUSTER_FLAGS.filter((f) => str(f) !== undefined);
    if (stray.length > 0) throw new Error(`--${stray[0]} needs --kubeconfig (an existing cluster)\n\n${DEMO_USAGE}`);
    return undefined;
  }
  const need = (name: 'operator-image' | 'worker-image' | 'gcs-endpoint', why: string): string => {
    const v = str(name);
    if (!v) throw new Error(`--kubeconfig needs --${name} (${why})\n\n${DEMO_USAGE}`);
    return v;
  };
  const url = (name: string, v: string): string => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw new Error(`--${name} must be an http(s) URL, got ${JSON.stringify(v)}\n\n${DEMO_USAGE}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`--${name} must be an http(s) URL, got ${JSON.stringify(v)}\n\n${DEMO_USAGE}`);
    return v.replace(/\/+$/, '');
  };
  const label = (name: 'namespace' | 'release', dflt: string): string => {
    const v = str(name) ?? dflt;
    if (!DNS_LABEL.test(v)) throw new Error(`--${name} must be a DNS label (lower-case letters, digits and '-'), got ${JSON.stringify(v)}\n\n${DEMO_USAGE}`);
    return v;
  };
  const gcsEndpoint = url('gcs-endpoint', need('gcs-endpoint', 'the GCS emulator the pods use as the bucket'));
  return {
    kubeconfig,
    operatorImage: need('operator-image', 'the image running `kennel operator`, e.g. kennel-operator:dev after `kind load`'),
    workerImage: need('worker-image', 'the image running `kennel train` and `kennel serve`'),
    gcsEndpoint,
    uploadEndpoint: str('upload-endpoint') !== undefined ? url('upload-endpoint', str('upload-endpoint') ?? '') : gcsEndpoint,
    namespace: label('namespace', 'default'),
    release: label('release', 'kennel'),
  };
}
