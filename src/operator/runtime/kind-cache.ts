import type { Condition } from '../../shared/api/common.js';
import type { ParseResult } from '../../shared/api/parse.js';
import type { KubeObject } from '../kube/client.js';
import type { Informer } from './informer.js';

/**
 * A Kennel object as the cache stores it: metadata, an unchecked spec, and its status, which the
 * operator itself writes and so reads back typed.
 */
export interface Stored<S> extends KubeObject {
  status?: S;
}

/** What every Kennel status has (all of a status' fields are optional: a new object has none). */
export interface KindStatus {
  phase?: string;
  observedGeneration?: number;
  conditions?: Condition[];
}

/** The status type of a kind. */
export type StatusOf<T> = T extends { status?: infer S extends KindStatus } ? NonNullable<S> : never;

/**
 * The informer of one Kennel kind, with the boundary parser of that kind: every object is parsed
 * (schema and CEL rules, then frozen) once per stored version — the result is kept beside the
 * cached object — however many reconciles and handlers read it.
 *
 * `valid` is what other kinds' controllers see of this one: objects that do not parse are left
 * out, as if absent (their own controller reports them with an InvalidSpec condition).
 */
export interface KindCache<T> extends Informer<Stored<StatusOf<T>>> {
  parse(obj: Stored<StatusOf<T>>): ParseResult<T>;
  /** The objects of `namespace` (of every watched namespace when absent) that parse. */
  valid(namespace?: string): T[];
}

export function createKindCache<T>(informer: Informer<Stored<StatusOf<T>>>, parse: (value: unknown) => ParseResult<T>): KindCache<T> {
  // The informer replaces an object on every change, so the object itself keys its parse.
  const parsed = new WeakMap<Stored<StatusOf<T>>, ParseResult<T>>();
  const parseOnce = (obj: Stored<StatusOf<T>>): ParseResult<T> => {
    let result = parsed.get(obj);
    if (!result) {
      result = parse(obj);
      parsed.set(obj, result);
    }
    return result;
  };
  return {
    ...informer,
    parse: parseOnce,
    valid(namespace) {
      const out: T[] = [];
      for (const obj of informer.list(namespace)) {
        const result = parseOnce(obj);
        if (result.ok) out.push(result.value);
      }
      return out;
    },
  };
}
