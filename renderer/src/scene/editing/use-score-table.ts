// Loads one quality score of the edited cloud (once per revision and score)
// and sorts it for the live preview. The outlier score is computed by the core
// on first request, so this runs only while the filter is open.

import { useEffect, useState } from 'react';
import { blobPaths } from '../../../../main/common/api';
import type { QualityScoreName } from '../../../../main/common/edit-stack';
import { useStudio } from '../../common/studio-context';
import { buildScoreTable, type ScoreTable } from './score-preview';

export type ScoreTableState =
  { status: 'idle' } | { status: 'loading' } | { status: 'ready'; table: ScoreTable } | { status: 'failed' };

export function useScoreTable(
  sceneId: string,
  score: QualityScoreName | null,
  /** The keep mask and the revision it belongs to (SceneEdits.keep, keepRevision). */
  keep: Uint8Array | null,
  revision: string | null,
): ScoreTableState {
  const { client, showError } = useStudio();
  const [loaded, setLoaded] = useState<{ key: string; state: ScoreTableState } | null>(null);
  const key = score && revision && keep ? `${score}:${revision}` : null;

  useEffect(() => {
    if (!key || !score || !revision || !keep) return;
    const abort = new AbortController();
    client.fetchBlob(blobPaths.editScores(sceneId, score, revision), abort.signal).then(
      (bytes) => {
        if (abort.signal.aborted) return;
        const scores = new Float32Array(bytes);
        if (scores.length !== keep.length) {
          // The stack moved on while the scores were computed; the next revision reloads.
          setLoaded({ key, state: { status: 'loading' } });
          return;
        }
        setLoaded({ key, state: { status: 'ready', table: buildScoreTable(scores, keep) } });
      },
      (error: unknown) => {
        if (abort.signal.aborted) return;
        setLoaded({ key, state: { status: 'failed' } });
        showError(error);
      },
    );
    return () => abort.abort();
  }, [client, sceneId, key, score, revision, keep, showError]);

  if (!key) return { status: 'idle' };
  return loaded?.key === key ? loaded.state : { status: 'loading' };
}
