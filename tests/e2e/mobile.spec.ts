import { expect, test, type Page } from '@playwright/test';
import { userStatePath } from './support/env';

test.use({ storageState: userStatePath(), viewport: { width: 375, height: 740 } });

const menuButton = (page: Page) => page.getByText('Menu', { exact: true });

async function expectNoSideways(page: Page) {
	const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
	expect(overflow).toBeLessThanOrEqual(0);
}

test('on a phone the navigation folds into a menu that navigates', async ({ page }) => {
	await page.goto('/gallery');
	const nav = page.getByRole('navigation', { name: 'Main' });
	await expect(nav).toBeHidden();
	await expect(menuButton(page)).toBeVisible();
	await expectNoSideways(page);

	await menuButton(page).click();
	await expect(nav).toBeVisible();
	await expect(nav.getByRole('link', { name: 'Gallery' })).toHaveAttribute('aria-current', 'page');
	await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();

	await nav.getByRole('link', { name: 'Jobs' }).click();
	await expect(page).toHaveURL(/\/jobs$/);
	await expect(page.getByRole('heading', { level: 1, name: 'Jobs' })).toBeVisible();
	// The menu closes after navigating.
	await expect(nav).toBeHidden();

	// Escape closes it too, and gives focus back to the toggle.
	await menuButton(page).click();
	await expect(nav).toBeVisible();
	await page.keyboard.press('Escape');
	await expect(nav).toBeHidden();
	await expect(page.locator('summary')).toBeFocused();

	await page.goto('/settings');
	await expectNoSideways(page);
});

test.describe('without JavaScript', () => {
	test.use({ javaScriptEnabled: false });

	test('the phone menu still opens and navigates', async ({ page }) => {
		await page.goto('/gallery');
		const nav = page.getByRole('navigation', { name: 'Main' });
		await expect(nav).toBeHidden();
		await menuButton(page).click();
		await nav.getByRole('link', { name: 'Settings' }).click();
		await expect(page).toHaveURL(/\/settings$/);
		await expect(page.getByRole('heading', { level: 1, name: 'Settings' })).toBeVisible();
	});
});
