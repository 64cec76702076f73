import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { BACKEND_PREFERENCES } from '../ml/backend/select.js';
import { TerminalError } from '../shared/errors.js';

const Int = (min: number, max: number, def: number) => Type.Integer({ minimum: min, maximum: max, default: def });

/** `kennel serve` settings, parsed once at start-up from flags and environment. */
export const ServeConfig = Type.Object({
  /** Artifact prefix: file:// or gs:// (or a local path). */
  model: Type.String({ minLength: 1 }),
  host: Type.String({ minLength: 1, default: '0.0.0.0' }),
  port: Int(0, 65535, 8080),
  /** Served model name and version; default: the last two segments of the model URI. */
  modelName: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' })),
  modelVersion: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' })),
  /** Model worker threads (each with its own backend and model copy); 0 = main thread. */
  workers: Int(0, 16, 2),
  backend: Type.Union(BACKEND_PREFERENCES.map((b) => Type.Literal(b)), { default: 'auto' }),
  maxBatchSize: Int(1, 256, 8),
  maxWaitMs: Type.Number({ minimum: 0, maximum: 1000, default: 2 }),
  maxQueue: Int(1, 100_000, 1024),
  /**
   * Prediction requests in flight (body, decode, queue, model) at once; beyond it a request is
   * refused at once with 503 Overloaded and Retry-After, before its body is read.
   */
  maxInFlight: Int(1, 100_000, 64),
  maxImageBytes: Int(1, 1 << 30, 10 * 1024 * 1024),
  maxJsonBytes: Int(1, 1 << 30, 16 * 1024 * 1024),
  maxInstances: Int(1, 1024, 32),
  maxPixels: Int(1, 1_000_000_000, 50_000_000),
  /** A model not ready after this long counts as failed to load. */
  loadTimeoutSeconds: Type.Number({ exclusiveMinimum: 0, default: 300 }),
  /** After a failed load, /readyz reports why for this long, then the process exits 1. */
  failedExitSeconds: Type.Number({ minimum: 0, default: 60 }),
  /** On SIGTERM, in-flight requests get this long to finish. */
  shutdownTimeoutSeconds: Type.Number({ minimum: 0, default: 25 }),
  /**
   * Below this top-class probability the answer is unsure: `label` is null (the probabilities are
   * still given) and the prediction is counted as unsure. 0 (default): always a label.
   */
  minConfidence: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
  /** Prediction ids this process remembers as answered with feedback (a repeat is a 409). */
  feedbackCapacity: Int(1, 10_000_000, 100_000),
  /** Feedback is accepted for predictions at most this old (default 30 days). */
  feedbackTtlSeconds: Type.Number({ exclusiveMinimum: 0, default: 30 * 86_400 }),
  /** Prediction log prefix (file://, gs:// or a path): every prediction and feedback is kept there. */
  predictionLog: Type.Optional(Type.String({ minLength: 1 })),
  /** Share of predictions whose image is stored in the log (0..1). */
  imageSampleRate: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
  /** A prediction batch is written at most this long after its first record. */
  logFlushSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: 5 }),
  /** Unwritten prediction records never hold more memory than this; beyond it they are dropped and counted. */
  logBufferBytes: Int(1024, 1 << 30, 64 * 1024 * 1024),
  /** The same bound for sampled images waiting to be written. */
  logImageBufferBytes: Int(0, 1 << 30, 64 * 1024 * 1024),
  /** On SIGTERM, after the in-flight requests, the log gets this long to write what it holds. */
  logFlushTimeoutSeconds: Type.Number({ minimum: 0, default: 10 }),
});
export type ServeConfig = Static<typeof ServeConfig>;

/** Flags as commander hands them over (strings), before parsing. */
export type ServeFlags = Partial<Record<keyof ServeConfig, string | number | undefined>>;

const ENV: Partial<Record<keyof ServeConfig, string>> = {
  model: 'KENNEL_MODEL_URI',
  port: 'PORT',
  modelName: 'KENNEL_MODEL_NAME',
  modelVersion: 'KENNEL_MODEL_VERSION',
  workers: 'KENNEL_SERVE_WORKERS',
  backend: 'KENNEL_BACKEND',
  minConfidence: 'KENNEL_MIN_CONFIDENCE',
  predictionLog: 'KENNEL_PREDICTION_LOG',
  imageSampleRate: 'KENNEL_IMAGE_SAMPLE_RATE',
};

/**
 * Flags win over environment variables, which win over defaults. Throws a TerminalError naming
 * the first bad setting.
 */
export function parseServeConfig(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ServeConfig.properties) as (keyof ServeConfig)[]) {
    const envName = ENV[key];
    const value = flags[key] ?? (envName ? env[envName] : undefined);
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const converted = Value.Default(ServeConfig, Value.Convert(ServeConfig, raw));
  if (!Value.Check(ServeConfig, converted)) {
    const first = Value.Errors(ServeConfig, converted).First();
    throw new TerminalError('InvalidConfig', `invalid serve setting ${first?.path.slice(1) || ''}: ${first?.message ?? 'invalid'}`);
  }
  return Object.freeze(converted);
}

/** A path segment that reads as a version: `7`, `v12`, `1.2.0`, `2026-01-05`. */
const VERSION_LIKE = /^v?\d+([._-]\d+)*$/i;

/**
 * The served model's identity: explicit settings, else `<name>/<version>` at the end of the URI.
 * `versionRecorded` says whether the version is one: given (the operator passes the
 * ModelVersion's) or a segment that reads as a version (`…/cats-dogs/v3`); a local folder such
 * as `./model` still labels the metrics with its name, but the page does not call it a version.
 */
export function modelIdentity(config: ServeConfig): { name: string; version: string; versionRecorded: boolean } {
  const segments = config.model.replace(/^[a-z]+:\/\//i, '').split('/').filter((s) => s.length > 0);
  const clean = (s: string | undefined, fallback: string): string => (s ?? '').replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63) || fallback;
  const fromPath = clean(segments.at(-1), 'unknown');
  return {
    name: config.modelName ?? clean(segments.at(-2), 'model'),
    version: config.modelVersion ?? fromPath,
    versionRecorded: config.modelVersion !== undefined || VERSION_LIKE.test(fromPath),
  };
}
