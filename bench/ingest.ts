/**
 * `npm run bench:ingest`: thumbnails for 200 mixed images (1000–4000 px on the long edge; JPEG,
 * PNG and WebP, more small than large; a quarter of the JPEGs with an EXIF orientation) through the real worker process
 * (`tsx src/worker.ts`, as `npm run worker` runs it): asset rows in `processing` with their
 * originals in storage, `assets.ingest` jobs enqueued in one transaction, timed until every asset
 * is `ready`. Against raw sharp in this script doing the same outputs per image — each THUMB_SIZES
 * size to WebP (quality 80, EXIF orientation applied, never upscaled) and the same thumbhash render
 * — with the same concurrency the worker uses (os.availableParallelism() images at a time, as the
 * `assets.ingest` queue's localConcurrency), each image's outputs written to disk as the worker
 * writes them. Timed in halves, ABBA (raw, worker, worker, raw), against drift. Target: worker ÷ raw throughput >= 0.8. The ratio is printed last.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inArray, sql } from 'drizzle-orm';
import sharp from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import { startWorkerProcess } from '../tests/support/worker-process';
import { sha256Of } from '../tests/support/asset-rows';
import { loadConfig } from '../src/lib/server/config';
import { connect } from '../src/lib/server/db/client';
import { assets } from '../src/lib/server/db/schema';
import { enqueueIngest } from '../src/lib/server/ingest/service';
import { createBoss } from '../src/lib/server/queue/boss';
import { createLocalStorage, originalKey } from '../src/lib/server/storage/local';
import { registerBenchUser, startBenchDatabase } from './support';

const COUNT = Number(process.env.BENCH_IMAGES ?? 200);
// The long edges' range. Small images (e.g. BENCH_EDGES=400-800) make each job short, so what the
// queue costs between jobs (polling, fetching) shows; the target is measured with the default.
const [MIN_EDGE, MAX_EDGE] = (process.env.BENCH_EDGES ?? '1000-4000').split('-').map(Number);
const config = loadConfig();
const SIZES = config.THUMB_SIZES;
const CONCURRENCY = os.availableParallelism();

interface Image {
	file: string;
	format: 'jpeg' | 'png' | 'webp';
	bytes: number;
}

/** Smooth random content (a small noise field scaled up): photo-like sizes, not incompressible noise. */
async function makeImages(dir: string): Promise<Image[]> {
	const aspects = [4 / 3, 3 / 2, 1, 16 / 9, 3 / 4, 2 / 3];
	const jobs = Array.from({ length: COUNT }, (_, i) => async (): Promise<Image> => {
		// Long edges from 1000 to 4000 px, more small than large (as in a phone's and a camera's mix):
		// 1000 + 3000·u² over an even spread of u.
		const u = ((i * 7919) % COUNT) / (COUNT - 1);
		const long = MIN_EDGE + Math.round((MAX_EDGE - MIN_EDGE) * u * u);
		const aspect = aspects[i % aspects.length];
		const [w, h] = aspect >= 1 ? [long, Math.round(long / aspect)] : [Math.round(long * aspect), long];
		const format = (['jpeg', 'jpeg', 'jpeg', 'png', 'webp'] as const)[i % 5];
		const field = await sharp({
			create: { width: 48, height: 36, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } }
		})
			.png()
			.toBuffer();
		let img = sharp(field).resize(w, h, { fit: 'fill', kernel: 'cubic' });
		if (format === 'jpeg') {
			img = img.jpeg({ quality: 88 });
			// A quarter of the JPEGs carry an orientation, as phone photos do.
			if (i % 4 === 0) img = img.withMetadata({ orientation: [6, 3, 8][(i / 4) % 3] });
		} else if (format === 'png') img = img.png({ compressionLevel: 3 });
		else img = img.webp({ quality: 85, effort: 1 });
		const file = path.join(dir, `img-${String(i).padStart(3, '0')}.${format === 'jpeg' ? 'jpg' : format}`);
		const info = await img.toFile(file);
		return { file, format, bytes: info.size };
	});
	return runLimited(jobs, CONCURRENCY);
}

/**
 * Making the images takes about a minute here, so they are kept between runs in the system's temp
 * dir (one set, about 360 MB); BENCH_FRESH_IMAGES=1 makes them again.
 */
async function cachedImages(): Promise<Image[]> {
	const edges = MIN_EDGE === 1000 && MAX_EDGE === 4000 ? '' : `-${MIN_EDGE}-${MAX_EDGE}`;
	const dir = path.join(os.tmpdir(), `pixsim7-bench-images-${COUNT}${edges}-v1`);
	const manifest = path.join(dir, 'manifest.json');
	if (process.env.BENCH_FRESH_IMAGES !== '1' && fs.existsSync(manifest)) {
		console.log(`images from ${dir}`);
		return JSON.parse(fs.readFileSync(manifest, 'utf8')) as Image[];
	}
	fs.rmSync(dir, { recursive: true, force: true });
	const part = `${dir}.part`;
	fs.rmSync(part, { recursive: true, force: true });
	fs.mkdirSync(part, { recursive: true });
	const made = await makeImages(part);
	const images = made.map((i) => ({ ...i, file: path.join(dir, path.basename(i.file)) }));
	fs.writeFileSync(path.join(part, 'manifest.json'), JSON.stringify(images));
	fs.renameSync(part, dir);
	console.log(`images made and kept in ${dir}`);
	return images;
}

async function runLimited<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
	const results: T[] = new Array(jobs.length);
	let next = 0;
	await Promise.all(
		Array.from({ length: limit }, async () => {
			while (next < jobs.length) {
				const i = next++;
				results[i] = await jobs[i]();
			}
		})
	);
	return results;
}

/** What a script would write with sharp directly: per output, from the file, oriented. */
async function rawThumbnails(image: Image, outDir: string): Promise<void> {
	const base = path.join(outDir, path.basename(image.file));
	await Promise.all([
		...SIZES.map((size) =>
			sharp(image.file)
				.autoOrient()
				.resize(size, size, { fit: 'inside', withoutEnlargement: true })
				.webp({ quality: 80 })
				.toFile(`${base}-${size}.webp`)
		),
		sharp(image.file)
			.autoOrient()
			.resize(100, 100, { fit: 'inside' })
			.ensureAlpha()
			.raw()
			.toBuffer({ resolveWithObject: true })
			.then(({ data, info }) => fs.promises.writeFile(`${base}.thumbhash`, rgbaToThumbHash(info.width, info.height, data)))
	]);
}

const database = await startBenchDatabase();
try {
	const rawOut = path.join(database.dir, 'raw-out');
	const fsRoot = path.join(database.dir, 'media');
	fs.mkdirSync(rawOut);

	let started = Date.now();
	const images = await cachedImages();
	const totalMb = images.reduce((a, i) => a + i.bytes, 0) / 1e6;
	const byFormat = (f: Image['format']) => images.filter((i) => i.format === f).length;
	console.log(
		`${COUNT} images (${byFormat('jpeg')} JPEG, ${byFormat('png')} PNG, ${byFormat('webp')} WebP; ${totalMb.toFixed(0)} MB) ready in ${((Date.now() - started) / 1000).toFixed(1)} s; THUMB_SIZES ${SIZES.join(',')}, ${CONCURRENCY} at a time in both`
	);

	// Two halves (even and odd images, alike in mix), timed raw A, worker A, worker B, raw B: a
	// machine that speeds up or slows down during the run weighs on both sides alike.
	const half = (parity: number) => images.map((_, i) => i).filter((i) => i % 2 === parity);
	const [halfA, halfB] = [half(0), half(1)];
	async function rawPass(indices: number[]): Promise<number> {
		const t = Date.now();
		await runLimited(
			indices.map((i) => () => rawThumbnails(images[i], rawOut)),
			CONCURRENCY
		);
		return (Date.now() - t) / 1000;
	}

	// The originals in storage and their rows in `processing`, as a completed upload leaves them.
	const { userId } = await registerBenchUser(database.url);
	const storage = createLocalStorage(fsRoot);
	const app = connect(database.url, { max: 2 });
	const boss = createBoss(database.url, config.PGBOSS_SCHEMA, 'web');
	const worker = startWorkerProcess({
		DATABASE_URL: database.url,
		FS_ROOT: fsRoot,
		THUMB_SIZES: SIZES.join(','),
		LOG_LEVEL: 'warn'
	});
	try {
		const rows = [];
		for (const image of images) {
			const bytes = fs.readFileSync(image.file);
			const sha256 = sha256Of(bytes);
			const ext = image.format === 'jpeg' ? 'jpg' : image.format;
			await storage.putDerived(originalKey(sha256, ext), bytes);
			rows.push({
				ownerId: userId,
				mediaType: 'image' as const,
				mime: `image/${image.format}`,
				status: 'processing' as const,
				sha256,
				fileSizeBytes: bytes.length,
				storageBytesCharged: bytes.length,
				originalFilename: path.basename(image.file),
				storageKey: originalKey(sha256, ext)
			});
		}
		const ids = (await app.db.insert(assets).values(rows).returning({ id: assets.id })).map((r) => r.id);
		await boss.start();
		// The worker is up and polling before the clock starts (LOG_LEVEL=warn hides worker:ready).
		for (let i = 0; ; i++) {
			const [{ n }] = await app.db.execute<{ n: number }>(
				sql`select count(*)::int as n from pg_stat_activity where application_name = 'pixsim7-worker'`
			);
			if (n > 0 && i > 20) break;
			if (i > 300) throw new Error(`the worker did not start:\n${worker.errors()}`);
			await new Promise((r) => setTimeout(r, 100));
		}

		async function workerPass(indices: number[]): Promise<number> {
			const t = Date.now();
			await app.db.transaction(async (tx) => {
				for (const i of indices) await enqueueIngest(boss, ids[i], { tx });
			});
			const subset = indices.map((i) => ids[i]);
			for (;;) {
				const [counts] = await app.db
					.select({
						ready: sql<number>`count(*) filter (where ${assets.status} = 'ready')::int`,
						failed: sql<number>`count(*) filter (where ${assets.status} = 'failed')::int`
					})
					.from(assets)
					.where(inArray(assets.id, subset));
				if (counts.failed > 0) throw new Error(`${counts.failed} assets failed:\n${worker.errors()}`);
				if (counts.ready === subset.length) break;
				if (Date.now() - t > 600_000) throw new Error(`only ${counts.ready} ready after 10 minutes`);
				await new Promise((r) => setTimeout(r, 100));
			}
			return (Date.now() - t) / 1000;
		}

		const rawA = await rawPass(halfA);
		const workerA = await workerPass(halfA);
		const workerB = await workerPass(halfB);
		const rawB = await rawPass(halfB);
		fs.rmSync(rawOut, { recursive: true, force: true });
		const rawSeconds = rawA + rawB;
		const workerSeconds = workerA + workerB;
		console.log(
			`raw sharp:  ${COUNT} images in ${rawSeconds.toFixed(1)} s (${rawA.toFixed(1)} + ${rawB.toFixed(1)})   ${(COUNT / rawSeconds).toFixed(2)} images/s`
		);
		const [{ variants }] = await app.db.execute<{ variants: number }>(sql`select count(*)::int as variants from asset_variants`);
		if (variants !== COUNT * SIZES.length) throw new Error(`expected ${COUNT * SIZES.length} variants, found ${variants}`);
		console.log(
			`worker:     ${COUNT} images in ${workerSeconds.toFixed(1)} s (${workerA.toFixed(1)} + ${workerB.toFixed(1)})   ${(COUNT / workerSeconds).toFixed(2)} images/s  (enqueue to all ready)`
		);
		console.log(`ratio (worker ÷ raw sharp throughput): ${(rawSeconds / workerSeconds).toFixed(2)}  (target >= 0.80)`);
	} finally {
		worker.kill('SIGTERM');
		await worker.exited;
		await boss.stop({ graceful: false });
		await app.close();
	}
} finally {
	await database.stop();
}
