import { existsSync, readFileSync } from 'node:fs';
import type { Testbed } from '../../../local-cluster/index.js';
import type { Kubectl } from '../../../local-cluster/kubectl.js';

const tail = (text: string, lines: number): string => text.split('\n').slice(-lines).join('\n');

/**
 * What a person needs to see when a step fails: the Kennel objects and their status, pods,
 * Jobs, Deployments, Events, the operator's log and every pod's log (tails).
 */
export async function collectDiagnostics(opts: { bed?: Testbed; kubectl?: Kubectl; namespace: string; operatorLogPath?: string }): Promise<string> {
  const parts: string[] = [];
  const section = (title: string, body: string): void => void parts.push(`\n===== ${title} =====\n${body}`);
  const k = opts.kubectl;
  if (k) {
    for (const args of [
      ['get', 'kennel', '-n', opts.namespace, '-o', 'wide'],
      ['get', 'pods,jobs,deployments,services,podmonitorings', '-n', opts.namespace, '-o', 'wide'],
      ['get', 'events', '-n', opts.namespace, '--sort-by', '.lastTimestamp'],
      ['get', 'trainingruns,modelversions,inferenceservices', '-n', opts.namespace, '-o', 'yaml'],
    ]) {
      section(`kubectl ${args.join(' ')}`, await k.run(args).catch((err: unknown) => String(err)));
    }
  }
  if (opts.operatorLogPath && existsSync(opts.operatorLogPath)) section(`operator log (${opts.operatorLogPath}, last 150 lines)`, tail(readFileSync(opts.operatorLogPath, 'utf8'), 150));
  if (k && opts.bed) {
    const pods = await k.list('pods').catch(() => []);
    for (const p of pods) {
      const log = opts.bed.nodeAgent.readLog(opts.namespace, p.metadata.name);
      section(`pod ${p.metadata.name} log (${opts.bed.nodeAgent.logPath(opts.namespace, p.metadata.name)}, last 60 lines)`, tail(log, 60));
    }
  }
  return parts.join('\n');
}
