// Photo import with real files: the shared ARKitScenes folder and photos written here with sharp.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StudioError } from '../../../../main/common/errors';
import { importPhotos } from '../../../../main/core/ingest/photo-import';
import { SHARED_DIR } from '../../../support/shared-dir';

const ARKIT = `${SHARED_DIR}/samples/arkitscenes`;
let work: string;

async function expectStudioError(promise: Promise<unknown>, code: string): Promise<StudioError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StudioError);
  expect((error as StudioError).code).toBe(code);
  expect((error as StudioError).fix.length).toBeGreaterThan(10);
  return error as StudioError;
}

/** A w x h photo: left half red, right half blue (so we can tell which way up it is). */
function halves(width: number, height: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      pixels.set(x < width / 2 ? [255, 0, 0] : [0, 0, 255], (y * width + x) * 3);
  return pixels;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'g2-ingest-photos-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('importPhotos', () => {
  it('imports a folder of phone photos in name order with the original bytes', async () => {
    const stages = new Set<string>();
    const { frames } = await importPhotos([ARKIT], { onProgress: (_p, stage) => stages.add(stage) });
    const names = readdirSync(ARKIT).sort();
    expect(frames.map((f) => f.fileName)).toEqual(names);
    expect(frames.map((f) => f.index)).toEqual([...names.keys()]);
    for (const [i, frame] of frames.entries()) {
      expect(frame.image.equals(readFileSync(join(ARKIT, names[i])))).toBe(true);
      expect(frame).toMatchObject({
        width: 640,
        height: 480,
        imageMime: 'image/jpeg',
        timestampS: null,
        selected: true,
      });
      expect(frame.blurScore).toBeGreaterThan(0);
    }
    const thumb = await sharp(frames[0].thumbnail).metadata();
    expect([thumb.format, thumb.width, thumb.height]).toEqual(['jpeg', 256, 192]);
    expect([...stages]).toEqual(['scan', 'decode']);
  });

  it('sorts names naturally (2 before 10) and skips non-photos in a folder', async () => {
    const folder = join(work, 'natural');
    mkdirSync(folder);
    for (const n of [10, 2, 1]) {
      const png = await sharp(halves(8, 6), { raw: { width: 8, height: 6, channels: 3 } })
        .png()
        .toBuffer();
      writeFileSync(join(folder, `frame${n}.png`), png);
    }
    writeFileSync(join(folder, 'readme.txt'), 'not a photo');
    writeFileSync(join(folder, 'notes.jpg'), 'a text file with a photo name');
    const { frames } = await importPhotos([folder]);
    expect(frames.map((f) => f.fileName)).toEqual(['frame1.png', 'frame2.png', 'frame10.png']);
    expect(frames[0].imageMime).toBe('image/png');
    expect(frames[0].image.equals(readFileSync(join(folder, 'frame1.png')))).toBe(true);
  });

  it('turns a photo with EXIF orientation 6 upright and re-encodes it', async () => {
    // Stored 64x32 (red left, blue right); orientation 6 means "rotate 90° clockwise to view".
    const stored = await sharp(halves(64, 32), { raw: { width: 64, height: 32, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const path = join(work, 'sideways.jpg');
    writeFileSync(path, stored);
    const { frames } = await importPhotos([path]);
    expect([frames[0].width, frames[0].height]).toEqual([32, 64]);
    expect(frames[0].image.equals(stored)).toBe(false);
    const upright = await sharp(frames[0].image).raw().toBuffer({ resolveWithObject: true });
    expect([upright.info.width, upright.info.height]).toEqual([32, 64]);
    // After a clockwise turn the red (left) half is on top.
    const pixel = (x: number, y: number): number[] => [
      ...upright.data.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3),
    ];
    expect(pixel(16, 8)[0]).toBeGreaterThan(200);
    expect(pixel(16, 56)[2]).toBeGreaterThan(200);
    expect((await sharp(frames[0].image).metadata()).orientation ?? 1).toBe(1);
  });

  it('converts a WebP photo to JPEG', async () => {
    const path = join(work, 'photo.webp');
    writeFileSync(
      path,
      await sharp(halves(40, 20), { raw: { width: 40, height: 20, channels: 3 } })
        .webp()
        .toBuffer(),
    );
    const { frames } = await importPhotos([path]);
    expect(frames[0].imageMime).toBe('image/jpeg');
    expect((await sharp(frames[0].image).metadata()).format).toBe('jpeg');
  });

  it('rejects bad photos with a typed error', async () => {
    const text = join(work, 'text.jpg');
    writeFileSync(text, 'hello');
    await expectStudioError(importPhotos([text]), 'unsupported-file');

    const original = readFileSync(join(ARKIT, readdirSync(ARKIT).sort()[0]));
    const cut = join(work, 'cut.jpg');
    writeFileSync(cut, original.subarray(0, original.length >> 1));
    await expectStudioError(importPhotos([cut]), 'corrupt-media');

    const empty = join(work, 'empty.png');
    writeFileSync(empty, '');
    await expectStudioError(importPhotos([empty]), 'empty-file');

    await expectStudioError(importPhotos([join(work, 'missing.jpg')]), 'unreadable-path');

    // An iPhone HEIC (ISO-BMFF with the "heic" brand): named as such, with a way out.
    const heic = Buffer.alloc(256);
    heic.writeUInt32BE(24, 0);
    heic.write('ftypheic\0\0\0\0mif1heic', 4, 'latin1');
    writeFileSync(join(work, 'IMG_0001.HEIC'), heic);
    const heicError = await expectStudioError(
      importPhotos([join(work, 'IMG_0001.HEIC')]),
      'unsupported-file',
    );
    expect(heicError.message).toContain('HEIC');
    expect(heicError.fix).toContain('JPEG');

    const emptyFolder = join(work, 'no-photos');
    mkdirSync(emptyFolder);
    writeFileSync(join(emptyFolder, 'a.txt'), 'x');
    await expectStudioError(importPhotos([emptyFolder]), 'unsupported-file');
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    const promise = importPhotos([ARKIT], {
      signal: controller.signal,
      onProgress: (p) => {
        if (p > 0.2) controller.abort();
      },
    });
    await expectStudioError(promise, 'cancelled');
  });
});
