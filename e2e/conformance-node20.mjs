// Lets @modelcontextprotocol/conformance 0.1.14+ load on Node 20 (the Node of Debian 12 and
// of this project's CI). Those versions import `globSync` from 'fs' (Node 22+) at the top of
// their one bundle, for the `tier-check` command only; on Node 20 the import alone fails:
//   SyntaxError: The requested module 'fs' does not provide an export named 'globSync'
// Preloaded with `node --import e2e/conformance-node20.mjs`, this registers a resolve hook
// that gives modules inside the conformance package an 'fs' with every export of Node's
// plus a globSync that throws. Nothing else changes; other modules get Node's own 'fs'.

import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

const fsWithGlobSync = `data:text/javascript,${encodeURIComponent(
  "import fs from 'node:fs'; export * from 'node:fs'; export default fs;\n" +
    "export function globSync() { throw new Error('fs.globSync needs Node 22 (conformance tier-check)'); }\n",
)}`;

/// Resolve hook (runs on the loader thread): 'fs' imported from the conformance package.
export async function resolve(specifier, context, next) {
  if ((specifier === 'fs' || specifier === 'node:fs') && context.parentURL?.includes('/@modelcontextprotocol/conformance/')) {
    return { url: fsWithGlobSync, shortCircuit: true };
  }
  return next(specifier, context);
}

if (isMainThread) register(import.meta.url);
