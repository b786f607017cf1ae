// The chat token layout and M-RoPE positions (model doc §3.2, §5.2): checked
// against the golden position tensors, including a multi-image geometry block
// (the recon golden has three frames in one block, laid out like the chat's).

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../../../../main/model/checkpoint/safetensors';
import {
  buildChatLayout,
  imageBlockTokenIds,
  prefillPositions,
} from '../../../../main/model/chat/chat-layout';
import { SHARED_DIR } from '../../../support/shared-dir';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;

async function positions(name: string): Promise<number[]> {
  const file = await SafetensorsFile.open(join(GOLDEN, 'inputs/inputs.safetensors'));
  try {
    return Array.from((await file.readTyped(name)) as BigInt64Array, Number);
  } finally {
    await file.close();
  }
}

describe('chat layout', () => {
  it('lays out the golden chat: system 14, geometry 28×37, ViT 18×18 merged to 9×9, question 72, decode from 136', async () => {
    const layout = buildChatLayout({
      systemIds: new Array(14).fill(1),
      geometryGrids: [[28, 37]],
      visionGrids: [[18, 18]],
      mergeSize: 2,
      questionIds: new Array(72).fill(1),
      startOfImage: 1009,
      endOfImage: 1010,
    });
    expect(Array.from(prefillPositions(layout))).toEqual(await positions('chat.position_ids_full'));
    expect(Array.from(layout.geometry.positions)).toEqual(await positions('chat.geo_position_ids'));
    expect(Array.from(layout.vision[0].positions)).toEqual(await positions('chat.vit0.position_ids'));
    expect(layout.decodeStart).toBe((await positions('chat.decode_position_ids'))[0]);
    expect(layout.totalPrefillRows).toBe(1207);
    expect(layout.prefixRows).toBe(1207 - 72);
  });

  it('advances the counter by max(h, w) per image in a multi-image geometry block (golden recon, 3 frames)', async () => {
    const layout = buildChatLayout({
      systemIds: new Array(9).fill(1),
      geometryGrids: [
        [21, 37],
        [21, 37],
        [21, 37],
      ],
      visionGrids: [],
      mergeSize: 2,
      questionIds: [],
      startOfImage: 1009,
      endOfImage: 1010,
    });
    expect(Array.from(layout.geometry.positions)).toEqual(await positions('recon.geo_position_ids'));
    const ids = imageBlockTokenIds(layout.geometry, 1009, 1010);
    expect(ids.filter((id) => id === 1009)).toHaveLength(3);
    expect(ids[0]).toBe(1009);
    expect(ids[778]).toBe(1010);
    expect(ids[779]).toBe(1009);
    expect(ids.filter((id) => id === -1)).toHaveLength(3 * 777);
  });
});
