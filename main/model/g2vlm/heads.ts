// Point heads with pixel shuffle and the camera head (model doc §7.3–7.4).
import type { DecoderConfig } from '../checkpoint/config';
import type { GraphBuilder } from '../graph/graph-builder';
import { linear } from '../graph/ops';

/**
 * `proj` 1024 -> 3·14·14 per patch token, then pixel shuffle: channel
 * k·196 + i·14 + j of patch (r, c) lands at pixel (14r + i, 14c + j), channel k.
 * `patchGrid` is an int64 [h, w] graph input. Returns (N, H, W, 3).
 */
export function pointHead(
  g: GraphBuilder,
  x: string,
  prefix: string,
  cfg: DecoderConfig,
  patchGrid: string,
): string {
  const s = cfg.headPatchSize;
  const feat = linear(g, x, `${prefix}.proj`, cfg.pointOutDim, cfg.pointHeadChannels);
  const blocks = g.op('Reshape', [
    feat,
    g.op('Concat', [g.constInt64([-1]), patchGrid, g.constInt64([3, s, s])], { axis: 0 }),
  ]);
  const shuffled = g.op('Transpose', [blocks], { perm: [0, 1, 4, 2, 5, 3] }); // (N, h, 14, w, 14, 3)
  const pixels = g.op('Mul', [patchGrid, g.constInt64([s])]);
  return g.op('Reshape', [
    shuffled,
    g.op('Concat', [g.constInt64([-1]), pixels, g.constInt64([3])], { axis: 0 }),
  ]);
}

/** Local points: (x·e^z, y·e^z, e^z) — only depth is exponentiated (pitfall 11). */
export function localPointsFromRaw(g: GraphBuilder, raw: string): string {
  const [xy, z] = g.node('Split', [raw, g.constInt64([2, 1])], { outputs: 2, attrs: { axis: -1 } });
  const depth = g.op('Exp', [z]);
  return g.op('Concat', [g.op('Mul', [xy, depth]), depth], { axis: -1 });
}

/** Camera head on (N, P, 512): returns [rot9 (N, 9), t (N, 3)]. */
export function cameraHead(g: GraphBuilder, x: string, cfg: DecoderConfig): [string, string] {
  const C = cfg.cameraHeadDim;
  let h = x;
  for (let b = 0; b < 2; b++) {
    const p = `camera_head.res_conv.${b}`;
    let y = g.op('Relu', [linear(g, h, `${p}.res_conv1`, C, C)]);
    y = g.op('Relu', [linear(g, y, `${p}.res_conv2`, C, C)]);
    y = g.op('Relu', [linear(g, y, `${p}.res_conv3`, C, C)]);
    h = g.op('Add', [h, y]);
  }
  let pooled = g.op('ReduceMean', [h, g.constInt64([1])], { keepdims: 0 }); // mean over the patches
  pooled = g.op('Relu', [linear(g, pooled, 'camera_head.more_mlps.0', C, C)]);
  pooled = g.op('Relu', [linear(g, pooled, 'camera_head.more_mlps.2', C, C)]);
  return [linear(g, pooled, 'camera_head.fc_rot', C, 9), linear(g, pooled, 'camera_head.fc_t', C, 3)];
}
