import { expect } from 'chai';
import { TerminalError } from '../shared/errors.js';
import { modelIdentity, parseServeConfig } from './config.js';

describe('serve config', () => {
  it('applies defaults, converts flag strings, and lets flags win over the environment', () => {
    const c = parseServeConfig({ model: 'gs://b/models/cats/v3', port: '9000', workers: '1' }, { PORT: '7000', KENNEL_SERVE_WORKERS: '4' });
    expect(c).to.include({ model: 'gs://b/models/cats/v3', port: 9000, workers: 1, host: '0.0.0.0', maxBatchSize: 8, backend: 'auto', failedExitSeconds: 60 });
    expect(Object.isFrozen(c)).to.equal(true);
  });

  it('takes --min-confidence from the flag or KENNEL_MIN_CONFIDENCE, 0 by default', () => {
    expect(parseServeConfig({ model: 'file:///m' }, {}).minConfidence).to.equal(0);
    expect(parseServeConfig({ model: 'file:///m', minConfidence: '0.75' }, {}).minConfidence).to.equal(0.75);
    expect(parseServeConfig({ model: 'file:///m' }, { KENNEL_MIN_CONFIDENCE: '0.6' }).minConfidence).to.equal(0.6);
  });

  it('reads the model URI and PORT from the environment', () => {
    const c = parseServeConfig({}, { KENNEL_MODEL_URI: 'file:///m/v1', PORT: '8081' });
    expect(c).to.include({ model: 'file:///m/v1', port: 8081 });
  });

  it('rejects a missing model and bad numbers with a clear TerminalError', () => {
    expect(() => parseServeConfig({}, {})).to.throw(TerminalError, /model/);
    expect(() => parseServeConfig({ model: 'file:///m', port: 'eighty' }, {})).to.throw(TerminalError, /port/);
    expect(() => parseServeConfig({ model: 'file:///m', workers: '-1' }, {})).to.throw(TerminalError, /workers/);
    expect(() => parseServeConfig({ model: 'file:///m', backend: 'gpu' }, {})).to.throw(TerminalError, /backend/);
    expect(() => parseServeConfig({ model: 'file:///m', minConfidence: '1.5' }, {})).to.throw(TerminalError, /minConfidence/);
  });

  it('derives the model identity from the URI unless given', () => {
    expect(modelIdentity(parseServeConfig({ model: 'gs://bucket/kennel/cats-dogs/v12' }, {}))).to.deep.equal({ name: 'cats-dogs', version: 'v12', versionRecorded: true });
    expect(modelIdentity(parseServeConfig({ model: 'gs://bucket/x/y', modelName: 'pets', modelVersion: '3' }, {}))).to.deep.equal({ name: 'pets', version: '3', versionRecorded: true });
  });

  it('does not take a local folder name for a version', () => {
    expect(modelIdentity(parseServeConfig({ model: 'file:///home/me/work/model' }, {}))).to.deep.equal({ name: 'work', version: 'model', versionRecorded: false });
    for (const v of ['7', 'v3', '1.2.0', '2026-01-05']) expect(modelIdentity(parseServeConfig({ model: `file:///m/cats/${v}` }, {})).versionRecorded, v).to.equal(true);
  });
});
