import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { HttpError } from '../shared/errors.js';
import { MAX_PREDICTION_ID_LENGTH } from './feedback/prediction-id.js';

/** Base64 text of one image; the KServe `{"b64": "..."}` convention. */
const B64 = Type.Object({ b64: Type.String() });

/** KServe v1 instance: `{"image_bytes": {"b64": ...}}` (TF Serving style) or `{"b64": ...}`. */
export const KServeInstance = Type.Union([Type.Object({ image_bytes: B64 }), B64]);
export const KServePredictRequest = Type.Object({ instances: Type.Array(KServeInstance, { minItems: 1 }) });
export type KServePredictRequest = Static<typeof KServePredictRequest>;

/** Open Inference Protocol v2 tensor input holding base64 images as BYTES. */
export const OipInput = Type.Object({
  name: Type.String({ maxLength: 256 }),
  shape: Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, maxItems: 2 }),
  datatype: Type.Literal('BYTES'),
  data: Type.Union([Type.Array(Type.String()), Type.Array(Type.Array(Type.String()))]),
  parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export const OipInferRequest = Type.Object({
  id: Type.Optional(Type.String({ maxLength: 256 })),
  parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  inputs: Type.Array(OipInput, { minItems: 1, maxItems: 1 }),
  outputs: Type.Optional(Type.Array(Type.Object({ name: Type.String() }))),
});
export type OipInferRequest = Static<typeof OipInferRequest>;

export const FeedbackRequest = Type.Object({
  /** The `predictionId` of an earlier answer (signed; see feedback/prediction-id.ts). */
  predictionId: Type.String({ minLength: 1, maxLength: MAX_PREDICTION_ID_LENGTH }),
  label: Type.String({ minLength: 1, maxLength: 256 }),
});
export type FeedbackRequest = Static<typeof FeedbackRequest>;

const compiled = {
  kserve: TypeCompiler.Compile(KServePredictRequest),
  oip: TypeCompiler.Compile(OipInferRequest),
  feedback: TypeCompiler.Compile(FeedbackRequest),
};

/** Validates a parsed JSON body; throws 400 InvalidRequest naming the first problem. */
export function parseBody<K extends keyof typeof compiled>(kind: K, value: unknown): ParsedOf<K> {
  const checker = compiled[kind];
  if (checker.Check(value)) return value as ParsedOf<K>;
  const first = checker.Errors(value).First();
  const where = first?.path || '/';
  throw new HttpError(400, 'InvalidRequest', `invalid request body at ${where}: ${first?.message ?? 'does not match the schema'}`);
}

type ParsedOf<K extends keyof typeof compiled> = K extends 'kserve' ? KServePredictRequest : K extends 'oip' ? OipInferRequest : FeedbackRequest;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict base64 decoding (Buffer.from silently skips bad characters); 400 on malformed text. */
export function decodeBase64(text: string, what: string): Buffer {
  if (text.length % 4 !== 0 || !BASE64.test(text)) throw new HttpError(400, 'MalformedBase64', `${what} is not valid base64`);
  const buf = Buffer.from(text, 'base64');
  if (buf.length === 0) throw new HttpError(400, 'EmptyBody', `${what} is empty`);
  return buf;
}
