import { useEffect, useState } from 'react';
import type { PrecisionAdvice, PrecisionChoice } from '../../../main/common/domain';
import { PRECISION_CHOICES } from '../../../main/common/domain';
import { useStudio } from '../common/studio-context';

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/** How long the folder field must rest before its checkpoint is read (typing a path fires on every key). */
const PATH_SETTLE_MS = 400;

/**
 * What each precision costs for the checkpoint about to be installed: the
 * folder typed in (when there is one) or the official model. Errors (a path
 * half typed) leave the figures out; the install itself reports them.
 */
function usePrecisionAdvice(path: string): PrecisionAdvice | null {
  const { client } = useStudio();
  const [advice, setAdvice] = useState<PrecisionAdvice | null>(null);
  useEffect(() => {
    let current = true;
    const timer = setTimeout(
      () => {
        client.call('models.precisions', { path: path || undefined }).then(
          (result) => current && setAdvice(result),
          () => current && setAdvice(null),
        );
      },
      path ? PATH_SETTLE_MS : 0,
    );
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [client, path]);
  return advice;
}

function optionLabel(choice: PrecisionChoice, advice: PrecisionAdvice | null): string {
  if (!advice) return choice;
  if (choice === 'auto') return `auto (${advice.auto.precision} here)`;
  const option = advice.options.find((o) => o.precision === choice);
  if (!option) return choice;
  return `${choice}: ${gib(option.diskBytes)} on disk, ${gib(option.reconPeakBytes)} for 8 frames${option.fits ? '' : ' (too much here)'}`;
}

/**
 * The precision to convert to, with each one's size on disk and the memory an
 * 8-frame reconstruction needs, before anything is downloaded or converted.
 */
export function PrecisionPicker({
  value,
  onChange,
  path,
}: {
  value: PrecisionChoice;
  onChange(choice: PrecisionChoice): void;
  /** The checkpoint folder typed in; empty for the official model. */
  path: string;
}) {
  const advice = usePrecisionAdvice(path.trim());
  const where = advice?.device === 'gpu' ? 'GPU memory' : 'free memory';
  return (
    <div className="precision-picker">
      <label htmlFor="model-precision">Precision</label>
      <select
        id="model-precision"
        value={value}
        onChange={(event) => onChange(event.target.value as PrecisionChoice)}
        data-testid="model-precision-choice"
      >
        {PRECISION_CHOICES.map((choice) => (
          <option key={choice} value={choice}>
            {optionLabel(choice, advice)}
          </option>
        ))}
      </select>
      {advice && (
        <p className="muted small" data-testid="model-precision-advice">
          For {advice.checkpoint}, with {gib(advice.availableBytes)} of {where}: auto picks{' '}
          {advice.auto.reason} fp32 is the most accurate; fp16 suits GPUs; int8 and int4 are weight-only
          blocks that use much less memory (docs/precisions.md).
        </p>
      )}
    </div>
  );
}
