import { TypeCompiler } from '@sinclair/typebox/compiler';
import { BatchProgress, BatchShardOutcome } from '../../shared/api/batch-report.js';
import { containerStates, newestFirst } from '../shared/pod-state.js';
import type { PodWire } from '../shared/wire.js';
import { PREDICT_CONTAINER } from './desired.js';

/**
 * Reading what a batch's pods reported (src/shared/api/batch-report.ts): progress lines in the
 * log, a BatchShardOutcome as the termination message. Pure; the reconciler fetches the logs.
 */

const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';

let outcomeCheck: ReturnType<typeof TypeCompiler.Compile<typeof BatchShardOutcome>> | undefined;
let progressCheck: ReturnType<typeof TypeCompiler.Compile<typeof BatchProgress>> | undefined;

/** The shard a pod of an Indexed Job works on (its completion index), if it says. */
export function shardOfPod(pod: PodWire): number | undefined {
  const text = pod.metadata?.annotations?.[COMPLETION_INDEX] ?? pod.metadata?.labels?.[COMPLETION_INDEX];
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

export function parseBatchOutcome(text: string | undefined): BatchShardOutcome | undefined {
  if (!text) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text.trim());
  } catch {
    return undefined;
  }
  outcomeCheck ??= TypeCompiler.Compile(BatchShardOutcome);
  return outcomeCheck.Check(value) ? value : undefined;
}

/** The latest progress line in a chunk of a pod's log (other lines are ignored). */
export function latestBatchProgress(logText: string | undefined): BatchProgress | undefined {
  if (!logText) return undefined;
  progressCheck ??= TypeCompiler.Compile(BatchProgress);
  const lines = logText.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]?.trim();
    if (!line?.startsWith('{') || !line.includes('"batch-progress"')) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (progressCheck.Check(value)) return value;
    } catch {
      // a stray line
    }
  }
  return undefined;
}

/** Per shard, the outcome of its newest pod that reported one. */
export function outcomesByShard(pods: readonly PodWire[]): Map<number, BatchShardOutcome> {
  const out = new Map<number, BatchShardOutcome>();
  for (const pod of newestFirst(pods)) {
    const shard = shardOfPod(pod);
    if (shard === undefined || out.has(shard)) continue;
    for (const state of containerStates(pod, PREDICT_CONTAINER)) {
      const outcome = parseBatchOutcome(state.terminated?.message);
      if (outcome) {
        out.set(shard, outcome);
        break;
      }
    }
  }
  return out;
}

/** The running pod of each shard, newest first (a shard has one at a time). */
export function runningPodsByShard(pods: readonly PodWire[]): Map<number, PodWire> {
  const out = new Map<number, PodWire>();
  for (const pod of newestFirst(pods)) {
    const shard = shardOfPod(pod);
    if (shard !== undefined && !out.has(shard) && pod.status?.phase === 'Running') out.set(shard, pod);
  }
  return out;
}
