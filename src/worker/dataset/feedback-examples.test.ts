import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createFileStorage } from '../../shared/storage/index.js';
import { collectFeedbackExamples } from './feedback-examples.js';
import { feedbackRecord, testImage, writeFeedbackLog } from './test-support/prediction-log-fixture.js';

describe('feedback examples from a prediction log', () => {
  let dir: string;
  let log: string;
  const storage = createFileStorage();
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kennel-fb-'));
    log = `${pathToFileURL(dir).href}/pets`;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps the latest feedback per prediction, then per image, only for stored images, and counts everything it leaves out', async () => {
    const [a, b, c, d] = await Promise.all([testImage(40, 1), testImage(120, 2), testImage(200, 3), testImage(90, 4)]);
    const sha = (x: { sha256: string } | undefined) => x?.sha256 as string;
    await writeFeedbackLog(
      storage,
      log,
      [
        // Corrected twice (on two replicas): the later word wins.
        feedbackRecord({ id: 'p1', sha256: sha(a), label: 'dog', time: '2026-11-20T10:00:01.000Z' }),
        feedbackRecord({ id: 'p1', sha256: sha(a), label: 'cat', time: '2026-11-20T10:00:05.000Z' }),
        // The same photo predicted again and labelled differently later: a conflict, the later wins.
        feedbackRecord({ id: 'p2', sha256: sha(b), label: 'dog', time: '2026-11-20T10:00:02.000Z' }),
        feedbackRecord({ id: 'p3', sha256: sha(b), label: 'cat', predicted: 'dog', time: '2026-11-20T10:00:03.000Z' }),
        // A confirmation.
        feedbackRecord({ id: 'p4', sha256: sha(c), label: 'cat', time: '2026-11-20T10:00:04.000Z' }),
        // Another model's.
        feedbackRecord({ id: 'p5', sha256: sha(c), label: 'dog', model: 'birds' }),
        '{"kind":"feedback","torn',
        'not json at all',
      ],
      [a!.bytes, b!.bytes, c!.bytes],
    );
    // An image that was never stored (not sampled).
    await writeFeedbackLog(storage, log, [feedbackRecord({ id: 'p6', sha256: sha(d), label: 'dog' })], [], 1);

    const { examples, stats } = await collectFeedbackExamples(log, storage, { model: 'pets' });
    expect(examples.map((e) => [e.label, e.sha256, e.predicted])).to.deep.equal(
      [
        ['cat', sha(a), 'cat'],
        ['cat', sha(b), 'dog'],
        ['cat', sha(c), 'cat'],
      ].sort((x, y) => (x[1]! < y[1]! ? -1 : 1)),
    );
    expect(examples.every((e) => e.imageUri === `${log}/images/${e.sha256}`)).to.equal(true);
    expect(stats).to.deep.equal({ objects: 2, records: 7, invalidLines: 2, unreadableObjects: 0, filteredOut: 1, superseded: 1, conflicting: 1, confirmations: 0, withoutImage: 1 });

    const wrong = await collectFeedbackExamples(log, storage, { model: 'pets', wrongOnly: true });
    expect(wrong.examples.map((e) => e.sha256)).to.deep.equal([sha(b)]);
    expect(wrong.stats.confirmations).to.equal(2);
    const since = await collectFeedbackExamples(log, storage, { since: new Date('2026-11-20T10:00:04.500Z') });
    expect(since.examples.map((e) => e.sha256)).to.deep.equal([sha(a)]);
  });

  it('finds nothing, without failing, in a log that has no feedback yet', async () => {
    const { examples, stats } = await collectFeedbackExamples(log, storage);
    expect(examples).to.deep.equal([]);
    expect(stats.objects).to.equal(0);
  });
});
