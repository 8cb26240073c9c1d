import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { ConfigError } from '../config';
import {
	CredentialsDecryptError,
	credentialsKey,
	decryptCredentials,
	encryptCredentials,
	loadOrCreateDevCredentialsKey,
	requireCredentialsKey
} from './crypto';

const key = randomBytes(32);

describe('credentials encryption', () => {
	it('round-trips a string map, and never stores the plain text', () => {
		const blob = encryptCredentials(key, { api_key: 'sk-live-abcdef123456', region: 'eu' });
		expect(blob).toMatch(/^v1:[\w-]+:[\w-]+:[\w-]+$/);
		expect(blob).not.toContain('sk-live');
		expect(decryptCredentials(key, blob)).toEqual({ api_key: 'sk-live-abcdef123456', region: 'eu' });
	});

	it('uses a fresh IV each time, so equal credentials do not look equal at rest', () => {
		expect(encryptCredentials(key, { api_key: 'x' })).not.toBe(encryptCredentials(key, { api_key: 'x' }));
	});

	it('refuses another key and a tampered blob instead of answering garbage', () => {
		const blob = encryptCredentials(key, { api_key: 'secret' });
		expect(() => decryptCredentials(randomBytes(32), blob)).toThrow(CredentialsDecryptError);
		const [v, iv, tag, ct] = blob.split(':');
		const flipped = Buffer.from(ct, 'base64url');
		flipped[0] ^= 1;
		expect(() => decryptCredentials(key, [v, iv, tag, flipped.toString('base64url')].join(':'))).toThrow(CredentialsDecryptError);
		expect(() => decryptCredentials(key, 'not a blob')).toThrow(CredentialsDecryptError);
	});

	it('its error message does not repeat the blob', () => {
		const blob = encryptCredentials(key, { api_key: 'secret' });
		try {
			decryptCredentials(randomBytes(32), blob);
		} catch (err) {
			expect(String(err)).not.toContain(blob.split(':')[3]);
		}
	});
});

describe('credentialsKey', () => {
	it('is required in production, with a message naming the variable', () => {
		const production = loadConfig({ NODE_ENV: 'production' });
		expect(() => requireCredentialsKey(production)).toThrow(ConfigError);
		expect(() => requireCredentialsKey(production)).toThrow(/CREDENTIALS_KEY: required in production/);
		expect(() => requireCredentialsKey(loadConfig({ NODE_ENV: 'production', CREDENTIALS_KEY: Buffer.alloc(32, 1).toString('base64') }))).not.toThrow();
	});

	it('decodes CREDENTIALS_KEY', () => {
		const encoded = randomBytes(32).toString('base64');
		expect(credentialsKey(loadConfig({ CREDENTIALS_KEY: encoded })).equals(Buffer.from(encoded, 'base64'))).toBe(true);
	});

	it('outside production, keeps one generated key in DATA_DIR/credentials.key (private to the owner)', () => {
		const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-key-'));
		try {
			const first = credentialsKey(loadConfig({ DATA_DIR: dataDir }));
			const again = credentialsKey(loadConfig({ DATA_DIR: dataDir }));
			expect(first).toHaveLength(32);
			expect(again.equals(first)).toBe(true);
			expect(loadOrCreateDevCredentialsKey(dataDir)).toBe(first.toString('base64'));
			expect(fs.statSync(path.join(dataDir, 'credentials.key')).mode & 0o077).toBe(0);
		} finally {
			fs.rmSync(dataDir, { recursive: true, force: true });
		}
	});
});
