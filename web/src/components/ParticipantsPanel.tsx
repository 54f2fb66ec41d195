import type { ClientMessage, Participant } from '../protocol';
import { CameraOffIcon, MicIcon, MicOffIcon } from './Icons';
import './ParticipantsPanel.css';

/** Everyone in the meeting, with the host's per-person controls. */
export function ParticipantsPanel({
  self,
  others,
  isHost,
  allowSelfUnmute,
  act,
}: {
  self: Participant;
  others: Participant[];
  isHost: boolean;
  allowSelfUnmute: boolean;
  act: (msg: ClientMessage) => void;
}) {
  const everyone = [self, ...others];
  return (
    <div className="panel">
      <h2 id="people-heading">Participants ({everyone.length})</h2>
      <ul className="people">
        {everyone.map((p) => {
          const isSelf = p === self;
          const held = p.mutedByHost && !p.canUnmute;
          return (
            <li key={p.participantId || 'self'} data-participant-id={p.participantId}>
              <div className="person">
                <span className="name">
                  {p.name}
                  {isSelf && ' (you)'}
                </span>
                {p.role === 'host' && <span className="badge">Host</span>}
                <span className="state">
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
              </div>
              {isHost && !isSelf && (
                <div className="row wrap person-actions">
                  <button
                    type="button"
                    className="small"
                    onClick={() => act({ type: 'muteParticipant', participantId: p.participantId, allowSelfUnmute })}
                    aria-label={`Mute ${p.name}`}
                  >
                    Mute
                  </button>
                  {held && (
                    <button
                      type="button"
                      className="small"
                      onClick={() => act({ type: 'allowUnmute', participantId: p.participantId })}
                      aria-label={`Allow ${p.name} to unmute`}
                    >
                      Allow unmute
                    </button>
                  )}
                  <button
                    type="button"
                    className="small danger"
                    onClick={() => act({ type: 'kick', participantId: p.participantId })}
                    aria-label={`Remove ${p.name}`}
                  >
                    Remove
                  </button>
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
