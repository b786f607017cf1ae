import { useEffect, useRef } from 'react';

interface ConfirmDialogProps {
  title: string;
  body: string;
  confirmLabel: string;
  onConfirm(): void;
  onCancel(): void;
}

/** A modal yes/no question (native <dialog>: focus trap and Escape come with it). */
export function ConfirmDialog({ title, body, confirmLabel, onConfirm, onCancel }: ConfirmDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, []);
  return (
    <dialog
      ref={dialog}
      className="confirm-dialog"
      data-testid="confirm-dialog"
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <h2>{title}</h2>
      <p>{body}</p>
      <div className="dialog-actions">
        <button onClick={onCancel} data-testid="confirm-cancel">
          Cancel
        </button>
        <button className="danger" onClick={onConfirm} data-testid="confirm-ok" autoFocus>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
