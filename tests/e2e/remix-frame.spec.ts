/**
 * Remixing a generated video into an image-to-video job through one of its frames: the job form
 * offers "Use a frame of this video" beside the image input, the frame becomes an image asset
 * (lineage: made from the video) and fills the input, and the new job runs on the app's real
 * worker with its local renderer. With JavaScript (the frame is taken through the API and waited
 * for) and without (the button submits the form to the page's action).
 */
import { expect, test, type APIRequestContext } from '@playwright/test';
import { contextWithSession, registerViaApi, uniqueUser } from './support/app';

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

/** A finished text-to-video job's video, ready (thumbnailed), made through the API. */
async function generatedVideo(request: APIRequestContext, token: string, prompt: string): Promise<string> {
	const created = await request.post('/api/v1/jobs', {
		headers: auth(token),
		data: { operation_type: 'text_to_video', provider_id: 'local', params: { prompt, duration: 1 } }
	});
	expect(created.status(), await created.text()).toBe(201);
	const jobId = ((await created.json()) as { id: string }).id;
	let assetId: string | null = null;
	await expect
		.poll(
			async () => {
				const job = (await (await request.get(`/api/v1/jobs/${jobId}`, { headers: auth(token) })).json()) as { status: string; asset_id: string | null };
				assetId = job.asset_id;
				if (!assetId) return job.status;
				const asset = (await (await request.get(`/api/v1/assets/${assetId}`, { headers: auth(token) })).json()) as { status: string };
				return `${job.status}/${asset.status}`;
			},
			{ timeout: 40_000 }
		)
		.toBe('completed/ready');
	return assetId!;
}

async function lineageParents(request: APIRequestContext, token: string, assetId: string) {
	const res = await request.get(`/api/v1/assets/${assetId}/lineage?depth=1`, { headers: auth(token) });
	const graph = (await res.json()) as { edges: { parent_id: string; child_id: string; relation: string }[] };
	return graph.edges.filter((e) => e.child_id === assetId);
}

test('a generated video is remixed into an image-to-video job from one of its frames', async ({ browser, request }) => {
	test.setTimeout(120_000);
	const token = await registerViaApi(request, uniqueUser('jobframe'));
	const context = await contextWithSession(browser, token, { viewport: { width: 1280, height: 800 } });
	const page = await context.newPage();

	// A text-to-video job from the form, run by the local renderer.
	await page.goto('/jobs/new');
	await page.getByLabel('Prompt').fill('A harbour at noon');
	await page.getByLabel('Duration (seconds)').fill('2');
	await page.getByRole('button', { name: 'Create job' }).click();
	await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
	const status = page.getByRole('region', { name: 'Status' }).locator('[data-status]');
	await expect(status).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });

	// Its video in the gallery, and Remix.
	await page.getByRole('region', { name: 'Result' }).getByRole('link', { name: 'Open in the gallery' }).click();
	const details = page.getByRole('dialog').getByRole('complementary', { name: 'Details' });
	await expect(details).toContainText('A harbour at noon');
	await details.getByRole('link', { name: 'Remix' }).click();
	await expect(page).toHaveURL(/\/jobs\/new\?remix=[0-9a-f-]{36}$/);
	const videoId = new URL(page.url()).searchParams.get('remix')!;

	// Image to video: the video cannot be the image, but a frame of it can.
	await page.getByRole('radio', { name: /^Image to video/ }).check();
	const picker = page.getByRole('group', { name: /^Image/ });
	await expect(picker).toContainText('or use one of its frames');
	await picker.getByLabel('Frame at second (optional)').fill('0.5');
	await picker.getByRole('button', { name: 'Use a frame of this video' }).click();
	const frame = picker.getByRole('radio', { name: /frame-0\.5s\.png/ });
	await expect(frame).toBeChecked({ timeout: 30_000 });
	await expect(picker.getByRole('button', { name: 'Use a frame of this video' })).toBeEnabled();
	const frameId = await frame.getAttribute('value');
	expect(await lineageParents(request, token, frameId!)).toEqual([{ parent_id: videoId, child_id: frameId, relation: 'source_video', operation_type: null, job_id: null }]);

	// The prompt came along from the remixed job; the new job runs.
	await expect(page.getByLabel(/^Prompt/)).toHaveValue('A harbour at noon');
	await page.getByRole('button', { name: 'Create job' }).click();
	await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
	await expect(page.getByText('Image to video with local')).toBeVisible();
	await expect(status).toHaveAttribute('data-status', /processing|completed/, { timeout: 30_000 });
	await expect(status).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
	await context.close();
});

test.describe('without JavaScript', () => {
	test('"Use a frame of this video" submits the form and fills the image input with the frame', async ({ browser, request }) => {
		test.setTimeout(90_000);
		const token = await registerViaApi(request, uniqueUser('framenojs'));
		const videoId = await generatedVideo(request, token, 'Rain on a window');
		const context = await contextWithSession(browser, token, { javaScriptEnabled: false });
		const page = await context.newPage();
		await page.goto(`/jobs/new?remix=${videoId}`);
		await page.getByRole('radio', { name: /^Image to video/ }).check();
		await page.getByRole('button', { name: 'Show the fields for this choice' }).click();
		await expect(page.getByRole('radio', { name: /^Image to video/ })).toBeChecked();

		const picker = page.getByRole('group', { name: /^Image/ });
		await picker.getByRole('button', { name: 'Use a frame of this video' }).click();
		// A 1-second clip's poster moment is its first frame.
		const frame = picker.getByRole('radio', { name: /frame-0s\.png/ });
		await expect(frame).toBeChecked();
		await expect(page.getByLabel(/^Prompt/)).toHaveValue('Rain on a window');
		const frameId = await frame.getAttribute('value');
		expect((await lineageParents(request, token, frameId!)).map((e) => e.parent_id)).toEqual([videoId]);

		await page.getByRole('button', { name: 'Create job' }).click();
		await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
		await expect(page.getByText('Image to video with local')).toBeVisible();
		await context.close();
	});
});
