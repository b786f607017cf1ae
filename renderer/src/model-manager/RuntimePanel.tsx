import type { ModelRuntimeInfo } from '../../../main/common/domain';
import { formatByteSize } from '../../../main/common/format-bytes';

const PROVIDER_LABEL: Record<string, string> = { cpu: 'CPU', cuda: 'CUDA (NVIDIA)', webgpu: 'WebGPU' };

/** What the model runs on: each execution provider with its device, or why it is missing and how to enable it. */
export function RuntimePanel({ runtime }: { runtime: ModelRuntimeInfo | null }) {
  if (!runtime) return <p className="muted small">Checking the execution providers…</p>;
  return (
    <section className="models-section" data-testid="runtime-panel">
      <h3>Runs on</h3>
      <ul className="provider-list">
        {runtime.providers.map((provider) => (
          <li
            key={provider.name}
            data-testid={`provider-${provider.name}`}
            data-available={provider.available}
            className={provider.available ? 'provider provider-ok' : 'provider provider-missing'}
          >
            <div className="provider-head">
              <strong>{PROVIDER_LABEL[provider.name] ?? provider.name}</strong>
              <span className={`status-chip ${provider.available ? 'status-succeeded' : 'status-cancelled'}`}>
                {provider.available ? (provider.software ? 'software only' : 'available') : 'not available'}
              </span>
              {runtime.provider === provider.name && (
                <span className="status-chip status-running">in use</span>
              )}
            </div>
            {(provider.device || provider.memoryBytes) && (
              <div className="muted small" data-testid="provider-device">
                {[provider.device, provider.memoryBytes ? formatByteSize(provider.memoryBytes) : null]
                  .filter(Boolean)
                  .join(' · ')}
              </div>
            )}
            {provider.reason && (
              <div className="provider-reason small" data-testid="provider-reason">
                {provider.reason}
              </div>
            )}
          </li>
        ))}
      </ul>
      <p className="muted small" data-testid="runtime-summary">
        Provider setting <code>{runtime.providerSetting}</code>
        {runtime.provider
          ? ` → ${PROVIDER_LABEL[runtime.provider] ?? runtime.provider}`
          : ' (not available on this machine)'}
        {' · '}precision{' '}
        <strong data-testid="active-precision">{runtime.precision ?? 'no active model'}</strong>
      </p>
    </section>
  );
}
