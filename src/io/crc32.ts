// CRC-32 (IEEE 802.3 polynomial, reflected, as zlib and PNG), shared by the model-file container and the PNG codec.

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32 of `bytes`. Pass a previous result as `seed` to continue it: `crc32(b, crc32(a))` equals
 * `crc32(a ++ b)`. Returns an unsigned 32-bit integer.
 */
export function crc32(bytes: Uint8Array, seed = 0): number {
  let c = ~seed;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
