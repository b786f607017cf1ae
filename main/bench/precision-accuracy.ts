// How far a quantised model's reconstruction is from the float32 one: the
// figures of the accuracy table in BENCHMARKS.md (docs/precisions.md).
import type { ReconstructionOutput } from '../model/engine/engine-types';

export interface ReconAccuracy {
  /** |p − p_fp32| / |p_fp32| per point, local (camera-frame) point maps. */
  localRelMedian: number;
  localRelP99: number;
  /** The same for world points. */
  worldRelMedian: number;
  worldRelP99: number;
  /** Angle of R_fp32ᵀ·R per frame, degrees: max over frames. */
  rotationDegMax: number;
  /** |t − t_fp32| / max(|t_fp32|, 1e-6), max over frames (frame 0 is the identity). */
  translationRelMax: number;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
}

function relativePointErrors(points: Float32Array, reference: Float32Array): Float64Array {
  const n = Math.floor(reference.length / 3);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const dx = points[3 * i] - reference[3 * i];
    const dy = points[3 * i + 1] - reference[3 * i + 1];
    const dz = points[3 * i + 2] - reference[3 * i + 2];
    const norm = Math.hypot(reference[3 * i], reference[3 * i + 1], reference[3 * i + 2]);
    out[i] = Math.hypot(dx, dy, dz) / Math.max(norm, 1e-6);
  }
  return out.sort();
}

/** The parts of a reconstruction the accuracy figures read. */
export type ReconTensors = Pick<
  ReconstructionOutput,
  'frameCount' | 'localPoints' | 'worldPoints' | 'worldFromCamera'
>;

export function reconAccuracy(out: ReconTensors, reference: ReconTensors): ReconAccuracy {
  const local = relativePointErrors(out.localPoints, reference.localPoints);
  const world = relativePointErrors(out.worldPoints, reference.worldPoints);
  let rotationDegMax = 0;
  let translationRelMax = 0;
  for (let f = 0; f < reference.frameCount; f++) {
    const a = reference.worldFromCamera.subarray(16 * f, 16 * f + 16);
    const b = out.worldFromCamera.subarray(16 * f, 16 * f + 16);
    // trace(Aᵀ B) over the 3x3 rotation blocks (row-major 4x4).
    let trace = 0;
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) trace += a[4 * r + c] * b[4 * r + c];
    const cos = Math.min(1, Math.max(-1, (trace - 1) / 2));
    rotationDegMax = Math.max(rotationDegMax, (Math.acos(cos) * 180) / Math.PI);
    const dt = Math.hypot(b[3] - a[3], b[7] - a[7], b[11] - a[11]);
    const t = Math.hypot(a[3], a[7], a[11]);
    if (t > 1e-6) translationRelMax = Math.max(translationRelMax, dt / t);
  }
  return {
    localRelMedian: quantile(local, 0.5),
    localRelP99: quantile(local, 0.99),
    worldRelMedian: quantile(world, 0.5),
    worldRelP99: quantile(world, 0.99),
    rotationDegMax,
    translationRelMax,
  };
}
