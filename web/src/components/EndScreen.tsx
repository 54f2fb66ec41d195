import { Notice } from './Notice';

export type EndReason = 'left' | 'ended' | 'endedByYou' | 'removed' | 'replaced';

const texts: Record<EndReason, { heading: string; detail: string }> = {
  left: { heading: 'You left the meeting', detail: 'The others can carry on without you.' },
  ended: { heading: 'The meeting has ended', detail: 'The host ended the meeting for everyone.' },
  endedByYou: { heading: 'The meeting has ended', detail: 'You ended the meeting for everyone.' },
  removed: {
    heading: 'You were removed from the meeting',
    detail: 'The host removed you from this meeting. If you think this was a mistake, ask the host.',
  },
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
  onRejoin?: (() => void) | undefined;
}) {
  const t = texts[reason];
  return (
    <Notice
      heading={t.heading}
      detail={t.detail}
      onHome={onHome}
      action={onRejoin && { label: 'Rejoin', onClick: onRejoin }}
    />
  );
}
