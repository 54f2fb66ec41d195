// The local camera and microphone: getting them with graceful fallbacks, and saying in plain words
// what is missing. Knows nothing of the protocol or the peer connections.

export interface LocalMedia {
  /** Holds whatever tracks could be had: both, one, or none. */
  stream: MediaStream;
  /** Why a device is missing, for the person to read; null when both are there. */
  warning: string | null;
}

const videoConstraints: MediaTrackConstraints = {
  width: { ideal: 640 },
  height: { ideal: 360 },
  frameRate: { ideal: 24 },
};

const audioConstraints: MediaTrackConstraints = {
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
};

function describe(err: unknown): 'denied' | 'missing' | 'busy' | 'other' {
  const name = err instanceof Error || err instanceof DOMException ? err.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'missing';
  if (name === 'NotReadableError' || name === 'AbortError') return 'busy';
  return 'other';
}

/** The stream, or what getUserMedia threw instead. */
async function tryGet(constraints: MediaStreamConstraints): Promise<unknown> {
  try {
    return await navigator.mediaDevices.getUserMedia(constraints);
  } catch (err) {
    return err;
  }
}

function deviceWarning(device: string, why: ReturnType<typeof describe>): string {
  switch (why) {
    case 'denied':
      return `${device} access was not allowed`;
    case 'missing':
      return `no ${device.toLowerCase()} was found`;
    case 'busy':
      return `the ${device.toLowerCase()} is in use by another program`;
    default:
      return `the ${device.toLowerCase()} could not be started`;
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Asks for camera and microphone; whatever fails, it resolves with what could be had. */
export async function acquireLocalMedia(): Promise<LocalMedia> {
  // Browsers leave mediaDevices out on pages that are not secure, whatever the DOM types say.
  const devices = navigator.mediaDevices as MediaDevices | undefined;
  if (!devices) {
    return {
      stream: new MediaStream(),
      warning:
        'This page cannot use a camera or microphone here (they need https or localhost). You can still join to watch and listen.',
    };
  }
  const both = await tryGet({ audio: audioConstraints, video: videoConstraints });
  if (both instanceof MediaStream) return { stream: both, warning: null };

  // One device may still work on its own: ask for each separately.
  const audio = await tryGet({ audio: audioConstraints });
  const video = await tryGet({ video: videoConstraints });
  const stream = new MediaStream();
  const problems: string[] = [];
  if (audio instanceof MediaStream) audio.getTracks().forEach((t) => stream.addTrack(t));
  else problems.push(deviceWarning('Microphone', describe(audio)));
  if (video instanceof MediaStream) video.getTracks().forEach((t) => stream.addTrack(t));
  else problems.push(deviceWarning('Camera', describe(video)));

  const consequence =
    problems.length === 2
      ? 'You will join without camera and microphone.'
      : !(video instanceof MediaStream)
        ? 'You will join without video.'
        : 'You will join without sound.';
  return { stream, warning: `${capitalize(problems.join(' and '))}. ${consequence}` };
}

/** A fresh camera track, for turning the camera back on after it was stopped. */
export async function acquireCamera(): Promise<MediaStreamTrack> {
  const s = await navigator.mediaDevices.getUserMedia({ video: videoConstraints });
  const track = s.getVideoTracks()[0];
  // getUserMedia resolves only with the tracks asked for; this is a broken browser, said plainly.
  if (!track) throw new Error('The camera gave no video.');
  return track;
}

export function stopStream(stream: MediaStream | null | undefined): void {
  stream?.getTracks().forEach((t) => t.stop());
}
