// Getting scenes in and out: import (video, photos, point clouds, posed captures) and export
// (PLY/GLB point clouds, COLMAP / nerfstudio camera folders).

import { Command, Option } from 'commander';
import type { CliContext } from '../cli-context';
import { formatBytes, printJson, printLine } from '../output';
import { copyBlobTo, findScene, followJob } from '../cli-support';
import { parseInteger } from '../cli-context';
import { StudioError } from '../../common/errors';
import { blobPaths } from '../../common/api';
import { join, resolve } from 'node:path';
import { rm } from 'node:fs/promises';

export function registerImportExportCommands(program: Command, ctx: CliContext): void {
  const { io, withStudio } = ctx;

  program
    .command('import')
    .description('import a video, photos (files or a folder) or a PLY/GLB point cloud as a new scene')
    .argument('<paths...>', 'video file, photo files or folder, or point cloud file')
    .option('--frames <n>', 'frames to take from a video (2..512)', parseInteger('--frames', 2, 512))
    .option('--name <name>', 'scene name (default: the file or folder name)')
    .action(
      withStudio(async (studio, json, paths: string[], opts: { frames?: number; name?: string }) => {
        const { jobId } = await studio.run('scenes.import', {
          sources: paths.map((p) => ({ kind: 'path', path: resolve(p) })),
          frames: opts.frames,
          name: opts.name,
        });
        const job = await followJob(studio, io, jobId, 'import');
        const scene = await studio.run('scenes.get', {
          sceneId: String(job.result?.sceneId),
        });
        if (json) return printJson(io, scene);
        printLine(
          io,
          `Imported "${scene.name}" as ${scene.id}: ${scene.frameCount} frames, ${scene.pointCount} points.`,
        );
      }),
    );

  program
    .command('export')
    .description(
      'write a scene as you see it (edited, levelled, in metres once scaled): a PLY or GLB point cloud, or a COLMAP text model / nerfstudio folder with the frames',
    )
    .argument('<scene>', 'scene id or name')
    .addOption(
      new Option('--format <format>', 'file format')
        .choices(['ply', 'glb', 'colmap', 'nerfstudio'])
        .makeOptionMandatory(),
    )
    .option('--ascii', 'ASCII PLY instead of binary')
    .requiredOption('--out <path>', 'output file (PLY/GLB) or new folder (COLMAP/nerfstudio)')
    .action(
      withStudio(
        async (
          studio,
          json,
          sceneRef: string,
          opts: { format: 'ply' | 'glb' | 'colmap' | 'nerfstudio'; ascii?: boolean; out: string },
        ) => {
          if (opts.ascii && opts.format !== 'ply') {
            throw new StudioError(
              'invalid-input',
              '--ascii applies to PLY only.',
              'Drop --ascii or use --format ply.',
            );
          }
          const scene = await findScene(studio, sceneRef);
          if (opts.format === 'colmap' || opts.format === 'nerfstudio') {
            const outDir = resolve(opts.out);
            const { jobId } = await studio.run('scenes.exportCameras', {
              sceneId: scene.id,
              format: opts.format,
              outDir,
            });
            const job = await followJob(studio, io, jobId, 'export');
            if (json) return printJson(io, job.result);
            printLine(
              io,
              `Wrote ${Number(job.result?.cameraCount)} cameras and ${Number(job.result?.pointCount)} points to ${outDir} (${formatBytes(Number(job.result?.bytes))}).`,
            );
            return;
          }
          const result = await studio.run('scenes.export', {
            sceneId: scene.id,
            format: opts.format,
            encoding: opts.ascii ? 'ascii' : undefined,
          });
          const out = resolve(opts.out);
          try {
            await copyBlobTo(studio, blobPaths.export(result.exportId), out);
          } finally {
            // The file at --out is the user's copy; the library's staging copy can go now.
            await rm(join(studio.library.exportsDir, result.exportId), { recursive: true, force: true });
          }
          if (json) return printJson(io, { ...result, path: out });
          printLine(io, `Wrote ${result.pointCount} points to ${out} (${formatBytes(result.bytes)}).`);
        },
      ),
    );
}
