import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Storage as GcsClient } from '@google-cloud/storage';
import { storageFor } from '../../../src/shared/storage/index.js';
import { startFakeGcs, type FakeGcs } from '../../../local-cluster/fake-gcs.js';
import { testbedBin } from '../../../local-cluster/testbed-bin.js';
import { startFlakyProxy, type FlakyProxy } from '../worker/flaky-proxy.js';
import { createTinyArtifact, loadPhotos, requirePhotos, spawnServe, waitFor } from './helpers.js';

describe('kennel serve: a model from gs:// (fake-gcs-server)', function () {
  this.timeout(180_000);
  let gcs: FakeGcs | undefined;
  let child: ChildProcess | undefined;
  let proxy: FlakyProxy | undefined;
  const cleanups: (() => Promise<void>)[] = [];

  before(async function () {
    requirePhotos(this);
    try {
      testbedBin('fake-gcs-server');
    } catch (err) {
      console.log(`    skipped: fake-gcs-server not built (npm run testbed:build): ${(err as Error).message}`);
      this.skip();
    }
    gcs = await startFakeGcs();
  });
  after(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await proxy?.close();
    await gcs?.stop();
    for (const c of cleanups) await c();
  });

  it('loads and verifies the artifact from the bucket, goes ready and answers', async () => {
    const endpoint = gcs!.endpoint;
    await new GcsClient({ apiEndpoint: endpoint, projectId: 'test' }).createBucket('kennel-models');
    const art = await createTinyArtifact({ evaluation: { accuracy: 0.8 } });
    cleanups.push(art.cleanup);
    const remoteUri = 'gs://kennel-models/kennel/pets/v3';
    const remote = storageFor(remoteUri, { env: { KENNEL_GCS_ENDPOINT: endpoint } });
    const local = path.join(art.dir, 'pets', 'v7');
    for (const name of await readdir(local)) await remote.write(`${remoteUri}/${name}`, await readFile(path.join(local, name)));

    const served = await spawnServe(['--model', remoteUri, '--workers', '1'], { KENNEL_GCS_ENDPOINT: endpoint });
    child = served.proc;
    await waitFor(async () => (await fetch(`${served.url}/readyz`)).ok, 120_000);
    const info = (await (await fetch(`${served.url}/api/model`)).json()) as { name: string; version: string; evaluation: { accuracy: number } };
    expect(info).to.deep.include({ name: 'pets', version: 'v3' });
    expect(info.evaluation.accuracy).to.equal(0.8);
    const [photo] = await loadPhotos(1);
    const res = await fetch(`${served.url}/predict`, { method: 'POST', body: new Uint8Array(photo!.bytes), headers: { 'content-type': 'image/jpeg' } });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.include({ model: 'pets', version: 'v3' });
    child.kill('SIGTERM');
    expect(await served.exit).to.equal(0);
  });

  it('loads through a misbehaving bucket (503, 429, connection resets) and goes ready; weights corrupted in transit are never loaded', async () => {
    const endpoint = gcs!.endpoint;
    const remoteUri = 'gs://kennel-models/kennel/pets/v3';
    proxy = await startFlakyProxy(endpoint);
    // Every second request to the bucket fails, in turn with 503, a reset and 429.
    proxy.faultEvery(2, [{ kind: 'status', status: 503 }, { kind: 'reset' }, { kind: 'status', status: 429 }]);
    const started = Date.now();
    const served = await spawnServe(['--model', remoteUri, '--workers', '1'], { KENNEL_GCS_ENDPOINT: proxy.endpoint });
    child = served.proc;
    await waitFor(async () => (await fetch(`${served.url}/readyz`)).ok, 120_000);
    const faults = proxy.injected();
    console.log(`      ready through ${faults.status} error statuses and ${faults.reset} resets in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(faults.status + faults.reset).to.be.at.least(2);
    const [photo] = await loadPhotos(1);
    const res = await fetch(`${served.url}/predict`, { method: 'POST', body: new Uint8Array(photo!.bytes), headers: { 'content-type': 'image/jpeg' } });
    expect(res.status).to.equal(200);
    child.kill('SIGTERM');
    expect(await served.exit).to.equal(0);

    // Every download of the weights arrives with one byte flipped: the server never goes ready.
    proxy.restore();
    proxy.faultNext(Number.POSITIVE_INFINITY, { kind: 'corrupt' }, /weights\.bin/);
    const broken = await spawnServe(['--model', remoteUri, '--workers', '1', '--failed-exit-seconds', '2'], { KENNEL_GCS_ENDPOINT: proxy.endpoint });
    child = broken.proc;
    let ready: { phase?: string; reason?: string; error?: string } = {};
    await waitFor(async () => {
      const r = await fetch(`${broken.url}/readyz`);
      ready = (await r.json()) as typeof ready;
      return r.status === 503 && ready.phase === 'failed';
    }, 120_000);
    console.log(`      corrupted weights: /readyz ${JSON.stringify(ready).slice(0, 200)}`);
    expect(ready.error).to.match(/did not match|digest|sha256/i);
    const refused = await fetch(`${broken.url}/predict`, { method: 'POST', body: new Uint8Array(photo!.bytes), headers: { 'content-type': 'image/jpeg' } });
    expect(refused.status).to.equal(503);
    expect(await broken.exit).to.equal(1);
    expect(proxy.injected().corrupt).to.be.at.least(1);
  });
});
