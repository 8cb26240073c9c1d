import { expect, test } from '@playwright/test';
import { mainNav, section } from './support/app';
import { userStatePath } from './support/env';

test.use({ storageState: userStatePath() });

const pages = [
	{ link: 'Gallery', path: '/gallery', empty: 'No media yet' },
	{ link: 'Jobs', path: '/jobs', empty: 'No jobs yet' },
	{ link: 'Scenes', path: '/scenes', empty: 'No scenes yet' },
	{ link: 'Devices', path: '/devices', empty: 'No devices yet' }
];

test('each section of the app opens from the navigation with an honest empty state', async ({ page }) => {
	await page.goto('/');
	await expect(page).toHaveURL(/\/gallery$/);
	for (const { link, path, empty } of pages) {
		await mainNav(page).getByRole('link', { name: link }).click();
		await expect(page).toHaveURL(new RegExp(`${path}$`));
		await expect(page.getByRole('heading', { level: 1, name: link })).toBeVisible();
		await expect(page.getByRole('heading', { level: 2, name: empty })).toBeVisible();
		await expect(page).toHaveTitle(`${link} · PixSim7`);
		await expect(mainNav(page).locator('[aria-current="page"]')).toHaveText(link);
	}
});

test('settings show quotas and today’s usage', async ({ page }) => {
	await page.goto('/settings');
	const usage = section(page, 'Quotas and usage');
	await expect(usage).toContainText('Jobs today');
	await expect(usage).toContainText('0 of 200');
	await expect(usage).toContainText('0 bytes of 10 GiB');
	await expect(usage).toContainText('Up to 5');
});

test('an unknown page answers 404', async ({ page }) => {
	const response = await page.goto('/gallery/nothing-here');
	expect(response?.status()).toBe(404);
	await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});
