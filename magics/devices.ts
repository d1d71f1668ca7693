import { textTable } from './format';
import type { Magic } from './registry';

export const devicesMagic: Magic = {
  name: 'devices',
  usage: '%devices',
  help: 'lists the devices, which one is current, and why a GPU is missing',
  async line(_args, context) {
    const devices = await context.devices();
    const list = await devices.list();
    const rows = list.map((device) => [
      device.name === devices.current() ? `* ${device.name}` : `  ${device.name}`,
      device.software ? `${device.kind} (software)` : device.kind,
      device.state,
      device.description,
    ]);
    const problems = devices.problems().map((problem) => `\nNote: ${problem}`).join('');
    context.print(`${textTable(['device', 'kind', 'state', 'backed by'], rows)}${problems}\n`);
  },
};
