/**
 * Colour contrast as WCAG 2 defines it (relative luminance, ratio 1–21). The Insights webview
 * uses it to keep a high-contrast theme's chart colours legible, and the UI test to assert they
 * are. Pure: parses the forms a browser's computed style and canvas give back (#rgb, #rrggbb,
 * #rrggbbaa, rgb(), rgba()).
 */

export interface Rgba {
  r: number;
  g: number;
  b: number;
  /** 0–1. */
  a: number;
}

/** WCAG 1.4.11: graphical objects (bars, lines, outlines) need 3:1 against what is next to them. */
export const GRAPHICS_CONTRAST = 3;
/** WCAG 1.4.3: text (axis ticks, legends) needs 4.5:1. */
export const TEXT_CONTRAST = 4.5;

export function parseColor(css: string): Rgba | undefined {
  const s = css.trim().toLowerCase();
  const hex = /^#([0-9a-f]{3,8})$/.exec(s)?.[1];
  if (hex && [3, 4, 6, 8].includes(hex.length)) {
    const pairs = hex.length <= 4 ? [...hex].map((d) => d + d) : (hex.match(/../g) ?? []);
    const [r, g, b, a = 255] = pairs.map((d) => parseInt(d, 16));
    return { r, g, b, a: a / 255 };
  }
  const fn = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)$/.exec(s);
  if (fn) {
    const alpha = fn[4] === undefined ? 1 : fn[4].endsWith('%') ? parseFloat(fn[4]) / 100 : parseFloat(fn[4]);
    return { r: Number(fn[1]), g: Number(fn[2]), b: Number(fn[3]), a: alpha };
  }
  return undefined;
}

/** `top` painted over an opaque `bottom` (a translucent colour's look on the background). */
function over(top: Rgba, bottom: Rgba): Rgba {
  const mix = (t: number, b: number): number => t * top.a + b * (1 - top.a);
  return { r: mix(top.r, bottom.r), g: mix(top.g, bottom.g), b: mix(top.b, bottom.b), a: 1 };
}

export function relativeLuminance({ r, g, b }: Rgba): number {
  const channel = (v: number): number => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

/** The contrast ratio of `fg` on `bg` (1–21); throws on a colour it cannot read. */
export function contrastRatio(fg: string, bg: string): number {
  const back = parseColor(bg);
  const front = parseColor(fg);
  if (!back || !front) throw new Error(`cannot read the colour ${back ? fg : bg}`);
  const opaqueBack = back.a < 1 ? over(back, { r: 255, g: 255, b: 255, a: 1 }) : back;
  const [l1, l2] = [relativeLuminance(over(front, opaqueBack)), relativeLuminance(opaqueBack)].sort((x, y) => y - x);
  return (l1 + 0.05) / (l2 + 0.05);
}
