/**
 * A mail's bytes in its declared charset, as text. Node's TextDecoder reads windows-1252 (the
 * charset of many Windows mailers) as ISO-8859-1, so its 0x80-0x9f (“ ” ’ € –) came out as C1
 * control characters where git am gives the characters (verify-16 F6): those 32 bytes are
 * mapped here. ISO-8859-1 stays ISO-8859-1, as iconv (and with it git am) reads it.
 */

/** windows-1252's 0x80-0x9f (0 where the charset has no character: kept as the byte's C1 control). */
const CP1252_HIGH = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0, 0, 0x2018, 0x2019,
  0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
];

/** `bytes` decoded as `charset`; null for a charset Node does not know. */
export function decodeCharset(bytes: Uint8Array, charset: string): string | null {
  const name = charset.trim().toLowerCase();
  if (/^(windows-1252|cp-?1252|x-cp1252)$/.test(name)) {
    let out = "";
    for (const b of bytes) out += String.fromCharCode(b >= 0x80 && b <= 0x9f && CP1252_HIGH[b - 0x80] ? CP1252_HIGH[b - 0x80] : b);
    return out;
  }
  try {
    return new TextDecoder(name).decode(bytes);
  } catch {
    return null;
  }
}
