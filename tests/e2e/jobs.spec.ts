/**
 * The generation pages in Chromium, against the app's real worker and its local renderer (a
 * 3 s render delay, set in playwright.config.ts, so progress can be watched): a text-to-video job
 * from the form runs live on its page without a reload, its video opens in the gallery with the
 * job's prompt and operation, and "Remix" brings it back into the form as an image-to-video job
 * that finishes live in the jobs list. Also: the form without JavaScript, and phones.
 */
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import sharp from 'sharp';
import { contextWithSession, registerViaApi, uniqueUser } from './support/app';

async function uploadImage(request: APIRequestContext, token: string, name: string): Promise<string> {
	const buffer = await sharp({ create: { width: 320, height: 180, channels: 3, background: { r: 240, g: 150, b: 40 } } }).png().toBuffer();
	const res = await request.post('/api/v1/assets/upload', {
		headers: { authorization: `Bearer ${token}` },
		multipart: { file: { name, mimeType: 'image/png', buffer } }
	});
	expect(res.status(), await res.text()).toBe(202);
	return ((await res.json()) as { asset_id: string }).asset_id;
}

async function waitUntilReady(request: APIRequestContext, token: string, assetId: string) {
	await expect
		.poll(
			async () => {
				const res = await request.get(`/api/v1/assets/${assetId}`, { headers: { authorization: `Bearer ${token}` } });
				return ((await res.json()) as { status: string }).status;
			},
			{ timeout: 30_000 }
		)
		.toBe('ready');
}

/**
 * Records, inside the page, every status the job's badge shows and every progress value its bar
 * reports, and marks the document: if the page reloaded, the mark and the record would be gone.
 */
async function recordLiveChanges(page: Page, scope: string) {
	await page.evaluate((selector) => {
		const seen = { statuses: [] as string[], progress: [] as number[] };
		Object.assign(window, { __seen: seen });
		const record = () => {
			const root = document.querySelector(selector);
			const status = root?.querySelector('[data-status]')?.getAttribute('data-status');
			if (status && seen.statuses.at(-1) !== status) seen.statuses.push(status);
			const value = root?.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow');
			if (value != null && seen.progress.at(-1) !== Number(value)) seen.progress.push(Number(value));
		};
		record();
		new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
	}, scope);
}

const seen = (page: Page) =>
	page.evaluate(() => (window as unknown as { __seen?: { statuses: string[]; progress: number[] } }).__seen ?? null);

test('a text-to-video job runs live, opens in the gallery and is remixed into an image-to-video job', async ({ browser, request }) => {
	test.setTimeout(120_000);
	const token = await registerViaApi(request, uniqueUser('jobs'));
	// The image the remix animates (remixing through a frame of the video is remix-frame.spec.ts).
	const imageId = await uploadImage(request, token, 'dawn.png');
	await waitUntilReady(request, token, imageId);

	const context = await contextWithSession(browser, token, { viewport: { width: 1280, height: 800 } });
	const page = await context.newPage();
	await page.goto('/jobs');
	await expect(page.getByRole('heading', { name: 'No jobs yet' })).toBeVisible();
	await page.getByRole('link', { name: 'New job' }).click();

	// The form: the operation first, then a provider offering it, then that provider's fields.
	await expect(page).toHaveURL(/\/jobs\/new$/);
	await expect(page.getByRole('radio', { name: /^Text to video/ })).toBeChecked();
	await expect(page.getByLabel('Provider')).toHaveValue('local');
	await expect(page.getByLabel('Aspect ratio')).toHaveValue('16:9');

	// The jobs service's verdict on the params appears beside the field it is about.
	await page.getByRole('button', { name: 'Create job' }).click();
	const prompt = page.getByLabel('Prompt');
	await expect(prompt).toHaveAttribute('aria-invalid', 'true');
	await expect(page.locator(`#${await prompt.getAttribute('id')}-error`)).toBeVisible();

	await prompt.fill('A lighthouse at dusk');
	await page.getByLabel('Duration (seconds)').fill('2');
	await page.getByRole('button', { name: 'Create job' }).click();
	await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
	const firstJobId = page.url().split('/').at(-1);
	await expect(page.getByRole('heading', { level: 1, name: 'A lighthouse at dusk' })).toBeVisible();

	// Live on its page: the badge moves on and the progress bar fills, with no reload.
	const status = page.getByRole('region', { name: 'Status' });
	await recordLiveChanges(page, '[aria-label="Status"]');
	await expect(status.locator('[data-status]')).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
	const watched = await seen(page);
	expect(watched, 'the page was reloaded').not.toBeNull();
	expect(watched!.statuses.at(-1)).toBe('completed');
	expect(watched!.statuses).toContain('processing');
	// In the order a job goes through them (queued may already be over when the page opens).
	const order = ['queued', 'processing', 'completed'];
	expect(watched!.statuses.map((s) => order.indexOf(s))).toEqual([...watched!.statuses.map((s) => order.indexOf(s))].sort());
	expect(watched!.progress.length, `progress seen: ${watched!.progress.join(', ')}`).toBeGreaterThanOrEqual(2);
	expect(watched!.progress).toEqual([...watched!.progress].sort((a, b) => a - b));

	// The result and the ledger.
	const result = page.getByRole('region', { name: 'Result' });
	await expect(result.locator('video')).toHaveAttribute('src', /\/api\/v1\/assets\/[0-9a-f-]{36}\/file$/);
	const submissions = page.getByRole('region', { name: 'Submissions' });
	await expect(submissions.getByRole('heading', { name: /Attempt 1/ })).toBeVisible();
	await expect(submissions.getByLabel('Payload of attempt 1')).toContainText('A lighthouse at dusk');

	// In the gallery: the job's operation and prompt beside the video, and Remix.
	await result.getByRole('link', { name: 'Open in the gallery' }).click();
	await expect(page).toHaveURL(/\/gallery\?asset=[0-9a-f-]{36}$/);
	const viewer = page.getByRole('dialog');
	await expect(viewer.locator('video')).toBeVisible();
	const details = viewer.getByRole('complementary', { name: 'Details' });
	await expect(details).toContainText('Text to video');
	await expect(details).toContainText('A lighthouse at dusk');
	await expect(details.getByRole('link', { name: 'Open the job' })).toHaveAttribute('href', `/jobs/${firstJobId}`);
	await details.getByRole('link', { name: 'Remix' }).click();

	// The form comes back filled from the job that made the video; the operation can change.
	await expect(page).toHaveURL(/\/jobs\/new\?remix=[0-9a-f-]{36}$/);
	await expect(page.getByRole('radio', { name: /^Text to video/ })).toBeChecked();
	await expect(page.getByLabel('Prompt')).toHaveValue('A lighthouse at dusk');
	await expect(page.getByLabel('Duration (seconds)')).toHaveValue('2');
	await page.getByRole('radio', { name: /^Image to video/ }).check();
	const picker = page.getByRole('group', { name: /^Image/ });
	await expect(picker.getByRole('radio', { name: /dawn\.png/ })).toBeVisible();
	// Only images are offered for an image input.
	await expect(picker.getByRole('radio', { name: /\(video\)/ })).toHaveCount(0);
	await picker.getByRole('radio', { name: /dawn\.png/ }).check();
	await expect(page.getByLabel('Prompt')).toHaveValue('A lighthouse at dusk');
	await page.getByRole('button', { name: 'Create job' }).click();
	await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
	const remixId = page.url().split('/').at(-1);

	// The remix finishes live in the jobs list.
	await page.getByRole('link', { name: '← All jobs' }).click();
	await expect(page).toHaveURL(/\/jobs$/);
	const card = page.locator(`article[data-job-id="${remixId}"]`);
	await expect(card).toContainText('Image to video');
	await recordLiveChanges(page, `article[data-job-id="${remixId}"]`);
	await expect(card).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
	const inList = await seen(page);
	expect(inList, 'the list was reloaded').not.toBeNull();
	expect(inList!.statuses.at(-1)).toBe('completed');
	const remixResult = card.getByRole('link', { name: 'Open result' });
	await expect(remixResult).toBeVisible();
	await expect(page.locator('article[data-job-id]')).toHaveCount(2);
	const remixAssetHref = (await remixResult.getAttribute('href'))!;

	// Filters live in the URL.
	await page.getByLabel('Operation').selectOption('text_to_video');
	await expect(page).toHaveURL(/operation_type=text_to_video/);
	await expect(page.locator('article[data-job-id]')).toHaveCount(1);
	await expect(page.locator(`article[data-job-id="${firstJobId}"]`)).toBeVisible();

	// The gallery finds generated media by its prompt; the remix names its operation and source.
	await page.goto('/gallery?q=lighthouse');
	await expect(page.locator('a[data-index]')).toHaveCount(2);
	await page.goto(remixAssetHref);
	const remixDetails = page.getByRole('dialog').getByRole('complementary', { name: 'Details' });
	await expect(remixDetails).toContainText('Image to video');
	await expect(remixDetails.getByRole('button', { name: 'Made from dawn.png' })).toBeVisible();
	await context.close();
});

test('cancel stops a job waiting for its schedule, and retry queues it again', async ({ browser, request }) => {
	const token = await registerViaApi(request, uniqueUser('jobcancel'));
	const later = new Date(Date.now() + 3_600_000).toISOString();
	const res = await request.post('/api/v1/jobs', {
		headers: { authorization: `Bearer ${token}` },
		data: { operation_type: 'text_to_video', provider_id: 'local', params: { prompt: 'Later, please' }, scheduled_at: later }
	});
	expect(res.status(), await res.text()).toBe(201);
	const jobId = ((await res.json()) as { id: string }).id;

	const context = await contextWithSession(browser, token);
	const page = await context.newPage();
	await page.goto('/jobs');
	const card = page.locator(`article[data-job-id="${jobId}"]`);
	await expect(card).toHaveAttribute('data-status', 'pending');
	await expect(card).toContainText('Scheduled for');
	await card.getByRole('button', { name: 'Cancel' }).click();
	await expect(card).toHaveAttribute('data-status', 'cancelled');
	await expect(page.getByText('Job cancelled.')).toBeVisible();
	await card.getByRole('button', { name: 'Retry' }).click();
	await expect(card).not.toHaveAttribute('data-status', 'cancelled');
	await expect(page.getByText('Job queued again.')).toBeVisible();
	await context.close();
});

test.describe('without JavaScript', () => {
	test('the form shows the fields of another operation and creates a job', async ({ browser, request }) => {
		const token = await registerViaApi(request, uniqueUser('jobnojs'));
		const imageId = await uploadImage(request, token, 'still.png');
		await waitUntilReady(request, token, imageId);
		const context = await contextWithSession(browser, token, { javaScriptEnabled: false });
		const page = await context.newPage();
		await page.goto('/jobs/new');
		await page.getByLabel('Prompt').fill('Without scripts');
		await page.getByRole('radio', { name: /^Image to video/ }).check();
		await page.getByRole('button', { name: 'Show the fields for this choice' }).click();
		await expect(page.getByRole('radio', { name: /^Image to video/ })).toBeChecked();
		await expect(page.getByLabel('Prompt (optional)')).toHaveValue('Without scripts');
		await page.getByRole('group', { name: /^Image/ }).getByRole('radio', { name: /still\.png/ }).check();
		await page.getByRole('button', { name: 'Create job' }).click();
		await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
		await expect(page.getByRole('heading', { level: 1, name: 'Without scripts' })).toBeVisible();
		await expect(page.getByText('Image to video with local')).toBeVisible();
		await context.close();
	});

	test('cancel works from the list, and another user’s job is not found', async ({ browser, request }) => {
		const token = await registerViaApi(request, uniqueUser('jobnojs2'));
		const res = await request.post('/api/v1/jobs', {
			headers: { authorization: `Bearer ${token}` },
			data: { operation_type: 'text_to_video', provider_id: 'local', params: { prompt: 'Not yet' }, scheduled_at: new Date(Date.now() + 3_600_000).toISOString() }
		});
		const jobId = ((await res.json()) as { id: string }).id;
		const context = await contextWithSession(browser, token, { javaScriptEnabled: false });
		const page = await context.newPage();
		await page.goto('/jobs');
		await page.locator(`article[data-job-id="${jobId}"]`).getByRole('button', { name: 'Cancel' }).click();
		await expect(page.locator(`article[data-job-id="${jobId}"]`)).toHaveAttribute('data-status', 'cancelled');

		const stranger = await contextWithSession(browser, await registerViaApi(request, uniqueUser('jobstranger')), { javaScriptEnabled: false });
		const other = await stranger.newPage();
		const response = await other.goto(`/jobs/${jobId}`);
		expect(response?.status()).toBe(404);
		await context.close();
		await stranger.close();
	});
});

test('the jobs list and the form fit a 375 px phone', async ({ browser, request }) => {
	const token = await registerViaApi(request, uniqueUser('jobphone'));
	const res = await request.post('/api/v1/jobs', {
		headers: { authorization: `Bearer ${token}` },
		data: { operation_type: 'text_to_video', provider_id: 'local', params: { prompt: 'A rather long prompt about a very long winding road through the hills at night', duration: 1 } }
	});
	expect(res.status(), await res.text()).toBe(201);
	const context = await contextWithSession(browser, token, { viewport: { width: 375, height: 740 } });
	const page = await context.newPage();
	const sideways = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
	await page.goto('/jobs');
	await expect(page.locator('article[data-job-id]')).toHaveCount(1);
	expect(await sideways()).toBeLessThanOrEqual(0);
	await page.getByRole('link', { name: 'New job' }).click();
	await expect(page.getByLabel('Prompt')).toBeVisible();
	expect(await sideways()).toBeLessThanOrEqual(0);
	await page.getByRole('radio', { name: /^Fusion/ }).check();
	await page.getByText('Name, priority, schedule and workspace').click();
	await expect(page.getByLabel('Priority')).toBeVisible();
	expect(await sideways()).toBeLessThanOrEqual(0);
	await page.goto('/jobs');
	await page.locator('article[data-job-id] h2 a').click();
	await expect(page.getByRole('region', { name: 'Submissions' })).toBeVisible();
	expect(await sideways()).toBeLessThanOrEqual(0);
	await context.close();
});
