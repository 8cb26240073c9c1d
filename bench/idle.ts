/**
 * `npm run bench:idle`: why bench/gallery.ts pauses before every timed call. One statement (the
 * gallery's page query on 20,000 assets) run from one process after pauses of 0 to 30 ms: on these
 * machines the same statement answers markedly slower when its PostgreSQL backend sat idle before
 * it, and a client that spins instead of sleeping changes nothing (it is the server side going
 * cold). Measured 2026-12-04: 0.56 ms back to back, 0.85 ms after 1 ms, 1.1 ms after 3-10 ms,
 * 1.5 ms after 30 ms.
 */
import { openPostgres } from '../src/lib/server/db/client';
import { median, registerBenchUser, startBenchDatabase } from './support';

const database = await startBenchDatabase();
const { userId } = await registerBenchUser(database.url);
const sql = openPostgres(database.url, { max: 1, onnotice: () => {} });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
try {
	await sql`
		insert into assets (owner_id, media_type, mime, status, sha256, file_size_bytes, original_filename, storage_key,
		                    storage_bytes_charged, created_at, updated_at)
		select ${userId}::uuid, 'image', 'image/jpeg', 'ready', encode(sha256(i::text::bytea), 'hex'), 1, 'x', 'k' || i, 1,
		       now() - i * interval '7 s', now()
		from generate_series(1, 20000) as i`;
	await sql`vacuum analyze assets`;
	const page = () => sql`
		select * from assets
		where owner_id = ${userId}::uuid and purged_at is null and deleted_at is null and status <> 'uploading'
		order by created_at desc nulls last, id desc nulls last limit 61`;
	for (let i = 0; i < 50; i++) await page();
	const timed = async () => {
		const t = performance.now();
		await page();
		return performance.now() - t;
	};
	for (const pause of [0, 1, 3, 10, 30]) {
		const xs: number[] = [];
		for (let i = 0; i < 150; i++) {
			if (pause) await sleep(pause);
			xs.push(await timed());
		}
		console.log(`after ${String(pause).padStart(2)} ms asleep: median ${median(xs).toFixed(2)} ms`);
	}
	const spun: number[] = [];
	for (let i = 0; i < 150; i++) {
		const end = performance.now() + 10;
		while (performance.now() < end);
		spun.push(await timed());
	}
	console.log(`after 10 ms of the client spinning: median ${median(spun).toFixed(2)} ms`);
} finally {
	await sql.end();
	await database.stop();
}
