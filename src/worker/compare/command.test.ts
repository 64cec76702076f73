import { expect } from 'chai';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { run } from './command.js';
import { labelsFor } from './read-models.js';
import { metadataFixture, metricsFixture } from './test-support/fixtures.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (c: Buffer) => (out += c.toString('utf8')));
  return { stream, text: () => out };
}

/**
 * `kennel compare` on artifacts written as files (metadata.json and metrics.json only: compare
 * reads nothing else), through the real file storage. Training real models is the integration
 * test's job (test/integration/worker/compare.test.ts).
 */
describe('kennel compare (command)', () => {
  let dir: string;
  const uri = (name: string): string => pathToFileURL(path.join(dir, name)).href;
  const compare = async (args: string[], opts: Record<string, unknown> = {}) => {
    const stdout = capture();
    const stderr = capture();
    const code = await run(args, opts, { stdout: stdout.stream, stderr: stderr.stream, env: {} });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-compare-'));
    const write = async (name: string, files: Record<string, unknown>) => {
      await mkdir(path.join(dir, name), { recursive: true });
      for (const [f, json] of Object.entries(files)) await writeFile(path.join(dir, name, f), JSON.stringify(json));
    };
    await write('runs/1/model', { 'metadata.json': metadataFixture(), 'metrics.json': metricsFixture(0.8, { precision: 0.7, recall: 0.9, f1: 0.79 }) });
    await write('runs/2/model', { 'metadata.json': metadataFixture({}, { epochs: 4 }), 'metrics.json': metricsFixture(0.9, { precision: 0.8, recall: 0.9, f1: 0.85 }) });
    await write('no-metrics', { 'metadata.json': metadataFixture() });
    await write('bad-metrics', { 'metadata.json': metadataFixture(), 'metrics.json': { accuracy: 'high' } });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the comparison, as text and as JSON, and writes the HTML page', async () => {
    const text = await compare([uri('runs/1/model'), path.join(dir, 'runs/2/model')]);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.match(/accuracy\s+80\.0%\s+90\.0% \(\+10\.0 pp\)/);
    expect(text.stdout).to.include('1/model').and.include('2/model');

    const html = path.join(dir, 'out', 'compare.html');
    const json = await compare([uri('runs/1/model'), uri('runs/2/model')], { output: 'json', html });
    expect(json.code, json.stderr).to.equal(0);
    const parsed = JSON.parse(json.stdout) as { models: { label: string }[]; metrics: { key: string; deltas: (number | null)[] }[] };
    expect(parsed.models.map((m) => m.label)).to.deep.equal(['1/model', '2/model']);
    expect(parsed.metrics.find((m) => m.key === 'accuracy')?.deltas[1]).to.be.closeTo(0.1, 1e-9);
    const page = await readFile(html, 'utf8');
    expect(page).to.include('<section id="curves">').and.include('data-model="2/model"');
  });

  it('compares ModelVersions read from stdin, in the order named, with their artifacts\' hyperparameters', async () => {
    const mv = (name: string, version: number, dirName: string, accuracy: number) => ({
      kind: 'ModelVersion',
      metadata: { name },
      spec: {
        model: 'pets', version, artifact: { uri: uri(dirName), format: 'tfjs-layers', sha256: 'a'.repeat(64) }, classes: ['cat', 'dog'], inputShape: [32, 32, 3],
        metrics: { ...metricsFixture(accuracy, { precision: 0.5, recall: 0.5, f1: 0.5 }), training: undefined, calibration: undefined },
        lineage: { dataset: { uri: 'gs://b/data', digest: 'd'.repeat(64) }, codeVersion: '0.1.0' },
      },
    });
    const list = JSON.stringify({ kind: 'List', items: [mv('pets-v1', 1, 'runs/1/model', 0.8), mv('pets-v2', 2, 'runs/2/model', 0.7)] });
    const stdout = capture();
    const stderr = capture();
    const code = await run(['pets-v2', 'pets-v1'], { modelVersions: ['-'], output: 'json' }, { stdout: stdout.stream, stderr: stderr.stream, stdin: Readable.from([list]), env: {} });
    expect(code, stderr.text()).to.equal(0);
    const c = JSON.parse(stdout.text()) as { models: { label: string; hyperparameters: { epochs: number } }[]; metrics: { key: string; deltas: number[] }[] };
    expect(c.models.map((m) => [m.label, m.hyperparameters.epochs])).to.deep.equal([['pets-v2', 4], ['pets-v1', 2]]);
    expect(c.metrics.find((r) => r.key === 'accuracy')?.deltas[1]).to.be.closeTo(0.1, 1e-9);
  });

  it('fails with a clear reason on bad input', async () => {
    const cases: [string[], Record<string, unknown>, RegExp][] = [
      [[uri('runs/1/model')], {}, /at least two model URIs/],
      [[uri('runs/1/model'), uri('absent')], {}, /no model artifact at file:.*absent \(metadata\.json not found\)/],
      [[uri('runs/1/model'), uri('no-metrics')], {}, /no-metrics has no metrics\.json/],
      [[uri('runs/1/model'), uri('bad-metrics')], {}, /invalid .*bad-metrics\/metrics\.json: \/precision: Expected required property/],
      [[uri('runs/1/model'), 'http://example.com/m'], {}, /InvalidUri/],
      [[uri('runs/1/model'), uri('runs/2/model')], { output: 'yaml' }, /--output must be text or json/],
      [['pets-v1'], { modelVersions: [path.join(dir, 'none.json')] }, /cannot read --model-versions/],
      [['pets-v1', 'pets-v2'], { modelVersions: [path.join(dir, 'runs/1/model/metadata.json')] }, /ModelVersion pets-v1 is not in the --model-versions input \(found: none\)/],
    ];
    for (const [args, opts, expected] of cases) {
      const res = await compare(args, opts);
      expect(res.code, args.join(' ')).to.equal(1);
      expect(res.stderr).to.match(/^kennel compare failed \(\w+\): /).and.match(expected);
    }
  });

  it('names columns by the shortest distinct end of their URIs', () => {
    expect(labelsFor(['gs://b/m/a', 'gs://b/m/b/'])).to.deep.equal(['a', 'b']);
    expect(labelsFor(['gs://b/1/model', 'gs://b/2/model'])).to.deep.equal(['1/model', '2/model']);
    expect(labelsFor(['gs://b/m', 'gs://b/m'])).to.deep.equal(['#1 m', '#2 m']);
  });
});
