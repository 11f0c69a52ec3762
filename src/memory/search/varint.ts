/** Unsigned LEB128 varints: the postings' encoding (doc delta, weighted tf). */

export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    buf[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[pos++] = v;
  return pos;
}

export function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let x = buf[pos++];
  let v = x & 0x7f;
  let shift = 7;
  while (x & 0x80) {
    x = buf[pos++];
    v += (x & 0x7f) * 2 ** shift;
    shift += 7;
  }
  return [v, pos];
}
