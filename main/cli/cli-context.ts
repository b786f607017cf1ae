// What every CLI command is given: where to print, the global options
// (--library, --json, --ffmpeg, --provider, declared once in program.ts) and
// the one way to open the studio for a command. Commands call the studio with
// its typed call (Studio.run), the same contract the renderer and the web
// bridge use, so inputs are validated once, in the core.

import { InvalidArgumentError, type Command } from 'commander';
import type { Marker } from '../common/domain';
import { MARKER_COLORS } from '../common/domain';
import { resolveLibraryPath } from '../core/settings';
import { createStudio, type Studio } from '../core/studio';
import type { CliIo } from './output';

export interface GlobalOptions {
  library?: string;
  json?: boolean;
  ffmpeg?: string;
  provider?: 'auto' | 'cpu' | 'webgpu' | 'cuda';
}

/** A command's action, given the open studio, whether --json is set, and the command's arguments. */
export type StudioAction<A extends unknown[]> = (studio: Studio, json: boolean, ...args: A) => Promise<void>;

export interface CliContext {
  io: CliIo;
  globals(cmd: Command): GlobalOptions;
  libraryPath(cmd: Command): string;
  /** The studio for this command line's global options (library, ffmpeg, execution provider). */
  openStudio(cmd: Command, mode: 'cli' | 'web'): Promise<Studio>;
  /** Wraps an action: opens the studio for the command and always closes it. */
  withStudio<A extends unknown[]>(action: StudioAction<A>): (...args: unknown[]) => Promise<void>;
}

export function createCliContext(io: CliIo): CliContext {
  const globals = (cmd: Command): GlobalOptions => cmd.optsWithGlobals<GlobalOptions>();
  const libraryPath = (cmd: Command): string => resolveLibraryPath(globals(cmd).library);
  const openStudio = (cmd: Command, mode: 'cli' | 'web'): Promise<Studio> => {
    const opts = globals(cmd);
    return createStudio({
      libraryPath: libraryPath(cmd),
      mode,
      ffmpegPath: opts.ffmpeg,
      executionProvider: opts.provider,
    });
  };
  return {
    io,
    globals,
    libraryPath,
    openStudio,
    withStudio:
      <A extends unknown[]>(action: StudioAction<A>) =>
      // Commander calls actions with (...arguments, options, command).
      async (...args: unknown[]): Promise<void> => {
        const cmd = args[args.length - 1] as Command;
        const studio = await openStudio(cmd, 'cli');
        try {
          await action(studio, globals(cmd).json === true, ...(args.slice(0, -1) as A));
        } finally {
          await studio.close();
        }
      },
  };
}

export function parseInteger(name: string, min: number, max: number) {
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
