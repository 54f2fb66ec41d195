import { useCallback, useEffect, useEffectEvent, useReducer, useRef, useState, type ReactNode } from 'react';
import { loadDeviceChoices, saveDeviceChoice } from '../devices';
import { deviceErrorText } from '../media';
import type { RoomEntry } from '../roomEntry';
import { ProtocolError, type ClientMessage, type ErrorCode, type Participant, type Quality, type Role } from '../protocol';
import {
  canUnmuteSelf,
  displayNames,
  everyone,
  initialRoomState,
  isFinal,
  muteSummary,
  roomReducer,
  type Phase,
  type RoomAction,
} from '../roomState';
import { canShareScreen } from '../screen';
import { MeetingSession } from '../session';
import { isMac, shortcutFor, shortcutLabel } from '../shortcuts';
import { playTimerEnd, setSoundsEnabled, soundsEnabled } from '../sounds';
import { Brand } from './Brand';
import { ChatPanel } from './ChatPanel';
import { ConfirmDialog } from './ConfirmDialog';
import { Countdown } from './Countdown';
import { HostTab } from './HostTab';
import {
  CameraIcon,
  CameraOffIcon,
  ChatIcon,
  HandIcon,
  LeaveIcon,
  LockIcon,
  MicIcon,
  MicOffIcon,
  PeopleIcon,
  GridViewIcon,
  PipIcon,
  ScreenIcon,
  SettingsIcon,
  ShieldIcon,
  SpeakerViewIcon,
  StopScreenIcon,
} from './Icons';
import { MeetingLink } from './MeetingLink';
import { MeetingLogDialog } from './MeetingLogDialog';
import { MuteAllDialog } from './MuteAllDialog';
import { PeopleTab } from './PeopleTab';
import { ScreenStage } from './ScreenStage';
import { SettingsDialog } from './SettingsDialog';
import { SidePanel, sidePanelId, type PanelTab } from './SidePanel';
import { Toasts } from './Toasts';
import { Toolbar, toolId, type ToolbarItem } from './Toolbar';
import { useChat } from './useChat';
import { useGridLayout } from './useGridLayout';
import { VideoTile } from './VideoTile';
import { WaitingRoom } from './WaitingRoom';
import './Room.css';

const wideScreen = '(min-width: 900px)';
const toastMs = 6000;
const selfViewKey = 'parley.hideSelf';
const layoutKey = 'parley.layout';

type Layout = 'grid' | 'speaker';

function loadLayout(): Layout {
  try {
    return localStorage.getItem(layoutKey) === 'speaker' ? 'speaker' : 'grid';
  } catch {
    return 'grid';
  }
}


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

/** The dialog open over the room, if any. */
type Dialog =
  | { kind: 'end' }
  | { kind: 'muteAll' }
  | { kind: 'settings' }
  | { kind: 'log' }
  | { kind: 'remove'; who: Participant; name: string; ban: boolean };

function loadHideSelf(): boolean {
  try {
    return localStorage.getItem(selfViewKey) === '1';
  } catch {
    return false;
  }
}

/** The meeting itself: tiles, own controls, the side panel, and the host's controls. */
export function Room({
  entry,
  onFinished,
  onJoinRefused,
  onMediaBlocked,
}: {
  entry: RoomEntry;
  onFinished: (phase: Phase, role: Role) => void;
  onJoinRefused: (code: ErrorCode, message: string) => void;
  /** The media could not connect after several joins: the room gave up (session.ts). */
  onMediaBlocked: () => void;
}) {
  const [state, dispatch] = useReducer(roomReducer, entry.name, initialRoomState);
  const [remote, setRemote] = useState<ReadonlyMap<string, MediaStream>>(new Map());
  const [remoteScreens, setRemoteScreens] = useState<ReadonlyMap<string, MediaStream>>(new Map());
  const [local, setLocal] = useState<MediaStream | null>(null);
  const [localScreen, setLocalScreen] = useState<MediaStream | null>(null);
  const [layout, setLayout] = useState<Layout>(loadLayout);
  const [speaking, setSpeaking] = useState<ReadonlySet<string>>(new Set());
  const [lastSpeaker, setLastSpeaker] = useState<string | null>(null);
  const [soundBlocked, setSoundBlocked] = useState(false);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [panel, setPanel] = useState<string | null>(() => (window.matchMedia(wideScreen).matches ? 'people' : null));
  const [error, setError] = useState<string | null>(null);
  const [mediaWarning, setMediaWarning] = useState(entry.media.warning);
  const [deviceError, setDeviceError] = useState<string | null>(null);
  const [lockOffer, setLockOffer] = useState<string | null>(null);
  const [sounds, setSounds] = useState(soundsEnabled);
  const [hideSelf, setHideSelf] = useState(loadHideSelf);
  const [choices, setChoices] = useState(loadDeviceChoices);
  const [cameraId, setCameraId] = useState(entry.cameraId);
  const [inPip, setInPip] = useState(false);
  const { chat, onRoomAction: chatAction, sending: chatSending } = useChat(panel === 'chat');
  // The session's events feed the room's state and, apart from it, the chat.
  const roomDispatch = useCallback(
    (action: RoomAction) => {
      dispatch(action);
      chatAction(action);
    },
    [chatAction],
  );
  const session = useRef<MeetingSession | null>(null);
  const grid = useRef<HTMLDivElement>(null);
  const controls = useRef<HTMLElement>(null);
  const focusedOnJoin = useRef(false);
  const mac = isMac();

  // The session keeps its callbacks for its whole life; this one reaches the props of the moment.
  const refused = useEffectEvent(onJoinRefused);
  const mediaBlocked = useEffectEvent(onMediaBlocked);

  useEffect(() => {
    const s = new MeetingSession(
      {
        meetingId: entry.meetingId,
        name: entry.name,
        hostKey: entry.hostKey,
        media: entry.media.stream,
        audioMuted: entry.audioMuted,
        videoMuted: entry.videoMuted,
        cameraId: entry.cameraId,
      },
      {
        dispatch: roomDispatch,
        onRemoteStreams: setRemote,
        onRemoteScreens: setRemoteScreens,
        onLocalStream: setLocal,
        onLocalScreen: setLocalScreen,
        onSpeaking: setSpeaking,
        onJoinRefused: (code, message) => refused(code, message),
        onMediaBlocked: () => mediaBlocked(),
      },
    );
    session.current = s;
    s.start();
    // No leave when the page goes away: a reload resumes the same participant with the token in
    // session storage; a closed tab leaves once the server's resume grace is over.
    return () => {
      void s.leave();
      s.close();
    };
  }, [entry, roomDispatch]);

  useEffect(() => {
    if (isFinal(state.phase)) onFinished(state.phase, state.role);
  }, [state.phase, state.role, onFinished]);

  // Each toast goes after a while; a new one does not restart the others' time.
  const toastTimers = useRef(new Map<number, ReturnType<typeof setTimeout>>());
  useEffect(() => {
    const timers = toastTimers.current;
    for (const t of state.toasts) {
      if (!timers.has(t.id)) {
        timers.set(
          t.id,
          setTimeout(() => {
            timers.delete(t.id);
            dispatch({ type: 'dismissToast', id: t.id });
          }, toastMs),
        );
      }
    }
  }, [state.toasts]);
  useEffect(() => {
    const timers = toastTimers.current;
    return () => timers.forEach((t) => clearTimeout(t));
  }, []);

  useEffect(() => {
    if (!error) return;
    const id = setTimeout(() => setError(null), toastMs);
    return () => clearTimeout(id);
  }, [error]);

  // The end of the timer sounds once per end, unless the person turned sounds off.
  const chime = useEffectEvent(() => {
    if (sounds) playTimerEnd();
  });
  useEffect(() => {
    if (state.timerEndedCount > 0) chime();
  }, [state.timerEndedCount]);

  // After joining, the focus goes to the meeting's first control (the microphone).
  useEffect(() => {
    if (state.phase === 'live' && !focusedOnJoin.current) {
      focusedOnJoin.current = true;
      document.getElementById(toolId('mic'))?.focus();
    }
  }, [state.phase]);

  // The most recent other speaker, for picture-in-picture: kept from one speaking set to the next.
  const [seenSpeaking, setSeenSpeaking] = useState(speaking);
  if (seenSpeaking !== speaking) {
    setSeenSpeaking(speaking);
    const other = [...speaking].find((id) => id !== state.selfId);
    if (other) setLastSpeaker(other);
  }

  const act = useCallback((msg: ClientMessage) => {
    const s = session.current;
    if (!s) return Promise.resolve(false);
    return s.request(msg).then(
      () => true,
      (err: unknown) => {
        setError(describeError(err));
        return false;
      },
    );
  }, []);
  const send = useCallback((msg: ClientMessage) => void act(msg), [act]);

  const onSoundBlocked = useCallback(() => setSoundBlocked(true), []);
  const onQuality = useCallback((participantId: string, quality: Quality) => {
    session.current?.setVideoQuality(participantId, quality);
  }, []);

  const { self } = state;
  const isHost = state.role === 'host';
  const live = state.phase === 'live';
  const micLocked = self.audioMuted && !canUnmuteSelf(self);
  const hasMic = (local?.getAudioTracks().length ?? 0) > 0 || (local === null && entry.media.stream.getAudioTracks().length > 0);
  const people = everyone({ ...state, self: { ...self, name: self.name || entry.name } });
  const names = displayNames(people);
  const selfName = names.get(self.participantId) ?? (self.name || entry.name);
  const alone = live && state.others.length === 0;
  const showSelf = !hideSelf || state.others.length === 0;

  // What is shown large above the grid: a shared screen (another's first, else the own), else
  // in speaker view the most recent active speaker, who then leaves the grid.
  const sharer = state.others.find((p) => p.screenSharing && remoteScreens.get(p.participantId)?.getVideoTracks().length);
  const sharedScreen = sharer ? (remoteScreens.get(sharer.participantId) ?? null) : localScreen;
  const featuredId =
    !sharedScreen && layout === 'speaker'
      ? ((lastSpeaker && state.others.some((p) => p.participantId === lastSpeaker) ? lastSpeaker : null) ??
        state.others[0]?.participantId ??
        null)
      : null;
  const featured = featuredId ? state.others.find((p) => p.participantId === featuredId) : undefined;
  const gridOthers = featured ? state.others.filter((p) => p !== featured) : state.others;
  const tileCount = (showSelf ? 1 : 0) + gridOthers.length + (alone ? 1 : 0);
  const tileSize = useGridLayout(grid, tileCount);

  function toggleMic() {
    const s = session.current;
    if (!s || !hasMic || micLocked) return;
    s.setMicMuted(!self.audioMuted).catch((err: unknown) =>
      setError(
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
      if (err instanceof DOMException) setMediaWarning(deviceErrorText('Camera', err));
      else setError(describeError(err));
    });
  }

  const onShortcut = useEffectEvent((action: 'toggleMic' | 'toggleCamera') => {
    if (action === 'toggleMic') toggleMic();
    else toggleCamera();
  });

  // Ctrl/Cmd+D and Ctrl/Cmd+E, as in Meet; the browser's own meaning of them is not wanted here.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const action = shortcutFor(e, mac);
      if (!action) return;
      e.preventDefault();
      onShortcut(action);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [mac]);

  // Picture-in-picture follows the active speaker while it is open.
  const pipSupported = typeof document !== 'undefined' && document.pictureInPictureEnabled;
  const pipTarget = (lastSpeaker && state.others.some((p) => p.participantId === lastSpeaker) ? lastSpeaker : null) ??
    state.others.find((p) => !p.videoMuted)?.participantId ??
    null;
  useEffect(() => {
    const onEnter = () => setInPip(true);
    const onLeave = () => setInPip(false);
    document.addEventListener('enterpictureinpicture', onEnter, true);
    document.addEventListener('leavepictureinpicture', onLeave, true);
    return () => {
      document.removeEventListener('enterpictureinpicture', onEnter, true);
      document.removeEventListener('leavepictureinpicture', onLeave, true);
    };
  }, []);
  useEffect(() => {
    if (!inPip || !pipTarget) return;
    const v = document.querySelector<HTMLVideoElement>(`video[data-participant-id="${CSS.escape(pipTarget)}"]`);
    if (v && document.pictureInPictureElement !== v) v.requestPictureInPicture().catch(() => undefined);
  }, [inPip, pipTarget]);

  async function togglePip() {
    if (document.pictureInPictureElement) {
      await document.exitPictureInPicture().catch(() => undefined);
      return;
    }
    if (!pipTarget) return;
    const v = document.querySelector<HTMLVideoElement>(`video[data-participant-id="${CSS.escape(pipTarget)}"]`);
    await v?.requestPictureInPicture().catch((err: unknown) => setError(`Picture-in-picture is not available: ${describeError(err)}`));
  }

  function pickDevice(kind: 'audioinput' | 'videoinput' | 'audiooutput', deviceId: string, label: string) {
    saveDeviceChoice(kind, { deviceId, label });
    setChoices(loadDeviceChoices());
    setDeviceError(null);
    const s = session.current;
    if (kind === 'audiooutput' || !s) return;
    if (kind === 'videoinput') setCameraId(deviceId);
    const switched = kind === 'audioinput' ? s.switchMicrophone(deviceId) : s.switchCamera(deviceId);
    switched.catch((err: unknown) => setDeviceError(deviceErrorText(kind === 'audioinput' ? 'Microphone' : 'Camera', err)));
  }

  function removeConfirmed(who: Participant, name: string, ban: boolean) {
    setDialog(null);
    void act({ type: 'kick', participantId: who.participantId, ...(ban ? { ban } : {}) }).then((ok) => {
      if (ok && !state.meeting?.locked) setLockOffer(name);
    });
  }

  const togglePanel = (id: string) => setPanel((p) => (p === id ? null : id));

  async function sendChat(text: string, to: string | undefined) {
    const s = session.current;
    if (!s) throw new ProtocolError('closed', 'not connected');
    await chatSending(() => s.request({ type: 'sendChat', text, ...(to ? { to } : {}) }), to);
  }

  const sharing = localScreen !== null;
  const mayShare = isHost || (state.meeting?.screenShareAllowed ?? true);
  function toggleScreen() {
    const s = session.current;
    if (!s) return;
    if (s.sharingScreen) {
      void s.stopScreenShare();
      return;
    }
    s.startScreenShare().catch((err: unknown) => {
      if (err instanceof DOMException && err.name === 'NotAllowedError') return; // the picker was cancelled
      setError(
        err instanceof ProtocolError && err.code === 'forbidden'
          ? 'The host has not allowed participants to share their screen.'
          : `Your screen could not be shared: ${describeError(err)}`,
      );
    });
  }

  const handLabel = self.handRaised ? 'Lower hand' : 'Raise hand';
  const toggleHand = () => send({ type: 'setHandRaised', raised: !self.handRaised });

  // ---- the side panel's tabs and the toolbar, as data: a new feature adds an entry here ----

  const tabs: (PanelTab & { icon: ReactNode; button: string; badge?: number | undefined })[] = [
    {
      id: 'people',
      label: 'Participants',
      button: 'Participants',
      icon: <PeopleIcon />,
      badge: people.length,
      render: () => (
        <PeopleTab
          people={people}
          names={names}
          selfId={self.participantId}
          speaking={speaking}
          isHost={isHost}
          live={live}
          summary={isHost ? muteSummary(state.others) : null}
          act={send}
          onMuteAll={() => setDialog({ kind: 'muteAll' })}
          onRemove={(who, ban) => setDialog({ kind: 'remove', who, name: names.get(who.participantId) ?? who.name, ban })}
        />
      ),
    },
    {
      id: 'chat',
      label: 'Chat',
      button: 'Chat',
      icon: <ChatIcon />,
      badge: chat.unread > 0 ? chat.unread : undefined,
      render: () => (
        <ChatPanel
          messages={chat.messages}
          names={names}
          selfId={self.participantId}
          others={state.others}
          canSend={isHost || (state.meeting?.chatAllowed ?? true)}
          live={live}
          onSend={(text, to) => sendChat(text, to)}
        />
      ),
    },
  ];
  if (isHost) {
    tabs.push({
      id: 'host',
      label: 'Host controls',
      button: 'Host controls',
      icon: <ShieldIcon />,
      badge: state.lobby.length > 0 ? state.lobby.length : undefined,
      render: () => (
        <HostTab
          timers={state.timers}
          timerRunning={state.timer !== null}
          locked={state.meeting?.locked ?? false}
          chatAllowed={state.meeting?.chatAllowed ?? true}
          screenShareAllowed={state.meeting?.screenShareAllowed ?? true}
          sharing={people
            .filter((p) => p.screenSharing)
            .map((p) => ({ participantId: p.participantId, name: names.get(p.participantId) ?? p.name }))}
          lobby={state.meeting?.lobby ?? false}
          waiting={state.lobby}
          live={live}
          act={send}
          onEndRequested={() => setDialog({ kind: 'end' })}
          onShowLog={() => setDialog({ kind: 'log' })}
        />
      ),
    });
  }

  const micKeys = shortcutLabel('toggleMic', mac);
  const camKeys = shortcutLabel('toggleCamera', mac);
  const micLabel = self.audioMuted ? 'Unmute microphone' : 'Mute microphone';
  const camLabel = self.videoMuted ? 'Turn on camera' : 'Turn off camera';
  const mainTools: ToolbarItem[] = [
    {
      id: 'mic',
      label: micLabel,
      icon: self.audioMuted ? <MicOffIcon /> : <MicIcon />,
      onClick: toggleMic,
      tone: self.audioMuted ? 'off' : 'normal',
      disabled: !hasMic || micLocked,
      title: !hasMic ? 'No microphone' : micLocked ? 'The host muted you' : `${micLabel} (${micKeys.text})`,
      keyShortcuts: micKeys.aria,
      caption: micLocked ? (
        <>
          <span>The host muted you</span>
          {!self.handRaised && (
            <button type="button" className="small caption-action" disabled={!live} onClick={toggleHand}>
              Raise hand
            </button>
          )}
        </>
      ) : undefined,
    },
    {
      id: 'camera',
      label: camLabel,
      icon: self.videoMuted ? <CameraOffIcon /> : <CameraIcon />,
      onClick: toggleCamera,
      tone: self.videoMuted ? 'off' : 'normal',
      title: `${camLabel} (${camKeys.text})`,
      keyShortcuts: camKeys.aria,
    },
    {
      id: 'hand',
      label: handLabel,
      icon: <HandIcon />,
      onClick: toggleHand,
      active: self.handRaised,
      disabled: !live,
      title: self.handRaised ? 'Lower your hand' : 'Raise your hand to ask to speak',
    },
    ...(canShareScreen()
      ? [
          {
            id: 'screen',
            label: sharing ? 'Stop sharing' : 'Share screen',
            icon: sharing ? <StopScreenIcon /> : <ScreenIcon />,
            onClick: toggleScreen,
            active: sharing,
            disabled: !live || (!sharing && !mayShare),
            title: sharing
              ? 'Stop sharing your screen'
              : mayShare
                ? 'Share your screen'
                : 'The host has not allowed participants to share their screen',
          } satisfies ToolbarItem,
        ]
      : []),
    {
      id: 'layout',
      label: layout === 'speaker' ? 'Grid view' : 'Speaker view',
      icon: layout === 'speaker' ? <GridViewIcon /> : <SpeakerViewIcon />,
      onClick: () => {
        const next: Layout = layout === 'speaker' ? 'grid' : 'speaker';
        setLayout(next);
        try {
          localStorage.setItem(layoutKey, next);
        } catch {
          // Not remembered beyond this meeting.
        }
      },
      title: layout === 'speaker' ? 'Show everyone alike' : 'Show the person speaking large',
    },
    {
      id: 'settings',
      label: 'Settings',
      icon: <SettingsIcon />,
      onClick: () => setDialog({ kind: 'settings' }),
    },
  ];
  const pipTool: ToolbarItem[] =
    pipSupported && pipTarget
      ? [
          {
            id: 'pip',
            label: 'Picture-in-picture',
            icon: <PipIcon />,
            onClick: () => void togglePip(),
            pressed: inPip,
            title: 'Show the active speaker in a floating window',
          },
        ]
      : [];
  const leaveTool: ToolbarItem = {
    id: 'leave',
    label: 'Leave meeting',
    icon: <LeaveIcon />,
    onClick: () => void session.current?.leave(),
    tone: 'danger',
    showLabel: true,
  };
  const panelTools: ToolbarItem[] = tabs.map((t) => ({
    id: `panel-${t.id}`,
    label: t.button,
    icon: t.icon,
    onClick: () => togglePanel(t.id),
    expanded: panel === t.id,
    controls: sidePanelId,
    badge: t.badge,
  }));

  const reconnecting = state.phase === 'reconnecting';

  if (state.phase === 'waiting') {
    return <WaitingRoom name={entry.name} onLeave={() => void session.current?.leave()} />;
  }

  return (
    <div className="room">
      <a
        href="#controls"
        className="skip-link"
        onClick={(e) => {
          e.preventDefault();
          controls.current?.focus();
        }}
      >
        Skip to controls
      </a>
      <header className="topbar">
        <Brand />
        <div className="topbar-middle">
          {state.meeting?.locked && (
            <span className="pill">
              <LockIcon /> Locked
            </span>
          )}
          {state.timer && <Countdown timer={state.timer} clockOffset={state.clockOffset} />}
        </div>
        {!alone && <MeetingLink url={entry.joinUrl} variant="bar" />}
      </header>

      <div className="stage">
        <main className="stage-main">
          <h1 className="sr-only">Meeting</h1>
          <div className="banners">
            {state.phase === 'joining' && (
              <p className="banner" role="status">
                {state.retrying ? 'The server cannot be reached right now. Trying again…' : 'Joining…'}
              </p>
            )}
            {mediaWarning && (
              <p className="banner warning" role="status">
                <span>{mediaWarning}</span>
                <button type="button" className="small" onClick={() => setMediaWarning(null)}>
                  Dismiss
                </button>
              </p>
            )}
            {soundBlocked && (
              <p className="banner" role="status">
                <span>Your browser paused the sound.</span>
                <button type="button" className="small" onClick={() => setSoundBlocked(false)}>
                  Enable sound
                </button>
              </p>
            )}
            {lockOffer && (
              <p className="banner" role="status">
                <span>{lockOffer} was removed. Lock the meeting so that they cannot come back with the link?</span>
                <button
                  type="button"
                  className="small primary"
                  disabled={!live}
                  onClick={() => {
                    setLockOffer(null);
                    send({ type: 'setLocked', locked: true });
                  }}
                >
                  Lock the meeting
                </button>
                <button type="button" className="small" onClick={() => setLockOffer(null)}>
                  Not now
                </button>
              </p>
            )}
            {error && (
              <p className="banner error" role="alert">
                {error}
              </p>
            )}
          </div>
          {sharedScreen && (
            <ScreenStage
              stream={sharedScreen}
              sharerName={sharer ? (names.get(sharer.participantId) ?? sharer.name) : selfName}
              isSelf={!sharer}
              soundBlocked={soundBlocked}
              onStop={() => void session.current?.stopScreenShare()}
            />
          )}
          {featured && (
            <section className="featured" aria-label="Active speaker">
              <VideoTile
                participant={featured}
                name={names.get(featured.participantId) ?? featured.name}
                stream={remote.get(featured.participantId) ?? null}
                isSelf={false}
                speaking={speaking.has(featured.participantId)}
                soundBlocked={soundBlocked}
                onSoundBlocked={onSoundBlocked}
                sinkId={choices.audiooutput?.deviceId}
                onQuality={onQuality}
              />
            </section>
          )}
          {sharer && localScreen && (
            <p className="banner" role="status">
              <span>You are sharing your screen.</span>
              <button type="button" className="small" onClick={() => void session.current?.stopScreenShare()}>
                Stop sharing your screen
              </button>
            </p>
          )}
          <div className={`grid${sharedScreen || featured ? ' strip' : ''}`} ref={grid}>
            {showSelf && (
              <VideoTile
                participant={{ ...self, name: self.name || entry.name }}
                name={selfName}
                stream={local}
                isSelf
                speaking={speaking.has(self.participantId)}
                soundBlocked={false}
                onSoundBlocked={onSoundBlocked}
                size={tileSize}
              />
            )}
            {gridOthers.map((p) => (
              <VideoTile
                key={p.participantId}
                participant={p}
                name={names.get(p.participantId) ?? p.name}
                stream={remote.get(p.participantId) ?? null}
                isSelf={false}
                speaking={speaking.has(p.participantId)}
                soundBlocked={soundBlocked}
                onSoundBlocked={onSoundBlocked}
                size={tileSize}
                sinkId={choices.audiooutput?.deviceId}
                onQuality={onQuality}
              />
            ))}
            {alone && (
              <section className="invite" aria-labelledby="invite-heading" style={tileSize ? { width: tileSize.width, minHeight: tileSize.height } : undefined}>
                <h2 id="invite-heading">You're the only one here</h2>
                <p className="muted">Share this link with the people you want in the meeting.</p>
                <MeetingLink url={entry.joinUrl} variant="card" />
              </section>
            )}
            {reconnecting && (
              <div className="reconnecting" role="alert">
                <div className="spinner" aria-hidden="true" />
                <span>Reconnecting…</span>
                {state.reconnectCause === 'restarting' && (
                  <span className="reconnecting-detail">The server is restarting. You will be back in a moment.</span>
                )}
              </div>
            )}
          </div>
          <Toasts toasts={state.toasts} onDismiss={(id) => dispatch({ type: 'dismissToast', id })} />
        </main>
        {panel && (
          <SidePanel tabs={tabs} current={panel} onSelect={setPanel} onClose={() => setPanel(null)} />
        )}
      </div>

      <footer className="controls" id="controls" ref={controls} tabIndex={-1} aria-label="Meeting controls">
        <Toolbar main={[...mainTools, ...pipTool, leaveTool]} panels={panelTools} />
      </footer>

      {dialog?.kind === 'end' && (
        <ConfirmDialog
          title="End the meeting for everyone?"
          text="Everyone will be disconnected and the meeting link will stop working."
          confirmLabel="End meeting for all"
          onConfirm={() => {
            setDialog(null);
            send({ type: 'endMeeting' });
          }}
          onCancel={() => setDialog(null)}
        />
      )}
      {dialog?.kind === 'remove' && (
        <ConfirmDialog
          title={dialog.ban ? `Remove ${dialog.name} and don't let them back in?` : `Remove ${dialog.name}?`}
          text={
            dialog.ban
              ? `${dialog.name} will leave the meeting at once and be told that the host removed them. ` +
                'This browser cannot join this meeting again.'
              : `${dialog.name} will leave the meeting at once and be told that the host removed them. ` +
                'If they try to join again from this browser, they wait for you to let them in.'
          }
          confirmLabel={dialog.ban ? "Remove and don't let back in" : 'Remove'}
          onConfirm={() => removeConfirmed(dialog.who, dialog.name, dialog.ban)}
          onCancel={() => setDialog(null)}
        />
      )}
      {dialog?.kind === 'log' && entry.hostKey && (
        <MeetingLogDialog meetingId={entry.meetingId} hostKey={entry.hostKey} onClose={() => setDialog(null)} />
      )}
      {dialog?.kind === 'muteAll' && (
        <MuteAllDialog
          onMute={(allowSelfUnmute) => {
            setDialog(null);
            send({ type: 'muteAll', allowSelfUnmute });
          }}
          onCancel={() => setDialog(null)}
        />
      )}
      {dialog?.kind === 'settings' && (
        <SettingsDialog
          microphone={local?.getAudioTracks()[0] ?? null}
          micMuted={self.audioMuted}
          cameraId={cameraId}
          speakerId={choices.audiooutput?.deviceId}
          onMicrophone={(id, label) => pickDevice('audioinput', id, label)}
          onCamera={(id, label) => pickDevice('videoinput', id, label)}
          onSpeaker={(id, label) => pickDevice('audiooutput', id, label)}
          deviceError={deviceError}
          sounds={sounds}
          onSounds={(on) => {
            setSounds(on);
            setSoundsEnabled(on);
          }}
          hideSelf={hideSelf}
          onHideSelf={(hide) => {
            setHideSelf(hide);
            try {
              localStorage.setItem(selfViewKey, hide ? '1' : '0');
            } catch {
              // Not remembered beyond this meeting.
            }
          }}
          onClose={() => setDialog(null)}
        />
      )}
    </div>
  );
}
