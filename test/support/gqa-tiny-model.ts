// A tiny random G2VLM with grouped-query attention like the real model's
// (2 query heads per KV head), converted to a runtime model folder: the chat
// decode tests need the head grouping the golden tiny models do not have.
import { join } from 'node:path';
import {
  generateRandomCheckpoint,
  RANDOM_CHECKPOINT_PRESETS,
} from '../../main/model/checkpoint/random-checkpoint';
import { convertCheckpoint } from '../../main/model/convert/convert-checkpoint';

/** Writes `<scratch>/checkpoint` and converts it to `<scratch>/model`; returns the model folder. */
export async function convertedGqaTinyModel(scratch: string, seed: number): Promise<string> {
  const tiny = RANDOM_CHECKPOINT_PRESETS.tiny;
  const checkpoint = join(scratch, 'checkpoint');
  await generateRandomCheckpoint(
    checkpoint,
    {
      ...tiny,
      textConfig: { ...tiny.textConfig, hidden_size: 256, num_attention_heads: 2, num_key_value_heads: 1 },
      vitConfig: { ...tiny.vitConfig, hidden_size: 256 },
    },
    { seed, dtype: 'F32' },
  );
  const modelDir = join(scratch, 'model');
  await convertCheckpoint(checkpoint, modelDir);
  return modelDir;
}
