// One produced tensor against its golden spec (manifest tolerance; fp16 weights
// widen it as the model doc §9 expects).
import { compareAllclose } from './golden-tensors';
import type { GoldenReportEntry, GoldenTensorSpec } from './golden-types';

/** Compares one produced tensor with its golden spec. */
export function compareTensor(
  name: string,
  spec: GoldenTensorSpec,
  actual: ArrayLike<number>,
  actualShape: number[],
  golden: ArrayLike<number> | BigInt64Array,
  dtype: 'fp32' | 'fp16',
): GoldenReportEntry {
  const goldenNumbers: ArrayLike<number> =
    golden instanceof BigInt64Array ? Array.from(golden, Number) : golden;
  const shapeOk = actualShape.join(',') === spec.shape.join(',');
  if (spec.tolerance.compare === 'exact') {
    let pass = shapeOk && actual.length === goldenNumbers.length;
    let maxAbs = 0;
    for (let i = 0; pass && i < goldenNumbers.length; i++) {
      const d = Math.abs(actual[i] - goldenNumbers[i]);
      if (d !== 0) pass = false;
      maxAbs = Math.max(maxAbs, d);
    }
    return {
      name,
      maxAbs: shapeOk ? maxAbs : Infinity,
      maxRel: 0,
      atol: 0,
      rtol: 0,
      pass,
      ...(shapeOk ? {} : { note: `shape [${actualShape}] vs [${spec.shape}]` }),
    };
  }
  let atol = spec.tolerance.atol ?? 0;
  let rtol = spec.tolerance.rtol ?? 0;
  if (dtype === 'fp16') {
    // Half-precision weights: the model doc §9 expects ~1e-2 relative differences.
    atol += 1e-2 * (spec.tolerance.ref_absmax ?? 1);
    rtol = Math.max(rtol, 1e-2);
  }
  const cmp = compareAllclose(actual, goldenNumbers, atol, rtol);
  return {
    name,
    maxAbs: shapeOk ? cmp.maxAbs : Infinity,
    maxRel: cmp.maxRel,
    atol,
    rtol,
    pass: shapeOk && cmp.pass,
    ...(shapeOk ? {} : { note: `shape [${actualShape}] vs [${spec.shape}]` }),
  };
}
