import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A prediction id that carries what feedback needs, signed so that it cannot be forged:
 *
 *     kp1.<base64url(JSON payload)>.<base64url(HMAC-SHA256(key, "kp1." + payload))[0..22]>
 *
 * Any replica holding the key (every `kennel serve` started with the same `--prediction-log`
 * shares it, see signing-key.ts) can check an id and learn which model and version made the
 * prediction, what it said, when, and which image it was about — with no lookup, no shared
 * store and no wait for the log to be written, so feedback works on any replica and after any
 * rollout or restart. The tag is 128 bits of the HMAC.
 */

const PREFIX = 'kp1';
const TAG_CHARS = 22;
/** Longest id accepted: the payload's fields are bounded (names 63, label 253, hash 64). */
export const MAX_PREDICTION_ID_LENGTH = 1024;

export interface PredictionClaims {
  /** The prediction's own id: joins the prediction record and its feedback. */
  readonly id: string;
  readonly model: string;
  readonly version: string;
  /** The predicted class: the model's top class, also when the answer was unsure (label null). */
  readonly label: string;
  /** True when the answer was label null (top-class probability below --min-confidence). */
  readonly unsure?: boolean;
  /** When it was made, epoch seconds. */
  readonly time: number;
  /** sha256 (hex) of the image bytes. */
  readonly sha256: string;
}

interface Payload {
  i: string;
  m: string;
  v: string;
  l: string;
  /** 1 when the answer was unsure (absent otherwise, to keep ids short). */
  u?: 1;
  t: number;
  h: string;
}

export type VerifyResult = { readonly ok: true; readonly claims: PredictionClaims } | { readonly ok: false; readonly why: string };

/** A fresh prediction id nonce: 96 random bits, 16 base64url characters. */
export function newPredictionNonce(): string {
  return randomBytes(12).toString('base64url');
}

export interface PredictionIdSigner {
  sign(claims: PredictionClaims): string;
  verify(token: string): VerifyResult;
}

export function createPredictionIdSigner(key: Buffer): PredictionIdSigner {
  if (key.length < 16) throw new Error('prediction id key must have at least 16 bytes');
  const tag = (signed: string): string => createHmac('sha256', key).update(signed).digest('base64url').slice(0, TAG_CHARS);
  return {
    sign(c) {
      const payload: Payload = { i: c.id, m: c.model, v: c.version, l: c.label, ...(c.unsure ? { u: 1 as const } : {}), t: c.time, h: c.sha256 };
      const signed = `${PREFIX}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
      return `${signed}.${tag(signed)}`;
    },
    verify(token) {
      if (token.length > MAX_PREDICTION_ID_LENGTH) return { ok: false, why: 'too long' };
      const parts = token.split('.');
      if (parts.length !== 3 || parts[0] !== PREFIX) return { ok: false, why: 'not a Kennel prediction id' };
      const signed = `${parts[0]}.${parts[1]}`;
      const expected = Buffer.from(tag(signed));
      const given = Buffer.from(parts[2] as string);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, why: 'signature does not match' };
      let p: Partial<Payload>;
      try {
        p = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as Partial<Payload>;
      } catch {
        return { ok: false, why: 'payload is not JSON' };
      }
      const str = (x: unknown): x is string => typeof x === 'string' && x.length > 0;
      if (!str(p.i) || !str(p.m) || !str(p.v) || !str(p.l) || !str(p.h) || typeof p.t !== 'number') return { ok: false, why: 'payload is incomplete' };
      if (p.u !== undefined && p.u !== 1) return { ok: false, why: 'payload is incomplete' };
      return { ok: true, claims: { id: p.i, model: p.m, version: p.v, label: p.l, ...(p.u === 1 ? { unsure: true } : {}), time: p.t, sha256: p.h } };
    },
  };
}
