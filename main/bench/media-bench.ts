// Media benchmark: frame extraction against a plain ffmpeg decode of the same
// file (the floor: ffmpeg has to decode every frame either way), and point
// cloud export/import throughput on 10M random points, with the GLB writer
// against @gltf-transform/core's writeBinary (what glb-writer.ts replaces).

import { NodeIO } from '@gltf-transform/core';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../core/ingest/child-process';
import { locateFfmpeg } from '../core/ingest/ffmpeg-locator';
import { importVideo } from '../core/ingest/video-import';
import { exportPointCloud } from '../core/pointcloud/export-point-cloud';
import { buildPointCloudDocument } from '../core/pointcloud/glb-document';
import { importPointCloud } from '../core/pointcloud/import-point-cloud';
import type { PointCloud } from '../core/pointcloud/point-cloud';
import type { BenchFigure, BenchSection } from './bench-types';
import { SHARED_DIR } from './shared-dir';

const POINTS = 10_000_000;
const FRAMES = 16;
const MB = 1e6;

async function timeMs<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

/** Best of `runs` (less noise from the other processes on a shared machine). */
async function bestMs<T>(runs: number, fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  let best: { ms: number; value: T } | null = null;
  for (let i = 0; i < runs; i++) {
    const run = await timeMs(fn);
    if (!best || run.ms < best.ms) best = run;
  }
  return best!;
}

function randomCloud(count: number): PointCloud {
  const positions = new Float32Array(count * 3);
  for (let i = 0; i < positions.length; i++) positions[i] = (Math.random() - 0.5) * 20;
  const colors = new Uint8Array(count * 3);
  for (let i = 0; i < colors.length; i++) colors[i] = (Math.random() * 256) | 0;
  return { positions, colors, count };
}

/** Peak resident memory above the start while `fn` runs, sampled every 2 ms. */
async function peakExtraMb<T>(fn: () => Promise<T>): Promise<{ mb: number; ms: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
  const { ms } = await timeMs(fn);
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { mb: (peak - base) / MB, ms };
}

async function extractionFigures(dir: string, notes: string[]): Promise<BenchFigure[]> {
  const ffmpeg = await locateFfmpeg();
  notes.push(`ffmpeg ${ffmpeg.version} (${ffmpeg.source}).`);
  // A longer clip than the samples so the fixed costs (probe, process start) do not dominate:
  // 10 s of 1280x720 at 30 fps, H.264.
  const synthetic = join(dir, 'testsrc-720p-10s.mp4');
  await runProcess(
    ffmpeg.ffmpegPath,
    ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30:duration=10', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', synthetic],
    { what: 'bench video' },
  ); // prettier-ignore
  const videos = [
    {
      label: 'dl3dv-walk.mp4 (960x540 H.264, 20 frames)',
      path: `${SHARED_DIR}/samples/video/dl3dv-walk.mp4`,
    },
    {
      label: 'arkit-portrait.mov (HEVC, rotated, 20 frames)',
      path: `${SHARED_DIR}/samples/video/arkit-portrait.mov`,
    },
    { label: 'synthetic 720p30 H.264, 300 frames', path: synthetic },
  ];
  const figures: BenchFigure[] = [];
  for (const video of videos) {
    if (!existsSync(video.path)) {
      notes.push(`Skipped ${video.label}: ${video.path} is not on this machine.`);
      continue;
    }
    const baseline = await bestMs(3, () =>
      runProcess(ffmpeg.ffmpegPath, ['-v', 'error', '-nostdin', '-i', video.path, '-f', 'null', '-'], {
        what: 'decode',
      }),
    );
    const extraction = await bestMs(3, () => importVideo(video.path, { frameCount: FRAMES, ffmpeg }));
    figures.push({
      label: `extract ${FRAMES} frames (${extraction.value.frames.length} candidates scored + JPEG q92): ${video.label}`,
      value: extraction.ms,
      unit: 'ms',
      baseline: { label: 'ffmpeg -i X -f null - (decode only)', value: baseline.ms },
      ratio: extraction.ms / baseline.ms,
    });
  }
  return figures;
}

async function pointCloudFigures(dir: string, notes: string[]): Promise<BenchFigure[]> {
  const cloud = randomCloud(POINTS);
  const figures: BenchFigure[] = [];
  const plyPath = join(dir, 'cloud.ply');
  const plyWrite = await bestMs(2, () =>
    exportPointCloud(plyPath, cloud, { format: 'ply', encoding: 'binary' }),
  );
  const plyBytes = statSync(plyPath).size;
  figures.push({
    label: `PLY binary export, ${POINTS / 1e6}M points with colours`,
    value: plyBytes / MB / (plyWrite.ms / 1000),
    unit: 'MB/s',
  });

  const plyRead = await bestMs(2, () => importPointCloud(plyPath));
  figures.push({
    label: `PLY binary import, ${POINTS / 1e6}M points`,
    value: plyBytes / MB / (plyRead.ms / 1000),
    unit: 'MB/s',
  });

  const asciiCloud: PointCloud = {
    positions: cloud.positions.subarray(0, 3e6),
    colors: cloud.colors!.subarray(0, 3e6),
    count: 1e6,
  };
  const asciiPath = join(dir, 'cloud-ascii.ply');
  const asciiWrite = await bestMs(1, () =>
    exportPointCloud(asciiPath, asciiCloud, { format: 'ply', encoding: 'ascii' }),
  );
  const asciiBytes = statSync(asciiPath).size;
  const asciiRead = await bestMs(1, () => importPointCloud(asciiPath));
  figures.push({
    label: 'PLY ASCII export, 1M points',
    value: asciiBytes / MB / (asciiWrite.ms / 1000),
    unit: 'MB/s',
  });
  figures.push({
    label: 'PLY ASCII import, 1M points',
    value: asciiBytes / MB / (asciiRead.ms / 1000),
    unit: 'MB/s',
  });

  const glbPath = join(dir, 'cloud.glb');
  const glb = await peakExtraMb(() => exportPointCloud(glbPath, cloud, { format: 'glb' }));
  const glbBytes = statSync(glbPath).size;
  // Baseline: the whole document through gltf-transform's own GLB writer, written with one call.
  const reference = await peakExtraMb(async () => {
    const doc = buildPointCloudDocument(cloud);
    const bytes = await new NodeIO().writeBinary(doc);
    writeFileSync(join(dir, 'reference.glb'), bytes);
  });
  figures.push({
    label: `GLB export, ${POINTS / 1e6}M points with colours (streamed BIN)`,
    value: glbBytes / MB / (glb.ms / 1000),
    unit: 'MB/s',
    baseline: {
      label: '@gltf-transform/core writeBinary + writeFile',
      value: glbBytes / MB / (reference.ms / 1000),
    },
    ratio: reference.ms / glb.ms,
  });
  figures.push({
    label: 'GLB export peak extra memory (RSS)',
    value: glb.mb,
    unit: 'MB',
    baseline: { label: 'writeBinary peak extra memory', value: reference.mb },
    ratio: glb.mb / Math.max(1, reference.mb),
  });
  const glbRead = await bestMs(1, () => importPointCloud(glbPath));
  figures.push({
    label: `GLB import, ${POINTS / 1e6}M points (gltf-transform NodeIO)`,
    value: glbBytes / MB / (glbRead.ms / 1000),
    unit: 'MB/s',
  });
  notes.push(
    `PLY binary ${(plyBytes / MB).toFixed(0)} MB, GLB ${(glbBytes / MB).toFixed(0)} MB for ${POINTS / 1e6}M points; exports are atomic (fsync + rename) and the time includes the fsync.`,
    'GLB export speed-up is the ratio writeBinary time / streamed time (higher is better); memory ratio is streamed / writeBinary (lower is better).',
  );
  return figures;
}

export async function runMediaBench(): Promise<BenchSection> {
  const dir = mkdtempSync(join(tmpdir(), 'g2-media-bench-'));
  const notes: string[] = [];
  try {
    notes.push(
      `Machine: ${cpus().length} CPU cores, load average ${loadavg()[0].toFixed(1)} at the start (other work on the machine slows every figure).`,
    );
    const figures = [...(await extractionFigures(dir, notes)), ...(await pointCloudFigures(dir, notes))];
    return { name: 'Media: frame extraction and point cloud files', figures, notes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
