import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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

const ecKeyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc'];

/** A new EC key and a certificate for it signed by the CA in `cwd`, in one openssl run. */
async function signedCert(cwd: string, name: string, subject: string, extensions: readonly string[]): Promise<{ cert: string; key: string }> {
  const key = join(cwd, `${name}.key`);
  const cert = join(cwd, `${name}.crt`);
  await openssl(
    ['req', '-x509', ...ecKeyArgs, '-keyout', key, '-out', cert, '-subj', subject, '-days', '30', '-sha256',
      '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${randomBytes(8).toString('hex')}`,
      ...extensions.flatMap((e) => ['-addext', e])],
    cwd,
  );
  return { cert, key };
}

export async function createPki(opts: PkiOptions): Promise<Pki> {
  const { dir } = opts;
  await Promise.all([
    openssl(
      ['req', '-x509', ...ecKeyArgs, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=kennel-testbed-ca', '-days', '30', '-sha256',
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'],
      dir,
    ),
    // Service-account signing key: EC P-256 (ES256 tokens).
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'sa.key'], dir).then(() =>
      openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir),
    ),
  ]);
  const san = [...opts.dnsNames.map((d) => `DNS:${d}`), ...opts.ips.map((ip) => `IP:${ip}`)].join(',');
  const [serving, admin] = await Promise.all([
    signedCert(dir, 'serving', '/CN=kube-apiserver', [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${san}`,
    ]),
    signedCert(dir, 'admin', '/O=system:masters/CN=kennel-admin', [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=clientAuth',
    ]),
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
