import { expect } from 'chai';
import { exampleBatchPrediction, exampleInferenceService, exampleModelVersion, exampleTrainingRun, exampleTrainingSweep, INVALID_CASES } from '../../../test/fixtures/api-examples.js';
import { describeErrors, parseBatchPrediction, parseInferenceService, parseModelVersion, parseTrainingRun, parseTrainingSweep, type ParseResult } from './parse.js';

const PARSERS: Record<string, (value: unknown) => ParseResult<unknown>> = {
  TrainingRun: parseTrainingRun,
  ModelVersion: parseModelVersion,
  InferenceService: parseInferenceService,
  BatchPrediction: parseBatchPrediction,
  TrainingSweep: parseTrainingSweep,
};

function parseAny(kind: string, value: unknown): ParseResult<unknown> {
  const parse = PARSERS[kind];
  if (!parse) throw new Error(`no parser for ${kind}`);
  return parse(value);
}

describe('api parse', () => {
  it('accepts the examples and returns deeply frozen copies', () => {
    const input = exampleTrainingRun();
    const run = parseTrainingRun(input);
    expect(run.ok, JSON.stringify(run)).to.equal(true);
    if (!run.ok) return;
    expect(run.value).to.deep.equal(input);
    expect(run.value).not.to.equal(input);
    expect(Object.isFrozen(run.value.spec.dataset)).to.equal(true);
    expect(parseModelVersion(exampleModelVersion()).ok).to.equal(true);
    expect(parseInferenceService(exampleInferenceService()).ok).to.equal(true);
    expect(parseBatchPrediction(exampleBatchPrediction()).ok).to.equal(true);
    const sweep = parseTrainingSweep(exampleTrainingSweep());
    expect(sweep.ok, JSON.stringify(sweep)).to.equal(true);
  });

  it('finds what a sweep\'s CEL rules cannot: an image size an architecture of the space cannot take, a grid too big, a bad template', () => {
    const sizes = exampleTrainingSweep();
    sizes.spec.search.parameters.architecture = { values: ['simple-cnn', 'mobilenet-v2'] };
    sizes.spec.search.parameters.imageSize = { values: [48, 96] };
    const r1 = parseTrainingSweep(sizes);
    expect(r1.ok).to.equal(false);
    if (!r1.ok) expect(r1.errors.join('\n')).to.contain('pair architecture mobilenet-v2 with imageSize 48').and.not.contain('simple-cnn with');
    const big = exampleTrainingSweep();
    delete big.spec.maxTrials;
    big.spec.search.parameters.epochs = { values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13] };
    const r2 = parseTrainingSweep(big);
    expect(r2.ok).to.equal(false);
    if (!r2.ok) expect(r2.errors.join('\n')).to.contain('the grid has 104 combinations, more than 100');
    big.spec.maxTrials = 5;
    expect(parseTrainingSweep(big).ok).to.equal(true);
    const template = exampleTrainingSweep();
    template.spec.template.dataset = { uri: 'https://example.com/photos' };
    const r3 = parseTrainingSweep(template);
    expect(r3.ok).to.equal(false);
    if (!r3.ok) expect(r3.errors.join('\n')).to.contain('/spec/template/dataset/uri');
  });

  it('tells an output beside the input from one inside it', () => {
    const beside = exampleBatchPrediction();
    beside.spec.input.uri = 'gs://bucket/photos';
    beside.spec.outputUri = 'gs://bucket/photos-labels';
    expect(parseBatchPrediction(beside).ok).to.equal(true);
    beside.spec.outputUri = 'gs://bucket/photos';
    expect(parseBatchPrediction(beside).ok).to.equal(false);
  });

  it('accepts a minimal TrainingRun and a status with conditions', () => {
    const result = parseTrainingRun({
      apiVersion: 'kennel.dev/v1alpha1',
      kind: 'TrainingRun',
      metadata: { name: 'r', namespace: 'ns', generation: 2 },
      spec: { model: 'm', dataset: { uri: 'file:///data' } },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False', reason: 'Training', message: 'epoch 1/3', lastTransitionTime: '2026-01-01T00:00:00Z' }],
      },
    });
    expect(result.ok, JSON.stringify(result)).to.equal(true);
  });

  it('rejects a bad timestamp in status', () => {
    const run = exampleTrainingRun();
    run.status = { startTime: 'yesterday' };
    const result = parseTrainingRun(run);
    expect(result.ok).to.equal(false);
    if (!result.ok) expect(result.errors.join('\n')).to.contain('/status/startTime');
  });

  for (const c of INVALID_CASES) {
    it(`rejects ${c.title}`, () => {
      const result = parseAny(c.kind, c.make());
      expect(result.ok).to.equal(false);
      if (!result.ok) expect(result.errors.join('\n')).to.contain(c.message);
    });
  }

  it('rejects the wrong kind and lists every problem', () => {
    const result = parseTrainingRun({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: {} });
    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect(result.errors.some((e) => e.startsWith('/kind'))).to.equal(true);
    expect(result.errors.some((e) => e.startsWith('/spec/model'))).to.equal(true);
    expect(describeErrors(result.errors, 1)).to.match(/and \d+ more$/);
  });
});
