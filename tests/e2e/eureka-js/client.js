// One eureka-js-client (npm) instance for the e2e tests, run as its own
// process: registers APP with VIP on PORT at the registry, renews every
// second with a 3 s lease, and fetches the full registry (JSON) every 500 ms.
//
//   node client.js URL APP VIP PORT
//
// Prints JSON lines on stdout: {"event":"registered"}, {"event":"heartbeat"},
// {"event":"registry","apps":{APP:[[id,status,ip,port],...]}} whenever the
// client's own cache changes, and {"event":"stopped"} after SIGTERM (the
// client cancels, then the process exits 0).
'use strict';

const { Eureka } = require('eureka-js-client');

const [url, app, vip, port] = process.argv.slice(2);
const base = new URL(url);

function emit(fields) {
  process.stdout.write(`${JSON.stringify(fields)}\n`);
}

// Warnings and errors of the client go to stderr, as lines of text.
const logger = {
  level() { return 40; },
  error(...args) { process.stderr.write(`error: ${args.join(' ')}\n`); },
  warn(...args) { process.stderr.write(`warn: ${args.join(' ')}\n`); },
  info() {},
  debug() {},
};

const client = new Eureka({
  logger,
  instance: {
    app,
    instanceId: `127.0.0.1:${app.toLowerCase()}:${port}`,
    hostName: '127.0.0.1',
    ipAddr: '127.0.0.1',
    port: { $: Number(port), '@enabled': true },
    vipAddress: vip,
    secureVipAddress: vip,
    leaseInfo: { renewalIntervalInSecs: 1, durationInSecs: 3 },
    metadata: { client: 'eureka-js-client' },
    dataCenterInfo: {
      '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo',
      name: 'MyOwn',
    },
  },
  eureka: {
    host: base.hostname,
    port: Number(base.port),
    servicePath: `${base.pathname.replace(/\/?$/, '/')}apps/`,
    heartbeatInterval: 1000,
    registryFetchInterval: 500,
    maxRetries: 1,
    requestRetryDelay: 200,
  },
});

let seen = null;
function snapshot() {
  const apps = {};
  for (const [name, instances] of Object.entries(client.cache.app)) {
    const rows = instances.map((i) => [i.instanceId, i.status, i.ipAddr, i.port.$]).sort();
    if (rows.length) apps[name] = rows;
  }
  const text = JSON.stringify(apps);
  if (text !== seen) {
    seen = text;
    emit({ event: 'registry', apps });
  }
}

client.on('registered', () => emit({ event: 'registered' }));
client.on('heartbeat', () => emit({ event: 'heartbeat' }));
client.on('registryUpdated', snapshot);
client.on('deregistered', () => emit({ event: 'deregistered' }));
client.start((err) => emit({ event: 'started', error: err ? String(err) : null }));

process.on('SIGTERM', () => {
  client.stop(() => {
    emit({ event: 'stopped' });
    process.exit(0);
  });
});
