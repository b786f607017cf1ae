// Camera rotation from the head's raw 9 values: row-normalise, SVD, det fix
// (pitfall 12), and world points = R·local + t.
import { afterAll, describe, expect, it } from 'vitest';
import { GoldenTensorReader, compareAllclose } from '../../../../main/model/golden/golden-tensors';
import {
  posesFromHead,
  rotationFromRaw9,
  svd3,
  worldPointsFromLocal,
} from '../../../../main/model/runtime/rotation';
import { SHARED_DIR } from '../../../support/shared-dir';

const golden = new GoldenTensorReader(`${SHARED_DIR}/golden/g2vlm-tiny-a`);
afterAll(() => golden.close());

function mul(A: ArrayLike<number>, B: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) out.push(A[i * 3] * B[j] + A[i * 3 + 1] * B[3 + j] + A[i * 3 + 2] * B[6 + j]);
  return out;
}
const T = (A: ArrayLike<number>): number[] => [0, 3, 6, 1, 4, 7, 2, 5, 8].map((k) => A[k]);
const det = (M: ArrayLike<number>): number =>
  M[0] * (M[4] * M[8] - M[5] * M[7]) -
  M[1] * (M[3] * M[8] - M[5] * M[6]) +
  M[2] * (M[3] * M[7] - M[4] * M[6]);

describe('rotation from the camera head', () => {
  it('svd3 reconstructs random matrices with orthonormal factors and sorted singular values', () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    for (let k = 0; k < 200; k++) {
      const A = Array.from({ length: 9 }, rand);
      const { U, s, V } = svd3(A);
      const US = [0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => U[i * 3 + j] * s[j]));
      const back = mul(US, T(V));
      back.forEach((v, i) => expect(Math.abs(v - A[i])).toBeLessThan(1e-12));
      mul(T(U), U).forEach((v, i) => expect(Math.abs(v - (i % 4 === 0 ? 1 : 0))).toBeLessThan(1e-12));
      expect(s[0]).toBeGreaterThanOrEqual(s[1]);
      expect(s[1]).toBeGreaterThanOrEqual(s[2]);
    }
  });

  it('gives a proper rotation (det +1) even for a reflection input, nearest to the row-normalised matrix', () => {
    const reflection = [1, 0, 0, 0, 1, 0, 0, 0, -1];
    const R = rotationFromRaw9(reflection);
    expect(det(R)).toBeCloseTo(1, 12);
    mul(R, T(R)).forEach((v, i) => expect(v).toBeCloseTo(i % 4 === 0 ? 1 : 0, 12));
    // Rows are normalised first: scaling a row of a rotation changes nothing.
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    const rot = [c, -s, 0, s, c, 0, 0, 0, 1];
    const scaled = [
      ...rot.slice(0, 3).map((v) => v * 5),
      ...rot.slice(3, 6).map((v) => v * 0.1),
      ...rot.slice(6),
    ];
    rotationFromRaw9(scaled).forEach((v, i) => expect(v).toBeCloseTo(rot[i], 12));
  });

  it('turns the golden raw head outputs into the golden camera poses and world points', async () => {
    const rot9 = (await golden.readFloat32('outputs/outputs.safetensors', 'recon.camera_head_rot9')).data;
    const t = (await golden.readFloat32('outputs/outputs.safetensors', 'recon.camera_head_t')).data;
    const poses = posesFromHead(rot9, t, 3);
    const goldenPoses = (await golden.readFloat32('outputs/outputs.safetensors', 'recon.camera_poses')).data;
    expect(compareAllclose(poses, goldenPoses, 2e-6, 1e-6).pass).toBe(true);
    const local = (await golden.readFloat32('outputs/outputs.safetensors', 'recon.local_points')).data;
    const points = (await golden.readFloat32('outputs/outputs.safetensors', 'recon.points')).data;
    const world = worldPointsFromLocal(local, goldenPoses, 3);
    expect(compareAllclose(world, points, 2e-4, 2e-5).pass).toBe(true);
  });
});
