// Getting scenes in and out: import (video, photos, point clouds, posed captures) and export
// (PLY/GLB point clouds, COLMAP / nerfstudio camera folders).

import { Command, Option } from 'commander';
import type { ExportResult, SceneDetail } from '../../common/domain';
import type { CliContext } from '../cli-context';
import {
  EXPORT_FORMATS,
  checkExportTarget,
  copyBlobTo,
  exportFormatFor,
  isFileFormat,
  type ExportFormat,
} from '../export-target';
import { formatBytes, printJson, printLine } from '../output';
import { findScene, followJob } from '../cli-support';
import { parseInteger } from '../cli-context';
import { StudioError } from '../../common/errors';
import { blobPaths } from '../../common/api';
import { resolve } from 'node:path';
import { removeExport } from '../../core/library/export-files';
import { UP_AXES, type UpAxis } from '../../common/export-axes';

/**
 * The frames a reconstruction will use: "6 frames selected from 18 candidates"
 * for a video (import scores about 3 candidates per wanted frame and keeps the
 * sharpest), or "3 frames" when every frame is used.
 */
export function describeFrames(scene: SceneDetail): string {
  const selected = scene.frames.filter((frame) => frame.selected).length;
  if (selected === scene.frames.length) return `${selected} frames`;
  return `${selected} frames selected from ${scene.frames.length} candidates`;
}

export function registerImportExportCommands(program: Command, ctx: CliContext): void {
  const { io, withStudio } = ctx;

  program
    .command('import')
    .description(
      'import a video, photos (files or a folder), a PLY/GLB point cloud, or a posed capture (a COLMAP project or a transforms.json folder) as a new scene',
    )
    .argument(
      '<paths...>',
      'video file, photo files or folder, point cloud file, COLMAP project folder, or transforms.json (or its folder)',
    )
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
        // A posed capture: what the folder held ("COLMAP model (text, sparse/0): 8 images, 1 camera, …").
        if (typeof job.result?.found === 'string') printLine(io, `Found a ${job.result.found}.`);
        printLine(
          io,
          `Imported "${scene.name}" as ${scene.id}: ${describeFrames(scene)}, ${scene.pointCount} points.`,
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
      new Option('--format <format>', 'file format (default: from the --out name, .ply or .glb)').choices(
        EXPORT_FORMATS,
      ),
    )
    .option('--ascii', 'ASCII PLY instead of binary')
    .addOption(
      new Option(
        '--up-axis <axis>',
        'PLY axes (default: opencv, as the model predicts: x right, y down, z forward); y-up: x right, y up, z backward (three.js, MeshLab); z-up: x right, y forward, z up (Blender, CloudCompare). GLB is always y-up',
      ).choices(UP_AXES),
    )
    .requiredOption('--out <path>', 'output file (PLY/GLB) or new folder (COLMAP/nerfstudio)')
    .option('--force', 'replace an existing --out file (folders are never replaced)')
    .action(
      withStudio(
        async (
          studio,
          json,
          sceneRef: string,
          opts: { format?: ExportFormat; ascii?: boolean; upAxis?: UpAxis; out: string; force?: boolean },
        ) => {
          // Every check of --out comes before any work, so a refused export costs nothing.
          const out = resolve(opts.out);
          const format = exportFormatFor(out, opts.format);
          const force = opts.force === true;
          if (opts.ascii && format !== 'ply') {
            throw new StudioError(
              'invalid-input',
              '--ascii applies to PLY only.',
              'Drop --ascii or use --format ply.',
            );
          }
          if (opts.upAxis && format !== 'ply' && !(format === 'glb' && opts.upAxis === 'y-up')) {
            throw new StudioError(
              'invalid-input',
              format === 'glb'
                ? `GLB files are always y-up (the glTF specification fixes it); --up-axis ${opts.upAxis} cannot be written.`
                : `--up-axis applies to PLY and GLB only, not ${format}.`,
              format === 'glb' ? 'Drop --up-axis, or export PLY.' : 'Drop --up-axis.',
            );
          }
          await checkExportTarget(out, format, force);
          const scene = await findScene(studio, sceneRef);
          if (!isFileFormat(format)) {
            const outDir = out;
            const { jobId } = await studio.run('scenes.exportCameras', {
              sceneId: scene.id,
              format,
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
          const { jobId } = await studio.run('scenes.export', {
            sceneId: scene.id,
            format,
            encoding: opts.ascii ? 'ascii' : undefined,
            upAxis: format === 'ply' ? opts.upAxis : undefined,
          });
          const job = await followJob(studio, io, jobId, 'export');
          const result = job.result as unknown as ExportResult;
          try {
            await copyBlobTo(studio, blobPaths.export(result.exportId), { out, format, force });
          } finally {
            // The file at --out is the user's copy; the library's staging copy can go now.
            await removeExport(studio.library.exportsDir, result.exportId);
          }
          if (json) return printJson(io, { ...result, path: out });
          printLine(io, `Wrote ${result.pointCount} points to ${out} (${formatBytes(result.bytes)}).`);
        },
      ),
    );
}
