// The id of a converted model: the checkpoint's weights (their sha256) and the
// precision. The same checkpoint converted at the same precision gets the same
// id, so the studio can tell a re-import before spending minutes converting.

import { openCheckpoint } from '../checkpoint/checkpoint';

export function convertedModelIdFrom(sourceHashes: Record<string, string>, precision: string): string {
  const weights = sourceHashes['model.safetensors'] ?? Object.values(sourceHashes).join('');
  return `g2vlm-${weights.slice(0, 12)}-${precision}`;
}

/** The id `convertCheckpoint(checkpointDir, …, { dtype: precision })` will give its model. */
export async function convertedModelId(checkpointDir: string, precision: string): Promise<string> {
  const checkpoint = await openCheckpoint(checkpointDir);
  return convertedModelIdFrom(await checkpoint.sourceHashes(), precision);
}
