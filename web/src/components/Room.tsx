import { useCallback, useEffect, useEffectEvent, useReducer, useRef, useState } from 'react';
import type { RoomEntry } from '../roomEntry';
import { ProtocolError, type ClientMessage, type ErrorCode } from '../protocol';
import { canUnmuteSelf, initialRoomState, isFinal, roomReducer, type Phase } from '../roomState';
import { MeetingSession } from '../session';
import { Brand } from './Brand';
import { ConfirmDialog } from './ConfirmDialog';
import { Countdown } from './Countdown';
import { HostPanel } from './HostPanel';
import { CameraIcon, CameraOffIcon, LeaveIcon, LinkIcon, LockIcon, MicIcon, MicOffIcon, PeopleIcon } from './Icons';
import { ParticipantsPanel } from './ParticipantsPanel';
import { useGridLayout } from './useGridLayout';
import { VideoTile } from './VideoTile';
import './Room.css';

const wideScreen = '(min-width: 900px)';

function describeError(err: unknown): string {
  if (err instanceof ProtocolError) {
    switch (err.code) {
      case 'forbidden':
        return 'That is not allowed right now.';
      case 'closed':
        return 'Not connected to the server right now.';
      default:
        return err.message;
    }
  }
  return err instanceof Error ? err.message : String(err);
}

/** The meeting itself: tiles, own controls, participants, and the host's controls. */
export function Room({
  entry,
  onFinished,
  onJoinRefused,
}: {
  entry: RoomEntry;
  onFinished: (phase: Phase) => void;
  onJoinRefused: (code: ErrorCode, message: string) => void;
}) {
  const [state, dispatch] = useReducer(roomReducer, entry.name, initialRoomState);
  const [remote, setRemote] = useState<ReadonlyMap<string, MediaStream>>(new Map());
  const [local, setLocal] = useState<MediaStream | null>(null);
  const [speaking, setSpeaking] = useState<ReadonlySet<string>>(new Set());
  const [soundBlocked, setSoundBlocked] = useState(false);
  const [allowSelfUnmute, setAllowSelfUnmute] = useState(false);
  const [confirmEnd, setConfirmEnd] = useState(false);
  const [panelOpen, setPanelOpen] = useState(() => window.matchMedia(wideScreen).matches);
  const [toast, setToast] = useState<string | null>(null);
  const [mediaWarning, setMediaWarning] = useState(entry.media.warning);
  const [copied, setCopied] = useState(false);
  const [hasMic] = useState(() => entry.media.stream.getAudioTracks().length > 0);
  const session = useRef<MeetingSession | null>(null);
  const grid = useRef<HTMLDivElement>(null);
  const linkInput = useRef<HTMLInputElement>(null);

  // The session keeps its callbacks for its whole life; this one reaches the props of the moment.
  const refused = useEffectEvent(onJoinRefused);

  useEffect(() => {
    const s = new MeetingSession(
      {
        meetingId: entry.meetingId,
        name: entry.name,
        hostKey: entry.hostKey,
        media: entry.media.stream,
        audioMuted: entry.audioMuted,
        videoMuted: entry.videoMuted,
      },
      {
        dispatch,
        onRemoteStreams: setRemote,
        onLocalStream: setLocal,
        onSpeaking: setSpeaking,
        onJoinRefused: (code, message) => refused(code, message),
      },
    );
    session.current = s;
    s.start();
    const bye = () => s.leaveNow();
    window.addEventListener('pagehide', bye);
    return () => {
      window.removeEventListener('pagehide', bye);
      void s.leave();
      s.close();
    };
  }, [entry]);

  useEffect(() => {
    if (isFinal(state.phase)) onFinished(state.phase);
  }, [state.phase, onFinished]);

  useEffect(() => {
    if (!toast) return;
    const id = setTimeout(() => setToast(null), 6000);
    return () => clearTimeout(id);
  }, [toast]);

  useEffect(() => {
    if (state.notice?.kind !== 'timerEnded' && state.notice?.kind !== 'unmuteAllowed') return;
    const id = setTimeout(() => dispatch({ type: 'dismissNotice' }), 6000);
    return () => clearTimeout(id);
  }, [state.notice]);

  const act = useCallback((msg: ClientMessage) => {
    const s = session.current;
    if (!s) return;
    s.request(msg).catch((err: unknown) => setToast(describeError(err)));
  }, []);

  const onSoundBlocked = useCallback(() => setSoundBlocked(true), []);

  const { self } = state;
  const isHost = state.role === 'host';
  const micLocked = self.audioMuted && !canUnmuteSelf(self);
  const tileCount = 1 + state.others.length;
  const tileWidth = useGridLayout(grid, tileCount);
  const joinUrl = entry.joinUrl;

  function toggleMic() {
    const s = session.current;
    if (!s) return;
    s.setMicMuted(!self.audioMuted).catch((err: unknown) =>
      setToast(
        err instanceof ProtocolError && err.code === 'forbidden'
          ? 'The host has not allowed you to unmute yet.'
          : describeError(err),
      ),
    );
  }

  function toggleCamera() {
    const s = session.current;
    if (!s) return;
    s.setCameraOff(!self.videoMuted).catch((err: unknown) => {
      if (err instanceof DOMException) setMediaWarning(`The camera could not be started (${err.name}).`);
      else setToast(describeError(err));
    });
  }

  async function copyLink() {
    try {
      await navigator.clipboard.writeText(joinUrl);
    } catch {
      // Clipboard access may be refused (no permission, insecure page): fall back to selection.
      linkInput.current?.select();
      // Deprecated, but the only way left to copy where the Clipboard API is refused.
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      document.execCommand('copy');
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 2500);
  }

  const selfWithName = { ...self, name: self.name || entry.name };

  return (
    <div className="room">
      <div className="room-main" inert={confirmEnd} aria-hidden={confirmEnd || undefined}>
        <header className="topbar">
          <Brand />
          <div className="topbar-middle">
            {state.meeting?.locked && (
              <span className="pill" role="status">
                <LockIcon /> Locked
              </span>
            )}
            {state.timer && <Countdown timer={state.timer} clockOffset={state.clockOffset} />}
          </div>
          <div className="share">
            <input
              ref={linkInput}
              className="link"
              readOnly
              value={joinUrl}
              aria-label="Meeting link"
              onFocus={(e) => e.target.select()}
            />
            <button type="button" onClick={() => void copyLink()} className="small">
              <LinkIcon />
              <span>Copy link</span>
            </button>
            <span className="sr-live" role="status">
              {copied ? 'Link copied' : ''}
            </span>
          </div>
        </header>

        <div className="banners">
          {state.phase === 'joining' && (
            <p className="banner" role="status">
              {state.retrying ? 'The server cannot be reached right now. Trying again…' : 'Joining…'}
            </p>
          )}
          {self.mutedByHost && (
            <p className="banner held" role="status">
              <strong>Muted by the host.</strong>{' '}
              {self.canUnmute
                ? 'You may unmute yourself when you want to speak.'
                : 'You can unmute once the host allows it.'}
            </p>
          )}
          {state.notice?.kind === 'unmuteAllowed' && !self.mutedByHost && (
            <p className="banner" role="status">
              The host allows you to unmute yourself.
            </p>
          )}
          {state.notice?.kind === 'timerEnded' && (
            <p className="banner" role="status">
              Time is up.
            </p>
          )}
          {mediaWarning && (
            <p className="banner warning" role="status">
              {mediaWarning}{' '}
              <button type="button" className="link-button" onClick={() => setMediaWarning(null)}>
                Dismiss
              </button>
            </p>
          )}
          {soundBlocked && (
            <p className="banner" role="status">
              Your browser paused the sound.{' '}
              <button type="button" className="small" onClick={() => setSoundBlocked(false)}>
                Enable sound
              </button>
            </p>
          )}
          {toast && (
            <p className="banner error" role="alert">
              {toast}
            </p>
          )}
        </div>

        <div className="stage">
          <div className="grid" ref={grid}>
            <VideoTile
              participant={selfWithName}
              stream={local}
              isSelf
              speaking={speaking.has(self.participantId)}
              soundBlocked={false}
              onSoundBlocked={onSoundBlocked}
              width={tileWidth}
            />
            {state.others.map((p) => (
              <VideoTile
                key={p.participantId}
                participant={p}
                stream={remote.get(p.participantId) ?? null}
                isSelf={false}
                speaking={speaking.has(p.participantId)}
                soundBlocked={soundBlocked}
                onSoundBlocked={onSoundBlocked}
                width={tileWidth}
              />
            ))}
            {state.phase === 'reconnecting' && (
              <div className="reconnecting" role="alert">
                <div className="spinner" aria-hidden="true" />
                Reconnecting…
              </div>
            )}
          </div>
          {panelOpen && (
            <aside className="sidebar" aria-label="Meeting details">
              <button type="button" className="small close-panel" onClick={() => setPanelOpen(false)}>
                Close panel
              </button>
              {isHost && (
                <HostPanel
                  others={state.others}
                  timers={state.timers}
                  timerRunning={state.timer !== null}
                  locked={state.meeting?.locked ?? false}
                  allowSelfUnmute={allowSelfUnmute}
                  setAllowSelfUnmute={setAllowSelfUnmute}
                  act={act}
                  onEndRequested={() => setConfirmEnd(true)}
                />
              )}
              <ParticipantsPanel
                self={selfWithName}
                others={state.others}
                isHost={isHost}
                allowSelfUnmute={allowSelfUnmute}
                act={act}
              />
            </aside>
          )}
        </div>

        <footer className="controls">
          <button
            type="button"
            className={`round${self.audioMuted ? ' off' : ''}`}
            onClick={toggleMic}
            disabled={!hasMic || micLocked}
            aria-label={self.audioMuted ? 'Unmute microphone' : 'Mute microphone'}
            title={!hasMic ? 'No microphone' : micLocked ? 'Muted by the host' : undefined}
          >
            {self.audioMuted ? <MicOffIcon /> : <MicIcon />}
          </button>
          <button
            type="button"
            className={`round${self.videoMuted ? ' off' : ''}`}
            onClick={toggleCamera}
            aria-label={self.videoMuted ? 'Turn on camera' : 'Turn off camera'}
          >
            {self.videoMuted ? <CameraOffIcon /> : <CameraIcon />}
          </button>
          <button
            type="button"
            className={`round${panelOpen ? ' active' : ''}`}
            onClick={() => setPanelOpen((o) => !o)}
            aria-expanded={panelOpen}
            aria-label={isHost ? 'Participants and host controls' : 'Participants'}
          >
            <PeopleIcon />
            <span className="count" aria-hidden="true">
              {tileCount}
            </span>
          </button>
          <button
            type="button"
            className="leave"
            aria-label="Leave meeting"
            onClick={() => void session.current?.leave()}
          >
            <LeaveIcon />
            <span>Leave meeting</span>
          </button>
        </footer>
      </div>
      {confirmEnd && (
        <ConfirmDialog
          title="End the meeting for everyone?"
          text="Everyone will be disconnected and the meeting link will stop working."
          confirmLabel="End meeting for all"
          onConfirm={() => {
            setConfirmEnd(false);
            act({ type: 'endMeeting' });
          }}
          onCancel={() => setConfirmEnd(false)}
        />
      )}
    </div>
  );
}
