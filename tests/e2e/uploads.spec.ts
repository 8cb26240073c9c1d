/**
 * The gallery's upload panel in Chromium: files chosen with the file button go up with tus, each
 * with its own progress, and a file the user already has is caught by its SHA-256 before sending.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, test, type Locator, type Page } from '@playwright/test';
import sharp from 'sharp';
import { contextWithSession, holdAppScript, registerViaApi, uniqueUser } from './support/app';

const run = promisify(execFile);
const PANEL_PAGE = '/gallery';

const png = (color: { r: number; g: number; b: number }) =>
	sharp({ create: { width: 320, height: 240, channels: 3, background: color } }).png().toBuffer();

/** 2 s of ffmpeg's test pattern as MP4 (MPEG-4 Part 2: every ffmpeg build has the encoder). */
async function mp4(): Promise<Buffer> {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-e2e-mp4-'));
	const file = path.join(dir, 'clip.mp4');
	const ffmpeg = process.env.FFMPEG_PATH || (await import('@ffmpeg-installer/ffmpeg')).default.path;
	await run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc=duration=2:size=320x240:rate=25', '-c:v', 'mpeg4', '-q:v', '5', file]);
	const bytes = fs.readFileSync(file);
	fs.rmSync(dir, { recursive: true, force: true });
	return bytes;
}

const uploads = (page: Page) => page.getByRole('list', { name: 'Uploads' });
const row = (page: Page, name: string): Locator => uploads(page).getByRole('listitem').filter({ hasText: name });

test('uploads two images and a video with progress, and catches a duplicate before sending', async ({ browser, request }) => {
	test.setTimeout(60_000);
	const token = await registerViaApi(request, uniqueUser('uploads'));
	const context = await contextWithSession(browser, token, { viewport: { width: 1280, height: 800 } });
	const page = await context.newPage();
	await page.goto(PANEL_PAGE);

	const red = await png({ r: 220, g: 30, b: 30 });
	const files = [
		{ name: 'red.png', mimeType: 'image/png', buffer: red },
		{ name: 'green.png', mimeType: 'image/png', buffer: await png({ r: 30, g: 200, b: 60 }) },
		{ name: 'clip.mp4', mimeType: 'video/mp4', buffer: await mp4() }
	];
	const tusRequests: string[] = [];
	page.on('request', (req) => {
		if (req.url().includes('/api/v1/uploads/tus')) tusRequests.push(`${req.method()} ${new URL(req.url()).pathname}`);
	});
	await page.getByLabel('Choose files').setInputFiles(files);

	for (const { name } of files) {
		await expect(row(page, name)).toContainText('Uploaded', { timeout: 20_000 });
		await expect(row(page, name).getByRole('progressbar')).toHaveJSProperty('value', 100);
	}
	// Each went up with tus: a POST to create it and a PATCH with its bytes.
	expect(tusRequests.filter((r) => r.startsWith('POST'))).toHaveLength(3);
	expect(tusRequests.filter((r) => r.startsWith('PATCH')).length).toBeGreaterThanOrEqual(3);

	const assets = (await (await request.get('/api/v1/assets', { headers: { authorization: `Bearer ${token}` } })).json()) as {
		items: { id: string; original_filename: string; media_type: string }[];
	};
	expect(assets.items.map((a) => [a.original_filename, a.media_type]).sort()).toEqual([
		['clip.mp4', 'video'],
		['green.png', 'image'],
		['red.png', 'image']
	]);
	const redId = assets.items.find((a) => a.original_filename === 'red.png')!.id;

	// The same bytes again, under another name: found by their hash, nothing is sent.
	tusRequests.length = 0;
	await page.getByLabel('Choose files').setInputFiles([{ name: 'red-again.png', mimeType: 'image/png', buffer: red }]);
	await expect(row(page, 'red-again.png')).toContainText('Already in your gallery');
	await expect(row(page, 'red-again.png').getByRole('link', { name: 'open it' })).toHaveAttribute('href', `?asset=${redId}`);
	expect(tusRequests).toEqual([]);

	await context.close();
});

/** Random pixels do not compress: a PNG of about `bytes`. */
function noisyPng(bytes: number): Promise<Buffer> {
	const side = Math.ceil(Math.sqrt(bytes / 3));
	const raw = Buffer.alloc(side * side * 3);
	let x = 88172645;
	for (let i = 0; i < raw.length; i++) {
		x ^= x << 13;
		x ^= x >>> 17;
		x ^= x << 5;
		raw[i] = x & 0xff;
	}
	return sharp(raw, { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
}

test('pauses an upload and resumes it from where the server stopped', async ({ browser, request }) => {
	test.setTimeout(60_000);
	const token = await registerViaApi(request, uniqueUser('uploads-pause'));
	const context = await contextWithSession(browser, token, { viewport: { width: 1280, height: 800 } });
	const page = await context.newPage();
	await page.goto(PANEL_PAGE);
	// A slow uplink (1 MB/s), so there is time to pause half-way.
	const cdp = await context.newCDPSession(page);
	await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 1024 * 1024 });
	const patchOffsets: number[] = [];
	let creations = 0;
	page.on('request', (req) => {
		if (req.method() === 'PATCH' && req.url().includes('/api/v1/uploads/tus/')) patchOffsets.push(Number(req.headers()['upload-offset']));
		if (req.method() === 'POST' && req.url().endsWith('/api/v1/uploads/tus')) creations++;
	});

	await page.getByLabel('Choose files').setInputFiles([{ name: 'big.png', mimeType: 'image/png', buffer: await noisyPng(5 * 1024 * 1024) }]);
	const item = row(page, 'big.png');
	await expect(item).toContainText(/Uploading [1-9]\d?%/, { timeout: 20_000 });
	await item.getByRole('button', { name: 'Pause big.png' }).click();
	await expect(item).toContainText(/Paused at \d+%/);

	await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
	await item.getByRole('button', { name: 'Resume big.png' }).click();
	await expect(item).toContainText('Uploaded', { timeout: 20_000 });
	// One upload, continued: the PATCH after the pause started where the server's bytes ended.
	expect(creations).toBe(1);
	expect(patchOffsets[0]).toBe(0);
	expect(patchOffsets.length).toBeGreaterThanOrEqual(2);
	expect(patchOffsets[patchOffsets.length - 1]).toBeGreaterThan(0);
	await context.close();
});

test('a file chosen before the page has loaded its script is uploaded once it has', async ({ browser, request }) => {
	const token = await registerViaApi(request, uniqueUser('uploads-early'));
	const context = await contextWithSession(browser, token, { viewport: { width: 1280, height: 800 } });
	const page = await context.newPage();
	// The file is chosen in the server's HTML, before the page is interactive.
	const release = await holdAppScript(page);
	await page.goto(PANEL_PAGE, { waitUntil: 'commit' });
	await page.getByLabel('Choose files').waitFor({ state: 'attached' });
	const file = { name: 'chosen-early.png', mimeType: 'image/png', buffer: await png({ r: 200, g: 120, b: 10 }) };
	await page.getByLabel('Choose files').setInputFiles([file]);
	await expect(uploads(page)).toHaveCount(0);
	release();
	await expect(row(page, 'chosen-early.png')).toHaveCount(1);
	await expect(row(page, 'chosen-early.png')).toContainText('Uploaded', { timeout: 20_000 });
	await context.close();
});

test('the panel works at 375px', async ({ browser, request }) => {
	const token = await registerViaApi(request, uniqueUser('uploads-narrow'));
	const context = await contextWithSession(browser, token, { viewport: { width: 375, height: 740 } });
	const page = await context.newPage();
	await page.goto(PANEL_PAGE);
	const file = { name: 'a-rather-long-file-name-for-a-small-screen.png', mimeType: 'image/png', buffer: await png({ r: 10, g: 10, b: 200 }) };
	// Chosen right away, maybe before the page's script has taken the input over: the panel takes
	// such a file when it starts (the test above holds the script back to be sure of that case).
	await page.getByLabel('Choose files').setInputFiles([file]);
	await expect(row(page, 'a-rather-long-file-name')).toHaveCount(1);
	await expect(row(page, 'a-rather-long-file-name')).toContainText('Uploaded', { timeout: 20_000 });
	const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
	expect(overflow).toBeLessThanOrEqual(0);
	await context.close();
});
