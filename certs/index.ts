export {
  certificate,
  certificateWithoutCommonName,
  CertificateBuilder,
  type Credential,
  type CertificateExtension,
  type KeyUsage,
  type ExtendedKeyUsage,
} from './certificate.ts';
export { generateKeyPair, newKeyPair, pemBlocks, EC_P256, type KeySpec, type KeyPair, type SignatureHash } from './keys.ts';
export { pki, buildAll, dnsLeaf, localLeaf, credentialFromEcPem, LOCAL_NAMES, type Pki } from './recipes.ts';
export { revocationList } from './revocation.ts';
export { writePemFiles, type PemFiles } from './pem-files.ts';
export { once } from './memo.ts';
export { x509 } from './x509.ts';
export { dhParametersPem, modpPrime, type ModpGroup } from './dh-params.ts';
