// @peculiar/x509 needs the Reflect metadata polyfill loaded before it, and a WebCrypto provider.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// Node's webcrypto is the same API, but its TypeScript type is not the DOM `Crypto` the library declares.
x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };
