/**
 * /whisk.system/messaging/kafkaProduce: produces one message to a Kafka topic, and fails with the
 * broker's error when it cannot (the reference's Python action is deprecated; this one is
 * installed as a zip holding kafkajs).
 *
 * Parameters: brokers (a JSON array of host:port, or a comma-separated string), topic, value
 * (required; a string, or any JSON value, sent as its JSON text), key (optional),
 * base64DecodeValue / base64DecodeKey (send the bytes the base64 text encodes), and for secured
 * clusters username + password (+ saslMechanism: plain, scram-sha-256, scram-sha-512) and tls.
 * Result: {success: true, topic, partition, offset}; on failure {error}. Credentials are never
 * logged or returned.
 */
const { Kafka, logLevel } = require('kafkajs');

function list(v) {
  if (Array.isArray(v)) return v.map(String);
  const s = String(v || '').trim();
  if (s.startsWith('[')) return JSON.parse(s).map(String);
  return s.split(',');
}

const truthy = (v) => v === true || v === 'true';

function bytes(v, decode, what) {
  if (v === undefined || v === null) return null;
  if (!decode) return typeof v === 'string' ? v : JSON.stringify(v);
  const text = String(v);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new Error(`${what} is not valid base64`);
  return Buffer.from(text, 'base64');
}

async function main(params) {
  let brokers;
  try {
    brokers = list(params.brokers || params.kafka_brokers_sasl).map((b) => b.trim()).filter(Boolean);
  } catch {
    return { error: 'brokers is not a valid JSON array' };
  }
  if (!brokers.length) return { error: "you must supply a 'brokers' parameter: the Kafka brokers, host:port" };
  if (!params.topic) return { error: "you must supply a 'topic' parameter" };
  if (params.value === undefined || params.value === null) return { error: "you must supply a 'value' parameter" };
  let value;
  let key;
  try {
    value = bytes(params.value, truthy(params.base64DecodeValue), 'value');
    key = bytes(params.key, truthy(params.base64DecodeKey), 'key');
  } catch (err) {
    return { error: err.message };
  }
  const username = params.username || params.user;
  const config = {
    clientId: 'whiskhub-kafkaProduce',
    brokers,
    connectionTimeout: 3000,
    retry: { retries: 2, initialRetryTime: 300 },
    logLevel: logLevel.NOTHING,
  };
  if (username && params.password) config.sasl = { mechanism: String(params.saslMechanism || 'plain').toLowerCase(), username, password: params.password };
  // TLS when asked, and always for Event Streams style parameters (kafka_brokers_sasl), as messageHubFeed.
  if (truthy(params.tls) || params.kafka_brokers_sasl) config.ssl = { rejectUnauthorized: params.tlsRejectUnauthorized !== false && params.tlsRejectUnauthorized !== 'false' };

  const producer = new Kafka(config).producer({ allowAutoTopicCreation: false });
  try {
    await producer.connect();
    const [sent] = await producer.send({ topic: String(params.topic), acks: -1, messages: [{ key, value }] });
    console.log(`produced to ${sent.topicName}/${sent.partition} at offset ${sent.baseOffset}`);
    return { success: true, topic: sent.topicName, partition: sent.partition, offset: Number(sent.baseOffset) };
  } catch (err) {
    return { error: `Kafka refused the message: ${err.message}` };
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

exports.main = main;
