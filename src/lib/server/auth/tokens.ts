import { createHash, randomBytes } from 'node:crypto';

/** Personal API tokens carry a prefix, so they are recognisable in a script or a leak scanner. */
export const API_TOKEN_PREFIX = 'pxs7_';

/** 160 random bits, base32 (lower case, no padding), as in Lucia's session guide. */
export function generateToken(prefix = ''): string {
	const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
	const bytes = randomBytes(20);
	let bits = 0;
	let value = 0;
	let out = '';
	for (const byte of bytes) {
		value = (value << 8) | byte;
		bits += 8;
		while (bits >= 5) {
			out += alphabet[(value >>> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	return prefix + out;
}

/** Only this digest is stored; a database leak does not hand out working tokens. */
export function hashToken(token: string): string {
	return createHash('sha256').update(token).digest('hex');
}
