import type { DevicePolicy } from '../kernel/device/device-control';
import { type Magic, MagicError } from './registry';

const POLICIES: readonly DevicePolicy[] = ['auto', 'warn', 'strict'];

export const devicePolicyMagic: Magic = {
  name: 'device_policy',
  usage: '%device_policy [auto|warn|strict]',
  arguments: POLICIES,
  help: 'ops on mixed devices: auto moves host inputs to the GPU, warn also says so, strict refuses',
  async line(args, context) {
    const devices = await context.devices();
    const policy = args.trim();
    if (policy === '') {
      context.print(`device policy: ${devices.policy}\n`);
      return;
    }
    if (!(POLICIES as readonly string[]).includes(policy)) throw new MagicError(`%device_policy takes auto, warn or strict, not "${policy}"`);
    devices.policy = policy as DevicePolicy;
    context.print(`device policy: ${policy}\n`);
  },
};
