import { describe, expect, it } from 'vitest';
import { API_TOKEN_PREFIX, generateToken, hashToken } from './tokens';

describe('tokens', () => {
	it('are 32 base32 characters of randomness, optionally prefixed', () => {
		const token = generateToken();
		expect(token).toMatch(/^[a-z2-7]{32}$/);
		expect(generateToken(API_TOKEN_PREFIX)).toMatch(/^pxs7_[a-z2-7]{32}$/);
		expect(new Set(Array.from({ length: 1000 }, () => generateToken())).size).toBe(1000);
	});

	it('are stored as their SHA-256', () => {
		expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
	});
});
