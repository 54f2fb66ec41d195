import { useEffect, useEffectEvent, type RefObject } from 'react';
import type { Quality } from '../protocol';
import { qualityForWidth } from '../quality';

/**
 * Watches how a remote video is shown and reports the quality it needs (quality.ts): its width
 * on screen in device pixels, the floating window's width while it plays picture-in-picture, and
 * off while it is scrolled out of view or the tab is hidden. Nothing is reported while shown is
 * false (no picture: the camera is off or has not arrived), so a camera switched back on comes
 * back at the quality it had.
 */
export function useVideoQuality(
  video: RefObject<HTMLVideoElement | null>,
  shown: boolean,
  onQuality: ((quality: Quality) => void) | undefined,
): void {
  const report = useEffectEvent((q: Quality) => onQuality?.(q));
  const enabled = shown && onQuality !== undefined;

  useEffect(() => {
    const v = video.current;
    if (!v || !enabled) return;
    let width = v.getBoundingClientRect().width;
    let onScreen = true;
    let pipWindow: PictureInPictureWindow | null = null;
    const update = () => {
      if (pipWindow !== null && document.pictureInPictureElement === v) {
        report(qualityForWidth(pipWindow.width * devicePixelRatio));
      } else if (document.visibilityState === 'hidden' || !onScreen) {
        report('off');
      } else {
        report(qualityForWidth(width * devicePixelRatio));
      }
    };
    const resized = new ResizeObserver((entries) => {
      for (const e of entries) width = e.contentRect.width;
      update();
    });
    resized.observe(v);
    const seen = new IntersectionObserver((entries) => {
      for (const e of entries) onScreen = e.isIntersecting;
      update();
    });
    seen.observe(v);
    const onPipResize = () => update();
    const onEnterPip = (e: Event) => {
      pipWindow = (e as PictureInPictureEvent).pictureInPictureWindow;
      pipWindow.addEventListener('resize', onPipResize);
      update();
    };
    const onLeavePip = () => {
      pipWindow?.removeEventListener('resize', onPipResize);
      pipWindow = null;
      update();
    };
    v.addEventListener('enterpictureinpicture', onEnterPip);
    v.addEventListener('leavepictureinpicture', onLeavePip);
    document.addEventListener('visibilitychange', update);
    update();
    return () => {
      resized.disconnect();
      seen.disconnect();
      pipWindow?.removeEventListener('resize', onPipResize);
      v.removeEventListener('enterpictureinpicture', onEnterPip);
      v.removeEventListener('leavepictureinpicture', onLeavePip);
      document.removeEventListener('visibilitychange', update);
    };
  }, [video, enabled]);
}
