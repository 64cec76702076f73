import { expect } from 'chai';
import { mostConfidentMistakes } from './confident-mistakes.js';

describe('mostConfidentMistakes', () => {
  const classes = ['cat', 'dog', 'fox'];
  const labels = [0, 1, 2, 0, 1];
  // rows: right, wrong (cat 0.7), wrong (dog 0.9), wrong (fox 0.5), right
  const probabilities = new Float32Array([0.8, 0.1, 0.1, 0.7, 0.2, 0.1, 0.05, 0.9, 0.05, 0.3, 0.2, 0.5, 0.1, 0.6, 0.3]);
  const names = ['cat/a.jpg', 'dog/b.jpg', 'fox/c.jpg', 'cat/d.jpg', 'dog/e.jpg'];

  it('lists the wrong answers, most confident first, with every probability', () => {
    const { mistakes, wrong } = mostConfidentMistakes(labels, probabilities, classes, names);
    expect(wrong).to.equal(3);
    expect(mistakes.map((m) => m.name)).to.deep.equal(['fox/c.jpg', 'dog/b.jpg', 'cat/d.jpg']);
    expect(mistakes[0]).to.include({ index: 2, actual: 'fox', predicted: 'dog' });
    expect(mistakes[0]?.confidence).to.be.closeTo(0.9, 1e-6);
    expect(Object.keys(mistakes[0]?.probabilities ?? {})).to.deep.equal(classes);
    expect(mistakes[2]).to.include({ actual: 'cat', predicted: 'fox' });
  });

  it('keeps at most `limit` and still counts them all', () => {
    const { mistakes, wrong } = mostConfidentMistakes(labels, probabilities, classes, names, 1);
    expect(mistakes.map((m) => m.name)).to.deep.equal(['fox/c.jpg']);
    expect(wrong).to.equal(3);
  });

  it('finds none when every answer is right', () => {
    expect(mostConfidentMistakes([0, 1], new Float32Array([0.9, 0.1, 0.2, 0.8]), ['a', 'b'], ['x', 'y'])).to.deep.equal({ mistakes: [], wrong: 0 });
  });
});
