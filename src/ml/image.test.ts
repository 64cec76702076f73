import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { decodeImage, decodeImagePixels, ImageDecodeError, sniffImageFormat, type ImageDecodeReason } from './image.js';

const ODDITIES = fileURLToPath(new URL('../../../shared/datasets/cats-dogs-oddities/', import.meta.url));
const PHOTOS = fileURLToPath(new URL('../../../shared/datasets/cats-dogs/', import.meta.url));

function solid(width: number, height: number, rgb: { r: number; g: number; b: number }, channels: 3 | 4 = 3, alpha = 1) {
  return sharp({ create: { width, height, channels, background: channels === 4 ? { ...rgb, alpha } : rgb } });
}

function pixel(pixels: Uint8Array, size: number, x: number, y: number): number[] {
  const i = (y * size + x) * 3;
  return [pixels[i] ?? -1, pixels[i + 1] ?? -1, pixels[i + 2] ?? -1];
}

function expectClose(actual: number[], expected: number[], tolerance: number): void {
  actual.forEach((v, i) => expect(Math.abs(v - (expected[i] ?? 0)), `channel ${i}: ${actual} vs ${expected}`).to.be.at.most(tolerance));
}

async function expectReason(p: Promise<unknown>, reason: ImageDecodeReason): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).to.be.instanceOf(ImageDecodeError);
  expect((err as ImageDecodeError).reason).to.equal(reason);
}

/** Noise, so that JPEG has real entropy-coded data to truncate. */
async function noiseJpeg(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let s = 12345;
  for (let i = 0; i < raw.length; i++) raw[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

describe('decodeImage', () => {
  it('turns a grayscale PNG into RGB', async () => {
    const png = await solid(40, 30, { r: 100, g: 100, b: 100 }).toColourspace('b-w').png().toBuffer();
    expect((await sharp(png).metadata()).channels).to.equal(1);
    const img = await decodeImage(png, { size: 8 });
    expect(img.pixels.length).to.equal(8 * 8 * 3);
    expect(img).to.include({ width: 40, height: 30, format: 'png' });
    expectClose(pixel(img.pixels, 8, 4, 4), [100, 100, 100], 2);
  });

  it('converts a CMYK JPEG to sRGB', async () => {
    const jpeg = await solid(32, 32, { r: 220, g: 30, b: 30 }).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(jpeg).metadata()).space).to.equal('cmyk');
    const img = await decodeImage(jpeg, { size: 4 });
    const [r, g, b] = pixel(img.pixels, 4, 2, 2) as [number, number, number];
    expect(r).to.be.greaterThan(150);
    expect(g).to.be.lessThan(100);
    expect(b).to.be.lessThan(100);
  });

  it('flattens alpha onto white', async () => {
    const png = await solid(16, 16, { r: 0, g: 0, b: 0 }, 4, 0).png().toBuffer();
    const img = await decodeImage(png, { size: 4 });
    expectClose(pixel(img.pixels, 4, 1, 1), [255, 255, 255], 1);
    const half = await decodeImage(await solid(16, 16, { r: 0, g: 0, b: 0 }, 4, 0.5).png().toBuffer(), { size: 4 });
    expectClose(pixel(half.pixels, 4, 1, 1), [128, 128, 128], 2);
  });

  it('decodes WebP', async () => {
    const webp = await solid(20, 20, { r: 10, g: 20, b: 200 }).webp({ lossless: true }).toBuffer();
    const img = await decodeImage(webp, { size: 5 });
    expect(img.format).to.equal('webp');
    expectClose(pixel(img.pixels, 5, 2, 2), [10, 20, 200], 2);
  });

  it('applies EXIF orientation', async () => {
    // 40×20: left half red, right half blue. Orientation 6 = rotate 90° clockwise to display,
    // so the displayed image is 20×40 with red on top and blue below.
    const raw = Buffer.alloc(40 * 20 * 3);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) raw.set(x < 20 ? [255, 0, 0] : [0, 0, 255], (y * 40 + x) * 3);
    const jpeg = await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    const img = await decodeImage(jpeg, { size: 10, resize: 'fill' });
    expect(img).to.include({ width: 20, height: 40 });
    expectClose(pixel(img.pixels, 10, 5, 1), [255, 0, 0], 40);
    expectClose(pixel(img.pixels, 10, 5, 8), [0, 0, 255], 40);
  });

  it('resizes with cover (centre crop) or fill (stretch)', async () => {
    // 30×10: left third green, the rest black. Cover crops the centre 10×10 (black); fill keeps green on the left.
    const raw = Buffer.alloc(30 * 10 * 3);
    for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) raw.set([0, 255, 0], (y * 30 + x) * 3);
    const png = await sharp(raw, { raw: { width: 30, height: 10, channels: 3 } }).png().toBuffer();
    expectClose(pixel((await decodeImage(png, { size: 6, resize: 'cover' })).pixels, 6, 0, 3), [0, 0, 0], 30);
    expectClose(pixel((await decodeImage(png, { size: 6, resize: 'fill' })).pixels, 6, 0, 3), [0, 255, 0], 30);
  });

  it('detects the format by content, not by name', () => {
    expect(sniffImageFormat(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).to.equal('webp');
    expect(sniffImageFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).to.equal('jpeg');
    expect(sniffImageFormat(Buffer.from('GIF89a'))).to.equal(undefined);
  });

  it('rejects empty, non-image, truncated and oversized input with a bounded reason', async () => {
    await expectReason(decodeImage(Buffer.alloc(0), { size: 8 }), 'empty');
    await expectReason(decodeImage(Buffer.from('hello, I am a text file\n'), { size: 8 }), 'unsupported-format');
    await expectReason(decodeImage(await sharp({ create: { width: 4, height: 4, channels: 3, background: 'red' } }).gif().toBuffer(), { size: 8 }), 'unsupported-format');
    const jpeg = await noiseJpeg(64, 64);
    await expectReason(decodeImage(jpeg.subarray(0, Math.floor(jpeg.length / 2)), { size: 8 }), 'corrupt');
    await expectReason(decodeImage(jpeg.subarray(0, 40), { size: 8 }), 'corrupt');
    const big = await solid(100, 100, { r: 1, g: 2, b: 3 }).png().toBuffer();
    await expectReason(decodeImage(big, { size: 8, maxPixels: 5000 }), 'too-many-pixels');
    expect((await decodeImage(big, { size: 8, maxPixels: 10_000 })).pixels.length).to.equal(192);
  });

  describe('the odd real files in ../shared/datasets/cats-dogs-oddities', () => {
    before(function () {
      if (!existsSync(ODDITIES)) {
        console.log(`    skipping: ${ODDITIES} is absent`);
        this.skip();
      }
    });

    const cases = [
      ['png-not-jpeg-1000x1223__Cat1018.png', 'png', 1000, 1223],
      ['progressive-jpeg-exif-icc__Cat737.jpg', 'jpeg', 468, 700],
      ['webp-bytes-with-png-extension__Cat1035.png', 'webp', 800, 450],
    ] as const;
    for (const [name, format, width, height] of cases) {
      it(`decodes ${name}`, async () => {
        const img = await decodeImage(await readFile(ODDITIES + name), { size: 64 });
        expect(img).to.include({ format, width, height });
        expect(img.pixels.length).to.equal(64 * 64 * 3);
        const mean = img.pixels.reduce((a, b) => a + b, 0) / img.pixels.length;
        expect(mean).to.be.within(10, 245);
      });
    }
  });

  describe('decodeImagePixels (serving: one pass, no header read)', () => {
    it('gives the same bytes as decodeImage: alpha, grayscale, EXIF orientation, fill and cover', async () => {
      const rotated = await solid(30, 12, { r: 200, g: 10, b: 10 })
        .composite([{ input: await solid(10, 12, { r: 10, g: 10, b: 200 }).png().toBuffer(), left: 0, top: 0 }])
        .jpeg()
        .withMetadata({ orientation: 6 })
        .toBuffer();
      const inputs = [
        await solid(16, 16, { r: 0, g: 0, b: 0 }, 4, 0.5).png().toBuffer(),
        await solid(40, 30, { r: 100, g: 100, b: 100 }).toColourspace('b-w').png().toBuffer(),
        rotated,
        await noiseJpeg(64, 48),
      ];
      for (const [i, buf] of inputs.entries()) {
        for (const resize of ['cover', 'fill'] as const) {
          const one = await decodeImagePixels(buf, { size: 9, resize });
          const two = (await decodeImage(buf, { size: 9, resize })).pixels;
          expect(Buffer.from(one).equals(Buffer.from(two)), `input ${i}, ${resize}`).to.equal(true);
        }
      }
    });

    it('rejects bad input with the same reasons as decodeImage', async () => {
      await expectReason(decodeImagePixels(Buffer.alloc(0), { size: 8 }), 'empty');
      await expectReason(decodeImagePixels(Buffer.from('hello, I am a text file\n'), { size: 8 }), 'unsupported-format');
      const jpeg = await noiseJpeg(64, 64);
      await expectReason(decodeImagePixels(jpeg.subarray(0, Math.floor(jpeg.length / 2)), { size: 8 }), 'corrupt');
      await expectReason(decodeImagePixels(jpeg.subarray(0, 40), { size: 8 }), 'corrupt');
      const big = await solid(100, 100, { r: 1, g: 2, b: 3 }).png().toBuffer();
      await expectReason(decodeImagePixels(big, { size: 8, maxPixels: 5000 }), 'too-many-pixels');
      expect((await decodeImagePixels(big, { size: 8, maxPixels: 10_000 })).length).to.equal(192);
    });

    it('gives the same bytes as decodeImage on real photos and the odd real files', async function () {
      if (!existsSync(PHOTOS) || !existsSync(ODDITIES)) {
        console.log(`    skipping: ${PHOTOS} or ${ODDITIES} is absent`);
        this.skip();
      }
      const files = [PHOTOS + 'cat/cat-00001.jpg', PHOTOS + 'dog/dog-00001.jpg', ODDITIES + 'progressive-jpeg-exif-icc__Cat737.jpg', ODDITIES + 'png-not-jpeg-1000x1223__Cat1018.png'];
      for (const file of files) {
        const buf = await readFile(file);
        const one = await decodeImagePixels(buf, { size: 160 });
        expect(Buffer.from(one).equals(Buffer.from((await decodeImage(buf, { size: 160 })).pixels)), file).to.equal(true);
      }
    });
  });
});
