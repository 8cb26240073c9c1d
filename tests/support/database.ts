/** A fresh, migrated database per test suite, cloned from the template the global setup made. */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { connect, type Database } from '../../src/lib/server/db/client';
import { withDatabase } from './global-setup';

export interface TestDatabase extends Database {
	url: string;
	name: string;
	/** Closes the pool and drops the database. */
	destroy(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
	const adminUrl = inject('adminDatabaseUrl');
	const name = `pixsim7_test_${randomBytes(6).toString('hex')}`;
	const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
	try {
		await admin.unsafe(`create database ${name} template ${inject('templateDatabase')}`);
	} finally {
		await admin.end();
	}
	const url = withDatabase(adminUrl, name);
	const database = connect(url, { max: 20 });
	return {
		...database,
		url,
		name,
		async destroy() {
			await database.close();
			const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
			await a.unsafe(`drop database if exists ${name} with (force)`);
			await a.end();
		}
	};
}
