// A measured distance as the studio shows it: metres once the scene has a
// scale, model units before.

import type { Vec3 } from '../levelled-world';

export interface ShownDistance {
  value: number;
  unit: 'm' | 'units';
  text: string;
}

export function distanceBetween(a: readonly number[], b: readonly number[]): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

export function shownDistance(a: Vec3, b: Vec3, metresPerUnit: number | null): ShownDistance {
  const units = distanceBetween(a, b);
  if (metresPerUnit) {
    const metres = units * metresPerUnit;
    return { value: metres, unit: 'm', text: `${formatNumber(metres)} m` };
  }
  return { value: units, unit: 'units', text: `${formatNumber(units)} units` };
}

/** Four significant digits, at least three decimals below 10 (what a tape measure would show). */
export function formatNumber(value: number): string {
  if (value === 0) return '0';
  const digits = Math.max(0, 3 - Math.floor(Math.log10(Math.abs(value))));
  return value.toFixed(Math.min(digits, 6));
}
