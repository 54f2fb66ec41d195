import { describe, expect, it } from 'vitest';
import { bestTileSize, gridGap } from '../src/components/useGridLayout';

/** How many rows the tiles take when as many columns as fit are used. */
function fits(width: number, height: number, n: number) {
  const t = bestTileSize(width, height, n);
  const rows = Math.ceil(n / t.columns);
  return {
    t,
    width: t.columns * t.width + (t.columns - 1) * gridGap,
    height: rows * t.height + (rows - 1) * gridGap,
  };
}

describe('tile layout', () => {
  it('gives one tile the whole height of a wide area, at 16:9', () => {
    expect(bestTileSize(1000, 450, 1)).toEqual({ width: 800, height: 450, columns: 1 });
  });

  it('puts two tiles side by side on a laptop screen', () => {
    const t = bestTileSize(1200, 600, 2);
    expect(t.columns).toBe(2);
    expect(t.width).toBe(594); // (1200 - 12) / 2
  });

  it('fills a phone with two columns of tall tiles for 6 people', () => {
    // A 390x844 phone: the grid gets about 374x680 between the bars.
    const { t, width, height } = fits(374, 680, 6);
    expect(t.columns).toBe(2);
    expect(t.height).toBeGreaterThanOrEqual(t.width); // upright tiles, as the screen is
    // More than three quarters of the area is video, where 16:9 in one column used under half.
    expect((6 * t.width * t.height) / (374 * 680)).toBeGreaterThan(0.75);
    expect(width).toBeLessThanOrEqual(374);
    expect(height).toBeLessThanOrEqual(680);
  });

  it('keeps tiles no narrower than 4:3 on a wide area', () => {
    const t = bestTileSize(1280, 620, 3);
    expect(t.width / t.height).toBeGreaterThanOrEqual(4 / 3 - 0.01);
  });

  it('never lets tiles overflow the area', () => {
    const areas: [width: number, height: number, tiles: number][] = [
      [1280, 700, 5],
      [900, 500, 9],
      [600, 900, 7],
      [1920, 1000, 16],
      [374, 680, 2],
      [374, 680, 3],
    ];
    for (const [w, h, n] of areas) {
      const f = fits(w, h, n);
      expect(f.width).toBeLessThanOrEqual(w + 1);
      expect(f.height).toBeLessThanOrEqual(h + 1);
    }
  });

  it('keeps a usable minimum size when there are very many tiles', () => {
    expect(bestTileSize(800, 400, 100).width).toBe(120);
  });
});
