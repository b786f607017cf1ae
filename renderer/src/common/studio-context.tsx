// The studio client and the app-wide error banner, shared by every view.

import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from 'react';
import type { StudioEvent } from '../../../main/common/domain';
import type { StudioError } from '../../../main/common/errors';
import { asStudioError, type StudioClient } from '../api/client';

interface StudioContextValue {
  client: StudioClient;
  error: StudioError | null;
  showError(error: unknown): void;
  clearError(): void;
  /** Bumped when the model registry changes, so views re-read models.list. */
  modelsVersion: number;
  modelsChanged(): void;
}

const StudioContext = createContext<StudioContextValue | null>(null);

export function StudioProvider({ client, children }: { client: StudioClient; children: ReactNode }) {
  const [error, setError] = useState<StudioError | null>(null);
  const showError = useCallback((cause: unknown) => setError(asStudioError(cause)), []);
  const clearError = useCallback(() => setError(null), []);
  const [modelsVersion, setModelsVersion] = useState(0);
  const modelsChanged = useCallback(() => setModelsVersion((n) => n + 1), []);
  const value = useMemo(
    () => ({ client, error, showError, clearError, modelsVersion, modelsChanged }),
    [client, error, showError, clearError, modelsVersion, modelsChanged],
  );
  return <StudioContext.Provider value={value}>{children}</StudioContext.Provider>;
}

export function useStudio(): StudioContextValue {
  const value = useContext(StudioContext);
  if (!value) throw new Error('useStudio() outside <StudioProvider>');
  return value;
}

/** Subscribe to studio events for the component's lifetime; the latest handler is always called. */
export function useStudioEvents(handler: (event: StudioEvent) => void): void {
  const { client } = useStudio();
  const latest = useRef(handler);
  useEffect(() => {
    latest.current = handler;
  });
  useEffect(() => client.subscribe((event) => latest.current(event)), [client]);
}
