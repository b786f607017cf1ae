import { useCallback, useEffect, useState } from 'react';
import type { ModelInfo, QaEntry, SceneDetail } from '../../../main/common/domain';
import type { StudioError } from '../../../main/common/errors';
import { asStudioError } from '../api/client';
import { useStudio, useStudioEvents } from '../common/studio-context';
import { isActiveJob } from '../jobs/job-snapshots';
import { MarkerEditor } from './MarkerEditor';
import { MARKER_CSS } from './marker-coords';
import { withFrameMarkers, withoutPointMarker, type QaMarkers } from './qa-markers';
import { QaEntryView } from './QaHistory';
import { useAskJob } from './use-ask-job';
import './qa.css';

interface QaPanelProps {
  scene: SceneDetail;
  /** models.list as the scene view last read it (null while loading). */
  models: ModelInfo[] | null;
  /** The question's points, on frames and in 3D; held by the scene view, whose Mark tool adds 3D ones. */
  markers: QaMarkers;
  onMarkersChange(markers: QaMarkers): void;
}

const NO_CHAT_MODEL =
  'No model that can answer questions is registered. Convert the G2VLM checkpoint with `g2studio model convert`, then register the folder under Models.';

function ErrorLine({ error }: { error: StudioError }) {
  return (
    <div className="qa-error job-error" role="alert" data-testid="qa-error" data-code={error.code}>
      <strong>{error.message}</strong>
      {error.fix && <span>{error.fix}</span>}
    </div>
  );
}

/**
 * Ask G2VLM about the scene: place coloured points on frames, ask, watch the
 * answer stream in, and read the scene's kept history (newest first) with the
 * values computed from the reconstruction beside the model's answers.
 */
export function QaPanel({ scene, models, markers, onMarkersChange }: QaPanelProps) {
  const { client } = useStudio();
  const [open, setOpen] = useState(false);
  const [question, setQuestion] = useState('');
  const [history, setHistory] = useState<QaEntry[] | null>(null);
  const [historyError, setHistoryError] = useState<StudioError | null>(null);

  const loadHistory = useCallback(() => {
    client.call('qa.history', { sceneId: scene.id }).then(
      (entries) => {
        setHistory([...entries].sort((a, b) => b.createdAt.localeCompare(a.createdAt)));
        setHistoryError(null);
      },
      (cause: unknown) => setHistoryError(asStudioError(cause)),
    );
  }, [client, scene.id]);
  useEffect(loadHistory, [loadHistory]);
  // Questions asked elsewhere (the CLI, another window) join the history as they finish.
  useStudioEvents((event) => {
    if (
      event.type === 'job' &&
      event.job.kind === 'ask' &&
      event.job.sceneId === scene.id &&
      event.job.status === 'succeeded'
    )
      loadHistory();
  });

  const { state, ask, cancel } = useAskJob(scene.id, (job) => {
    if (job.status === 'succeeded') loadHistory();
  });
  const running = state.starting || (state.job !== null && isActiveJob(state.job));
  const model =
    models?.find((item) => item.active && item.capabilities.chat) ??
    models?.find((item) => item.capabilities.chat);
  const reason = !models
    ? 'Checking installed models…'
    : !model
      ? NO_CHAT_MODEL
      : scene.frames.length === 0
        ? 'This scene has no frames to ask about (point clouds have none).'
        : !question.trim()
          ? 'Type a question first.'
          : running
            ? 'A question is being answered.'
            : null;

  const submit = () => {
    if (reason !== null || !model) return;
    void ask({
      question: question.trim(),
      markers: markers.frame,
      ...(markers.points.length ? { pointMarkers: markers.points } : {}),
      modelId: model.id,
    });
  };
  // The streamed answer shows until the finished entry is in the history.
  const finishedEntryShown =
    state.job?.status === 'succeeded' &&
    history?.some((entry) => entry.id === (state.job?.result?.qaId as string | undefined));

  return (
    <section className={`qa-panel${open ? ' open' : ''}`} data-testid="qa-panel">
      <button
        className="qa-toggle"
        aria-expanded={open}
        data-testid="qa-toggle"
        onClick={() => setOpen((value) => !value)}
      >
        <span>{open ? '▾' : '▸'}</span> Ask about this scene
        <span className="muted small" data-testid="qa-count">
          {history === null
            ? ''
            : history.length === 0
              ? 'no questions yet'
              : `${history.length} question${history.length === 1 ? '' : 's'} asked`}
        </span>
        {running && <span className="badge">answering…</span>}
      </button>
      {open && (
        <div className="qa-body">
          <div className="qa-points">
            {scene.frames.length > 0 ? (
              <MarkerEditor
                frames={scene.frames}
                markers={markers.frame}
                onChange={(frame) => onMarkersChange(withFrameMarkers(markers, frame))}
                disabled={running}
              />
            ) : (
              <p className="muted small">This scene has no frames to place points on.</p>
            )}
            {scene.reconstruction && (
              <div className="qa-point-markers" data-testid="qa-point-markers">
                <span className="muted small">
                  Or mark a point on the 3D view: choose <strong>Mark</strong> in the viewer&apos;s tools and
                  click the cloud; the studio draws it on the frame that sees it best.
                </span>
                {markers.points.length > 0 && (
                  <ul className="qa-marker-list">
                    {markers.points.map((marker) => (
                      <li key={marker.color} data-testid="qa-point-marker" data-color={marker.color}>
                        <span className="qa-swatch" style={{ background: MARKER_CSS[marker.color] }} />
                        {marker.color} · 3D point (
                        {marker.point.map((v) => (v * (scene.metresPerUnit ?? 1)).toFixed(2)).join(', ')}){' '}
                        <span data-testid="qa-point-marker-unit">{scene.metresPerUnit ? 'm' : 'units'}</span>
                        <button
                          className="small-button"
                          disabled={running}
                          title={`Remove the ${marker.color} point`}
                          data-testid="qa-point-marker-remove"
                          onClick={() => onMarkersChange(withoutPointMarker(markers, marker.color))}
                        >
                          Remove
                        </button>
                      </li>
                    ))}
                  </ul>
                )}
              </div>
            )}
          </div>
          <div className="qa-conversation">
            <label className="qa-question-box">
              <span className="small muted">
                Refer to your points by colour, e.g. “How far is the red point from the blue point?”
              </span>
              <textarea
                rows={3}
                value={question}
                placeholder="Ask a spatial question about this scene…"
                data-testid="qa-question"
                onChange={(event) => setQuestion(event.target.value)}
                onKeyDown={(event) => {
                  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
                    event.preventDefault();
                    submit();
                  }
                }}
              />
            </label>
            <div className="qa-actions">
              <button
                className="primary"
                disabled={reason !== null}
                title={reason ?? `Ask ${model?.name} (Ctrl+Enter)`}
                data-testid="qa-ask"
                onClick={submit}
              >
                {running ? 'Answering…' : 'Ask'}
              </button>
              {running && state.jobId && (
                <button onClick={() => void cancel()} data-testid="qa-cancel">
                  Cancel
                </button>
              )}
              {running && state.job && (
                <span className="muted small" data-testid="qa-stage">
                  {state.job.stage || 'waiting'} · {Math.round(state.job.progress * 100)}%
                </span>
              )}
              {models && !model && (
                <span className="small qa-hint" data-testid="qa-no-model">
                  {NO_CHAT_MODEL}
                </span>
              )}
            </div>
            {state.error && <ErrorLine error={state.error} />}
            {state.job?.status === 'cancelled' && (
              <div className="muted small" data-testid="qa-cancelled">
                The question was cancelled; nothing was kept.
              </div>
            )}
            {state.jobId && !finishedEntryShown && (state.streamed || running) && (
              <div
                className="qa-live"
                data-testid="qa-live-answer"
                data-status={state.job?.status ?? 'queued'}
              >
                <div className="qa-answer-label">Model's answer</div>
                <div className="qa-answer">
                  {state.streamed}
                  {running && <span className="qa-caret" />}
                </div>
              </div>
            )}
            {historyError && <ErrorLine error={historyError} />}
            <ul className="qa-history" data-testid="qa-history">
              {history?.map((entry) => (
                <QaEntryView
                  key={entry.id}
                  entry={entry}
                  onReuse={(reused) => {
                    setQuestion(reused.question);
                    onMarkersChange({ frame: reused.markers, points: [] });
                  }}
                />
              ))}
            </ul>
          </div>
        </div>
      )}
    </section>
  );
}
