// A synthetic scene the shape of a reconstructed room, in OpenCV coordinates as
// the studio stores them (y down, z forward from the first camera): a floor,
// three walls, a table and some furniture-sized blobs, with surface noise and
// colours that vary smoothly (textures) rather than per point (noise). Points
// come surface by surface in scanlines, the order a reconstruction writes them
// (depth maps unprojected row by row), so the plain renderer keeps the memory
// locality it would have on real data.

export interface SyntheticCloud {
  positions: Float32Array;
  colors: Uint8Array;
  count: number;
}

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

export function syntheticRoom(count: number, seed = 42): SyntheticCloud {
  const random = seeded(seed);
  const positions = new Float32Array(count * 3);
  const colors = new Uint8Array(count * 3);
  const noise = () => (random() + random() + random() - 1.5) * 0.01;
  const put = (i: number, x: number, y: number, z: number, r: number, g: number, b: number) => {
    positions[3 * i] = x + noise();
    positions[3 * i + 1] = y + noise();
    positions[3 * i + 2] = z + noise();
    colors[3 * i] = Math.max(0, Math.min(255, r));
    colors[3 * i + 1] = Math.max(0, Math.min(255, g));
    colors[3 * i + 2] = Math.max(0, Math.min(255, b));
  };
  // Room: x −3..3, floor at y = 1.5 (down is +y), ceiling open, z 1..9.
  // Floor, back wall, side walls, table, furniture; within each, (u, v) sweeps a grid row by row.
  const shares = [0.35, 0.2, 0.2, 0.12, 0.13];
  const starts = shares.map((_, k) => shares.slice(0, k).reduce((a, b) => a + b, 0));
  for (let i = 0; i < count; i++) {
    const t = i / count;
    let k = shares.length - 1;
    while (k > 0 && t < starts[k]) k--;
    const inSurface = Math.floor(t * count - starts[k] * count);
    const surfaceCount = Math.max(1, Math.round(shares[k] * count));
    const columns = Math.max(1, Math.round(Math.sqrt(surfaceCount)));
    const u = Math.min(1, ((inSurface % columns) + random()) / columns);
    const v = Math.min(1, (Math.floor(inSurface / columns) + random()) / Math.ceil(surfaceCount / columns));
    if (k === 0) {
      // Wooden floor: planks along z with grain.
      const x = -3 + 6 * u;
      const z = 1 + 8 * v;
      const plank = Math.floor(x * 4) % 2 === 0 ? 0 : 18;
      const grain = Math.sin(z * 30 + x * 3) * 12;
      put(i, x, 1.5, z, 150 + plank + grain, 105 + plank / 2 + grain, 70);
    } else if (k === 1) {
      // Back wall with a window-shaped bright patch.
      const x = -3 + 6 * u;
      const y = 1.5 - 3 * v;
      const window = Math.abs(x) < 1 && y < -0.2 && y > -1.2;
      put(i, x, y, 9, window ? 235 : 205 - y * 10, window ? 240 : 200 - y * 10, window ? 250 : 185);
    } else if (k === 2) {
      // Side walls, painted in a gradient.
      const side = v < 0.5 ? -3 : 3;
      const y = 1.5 - 3 * ((v * 2) % 1);
      const z = 1 + 8 * u;
      put(i, side, y, z, 120 + z * 8, 150 + y * 10, 170 - z * 4);
    } else if (k === 3) {
      // Table top and legs.
      if (u < 0.8) {
        put(i, -0.8 + 1.6 * v, 0.75, 4.5 + u / 0.8, 90, 60, 40);
      } else {
        const leg = Math.floor(v * 4);
        const x = leg % 2 === 0 ? -0.75 : 0.75;
        const z = leg < 2 ? 4.55 : 5.45;
        put(i, x + (random() - 0.5) * 0.05, 0.75 + 0.75 * random(), z + (random() - 0.5) * 0.05, 60, 40, 30);
      }
    } else {
      // Two blobs (a sofa and a plant pot): points on ellipsoids.
      const sofa = v < 0.6;
      const w = sofa ? v / 0.6 : (v - 0.6) / 0.4;
      const theta = 2 * Math.PI * u;
      const phi = Math.acos(Math.min(1, Math.max(-1, 2 * w - 1)));
      const [cx, cy, cz, rx, ry, rz] = sofa ? [2, 1.1, 7, 0.8, 0.4, 1.5] : [-2.2, 1.0, 3, 0.3, 0.5, 0.3];
      const sx = Math.sin(phi) * Math.cos(theta);
      const sy = Math.cos(phi);
      const sz = Math.sin(phi) * Math.sin(theta);
      const shade = 0.7 + 0.3 * -sy;
      put(
        i,
        cx + rx * sx,
        cy + ry * sy,
        cz + rz * sz,
        (sofa ? 70 : 40) * shade,
        (sofa ? 90 : 140) * shade,
        (sofa ? 160 : 60) * shade,
      );
    }
  }
  return { positions, colors, count };
}
