/**
 * x509-limbo's file formats (C2SP/x509-limbo, limbo/models.py): a test suite `{ version: 1, testcases }` and a
 * harness's results `{ version: 1, harness, results }`. Only the fields a runner reads are typed strictly; the rest of
 * a test case is carried through as it is.
 */

export type ValidationKind = 'SERVER' | 'CLIENT';
export type ExpectedResult = 'SUCCESS' | 'FAILURE';
export type ActualResult = 'SUCCESS' | 'FAILURE' | 'SKIPPED';

export interface PeerName {
  kind: 'DNS' | 'IP' | 'RFC822';
  value: string;
}

export interface LimboTestcase {
  id: string;
  description: string;
  features?: string[];
  importance?: string;
  conflicts_with?: string[];
  validation_kind: ValidationKind;
  /** PEMs of the trust anchors. */
  trusted_certs: string[];
  /** PEMs the peer sends after its certificate, for path building. */
  untrusted_intermediates: string[];
  peer_certificate: string;
  /** The peer's private key (PEM); null where the case was built without one. */
  peer_certificate_key: string | null;
  /** ISO 8601 time to validate at; null: now. */
  validation_time: string | null;
  signature_algorithms: string[];
  key_usage: string[];
  extended_key_usage: string[];
  expected_result: ExpectedResult;
  /** SERVER validation: the name the client expects the server to have. */
  expected_peer_name: PeerName | null;
  /** CLIENT validation: the names the server expects the client to have. */
  expected_peer_names: PeerName[];
  max_chain_depth: number | null;
  /** PEMs of CRLs the verifier checks the chain against. */
  crls: string[];
}

export interface LimboFile {
  version: 1;
  testcases: LimboTestcase[];
}

export interface TestcaseResult {
  id: string;
  actual_result: ActualResult;
  /** Node's error code and message for a FAILURE, the reason for a SKIPPED; null for a SUCCESS. */
  context: string | null;
}

export interface LimboResults {
  version: 1;
  /** Which harness produced the results: `node-<version>-openssl-<version>`. */
  harness: string;
  results: TestcaseResult[];
}

/**
 * A test case from the fields that make it, with the schema's defaults for the rest: nothing beyond the chain, the
 * trust anchors and the name is asked (no time, key usage, EKU, signature algorithms, depth limit or CRLs).
 */
export function limboTestcase(
  fields: Pick<LimboTestcase, 'id' | 'validation_kind' | 'trusted_certs' | 'peer_certificate' | 'expected_result'> & Partial<LimboTestcase>,
): LimboTestcase {
  return {
    description: fields.id,
    untrusted_intermediates: [],
    peer_certificate_key: null,
    validation_time: null,
    signature_algorithms: [],
    key_usage: [],
    extended_key_usage: [],
    expected_peer_name: null,
    expected_peer_names: [],
    max_chain_depth: null,
    crls: [],
    ...fields,
  };
}

/** The harness name for this Node: its version and the OpenSSL it is built with. */
export function harnessName(): string {
  return `node-${process.version}-openssl-${process.versions.openssl}`;
}

/** A limbo file that is not one: what is wrong, naming the field (a usage error on the command line). */
export class LimboFormatError extends Error {
  override name = 'LimboFormatError';
}

const PEER_KINDS = new Set(['DNS', 'IP', 'RFC822']);

/** Parse and check a limbo file's text: the fields a runner relies on must have their declared types. */
export function parseLimbo(text: string): LimboFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new LimboFormatError(`not JSON: ${(error as Error).message}`);
  }
  if (!isObject(data)) throw new LimboFormatError('not a limbo file: the top level is not an object');
  if (data.version !== 1)
    throw new LimboFormatError(`unsupported limbo version ${JSON.stringify(data.version)} (this runner reads version 1)`);
  if (!Array.isArray(data.testcases)) throw new LimboFormatError('not a limbo file: "testcases" is not an array');
  const seen = new Set<string>();
  data.testcases.forEach((testcase: unknown, index: number) => {
    checkTestcase(testcase, index);
    if (seen.has(testcase.id)) throw new LimboFormatError(`duplicate test case id ${testcase.id}`);
    seen.add(testcase.id);
  });
  return data as unknown as LimboFile;
}

function checkTestcase(value: unknown, index: number): asserts value is LimboTestcase {
  const where = isObject(value) && typeof value.id === 'string' ? `test case ${value.id}` : `test case #${index}`;
  const fail = (field: string, should: string): never => {
    throw new LimboFormatError(`${where}: "${field}" ${should}`);
  };
  if (!isObject(value)) return fail('(itself)', 'is not an object');
  if (typeof value.id !== 'string' || value.id === '') fail('id', 'is not a non-empty string');
  if (value.validation_kind !== 'SERVER' && value.validation_kind !== 'CLIENT') fail('validation_kind', 'is not SERVER or CLIENT');
  if (value.expected_result !== 'SUCCESS' && value.expected_result !== 'FAILURE') fail('expected_result', 'is not SUCCESS or FAILURE');
  if (typeof value.peer_certificate !== 'string') fail('peer_certificate', 'is not a string');
  if (value.peer_certificate_key !== null && value.peer_certificate_key !== undefined && typeof value.peer_certificate_key !== 'string')
    fail('peer_certificate_key', 'is not a string or null');
  if (value.validation_time !== null && value.validation_time !== undefined) {
    if (typeof value.validation_time !== 'string' || Number.isNaN(Date.parse(value.validation_time)))
      fail('validation_time', 'is not an ISO 8601 time or null');
  }
  // Required by the schema, and without it the client would fall back to Node's default roots.
  if (!Array.isArray(value.trusted_certs)) fail('trusted_certs', 'is missing (a list of PEM strings, the trust anchors)');
  for (const field of ['trusted_certs', 'untrusted_intermediates', 'crls', 'signature_algorithms', 'key_usage', 'extended_key_usage']) {
    const list = value[field] ?? [];
    if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) fail(field, 'is not a list of strings');
  }
  if (value.max_chain_depth !== null && value.max_chain_depth !== undefined && !Number.isInteger(value.max_chain_depth))
    fail('max_chain_depth', 'is not an integer or null');
  const peer = value.expected_peer_name;
  if (peer !== null && peer !== undefined && !isPeerName(peer)) fail('expected_peer_name', 'is not { kind: DNS|IP|RFC822, value } or null');
  const peers = value.expected_peer_names ?? [];
  if (!Array.isArray(peers) || !peers.every(isPeerName)) fail('expected_peer_names', 'is not a list of { kind, value }');
  // Optional in the schema (defaults): filled in so the runner reads one shape.
  value.peer_certificate_key ??= null;
  value.validation_time ??= null;
  value.expected_peer_name ??= null;
  value.max_chain_depth ??= null;
  for (const field of ['crls', 'signature_algorithms', 'key_usage', 'extended_key_usage', 'expected_peer_names', 'untrusted_intermediates'])
    value[field] ??= [];
}

function isPeerName(value: unknown): value is PeerName {
  return isObject(value) && typeof value.kind === 'string' && PEER_KINDS.has(value.kind) && typeof value.value === 'string';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
