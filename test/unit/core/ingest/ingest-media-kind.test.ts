// Content sniffing on real files: samples, generated fixtures and misnamed files.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StudioError } from '../../../../main/common/errors';
import { detectMediaKind, sniffContainer } from '../../../../main/core/ingest/media-kind';
import { SHARED_DIR } from '../../../support/shared-dir';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'g2-media-kind-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('detectMediaKind', () => {
  it('recognises the sample videos, photos and a folder', async () => {
    expect(await detectMediaKind(`${SHARED_DIR}/samples/video/dl3dv-walk.mp4`)).toBe('video');
    expect(await detectMediaKind(`${SHARED_DIR}/samples/video/arkit-portrait.mov`)).toBe('video');
    expect(await detectMediaKind(`${SHARED_DIR}/samples/arkitscenes/47333851_74735.839.jpg`)).toBe('image');
    expect(await detectMediaKind(`${SHARED_DIR}/samples/arkitscenes`)).toBe('folder');
  });

  it('goes by content, not by the extension', async () => {
    const videoNamedJpg = join(work, 'clip.jpg');
    copyFileSync(`${SHARED_DIR}/samples/video/house.mp4`, videoNamedJpg);
    expect(await detectMediaKind(videoNamedJpg)).toBe('video');
    const textNamedMp4 = join(work, 'notes.mp4');
    writeFileSync(textNamedMp4, 'just some text\n');
    expect(await detectMediaKind(textNamedMp4)).toBe('unknown');
    const pngNamedPly = join(work, 'points.ply');
    writeFileSync(
      pngNamedPly,
      await sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } })
        .png()
        .toBuffer(),
    );
    expect(await detectMediaKind(pngNamedPly)).toBe('image');
  });

  it('recognises point clouds (PLY, GLB, glTF JSON)', async () => {
    const ply = join(work, 'cloud.bin');
    writeFileSync(ply, 'ply\nformat ascii 1.0\nelement vertex 0\nend_header\n');
    expect(await detectMediaKind(ply)).toBe('pointcloud');
    const glb = join(work, 'cloud.glb');
    const header = Buffer.alloc(12);
    header.write('glTF', 0, 'latin1');
    header.writeUInt32LE(2, 4);
    header.writeUInt32LE(12, 8);
    writeFileSync(glb, header);
    expect(await detectMediaKind(glb)).toBe('pointcloud');
    const gltf = join(work, 'scene.gltf');
    writeFileSync(gltf, '{ "asset": { "version": "2.0" } }');
    expect(await detectMediaKind(gltf)).toBe('pointcloud');
  });

  it('calls audio-only formats unknown', () => {
    const wav = Buffer.from('RIFF\0\0\0\0WAVEfmt ', 'latin1');
    expect(sniffContainer(wav)).toEqual({ kind: 'audio', format: 'wav' });
    expect(sniffContainer(Buffer.from('fLaC\0\0\0\0', 'latin1')).kind).toBe('audio');
  });

  it('throws typed errors for missing and empty files', async () => {
    await expect(detectMediaKind(join(work, 'missing.mp4'))).rejects.toMatchObject({
      code: 'unreadable-path',
    });
    const empty = join(work, 'empty.mov');
    writeFileSync(empty, '');
    const error = await detectMediaKind(empty).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).code).toBe('empty-file');
  });
});
