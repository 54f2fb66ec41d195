import { Dialog } from './Dialog';
import { DevicePickers } from './DevicePickers';

/** The meeting's settings: devices (with the microphone's level), sounds, self-view. */
export function SettingsDialog({
  microphone,
  micMuted,
  cameraId,
  speakerId,
  onMicrophone,
  onCamera,
  onSpeaker,
  deviceError,
  sounds,
  onSounds,
  hideSelf,
  onHideSelf,
  onClose,
}: {
  microphone: MediaStreamTrack | null;
  micMuted: boolean;
  cameraId: string | undefined;
  speakerId: string | undefined;
  onMicrophone: (deviceId: string, label: string) => void;
  onCamera: (deviceId: string, label: string) => void;
  onSpeaker: (deviceId: string, label: string) => void;
  deviceError: string | null;
  sounds: boolean;
  onSounds: (on: boolean) => void;
  hideSelf: boolean;
  onHideSelf: (hide: boolean) => void;
  onClose: () => void;
}) {
  return (
    <Dialog title="Settings" onClose={onClose} className="wide">
      <div className="stack">
        <DevicePickers
          microphone={microphone}
          micMuted={micMuted}
          cameraId={cameraId}
          speakerId={speakerId}
          onMicrophone={onMicrophone}
          onCamera={onCamera}
          onSpeaker={onSpeaker}
        />
        {deviceError && (
          <p className="warning" role="status">
            {deviceError}
          </p>
        )}
        <label className="check">
          <input type="checkbox" checked={sounds} onChange={(e) => onSounds(e.target.checked)} />
          <span>Play a sound when the timer ends</span>
        </label>
        <label className="check">
          <input type="checkbox" checked={hideSelf} onChange={(e) => onHideSelf(e.target.checked)} />
          <span>Hide self-view</span>
        </label>
      </div>
      <div className="dialog-actions">
        <button type="button" className="primary" onClick={onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}
