// Capturing a screen to share: the browser's picker (getDisplayMedia), with the screen's sound
// where the browser offers it. A test-only switch stands in for the picker where a browser
// cannot capture a display (a headless one): a page that sets `window.parleyTestScreen = true`
// before the room starts shares an animated canvas instead (its captureStream), so that
// everything from the offer on is the real path.

declare global {
  interface Window {
    parleyTestScreen?: boolean;
  }
}

/** Asks for a screen to share; rejects when the person cancels or the browser cannot. */
export async function acquireScreen(): Promise<MediaStream> {
  if (window.parleyTestScreen) return canvasScreen();
  return navigator.mediaDevices.getDisplayMedia({ video: true, audio: true });
}

/** A moving picture from a canvas, standing in for a screen in tests. */
function canvasScreen(): MediaStream {
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 360;
  const ctx = canvas.getContext('2d');
  let frame = 0;
  const draw = () => {
    if (!ctx) return;
    frame++;
    ctx.fillStyle = '#1d3557';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = '#f1faee';
    ctx.font = '32px sans-serif';
    ctx.fillText(`Shared screen ${frame}`, 40, 180);
  };
  draw();
  const stream = canvas.captureStream(15);
  const timer = setInterval(draw, 66);
  stream.getVideoTracks()[0]?.addEventListener('ended', () => clearInterval(timer));
  // A stopped track fires no "ended" on itself: stop drawing when it stops.
  const track = stream.getVideoTracks()[0];
  if (track) {
    const stop = track.stop.bind(track);
    track.stop = () => {
      clearInterval(timer);
      stop();
    };
  }
  return stream;
}
