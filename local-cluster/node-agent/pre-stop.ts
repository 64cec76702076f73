import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Container, V1LifecycleHandler } from '@kubernetes/client-node';
import { resolvePort } from './probe.js';

export type HookResult = { ok: true; action: string } | { ok: false; action: string; message: string };

/**
 * Runs a container's preStop hook as the kubelet does before it sends SIGTERM, bounded by what
 * is left of the pod's grace period (`budgetMs`):
 * - `sleep.seconds`: waits that long (cut short at the end of the budget);
 * - `httpGet`: one GET to the pod's IP (or `host`), which fails on a status outside [200, 400);
 * - `exec` and `tcpSocket`: not run (the test bed has no container image to exec in, and the
 *   kubelet itself ignores the deprecated tcpSocket handler); reported as skipped.
 * A failed hook never stops the termination (the kubelet records FailedPreStopHook and goes on).
 */
export async function runPreStopHook(hook: V1LifecycleHandler, container: V1Container, podIp: string, budgetMs: number): Promise<HookResult> {
  if (hook.sleep) {
    const ms = Math.min(Math.max(hook.sleep.seconds, 0) * 1000, Math.max(budgetMs, 0));
    await sleep(ms);
    return { ok: true, action: `sleep ${hook.sleep.seconds}s` };
  }
  if (hook.httpGet) {
    const port = resolvePort(container, hook.httpGet.port as number | string);
    const path = hook.httpGet.path ?? '/';
    const action = `httpGet ${path}`;
    if (port === undefined) return { ok: false, action, message: `unknown port ${String(hook.httpGet.port)}` };
    const scheme = (hook.httpGet.scheme ?? 'HTTP').toLowerCase();
    const host = hook.httpGet.host ?? podIp;
    const headers = Object.fromEntries((hook.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
    try {
      const res = await fetch(`${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path.startsWith('/') ? path : `/${path}`}`, {
        headers,
        signal: AbortSignal.timeout(Math.max(budgetMs, 1)),
        redirect: 'manual',
      });
      await res.body?.cancel();
      return res.status >= 200 && res.status < 400 ? { ok: true, action } : { ok: false, action, message: `HTTP lifecycle hook failed with status ${res.status}` };
    } catch (err) {
      return { ok: false, action, message: err instanceof Error ? err.message : String(err) };
    }
  }
  if (hook.exec) return { ok: false, action: 'exec', message: 'exec hooks are not supported on the Kennel test bed node (no container image to exec in); skipped' };
  return { ok: false, action: 'tcpSocket', message: 'tcpSocket lifecycle hooks are deprecated and not run (as by the kubelet)' };
}
