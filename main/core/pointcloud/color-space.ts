// sRGB <-> linear colour, for glTF's COLOR_0.
//
// The studio's colours are sRGB bytes (what photos and PLY files hold, what
// the viewer shows). glTF defines COLOR_0 as *linear* (glTF 2.0 §3.7.2.1), and
// three.js and Blender convert it to sRGB for display: writing sRGB bytes
// there makes a stored 90 show as 160. So the GLB writer converts to linear
// and the reader converts back. Linear values are written as normalized
// uint16, not uint8: 8-bit linear cannot tell the darkest sRGB steps apart
// (sRGB 1..12 are all below 1/255 linear), 16-bit keeps every byte exact.

/** IEC 61966-2-1 transfer function, 0..1 -> 0..1. */
export function srgbToLinear(srgb: number): number {
  return srgb <= 0.04045 ? srgb / 12.92 : ((srgb + 0.055) / 1.055) ** 2.4;
}

export function linearToSrgb(linear: number): number {
  return linear <= 0.0031308 ? linear * 12.92 : 1.055 * linear ** (1 / 2.4) - 0.055;
}

/** sRGB byte -> linear as normalized uint16 (what the GLB writer stores). */
export const SRGB_BYTE_TO_LINEAR_U16: Uint16Array = Uint16Array.from({ length: 256 }, (_, byte) =>
  Math.round(srgbToLinear(byte / 255) * 65535),
);

let linearU16ToSrgb: Uint8Array | null = null;

/** Normalized uint16 linear -> sRGB byte, through a table built on first use (64 KB). */
export function linearU16ToSrgbByte(value: number): number {
  if (!linearU16ToSrgb)
    linearU16ToSrgb = Uint8Array.from({ length: 65536 }, (_, v) =>
      Math.round(Math.min(1, Math.max(0, linearToSrgb(v / 65535))) * 255),
    );
  return linearU16ToSrgb[value];
}

/** Linear 0..1 (any precision) -> sRGB byte; out-of-range values are clamped. */
export function linearToSrgbByte(linear: number): number {
  if (!(linear > 0)) return 0; // also NaN
  if (linear >= 1) return 255;
  return linearU16ToSrgbByte(Math.round(linear * 65535));
}
