import { expect } from 'chai';
import sharp from 'sharp';
import { renderConfusionSvg } from './confusion-svg.js';
import { renderCurvesSvg } from './curves-svg.js';
import { renderHistogramSvg } from './histogram-svg.js';
import { renderReliabilitySvg } from './reliability-svg.js';

const heights = (svg: string, series: string): number[] =>
  [...svg.matchAll(new RegExp(`<rect class="bar" data-series="${series}" data-bin="\\d+" x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"`, 'g'))].map((m) => Number(m[1]));

describe('charts (SVG)', () => {
  it('every chart is an SVG with a viewBox and an accessible name, which librsvg renders', async () => {
    const charts = [
      renderConfusionSvg(['cat', 'dog'], [[3, 1], [0, 4]]),
      renderCurvesSvg([{ loss: 1, accuracy: 0.5, valLoss: 1.1, valAccuracy: 0.5 }, { loss: 0.5, accuracy: 0.8, valLoss: 0.6, valAccuracy: 0.75 }], 2),
      renderHistogramSvg('Confidence', [{ label: 'test', color: '#00f', counts: [0, 0, 0, 0, 0, 1, 2, 3, 4, 5] }]),
      renderReliabilitySvg([{ from: 0.5, to: 0.6, count: 4, confidence: 0.55, accuracy: 0.5 }], 0.05),
    ];
    for (const svg of charts) {
      expect(svg).to.match(/^<svg [^>]*viewBox="0 0 \d+ \d+"[^>]*role="img" aria-label="[^"]+"/);
      const meta = await sharp(Buffer.from(svg)).png().toBuffer().then((png) => sharp(png).metadata());
      expect(meta.format).to.equal('png');
      expect(meta.width).to.be.greaterThan(250);
    }
  });

  it('draws each histogram bin as its share of the series, so series of different sizes compare', () => {
    const svg = renderHistogramSvg('Live <vs> baseline', [
      { label: 'live', color: '#f00', counts: [0, 0, 0, 0, 0, 0, 0, 0, 1, 3] },
      { label: 'baseline', color: '#00f', counts: [0, 0, 0, 0, 0, 0, 0, 0, 100, 300] },
    ]);
    const live = heights(svg, 'live');
    const base = heights(svg, 'baseline');
    expect(live).to.have.length(10);
    expect(live).to.deep.equal(base);
    expect(live[9]).to.be.closeTo(3 * (live[8] as number), 0.05);
    expect(svg).to.include('Live &lt;vs&gt; baseline');
  });

  it('draws no bars for an empty series instead of dividing by zero', () => {
    const svg = renderHistogramSvg('Live', [{ label: 'live', color: '#f00', counts: new Array<number>(10).fill(0) }]);
    expect(heights(svg, 'live').every((h) => h === 0)).to.equal(true);
    expect(svg).to.not.include('NaN');
  });

  it('the reliability diagram draws only non-empty bins and states the ECE', () => {
    const bins = Array.from({ length: 15 }, (_, b) => ({ from: b / 15, to: (b + 1) / 15, count: b > 10 ? 5 : 0, confidence: b > 10 ? (b + 0.5) / 15 : 0, accuracy: b > 10 ? 0.6 : 0 }));
    const svg = renderReliabilitySvg(bins, 0.1234);
    expect(svg.match(/class="bin"/g)).to.have.length(4);
    expect(svg).to.include('ECE 12.3%');
  });
});
