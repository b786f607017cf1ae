// A tiny binary PLY writer for tests (independent of the studio's own writer,
// so import tests do not just read back what our exporter wrote).

import { writeFileSync } from 'node:fs';

export function writeBinaryPly(path: string, positions: Float32Array, colors: Uint8Array | null): void {
  const count = positions.length / 3;
  const header = [
    'ply',
    'format binary_little_endian 1.0',
    'comment written by test/support/ply-fixture.ts',
    `element vertex ${count}`,
    'property float x',
    'property float y',
    'property float z',
    ...(colors ? ['property uchar red', 'property uchar green', 'property uchar blue'] : []),
    'end_header',
    '',
  ].join('\n');
  const stride = 12 + (colors ? 3 : 0);
  const body = Buffer.alloc(count * stride);
  for (let i = 0; i < count; i++) {
    body.writeFloatLE(positions[3 * i], i * stride);
    body.writeFloatLE(positions[3 * i + 1], i * stride + 4);
    body.writeFloatLE(positions[3 * i + 2], i * stride + 8);
    if (colors) {
      body[i * stride + 12] = colors[3 * i];
      body[i * stride + 13] = colors[3 * i + 1];
      body[i * stride + 14] = colors[3 * i + 2];
    }
  }
  writeFileSync(path, Buffer.concat([Buffer.from(header, 'latin1'), body]));
}
