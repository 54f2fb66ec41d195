import { freePort, launchBrowser, newPerson, ParleyServer } from './harness.mjs';
const server = new ParleyServer(await freePort(), 'debug.log');
await server.start();
const browser = await launchBrowser();
const host = await newPerson(browser);
const people = [['Ada', host]];
host.page.on('console', (m) => console.log('Ada:', m.type(), m.text()));
await host.context.grantPermissions(['clipboard-read', 'clipboard-write', 'camera', 'microphone'], { origin: server.base });
await host.page.goto(server.base + '/');
await host.page.getByRole('textbox', { name: 'Your name' }).fill('Ada');
await host.page.getByRole('button', { name: 'New meeting' }).click();
const url = await host.page.getByRole('textbox', { name: 'Meeting link' }).inputValue();
for (const name of ['Grace', 'Linus']) {
  const g = await newPerson(browser);
  g.page.on('console', (m) => console.log(name + ':', m.type(), m.text()));
  await g.page.goto(url);
  await g.page.getByRole('textbox', { name: 'Your name' }).fill(name);
  await g.page.getByRole('button', { name: 'Join' }).click();
  people.push([name, g]);
}
for (let i = 0; i < 3; i++) {
  await new Promise((r) => setTimeout(r, 1500));
  for (const [name, p] of people) {
    const st = await p.page.evaluate(() => ({
      pcs: window.__testPeerConnections.map((pc) => [pc.connectionState, pc.signalingState, pc.getTransceivers().map(t => t.direction + '/' + t.currentDirection + (t.receiver.track ? ':' + t.receiver.track.readyState + (t.receiver.track.muted ? 'M' : '') : '')).join(',')].join(' ')),
      videos: [...document.querySelectorAll('video')].map((v) => `${v.dataset.participantId}:${v.videoWidth}x${v.videoHeight}@${v.currentTime.toFixed(1)} tracks=${v.srcObject ? v.srcObject.getTracks().map(t=>t.kind+(t.muted?'M':'')).join('+') : 'none'} paused=${v.paused}`),
    }));
    console.log(i, name, JSON.stringify(st));
  }
}
await browser.close();
await server.stop();
