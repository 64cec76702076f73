import type { KubeObject, OwnerReference } from './client.js';

/**
 * The controller owner reference that makes `owner` the garbage-collection parent of a child
 * (deleting the owner deletes the child) and lets the child's events find their way back to it.
 */
export function controllerRef(owner: KubeObject): OwnerReference {
  const m = owner.metadata;
  if (!owner.apiVersion || !owner.kind || !m?.name || !m.uid) throw new Error('owner needs apiVersion, kind, metadata.name and metadata.uid');
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: m.name, uid: m.uid, controller: true, blockOwnerDeletion: true };
}

/** Returns `child` with `ref` as its only controller reference (other references kept). */
export function withOwner<T extends KubeObject>(child: T, ref: OwnerReference): T {
  const others = (child.metadata?.ownerReferences ?? []).filter((r) => !r.controller);
  return { ...child, metadata: { ...child.metadata, ownerReferences: [...others, ref] } };
}

/** The name of the controlling owner of `obj` when it is of the given kind and group. */
export function controllerOwnerName(obj: KubeObject, kind: string, group: string): string | undefined {
  const ref = obj.metadata?.ownerReferences?.find((r) => r.controller && r.kind === kind && r.apiVersion.split('/')[0] === group);
  return ref?.name;
}
