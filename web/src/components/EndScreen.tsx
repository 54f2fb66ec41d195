import { useEffect, useRef } from 'react';
import { Brand } from './Brand';

export type EndReason = 'left' | 'ended' | 'removed' | 'replaced';

const texts: Record<EndReason, { heading: string; detail: string }> = {
  left: { heading: 'You left the meeting', detail: 'The others can carry on without you.' },
  ended: { heading: 'The meeting has ended', detail: 'The host ended the meeting for everyone.' },
  removed: { heading: 'You were removed from the meeting', detail: 'The host removed you from this meeting.' },
  replaced: {
    heading: 'You joined from another window',
    detail: 'This meeting continues in the other window or tab.',
  },
};

/** What a person sees once their meeting is over, whichever way it ended. */
export function EndScreen({
  reason,
  onHome,
  onRejoin,
}: {
  reason: EndReason;
  onHome: () => void;
  onRejoin?: () => void;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const t = texts[reason];
  return (
    <main className="page">
      <div className="card center">
        <Brand />
        <h1 ref={heading} tabIndex={-1}>
          {t.heading}
        </h1>
        <p className="muted">{t.detail}</p>
        <div className="row">
          {onRejoin && (
            <button type="button" onClick={onRejoin}>
              Rejoin
            </button>
          )}
          <a
            className="button primary"
            href="/"
            onClick={(e) => {
              e.preventDefault();
              onHome();
            }}
          >
            Back to home
          </a>
        </div>
      </div>
    </main>
  );
}
