// Scene-level calls the tools make (scale, ground): one busy flag, errors to
// the studio's error toast.

import { useState } from 'react';
import { useStudio } from '../../common/studio-context';

export interface SceneCall {
  busy: boolean;
  /** Runs `call`; true when it succeeded (a failure is shown to the user). */
  run(call: () => Promise<unknown>): Promise<boolean>;
}

export function useSceneCall(): SceneCall {
  const { showError } = useStudio();
  const [busy, setBusy] = useState(false);
  const run = async (call: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await call();
      return true;
    } catch (error) {
      showError(error);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, run };
}
