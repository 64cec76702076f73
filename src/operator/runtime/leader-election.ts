import type { Logger } from 'pino';
import type { KubeClient, KubeObject } from '../kube/client.js';
import { isAlreadyExists, isConflict } from '../kube/errors.js';
import { Resources } from '../kube/resources.js';
import type { Clock } from '../../shared/clock.js';

/** A coordination.k8s.io/v1 Lease as it travels on the wire. */
export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaderElectorOptions {
  kube: KubeClient;
  clock: Clock;
  logger: Logger;
  namespace: string;
  name: string;
  identity: string;
  /** How long a lease is valid after its last renewal (client-go default 15 s). */
  leaseDurationMs?: number;
  /** A leader that has not renewed for this long stops leading (10 s). */
  renewDeadlineMs?: number;
  /** Pause between attempts (2 s). */
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  /** Leadership is gone (renewal failed past the deadline): stop every controller now. */
  onStoppedLeading: () => void;
}

export interface LeaderElector {
  /** Campaigns until leading, then keeps renewing. Returns at once; progress via callbacks. */
  run(): void;
  isLeader(): boolean;
  /** Stops campaigning; a leader gives the lease up so a successor need not wait it out. */
  release(): Promise<void>;
}

/**
 * Leader election through a Lease, after client-go's `leaderelection`: a candidate tries every
 * retry period to create or take over the lease; a holder renews every retry period and steps
 * down when it could not renew within the renew deadline. Writes carry the resourceVersion read
 * just before, so two candidates racing for an expired lease cannot both win (one gets 409).
 *
 * Expiry is judged from the lease's `renewTime` against the local clock, and a candidate wakes
 * exactly when the lease it saw expires, so a successor takes over within the lease duration
 * (15 s) of the holder's last renewal. This assumes clocks agree to within
 * leaseDuration − renewDeadline (5 s): a holder that cannot renew has stopped leading by
 * renewTime + 10 s, before anyone may take over at renewTime + 15 s.
 */
export function createLeaderElector(options: LeaderElectorOptions): LeaderElector {
  const { kube, clock, logger } = options;
  const leaseDuration = options.leaseDurationMs ?? 15_000;
  const renewDeadline = options.renewDeadlineMs ?? 10_000;
  const retry = options.retryPeriodMs ?? 2_000;
  const log = logger.child({ lease: `${options.namespace}/${options.name}`, identity: options.identity });
  let leader = false;
  let running = false;
  let lastRenew = 0;
  let cancelTimer: (() => void) | undefined;
  let inFlight: Promise<unknown> = Promise.resolve();

  const micro = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

  /** Returns true when we hold the lease after this attempt, or the ms until it may be free. */
  async function tryAcquireOrRenew(): Promise<true | number> {
    const now = clock.now();
    const current = await kube.get<Lease>(Resources.lease, options.namespace, options.name);
    const spec = {
      holderIdentity: options.identity,
      leaseDurationSeconds: Math.round(leaseDuration / 1000),
      renewTime: micro(now),
    };
    if (!current) {
      await kube.create<Lease>(Resources.lease, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: options.name, namespace: options.namespace },
        spec: { ...spec, acquireTime: micro(now), leaseTransitions: 0 },
      });
      return true;
    }
    const held = current.spec?.holderIdentity;
    const mine = held === options.identity;
    if (held && !mine) {
      const renewed = Date.parse(current.spec?.renewTime ?? current.spec?.acquireTime ?? '');
      const duration = (current.spec?.leaseDurationSeconds ?? 0) * 1000;
      const expires = Number.isFinite(renewed) ? renewed + duration : 0;
      if (expires > now) return expires - now;
    }
    await kube.replace<Lease>(Resources.lease, {
      ...current,
      spec: {
        ...current.spec,
        ...spec,
        acquireTime: mine ? current.spec?.acquireTime ?? micro(now) : micro(now),
        leaseTransitions: (current.spec?.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    });
    return true;
  }

  function schedule(ms: number): void {
    if (!running) return;
    cancelTimer = clock.setTimer(() => {
      cancelTimer = undefined;
      inFlight = step();
    }, ms);
  }

  async function step(): Promise<void> {
    if (!running) return;
    let result: true | number | 'error';
    try {
      result = await tryAcquireOrRenew();
    } catch (err) {
      if (!isConflict(err) && !isAlreadyExists(err)) log.warn({ err }, 'lease attempt failed');
      result = 'error';
    }
    if (!running) return;
    const now = clock.now();
    if (result === true) {
      lastRenew = now;
      if (!leader) {
        leader = true;
        log.info({}, 'became leader');
        options.onStartedLeading();
      }
      schedule(retry);
      return;
    }
    if (leader) {
      // Someone else holds a valid lease (we were too slow), or renewal kept failing too long.
      if (result !== 'error' || now - lastRenew >= renewDeadline) {
        leader = false;
        running = false;
        log.error({ sinceRenewMs: now - lastRenew }, 'lost leadership');
        options.onStoppedLeading();
        return;
      }
      schedule(retry);
      return;
    }
    // Wake when the lease we saw expires, but never wait longer than the retry period.
    schedule(result === 'error' ? retry : Math.max(1, Math.min(retry, result + 1)));
  }

  return {
    run() {
      if (running) return;
      running = true;
      inFlight = step();
    },
    isLeader: () => leader,
    async release() {
      running = false;
      cancelTimer?.();
      await inFlight.catch(() => undefined);
      if (!leader) return;
      leader = false;
      try {
        const current = await kube.get<Lease>(Resources.lease, options.namespace, options.name);
        if (current?.spec?.holderIdentity !== options.identity) return;
        const now = clock.now();
        await kube.replace<Lease>(Resources.lease, {
          ...current,
          spec: { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: micro(now), acquireTime: micro(now) },
        });
        log.info({}, 'released lease');
      } catch (err) {
        log.warn({ err }, 'lease release failed; it expires on its own');
      }
    },
  };
}
