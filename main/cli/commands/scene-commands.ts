// Scenes in the library: list, show, rename, delete.

import { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { formatBytes, printJson, printLine, table } from '../output';
import { findScene } from '../cli-support';

function fmtVec(v: [number, number, number]): string {
  return `(${v.map((x) => x.toFixed(3)).join(', ')})`;
}

export function registerSceneCommands(program: Command, ctx: CliContext): void {
  const { io, withStudio } = ctx;

  program
    .command('list')
    .description('list the scenes in the library')
    .action(
      withStudio(async (studio, json) => {
        const scenes = await studio.run('scenes.list', {});
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
        const renamed = await studio.run('scenes.rename', { sceneId: scene.id, name });
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
}
