import { useState } from 'react';
import { Dialog } from './Dialog';

/** "Mute all" with its one choice made in the same step: may people unmute themselves? */
export function MuteAllDialog({
  onMute,
  onCancel,
}: {
  onMute: (allowSelfUnmute: boolean) => void;
  onCancel: () => void;
}) {
  const [allow, setAllow] = useState(false);
  return (
    <Dialog
      title="Mute everyone?"
      description="Everyone but you is muted at once. Their sound stops at the server, whatever their device does."
      onClose={onCancel}
    >
      <label className="check">
        <input type="checkbox" checked={allow} onChange={(e) => setAllow(e.target.checked)} />
        <span>Allow participants to unmute themselves</span>
      </label>
      <div className="dialog-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="primary" onClick={() => onMute(allow)}>
          Mute all
        </button>
      </div>
    </Dialog>
  );
}
