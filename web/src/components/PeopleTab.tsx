import type { ClientMessage, Participant } from '../protocol';
import { handsFirst, type MuteSummary } from '../roomState';
import { CameraOffIcon, HandIcon, MicIcon, MicOffIcon, ScreenIcon, SpeakingIcon } from './Icons';
import { RowMenu, type RowAction } from './RowMenu';
import './PeopleTab.css';

const summaryText: Record<Exclude<MuteSummary, null>, string> = {
  held: 'Everyone muted · muted by host',
  mayUnmute: 'Everyone muted · may unmute',
  mixed: 'Everyone muted',
};

/**
 * Everyone in the meeting, raised hands first in the order raised, with the host's "Mute all",
 * "Lower all hands", and a menu of actions per person.
 */
export function PeopleTab({
  people,
  names,
  selfId,
  speaking,
  isHost,
  live,
  summary,
  act,
  onMuteAll,
  onRemove,
}: {
  /** Everyone, the own participant included, in join order. */
  people: Participant[];
  names: ReadonlyMap<string, string>;
  selfId: string;
  /** Who is speaking now. */
  speaking: ReadonlySet<string>;
  isHost: boolean;
  /** Connected: host actions are disabled while reconnecting. */
  live: boolean;
  summary: MuteSummary;
  act: (msg: ClientMessage) => void;
  onMuteAll: () => void;
  /** Removes p; with ban, p's browser may not come back for the meeting's life. */
  onRemove: (p: Participant, ban: boolean) => void;
}) {
  const anyHeld = people.some((p) => p.participantId !== selfId && p.mutedByHost && !p.canUnmute);
  const anyHand = people.some((p) => p.handRaised);
  return (
    <div className="panel">
      <h2 id="people-heading">Participants ({people.length})</h2>
      {isHost && (
        <div className="people-tools">
          <div className="row wrap">
            <button type="button" className="small" onClick={onMuteAll} disabled={!live || people.length < 2}>
              Mute all
            </button>
            {anyHeld && (
              <button type="button" className="small" disabled={!live} onClick={() => act({ type: 'allowUnmute' })}>
                Allow everyone to unmute
              </button>
            )}
            {anyHand && (
              <button type="button" className="small" disabled={!live} onClick={() => act({ type: 'lowerHand' })}>
                Lower all hands
              </button>
            )}
          </div>
          <p className="mute-summary" role="status">
            {summary ? summaryText[summary] : ''}
          </p>
        </div>
      )}
      <ul className="people" aria-labelledby="people-heading">
        {handsFirst(people).map((p) => {
          const isSelf = p.participantId === selfId;
          const name = names.get(p.participantId) ?? p.name;
          const held = p.mutedByHost && !p.canUnmute;
          const actions: RowAction[] = [];
          if (!p.mutedByHost) {
            actions.push({
              label: `Mute ${name}`,
              onSelect: () => act({ type: 'muteParticipant', participantId: p.participantId, allowSelfUnmute: false }),
            });
          }
          if (held) {
            actions.push({
              label: `Allow ${name} to unmute`,
              onSelect: () => act({ type: 'allowUnmute', participantId: p.participantId }),
            });
          }
          return (
            <li key={p.participantId || 'self'} data-participant-id={p.participantId}>
              <span className="name">
                {name}
                {isSelf && ' (you)'}
              </span>
              {p.role === 'host' && <span className="badge">Host</span>}
              <span className="state">
                {speaking.has(p.participantId) && !p.audioMuted && (
                  <span role="img" aria-label="Speaking" title="Speaking" className="speaking-now">
                    <SpeakingIcon />
                  </span>
                )}
                {p.screenSharing && (
                  <span role="img" aria-label="Sharing screen" title="Sharing screen">
                    <ScreenIcon />
                  </span>
                )}
                {p.handRaised && (
                  <span role="img" aria-label="Hand raised" className="hand">
                    <HandIcon />
                  </span>
                )}
                {p.audioMuted ? (
                  <span role="img" aria-label={p.mutedByHost ? 'Muted by the host' : 'Microphone muted'}>
                    <MicOffIcon />
                  </span>
                ) : (
                  <span role="img" aria-label="Microphone on">
                    <MicIcon />
                  </span>
                )}
                {p.videoMuted && (
                  <span role="img" aria-label="Camera off">
                    <CameraOffIcon />
                  </span>
                )}
              </span>
              {isHost && p.handRaised && (
                <button
                  type="button"
                  className="small"
                  disabled={!live}
                  aria-label={`Lower hand for ${name}`}
                  onClick={() => act({ type: 'lowerHand', participantId: p.participantId })}
                >
                  Lower hand
                </button>
              )}
              {isHost && !isSelf && (
                <RowMenu
                  name={name}
                  disabled={!live}
                  groups={[
                    actions,
                    [
                      { label: `Remove ${name}`, danger: true, onSelect: () => onRemove(p, false) },
                      { label: `Remove ${name} and don't let back in`, danger: true, onSelect: () => onRemove(p, true) },
                    ],
                  ]}
                />
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
