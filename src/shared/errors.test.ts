import { expect } from 'chai';
import { HttpError, isTerminal, ReasonError, TerminalError } from './errors.js';

describe('ReasonError', () => {
  it('carries a reason, a message, a cause and the subclass name', () => {
    const cause = new Error('underneath');
    const err = new TerminalError('InvalidDataset', 'one class only', { cause });
    expect(err).to.be.instanceOf(ReasonError).and.instanceOf(Error);
    expect(err.reason).to.equal('InvalidDataset');
    expect(err.message).to.equal('one class only');
    expect(err.cause).to.equal(cause);
    expect(err.name).to.equal('TerminalError');
    expect(isTerminal(err)).to.equal(true);
    expect(isTerminal(new ReasonError('InvalidDataset', 'x'))).to.equal(false);
  });

  it('exposes an HttpError message only below 500', () => {
    expect(new HttpError(413, 'TooLarge', 'too large')).to.include({ status: 413, expose: true, reason: 'TooLarge', name: 'HttpError' });
    expect(new HttpError(500, 'Internal', 'boom')).to.include({ status: 500, expose: false });
  });
});
