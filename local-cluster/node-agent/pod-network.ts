import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { onExitCleanup } from '../exit-hooks.js';
import { reapCommandOnDeath } from '../orphan-reaper.js';

const run = promisify(execFile);

/** How pods get their address: a network namespace each on a bridge, or the host's loopback. */
export type PodNetworkMode = 'netns' | 'loopback';

export interface PodSandbox {
  /** The pod's IP: 10.244.N.M in netns mode; 127.0.0.1 in loopback mode. */
  readonly ip: string;
  /** The command prefix that runs a program inside the pod's network (empty in loopback mode). */
  readonly execPrefix: readonly string[];
}

export interface PodNetwork {
  readonly mode: PodNetworkMode;
  /** The host's address on the pod network (the bridge), reachable from host and pods alike. */
  readonly hostIp: string;
  /** `10.244.N.0/24` (netns mode). */
  readonly podCidr: string;
  /** Why netns mode was not used (loopback mode only). */
  readonly fallbackReason?: string;
  createSandbox(key: string): Promise<PodSandbox>;
  removeSandbox(key: string): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * No `ip` run may hang a pod's start for good: one that takes this long is killed, and its
 * failure is retried like any other (see PodRunner).
 */
const ipTimeoutMs = 20_000;

async function ip(args: string[]): Promise<void> {
  await run('ip', args, { timeout: ipTimeoutMs });
}

function ipBatch(options: string[], lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile('ip', [...options, '-batch', '-'], { timeout: ipTimeoutMs }, (err, _stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr }));
      else resolve();
    });
    child.stdin?.end(`${lines.join('\n')}\n`);
  });
}

function ipSync(args: string[]): void {
  try {
    execFileSync('ip', args, { stdio: 'ignore' });
  } catch {
    // Already gone.
  }
}

function loopbackNetwork(reason: string): PodNetwork {
  return {
    mode: 'loopback',
    hostIp: '127.0.0.1',
    podCidr: '127.0.0.0/8',
    fallbackReason: reason,
    createSandbox: () => Promise.resolve({ ip: '127.0.0.1', execPrefix: [] }),
    removeSandbox: () => Promise.resolve(),
    destroy: () => Promise.resolve(),
  };
}

/** Subnets (the N of 10.244.N.0/24) already on an interface of this host. */
async function usedSubnets(): Promise<Set<number>> {
  const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show']);
  const used = new Set<number>();
  for (const m of stdout.matchAll(/inet 10\.244\.(\d+)\./g)) used.add(Number(m[1]));
  return used;
}

/**
 * The pod network of one test bed: a Linux bridge `knbrN` holding 10.244.N.1/24 in the host's
 * namespace, and per pod a network namespace joined to it by a veth pair, with the pod's address
 * 10.244.N.M and a default route through the bridge. Processes on the host (tests, an operator
 * run in-process) reach pod IPs directly; pods reach the host at the bridge address. Several test
 * beds can run at once: each picks a free N.
 *
 * Needs root and iproute2; without them it falls back to loopback mode (every pod is 127.0.0.1,
 * so two pods must not listen on the same port) and says why.
 */
export async function createPodNetwork(opts: { prefer?: PodNetworkMode } = {}): Promise<PodNetwork> {
  if (opts.prefer === 'loopback') return loopbackNetwork('loopback mode requested');
  let subnet = -1;
  let bridge = '';
  // From the bridge's creation on, a process that dies while the bridge is set up leaves none: an
  // exit hook for an exit or a signal, the orphan reaper for a SIGKILL (a bridge left unconfigured
  // has no address, so later test beds do not even see its subnet as taken).
  let unregisterBridge = (): void => undefined;
  try {
    const used = await usedSubnets();
    for (let n = 1; n < 255 && subnet < 0; n++) {
      if (used.has(n)) continue;
      try {
        await ip(['link', 'add', `knbr${n}`, 'type', 'bridge']);
        subnet = n;
        bridge = `knbr${n}`;
        const name = bridge;
        const unhook = onExitCleanup(() => ipSync(['link', 'del', name]));
        const unreap = reapCommandOnDeath(`${name}:created`, `ip link del ${name}`);
        unregisterBridge = () => {
          unhook();
          unreap();
        };
      } catch {
        // Taken by a concurrent test bed: try the next one.
      }
    }
    if (subnet < 0) throw new Error('no free 10.244.N.0/24 subnet');
    await ip(['addr', 'add', `10.244.${subnet}.1/24`, 'dev', bridge]);
    await ip(['link', 'set', bridge, 'up']);
  } catch (err) {
    unregisterBridge();
    if (bridge) ipSync(['link', 'del', bridge]);
    const e = err as { code?: string; stderr?: string; message: string };
    const why = e.code === 'ENOENT' ? 'iproute2 (`ip`) is not installed' : (e.stderr?.trim() || e.message);
    return loopbackNetwork(`network namespaces unavailable: ${why}`);
  }

  const prefix = `kn${subnet}-`;
  const sandboxes = new Map<string, { index: number; netns: string }>();
  const freeIndexes = Array.from({ length: 252 }, (_, i) => i + 2);

  const destroySync = (): void => {
    for (const { netns } of sandboxes.values()) ipSync(['netns', 'del', netns]);
    sandboxes.clear();
    ipSync(['link', 'del', bridge]);
  };
  const unregister = onExitCleanup(destroySync);
  const unreap = reapCommandOnDeath(
    bridge,
    `for n in $(ip netns list | awk '{print $1}' | grep '^${prefix}'); do ip netns del "$n"; done; ip link del ${bridge}`,
  );
  // The clean-up above now covers the bridge too.
  unregisterBridge();

  return {
    mode: 'netns',
    hostIp: `10.244.${subnet}.1`,
    podCidr: `10.244.${subnet}.0/24`,
    async createSandbox(key) {
      if (sandboxes.has(key)) throw new Error(`sandbox ${key} exists`);
      const index = freeIndexes.shift();
      if (index === undefined) throw new Error('pod network is full');
      const netns = `${prefix}${index}`;
      const hostVeth = `knv${subnet}x${index}`;
      const podIp = `10.244.${subnet}.${index}`;
      sandboxes.set(key, { index, netns });
      try {
        // Left by an earlier test bed on the same subnet: a killed one, or one a pod process
        // outlived, keeping its namespace and so the host end of its veth alive (this name then
        // failed with "RTNETLINK answers: File exists"). The names are ours: the leftovers go.
        if (existsSync(`/run/netns/${netns}`)) await ip(['netns', 'del', netns]);
        if (existsSync(`/sys/class/net/${hostVeth}`)) await ip(['link', 'del', hostVeth]).catch(() => undefined);
        await ip(['netns', 'add', netns]);
        // Two `ip -batch` runs instead of seven processes: this is on every pod's start path.
        await ipBatch([], [`link add ${hostVeth} type veth peer name eth0 netns ${netns}`, `link set ${hostVeth} master ${bridge} up`]);
        await ipBatch(['-n', netns], [
          `addr add ${podIp}/24 dev eth0`,
          'link set eth0 up',
          'link set lo up',
          `route add default via 10.244.${subnet}.1`,
        ]);
      } catch (err) {
        ipSync(['netns', 'del', netns]);
        sandboxes.delete(key);
        freeIndexes.push(index);
        throw err;
      }
      return { ip: podIp, execPrefix: ['ip', 'netns', 'exec', netns] };
    },
    async removeSandbox(key) {
      const sandbox = sandboxes.get(key);
      if (!sandbox) return;
      sandboxes.delete(key);
      // Deleting the namespace removes its end of the veth pair, and with it the host's end.
      await ip(['netns', 'del', sandbox.netns]).catch(() => undefined);
      freeIndexes.push(sandbox.index);
    },
    async destroy() {
      destroySync();
      unregister();
      unreap();
    },
  };
}
