// The app shell: which screen shows, driven by the URL (/ and /m/{meetingId}) and by how a
// meeting attempt ended.

import { useCallback, useEffect, useState } from 'react';
import type { ErrorCode, Role } from './protocol';
import type { RoomEntry } from './roomEntry';
import type { Phase } from './roomState';
import { meetingPath, routeFromPath } from './routes';
import { forgetHostCredentials, loadHostCredentials } from './storage';
import { Home } from './components/Home';
import { PreJoin } from './components/PreJoin';
import { Room } from './components/Room';
import { EndScreen, type EndReason } from './components/EndScreen';
import { Notice } from './components/Notice';
import { Unavailable, type UnavailableReason } from './components/Unavailable';

type View =
  | { kind: 'home' }
  | { kind: 'notFound' }
  | { kind: 'prejoin'; meetingId: string; error?: string; fresh?: boolean }
  | { kind: 'room'; entry: RoomEntry; attempt: number }
  | { kind: 'end'; meetingId: string; reason: EndReason }
  | { kind: 'unavailable'; meetingId: string; reason: UnavailableReason };

function viewFromPath(path: string): View {
  const route = routeFromPath(path);
  return route.kind === 'meeting' ? { kind: 'prejoin', meetingId: route.meetingId } : route;
}

function joinError(code: ErrorCode, message: string): string {
  switch (code) {
    case 'bad_request':
      return `The server did not accept that: ${message}`;
    case 'rate_limited':
      return 'Too many attempts. Please wait a moment and try again.';
    case 'forbidden':
      return 'The host key for this meeting is no longer valid. You can join as a participant.';
    default:
      return message;
  }
}

export function App() {
  const [view, setView] = useState<View>(() => viewFromPath(location.pathname));

  useEffect(() => {
    const onPop = () => setView(viewFromPath(location.pathname));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  useEffect(() => {
    const titles: Record<View['kind'], string> = {
      home: 'Parley: video meetings',
      notFound: 'Page not found · Parley',
      prejoin: 'Join meeting · Parley',
      room: 'Meeting · Parley',
      end: 'Parley',
      unavailable: 'Meeting unavailable · Parley',
    };
    document.title = titles[view.kind];
  }, [view.kind]);

  const goHome = useCallback(() => {
    history.pushState(null, '', '/');
    setView({ kind: 'home' });
  }, []);

  /** To a meeting's join page; fresh when its host just created it. */
  const toMeeting = useCallback((meetingId: string, fresh: boolean) => {
    history.pushState(null, '', meetingPath(meetingId));
    setView({ kind: 'prejoin', meetingId, fresh });
  }, []);

  const enterRoom = useCallback((entry: RoomEntry) => {
    const path = meetingPath(entry.meetingId);
    if (location.pathname !== path) history.pushState(null, '', path);
    setView((v) => ({ kind: 'room', entry, attempt: v.kind === 'room' ? v.attempt + 1 : 0 }));
  }, []);

  const onRoomFinished = useCallback((meetingId: string, phase: Phase, role: Role) => {
    const reason: EndReason =
      phase === 'ended'
        ? role === 'host'
          ? 'endedByYou'
          : 'ended'
        : phase === 'removed'
          ? 'removed'
          : phase === 'replaced'
            ? 'replaced'
            : 'left';
    if (phase === 'ended') forgetHostCredentials(meetingId);
    setView({ kind: 'end', meetingId, reason });
  }, []);

  const onJoinRefused = useCallback((meetingId: string, code: ErrorCode, message: string, asHost: boolean) => {
    switch (code) {
      case 'not_found':
        setView({ kind: 'unavailable', meetingId, reason: 'not_found' });
        return;
      case 'meeting_ended':
        forgetHostCredentials(meetingId);
        setView({ kind: 'unavailable', meetingId, reason: 'ended' });
        return;
      case 'meeting_locked':
        setView({ kind: 'unavailable', meetingId, reason: 'locked' });
        return;
      case 'meeting_full':
        setView({ kind: 'unavailable', meetingId, reason: 'full' });
        return;
      case 'denied':
        setView({ kind: 'unavailable', meetingId, reason: 'denied' });
        return;
      case 'lobby_timeout':
        setView({ kind: 'unavailable', meetingId, reason: 'lobbyTimeout' });
        return;
      case 'forbidden':
        if (!asHost) {
          // Without a host key, forbidden is the host's ban (docs/protocol.md, kick with ban).
          setView({ kind: 'unavailable', meetingId, reason: 'banned' });
          return;
        }
        forgetHostCredentials(meetingId);
        break;
    }
    setView({ kind: 'prejoin', meetingId, error: joinError(code, message) });
  }, []);

  switch (view.kind) {
    case 'home':
      return <Home onCreated={(meetingId) => toMeeting(meetingId, true)} onJoinCode={(meetingId) => toMeeting(meetingId, false)} />;
    case 'notFound':
      return (
        <Notice
          heading="Page not found"
          detail="There is nothing at this address. Check the link, or start or join a meeting from the home page."
          onHome={goHome}
        />
      );
    case 'prejoin':
      return (
        <PreJoin
          key={view.meetingId}
          meetingId={view.meetingId}
          initialError={view.error}
          fresh={view.fresh ?? false}
          hostCredentials={loadHostCredentials(view.meetingId)}
          onJoin={enterRoom}
          onUnavailable={(reason) => setView({ kind: 'unavailable', meetingId: view.meetingId, reason })}
          onHome={goHome}
        />
      );
    case 'room':
      return (
        <Room
          key={view.attempt}
          entry={view.entry}
          onFinished={(phase, role) => onRoomFinished(view.entry.meetingId, phase, role)}
          onJoinRefused={(code, message) => onJoinRefused(view.entry.meetingId, code, message, Boolean(view.entry.hostKey))}
          onMediaBlocked={() => setView({ kind: 'unavailable', meetingId: view.entry.meetingId, reason: 'mediaBlocked' })}
        />
      );
    case 'end':
      return (
        <EndScreen
          reason={view.reason}
          onHome={goHome}
          onRejoin={
            view.reason === 'left' || view.reason === 'replaced'
              ? () => setView({ kind: 'prejoin', meetingId: view.meetingId })
              : undefined
          }
        />
      );
    case 'unavailable':
      return (
        <Unavailable
          reason={view.reason}
          onHome={goHome}
          onRetry={() => setView({ kind: 'prejoin', meetingId: view.meetingId })}
        />
      );
  }
}
