// The admin in a real browser: log in, select three posts, delete them after the confirmation
// page with its counts, see the message; a protected product's blockers leave no button.
const { test, expect } = require('@playwright/test');
const path = require('path');

const shots = process.env.CASCADE_BROWSER_OUTPUT || 'test-results';

async function logIn(page) {
  await page.goto('/admin/');
  await expect(page).toHaveURL(/\/admin\/login\//);
  await page.getByLabel('Username:').fill('admin');
  await page.getByLabel('Password:').fill(process.env.CASCADE_ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.locator('h1')).toHaveText('Site administration');
}

test('select three posts, confirm the counts, delete them', async ({ page }) => {
  await logIn(page);
  await page.getByRole('link', { name: 'Posts', exact: true }).click();
  await expect(page.locator('h1')).toHaveText('Select post to delete');
  const boxes = page.locator('input[name="_selected_action"]');
  for (let i = 0; i < 3; i++) await boxes.nth(i).check();
  await page.getByRole('button', { name: 'Delete selected posts' }).click();
  await expect(page.locator('h1')).toHaveText('Are you sure?');
  await expect(page.locator('main')).toContainText('the 3 selected posts');
  await expect(page.locator('.summary')).toContainText('Posts: 3');
  await page.screenshot({ path: path.join(shots, 'admin-confirm.png'), fullPage: true });
  await page.getByRole('button', { name: 'Yes, I’m sure' }).click();
  await expect(page).toHaveURL(/\/admin\/blog\/post\/$/);
  await expect(page.getByRole('status')).toContainText('Successfully deleted 3 posts');
  await page.screenshot({ path: path.join(shots, 'admin-deleted.png'), fullPage: true });
});

test('a protected product shows its blockers and no button', async ({ page }) => {
  await logIn(page);
  // The product of an order item: the first order item's detail page names it.
  await page.goto('/shop/orderitem/');
  await page.locator('table a').first().click();
  const productUrl = await page.locator('th', { hasText: 'product' }).locator('xpath=../td/a').getAttribute('href');
  const key = productUrl.split('/').filter(Boolean).pop();
  await page.goto('/admin/shop/product/');
  await page.locator(`input[name="_selected_action"][value="${key}"]`).check();
  await page.getByRole('button', { name: 'Delete selected products' }).click();
  await expect(page.locator('h1')).toContainText('Cannot delete products');
  await expect(page.locator('.blocked')).toContainText('Order item:');
  await expect(page.getByRole('button', { name: 'Yes, I’m sure' })).toHaveCount(0);
  await page.screenshot({ path: path.join(shots, 'admin-protected.png'), fullPage: true });
});
