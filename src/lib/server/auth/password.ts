import { hash, verify } from '@node-rs/argon2';

// OWASP's recommended argon2id parameters (the Lucia guide uses the same).
const ARGON2_OPTIONS = {
	algorithm: 2, // argon2id
	memoryCost: 19456,
	timeCost: 2,
	parallelism: 1,
	outputLen: 32
} as const;

export function hashPassword(password: string): Promise<string> {
	return hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
	try {
		return await verify(passwordHash, password);
	} catch {
		return false;
	}
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the same time as a real verification when the email is unknown, so response time does
 * not reveal whether an account exists.
 */
export async function verifyAgainstDummy(password: string): Promise<void> {
	dummyHash ??= hashPassword('pixsim7 timing equaliser');
	await verifyPassword(await dummyHash, password);
}
