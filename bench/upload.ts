/**
 * `npm run bench:upload`: a 1 GiB body streamed over HTTP to `PUT /api/v1/uploads/{id}` (after
 * `POST /api/v1/uploads/init`) on the production build, against a raw stream copy of the same file
 * (fs.createReadStream → fs.createWriteStream, the same shape of work minus HTTP and hashing), in
 * one run, rounds interleaved, each starting after a `sync`. Each round also times SHA-256 over the
 * source alone, the ceiling for any upload that hashes its bytes. Neither side fsyncs (the upload
 * path renames into place without one; see storage/local.ts). The server's RSS (/proc/<pid>/status VmRSS) is sampled every 100 ms
 * during each PUT. Targets: PUT ÷ copy throughput >= 0.5, RSS growth < 100 MB. The ratio is printed
 * last. Every temp file (the source, copies, staged uploads, the database) is deleted at the end.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ensureBuild, median, MiB, registerBenchUser, rssBytes, startBenchDatabase, startBenchServer } from './support';

const SIZE = Number(process.env.BENCH_UPLOAD_BYTES ?? 1024 * MiB);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

ensureBuild();
const database = await startBenchDatabase();
const fsRoot = path.join(database.dir, 'media');
const source = path.join(database.dir, 'source.bin');
const copy = path.join(database.dir, 'copy.bin');

try {
	// Random bytes (a 16 MiB block repeated): nothing along the way can compress them.
	const block = randomBytes(16 * MiB);
	const out = fs.openSync(source, 'w');
	for (let written = 0; written < SIZE; written += block.length) fs.writeSync(out, block, 0, Math.min(block.length, SIZE - written));
	fs.closeSync(out);

	const { token } = await registerBenchUser(database.url);
	const server = await startBenchServer(database.url, { FS_ROOT: fsRoot, MAX_UPLOAD_MB: '2048', BODY_SIZE_LIMIT: 'Infinity' });
	const { hostname, port } = new URL(server.base);

	// Each measurement starts with nothing dirty in the page cache: otherwise one pays for flushing
	// the gigabyte the one before it wrote (on this machine that alone can double a run's time).
	const settle = () => spawnSync('sync');

	async function rawCopy(): Promise<number> {
		settle();
		const started = process.hrtime.bigint();
		await pipeline(fs.createReadStream(source), fs.createWriteStream(copy));
		const seconds = Number(process.hrtime.bigint() - started) / 1e9;
		fs.rmSync(copy);
		return seconds;
	}

	/**
	 * Not a target, a ceiling: reading the source and hashing it, writing nothing. The PUT must
	 * hash every byte (the content address), which the copy does not; on this machine SHA-256 is
	 * slower than copying into the page cache, so no hashing upload can beat this line.
	 */
	async function hashOnly(): Promise<number> {
		const started = process.hrtime.bigint();
		const hash = createHash('sha256');
		for await (const chunk of fs.createReadStream(source)) hash.update(chunk as Buffer);
		hash.digest();
		return Number(process.hrtime.bigint() - started) / 1e9;
	}

	async function put(): Promise<{ seconds: number; rssGrowth: number; rssBefore: number }> {
		const init = await fetch(`${server.base}/api/v1/uploads/init`, {
			method: 'POST',
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
			body: JSON.stringify({ filename: 'big.mp4', size_bytes: SIZE, mime: 'video/mp4' })
		});
		if (init.status !== 201) throw new Error(`init: ${init.status} ${await init.text()}`);
		const { asset_id, upload_token } = (await init.json()) as { asset_id: string; upload_token: string };

		settle();
		const rssBefore = rssBytes(server.pid) ?? 0;
		let rssPeak = rssBefore;
		const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssBytes(server.pid) ?? 0)), 100);
		const started = process.hrtime.bigint();
		// node:http with a piped file stream: the body is streamed, never held in memory here either.
		const status = await new Promise<number>((resolve, reject) => {
			const req = http.request(
				{
					hostname,
					port,
					method: 'PUT',
					path: `/api/v1/uploads/${asset_id}`,
					headers: { 'x-upload-token': upload_token, 'content-type': 'application/octet-stream', 'content-length': SIZE }
				},
				(res) => {
					res.resume();
					res.on('end', () => resolve(res.statusCode ?? 0));
				}
			);
			req.on('error', reject);
			pipeline(fs.createReadStream(source), req).catch(reject);
		});
		const seconds = Number(process.hrtime.bigint() - started) / 1e9;
		clearInterval(sampler);
		rssPeak = Math.max(rssPeak, rssBytes(server.pid) ?? 0);
		if (status !== 200) throw new Error(`PUT: ${status}`);
		// The staged bytes are not needed: drop them now, not at the end (1 GiB each).
		fs.rmSync(path.join(fsRoot, 'staging', `${asset_id}.bin`), { force: true });
		return { seconds, rssGrowth: rssPeak - rssBefore, rssBefore };
	}

	try {
		const gib = SIZE / 1024 ** 3;
		console.log(`${(SIZE / MiB).toFixed(0)} MiB, ${ROUNDS} interleaved rounds, medians; a warm-up of each first`);
		await rawCopy();
		await put();
		const copies: number[] = [];
		const hashes: number[] = [];
		const puts: number[] = [];
		let rssGrowth = 0;
		for (let round = 1; round <= ROUNDS; round++) {
			const c = await rawCopy();
			copies.push(c);
			console.log(`raw stream copy #${round}   ${(gib / c).toFixed(2)} GiB/s  (${c.toFixed(2)} s)`);
			const h = await hashOnly();
			hashes.push(h);
			console.log(`sha256 only #${round}       ${(gib / h).toFixed(2)} GiB/s  (${h.toFixed(2)} s)`);
			const p = await put();
			puts.push(p.seconds);
			rssGrowth = Math.max(rssGrowth, p.rssGrowth);
			console.log(
				`HTTP PUT #${round}          ${(gib / p.seconds).toFixed(2)} GiB/s  (${p.seconds.toFixed(2)} s)   server RSS ${(p.rssBefore / MiB).toFixed(0)} MiB, +${(p.rssGrowth / 1e6).toFixed(1)} MB at peak`
			);
		}
		const copyRate = gib / median(copies);
		const putRate = gib / median(puts);
		const hashRate = gib / median(hashes);
		console.log(`raw copy ${copyRate.toFixed(2)} GiB/s, sha256 alone ${hashRate.toFixed(2)} GiB/s, HTTP PUT ${putRate.toFixed(2)} GiB/s`);
		console.log(`HTTP PUT ÷ sha256 alone: ${(putRate / hashRate).toFixed(2)}  (how close the PUT comes to the hash's ceiling)`);
		console.log(`server RSS growth during a PUT (worst round): ${(rssGrowth / 1e6).toFixed(1)} MB  (target < 100 MB)`);
		console.log(`ratio (HTTP PUT ÷ raw copy throughput): ${(putRate / copyRate).toFixed(2)}  (target >= 0.50)`);
	} finally {
		await server.stop();
	}
} finally {
	await database.stop();
}
