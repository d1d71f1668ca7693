// Every magic, registered once. Each lives in a module of its own.
import { devicePolicyMagic } from './device-policy';
import { deviceMagic } from './device';
import { devicesMagic } from './devices';
import { envMagic } from './env';
import { gcMagic } from './gc';
import { lsmagicMagic } from './lsmagic';
import { memoryMagic } from './memory';
import { placementMagic } from './placement';
import { profileMagic } from './profile';
import { MagicRegistry } from './registry';
import { reportMagic } from './report';
import { timeMagic } from './time';
import { timeitMagic } from './timeit';
import { transfersMagic } from './transfers';
import { typecheckMagic } from './typecheck';
import { whoMagic } from './who';

export function createMagics(): MagicRegistry {
  const registry = new MagicRegistry();
  for (const magic of [deviceMagic, devicesMagic, devicePolicyMagic, memoryMagic, gcMagic, transfersMagic, reportMagic, placementMagic, profileMagic, timeMagic, timeitMagic,
    whoMagic, envMagic, typecheckMagic]) registry.register(magic);
  return registry.register(lsmagicMagic(registry));
}
