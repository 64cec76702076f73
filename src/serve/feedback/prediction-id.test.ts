import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createPredictionIdSigner, newPredictionNonce } from './prediction-id.js';

const claims = { id: newPredictionNonce(), model: 'cats-dogs', version: '3', label: 'dog', time: 1_700_000_000, sha256: 'a'.repeat(64) };

describe('prediction ids', () => {
  it('carry what feedback needs and verify with the same key', () => {
    const key = randomBytes(32);
    const token = createPredictionIdSigner(key).sign(claims);
    expect(token).to.match(/^kp1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(token.length).to.be.below(300);
    // Another signer with the same key (another replica) reads it.
    expect(createPredictionIdSigner(Buffer.from(key)).verify(token)).to.deep.equal({ ok: true, claims });
    expect(claims.id).to.match(/^[A-Za-z0-9_-]{16}$/);
    expect(newPredictionNonce()).to.not.equal(newPredictionNonce());
  });

  it('say when the answer was unsure (label null) and stay short otherwise; the flag is signed like the rest', () => {
    const signer = createPredictionIdSigner(randomBytes(32));
    const sure = signer.sign(claims);
    const unsure = signer.sign({ ...claims, unsure: true });
    expect(signer.verify(unsure)).to.deep.equal({ ok: true, claims: { ...claims, unsure: true } });
    expect(JSON.parse(Buffer.from(sure.split('.')[1] as string, 'base64url').toString())).to.not.have.property('u');
    // Dropping the flag from a signed payload breaks the signature.
    const [, payload, tag] = unsure.split('.') as [string, string, string];
    const { u: _u, ...rest } = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    expect(signer.verify(`kp1.${Buffer.from(JSON.stringify(rest)).toString('base64url')}.${tag}`).ok).to.equal(false);
  });

  it('refuse an id signed with another key, a changed payload, a cut signature and garbage', () => {
    const signer = createPredictionIdSigner(randomBytes(32));
    const token = signer.sign(claims);
    const [, payload, tag] = token.split('.') as [string, string, string];
    const other = createPredictionIdSigner(randomBytes(32)).sign(claims);
    const changed = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), l: 'cat' })).toString('base64url');
    for (const bad of [other, `kp1.${changed}.${tag}`, `kp1.${payload}.${tag.slice(0, 21)}`, `kp2.${payload}.${tag}`, 'kp1', '', 'x'.repeat(2000), `kp1.${payload}`]) {
      const r = signer.verify(bad);
      expect(r.ok, bad.slice(0, 40)).to.equal(false);
    }
    // A validly signed payload that lacks fields is refused too.
    const empty = Buffer.from('{}').toString('base64url');
    expect(signer.verify(`kp1.${empty}.${signer.sign(claims).split('.')[2]}`).ok).to.equal(false);
  });

  it('need a key of at least 16 bytes', () => {
    expect(() => createPredictionIdSigner(Buffer.alloc(8))).to.throw(/16 bytes/);
  });
});
