import { expect } from 'chai';
import { resultLine } from './result-line.js';

describe('predict-batch result lines', () => {
  it('labels a row with its argmax (ties to the lower index) and keeps every probability', () => {
    const probs = new Float32Array([0.2, 0.8, 0.5, 0.5, 0.1234567, 0.8765433]);
    expect(resultLine('a.jpg', probs, 0, ['cat', 'dog'])).to.deep.equal({ path: 'a.jpg', label: 'dog', confidence: 0.8, probabilities: { cat: 0.2, dog: 0.8 } });
    expect(resultLine('b.jpg', probs, 1, ['cat', 'dog']).label).to.equal('cat');
    expect(resultLine('c.jpg', probs, 2, ['cat', 'dog']).probabilities).to.deep.equal({ cat: 0.123457, dog: 0.876543 });
  });
});
