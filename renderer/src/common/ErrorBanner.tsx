import { useStudio } from './studio-context';

/** The last error a user action caused: what happened and what to do about it. */
export function ErrorBanner() {
  const { error, clearError } = useStudio();
  if (!error) return null;
  return (
    <div className="error-banner" role="alert" data-testid="error-banner" data-code={error.code}>
      <div className="error-text">
        <strong data-testid="error-message">{error.message}</strong>
        {error.fix && <span data-testid="error-fix">{error.fix}</span>}
      </div>
      <button className="icon-button" onClick={clearError} aria-label="Dismiss error">
        ✕
      </button>
    </div>
  );
}
