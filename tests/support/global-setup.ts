/**
 * Starts one real PostgreSQL for the whole vitest run (embedded, unless DATABASE_URL names a
 * server we may create databases on) and migrates a template database. Each suite then clones
 * the template (CREATE DATABASE ... TEMPLATE), which takes milliseconds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { openPostgres } from '../../src/lib/server/db/client';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/lib/server/db/embedded';
import { migrateDatabase } from '../../src/lib/server/db/migrate';

export const TEMPLATE_DB = 'pixsim7_test_template';

declare module 'vitest' {
	export interface ProvidedContext {
		/** URL of the server's maintenance database, for CREATE DATABASE. */
		adminDatabaseUrl: string;
		templateDatabase: string;
	}
}

let server: EmbeddedServer | undefined;
let dir: string | undefined;

export async function setup(project: TestProject) {
	let adminUrl = process.env.DATABASE_URL;
	if (!adminUrl) {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-test-pg-'));
		fs.chmodSync(dir, 0o755);
		server = await startEmbeddedPostgres({ dir: path.join(dir, 'data'), persistent: false });
		adminUrl = server.url('postgres');
	}
	const admin = openPostgres(adminUrl, { max: 1, onnotice: () => {} });
	await admin.unsafe(`drop database if exists ${TEMPLATE_DB} with (force)`);
	await admin.unsafe(`create database ${TEMPLATE_DB}`);
	await admin.end();
	await migrateDatabase(withDatabase(adminUrl, TEMPLATE_DB), path.resolve('drizzle'));

	project.provide('adminDatabaseUrl', adminUrl);
	project.provide('templateDatabase', TEMPLATE_DB);
}

export async function teardown() {
	await server?.stop();
	if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

export function withDatabase(url: string, database: string): string {
	const u = new URL(url);
	u.pathname = `/${database}`;
	return u.toString();
}
