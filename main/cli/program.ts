// The `g2studio` command line: a thin front door onto the studio core. Every
// command goes through StudioService.call, the same path the Electron shell and
// the web server use, so inputs are validated once, in the core.

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { blobPaths } from '../common/api';
import type {
  AppInfo,
  ExportResult,
  JobInfo,
  Marker,
  ModelInfo,
  QaEntry,
  SceneDetail,
  SceneSummary,
  StudioEvent,
} from '../common/domain';
import { MARKER_COLORS } from '../common/domain';
import { StudioError } from '../common/errors';
import { APP_VERSION, resolveLibraryPath } from '../core/settings';
import { createStudio, type Studio } from '../core/studio';
import { copyBlobTo, findScene, followJob, registerModel } from './cli-support';
import { registerSceneEditCommands } from './scene-edit-commands';
import { estimateReconstructionMemory } from '../model';
import {
  formatBytes,
  jobProgressView,
  type JobProgressView,
  printJson,
  printLine,
  processIo,
  reportError,
  table,
  type CliIo,
} from './output';

interface GlobalOptions {
  library?: string;
  json?: boolean;
  ffmpeg?: string;
  provider?: 'auto' | 'cpu' | 'cuda';
}

/** Extra commands contributed by other areas (model conversion) register through this. */
export type CommandContributor = (program: Command, ctx: { libraryPath: () => string; io: CliIo }) => void;

export interface CliOptions {
  io?: CliIo;
  contributors?: CommandContributor[];
}

function parseInteger(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

/** "red:3:120.5:88" -> a marker on frame 3 at (120.5, 88) displayed-frame pixels. */
export function parseMarker(value: string, previous: Marker[] = []): Marker[] {
  const parts = value.split(':');
  const [color, frame, x, y] = parts;
  if (parts.length !== 4 || !(MARKER_COLORS as readonly string[]).includes(color)) {
    throw new InvalidArgumentError(
      `markers are colour:frame:x:y with colour one of ${MARKER_COLORS.join(', ')} (got "${value}").`,
    );
  }
  const marker = { color: color as Marker['color'], frameIndex: Number(frame), x: Number(x), y: Number(y) };
  if (
    !Number.isInteger(marker.frameIndex) ||
    marker.frameIndex < 0 ||
    !Number.isFinite(marker.x) ||
    !Number.isFinite(marker.y)
  ) {
    throw new InvalidArgumentError(`marker "${value}" needs a frame number and x, y pixel coordinates.`);
  }
  return [...previous, marker];
}

export function buildProgram(io: CliIo, contributors: CommandContributor[] = []): Command {
  const program = new Command();
  program
    .name('g2studio')
    .description('G2 Studio: phone video -> 3D scene with G2VLM, locally.')
    .version(APP_VERSION, '-V, --version')
    .option('--library <path>', 'library folder (default: G2STUDIO_LIBRARY or the app-data folder)')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('--ffmpeg <path>', 'ffmpeg binary to use (default: G2STUDIO_FFMPEG, bundled, then PATH)')
    .addOption(
      new Option('--provider <ep>', 'ONNX Runtime execution provider for the model (auto: CUDA when usable)')
        .choices(['auto', 'cpu', 'cuda'])
        .env('G2STUDIO_PROVIDER')
        .default('auto'),
    )
    .showHelpAfterError('(run g2studio --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });

  const globals = (cmd: Command): GlobalOptions => cmd.optsWithGlobals<GlobalOptions>();
  const libraryPath = (cmd: Command): string => resolveLibraryPath(globals(cmd).library);

  /** The studio for this command line's global options (library, ffmpeg, execution provider). */
  const openStudio = (cmd: Command, mode: 'cli' | 'web'): Promise<Studio> => {
    const opts = globals(cmd);
    return createStudio({
      libraryPath: libraryPath(cmd),
      mode,
      ffmpegPath: opts.ffmpeg,
      executionProvider: opts.provider,
    });
  };

  /** Open the studio for one command and always close it. */
  const withStudio =
    <A extends unknown[]>(fn: (studio: Studio, json: boolean, ...args: A) => Promise<void>) =>
    // Commander calls actions with (...arguments, options, command).
    async (...args: unknown[]): Promise<void> => {
      const cmd = args[args.length - 1] as Command;
      const studio = await openStudio(cmd, 'cli');
      try {
        await fn(studio, globals(cmd).json === true, ...(args.slice(0, -1) as A));
      } finally {
        await studio.close();
      }
    };

  program
    .command('info')
    .description('version, library, ffmpeg and execution providers in use')
    .action(
      withStudio(async (studio, json) => {
        const info = (await studio.call('app.info', {})) as AppInfo;
        if (json) return printJson(io, info);
        printLine(io, `G2 Studio ${info.version}`);
        printLine(io, `library:   ${info.libraryPath}`);
        printLine(
          io,
          `ffmpeg:    ${info.ffmpeg ? `${info.ffmpeg.version} (${info.ffmpeg.source}: ${info.ffmpeg.ffmpegPath})` : 'not found — video import needs it (install ffmpeg or set G2STUDIO_FFMPEG)'}`,
        );
        printLine(io, `providers: ${info.executionProviders.join(', ')}`);
        const models = (await studio.call('models.list', {})) as ModelInfo[];
        const active = models.find((m) => m.active);
        printLine(
          io,
          `model:     ${active ? `${active.name} (${active.precision}, ${active.path})` : 'none registered'}`,
        );
      }),
    );

  program
    .command('import')
    .description('import a video, photos (files or a folder) or a PLY/GLB point cloud as a new scene')
    .argument('<paths...>', 'video file, photo files or folder, or point cloud file')
    .option('--frames <n>', 'frames to take from a video (2..512)', parseInteger('--frames', 2, 512))
    .option('--name <name>', 'scene name (default: the file or folder name)')
    .action(
      withStudio(async (studio, json, paths: string[], opts: { frames?: number; name?: string }) => {
        const { jobId } = (await studio.call('scenes.import', {
          sources: paths.map((p) => ({ kind: 'path', path: resolve(p) })),
          frames: opts.frames,
          name: opts.name,
        })) as { jobId: string };
        const job = await followJob(studio, io, jobId, 'import');
        const scene = (await studio.call('scenes.get', {
          sceneId: String(job.result?.sceneId),
        })) as SceneDetail;
        if (json) return printJson(io, scene);
        printLine(
          io,
          `Imported "${scene.name}" as ${scene.id}: ${scene.frameCount} frames, ${scene.pointCount} points.`,
        );
      }),
    );

  program
    .command('list')
    .description('list the scenes in the library')
    .action(
      withStudio(async (studio, json) => {
        const scenes = (await studio.call('scenes.list', {})) as SceneSummary[];
        if (json) return printJson(io, scenes);
        if (scenes.length === 0)
          return printLine(io, 'No scenes yet. Import one with: g2studio import <video>');
        printLine(
          io,
          table([
            ['ID', 'NAME', 'KIND', 'FRAMES', 'POINTS', 'CAMERAS', 'CREATED'],
            ...scenes.map((s) => [
              s.id,
              s.name,
              s.kind,
              String(s.frameCount),
              String(s.pointCount),
              s.hasCameras ? 'yes' : 'no',
              s.createdAt.replace('T', ' ').slice(0, 19),
            ]),
          ]),
        );
      }),
    );

  program
    .command('show')
    .description('show a scene: source, frames, cameras, reconstruction')
    .argument('<scene>', 'scene id or name')
    .action(
      withStudio(async (studio, json, sceneRef: string) => {
        const scene = await findScene(studio, sceneRef);
        if (json) return printJson(io, scene);
        printLine(io, `${scene.name} (${scene.id}), ${scene.kind}`);
        if (scene.source) {
          const s = scene.source;
          const video = s.codec
            ? `, ${s.codec} ${s.width}x${s.height}${s.rotation ? ` (rotated ${s.rotation}°)` : ''}, ${s.fps?.toFixed(2)} fps, ${s.durationS?.toFixed(2)} s`
            : '';
          printLine(io, `source: ${s.fileName}, ${formatBytes(s.bytes)}${video}`);
        }
        printLine(
          io,
          `points: ${scene.pointCount}${scene.bounds ? `, bounds ${fmtVec(scene.bounds.min)} .. ${fmtVec(scene.bounds.max)}` : ''}`,
        );
        if (scene.cameras.length) printLine(io, `cameras: ${scene.cameras.length}`);
        if (scene.reconstruction) {
          const r = scene.reconstruction;
          printLine(
            io,
            `reconstruction: ${r.modelId} (${r.precision}, ${r.executionProvider}), maps ${r.mapWidth}x${r.mapHeight}, ${r.createdAt}`,
          );
        }
        if (scene.frames.length) {
          printLine(io, `frames (${scene.frames.length}):`);
          printLine(
            io,
            table([
              ['INDEX', 'TIME', 'SIZE', 'SHARPNESS', 'SELECTED', 'ID'],
              ...scene.frames.map((f) => [
                String(f.index),
                f.timestampS === null ? (f.fileName ?? '') : `${f.timestampS.toFixed(3)} s`,
                `${f.width}x${f.height}`,
                f.blurScore.toFixed(1),
                f.selected ? 'yes' : 'no',
                f.id,
              ]),
            ]),
          );
        }
      }),
    );

  program
    .command('rename')
    .description('rename a scene')
    .argument('<scene>', 'scene id or name')
    .argument('<name>', 'new name')
    .action(
      withStudio(async (studio, json, sceneRef: string, name: string) => {
        const scene = await findScene(studio, sceneRef);
        const renamed = (await studio.call('scenes.rename', { sceneId: scene.id, name })) as SceneSummary;
        if (json) return printJson(io, renamed);
        printLine(io, `Renamed ${renamed.id} to "${renamed.name}".`);
      }),
    );

  program
    .command('delete')
    .description('delete a scene and everything stored with it')
    .argument('<scene>', 'scene id or name')
    .action(
      withStudio(async (studio, json, sceneRef: string) => {
        const scene = await findScene(studio, sceneRef);
        await studio.call('scenes.delete', { sceneId: scene.id });
        if (json) return printJson(io, { deleted: true, sceneId: scene.id });
        printLine(io, `Deleted "${scene.name}" (${scene.id}).`);
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
            const { jobId } = (await studio.call('scenes.exportCameras', {
              sceneId: scene.id,
              format: opts.format,
              outDir,
            })) as { jobId: string };
            const job = await followJob(studio, io, jobId, 'export');
            if (json) return printJson(io, job.result);
            printLine(
              io,
              `Wrote ${Number(job.result?.cameraCount)} cameras and ${Number(job.result?.pointCount)} points to ${outDir} (${formatBytes(Number(job.result?.bytes))}).`,
            );
            return;
          }
          const result = (await studio.call('scenes.export', {
            sceneId: scene.id,
            format: opts.format,
            encoding: opts.ascii ? 'ascii' : undefined,
          })) as ExportResult;
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

  program
    .command('reconstruct')
    .description('reconstruct cameras and a point cloud from the scene frames with G2VLM')
    .argument('<scene>', 'scene id or name')
    .option('--model <dir>', 'converted model folder (registered and made active); default: the active model')
    .option('--estimate', 'print the memory the run would need (and whether it fits) without running it')
    .action(
      withStudio(async (studio, json, sceneRef: string, opts: { model?: string; estimate?: boolean }) => {
        const scene = await findScene(studio, sceneRef);
        if (opts.estimate) return printReconstructionEstimate(studio, io, json, scene.id, opts.model);
        const modelId = opts.model ? await registerModel(studio, opts.model) : undefined;
        const { jobId } = (await studio.call('scenes.reconstruct', { sceneId: scene.id, modelId })) as {
          jobId: string;
        };
        await followJob(studio, io, jobId, 'reconstruct');
        const updated = (await studio.call('scenes.get', { sceneId: scene.id })) as SceneDetail;
        if (json) return printJson(io, updated);
        printLine(
          io,
          `Reconstructed "${updated.name}": ${updated.cameras.length} cameras, ${updated.pointCount} points.`,
        );
      }),
    );

  program
    .command('ask')
    .description('ask a spatial question about a scene (answer streams as it is generated)')
    .argument('<scene>', 'scene id or name')
    .argument('<question>', 'the question, in quotes')
    .option('--model <dir>', 'converted model folder; default: the active model')
    .option('--marker <color:frame:x:y>', 'coloured marker on a frame, repeatable', parseMarker)
    .action(
      withStudio(
        async (
          studio,
          json,
          sceneRef: string,
          question: string,
          opts: { model?: string; marker?: Marker[] },
        ) => {
          const scene = await findScene(studio, sceneRef);
          const modelId = opts.model ? await registerModel(studio, opts.model) : undefined;
          let jobId = '';
          let streamed = false;
          // Progress (image encoding, prefill) until the answer starts; then only the answer.
          const progress = jobProgressView(io, 'ask');
          const view: JobProgressView = {
            update: (job) => {
              if (!streamed) progress.update(job);
            },
            stop: () => progress.stop(),
          };
          const unsubscribe = studio.subscribe((event: StudioEvent) => {
            if (event.type === 'qa-token' && event.jobId === jobId && !json) {
              if (!streamed) progress.stop();
              streamed = true;
              io.stdout.write(event.text);
            }
          });
          try {
            ({ jobId } = (await studio.call('qa.ask', {
              sceneId: scene.id,
              question,
              markers: opts.marker,
              modelId,
            })) as { jobId: string });
            const job = await followJob(studio, io, jobId, 'ask', { view });
            const history = (await studio.call('qa.history', { sceneId: scene.id })) as QaEntry[];
            const entry = history.find((e) => e.id === job.result?.qaId);
            if (json) return printJson(io, entry ?? job.result);
            if (!streamed) io.stdout.write(String(job.result?.answer ?? ''));
            printLine(io);
            for (const e of entry?.evidence ?? [])
              printLine(io, `  ${e.label}: ${e.value.toFixed(3)} ${e.unit}`);
          } finally {
            unsubscribe();
          }
        },
      ),
    );

  program
    .command('history')
    .description('questions asked about a scene, with answers and the model that gave them')
    .argument('<scene>', 'scene id or name')
    .action(
      withStudio(async (studio, json, sceneRef: string) => {
        const scene = await findScene(studio, sceneRef);
        const history = (await studio.call('qa.history', { sceneId: scene.id })) as QaEntry[];
        if (json) return printJson(io, history);
        if (history.length === 0) return printLine(io, `No questions asked about "${scene.name}" yet.`);
        for (const e of history) {
          printLine(
            io,
            `[${e.createdAt.replace('T', ' ').slice(0, 19)}] ${e.modelId} (${e.precision}, ${e.executionProvider})`,
          );
          printLine(io, `Q: ${e.question}`);
          printLine(io, `A: ${e.answer}`);
          for (const ev of e.evidence) printLine(io, `   ${ev.label}: ${ev.value.toFixed(3)} ${ev.unit}`);
          printLine(io);
        }
      }),
    );

  program
    .command('jobs')
    .description('recent jobs and how they ended')
    .option('--scene <scene>', 'only jobs of this scene')
    .action(
      withStudio(async (studio, json, opts: { scene?: string }) => {
        const sceneId = opts.scene ? (await findScene(studio, opts.scene)).id : undefined;
        const jobs = (await studio.call('jobs.list', { sceneId })) as JobInfo[];
        if (json) return printJson(io, jobs);
        printLine(
          io,
          table([
            ['ID', 'KIND', 'STATUS', 'CREATED', 'MESSAGE'],
            ...jobs.map((j) => [
              j.id,
              j.kind,
              j.status,
              j.createdAt.replace('T', ' ').slice(0, 19),
              j.message,
            ]),
          ]),
        );
      }),
    );

  program
    .command('serve')
    .description('serve the studio to a browser on this machine (web mode)')
    .option('--port <n>', 'port (default: a free one)', parseInteger('--port', 0, 65535))
    .option('--host <host>', 'loopback address to bind', '127.0.0.1')
    .action(async (opts: { port?: number; host: string }, cmd: Command) => {
      const g = globals(cmd);
      const studio = await openStudio(cmd, 'web');
      try {
        const { startWebServer } = await import('../server/web-server');
        const server = await startWebServer(studio, { port: opts.port ?? 0, host: opts.host });
        if (g.json) printJson(io, { url: server.url, token: server.token });
        else {
          printLine(io, `G2 Studio is serving ${studio.library.location.dir}`);
          printLine(io, `Open: ${server.url}`);
          printLine(io, 'Press Ctrl+C to stop.');
        }
        await new Promise<void>((done) => {
          const stop = (): void => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            done();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        await server.close();
      } finally {
        await studio.close();
      }
    });

  registerSceneEditCommands(program, io, withStudio);
  for (const contribute of contributors) contribute(program, { libraryPath: () => libraryPath(program), io });
  return program;
}

function fmtVec(v: [number, number, number]): string {
  return `(${v.map((x) => x.toFixed(3)).join(', ')})`;
}

/** Run the CLI; resolves with the exit code (never throws, never prints a stack trace). */
export async function runCli(argv: string[], options: CliOptions = {}): Promise<number> {
  const io = options.io ?? processIo;
  const program = buildProgram(io, options.contributors);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message (usage errors, --help, --version).
      return error.exitCode;
    }
    const json = program.opts<GlobalOptions>().json === true || argv.includes('--json');
    const info = reportError(io, error, json);
    return info.code === 'cancelled' ? 130 : 1;
  }
}

/** `reconstruct --estimate`: the engine's own memory figure for this scene and model, nothing run. */
async function printReconstructionEstimate(
  studio: Studio,
  io: CliIo,
  json: boolean,
  sceneId: string,
  model: string | undefined,
): Promise<void> {
  const scene = (await studio.call('scenes.get', { sceneId })) as SceneDetail;
  const frames = scene.frames.filter((f) => f.selected);
  const modelDir = model
    ? resolve(model)
    : ((await studio.call('models.list', {})) as ModelInfo[]).find((m) => m.active)?.path;
  if (!modelDir || frames.length === 0) {
    throw new StudioError(
      'invalid-input',
      modelDir ? 'The scene has no selected frames.' : 'No model is active.',
      modelDir ? 'Import frames first.' : 'Pass --model <dir> or install a model (g2studio model use).',
    );
  }
  const estimate = await estimateReconstructionMemory(
    modelDir,
    frames.length,
    frames[0].width,
    frames[0].height,
  );
  if (json) return printJson(io, { estimate: { ...estimate, frameCount: frames.length, modelDir } });
  printLine(
    io,
    `${frames.length} frames need about ${formatBytes(estimate.peakBytes)} (${formatBytes(estimate.availableBytes)} available): ` +
      (estimate.fits ? 'fits.' : `does not fit; at most ${estimate.maxFrames} frames fit.`),
  );
}
