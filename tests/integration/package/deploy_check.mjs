// package_deploy_check_test: what can be checked of the container image and the Kubernetes
// manifests on a machine without a container engine or a cluster.
//   - Dockerfile: two stages (Debian 12 builder, debian:12-slim runtime), pinned tags, COPY
//     not ADD, exec-form ENTRYPOINT/CMD, non-root USER,
//     HEALTHCHECK on /readyz, EXPOSE of the configured port, VOLUME /var/lib/tether; the
//     runtime stage installs exactly the Debian packages of the libraries the binary links
//     (readelf NEEDED -> ldd path -> dpkg -S), plus ca-certificates and curl.
//   - deploy/kubernetes/*.yaml: YAML parses; required fields; 3 replicas; probes on /readyz
//     and /healthz; names that must agree do (Secret, ConfigMap, labels, ports).
//   - the configurations shipped for the image and for Kubernetes pass `tether config check`
//     with every ${NAME} they reference set (and each is a key of the example Secret).
// Usage: node deploy_check.mjs SOURCE_DIR BUILD_DIR
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const [src, build] = process.argv.slice(2);
if (!src || !build) throw new Error('usage: deploy_check.mjs SOURCE_DIR BUILD_DIR');
const tether = join(build, 'tether');
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
  return ok;
};
const tmp = mkdtempSync(join(tmpdir(), 'tether-deploy-check-'));

// ---- the binary's runtime packages ------------------------------------------------------
function runtimePackages() {
  const needed = [...execFileSync('readelf', ['-d', tether], { encoding: 'utf8' })
    .matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const paths = new Map();
  for (const line of execFileSync('ldd', [tether], { encoding: 'utf8' }).split('\n')) {
    const m = line.match(/^\s*(\S+) => (\/\S+)/);
    if (m) paths.set(m[1], m[2]);
  }
  // Debian 12 is merged-/usr: dpkg knows a library under one of the two spellings. One
  // dpkg -S call for all of them (it exits 1 when some spelling is unknown).
  const candidates = new Map();
  for (const soname of needed) {
    const path = paths.get(soname);
    if (!check(path, `ldd does not resolve ${soname}`)) continue;
    candidates.set(soname, [path, path.startsWith('/usr/') ? path.slice(4) : '/usr' + path]);
  }
  const owners = new Map();
  const out = spawnSync('dpkg', ['-S', ...[...candidates.values()].flat()], { encoding: 'utf8' });
  for (const line of out.stdout.split('\n')) {
    const m = line.match(/^([^:]+):[^:]*: (\S+)$/);
    if (m) owners.set(m[2], m[1]);
  }
  const packages = new Set();
  for (const [soname, spellings] of candidates) {
    const owner = spellings.map((p) => owners.get(p)).find(Boolean);
    if (check(owner, `no Debian package owns ${soname} (${spellings.join(' or ')})`)) {
      packages.add(owner);
    }
  }
  packages.delete('libc6');  // essential: in every Debian image
  return packages;
}

// ---- Dockerfile ---------------------------------------------------------------------------
function dockerStages(text) {
  const lines = text.replace(/\\\n/g, ' ').split('\n')
    .map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages = [];
  for (const line of lines) {
    const [, instr, args] = line.match(/^(\S+)\s*(.*)$/);
    const ins = { instr: instr.toUpperCase(), args };
    if (ins.instr === 'FROM') stages.push({ from: args, instructions: [] });
    else if (check(stages.length, `instruction before FROM: ${line}`)) {
      stages.at(-1).instructions.push(ins);
    }
  }
  return stages;
}

function checkDockerfile(listenPort) {
  const stages = dockerStages(readFileSync(join(src, 'Dockerfile'), 'utf8'));
  if (!check(stages.length === 2, `Dockerfile: expected 2 stages, got ${stages.length}`)) return;
  const [builder, runtime] = stages;
  // hadolint-like basics: pinned base tags, exec-form ENTRYPOINT/CMD, no ADD, no sudo.
  for (const stage of stages) {
    const image = stage.from.split(/\s+/)[0];
    check(image.includes(':') && !image.endsWith(':latest'), `FROM ${image}: pin a tag`);
    for (const { instr, args } of stage.instructions) {
      check(instr !== 'ADD', `ADD ${args}: use COPY`);
      check(!(instr === 'RUN' && /\bsudo\b/.test(args)), 'RUN uses sudo');
      if (instr === 'RUN' && /apt-get install/.test(args)) {
        check(/apt-get install -y\b/.test(args), 'apt-get install without -y');
      }
    }
  }
  for (const instr of ['ENTRYPOINT', 'CMD']) {
    const args = runtime.instructions.filter((i) => i.instr === instr).map((i) => i.args);
    check(args.length === 1 && args[0].startsWith('['), `${instr}: one, in exec form (JSON)`);
  }
  check(/bookworm\b.* AS build$/.test(builder.from), `builder is not Debian 12: ${builder.from}`);
  const buildRun = builder.instructions.filter((i) => i.instr === 'RUN').map((i) => i.args).join(' ');
  check(buildRun.includes('./scripts/install-deps.sh'), 'builder does not run install-deps.sh');
  check(/--component tether\b/.test(buildRun), 'builder does not install the tether component');
  check(runtime.from === 'debian:12-slim', `runtime stage is ${runtime.from}, not debian:12-slim`);
  const get = (name) => runtime.instructions.filter((i) => i.instr === name).map((i) => i.args);
  const user = get('USER').at(-1) ?? '';
  check(user && !/^(root|0)(:|$)/.test(user), `runtime USER is "${user}" (must be non-root)`);
  check(get('HEALTHCHECK').some((a) => a.includes('/readyz')), 'no HEALTHCHECK on /readyz');
  check(get('EXPOSE').some((a) => a.split(/\s+/).includes(String(listenPort))),
    `EXPOSE does not name the listen port ${listenPort}`);
  check(get('VOLUME').some((a) => a.includes('/var/lib/tether')), 'no VOLUME /var/lib/tether');
  for (const copy of get('COPY').filter((a) => !a.startsWith('--from'))) {
    const from = copy.split(/\s+/)[0];
    check(existsSync(join(src, from)), `COPY source ${from} does not exist`);
  }
  const run = get('RUN').join(' ');
  const install = run.match(/apt-get install ([^&]*)/);
  if (!check(install, 'runtime stage has no apt-get install')) return;
  const words = install[1].split(/\s+/).filter(Boolean);
  check(words.includes('--no-install-recommends'), 'apt-get install without --no-install-recommends');
  check(run.includes('rm -rf /var/lib/apt/lists'), 'runtime stage keeps the apt lists');
  const listed = new Set(words.filter((w) => !w.startsWith('-')));
  const expected = runtimePackages();
  for (const extra of ['ca-certificates', 'curl']) expected.add(extra);
  for (const p of expected) check(listed.has(p), `runtime stage does not install ${p}`);
  for (const p of listed) check(expected.has(p), `runtime stage installs ${p}, which nothing needs`);
  const ignore = readFileSync(join(src, '.dockerignore'), 'utf8').split('\n');
  for (const p of ['build', 'node_modules', '.git']) {
    check(ignore.includes(p), `.dockerignore does not exclude ${p}`);
  }
}

// ---- tether config check ------------------------------------------------------------------
function references(yamlText) {
  return [...new Set([...yamlText.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]))];
}

function configCheck(what, yamlText, env) {
  const file = join(tmp, what.replace(/\W+/g, '_') + '.yaml');
  writeFileSync(file, yamlText);
  const r = spawnSync(tether, ['config', 'check', file], {
    encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 20000,
  });
  check(r.status === 0, `${what}: tether config check exited ${r.status}: ${r.stderr}`);
  check(!/warning:/.test(r.stderr), `${what}: config check warned: ${r.stderr}`);
  for (const [name, value] of Object.entries(env)) {
    if (name === 'TETHER_PUBLIC_URL') continue;  // not a secret: shown in the effective config
    check(!r.stdout.includes(value) && !r.stderr.includes(value), `${what}: ${name} was printed`);
  }
  return r.stdout;
}

function testValue(name) {
  if (name === 'TETHER_ENCRYPTION_KEY') return randomBytes(32).toString('hex');
  if (name === 'TETHER_PUBLIC_URL') return 'https://tether.example.com';
  if (name === 'TETHER_DATABASE_DSN') return 'host=db.example.internal dbname=tether user=tether password=' + randomBytes(8).toString('hex');
  return 'k-' + randomBytes(16).toString('hex');
}

// ---- Kubernetes ---------------------------------------------------------------------------
function loadManifests() {
  const dir = join(src, 'deploy', 'kubernetes');
  const byKind = {};
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, name), 'utf8'))) {
      if (!check(doc.errors.length === 0, `${name}: ${doc.errors.map((e) => e.message).join('; ')}`)) continue;
      const obj = doc.toJS();
      if (!obj) continue;
      check(obj.kind, `${name}: no kind`);
      if (obj.kind !== 'Kustomization') {
        check(obj.apiVersion && obj.metadata?.name, `${name}: no apiVersion or metadata.name`);
      }
      (byKind[obj.kind] ??= []).push({ file: name, obj });
    }
  }
  return { dir, byKind };
}

function checkKubernetes() {
  const { dir, byKind } = loadManifests();
  const one = (kind) => {
    const list = byKind[kind] ?? [];
    check(list.length === 1, `expected one ${kind}, found ${list.length}`);
    return list[0]?.obj;
  };
  const [dep, svc, pdb, cm, secret, kust] =
    ['Deployment', 'Service', 'PodDisruptionBudget', 'ConfigMap', 'Secret', 'Kustomization'].map(one);
  if (failures.length) return;

  check(dep.apiVersion === 'apps/v1' && pdb.apiVersion === 'policy/v1', 'API versions');
  check(dep.spec.replicas === 3, `Deployment replicas ${dep.spec.replicas}, expected 3`);
  const labels = dep.spec.template.metadata.labels;
  const selects = (sel) => Object.entries(sel).every(([k, v]) => labels[k] === v);
  check(selects(dep.spec.selector.matchLabels), 'Deployment selector does not match its pods');
  check(selects(svc.spec.selector), 'Service selector does not match the pods');
  check(selects(pdb.spec.selector.matchLabels), 'PodDisruptionBudget selector does not match');
  check(pdb.spec.minAvailable < dep.spec.replicas, 'PodDisruptionBudget blocks every drain');

  const pod = dep.spec.template.spec;
  const c = pod.containers?.[0];
  if (!check(c, 'Deployment has no container')) return;
  check(pod.securityContext?.runAsNonRoot === true, 'pods may run as root');
  check(c.securityContext?.allowPrivilegeEscalation === false, 'privilege escalation allowed');
  const port = c.ports?.find((p) => p.name === 'http');
  check(port, 'container has no port named http');
  const probe = (p) => p?.httpGet?.path;
  check(probe(c.readinessProbe) === '/readyz', 'readinessProbe is not GET /readyz');
  check(probe(c.livenessProbe) === '/healthz', 'livenessProbe is not GET /healthz');
  for (const p of [c.readinessProbe, c.livenessProbe, c.startupProbe].filter(Boolean)) {
    check(p.httpGet.port === 'http' || p.httpGet.port === port?.containerPort, 'probe port');
  }
  check(svc.spec.ports.some((p) => p.targetPort === 'http'), 'Service does not target port http');
  check(c.envFrom?.some((e) => e.secretRef?.name === secret.metadata.name),
    'the container does not take its environment from the Secret');
  const vol = pod.volumes?.find((v) => v.configMap?.name === cm.metadata.name);
  const mount = vol && c.volumeMounts?.find((m) => m.name === vol.name);
  check(mount?.mountPath === '/etc/tether', 'the ConfigMap is not mounted at /etc/tether');
  check(c.args?.join(' ') === 'serve --config /etc/tether/tether.yaml', `args: ${c.args}`);
  check(cm.data?.['tether.yaml'], 'ConfigMap has no tether.yaml');
  for (const r of kust.resources) check(existsSync(join(dir, r)), `kustomization: ${r} missing`);
  check(!kust.resources.includes('secret.example.yaml'), 'the example Secret is in kustomization');

  const text = cm.data['tether.yaml'];
  const env = {};
  for (const name of references(text)) {
    check(name in (secret.stringData ?? {}), `ConfigMap references \${${name}}, not in the Secret`);
    env[name] = testValue(name);
  }
  const listen = text.match(/^listen:\s*(\S+)/m)?.[1] ?? '';
  check(listen.endsWith(':' + port?.containerPort), `listen ${listen} is not the container port`);
  const effective = configCheck('kubernetes ConfigMap', text, env);
  check(/driver: postgres/.test(effective), 'the Kubernetes config does not use PostgreSQL');
}

try {
  checkKubernetes();
  const docker = readFileSync(join(src, 'deploy', 'docker', 'tether.yaml'), 'utf8');
  const env = Object.fromEntries(references(docker).map((n) => [n, testValue(n)]));
  configCheck('image config', docker, env);
  checkDockerfile(Number(docker.match(/^listen:\s*\S+:(\d+)/m)?.[1]));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (failures.length) {
  for (const f of failures) console.error('FAIL: ' + f);
  process.exit(1);
}
console.log('PASS: Dockerfile and deploy/kubernetes checked (not built or applied: no engine here)');
