/** Provider accounts and jobs for pool and account tests, and the fixed test credentials key. */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { encryptCredentials } from '../../src/lib/server/accounts/crypto';
import { loadConfig, type Config } from '../../src/lib/server/config';
import type { DbOrTx } from '../../src/lib/server/db/client';
import { jobs, providerAccounts, type Job, type NewJob, type NewProviderAccount, type ProviderAccount } from '../../src/lib/server/db/schema';

/**
 * The key every test process encrypts credentials with (app server and worker get it through
 * their env). Fixed, so a test can decrypt what a server process stored.
 */
export const TEST_CREDENTIALS_KEY = Buffer.alloc(32, 7).toString('base64');

export function testConfig(env: Record<string, string> = {}): Config {
	return loadConfig({
		NODE_ENV: 'test',
		CREDENTIALS_KEY: TEST_CREDENTIALS_KEY,
		DATA_DIR: path.join(os.tmpdir(), 'pixsim7-test-data'),
		...env
	});
}

export async function makeAccount(
	db: DbOrTx,
	overrides: Partial<NewProviderAccount> & { credentials?: Record<string, string> } = {}
): Promise<ProviderAccount> {
	const { credentials = { api_key: `key-${randomBytes(4).toString('hex')}` }, ...columns } = overrides;
	const [account] = await db
		.insert(providerAccounts)
		.values({
			providerId: 'pixverse',
			label: `account ${randomBytes(3).toString('hex')}`,
			credentialsEncrypted: encryptCredentials(Buffer.from(TEST_CREDENTIALS_KEY, 'base64'), credentials),
			credits: { default: 100 },
			maxConcurrentJobs: 1,
			...columns
		})
		.returning();
	return account;
}

export async function makeJob(db: DbOrTx, ownerId: string, overrides: Partial<NewJob> = {}): Promise<Job> {
	const [job] = await db
		.insert(jobs)
		.values({
			ownerId,
			operationType: 'text_to_video',
			providerId: 'pixverse',
			params: { prompt: 'a test' },
			status: 'queued',
			...overrides
		})
		.returning();
	return job;
}
