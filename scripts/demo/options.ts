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
}

export const DEMO_USAGE = `npm run demo -- [--data <folder of class folders>] [--per-class N] [--epochs N] [--image-size N] [--exit]

Starts a local Kubernetes control plane, a GCS emulator and the Kennel operator on this machine,
trains a classifier through a TrainingRun, serves it through an InferenceService and prints a
prediction. Without --data it generates a small dataset (horizontal vs vertical stripes); with
--data ../shared/datasets/cats-dogs it uses real photos. Ctrl-C tears everything down.
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
  return {
    ...(values.data !== undefined ? { data: values.data } : {}),
    perClass: int('per-class', values['per-class'], 200, 10, 5000),
    epochs: int('epochs', values.epochs, 3, 1, 100),
    imageSize: multipleOf32(int('image-size', values['image-size'], real ? 128 : 32, 32, 512)),
    exit: values.exit === true,
    help: values.help === true,
  };
}
