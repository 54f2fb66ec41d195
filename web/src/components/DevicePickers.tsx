import { useEffect, useId, useState } from 'react';
import { deviceOptions, type DeviceInfo, type DeviceKind } from '../devices';
import { MicLevel } from './MicLevel';
import './DevicePickers.css';

/** Whether this browser can send sound to a chosen speaker. */
export const canPickSpeaker = typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

/**
 * The devices present now, kept up to date as they are plugged in and out, and asked again when
 * refreshKey changes: browsers name the devices only once the page may use them.
 */
function useDevices(refreshKey: string): DeviceInfo[] {
  const [devices, setDevices] = useState<DeviceInfo[]>([]);
  useEffect(() => {
    const md = navigator.mediaDevices as MediaDevices | undefined;
    if (!md) return;
    let active = true;
    const load = () => {
      md.enumerateDevices().then(
        (list) => {
          if (active) setDevices(list.map((d) => ({ deviceId: d.deviceId, kind: d.kind, label: d.label })));
        },
        () => undefined,
      );
    };
    load();
    md.addEventListener('devicechange', load);
    return () => {
      active = false;
      md.removeEventListener('devicechange', load);
    };
  }, [refreshKey]);
  return devices;
}

function Picker({
  label,
  kind,
  devices,
  value,
  onPick,
  disabled,
}: {
  label: string;
  kind: DeviceKind;
  devices: DeviceInfo[];
  value: string | undefined;
  onPick: (deviceId: string, label: string) => void;
  disabled: boolean;
}) {
  const id = useId();
  const options = deviceOptions(devices, kind);
  if (options.length === 0) return null;
  const current = options.some((o) => o.value === value) ? value : undefined;
  return (
    <div className="picker">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={current ?? ''}
        disabled={disabled}
        onChange={(e) => {
          const chosen = options.find((o) => o.value === e.target.value);
          if (chosen) onPick(chosen.value, chosen.label);
        }}
      >
        {current === undefined && <option value="">Default</option>}
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/**
 * Microphone, camera and speaker pickers with the microphone's live level: on the join page and
 * in the meeting's settings. What a pick does (a new track, a new sink) belongs to the caller.
 */
export function DevicePickers({
  microphone,
  micMuted,
  cameraId,
  speakerId,
  onMicrophone,
  onCamera,
  onSpeaker,
  busy = false,
}: {
  microphone: MediaStreamTrack | null;
  micMuted: boolean;
  cameraId: string | undefined;
  speakerId: string | undefined;
  onMicrophone: (deviceId: string, label: string) => void;
  onCamera: (deviceId: string, label: string) => void;
  onSpeaker: (deviceId: string, label: string) => void;
  busy?: boolean;
}) {
  const micId = microphone?.getSettings().deviceId;
  const devices = useDevices(`${micId ?? ''}|${cameraId ?? ''}`);
  return (
    <div className="devices">
      <Picker label="Microphone" kind="audioinput" devices={devices} value={micId} onPick={onMicrophone} disabled={busy} />
      <MicLevel track={microphone} muted={micMuted} />
      <Picker label="Camera" kind="videoinput" devices={devices} value={cameraId} onPick={onCamera} disabled={busy} />
      {canPickSpeaker && (
        <Picker label="Speaker" kind="audiooutput" devices={devices} value={speakerId} onPick={onSpeaker} disabled={busy} />
      )}
    </div>
  );
}
