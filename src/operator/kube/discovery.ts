import type { Clock } from '../../shared/clock.js';
import type { KubeClient } from './client.js';
import { KubeApiError } from './errors.js';
import { apiVersionOf, type ResourceRef } from './resources.js';

/**
 * Answers "is this kind served?" from API discovery, e.g. whether the PodMonitoring CRD is
 * installed. Answers are cached for `ttlMs` so a reconcile does not cost a discovery call, and
 * a CRD installed later is noticed within that time.
 */
export interface Discovery {
  has(r: ResourceRef): Promise<boolean>;
}

export function createDiscovery(options: { kube: KubeClient; clock: Clock; ttlMs?: number }): Discovery {
  const ttl = options.ttlMs ?? 60_000;
  const cache = new Map<string, { at: number; value: boolean }>();
  return {
    async has(r) {
      const gv = apiVersionOf(r);
      const key = `${gv}/${r.plural}`;
      const hit = cache.get(key);
      if (hit && options.clock.now() - hit.at < ttl) return hit.value;
      let value: boolean;
      try {
        const list = await options.kube.request<{ resources?: Array<{ name: string }> }>({ path: r.group ? `/apis/${gv}` : `/api/${gv}` });
        value = (list.resources ?? []).some((x) => x.name === r.plural);
      } catch (err) {
        if (!(err instanceof KubeApiError && err.status === 404)) throw err;
        value = false;
      }
      cache.set(key, { at: options.clock.now(), value });
      return value;
    },
  };
}
