import { useLayoutEffect, useState, type RefObject } from 'react';

const aspect = 16 / 9;
const gap = 12;

/** The tile width that fills the container best with n tiles of 16:9 in a grid. */
export function bestTileWidth(width: number, height: number, n: number): number {
  let best = 0;
  for (let cols = 1; cols <= Math.max(1, n); cols++) {
    const rows = Math.ceil(n / cols);
    const w = Math.min((width - gap * (cols - 1)) / cols, ((height - gap * (rows - 1)) / rows) * aspect);
    if (w > best) best = w;
  }
  return Math.max(120, Math.floor(best));
}

/** Measures the grid and says how wide each tile should be. */
export function useGridLayout(ref: RefObject<HTMLElement | null>, n: number): number | undefined {
  const [width, setWidth] = useState<number>();
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      const style = getComputedStyle(el);
      const w = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      const h = el.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
      if (w > 0 && h > 0) setWidth(bestTileWidth(w, h, n));
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref, n]);
  return width;
}
