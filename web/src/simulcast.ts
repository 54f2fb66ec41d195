// The camera as simulcast (PROTOCOL.md 1.1, "Simulcast and quality"): three encodings of one
// picture, a quarter, half and full resolution (RIDs q, h, f, lowest first), so that the server
// can send each receiver the one that fits its tile and its link. The server says which layers
// someone needs (publisherLayers); the others are switched off here (encodings[i].active) so the
// browser does not spend CPU and uplink on them. Knows nothing of the signaling connection.

/** The camera's layers, lowest first. The bitrates are what each size looks good at. */
export const cameraLayers: readonly RTCRtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

/**
 * Adds the camera's send-only transceiver, as three simulcast encodings where the browser takes
 * them and as one stream where it does not (it throws, or keeps a single encoding).
 */
export function addCameraTransceiver(pc: RTCPeerConnection, track: MediaStreamTrack | null, stream: MediaStream): RTCRtpSender {
  try {
    return pc.addTransceiver(track ?? 'video', {
      direction: 'sendonly',
      streams: [stream],
      sendEncodings: cameraLayers.map((l) => ({ ...l })),
    }).sender;
  } catch (err) {
    console.warn('simulcast is not available; sending one stream', err);
    return pc.addTransceiver(track ?? 'video', { direction: 'sendonly', streams: [stream] }).sender;
  }
}

/** Whether the sender sends more than one encoding. */
export function isSimulcast(sender: RTCRtpSender): boolean {
  return sender.getParameters().encodings.length > 1;
}

/** The encodings' changes, one after another: setParameters needs the latest getParameters. */
const pending = new WeakMap<RTCRtpSender, Promise<void>>();

/**
 * Sends only the layers in active (RIDs): the others are switched off until a later call lists
 * them again. A sender of one encoding is left alone.
 */
export function setActiveLayers(sender: RTCRtpSender, active: readonly string[]): Promise<void> {
  const run = async () => {
    const params = sender.getParameters();
    if (params.encodings.length <= 1) return;
    let changed = false;
    for (const enc of params.encodings) {
      const on = enc.rid !== undefined && active.includes(enc.rid);
      if (enc.active !== on) {
        enc.active = on;
        changed = true;
      }
    }
    if (changed) await sender.setParameters(params);
  };
  const next = (pending.get(sender) ?? Promise.resolve()).then(run).catch((err: unknown) => {
    console.warn('could not switch simulcast layers', err);
  });
  pending.set(sender, next);
  return next;
}
