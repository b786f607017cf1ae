import type { ModelInfo } from '../../common/domain';
import { StudioError } from '../../common/errors';
import type { Library } from '../library/library';

/** The model a job uses: the one named, else the active one; it must be able to do `need`. */
export function chooseModel(
  library: Library,
  modelId: string | undefined,
  need: 'reconstruct' | 'chat',
): ModelInfo {
  const model = modelId ? library.models.get(modelId) : library.models.active();
  if (!model) {
    throw new StudioError(
      'model-missing',
      modelId ? `There is no registered model "${modelId}".` : 'No model is installed yet.',
      'Convert a checkpoint with `g2studio model convert` and register it (models.register or --model <dir>).',
    );
  }
  if (!model.capabilities[need]) {
    throw new StudioError(
      'model-missing',
      `The model "${model.name}" cannot ${need === 'chat' ? 'answer questions' : 'reconstruct scenes'}.`,
      need === 'chat'
        ? 'Convert the checkpoint with its chat graphs (LM head and vision tower) and register that folder.'
        : 'Convert the checkpoint with its geometry graphs and register that folder.',
    );
  }
  return model;
}
