/**
 * Provider credentials at rest: AES-256-GCM with a fresh 96-bit IV per value, stored as
 * "v1:<iv>:<tag>:<ciphertext>" (base64url). The GCM tag makes a wrong key or a tampered blob fail
 * loudly instead of decrypting to garbage. Decrypted credentials go to adapters only; they are
 * never logged and never part of an API answer.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from '../config';

const VERSION = 'v1';
const IV_BYTES = 12;
const KEY_BYTES = 32;

export class CredentialsDecryptError extends Error {
	override name = 'CredentialsDecryptError';
	constructor() {
		// Deliberately says nothing about the blob: it is a secret too.
		super('Stored credentials cannot be decrypted: CREDENTIALS_KEY differs from the key they were saved with, or the value is damaged.');
	}
}

export function encryptCredentials(key: Buffer, value: Record<string, string>): string {
	const iv = randomBytes(IV_BYTES);
	const cipher = createCipheriv('aes-256-gcm', key, iv);
	const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
	const tag = cipher.getAuthTag();
	return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join(':');
}

export function decryptCredentials(key: Buffer, blob: string): Record<string, string> {
	const [version, iv, tag, ciphertext] = blob.split(':');
	if (version !== VERSION || iv === undefined || tag === undefined || ciphertext === undefined) {
		throw new CredentialsDecryptError();
	}
	let plain: string;
	try {
		const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
		decipher.setAuthTag(Buffer.from(tag, 'base64url'));
		plain = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
	} catch {
		throw new CredentialsDecryptError();
	}
	const parsed: unknown = JSON.parse(plain);
	if (!isStringMap(parsed)) throw new CredentialsDecryptError();
	return parsed;
}

function isStringMap(value: unknown): value is Record<string, string> {
	return (
		typeof value === 'object' &&
		value !== null &&
		!Array.isArray(value) &&
		Object.values(value).every((v) => typeof v === 'string')
	);
}

/**
 * Outside production an unset CREDENTIALS_KEY means "this machine's key": generated once into
 * DATA_DIR/credentials.key (mode 0600) and read from there afterwards, so credentials saved in
 * development survive restarts. `npm start` calls this before it spawns web and worker and hands
 * both the same key; production refuses to start without CREDENTIALS_KEY (config.ts).
 */
export function loadOrCreateDevCredentialsKey(dataDir: string): string {
	const file = path.join(dataDir, 'credentials.key');
	fs.mkdirSync(dataDir, { recursive: true });
	try {
		fs.writeFileSync(file, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
	} catch (err) {
		// Another process made it first: use theirs.
		if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
	}
	return fs.readFileSync(file, 'utf8').trim();
}

const keys = new WeakMap<Config, Buffer>();

export const MISSING_KEY_MESSAGE =
	'Invalid configuration:\n  CREDENTIALS_KEY: required in production (it encrypts provider credentials); ' +
	'set it to the output of `openssl rand -base64 32` and keep it: credentials saved under one key cannot be read with another';

/**
 * Web and worker call this at start, so a production process without CREDENTIALS_KEY stops at
 * once with a message naming it, instead of failing on the first account it touches.
 */
export function requireCredentialsKey(config: Config): void {
	credentialsKey(config);
}

/** The key for encryptCredentials/decryptCredentials, from CREDENTIALS_KEY (or the dev key file). */
export function credentialsKey(config: Config): Buffer {
	let key = keys.get(config);
	if (key) return key;
	if (config.CREDENTIALS_KEY) key = Buffer.from(config.CREDENTIALS_KEY, 'base64');
	else if (config.NODE_ENV === 'production') throw new ConfigError(MISSING_KEY_MESSAGE);
	else key = Buffer.from(loadOrCreateDevCredentialsKey(config.dataDir), 'base64');
	if (key.length !== KEY_BYTES) throw new ConfigError('CREDENTIALS_KEY must be base64 of 32 bytes.');
	keys.set(config, key);
	return key;
}
