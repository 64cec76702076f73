import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** The flags of `kennel evaluate --url`, as commander hands them over (strings and booleans). */
export type EvaluateUrlFlags = Readonly<Record<string, string | boolean | undefined>>;

export const EvaluateUrlOptions = Type.Object({
  /** Base URL of a running `kennel serve` (or its Service), e.g. `http://10.0.0.5:8080`. */
  url: Type.String({ pattern: '^https?://' }),
  /** Class-per-folder dataset of labeled photos (file://, gs:// or a path). */
  data: Type.String({ minLength: 1 }),
  /** Requests in flight at once. */
  concurrency: Type.Integer({ minimum: 1, maximum: 256 }),
  /** Per-request timeout, milliseconds. */
  timeoutMs: Type.Integer({ minimum: 1 }),
  /** Fail (exit 1) when accuracy on the answered photos is below this. */
  minAccuracy: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  /** Fail (exit 1) when the fraction of failed requests is above this. */
  maxErrorRate: Type.Number({ minimum: 0, maximum: 1 }),
  /** At most this many photos per class (the first ones by name); all when absent. */
  limitPerClass: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Class folders to use, in order (default: every folder, sorted). */
  classes: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 2 })),
  /** Print one JSON object instead of tables. */
  json: Type.Boolean(),
});
export type EvaluateUrlOptions = Static<typeof EvaluateUrlOptions>;

export const DEFAULT_EVALUATE_URL = { concurrency: 8, timeoutMs: 30_000, maxErrorRate: 0 } as const;

/** Thrown for flags that do not make sense; the message names the flag. */
export class EvaluateUrlUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluateUrlUsageError';
  }
}

function num(flags: EvaluateUrlFlags, key: string, flag: string): number | undefined {
  const raw = flags[key];
  if (raw === undefined || raw === false) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n)) throw new EvaluateUrlUsageError(`${flag} must be a number, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * Parses and validates the flags once, at the boundary. `--url` must be http(s); the trailing
 * slash is dropped so that paths join cleanly. Throws EvaluateUrlUsageError naming the bad flag.
 */
export function parseEvaluateUrlFlags(flags: EvaluateUrlFlags): EvaluateUrlOptions {
  const url = typeof flags.url === 'string' ? flags.url.replace(/\/+$/, '') : undefined;
  if (!url) throw new EvaluateUrlUsageError('--url <service base URL> is required');
  if (!/^https?:\/\/[^/]/.test(url)) throw new EvaluateUrlUsageError(`--url must be an http:// or https:// URL, got ${JSON.stringify(flags.url)}`);
  if (typeof flags.data !== 'string' || flags.data === '') throw new EvaluateUrlUsageError('--data <labeled photos uri> is required');
  if (typeof flags.model === 'string') throw new EvaluateUrlUsageError('give either --model (evaluate an artifact) or --url (evaluate a running service), not both');
  const classes = typeof flags.classes === 'string' ? flags.classes.split(',').map((c) => c.trim()).filter(Boolean) : undefined;
  const candidate = {
    url,
    data: flags.data,
    concurrency: num(flags, 'concurrency', '--concurrency') ?? DEFAULT_EVALUATE_URL.concurrency,
    timeoutMs: num(flags, 'timeoutMs', '--timeout-ms') ?? DEFAULT_EVALUATE_URL.timeoutMs,
    maxErrorRate: num(flags, 'maxErrorRate', '--max-error-rate') ?? DEFAULT_EVALUATE_URL.maxErrorRate,
    ...(num(flags, 'minAccuracy', '--min-accuracy') !== undefined ? { minAccuracy: num(flags, 'minAccuracy', '--min-accuracy') } : {}),
    ...(num(flags, 'limit', '--limit') !== undefined ? { limitPerClass: num(flags, 'limit', '--limit') } : {}),
    ...(classes ? { classes } : {}),
    json: flags.json === true,
  };
  const first = Value.Errors(EvaluateUrlOptions, candidate).First();
  if (first) {
    const flag = `--${first.path.slice(1).replace(/\/.*$/, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace('limit-per-class', 'limit')}`;
    throw new EvaluateUrlUsageError(`${flag}: ${first.message} (got ${JSON.stringify(first.value)})`);
  }
  return Object.freeze(candidate as EvaluateUrlOptions);
}
