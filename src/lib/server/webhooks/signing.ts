/**
 * Webhook secrets and signatures. A secret is made here, shown to its owner once, and kept
 * encrypted with the provider credentials' key (accounts/crypto.ts); only the delivery handler
 * decrypts it, to sign. Receivers check `X-PixSim7-Signature: t=<unix seconds>,v1=<hex>` where
 * v1 = HMAC-SHA256(secret, "<t>.<raw body>"): the timestamp inside the MAC lets them refuse a
 * replayed old delivery (Stripe's scheme, so existing verifier code fits).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Config } from '../config';
import { credentialsKey, decryptCredentials, encryptCredentials } from '../accounts/crypto';

export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** 256 random bits, base64url: recognisable by its prefix in a config file or a leak scanner. */
export function generateWebhookSecret(): string {
	return WEBHOOK_SECRET_PREFIX + randomBytes(32).toString('base64url');
}

export function encryptWebhookSecret(config: Config, secret: string): string {
	return encryptCredentials(credentialsKey(config), { secret });
}

/** Throws CredentialsDecryptError under another key (the delivery then fails and is retried). */
export function decryptWebhookSecret(config: Config, blob: string): string {
	const { secret } = decryptCredentials(credentialsKey(config), blob);
	if (!secret) throw new Error('A webhook secret is missing from its stored value.');
	return secret;
}

export function signatureHeader(secret: string, body: string, at: Date = new Date()): string {
	const t = Math.floor(at.getTime() / 1000);
	const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
	return `t=${t},v1=${v1}`;
}
