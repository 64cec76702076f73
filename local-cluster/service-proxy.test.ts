import type { V1EndpointSlice } from '@kubernetes/client-node';
import { expect } from 'chai';
import { routableEndpoints } from './service-proxy.js';

const slice = (endpoints: [string, { ready?: boolean; serving?: boolean; terminating?: boolean }][], port = 8080): V1EndpointSlice => ({
  addressType: 'IPv4',
  ports: [{ name: 'http', port }],
  endpoints: endpoints.map(([ip, conditions]) => ({ addresses: [ip], conditions })),
});

describe('local cluster: service proxy, routable endpoints', () => {
  it('routes to ready endpoints only, never to a terminating or not-yet-ready pod while one is ready', () => {
    const out = routableEndpoints(
      [
        slice([
          ['10.0.0.3', { ready: true, serving: true, terminating: false }],
          ['10.0.0.2', { ready: false, serving: true, terminating: true }],
          ['10.0.0.4', { ready: false, serving: false, terminating: false }],
        ]),
        slice([['10.0.0.5', { ready: true, serving: true }]]),
      ],
      'http',
    );
    expect(out).to.deep.equal(['10.0.0.3:8080', '10.0.0.5:8080']);
  });

  it('falls back to serving terminating endpoints only when none is ready, as kube-proxy does', () => {
    const s = slice([
      ['10.0.0.2', { ready: false, serving: true, terminating: true }],
      ['10.0.0.3', { ready: false, serving: false, terminating: true }],
    ]);
    expect(routableEndpoints([s], 'http')).to.deep.equal(['10.0.0.2:8080']);
  });

  it('uses the slice port named like the Service port', () => {
    expect(routableEndpoints([slice([['10.0.0.2', { ready: true }]])], 'metrics')).to.deep.equal([]);
  });
});
