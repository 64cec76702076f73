import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createPredictClient } from './predict-client.js';

/** A real HTTP server whose answer per request is chosen by the test. */
async function listen(handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('createPredictClient', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('posts the image as multipart field "file" to /predict and reads label, confidence and version', async () => {
    let seen: { path?: string; type?: string; body?: string } = {};
    const s = await listen((req, res, body) => {
      seen = { path: req.url ?? '', type: req.headers['content-type'] ?? '', body: body.toString('latin1') };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ label: 'dog', confidence: 0.75, version: '3', probabilities: { cat: 0.25, dog: 0.75 } }));
    });
    server = s.server;
    const out = await createPredictClient({ baseUrl: s.url, timeoutMs: 5000 })(Buffer.from('JPEGBYTES'), 'rex.jpg');
    expect(out).to.include({ ok: true, label: 'dog', confidence: 0.75, version: '3', top: 'dog' });
    expect(out.latencyMs).to.be.greaterThan(0);
    expect(seen.path).to.equal('/predict');
    expect(seen.type).to.match(/^multipart\/form-data; boundary=/);
    expect(seen.body).to.match(/name="file"; filename="rex\.jpg"/);
    expect(seen.body).to.include('JPEGBYTES');
  });

  it('takes label null (the model was unsure) as an answer, with its top class and prediction id', async () => {
    const s = await listen((_req, res) => res.end(JSON.stringify({ label: null, confidence: 0.55, version: '3', probabilities: { cat: 0.45, dog: 0.55 }, predictionId: 'kp1.x.y' })));
    server = s.server;
    const out = await createPredictClient({ baseUrl: s.url, timeoutMs: 5000 })(Buffer.from('x'), 'a.jpg');
    expect(out).to.include({ ok: true, label: null, confidence: 0.55, top: 'dog', predictionId: 'kp1.x.y' });
  });

  it('names HTTP failures by status and the server reason', async () => {
    const s = await listen((_req, res) => {
      res.statusCode = 503;
      res.end(JSON.stringify({ error: 'model is still loading', reason: 'NotReady' }));
    });
    server = s.server;
    const out = await createPredictClient({ baseUrl: s.url, timeoutMs: 5000 })(Buffer.from('x'), 'a.jpg');
    expect(out).to.include({ ok: false, kind: 'HTTP 503 NotReady', message: 'model is still loading' });
  });

  it('calls a 200 without a label a bad response, and a non-JSON error just its status', async () => {
    let n = 0;
    const s = await listen((_req, res) => {
      if (n++ === 0) res.end('<html>hello</html>');
      else {
        res.statusCode = 502;
        res.end('Bad Gateway');
      }
    });
    server = s.server;
    const client = createPredictClient({ baseUrl: s.url, timeoutMs: 5000 });
    expect(await client(Buffer.from('x'), 'a.jpg')).to.include({ ok: false, kind: 'bad response' });
    expect(await client(Buffer.from('x'), 'a.jpg')).to.include({ ok: false, kind: 'HTTP 502', message: 'Bad Gateway' });
  });

  it('times out a request that gets no answer', async () => {
    const s = await listen(() => undefined);
    server = s.server;
    const out = await createPredictClient({ baseUrl: s.url, timeoutMs: 200 })(Buffer.from('x'), 'a.jpg');
    expect(out).to.include({ ok: false, kind: 'timeout' });
    s.server.closeAllConnections();
  });

  it('names a refused connection', async () => {
    const s = await listen(() => undefined);
    await new Promise<void>((resolve) => s.server.close(() => resolve()));
    const out = await createPredictClient({ baseUrl: s.url, timeoutMs: 2000 })(Buffer.from('x'), 'a.jpg');
    expect(out).to.include({ ok: false, kind: 'connection refused' });
  });

  it('names a connection dropped mid-request', async () => {
    const s = await listen((req) => req.socket.destroy());
    server = s.server;
    const out = await createPredictClient({ baseUrl: s.url, timeoutMs: 2000 })(Buffer.from('x'), 'a.jpg');
    expect(out).to.include({ ok: false, kind: 'connection reset' });
  });
});
