import { describe, expect, it } from 'vitest';
import { bestTileWidth } from '../src/components/useGridLayout';

describe('tile layout', () => {
  it('gives one tile the whole height of a wide area', () => {
    // 1000x450: a 16:9 tile 800 wide is 450 high.
    expect(bestTileWidth(1000, 450, 1)).toBe(800);
  });

  it('puts two tiles side by side on a laptop screen', () => {
    const w = bestTileWidth(1200, 600, 2);
    expect(w).toBe(594); // (1200 - 12) / 2
  });

  it('stacks tiles in one column on a tall phone screen', () => {
    const w = bestTileWidth(374, 700, 3);
    expect(w).toBe(374);
    // Three rows of that width fit in the height.
    expect(3 * (w * 9) / 16 + 2 * 12).toBeLessThanOrEqual(700);
  });

  it('never lets tiles overflow the area', () => {
    const areas: [width: number, height: number, tiles: number][] = [
      [1280, 700, 5],
      [900, 500, 9],
      [600, 900, 7],
      [1920, 1000, 16],
    ];
    for (const [width, height, n] of areas) {
      const w = bestTileWidth(width, height, n);
      const cols = Math.max(1, Math.floor((width + 12) / (w + 12)));
      const rows = Math.ceil(n / cols);
      expect(rows * (w * 9) / 16 + (rows - 1) * 12).toBeLessThanOrEqual(height + 1);
    }
  });

  it('keeps a usable minimum size when there are very many tiles', () => {
    expect(bestTileWidth(800, 400, 100)).toBe(120);
  });
});
