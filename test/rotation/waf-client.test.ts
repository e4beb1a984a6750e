/**
 * The hand-written SigV4 signer of the WAFv2 client against AWS's own (@smithy/signature-v4):
 * same Authorization header for the same request, with and without a session token.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { signedHeaders } from '../../lambda/rotation/waf-client';

const date = new Date('2026-03-04T05:06:07.891Z');
const body = JSON.stringify({ Name: 'origin-acl', Scope: 'REGIONAL', Id: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111' });

test.each([
  ['long-term keys', undefined],
  ['session credentials', 'IQoJb3JpZ2luX2VjE/+token=with&odd*chars!'],
])('%s: the Authorization header equals @smithy/signature-v4', async (_label, sessionToken) => {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken };
  const ours = signedHeaders({ host: 'wafv2.eu-west-1.amazonaws.com', target: 'AWSWAF_20190729.GetWebACL', body, region: 'eu-west-1', credentials, date });
  // applyChecksum off: x-amz-content-sha256 is an S3 header; JSON services sign the payload hash without sending it.
  const signer = new SignatureV4({ service: 'wafv2', region: 'eu-west-1', sha256: Sha256, credentials, applyChecksum: false });
  const theirs = await signer.sign(
    {
      method: 'POST',
      protocol: 'https:',
      hostname: 'wafv2.eu-west-1.amazonaws.com',
      path: '/',
      headers: {
        host: 'wafv2.eu-west-1.amazonaws.com',
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSWAF_20190729.GetWebACL',
      },
      body,
    },
    { signingDate: date },
  );
  expect(ours.authorization).toBe(theirs.headers.authorization);
  expect(ours['x-amz-date']).toBe(theirs.headers['x-amz-date']);
  if (sessionToken) expect(ours['x-amz-security-token']).toBe(sessionToken);
  expect(ours).not.toHaveProperty('host'); // fetch writes Host from the URL
});
