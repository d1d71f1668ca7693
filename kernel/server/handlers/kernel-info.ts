// kernel_info_reply: who this kernel is. Answered on shell and control alike.
import type { JsonObject } from '../../protocol/messages';
import { PROTOCOL_VERSION } from '../../protocol/messages';

export interface KernelIdentity {
  version: string;
  typescriptVersion: string;
}

export function kernelInfoReply(identity: KernelIdentity): JsonObject {
  return {
    status: 'ok',
    protocol_version: PROTOCOL_VERSION,
    implementation: 'tsgpu',
    implementation_version: identity.version,
    language_info: {
      name: 'typescript',
      version: identity.typescriptVersion,
      mimetype: 'text/typescript',
      file_extension: '.ts',
      codemirror_mode: 'typescript',
      pygments_lexer: 'typescript',
    },
    banner: `tsgpu ${identity.version}: a TypeScript kernel that shows where tensor work runs (Node.js ${process.versions.node})`,
    help_links: [
      { text: 'tsgpu', url: 'https://www.npmjs.com/package/tsgpu' },
      { text: 'TypeScript handbook', url: 'https://www.typescriptlang.org/docs/handbook/intro.html' },
      { text: 'Node.js API', url: 'https://nodejs.org/docs/latest-v20.x/api/' },
    ],
    debugger: false,
  };
}
