import { sql } from 'drizzle-orm';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { connect } from './client';

// Any constant works; it only has to be the same in every process that migrates.
const MIGRATION_LOCK = 7_000_007;

/**
 * Applies the committed migrations in drizzle/. The web server, the worker, the start script and
 * the tests all call this at start; an advisory lock makes concurrent callers take turns, and an
 * up-to-date database costs one query.
 */
export async function migrateDatabase(url: string, migrationsFolder: string): Promise<void> {
	const database = connect(url, { max: 1 });
	try {
		await database.db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK})`);
		await migrate(database.db, { migrationsFolder });
		await database.db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK})`);
	} finally {
		await database.close();
	}
}
