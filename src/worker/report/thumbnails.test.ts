import { expect } from 'chai';
import sharp from 'sharp';
import { makeThumbnail, THUMBNAIL_SIZE, thumbnailPath } from './thumbnails.js';

/** A 300×200 JPEG, left half red and right half blue, stored sideways (EXIF orientation 6: rotate 90° clockwise to view). */
async function sidewaysJpeg(): Promise<Buffer> {
  const w = 300;
  const h = 200;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set(x < w / 2 ? [220, 20, 20] : [20, 20, 220], (y * w + x) * 3);
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } }).withMetadata({ orientation: 6 }).jpeg().toBuffer();
}

const pixel = async (jpeg: Buffer, x: number, y: number): Promise<number[]> => {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i] as number, data[i + 1] as number, data[i + 2] as number];
};

describe('report thumbnails', () => {
  const grey = { pixels: new Uint8Array(8 * 8 * 3).fill(128), side: 8 };

  it('crops the original upright to a square JPEG', async () => {
    const bytes = await sidewaysJpeg();
    const thumb = await makeThumbnail({ ...grey, read: () => Promise.resolve(bytes) });
    const meta = await sharp(thumb).metadata();
    expect(meta).to.include({ format: 'jpeg', width: THUMBNAIL_SIZE, height: THUMBNAIL_SIZE });
    // Turned upright, the red half is on top and the blue half below.
    const [r1, , b1] = await pixel(thumb, 80, 10);
    const [r2, , b2] = await pixel(thumb, 80, 150);
    expect(r1).to.be.greaterThan(150);
    expect(b1).to.be.lessThan(100);
    expect(b2).to.be.greaterThan(150);
    expect(r2).to.be.lessThan(100);
  });

  it('falls back to the decoded pixels when the original is gone or undecodable', async () => {
    for (const read of [() => Promise.resolve(undefined), () => Promise.resolve(Buffer.from('not an image')), () => Promise.reject(new Error('gone'))]) {
      const thumb = await makeThumbnail({ ...grey, read });
      expect(await sharp(thumb).metadata()).to.include({ format: 'jpeg', width: THUMBNAIL_SIZE });
      const [r] = await pixel(thumb, 80, 80);
      expect(r).to.be.within(118, 138);
    }
  });

  it('names thumbnails by rank, never by the user file name', () => {
    expect([0, 9, 11].map(thumbnailPath)).to.deep.equal(['mistakes/01.jpg', 'mistakes/10.jpg', 'mistakes/12.jpg']);
  });
});
