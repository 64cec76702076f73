import { connect } from 'node:net';
import type { V1Container, V1Probe } from '@kubernetes/client-node';

export type ProbeResult = { ok: true } | { ok: false; message: string };

/** A named container port resolved to its number; numbers pass through. */
export function resolvePort(container: V1Container, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  if (port === undefined) return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true });
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    });
    socket.once('error', (err) => resolve({ ok: false, message: `dial tcp ${host}:${port}: ${err.message}` }));
  });
}

/**
 * One attempt of a probe against the pod's IP, as the kubelet makes it: an HTTP GET succeeds on a
 * status in [200, 400), a TCP probe on connect. Exec probes cannot run here (no container image to
 * exec in) and count as successful; the node agent logs that once.
 */
export async function runProbe(probe: V1Probe, container: V1Container, podIp: string): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) {
    const port = resolvePort(container, probe.httpGet.port as number | string);
    if (port === undefined) return { ok: false, message: `unknown port ${String(probe.httpGet.port)}` };
    const scheme = (probe.httpGet.scheme ?? 'HTTP').toLowerCase();
    const host = probe.httpGet.host ?? podIp;
    const path = probe.httpGet.path ?? '/';
    const headers = Object.fromEntries((probe.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
    try {
      const res = await fetch(`${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path.startsWith('/') ? path : `/${path}`}`, {
        headers: { 'user-agent': 'kube-probe/kennel-testbed', ...headers },
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
      await res.body?.cancel();
      return res.status >= 200 && res.status < 400 ? { ok: true } : { ok: false, message: `HTTP probe failed with statuscode: ${res.status}` };
    } catch (err) {
      return { ok: false, message: `Get ${path}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  if (probe.tcpSocket) {
    const port = resolvePort(container, probe.tcpSocket.port as number | string);
    if (port === undefined) return { ok: false, message: `unknown port ${String(probe.tcpSocket.port)}` };
    return tcpProbe(probe.tcpSocket.host ?? podIp, port, timeoutMs);
  }
  return { ok: true };
}
