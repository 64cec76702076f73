import { TypeCompiler } from '@sinclair/typebox/compiler';
import { EpochProgress, WorkerOutcome } from '../../shared/api/worker-report.js';
import { newestFirst } from '../shared/pod-state.js';
import type { PodWire } from '../shared/wire.js';
import { TRAIN_CONTAINER } from './desired.js';

/**
 * Reading what the worker reported (contracts: one JSON line per epoch on stdout, a
 * WorkerOutcome as the container's termination message). Pure; the reconciler fetches the
 * pod log and hands the text in.
 */

let outcomeCheck: ReturnType<typeof TypeCompiler.Compile<typeof WorkerOutcome>> | undefined;
let epochCheck: ReturnType<typeof TypeCompiler.Compile<typeof EpochProgress>> | undefined;

/** The WorkerOutcome in a termination message, or undefined when it is absent or malformed. */
export function parseWorkerOutcome(text: string | undefined): WorkerOutcome | undefined {
  if (!text) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text.trim());
  } catch {
    return undefined;
  }
  outcomeCheck ??= TypeCompiler.Compile(WorkerOutcome);
  return outcomeCheck.Check(value) ? value : undefined;
}

/** Every epoch report in a chunk of worker stdout, in log order (other lines are ignored). */
export function epochProgressLines(logText: string | undefined): EpochProgress[] {
  if (!logText) return [];
  epochCheck ??= TypeCompiler.Compile(EpochProgress);
  const out: EpochProgress[] = [];
  for (const raw of logText.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('{') || !line.includes('"epoch"')) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (epochCheck.Check(value)) out.push(value);
    } catch {
      // not JSON: a stray line, skip it
    }
  }
  return out;
}

/** The outcome the newest terminated training container reported, if any. */
export function outcomeFromPods(pods: readonly PodWire[]): WorkerOutcome | undefined {
  for (const pod of newestFirst(pods)) {
    const status = pod.status?.containerStatuses?.find((c) => c.name === TRAIN_CONTAINER);
    const outcome = parseWorkerOutcome(status?.state?.terminated?.message) ?? parseWorkerOutcome(status?.lastState?.terminated?.message);
    if (outcome) return outcome;
  }
  return undefined;
}
