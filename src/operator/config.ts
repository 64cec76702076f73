import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { codeVersion } from '../shared/version.js';

/**
 * The operator's configuration, from environment variables (the contract) with command-line
 * flags overriding them. Parsed once at the boundary into a frozen value; the rest of the
 * operator never reads `process.env`.
 */
export const OperatorConfig = Type.Object({
  /** Empty: watch every namespace. */
  namespaces: Type.Array(Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 })),
  leaderElect: Type.Boolean(),
  leaseNamespace: Type.String({ minLength: 1 }),
  leaseName: Type.String({ minLength: 1 }),
  identity: Type.String({ minLength: 1 }),
  workerImage: Type.String({ minLength: 1 }),
  artifactRoot: Type.String({ pattern: '^(gs://[^/]+|file:///).*' }),
  gateMinAccuracy: Type.Number({ minimum: 0, maximum: 1 }),
  healthPort: Type.Integer({ minimum: 0, maximum: 65535 }),
  serviceAccount: Type.Optional(Type.String({ minLength: 1 })),
  logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
  /** Parallel reconciles per controller (different keys; I/O-bound, so cheap in one Node process). */
  workers: Type.Integer({ minimum: 1, maximum: 64 }),
  /** How often a serving InferenceService's pods are measured for status.live (and its retraining policy); 0 = never. */
  liveIntervalSeconds: Type.Integer({ minimum: 0, maximum: 86400 }),
  /** How often a training or batch-prediction pod's log is read for progress (and a sweep's early stopping judged). */
  progressPollSeconds: Type.Integer({ minimum: 1, maximum: 3600 }),
});
/** Default of progressPollSeconds. */
export const PROGRESS_POLL_SECONDS = 10;
export type OperatorConfig = Readonly<Static<typeof OperatorConfig>>;

/** Flag values as commander hands them over (all optional; a flag beats its env variable). */
export interface OperatorFlags {
  namespaces?: string;
  leaderElect?: boolean;
  leaseNamespace?: string;
  workerImage?: string;
  artifactRoot?: string;
  gateMinAccuracy?: string;
  healthPort?: string;
  serviceAccount?: string;
  logLevel?: string;
  workers?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid operator configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

function inClusterNamespace(): string | undefined {
  try {
    return readFileSync(SA_NAMESPACE_FILE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function parseBool(name: string, v: string | undefined, problems: string[]): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^(true|1|yes)$/i.test(v)) return true;
  if (/^(false|0|no)$/i.test(v)) return false;
  problems.push(`${name}: expected true or false, got "${v}"`);
  return undefined;
}

function parseNum(name: string, v: string | undefined, problems: string[]): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) problems.push(`${name}: expected a number, got "${v}"`);
  return n;
}

/**
 * Builds the configuration from `env` and `flags`. Throws a ConfigError listing every problem
 * (by the env variable's name) so a misconfigured Deployment fails at start with a clear message.
 */
export function loadOperatorConfig(env: NodeJS.ProcessEnv, flags: OperatorFlags = {}): OperatorConfig {
  const problems: string[] = [];
  const pick = (flag: string | undefined, name: string) => flag ?? env[name];
  const namespaces = (pick(flags.namespaces, 'KENNEL_NAMESPACES') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const candidate = {
    namespaces: [...new Set(namespaces)],
    leaderElect: flags.leaderElect ?? parseBool('KENNEL_LEADER_ELECT', env.KENNEL_LEADER_ELECT, problems) ?? true,
    leaseNamespace: pick(flags.leaseNamespace, 'KENNEL_LEASE_NAMESPACE') || env.POD_NAMESPACE || inClusterNamespace() || 'default',
    leaseName: env.KENNEL_LEASE_NAME || 'kennel-operator',
    identity: `${env.POD_NAME || hostname()}_${randomUUID().slice(0, 8)}`,
    workerImage: pick(flags.workerImage, 'KENNEL_WORKER_IMAGE') || `ghcr.io/kennel-dev/kennel-worker:${codeVersion().split('+')[0]}`,
    artifactRoot: pick(flags.artifactRoot, 'KENNEL_ARTIFACT_ROOT') ?? '',
    gateMinAccuracy: parseNum('KENNEL_GATE_MIN_ACCURACY', pick(flags.gateMinAccuracy, 'KENNEL_GATE_MIN_ACCURACY'), problems) ?? 0.8,
    healthPort: parseNum('KENNEL_HEALTH_PORT', pick(flags.healthPort, 'KENNEL_HEALTH_PORT'), problems) ?? 8081,
    serviceAccount: pick(flags.serviceAccount, 'KENNEL_SERVICE_ACCOUNT') || undefined,
    logLevel: pick(flags.logLevel, 'KENNEL_LOG_LEVEL') || 'info',
    workers: parseNum('KENNEL_WORKERS', pick(flags.workers, 'KENNEL_WORKERS'), problems) ?? 16,
    liveIntervalSeconds: parseNum('KENNEL_LIVE_INTERVAL_SECONDS', env.KENNEL_LIVE_INTERVAL_SECONDS, problems) ?? 60,
    progressPollSeconds: parseNum('KENNEL_PROGRESS_POLL_SECONDS', env.KENNEL_PROGRESS_POLL_SECONDS, problems) ?? PROGRESS_POLL_SECONDS,
  };
  if (!candidate.artifactRoot) problems.push('KENNEL_ARTIFACT_ROOT: required (e.g. gs://bucket/kennel or file:///var/kennel)');
  const envName: Record<string, string> = {
    namespaces: 'KENNEL_NAMESPACES',
    leaseNamespace: 'KENNEL_LEASE_NAMESPACE',
    workerImage: 'KENNEL_WORKER_IMAGE',
    artifactRoot: 'KENNEL_ARTIFACT_ROOT',
    gateMinAccuracy: 'KENNEL_GATE_MIN_ACCURACY',
    healthPort: 'KENNEL_HEALTH_PORT',
    logLevel: 'KENNEL_LOG_LEVEL',
    workers: 'KENNEL_WORKERS',
    liveIntervalSeconds: 'KENNEL_LIVE_INTERVAL_SECONDS',
    progressPollSeconds: 'KENNEL_PROGRESS_POLL_SECONDS',
  };
  if (problems.length === 0) {
    for (const e of Value.Errors(OperatorConfig, candidate)) {
      const field = e.path.split('/')[1] ?? '';
      if (field === 'artifactRoot' && !candidate.artifactRoot) continue;
      problems.push(`${envName[field] ?? field}: ${e.message} (got ${JSON.stringify(e.value)})`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return Object.freeze({ ...candidate, namespaces: Object.freeze(candidate.namespaces) }) as OperatorConfig;
}
