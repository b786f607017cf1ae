// A scene's frames and which of them a reconstruction uses: list them (with
// sharpness, selection and the frames the current reconstruction was made
// from), select or deselect frames by index, or run the automatic selection
// again with a new count.

import { Command, InvalidArgumentError } from 'commander';
import type { FrameInfo, SceneDetail } from '../../common/domain';
import { StudioError } from '../../common/errors';
import { frameUsage } from '../../common/frame-usage';
import type { CliContext } from '../cli-context';
import { parseInteger } from '../cli-context';
import { findScene } from '../cli-support';
import { printJson, printLine, table } from '../output';

/** The most frame indices one option may name (a range like 0-99999 included). */
const MAX_LISTED_FRAMES = 100_000;

/** "1,2,5" or "3-7" (or both, "0,4-6"), repeatable: frame indices as `g2studio frames` lists them. */
export function collectFrameIndices(value: string, previous: number[] = []): number[] {
  const indices = [...previous];
  for (const part of value.split(',')) {
    const range = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!range) throw new InvalidArgumentError(`"${part}" is not a frame index or a range like 3-7.`);
    const first = Number(range[1]);
    const last = range[2] === undefined ? first : Number(range[2]);
    if (last < first) throw new InvalidArgumentError(`the range "${part}" runs backwards.`);
    if (indices.length + (last - first + 1) > MAX_LISTED_FRAMES) {
      throw new InvalidArgumentError(`at most ${MAX_LISTED_FRAMES} frames can be named at once.`);
    }
    for (let i = first; i <= last; i++) indices.push(i);
  }
  return indices;
}

interface FramesOptions {
  select?: number[];
  deselect?: number[];
  reselect?: number;
}

/** The ids of the scene's frames with these indices, or a not-found error naming the missing ones. */
function frameIdsAt(scene: SceneDetail, indices: number[]): string[] {
  const byIndex = new Map(scene.frames.map((frame) => [frame.index, frame.id]));
  const missing = [...new Set(indices.filter((index) => !byIndex.has(index)))];
  if (missing.length > 0) {
    const last = scene.frames.length - 1;
    throw new StudioError(
      'not-found',
      `"${scene.name}" has no frame ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` (and ${missing.length - 5} more)` : ''}; the selection was not changed.`,
      last >= 0
        ? `Name frames 0 to ${last} (see \`g2studio frames ${scene.id}\`).`
        : `"${scene.name}" has no frames: it is a ${scene.kind} scene.`,
    );
  }
  return [...new Set(indices)].map((index) => byIndex.get(index) as string);
}

function frameRows(scene: SceneDetail, used: ReadonlySet<string>): string[][] {
  const time = (f: FrameInfo): string =>
    f.timestampS === null ? (f.fileName ?? '') : `${f.timestampS.toFixed(3)} s`;
  return [
    ['INDEX', 'TIME', 'SHARPNESS', 'SELECTED', 'USED', 'ID'],
    ...scene.frames.map((f) => [
      String(f.index),
      time(f),
      f.blurScore.toFixed(1),
      f.selected ? 'yes' : 'no',
      used.has(f.id) ? 'yes' : scene.reconstruction ? 'no' : '-',
      f.id,
    ]),
  ];
}

export function registerFrameCommands(program: Command, ctx: CliContext): void {
  const { io, withStudio } = ctx;

  program
    .command('frames')
    .description(
      "list a scene's frames: sharpness, selected for the next reconstruction, used by the current one; or change the selection",
    )
    .argument('<scene>', 'scene id or name')
    .option(
      '--reselect <count>',
      'run the automatic selection again for this many frames',
      parseInteger('--reselect', 2, 512),
    )
    .option(
      '--select <frames>',
      'select these frames, e.g. 1,2,5 or 3-7 (after --reselect)',
      collectFrameIndices,
    )
    .option('--deselect <frames>', 'deselect these frames, e.g. 0,9 (after --reselect)', collectFrameIndices)
    .addHelpText(
      'after',
      '\nThe next `g2studio reconstruct` uses the selected frames. A reconstruction keeps the list of frames it used.',
    )
    .action(
      withStudio(async (studio, json, sceneRef: string, opts: FramesOptions) => {
        let scene = await findScene(studio, sceneRef);
        const select = opts.select ?? [];
        const deselect = opts.deselect ?? [];
        const both = select.filter((index) => deselect.includes(index));
        if (both.length > 0) {
          throw new StudioError(
            'invalid-input',
            `Frame ${both[0]} is both selected and deselected.`,
            'Name each frame in --select or --deselect, not both.',
          );
        }
        // Indices are checked before anything changes, so a typo changes nothing.
        const selectIds = frameIdsAt(scene, select);
        const deselectIds = frameIdsAt(scene, deselect);
        if (opts.reselect !== undefined) {
          scene = await studio.run('scenes.reselectFrames', { sceneId: scene.id, count: opts.reselect });
        }
        if (selectIds.length > 0) {
          scene = await studio.run('scenes.selectFrames', {
            sceneId: scene.id,
            frameIds: selectIds,
            selected: true,
          });
        }
        if (deselectIds.length > 0) {
          scene = await studio.run('scenes.selectFrames', {
            sceneId: scene.id,
            frameIds: deselectIds,
            selected: false,
          });
        }
        const usage = frameUsage(scene);
        if (json) {
          return printJson(io, {
            sceneId: scene.id,
            selectedCount: usage.selectedCount,
            reconstruction: scene.reconstruction
              ? { id: scene.reconstruction.id, usedFrameIds: scene.reconstruction.usedFrameIds }
              : null,
            outOfDate: usage.outOfDate,
            frames: scene.frames.map((frame) => ({ ...frame, used: usage.used.has(frame.id) })),
          });
        }
        if (scene.frames.length === 0) {
          return printLine(io, `"${scene.name}" has no frames (it is a ${scene.kind} scene).`);
        }
        printLine(io, table(frameRows(scene, usage.used)));
        printLine(io, `${usage.selectedCount} of ${scene.frames.length} frames selected.`);
        if (!scene.reconstruction) {
          printLine(io, `Not reconstructed yet: g2studio reconstruct ${scene.id}`);
        } else if (usage.outOfDate) {
          printLine(
            io,
            `The reconstruction used ${usage.used.size} frames; the selection differs (${usage.added} added, ${usage.removed} removed). Reconstruct to use it: g2studio reconstruct ${scene.id}`,
          );
        } else {
          printLine(io, `The reconstruction used the selected frames.`);
        }
      }),
    );
}
