// The local camera and microphone: getting them (the remembered devices first) with graceful
// fallbacks, and saying in plain words what is missing and how to fix it. Knows nothing of the
// protocol or the peer connections.

export interface LocalMedia {
  /** Holds whatever tracks could be had: both, one, or none. */
  stream: MediaStream;
  /** Why a device is missing, for the person to read; null when both are there. */
  warning: string | null;
}

/** The devices to ask for first; undefined for the browser's default. */
export interface DeviceIds {
  audioinput?: string | undefined;
  videoinput?: string | undefined;
}

// 720p: enough for the camera's three simulcast layers (browsers send fewer from a smaller
// picture), and the full layer is what a large tile shows.
const videoConstraints: MediaTrackConstraints = {
  width: { ideal: 1280 },
  height: { ideal: 720 },
  frameRate: { ideal: 24 },
};

const audioConstraints: MediaTrackConstraints = {
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
};

export type MediaProblem = 'denied' | 'missing' | 'busy' | 'other';

export function describeMediaError(err: unknown): MediaProblem {
  const name = err instanceof Error || err instanceof DOMException ? err.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'missing';
  if (name === 'NotReadableError' || name === 'AbortError') return 'busy';
  return 'other';
}

/** Which browser's settings to describe: they hide the permission in different places. */
export type BrowserFamily = 'firefox' | 'safari' | 'chromium';

export function browserFamily(userAgent: string = navigator.userAgent): BrowserFamily {
  if (userAgent.includes('Firefox/')) return 'firefox';
  if (userAgent.includes('Safari/') && !/Chrome\/|Chromium\//.test(userAgent)) return 'safari';
  return 'chromium';
}

/** How to let this page use a blocked device, in the words of the browser's own settings. */
export function howToAllow(device: 'camera' | 'microphone' | 'camera and microphone', browser: BrowserFamily): string {
  switch (browser) {
    case 'firefox':
      return `To allow it, select the ${device} icon at the left of the address bar, clear the "Blocked" setting, then reload this page.`;
    case 'safari':
      return `To allow it, open Safari > Settings for This Website, set the ${device} to Allow, then reload this page.`;
    case 'chromium':
      return `To allow it, select the icon at the left of the address bar (or the blocked-${device.split(' ')[0] ?? device} icon at its right), allow the ${device}, then reload this page.`;
  }
}

/** One device's problem in a sentence. */
export function problemText(device: 'Camera' | 'Microphone', why: MediaProblem): string {
  const d = device.toLowerCase();
  switch (why) {
    case 'denied':
      return `Your browser is blocking the ${d}`;
    case 'missing':
      return `No ${d} was found`;
    case 'busy':
      return `The ${d} is in use by another program`;
    default:
      return `The ${d} could not be started`;
  }
}

/** The warning for whatever could not be had, with what it means and how to fix a block. */
export function mediaWarning(
  audio: MediaProblem | null,
  video: MediaProblem | null,
  browser: BrowserFamily,
): string | null {
  if (!audio && !video) return null;
  const lowerFirst = (t: string) => t.charAt(0).toLowerCase() + t.slice(1);
  const sentence =
    audio === 'denied' && video === 'denied'
      ? 'Your browser is blocking the camera and microphone'
      : [audio && problemText('Microphone', audio), video && problemText('Camera', video)]
          .filter((t): t is string => Boolean(t))
          .map((t, i) => (i === 0 ? t : lowerFirst(t)))
          .join(', and ');
  const consequence =
    audio && video
      ? 'You will join without camera and microphone.'
      : video
        ? 'You will join without video.'
        : 'You will join without sound.';
  const blocked =
    audio === 'denied' && video === 'denied'
      ? 'camera and microphone'
      : audio === 'denied'
        ? 'microphone'
        : video === 'denied'
          ? 'camera'
          : null;
  return [`${sentence}. ${consequence}`, blocked ? howToAllow(blocked, browser) : null].filter(Boolean).join(' ');
}

/** The stream, or what getUserMedia threw instead. */
async function tryGet(constraints: MediaStreamConstraints): Promise<unknown> {
  try {
    return await navigator.mediaDevices.getUserMedia(constraints);
  } catch (err) {
    return err;
  }
}

function withDevice(base: MediaTrackConstraints, deviceId: string | undefined, exact = false): MediaTrackConstraints {
  if (!deviceId) return base;
  return { ...base, deviceId: exact ? { exact: deviceId } : { ideal: deviceId } };
}

/** Asks for camera and microphone; whatever fails, it resolves with what could be had. */
export async function acquireLocalMedia(ids: DeviceIds = {}): Promise<LocalMedia> {
  // Browsers leave mediaDevices out on pages that are not secure, whatever the DOM types say.
  const devices = navigator.mediaDevices as MediaDevices | undefined;
  if (!devices) {
    return {
      stream: new MediaStream(),
      warning:
        'This page cannot use a camera or microphone here (they need https or localhost). You can still join to watch and listen.',
    };
  }
  // The remembered devices exactly (browsers may pass over an "ideal" one); if one of them is
  // gone, whatever the browser offers.
  let both = await tryGet({
    audio: withDevice(audioConstraints, ids.audioinput, true),
    video: withDevice(videoConstraints, ids.videoinput, true),
  });
  if (!(both instanceof MediaStream) && (ids.audioinput || ids.videoinput)) {
    both = await tryGet({ audio: audioConstraints, video: videoConstraints });
  }
  if (both instanceof MediaStream) return { stream: both, warning: null };
  const audioC = audioConstraints;
  const videoC = videoConstraints;

  // One device may still work on its own: ask for each separately.
  const audio = await tryGet({ audio: audioC });
  const video = await tryGet({ video: videoC });
  const stream = new MediaStream();
  if (audio instanceof MediaStream) audio.getTracks().forEach((t) => stream.addTrack(t));
  if (video instanceof MediaStream) video.getTracks().forEach((t) => stream.addTrack(t));
  return {
    stream,
    warning: mediaWarning(
      audio instanceof MediaStream ? null : describeMediaError(audio),
      video instanceof MediaStream ? null : describeMediaError(video),
      browserFamily(),
    ),
  };
}

/** A fresh camera track: turning the camera back on, or switching to another camera. */
export async function acquireCamera(deviceId?: string): Promise<MediaStreamTrack> {
  const s = await navigator.mediaDevices.getUserMedia({ video: withDevice(videoConstraints, deviceId, true) });
  const track = s.getVideoTracks()[0];
  // getUserMedia resolves only with the tracks asked for; this is a broken browser, said plainly.
  if (!track) throw new Error('The camera gave no video.');
  return track;
}

/** A fresh microphone track, for switching to another microphone. */
export async function acquireMicrophone(deviceId?: string): Promise<MediaStreamTrack> {
  const s = await navigator.mediaDevices.getUserMedia({ audio: withDevice(audioConstraints, deviceId, true) });
  const track = s.getAudioTracks()[0];
  if (!track) throw new Error('The microphone gave no sound.');
  return track;
}

/** A device that could not be switched on, in a sentence with how to fix a block. */
export function deviceErrorText(device: 'Camera' | 'Microphone', err: unknown): string {
  const why = describeMediaError(err);
  const text = `${problemText(device, why)}.`;
  return why === 'denied'
    ? `${text} ${howToAllow(device === 'Camera' ? 'camera' : 'microphone', browserFamily())}`
    : text;
}

export function stopStream(stream: MediaStream | null | undefined): void {
  stream?.getTracks().forEach((t) => t.stop());
}
