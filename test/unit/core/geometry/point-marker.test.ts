// 3D markers for questions: a picked point becomes a marker on the frame that
// sees it best, and reads back as the same 3D point through the frame's map.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SceneDetail } from '../../../../main/common/domain';
import { markedPoint, type MarkerGeometry } from '../../../../main/core/geometry/marker-evidence';
import { frameMarkerForPoint } from '../../../../main/core/geometry/point-marker';
import { Library } from '../../../../main/core/library/library';
import { tempDir } from '../../../support/library-fixtures';
import { reconstructedFloorScene } from '../../../support/reconstructed-scene';

const { dir, cleanup } = tempDir('g2-point-marker-');
let library: Library;
let scene: SceneDetail;
let geometry: MarkerGeometry;

beforeAll(async () => {
  library = Library.open(join(dir, 'lib'));
  const sceneId = await reconstructedFloorScene(library);
  scene = library.scenes.get(sceneId)!;
  const rec = library.scenes.reconstruction(sceneId)!;
  const frameIndices = scene.cameras.map((c) => c.frameIndex);
  geometry = {
    frameIndices,
    frameSizes: frameIndices.map((i) => scene.frames.find((f) => f.index === i)!),
    mapWidth: rec.info.mapWidth,
    mapHeight: rec.info.mapHeight,
    worldFromCamera: rec.worldFromCamera,
    localPointMaps: rec.localPointMaps,
  };
});
afterAll(() => {
  library.close();
  cleanup();
});

describe('3D markers', () => {
  it('puts a floor point on the frame whose centre is nearest to it, and it reads back as the same point', () => {
    // Camera 1 sits at x = 1 looking down the floor: a floor point straight ahead of it.
    const points = library.scenes.points(scene.id)!;
    // A real reconstructed point: the centre pixel of frame 1's map.
    const centre = (1 * 24 + 12) * 32 + 16;
    const point = Array.from(points.positions.subarray(3 * centre, 3 * centre + 3)) as [
      number,
      number,
      number,
    ];
    const marker = frameMarkerForPoint({ color: 'red', point }, geometry, scene.cameras);
    expect(marker).toMatchObject({ color: 'red', frameIndex: 1 });
    const back = markedPoint(geometry, marker!);
    expect(back).not.toBeNull();
    for (let a = 0; a < 3; a++) expect(back!.world[a]).toBeCloseTo(point[a], 4);
  });

  it('projects a point that is no map pixel into the frame that sees it best', () => {
    // Halfway between two floor pixels of frame 0 (not a pixel itself), still on the floor.
    const points = library.scenes.points(scene.id)!;
    const a = (0 * 24 + 20) * 32 + 16,
      b = a + 1;
    const point = [0, 1, 2].map((k) => (points.positions[3 * a + k] + points.positions[3 * b + k]) / 2) as [
      number,
      number,
      number,
    ];
    const marker = frameMarkerForPoint({ color: 'green', point }, geometry, scene.cameras);
    expect(marker).not.toBeNull();
    const back = markedPoint(geometry, marker!);
    expect(Math.hypot(...[0, 1, 2].map((k) => back!.world[k] - point[k]))).toBeLessThan(0.1);
  });

  it('finds no frame for a point behind the wall, below the floor or behind every camera', () => {
    for (const point of [
      [1, 0, 9], // behind the wall at z = 6
      [1, 3, 3], // under the floor (y = 1)
      [1, 0, -5], // behind the cameras
    ] as Array<[number, number, number]>) {
      expect(frameMarkerForPoint({ color: 'blue', point }, geometry, scene.cameras)).toBeNull();
    }
  });
});
