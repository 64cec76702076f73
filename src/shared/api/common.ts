import { Type, type Static, type TSchema, type TLiteral, type TUnion, type SchemaOptions } from '@sinclair/typebox';

/**
 * Building blocks shared by the three Kennel kinds. Every schema here is written so that the
 * CRD generator (`crd.ts`) can turn it into a *structural* OpenAPI v3 schema that a real
 * kube-apiserver accepts: unions of string literals become `enum`, records become
 * `additionalProperties`, and CEL rules travel as `x-kubernetes-validations`.
 */

export const GROUP = 'kennel.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** One CEL rule of a CRD schema, with the message the API server shows when it is false. */
export interface CelRule {
  rule: string;
  message: string;
  /** Field path (relative to the schema node) the error is reported on. */
  fieldPath?: string;
  /** `FieldValueInvalid` (default), `FieldValueForbidden`, `FieldValueRequired` or `FieldValueDuplicate`. */
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** Schema options plus the Kubernetes extensions the generator understands. */
export interface KubeSchemaOptions extends SchemaOptions {
  description: string;
  'x-kubernetes-validations'?: CelRule[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

/** A string restricted to `values`; becomes `{type: string, enum: [...]}` in the CRD. */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: KubeSchemaOptions,
): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(
    values.map((v: T[number]) => Type.Literal(v)),
    options,
  );
}

/** Kubernetes resource.Quantity pattern, as controller-gen emits it. */
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

/** A resource quantity (`500m`, `2Gi`, `1`): an int-or-string as in core Kubernetes types. */
export function Quantity(description: string): TUnion<[ReturnType<typeof Type.Integer>, ReturnType<typeof Type.String>]> {
  return Type.Union([Type.Integer(), Type.String({ pattern: QUANTITY_PATTERN })], {
    description,
    'x-kubernetes-int-or-string': true,
  });
}
export type Quantity = number | string;

/**
 * A GCS bucket name (the worker's test, src/shared/storage/uri.ts, which must agree: a URI
 * admission lets through and the worker refuses fails only once the Job runs).
 */
export const GCS_BUCKET_PATTERN = '[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]';
/** The worker's own words for a gs:// URI without a valid bucket (InvalidStorageUriError). */
export const GS_URI_EXPECTATION = 'expected gs://<bucket>/<prefix> with a valid bucket name';
const GS_URI_PATTERN = `^gs://${GCS_BUCKET_PATTERN}(/.*)?$`;
const GS_URI = new RegExp(GS_URI_PATTERN);

/** A storage prefix the worker and server can read: `gs://bucket/prefix` or `file:///path`. */
export function StorageUri(field: string, description: string): ReturnType<typeof Type.String> {
  return Type.String({
    description,
    minLength: 1,
    maxLength: 1024,
    'x-kubernetes-validations': [
      {
        rule: "self.startsWith('gs://') || self.startsWith('file://')",
        message: `${field} must start with gs:// or file:// (for example gs://my-bucket/datasets/cats-dogs)`,
      },
      {
        rule: `!self.startsWith('gs://') || self.matches('${GS_URI_PATTERN}')`,
        message: `${field}: ${GS_URI_EXPECTATION}`,
      },
    ],
  } satisfies KubeSchemaOptions);
}

/** Why `uri` is not one the worker can read (the same tests as the CEL rules of {@link StorageUri}); empty when it is. */
export function storageUriErrors(field: string, uri: string): string[] {
  if (!uri.startsWith('gs://') && !uri.startsWith('file://')) return [`${field} must start with gs:// or file://`];
  if (uri.startsWith('gs://') && !GS_URI.test(uri)) return [`${field}: ${GS_URI_EXPECTATION}`];
  return [];
}

/** A duration such as `30s`, `2m`, `1h30m` (Prometheus style, no fractions). */
export const DURATION_PATTERN = '^([0-9]+(ms|s|m|h))+$';

export function Duration(description: string): ReturnType<typeof Type.String> {
  return Type.String({ description, pattern: DURATION_PATTERN, maxLength: 32 });
}

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * Milliseconds in a {@link Duration} string; throws on a string the pattern rejects, which
 * admission already prevents.
 */
export function parseDurationMs(text: string): number {
  if (!new RegExp(DURATION_PATTERN).test(text)) throw new Error(`invalid duration "${text}" (expected e.g. 30s, 2m, 1h30m)`);
  let total = 0;
  for (const m of text.matchAll(/([0-9]+)(ms|s|m|h)/g)) {
    total += Number(m[1]) * DURATION_UNITS_MS[m[2] as keyof typeof DURATION_UNITS_MS];
  }
  return total;
}

/** A Kubernetes object name usable as a DNS-1123 label (also a label value). */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

export const ConditionStatuses = ['True', 'False', 'Unknown'] as const;
export type ConditionStatus = (typeof ConditionStatuses)[number];

/** metav1.Condition, as kstatus, Argo CD and Flux read it. */
export const Condition = Type.Object(
  {
    type: Type.String({
      description: 'Type of condition in CamelCase, e.g. Ready.',
      maxLength: 316,
      pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    }),
    status: StringEnum(ConditionStatuses, { description: 'Status of the condition: True, False or Unknown.' }),
    observedGeneration: Type.Optional(
      Type.Integer({ description: 'metadata.generation the condition was computed from.', minimum: 0 }),
    ),
    lastTransitionTime: Type.String({
      description: 'When the condition last changed status (RFC 3339).',
      format: 'date-time',
    }),
    reason: Type.String({
      description: 'CamelCase reason for the last transition; never empty. Says whether the state is transient or terminal.',
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    }),
    message: Type.String({ description: 'Human-readable details about the transition.', maxLength: 32768 }),
  },
  { description: 'A metav1.Condition describing one aspect of the current state.' },
);
export type Condition = Static<typeof Condition>;

/** The `conditions` list of every status: a map keyed by `type`. */
export function Conditions(): ReturnType<typeof Type.Array<typeof Condition>> {
  return Type.Array(Condition, {
    description: 'Latest observations of the object. Every kind has a summary Ready condition.',
    maxItems: 16,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  } satisfies KubeSchemaOptions);
}

/** Container resource requests and limits (a subset of core/v1 ResourceRequirements). */
export const ResourceRequirements = Type.Object(
  {
    requests: Type.Optional(
      Type.Record(Type.String(), Quantity('Amount of a resource requested, e.g. cpu: 500m, memory: 2Gi.'), {
        description: 'Minimum resources the pod needs to be scheduled.',
      }),
    ),
    limits: Type.Optional(
      Type.Record(Type.String(), Quantity('Maximum amount of a resource, e.g. memory: 3Gi.'), {
        description: 'Maximum resources the container may use; exceeding the memory limit is an OOMKill.',
      }),
    ),
  },
  { description: 'Compute resources of the container (requests and limits, as in core/v1).' },
);
export type ResourceRequirements = Static<typeof ResourceRequirements>;

/** Minimal ObjectMeta: what Kennel reads from the objects it parses. */
export const ObjectMeta = Type.Object(
  {
    name: Type.String({ description: 'Object name.' }),
    namespace: Type.Optional(Type.String({ description: 'Object namespace.' })),
    uid: Type.Optional(Type.String({ description: 'Unique id set by the API server.' })),
    generation: Type.Optional(Type.Integer({ description: 'Spec generation set by the API server.' })),
    resourceVersion: Type.Optional(Type.String({ description: 'Opaque version for optimistic concurrency.' })),
    labels: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Labels.' })),
    annotations: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Annotations.' })),
    creationTimestamp: Type.Optional(Type.Unknown({ description: 'Creation time (string or Date).' })),
    deletionTimestamp: Type.Optional(Type.Unknown({ description: 'Deletion time (string or Date).' })),
    finalizers: Type.Optional(Type.Array(Type.String(), { description: 'Finalizers.' })),
    ownerReferences: Type.Optional(Type.Array(Type.Unknown(), { description: 'Owner references.' })),
  },
  { description: 'Standard object metadata.' },
);
export type ObjectMeta = Static<typeof ObjectMeta>;

/** The shape of a whole custom resource, for parsing at the boundary. */
export function Resource<K extends string, S extends TSchema, T extends TSchema>(kind: K, spec: S, status: T) {
  return Type.Object({
    apiVersion: Type.Literal(API_VERSION, { description: `Always ${API_VERSION}.` }),
    kind: Type.Literal(kind, { description: `Always ${kind}.` }),
    metadata: ObjectMeta,
    spec,
    status: Type.Optional(status),
  });
}
