// The admin in a real browser: log in, select three posts, delete them after the confirmation
// page with its counts, see the message; a protected product's blockers leave no button; a staff
// user without permission is refused; contacts go to the trash and come back; the audit log shows
// each operation. The flows run in order on one database.
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
  // Search and filters narrow the list; the selection below is from the whole list again.
  await page.getByRole('searchbox').fill('data');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.locator('main')).toContainText('posts matching');
  await page.locator('aside').getByRole('link', { name: 'published' }).click();
  await expect(page).toHaveURL(/status=published/);
  await page.screenshot({ path: path.join(shots, 'admin-changelist.png'), fullPage: true });
  await page.goto('/admin/blog/post/');
  const boxes = page.locator('input[name="_selected_action"]');
  for (let i = 0; i < 3; i++) await boxes.nth(i).check();
  await page.getByRole('button', { name: 'Delete selected posts' }).click();
  await expect(page.locator('h1')).toHaveText('Are you sure?');
  await expect(page.locator('main')).toContainText('the 3 selected posts');
  await expect(page.locator('.summary')).toContainText('Posts: 3');
  await page.screenshot({ path: path.join(shots, 'admin-confirm.png'), fullPage: true });
  // Each count lists all the objects it counts, page by page; the page changes nothing.
  await page.locator('.summary').getByRole('link', { name: /^Comments: / }).click();
  await expect(page.locator('h1')).toContainText('Comments this delete would remove');
  await page.screenshot({ path: path.join(shots, 'admin-drilldown.png'), fullPage: true });
  await page.getByRole('link', { name: 'Back to the confirmation' }).click();
  await expect(page.locator('h1')).toHaveText('Are you sure?');
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

test('a staff user without permission is refused', async ({ page }) => {
  await page.goto('/admin/login/');
  await page.getByLabel('Username:').fill('clerk');
  await page.getByLabel('Password:').fill(process.env.CASCADE_CLERK_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.locator('h1')).toHaveText('Site administration');
  // Only the posts, which the clerk may view, are listed; nothing may be deleted.
  await expect(page.getByRole('link', { name: 'Posts', exact: true })).toHaveCount(1);
  await expect(page.getByRole('link', { name: 'Authors', exact: true })).toHaveCount(0);
  await page.getByRole('link', { name: 'Posts', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Delete selected posts' })).toHaveCount(0);
  const refused = await page.goto('/admin/blog/author/');
  expect(refused.status()).toBe(403);
  await expect(page.locator('main')).toContainText('You do not have permission to view authors');
  await page.screenshot({ path: path.join(shots, 'admin-refused.png'), fullPage: true });
  const trash = await page.goto('/admin/trash-bin/');
  expect(trash.status()).toBe(403);
});

test('soft-deleted contacts go to the trash, then come back', async ({ page }) => {
  await logIn(page);
  await page.getByRole('link', { name: 'Contacts', exact: true }).click();
  const boxes = page.locator('input[name="_selected_action"]');
  for (let i = 0; i < 2; i++) await boxes.nth(i).check();
  await page.getByRole('button', { name: 'Delete selected contacts' }).click();
  await expect(page.locator('main')).toContainText('moved to the trash');
  await expect(page.locator('.summary')).toContainText('Contacts: 2');
  await page.getByLabel('Reason, kept in the audit log:').fill('duplicates of other contacts');
  await page.getByRole('button', { name: 'Yes, I’m sure' }).click();
  await expect(page.getByRole('status')).toContainText('Successfully deleted 2 contacts');
  await page.goto('/admin/');
  await page.getByRole('link', { name: 'Trash', exact: true }).click();
  await expect(page.locator('h1')).toHaveText('Trash');
  await expect(page.locator('main')).toContainText('duplicates of other contacts');
  await expect(page.locator('main')).toContainText('admin (admin)');
  await page.screenshot({ path: path.join(shots, 'admin-trash.png'), fullPage: true });
  await page.getByRole('link', { name: 'Restore' }).first().click();
  await expect(page.locator('h1')).toHaveText('Restore?');
  await expect(page.locator('.summary')).toContainText('Contacts: 2');
  await page.screenshot({ path: path.join(shots, 'admin-restore.png'), fullPage: true });
  await page.getByRole('button', { name: 'Yes, restore them' }).click();
  await expect(page.getByRole('status')).toContainText('Restored');
  await expect(page.locator('main')).toContainText('The trash is empty.');
});

test('the audit log shows each operation', async ({ page }) => {
  await logIn(page);
  await page.getByRole('link', { name: 'Audit log', exact: true }).click();
  await expect(page.locator('h1')).toHaveText('Audit log');
  const rows = page.locator('table tr');
  // The posts' delete, the contacts' soft delete and their restore (and the header row).
  await expect(rows).toHaveCount(4);
  await expect(rows.nth(1)).toContainText('restore');
  await expect(rows.nth(2)).toContainText('soft_delete');
  await expect(rows.nth(2)).toContainText('duplicates of other contacts');
  await expect(rows.nth(3)).toContainText('delete');
  await expect(rows.nth(3)).toContainText('Posts: 3');
  await page.screenshot({ path: path.join(shots, 'admin-log.png'), fullPage: true });
  await rows.nth(2).getByRole('link').click();
  await expect(page.locator('main')).toContainText('crm.Contact');
  await expect(page.locator('main')).toContainText('crm.Note');
  await page.screenshot({ path: path.join(shots, 'admin-log-entry.png'), fullPage: true });
});
