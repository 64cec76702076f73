import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Pki {
  caCert: string;
  caKey: string;
  /** kube-apiserver's serving certificate, valid for the IPs and names given to createPki. */
  servingCert: string;
  servingKey: string;
  /** A client certificate for `kennel-admin` in `system:masters`. */
  adminCert: string;
  adminKey: string;
  /** Service-account token signing key pair (EC P-256: ES256 tokens, which kube-apiserver supports). */
  saKey: string;
  saPub: string;
}

export interface PkiOptions {
  dir: string;
  ips: readonly string[];
  dnsNames: readonly string[];
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new Error('openssl is required by the test bed: run `bash scripts/install-system-deps.sh`');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

async function ecKey(path: string, cwd: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path], cwd);
}

async function signedCert(
  cwd: string,
  name: string,
  subject: string,
  extensions: string,
): Promise<{ cert: string; key: string }> {
  const key = join(cwd, `${name}.key`);
  const cert = join(cwd, `${name}.crt`);
  const csr = join(cwd, `${name}.csr`);
  const ext = join(cwd, `${name}.ext`);
  await ecKey(key, cwd);
  await openssl(['req', '-new', '-key', key, '-subj', subject, '-out', csr], cwd);
  await writeFile(ext, extensions);
  await openssl(
    ['x509', '-req', '-in', csr, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '30', '-sha256', '-extfile', ext, '-out', cert],
    cwd,
  );
  return { cert, key };
}

/**
 * Generates a throw-away PKI for one test bed with the openssl CLI: a CA, the API server's serving
 * certificate, an admin client certificate and the service-account signing keys. EC P-256 keys
 * keep this to a few tens of milliseconds.
 */
export async function createPki(opts: PkiOptions): Promise<Pki> {
  const { dir } = opts;
  await ecKey('ca.key', dir);
  await openssl(
    ['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=kennel-testbed-ca', '-days', '30', '-sha256',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      '-out', 'ca.crt'],
    dir,
  );
  const san = [...opts.dnsNames.map((d) => `DNS:${d}`), ...opts.ips.map((ip) => `IP:${ip}`)].join(',');
  const [serving, admin] = await Promise.all([
    signedCert(dir, 'serving', '/CN=kube-apiserver',
      `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`),
    signedCert(dir, 'admin', '/O=system:masters/CN=kennel-admin',
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n'),
    (async () => {
      await ecKey('sa.key', dir);
      await openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
    })(),
  ]);
  return {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    servingCert: serving.cert,
    servingKey: serving.key,
    adminCert: admin.cert,
    adminKey: admin.key,
    saKey: join(dir, 'sa.key'),
    saPub: join(dir, 'sa.pub'),
  };
}
