// Launch flags for Debian's chromium in the end-to-end tests (headless, as root, on a
// machine without outside network). Shared by browser-login.mjs and portal-e2e.mjs.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // Without these chromium phones home at start-up; on a closed network that ends in refused
  // connections and noise.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Small /dev/shm in containers crashes renderers; /tmp has room.
  '--disable-dev-shm-usage',
];
