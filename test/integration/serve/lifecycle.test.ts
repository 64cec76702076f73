import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import path from 'node:path';
import { createTinyArtifact, loadPhotos, requirePhotos, spawnServe, startTestServer, waitFor } from './helpers.js';

describe('kennel serve: lifecycle (child process)', function () {
  this.timeout(120_000);
  const cleanups: (() => Promise<void>)[] = [];
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const c of cleanups) await c();
  });

  it('a model that fails its sha256 check never goes ready: /readyz says why, and the process exits 1 after the grace period', async () => {
    const art = await createTinyArtifact();
    cleanups.push(art.cleanup);
    await appendFile(path.join(art.dir, 'pets', 'v7', 'weights.bin'), Buffer.from([1, 2, 3, 4]));
    const started = Date.now();
    const child = await spawnServe(['--model', art.uri, '--failed-exit-seconds', '3', '--workers', '1']);
    children.push(child.proc);
    expect((await fetch(`${child.url}/healthz`)).status).to.equal(200);
    await waitFor(async () => ((await (await fetch(`${child.url}/readyz`)).json()) as { phase: string }).phase === 'failed', 60_000);
    const ready = await fetch(`${child.url}/readyz`);
    expect(ready.status).to.equal(503);
    const body = (await ready.json()) as { error: string; reason: string };
    expect(body.reason).to.equal('digest-mismatch');
    expect(body.error).to.match(/sha256/);
    const predict = await fetch(`${child.url}/predict`, { method: 'POST', body: new Uint8Array([1]), headers: { 'content-type': 'image/jpeg' } });
    expect(predict.status).to.equal(503);
    expect(((await predict.json()) as { reason: string }).reason).to.equal('NotReady');
    expect((await fetch(`${child.url}/v2/health/ready`)).status).to.equal(503);
    const code = await child.exit;
    expect(code).to.equal(1);
    expect(Date.now() - started).to.be.lessThan(60_000);
    expect(child.lines.some((l) => l.msg === 'model failed to load')).to.equal(true);
  });

  it('SIGTERM: stops accepting, finishes the request in flight, exits 0', async function () {
    requirePhotos(this);
    const art = await createTinyArtifact();
    cleanups.push(art.cleanup);
    const [photo] = await loadPhotos(1);
    const child = await spawnServe(['--model', art.uri, '--workers', '1']);
    children.push(child.proc);
    await waitFor(async () => (await fetch(`${child.url}/readyz`)).ok, 90_000);
    const bytes = photo!.bytes;
    // Start an upload, send half of it, then SIGTERM, then the rest.
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${child.url}/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg', 'content-length': bytes.length } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write(bytes.subarray(0, bytes.length >> 1));
      setTimeout(() => {
        child.proc.kill('SIGTERM');
        setTimeout(() => req.end(bytes.subarray(bytes.length >> 1)), 500);
      }, 200);
    });
    const res = await answer;
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body)).to.have.property('label');
    expect(await child.exit).to.equal(0);
    await fetch(`${child.url}/healthz`).then(
      () => expect.fail('a stopped server must not accept connections'),
      () => undefined,
    );
    expect(child.lines.some((l) => l.msg === 'stopped')).to.equal(true);
  });

  it('a stopping server still answers what it received (the model stays loaded) while /readyz says 503', async function () {
    requirePhotos(this);
    const art = await createTinyArtifact();
    cleanups.push(art.cleanup);
    const [photo] = await loadPhotos(1);
    const server = await startTestServer(art.uri);
    cleanups.push(() => server.stop());
    // The state between SIGTERM and the last connection closing: a request routed just before.
    server.handle.deps.readiness.set({ phase: 'stopping' });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).to.equal(503);
    const res = await fetch(`${server.url}/predict`, { method: 'POST', body: new Uint8Array(photo!.bytes), headers: { 'content-type': 'image/jpeg' } });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.have.property('label');
  });

  it('shutdown answers the request in flight with Connection: close, so its keep-alive connection is not reused', async function () {
    requirePhotos(this);
    const art = await createTinyArtifact();
    cleanups.push(art.cleanup);
    const [photo] = await loadPhotos(1);
    const server = await startTestServer(art.uri);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (path: string, body?: Buffer, midway?: () => Promise<void>): Promise<{ status: number; connection?: string }> =>
      new Promise((resolve, reject) => {
        const req = request(`${server.url}${path}`, { agent, method: body ? 'POST' : 'GET', headers: body ? { 'content-type': 'image/jpeg', 'content-length': body.length } : {} }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        });
        req.on('error', reject);
        if (!body) return void req.end();
        req.write(body.subarray(0, body.length >> 1));
        void (midway ?? (() => Promise.resolve()))().then(() => req.end(body.subarray(body.length >> 1)));
      });
    expect(await send('/readyz')).to.deep.equal({ status: 200, connection: 'keep-alive' });
    let stopped: Promise<void> | undefined;
    const answer = await send('/predict', photo!.bytes, async () => {
      // Let the server read the headers first: until then the connection is idle, and closed.
      await new Promise((r) => setTimeout(r, 200));
      stopped = server.handle.shutdown();
      await new Promise((r) => setTimeout(r, 200));
    });
    expect(answer).to.deep.equal({ status: 200, connection: 'close' });
    await stopped;
    agent.destroy();
  });
});
