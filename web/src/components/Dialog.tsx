import { useEffect, useEffectEvent, useId, useRef, type ReactNode } from 'react';
import './Dialog.css';

/**
 * A modal dialog on the browser's own <dialog>: the page behind it is inert, Escape closes it, and
 * when it closes the focus goes back to whatever had it before (the button that opened it).
 */
export function Dialog({
  title,
  description,
  role = 'dialog',
  onClose,
  children,
  className,
}: {
  title: string;
  description?: string | undefined;
  role?: 'dialog' | 'alertdialog';
  onClose: () => void;
  children: ReactNode;
  className?: string | undefined;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const close = useEffectEvent(onClose);
  const titleId = useId();
  const textId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    const onCancel = (e: Event) => {
      e.preventDefault();
      close();
    };
    dialog.addEventListener('cancel', onCancel);
    return () => {
      dialog.removeEventListener('cancel', onCancel);
      if (dialog.open) dialog.close();
      // The opener may have gone meanwhile (a menu that closed): then the browser decides.
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className={`dialog${className ? ` ${className}` : ''}`}
      role={role === 'alertdialog' ? 'alertdialog' : undefined}
      aria-labelledby={titleId}
      aria-describedby={description ? textId : undefined}
    >
      <h2 id={titleId}>{title}</h2>
      {description && <p id={textId}>{description}</p>}
      {children}
    </dialog>
  );
}
