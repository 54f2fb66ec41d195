import { useLayoutEffect, useState, type RefObject } from 'react';

export const gridGap = 12;
const widest = 16 / 9;
/** The narrowest tile on a wide area (4:3) and on a tall one (9:16, a phone held upright). */
const narrowestWide = 4 / 3;
const narrowestTall = 9 / 16;
const minWidth = 120;

export interface TileSize {
  width: number;
  height: number;
  columns: number;
}

/**
 * The tile size that covers the most of a width x height area with n tiles in a grid. Tiles may
 * be anything from 16:9 down to 4:3 on a wide area and 9:16 on a tall one (videos are cropped to
 * fit), so that a phone shows two columns of tall tiles rather than a thin column of wide ones.
 */
export function bestTileSize(width: number, height: number, n: number): TileSize {
  const narrowest = height > width ? narrowestTall : narrowestWide;
  let best: TileSize = { width: minWidth, height: Math.round(minWidth / widest), columns: 1 };
  let bestArea = 0;
  const count = Math.max(1, n);
  for (let cols = 1; cols <= count; cols++) {
    const rows = Math.ceil(count / cols);
    const cellW = (width - gridGap * (cols - 1)) / cols;
    const cellH = (height - gridGap * (rows - 1)) / rows;
    if (cellW <= 0 || cellH <= 0) continue;
    const aspect = Math.min(widest, Math.max(narrowest, cellW / cellH));
    const w = Math.min(cellW, cellH * aspect);
    const h = w / aspect;
    if (w * h > bestArea + 0.5) {
      bestArea = w * h;
      best = { width: Math.floor(w), height: Math.floor(h), columns: cols };
    }
  }
  if (best.width < minWidth) {
    return { width: minWidth, height: Math.round(minWidth / (best.width / Math.max(1, best.height))), columns: best.columns };
  }
  return best;
}

/** Measures the grid and says how large each tile should be. */
export function useGridLayout(ref: RefObject<HTMLElement | null>, n: number): TileSize | undefined {
  const [size, setSize] = useState<TileSize>();
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      const style = getComputedStyle(el);
      const w = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      const h = el.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
      if (w > 0 && h > 0) {
        const next = bestTileSize(w, h, n);
        setSize((prev) =>
          prev?.width === next.width && prev.height === next.height && prev.columns === next.columns ? prev : next,
        );
      }
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref, n]);
  return size;
}
