/**
 * IPv4/IPv6 parsing for `cidr`, without allocating per event: an address is parsed into a shared
 * scratch buffer of eight 16-bit words (IPv4 uses the first two).
 *
 * Accepted text follows event-ruler (CIDR.java), which only hands strings matching
 * `\d+\.\d+\.\d+\.\d+` or `[0-9a-fA-F:]*:[0-9a-fA-F:]*` to the address parser: dotted-quad IPv4 and
 * colon-hex IPv6 with at most one `::`, without zone ids or an embedded dotted IPv4 tail.
 */

/** Result of parsing: 4 or 6, or 0 when the text is not an address. */
export type IpVersion = 0 | 4 | 6;

const scratch = new Uint16Array(8);

/** A parsed CIDR block: version, prefix length and the masked network words. */
export interface CidrBlock {
  version: 4 | 6;
  bits: number;
  words: Uint16Array;
}

/**
 * Parses `text` into the scratch buffer (read it before the next call) and returns its version.
 * IPv4 octets are decimal 0-255 without leading zeros, so "010.0.0.1" is not an address.
 */
export function parseIp(text: string): IpVersion {
  return parseIpv4(text) ? 4 : parseIpv6(text) ? 6 : 0;
}

function parseIpv4(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let part = 0;
  let value = 0;
  let digits = 0;
  let hi = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : 46; // a virtual "." closes the last octet
    if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false; // leading zero
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return false;
    } else if (c === 46) {
      if (digits === 0 || part > 3) return false;
      if (part % 2 === 0) hi = value;
      else scratch[part >> 1] = (hi << 8) | value;
      part++;
      value = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  return part === 4;
}

function parseIpv6(s: string): boolean {
  const n = s.length;
  if (n < 2 || n > 39) return false;
  let words = 0;
  let gap = -1; // index in words where "::" stands
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (i === n) {
      scratch.fill(0);
      return true;
    }
  }
  for (;;) {
    let value = 0;
    let digits = 0;
    while (i < n) {
      const h = hexValue(s.charCodeAt(i));
      if (h < 0) break;
      value = (value << 4) | h;
      if (++digits > 4) return false;
      i++;
    }
    if (digits === 0 || words === 8) return false;
    scratch[words++] = value;
    if (i === n) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < n && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = words;
      i++;
      if (i === n) break;
    } else if (i === n) {
      return false; // trailing single ":"
    }
  }
  if (gap < 0) return words === 8;
  if (words > 7) return false;
  // Shift the words after "::" to the end and zero the gap.
  const tail = words - gap;
  for (let k = 0; k < tail; k++) scratch[7 - k] = scratch[words - 1 - k]!;
  for (let k = gap; k < 8 - tail; k++) scratch[k] = 0;
  return true;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Parses a CIDR block such as "10.0.0.0/24" or "2001:db8::/32", or returns a sentence saying
 * what is wrong. Prefix lengths follow event-ruler: 0-31 for IPv4 and 0-127 for IPv6 (it rejects
 * /32 and /128; a single address is matched with its exact string). Host bits set after the
 * prefix ("220.160.153.171/31") are accepted as event-ruler (and so EventBridge) accepts them: the
 * block is the masked one ("220.160.153.170/31").
 */
export function parseCidr(text: string): CidrBlock | string {
  const slash = text.indexOf("/");
  if (slash < 0 || slash !== text.lastIndexOf("/")) {
    return `malformed CIDR ${JSON.stringify(text)}; expected an address, "/" and a prefix length, e.g. "10.0.0.0/24"`;
  }
  const lengthText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lengthText)) {
    return `malformed CIDR ${JSON.stringify(text)}; the prefix length must be a whole number`;
  }
  const bits = Number(lengthText);
  const version = parseIp(text.slice(0, slash));
  if (version === 0) return `${JSON.stringify(text.slice(0, slash))} is not an IPv4 or IPv6 address`;
  const max = version === 4 ? 31 : 127;
  if (bits > max) {
    return `IPv${version} prefix length must be 0-${max}, got ${bits} (match a single address with its exact string)`;
  }
  const network = scratch.slice(0, version === 4 ? 2 : 8);
  maskWords(network, bits);
  return { version, bits, words: network };
}

function maskWords(words: Uint16Array, bits: number): void {
  for (let k = 0; k < words.length; k++) {
    const keep = Math.min(16, Math.max(0, bits - k * 16));
    words[k] = keep === 0 ? 0 : words[k]! & (0xffff << (16 - keep)) & 0xffff;
  }
}

/** True when `text` is an address of the block's version inside the block. */
export function inCidr(block: CidrBlock, text: string): boolean {
  if (parseIp(text) !== block.version) return false;
  let bits = block.bits;
  for (let k = 0; bits > 0; k++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if ((scratch[k]! & mask) !== block.words[k]) return false;
  }
  return true;
}
