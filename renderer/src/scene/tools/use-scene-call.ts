// Scene settings the tools change (scale, ground): one call at a time, its
// error shown in the banner, busy while it runs.

import { useState } from 'react';
import { useStudio } from '../../common/studio-context';

export function useSceneCall(): { busy: boolean; run(call: () => Promise<unknown>): Promise<boolean> } {
  const { showError } = useStudio();
  const [busy, setBusy] = useState(false);
  return {
    busy,
    async run(call) {
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
    },
  };
}
