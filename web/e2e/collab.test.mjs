// Chat, raised hands, the waiting room and the meeting log in real browsers against the real
// server: one meeting, steps in order, axe run on every new panel and screen on the way.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  button,
  eventually,
  expectAccessible,
  heading,
  joinedRoom,
  nameField,
  newPerson,
  openTab,
  outDir,
  region,
  rowAction,
  serverAndBrowser,
  startMeeting,
  tileId,
} from './harness.mjs';

const toast = (page, text) => page.locator('.toasts').getByText(text, { exact: true });
const chatLog = (page) => page.getByRole('log', { name: 'Chat' });
const chatTexts = (page) => chatLog(page).locator('.chat-text').allTextContents();
const badgeOf = (page, toolId) => page.locator('.toolbar-slot', { has: page.locator(`#${toolId}`) }).locator('.tool-badge');

/** Goes to the meeting link as name with the camera off (fewer encoders on a small machine) and asks to join. */
async function askToJoin(person, url, name) {
  await person.page.goto(url);
  await nameField(person.page).fill(name);
  await button(person.page, 'Turn off camera').click();
  await button(person.page, 'Join').click();
}

/** Sends a chat message from the open chat panel, to everyone or (to) privately to one person. */
async function sendChat(page, text, to = 'Everyone') {
  await page.getByRole('combobox', { name: 'Send to' }).selectOption({ label: to });
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await button(page, 'Send').click();
  await eventually(async () => (await page.getByRole('textbox', { name: 'Message' }).inputValue()) === '', {
    what: `"${text}" to be sent`,
  });
}

describe('chat, raised hands, the waiting room and the meeting log', { timeout: 300_000 }, () => {
  const env = serverAndBrowser('collab-server.log');
  let browser;
  let host;
  let grace;
  let linus;
  let joinUrl;
  const extra = [];

  before(async () => {
    ({ browser } = env);
    host = await newPerson(browser, { name: 'collab-ada' });
    grace = await newPerson(browser, { name: 'collab-grace' });
    linus = await newPerson(browser, { name: 'collab-linus' });
    joinUrl = await startMeeting(env.server, host, 'Ada');
    for (const [person, name] of [
      [grace, 'Grace'],
      [linus, 'Linus'],
    ]) {
      await askToJoin(person, joinUrl, name);
      await joinedRoom(person.page, name);
    }
  });

  after(async () => {
    for (const p of extra) await p.context.close().catch(() => undefined);
  });

  async function another(name) {
    const p = await newPerson(browser, { name: `collab-${name.toLowerCase()}` });
    extra.push(p);
    return p;
  }

  it('two guests chat in public and in private; links stay text; a late joiner sees the public history', async () => {
    await button(grace.page, 'Chat').click();
    await chatLog(grace.page).waitFor();
    await expectAccessible(grace.page, 'the chat panel, empty');
    const hello = 'Hello everyone <b>not bold</b> https://example.com/x';
    await sendChat(grace.page, hello);

    // Linus has the people panel open: the chat button counts the message.
    await eventually(async () => (await badgeOf(linus.page, 'tool-panel-chat').textContent()) === '1', {
      what: "Linus's unread count to show 1",
    });
    await button(linus.page, 'Chat').click();
    await chatLog(linus.page).getByText(hello, { exact: true }).waitFor();
    assert.equal(await badgeOf(linus.page, 'tool-panel-chat').count(), 0, 'the count clears when the chat shows');
    // The markup and the link are shown as the text they are.
    assert.equal(await chatLog(linus.page).locator('a, b').count(), 0);

    await sendChat(grace.page, 'psst, Linus', 'Linus (private)');
    const priv = chatLog(linus.page).locator('li', { hasText: 'psst, Linus' });
    await priv.waitFor();
    assert.match(await priv.textContent(), /Grace to you \(private\)/);
    await chatLog(grace.page).locator('li', { hasText: 'You to Linus (private)' }).waitFor();
    await sendChat(linus.page, 'after the private one');
    await expectAccessible(linus.page, 'the chat panel with messages');
    await linus.page.screenshot({ path: join(outDir, 'collab-chat.png') });

    // The host got the public messages only.
    await button(host.page, 'Chat').click();
    await chatLog(host.page).getByText('after the private one', { exact: true }).waitFor();
    assert.deepEqual(await chatTexts(host.page), [hello, 'after the private one']);

    const ken = await another('Ken');
    await askToJoin(ken, joinUrl, 'Ken');
    await joinedRoom(ken.page, 'Ken');
    await button(ken.page, 'Chat').click();
    await chatLog(ken.page).getByText('after the private one', { exact: true }).waitFor();
    assert.deepEqual(await chatTexts(ken.page), [hello, 'after the private one']);
    await ken.context.close();

    // The host stops chat: the guests' message box goes quiet and says why; the host's does not.
    await openTab(host.page, 'Host controls');
    // The box shows the meeting's state as the server tells it: a click asks, the event answers.
    const allow = host.page.getByRole('checkbox', { name: 'Allow chat' });
    await allow.click();
    await eventually(async () => !(await allow.isChecked()), { what: 'chat to be off' });
    await linus.page.getByRole('status').filter({ hasText: 'The host has turned chat off.' }).waitFor();
    assert.equal(await linus.page.getByRole('textbox', { name: 'Message' }).isDisabled(), true);
    await allow.click();
    await eventually(async () => !(await linus.page.getByRole('textbox', { name: 'Message' }).isDisabled()), {
      what: 'chat to come back',
    });
  });

  it('a guest muted by the host raises a hand right where the mute is told; the host sees it first in the list and lowers it', async () => {
    await (await rowAction(host.page, 'Grace', 'Mute Grace')).click();
    const caption = grace.page.locator('.tool-caption');
    await caption.getByText('The host muted you').waitFor();
    await caption.getByRole('button', { name: 'Raise hand', exact: true }).click();
    await button(grace.page, 'Lower hand').waitFor();
    assert.equal(await caption.getByRole('button', { name: 'Raise hand' }).count(), 0);

    await toast(host.page, 'Grace raised a hand').waitFor();
    await region(host.page, 'Grace').getByRole('img', { name: 'Hand raised' }).waitFor();
    await openTab(host.page, 'Participants');
    const graceId = await tileId(host.page, 'Grace');
    const first = host.page.locator('ul.people li').first();
    await eventually(async () => (await first.getAttribute('data-participant-id')) === graceId, {
      what: 'Grace first in the participants list',
    });
    await first.getByRole('img', { name: 'Hand raised' }).waitFor();
    await button(host.page, 'Lower all hands').waitFor();
    await expectAccessible(host.page, 'the participants list with a raised hand');
    await host.page.screenshot({ path: join(outDir, 'collab-hand.png') });
    await grace.page.screenshot({ path: join(outDir, 'collab-hand-guest.png') });

    await button(host.page, 'Lower hand for Grace').click();
    await button(grace.page, 'Raise hand').first().waitFor();
    await caption.getByRole('button', { name: 'Raise hand', exact: true }).waitFor();
    await eventually(async () => (await region(host.page, 'Grace').getByRole('img', { name: 'Hand raised' }).count()) === 0, {
      what: "the hand to go from Grace's tile",
    });
  });

  it('with the waiting room on, guests wait; the host admits one, denies another, and one leaves by itself', async () => {
    await openTab(host.page, 'Host controls');
    const lobby = host.page.getByRole('checkbox', { name: 'Waiting room' });
    await lobby.click();
    await eventually(() => lobby.isChecked(), { what: 'the waiting room to be on' });

    const bo = await another('Bo');
    const cy = await another('Cy');
    const dee = await another('Dee');
    for (const [p, name] of [
      [bo, 'Bo'],
      [cy, 'Cy'],
      [dee, 'Dee'],
    ]) {
      await askToJoin(p, joinUrl, name);
      await heading(p.page, 'Waiting for the host to let you in').waitFor();
      await toast(host.page, `${name} is waiting to join`).waitFor();
    }
    await expectAccessible(bo.page, 'the waiting screen');
    await button(host.page, 'Admit all').waitFor();
    await expectAccessible(host.page, 'the host controls with people waiting');
    await host.page.screenshot({ path: join(outDir, 'collab-waiting.png') });
    await bo.page.screenshot({ path: join(outDir, 'collab-held.png') });

    await button(dee.page, 'Leave').click();
    await eventually(async () => (await button(host.page, 'Admit Dee').count()) === 0, { what: 'Dee to leave the list' });
    await dee.context.close();

    await button(host.page, 'Admit Bo').click();
    await joinedRoom(bo.page, 'Bo');
    await region(host.page, 'Bo').waitFor();

    await button(host.page, 'Deny Cy').click();
    await heading(cy.page, 'The host did not let you in').waitFor();
    await expectAccessible(cy.page, 'the denied screen');
    await cy.context.close();
    assert.equal(await button(host.page, 'Admit all').count(), 0, 'nobody waits any more');
  });

  it('the host removes a guest, then reads the removal and the admissions in the meeting log', async () => {
    await (await rowAction(host.page, 'Linus', 'Remove Linus')).click();
    await host.page.getByRole('alertdialog', { name: 'Remove Linus?' }).getByRole('button', { name: 'Remove', exact: true }).click();
    await heading(linus.page, 'You were removed from the meeting').waitFor();

    await openTab(host.page, 'Host controls');
    await button(host.page, 'Meeting log').click();
    const dialog = host.page.getByRole('dialog', { name: 'Meeting log' });
    await dialog.getByRole('table').waitFor();
    const rows = await dialog.getByRole('row').evaluateAll((trs) =>
      trs.slice(1).map((tr) => [...tr.querySelectorAll('td')].slice(1).map((td) => td.textContent)),
    );
    for (const want of [
      ['Ada', 'joined', ''],
      ['Ada', 'muted', 'Grace'],
      ['Ada', 'lowered the hand of', 'Grace'],
      ['Ada', 'turned the waiting room on', ''],
      ['Ada', 'let in', 'Bo'],
      ['Bo', 'joined', ''],
      ['Ada', 'turned away', 'Cy'],
      ['Ada', 'removed', 'Linus'],
    ]) {
      assert.ok(
        rows.some((r) => JSON.stringify(r) === JSON.stringify(want)),
        `the log has ${JSON.stringify(want)}: ${JSON.stringify(rows)}`,
      );
    }
    const order = (what, whom) => rows.findIndex((r) => r[1] === what && r[2] === whom);
    assert.ok(order('let in', 'Bo') < order('turned away', 'Cy') && order('turned away', 'Cy') < order('removed', 'Linus'), 'oldest first');
    await expectAccessible(host.page, 'the meeting log');
    await host.page.screenshot({ path: join(outDir, 'collab-log.png') });
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
  });
});
