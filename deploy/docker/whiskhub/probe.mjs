#!/usr/bin/env node
// @ts-check
/**
 * whiskhub-probe: waits for, or checks once, what a whiskhub role needs. The Helm chart's init
 * containers (`wait`) and exec probes (`check`) run it, and so does the Compose file; it ships in
 * the whiskhub image as /usr/local/bin/whiskhub-probe. Only node: built-ins, no build step.
 *
 *   whiskhub-probe wait [--timeout SECONDS] TARGET...   retry every 2 s until every target answers
 *                                                       (no --timeout, or 0: wait for ever)
 *   whiskhub-probe check TARGET...                      one attempt each (3 s apiece)
 *   whiskhub-probe pull [--always] IMAGE|SOURCE=IMAGE...  make sure the Docker engine (as for the
 *                                                       `docker` target) has these images: pull the
 *                                                       missing ones (all with --always); SOURCE=IMAGE
 *                                                       pulls SOURCE (unless present) and tags it IMAGE
 *
 * Targets take their addresses from the same settings the roles read, so a probe checks exactly
 * what the role will use:
 *   couchdb        GET <WHISKHUB_COUCHDB_URL>/_session answers 200 (server up, credentials accepted)
 *   couchdb-ready  the CouchDB init Job has run: <prefix>subjects/whisk.system exists
 *   kafka          a Kafka ApiVersions round trip with one of WHISKHUB_KAFKA_BROKERS
 *   redis          PING answers PONG on WHISKHUB_REDIS_URL (AUTH first when it has a password)
 *   docker         the engine at WHISKHUB_DOCKER_HOST, else DOCKER_HOST, else /var/run/docker.sock,
 *                  answers GET /_ping
 *   http://… https://…   a GET answers 2xx or 3xx (user:password in the URL becomes Basic auth)
 *   tcp://HOST:PORT      a TCP connection opens
 * Exit 0 when every target answered, 1 when one did not (the reason on stderr), 2 on bad usage.
 * Credentials never appear in the output.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

const ATTEMPT_MS = 3000;
const RETRY_MS = 2000;
const env = process.env;

/** A URL without its credentials, for messages. */
function redact(url) {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

function required(name) {
  const v = env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

/** GET over http(s) or a unix socket; resolves with status and body (first 64 kB). */
function get(url, { socketPath } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers = {};
    if (u.username || u.password) {
      const cred = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
      headers.authorization = `Basic ${Buffer.from(cred).toString('base64')}`;
    }
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.request(
      { method: 'GET', socketPath, host: u.hostname, port: u.port || undefined, path: `${u.pathname}${u.search}`, headers, timeout: ATTEMPT_MS },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          if (body.length < 65536) body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer in ${ATTEMPT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function expectHttp(url, opts) {
  const { status } = await get(url, opts);
  if (status < 200 || status >= 400) throw new Error(`HTTP ${status}`);
  return `HTTP ${status}`;
}

/** Opens a TCP (or TLS) connection and hands the socket to `talk`; always closes it. */
function withSocket(host, port, useTls, talk) {
  return new Promise((resolve, reject) => {
    const socket = useTls ? tls.connect({ host, port, servername: host }) : net.connect({ host, port });
    const timer = setTimeout(() => socket.destroy(new Error(`no answer in ${ATTEMPT_MS} ms`)), ATTEMPT_MS);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once(useTls ? 'secureConnect' : 'connect', () => {
      talk(socket).then(
        (v) => {
          clearTimeout(timer);
          socket.destroy();
          resolve(v);
        },
        (err) => {
          clearTimeout(timer);
          socket.destroy();
          reject(err);
        },
      );
    });
  });
}

/** Reads from the socket until `done(buffer)` returns a value other than undefined. */
function readUntil(socket, done) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      let out;
      try {
        out = done(buf);
      } catch (err) {
        cleanup();
        reject(err);
        return;
      }
      if (out !== undefined) {
        cleanup();
        resolve(out);
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new Error('connection closed'));
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
  });
}

function hostPort(address, defaultPort) {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address.trim());
  return m ? { host: m[1], port: Number(m[2]) } : { host: address.trim(), port: defaultPort };
}

/** Kafka ApiVersions v0: the smallest request every broker answers, before any authentication. */
async function kafkaApiVersions(host, port) {
  const clientId = Buffer.from('whiskhub-probe');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  body.writeInt16BE(18, 0); // api_key ApiVersions
  body.writeInt16BE(0, 2); // api_version
  body.writeInt32BE(0x5748, 4); // correlation_id
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return withSocket(host, port, false, async (socket) => {
    socket.write(Buffer.concat([size, body]));
    return readUntil(socket, (buf) => {
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return undefined;
      if (buf.readInt32BE(4) !== 0x5748) throw new Error('not a Kafka answer');
      const error = buf.readInt16BE(8);
      if (error !== 0) throw new Error(`ApiVersions error code ${error}`);
      return `broker ${host}:${port}`;
    });
  });
}

/** RESP: AUTH (when the URL has a password), then PING. */
async function redisPing(url) {
  const u = new URL(url);
  const { host, port } = { host: u.hostname, port: Number(u.port || 6379) };
  const cmd = (...args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return withSocket(host, port, u.protocol === 'rediss:', async (socket) => {
    let expectReplies = 1;
    let out = '';
    if (u.password) {
      const user = decodeURIComponent(u.username);
      const pass = decodeURIComponent(u.password);
      out += user ? cmd('AUTH', user, pass) : cmd('AUTH', pass);
      expectReplies++;
    }
    out += cmd('PING');
    socket.write(out);
    return readUntil(socket, (buf) => {
      const lines = buf.toString('utf8').split('\r\n').filter(Boolean);
      const err = lines.find((l) => l.startsWith('-'));
      if (err) throw new Error(err.slice(1).split(' ').slice(0, 6).join(' '));
      if (lines.length < expectReplies) return undefined;
      if (lines[expectReplies - 1] !== '+PONG') throw new Error(`unexpected answer to PING`);
      return 'PONG';
    });
  });
}

function dockerAddress() {
  const addr = env.WHISKHUB_DOCKER_HOST || env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  if (addr.startsWith('unix://')) return { socketPath: addr.slice('unix://'.length), url: 'http://docker/_ping', shown: addr };
  if (addr.startsWith('tcp://')) return { url: `http://${addr.slice('tcp://'.length)}/_ping`, shown: addr };
  if (addr.startsWith('/')) return { socketPath: addr, url: 'http://docker/_ping', shown: addr };
  throw new Error(`unsupported Docker address ${addr}`);
}

/** POST to the engine; resolves with status and body (a pull streams JSON progress lines). */
function dockerPost(path) {
  const d = dockerAddress();
  return new Promise((resolve, reject) => {
    const u = new URL(d.url);
    const req = http.request({ method: 'POST', socketPath: d.socketPath, host: u.hostname, port: u.port || undefined, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
        if (body.length > 1_000_000) body = body.slice(-100_000);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `registry:5000/a/b:tag` -> { repo: 'registry:5000/a/b', tag: 'tag' }; no tag: latest; digests kept whole. */
function parseImage(ref) {
  if (ref.includes('@')) return { ref, repo: ref.split('@')[0], tag: undefined };
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { ref, repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { ref: `${ref}:latest`, repo: ref, tag: 'latest' };
}

async function imagePresent(ref) {
  const d = dockerAddress();
  const { status } = await get(d.url.replace('/_ping', `/images/${encodeURIComponent(ref)}/json`), { socketPath: d.socketPath });
  if (status === 200) return true;
  if (status === 404) return false;
  throw new Error(`inspecting ${ref}: HTTP ${status}`);
}

async function pullImage(ref) {
  const { status, body } = await dockerPost(`/images/create?fromImage=${encodeURIComponent(ref)}`);
  // The engine answers 200 and then streams; a failed pull ends with an {"error": ...} line.
  const failed = body
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return {};
      }
    })
    .find((m) => m.error);
  if (status !== 200 || failed) throw new Error(`pulling ${ref}: ${failed?.error ?? `HTTP ${status} ${body.slice(0, 200)}`}`);
}

async function pull(specs, always) {
  for (const spec of specs) {
    const [sourceSpec, targetSpec] = spec.includes('=') ? spec.split('=', 2) : [spec, spec];
    const source = parseImage(sourceSpec);
    const target = parseImage(targetSpec);
    if (!always && (await imagePresent(target.ref))) {
      log(`${target.ref}: present`);
      continue;
    }
    if (always || !(await imagePresent(source.ref))) {
      const started = Date.now();
      await pullImage(source.ref);
      log(`${source.ref}: pulled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    if (source.ref !== target.ref) {
      const q = `repo=${encodeURIComponent(target.repo)}${target.tag ? `&tag=${encodeURIComponent(target.tag)}` : ''}`;
      const { status, body } = await dockerPost(`/images/${encodeURIComponent(source.ref)}/tag?${q}`);
      if (status !== 201) throw new Error(`tagging ${source.ref} as ${target.ref}: HTTP ${status} ${body.slice(0, 200)}`);
      log(`${source.ref}: tagged ${target.ref}`);
    }
  }
}

/** Each target: what to show while waiting, and one attempt (resolves with a detail, or throws). */
const TARGETS = {
  couchdb: () => {
    const base = required('WHISKHUB_COUCHDB_URL').replace(/\/+$/, '');
    return { shown: redact(base), attempt: () => expectHttp(`${base}/_session`) };
  },
  'couchdb-ready': () => {
    const base = required('WHISKHUB_COUCHDB_URL').replace(/\/+$/, '');
    const db = `${env.WHISKHUB_COUCHDB_PREFIX ?? 'whiskhub_'}subjects`;
    return {
      shown: `${redact(base)}${db}/whisk.system`,
      attempt: async () => {
        const { status } = await get(`${base}/${encodeURIComponent(db)}/whisk.system`);
        if (status === 404) throw new Error('not initialized yet (the CouchDB init Job has not written the whisk.system subject)');
        if (status !== 200) throw new Error(`HTTP ${status}`);
        return 'initialized';
      },
    };
  },
  kafka: () => {
    const brokers = required('WHISKHUB_KAFKA_BROKERS').split(',').map((b) => b.trim()).filter(Boolean);
    return {
      shown: brokers.join(','),
      attempt: async () => {
        const errors = [];
        for (const b of brokers) {
          const { host, port } = hostPort(b, 9092);
          try {
            return await kafkaApiVersions(host, port);
          } catch (err) {
            errors.push(`${b}: ${/** @type {Error} */ (err).message}`);
          }
        }
        throw new Error(errors.join('; '));
      },
    };
  },
  redis: () => {
    const url = required('WHISKHUB_REDIS_URL');
    return { shown: redact(url), attempt: () => redisPing(url) };
  },
  docker: () => {
    const d = dockerAddress();
    return {
      shown: d.shown,
      attempt: async () => {
        const { status, body } = await get(d.url, { socketPath: d.socketPath });
        if (status !== 200 || body.trim() !== 'OK') throw new Error(`HTTP ${status}`);
        return 'OK';
      },
    };
  },
};

function target(spec) {
  if (TARGETS[spec]) return { name: spec, ...TARGETS[spec]() };
  if (/^https?:\/\//.test(spec)) return { name: redact(spec), shown: redact(spec), attempt: () => expectHttp(spec) };
  if (spec.startsWith('tcp://')) {
    const { host, port } = hostPort(spec.slice('tcp://'.length), NaN);
    if (!Number.isInteger(port)) throw new Error(`${spec}: a port is needed`);
    return { name: spec, shown: spec, attempt: () => withSocket(host, port, false, async () => 'open') };
  }
  throw new Error(`unknown target '${spec}' (one of ${Object.keys(TARGETS).join(', ')}, http(s)://…, tcp://HOST:PORT)`);
}

function usage(message) {
  if (message) process.stderr.write(`whiskhub-probe: ${message}\n`);
  process.stderr.write(
    'usage: whiskhub-probe wait [--timeout SECONDS] TARGET...\n       whiskhub-probe check TARGET...\n       whiskhub-probe pull [--always] IMAGE|SOURCE=IMAGE...\n',
  );
  process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (line) => process.stderr.write(`[whiskhub-probe] ${line}\n`);

async function main(argv) {
  const [mode, ...rest] = argv;
  if (mode === 'pull') {
    const always = rest[0] === '--always';
    const images = always ? rest.slice(1) : rest;
    if (images.length === 0) usage('no image');
    await pull(images, always);
    process.exit(0);
  }
  if (mode !== 'wait' && mode !== 'check') usage(mode ? `unknown mode '${mode}'` : undefined);
  let timeoutS = 0;
  if (rest[0] === '--timeout') {
    timeoutS = Number(rest[1]);
    if (!Number.isFinite(timeoutS) || timeoutS < 0) usage('--timeout needs a number of seconds');
    rest.splice(0, 2);
  }
  if (rest.length === 0) usage('no target');
  let targets;
  try {
    targets = rest.map(target);
  } catch (err) {
    usage(/** @type {Error} */ (err).message);
    return;
  }

  if (mode === 'check') {
    const results = await Promise.allSettled(targets.map((t) => t.attempt()));
    let ok = true;
    results.forEach((r, i) => {
      if (r.status === 'rejected') {
        ok = false;
        log(`${targets[i].name} (${targets[i].shown}): ${r.reason?.message ?? r.reason}`);
      }
    });
    process.exit(ok ? 0 : 1);
  }

  const deadline = timeoutS > 0 ? Date.now() + timeoutS * 1000 : Infinity;
  for (const t of targets) {
    const started = Date.now();
    let lastReport = 0;
    for (;;) {
      try {
        const detail = await t.attempt();
        log(`${t.name}: ready (${detail}) after ${((Date.now() - started) / 1000).toFixed(1)} s`);
        break;
      } catch (err) {
        const reason = /** @type {Error} */ (err).message;
        if (Date.now() >= deadline) {
          log(`${t.name} (${t.shown}): gave up after ${timeoutS} s: ${reason}`);
          process.exit(1);
        }
        if (Date.now() - lastReport >= 10_000) {
          log(`waiting for ${t.name} (${t.shown}): ${reason}`);
          lastReport = Date.now();
        }
        await sleep(Math.min(RETRY_MS, Math.max(0, deadline - Date.now())));
      }
    }
  }
  process.exit(0);
}

main(process.argv.slice(2)).catch((err) => {
  log(`error: ${err?.message ?? err}`);
  process.exit(1);
});
