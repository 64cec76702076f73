import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Testbed } from './testbed.js';
import { waitFor } from './net-utils.js';

/** The slice of a Kubernetes object the demo and the tests read. */
export interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; generation?: number; labels?: Record<string, string>; [k: string]: unknown };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown> & { phase?: string; conditions?: { type: string; status: string; reason: string; message: string }[] };
}

export interface KubeEvent {
  reason: string;
  message: string;
  type: string;
  involvedObject: { kind: string; name: string };
}

/**
 * Talks to the cluster the way a person does: through kubectl (the local cluster's), applying
 * files and reading `-o json`.
 */
export class Kubectl {
  constructor(
    /** The local cluster, or anything else that runs kubectl against a cluster. */
    private readonly bed: Pick<Testbed, 'kubectl'>,
    private readonly namespace: string,
    private readonly tmpDir: string,
  ) {}

  async run(args: readonly string[]): Promise<string> {
    try {
      return (await this.bed.kubectl(args)).stdout;
    } catch (err) {
      const e = err as { stderr?: string; message?: string };
      throw new Error(`kubectl ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
    }
  }

  /** Writes the object to a temporary YAML file and `kubectl apply -f`s it. */
  async apply(obj: object, fileName: string): Promise<string> {
    const file = path.join(this.tmpDir, fileName);
    await writeFile(file, stringify(obj));
    return this.run(['apply', '-n', this.namespace, '-f', file]);
  }

  async get(kind: string, name: string): Promise<Obj | undefined> {
    try {
      return JSON.parse(await this.run(['get', '-n', this.namespace, kind, name, '-o', 'json'])) as Obj;
    } catch (err) {
      if (/NotFound|not found/.test(String(err))) return undefined;
      throw err;
    }
  }

  async list(kind: string, selector?: string): Promise<Obj[]> {
    const out = await this.run(['get', '-n', this.namespace, kind, '-o', 'json', ...(selector ? ['-l', selector] : [])]);
    return (JSON.parse(out) as { items: Obj[] }).items;
  }

  async events(): Promise<KubeEvent[]> {
    return (JSON.parse(await this.run(['get', '-n', this.namespace, 'events', '-o', 'json'])) as { items: KubeEvent[] }).items;
  }

  /** Waits until `kind/name` exists and `accept` holds; the timeout error shows the last status seen. */
  async waitFor(kind: string, name: string, accept: (o: Obj) => boolean, what: string, timeoutMs: number): Promise<Obj> {
    let last: Obj | undefined;
    try {
      return await waitFor(
        async () => {
          last = await this.get(kind, name);
          return last && accept(last) ? last : undefined;
        },
        { timeoutMs, intervalMs: 1000, what },
      );
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\nlast ${kind}/${name} status: ${JSON.stringify(last?.status ?? 'absent', null, 1)}`);
    }
  }
}
