import { conditionOf, type JobWire, type PodWire } from './wire.js';

/** Reading a batch/v1 Job's state, the same way for every kind that owns Jobs. Pure. */

/** True when the pod belongs to Job `jobName` (by the label the Job controller sets). */
export function isPodOfJob(pod: PodWire, jobName: string): boolean {
  return pod.metadata?.labels?.['batch.kubernetes.io/job-name'] === jobName || pod.metadata?.labels?.['job-name'] === jobName;
}

/** True once the Job is Complete or Failed. */
export function jobFinished(job: JobWire): boolean {
  return jobComplete(job) || conditionOf(job.status?.conditions, 'Failed')?.status === 'True';
}

export function jobComplete(job: JobWire): boolean {
  return conditionOf(job.status?.conditions, 'Complete')?.status === 'True';
}
