// A grid on the ground plane once the scene is levelled (the ground is y = 0
// of the levelled world, see levelled-world.ts): drawn inside the levelled
// group, under the points, with cells of a round size (1, 2 or 5 × 10^k scene
// units, metres once the scene has a scale).

import { useEffect, useMemo } from 'react';
import { Color, GridHelper, LinearSRGBColorSpace, Vector3, type Box3 } from 'three';

export const GRID_COLOR = '#3b4a60';
export const GRID_CENTRE_COLOR = '#6f86a8';
const CELLS = 20;

/**
 * The viewer's canvas writes linear values unconverted (Viewport: `linear`),
 * so a colour meant to reach the screen as these sRGB bytes is given as is.
 */
function displayed(hex: string): Color {
  const n = parseInt(hex.slice(1), 16);
  return new Color().setRGB(
    ((n >> 16) & 255) / 255,
    ((n >> 8) & 255) / 255,
    (n & 255) / 255,
    LinearSRGBColorSpace,
  );
}

/** A round cell size near `span / CELLS` (in scene units; `metresPerUnit` rounds it in metres). */
export function gridCell(span: number, metresPerUnit: number | null): number {
  const scale = metresPerUnit ?? 1;
  const raw = Math.max((span * scale) / CELLS, 1e-9);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].find((m) => m * power >= raw) ?? 10;
  return (step * power) / scale;
}

interface GroundGridProps {
  /** The levelled scene's box in three.js axes (what the viewer frames). */
  box: Box3;
  metresPerUnit: number | null;
}

export function GroundGrid({ box, metresPerUnit }: GroundGridProps) {
  const grid = useMemo(() => {
    const size = box.getSize(new Vector3());
    const cell = gridCell(Math.max(size.x, size.z), metresPerUnit);
    const cells = Math.ceil((Math.max(size.x, size.z) * 1.5) / cell / 2) * 2;
    const helper = new GridHelper(cells * cell, cells, displayed(GRID_CENTRE_COLOR), displayed(GRID_COLOR));
    // Centred under the scene; snapped to whole cells so the lines stay put when the box changes a little.
    const centre = box.getCenter(new Vector3());
    // three.js x, z of the levelled world are OpenCV x, −z (the group flips back).
    helper.position.set(Math.round(centre.x / cell) * cell, 0, -Math.round(centre.z / cell) * cell);
    helper.name = 'ground-grid';
    helper.renderOrder = -1;
    return helper;
  }, [box, metresPerUnit]);
  useEffect(
    () => () => {
      grid.geometry.dispose();
      (Array.isArray(grid.material) ? grid.material : [grid.material]).forEach((m) => m.dispose());
    },
    [grid],
  );
  return <primitive object={grid} />;
}
