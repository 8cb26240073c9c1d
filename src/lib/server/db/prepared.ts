/**
 * Server-side prepared statements for the queries every request runs. Drizzle sends other queries
 * unprepared, which costs several times the CPU per call (measured: 540 µs against 120 µs for the
 * session lookup), so the per-request path prepares once per connection pool and reuses.
 */
import { getTableColumns, sql, type Column, type InferSelectModel, type Query, type SQL, type Table } from 'drizzle-orm';
import { PgDialect, type PgPreparedQuery } from 'drizzle-orm/pg-core';
import type { DbOrTx } from './client';

const cache = new WeakMap<object, Map<string, unknown>>();

export function prepared<T>(db: object, name: string, build: (name: string) => T): T {
	let statements = cache.get(db);
	if (!statements) cache.set(db, (statements = new Map()));
	let statement = statements.get(name) as T | undefined;
	if (!statement) statements.set(name, (statement = build(name)));
	return statement;
}

const dialect = new PgDialect();

/**
 * `column = any($1::uuid[])`: inArray for uuid ids as ONE parameter, so a query's text is the same
 * whatever the number of ids, and is prepared once per connection (db/client.ts) instead of once
 * per list length. For the batch stages' reads and locks (1 to 32 ids each). The ids are uuids
 * (from rows, or from payloads checked as uuids): a malformed one fails the query, never its text.
 */
export function anyId(column: Column, ids: readonly string[]): SQL {
	return sql`${column} = any(${`{${ids.join(',')}}`}::uuid[])`;
}

/**
 * A hand-written statement (a `sql` template with `sql.placeholder`s), compiled once and run as a
 * server-side prepared statement, answering its rows as objects keyed by column name. For the
 * statements the query builder cannot express (data-modifying CTEs) on a hot path: `db.execute`
 * would build the SQL text and have the server parse and plan it on every call.
 */
export function preparedSql<Row extends Record<string, unknown>>(
	db: DbOrTx,
	name: string,
	build: () => SQL
): PgPreparedQuery<{ execute: Row[]; all: Row[]; values: unknown[][] }> {
	return prepared(db, name, (statementName) =>
		db._.session.prepareQuery<{ execute: Row[]; all: Row[]; values: unknown[][] }>(dialect.sqlToQuery(build()), undefined, statementName, false)
	);
}

/**
 * Reads one table's columns out of an array-mode result row, from `offset` on in the table's
 * column order (the order drizzle selects `table` in), mapping each value as drizzle does (Date
 * for a timestamp, number for a bigint). Drizzle's own row mapper checks every cell's entity kind
 * and walks its path each time: on the gallery page (61 rows × 33 cells) that was ~0.3 ms a page.
 */
export function columnReader<T extends Table>(
	table: T
): { width: number; indexOf(property: keyof InferSelectModel<T> & string): number; read(row: unknown[], offset: number): InferSelectModel<T> } {
	const columns: [string, Column][] = Object.entries(getTableColumns(table));
	return {
		width: columns.length,
		indexOf: (property) => columns.findIndex(([name]) => name === property),
		read(row, offset) {
			const out: Record<string, unknown> = {};
			for (let i = 0; i < columns.length; i++) {
				const value = row[offset + i];
				out[columns[i][0]] = value === null || value === undefined ? null : columns[i][1].mapFromDriverValue(value);
			}
			return out as InferSelectModel<T>;
		}
	};
}

/**
 * A query (typically a select builder's `toSQL()`, with `sql.placeholder`s) prepared once, fetched
 * in array mode and turned into results by `map`, one call per row.
 */
export function preparedArrays<R>(
	db: DbOrTx,
	name: string,
	build: () => Query,
	map: (row: unknown[]) => R
): PgPreparedQuery<{ execute: R[]; all: R[]; values: unknown[][] }> {
	return prepared(db, name, (statementName) =>
		db._.session.prepareQuery<{ execute: R[]; all: R[]; values: unknown[][] }>(build(), undefined, statementName, true, (rows) =>
			rows.map(map)
		)
	);
}
