import { Brand } from './Brand';

export type UnavailableReason = 'not_found' | 'ended' | 'locked' | 'full';

const texts: Record<UnavailableReason, { heading: string; detail: string; retry: boolean }> = {
  not_found: {
    heading: 'Meeting not found',
    detail: 'There is no meeting at this link. Check the link, or ask the host for a new one.',
    retry: false,
  },
  ended: { heading: 'The meeting has ended', detail: 'This meeting is over.', retry: false },
  locked: {
    heading: 'This meeting is locked',
    detail: 'The host has locked this meeting, so nobody new can join right now.',
    retry: true,
  },
  full: { heading: 'This meeting is full', detail: 'There is no room for more participants.', retry: true },
};

/** A meeting that cannot be joined: it does not exist, has ended, is locked or full. */
export function Unavailable({
  reason,
  onHome,
  onRetry,
}: {
  reason: UnavailableReason;
  onHome: () => void;
  onRetry: () => void;
}) {
  const t = texts[reason];
  return (
    <main className="page">
      <div className="card center">
        <Brand />
        <h1>{t.heading}</h1>
        <p className="muted">{t.detail}</p>
        <div className="row">
          {t.retry && (
            <button type="button" onClick={onRetry}>
              Try again
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
