import type { Toast } from '../roomState';
import './Toasts.css';

/**
 * What just happened, for a few seconds: a polite live region, so that screen readers announce
 * each new message without interrupting.
 */
export function Toasts({ toasts, onDismiss }: { toasts: Toast[]; onDismiss: (id: number) => void }) {
  return (
    <div className="toasts" role="status" aria-live="polite" aria-relevant="additions text">
      {/* The latest few: a burst of arrivals must not bury the meeting. */}
      {toasts.slice(-3).map((t) => (
        <div key={t.id} className="toast">
          <span>{t.text}</span>
          <button type="button" className="toast-close" onClick={() => onDismiss(t.id)} aria-label={`Dismiss: ${t.text}`}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
