import { expect } from 'chai';
import { gcsConfigFromEnv } from './gcs-config.js';
import { StorageError } from './storage.js';

describe('gcsConfigFromEnv', () => {
  it('picks the emulator when an endpoint is set', () => {
    expect(gcsConfigFromEnv({ KENNEL_GCS_ENDPOINT: 'http://127.0.0.1:4443/' })).to.deep.equal({
      mode: 'emulator',
      endpoint: 'http://127.0.0.1:4443',
      projectId: 'kennel-emulator',
    });
  });

  it('picks keyfile from GOOGLE_APPLICATION_CREDENTIALS, else adc', () => {
    expect(gcsConfigFromEnv({ GOOGLE_APPLICATION_CREDENTIALS: '/k.json' })).to.deep.equal({ mode: 'keyfile', keyFilename: '/k.json' });
    expect(gcsConfigFromEnv({})).to.deep.equal({ mode: 'adc' });
  });

  it('honours an explicit mode over the inferred one', () => {
    expect(gcsConfigFromEnv({ KENNEL_GCS_AUTH: 'adc', GOOGLE_APPLICATION_CREDENTIALS: '/k.json' })).to.deep.equal({ mode: 'adc' });
  });

  it('fails clearly on inconsistent settings instead of falling back', () => {
    expect(() => gcsConfigFromEnv({ KENNEL_GCS_AUTH: 'emulator' })).to.throw(StorageError, /KENNEL_GCS_ENDPOINT/);
    expect(() => gcsConfigFromEnv({ KENNEL_GCS_AUTH: 'keyfile' })).to.throw(StorageError, /GOOGLE_APPLICATION_CREDENTIALS/);
    expect(() => gcsConfigFromEnv({ KENNEL_GCS_AUTH: 'anonymous' })).to.throw(StorageError, /must be one of emulator, keyfile, adc/);
    expect(() => gcsConfigFromEnv({ KENNEL_GCS_ENDPOINT: '127.0.0.1:4443' })).to.throw(StorageError, /http\(s\) URL/);
  });
});
