import { Value } from '@sinclair/typebox/value';
import { EpochProgress, TERMINATION_MESSAGE_LIMIT, WorkerOutcome } from '../../shared/api/worker-report.js';

/**
 * Reads what the training worker reported through the two channels of the worker→operator
 * contract (src/shared/api/worker-report.ts): epoch lines in the pod log and the WorkerOutcome
 * in the container's termination message. Pure: the reconciler fetches the text.
 */

/** The newest valid `{"event":"epoch",...}` line of a log tail; other lines are ignored. */
export function latestEpoch(logText: string): EpochProgress | undefined {
  const lines = logText.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]?.trim();
    if (!line || !line.startsWith('{') || !line.includes('"epoch"')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null || (parsed as { event?: unknown }).event !== 'epoch') continue;
    // pino adds level/time/msg; keep only the contract's fields before checking.
    const picked = Value.Clean(EpochProgress, structuredClone(parsed));
    if (Value.Check(EpochProgress, picked)) return picked;
  }
  return undefined;
}

/** What a terminated container says: its reason and exit code, and the parsed outcome if any. */
export interface TerminatedContainer {
  reason?: string;
  exitCode?: number;
  outcome?: WorkerOutcome;
  /** The message was there but is not a WorkerOutcome (e.g. truncated): for the failure text. */
  rawMessage?: string;
}

interface ContainerStateTerminated {
  reason?: string;
  exitCode?: number;
  message?: string;
}

/** Parses a termination message into a WorkerOutcome, or undefined when it is not one. */
export function parseOutcome(message: string | undefined): WorkerOutcome | undefined {
  if (!message || message.length > TERMINATION_MESSAGE_LIMIT) return undefined;
  try {
    const value: unknown = JSON.parse(message);
    return Value.Check(WorkerOutcome, value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The terminated state of the pod's container (the first one, or the named one). */
export function terminatedContainer(pod: unknown, containerName?: string): TerminatedContainer | undefined {
  const statuses = (pod as { status?: { containerStatuses?: Array<{ name?: string; state?: { terminated?: ContainerStateTerminated } }> } }).status
    ?.containerStatuses;
  const status = containerName ? statuses?.find((s) => s.name === containerName) : statuses?.[0];
  const t = status?.state?.terminated;
  if (!t) return undefined;
  const outcome = parseOutcome(t.message);
  return {
    ...(t.reason ? { reason: t.reason } : {}),
    ...(t.exitCode !== undefined ? { exitCode: t.exitCode } : {}),
    ...(outcome ? { outcome } : {}),
    ...(!outcome && t.message ? { rawMessage: t.message.slice(0, 512) } : {}),
  };
}
