/** A fresh, migrated database per test suite, cloned from the template the global setup made. */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { connect, openPostgres, type Database } from '../../src/lib/server/db/client';
import { withDatabase } from './global-setup';

export interface TestDatabase extends Database {
	url: string;
	name: string;
	/** Closes the pool and drops the database. */
	destroy(): Promise<void>;
}

/** Runs one statement on the server's maintenance database (CREATE DATABASE and the like). */
export async function onMaintenanceDatabase(statement: string): Promise<void> {
	const admin = openPostgres(inject('adminDatabaseUrl'), { max: 1, onnotice: () => {} });
	try {
		await admin.unsafe(statement);
	} finally {
		await admin.end();
	}
}

/** Creates database `name` as a copy of the migrated template. */
export function cloneTemplate(name: string): Promise<void> {
	return onMaintenanceDatabase(`create database ${name} template ${inject('templateDatabase')}`);
}

export async function createTestDatabase(): Promise<TestDatabase> {
	const name = `pixsim7_test_${randomBytes(6).toString('hex')}`;
	await cloneTemplate(name);
	const url = withDatabase(inject('adminDatabaseUrl'), name);
	const database = connect(url, { max: 20 });
	return {
		...database,
		url,
		name,
		async destroy() {
			await database.close();
			await onMaintenanceDatabase(`drop database if exists ${name} with (force)`);
		}
	};
}
