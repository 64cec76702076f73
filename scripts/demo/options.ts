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
  return {
    ...(values.data !== undefined ? { data: values.data } : {}),
    perClass: int('per-class', values['per-class'], 200, 10, 5000),
    epochs: int('epochs', values.epochs, real ? 4 : 6, 1, 100),
    imageSize: int('image-size', values['image-size'], real ? 64 : 32, 8, 512),
    exit: values.exit === true,
    help: values.help === true,
  };
}
