// Test inputs made on the fly (nothing hard-coded to compare against).

import { writeFile } from 'node:fs/promises';

export interface ColouredCloud {
  positions: Float32Array;
  colors: Uint8Array;
}

/**
 * Three solid cubes of points side by side along x: red, green, blue, in
 * OpenCV axes (y down, z forward, 2 units in front of the origin). The green
 * cube sits `greenRaise` higher (towards -y), so a viewer that gets the axis
 * conversion wrong shows it lower than the others.
 * `perAxis` points along each edge, so 3 * perAxis^3 points in all.
 */
export function rgbCubes(perAxis = 12, edge = 0.6, gap = 0.4, greenRaise = 0): ColouredCloud {
  const palette: Array<[number, number, number]> = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
  ];
  const count = palette.length * perAxis ** 3;
  const positions = new Float32Array(count * 3);
  const colors = new Uint8Array(count * 3);
  let p = 0;
  palette.forEach((rgb, cube) => {
    const x0 = (cube - 1) * (edge + gap) - edge / 2;
    for (let i = 0; i < perAxis; i++)
      for (let j = 0; j < perAxis; j++)
        for (let k = 0; k < perAxis; k++) {
          const step = edge / (perAxis - 1);
          const y0 = -edge / 2 - (cube === 1 ? greenRaise : 0);
          positions.set([x0 + i * step, y0 + j * step, 2 + k * step], p * 3);
          colors.set(rgb, p * 3);
          p++;
        }
  });
  return { positions, colors };
}

/** A binary little-endian PLY with float xyz and uchar rgb, as phones' scanning apps write them. */
export function plyBytes(cloud: ColouredCloud): Buffer {
  const count = cloud.positions.length / 3;
  const header = [
    'ply',
    'format binary_little_endian 1.0',
    'comment made by the G2 Studio tests',
    `element vertex ${count}`,
    'property float x',
    'property float y',
    'property float z',
    'property uchar red',
    'property uchar green',
    'property uchar blue',
    'end_header',
    '',
  ].join('\n');
  const body = Buffer.alloc(count * 15);
  for (let i = 0; i < count; i++) {
    body.writeFloatLE(cloud.positions[i * 3], i * 15);
    body.writeFloatLE(cloud.positions[i * 3 + 1], i * 15 + 4);
    body.writeFloatLE(cloud.positions[i * 3 + 2], i * 15 + 8);
    body[i * 15 + 12] = cloud.colors[i * 3];
    body[i * 15 + 13] = cloud.colors[i * 3 + 1];
    body[i * 15 + 14] = cloud.colors[i * 3 + 2];
  }
  return Buffer.concat([Buffer.from(header, 'ascii'), body]);
}

export async function writeRgbCubesPly(path: string, perAxis = 12, greenRaise = 0): Promise<ColouredCloud> {
  const cloud = rgbCubes(perAxis, 0.6, 0.4, greenRaise);
  await writeFile(path, plyBytes(cloud));
  return cloud;
}
