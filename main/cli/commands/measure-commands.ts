// `g2studio scale|measure|level`: metric scale from a known distance, distances
// between points, and levelling on the floor — the viewer's tools for scripts.

import { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { printJson, printLine } from '../output';
import { findScene } from '../cli-support';
import { collectVec3, parsePositive, parseVec3, usage } from './edit-support';
import { type Vec3, measuredDistance } from '../../core/geometry/measure';

export function registerMeasureCommands(program: Command, { io, withStudio }: CliContext): void {
  program
    .command('scale')
    .description('give a scene metric scale from a known distance (or a value), or remove it')
    .argument('<scene>', 'scene id or name')
    .option('--from <x,y,z>', 'first point of the known distance', parseVec3)
    .option('--to <x,y,z>', 'second point', parseVec3)
    .option('--metres <m>', 'the real distance between them', parsePositive('--metres'))
    .option('--metres-per-unit <value>', 'set the scale directly', parsePositive('--metres-per-unit'))
    .option('--clear', 'remove the scale (back to model units)')
    .action(
      withStudio(
        async (
          studio,
          json,
          sceneRef: string,
          opts: { from?: Vec3; to?: Vec3; metres?: number; metresPerUnit?: number; clear?: boolean },
        ) => {
          const known = opts.from && opts.to && opts.metres !== undefined;
          const chosen = [known, opts.metresPerUnit !== undefined, opts.clear === true].filter(
            Boolean,
          ).length;
          if (chosen !== 1) {
            throw usage('Give --from, --to and --metres, or --metres-per-unit, or --clear (one of them).');
          }
          const scene = await findScene(studio, sceneRef);
          const updated = await studio.run('scenes.setScale', {
            sceneId: scene.id,
            scale: known
              ? {
                  kind: 'known-distance',
                  a: opts.from as Vec3,
                  b: opts.to as Vec3,
                  metres: opts.metres as number,
                }
              : opts.clear
                ? { kind: 'none' }
                : { kind: 'metres-per-unit', value: opts.metresPerUnit as number },
          });
          if (json) return printJson(io, updated);
          printLine(
            io,
            updated.metresPerUnit
              ? `"${updated.name}": 1 unit = ${updated.metresPerUnit.toPrecision(6)} m.`
              : `"${updated.name}" is in model units (no scale).`,
          );
        },
      ),
    );

  program
    .command('measure')
    .description('distance between two points: metres once the scene has a scale, else model units')
    .argument('<scene>', 'scene id or name')
    .requiredOption('--from <x,y,z>', 'first point (scene units)', parseVec3)
    .requiredOption('--to <x,y,z>', 'second point', parseVec3)
    .action(
      withStudio(async (studio, json, sceneRef: string, opts: { from: Vec3; to: Vec3 }) => {
        const scene = await findScene(studio, sceneRef);
        const measured = measuredDistance(opts.from, opts.to, scene.metresPerUnit);
        if (json) return printJson(io, measured);
        printLine(io, `${measured.value.toPrecision(6)} ${measured.unit}`);
      }),
    );

  program
    .command('level')
    .description('stand a scene upright on a floor plane through 3+ points on the floor, or --clear')
    .argument('<scene>', 'scene id or name')
    .option('--point <x,y,z>', 'a point on the floor (repeat, at least 3)', collectVec3)
    .option('--clear', 'remove the levelling')
    .action(
      withStudio(async (studio, json, sceneRef: string, opts: { point?: Vec3[]; clear?: boolean }) => {
        if (!opts.clear === !opts.point) throw usage('Give --point (3 or more times) or --clear.');
        const scene = await findScene(studio, sceneRef);
        const updated = await studio.run('scenes.setGround', {
          sceneId: scene.id,
          ground: opts.clear ? { kind: 'none' } : { kind: 'points', points: opts.point ?? [] },
        });
        if (json) return printJson(io, updated);
        printLine(
          io,
          updated.groundAlignment ? `"${updated.name}" is levelled.` : `"${updated.name}" is not levelled.`,
        );
      }),
    );
}
