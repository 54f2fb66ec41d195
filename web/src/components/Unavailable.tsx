import { Notice } from './Notice';

export type UnavailableReason = 'not_found' | 'ended' | 'locked' | 'full' | 'denied' | 'lobbyTimeout' | 'mediaBlocked' | 'banned';

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
  denied: {
    heading: 'The host did not let you in',
    detail: 'The host of this meeting did not let you in. If you think this was a mistake, ask the host.',
    retry: false,
  },
  lobbyTimeout: {
    heading: 'Nobody let you in',
    detail: 'The host did not answer in time. You can ask to join again.',
    retry: true,
  },
  banned: {
    heading: 'You cannot join this meeting',
    detail: 'The host removed you from this meeting and does not let you back in.',
    retry: false,
  },
  mediaBlocked: {
    heading: 'Your network blocks the call',
    detail:
      "Your network blocks the call's media: you joined, but no sound or video could get through, " +
      'after several tries. Try another network (a phone hotspot, home Wi-Fi), turn off a VPN or firewall ' +
      'that may block calls, or ask the meeting’s organiser to set up a TURN relay.',
    retry: true,
  },
};

/**
 * A meeting that cannot be joined: it does not exist, has ended, is locked or full, or the host
 * did not let this person in from the waiting room.
 */
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
    <Notice
      heading={t.heading}
      detail={t.detail}
      onHome={onHome}
      action={t.retry ? { label: 'Try again', onClick: onRetry } : undefined}
    />
  );
}
