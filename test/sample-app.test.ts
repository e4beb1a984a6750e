import { Template } from 'aws-cdk-lib/assertions';
import { addSampleStacks, sampleAppSettings } from '../lib/sample/sample-app';
import { testApp } from './support/nag';

// The context the sample app reads (bin/app.ts): each flag's values, and a clear refusal of
// anything else, naming the flag and what it takes.

describe('sample app context', () => {
  test('defaults: standard profile, no stage cache, all five packs', () => {
    expect(sampleAppSettings(testApp())).toEqual({ compliance: 'standard', gatewayCache: false, nag: 'all' });
  });

  test('-c values as the CLI passes them (strings) and as cdk.json may hold them (booleans)', () => {
    const app = testApp({ context: { compliance: 'strict', gatewayCache: 'true', nag: 'off' } });
    expect(sampleAppSettings(app)).toEqual({ compliance: 'strict', gatewayCache: true, nag: 'off' });
    expect(sampleAppSettings(testApp({ context: { gatewayCache: true } })).gatewayCache).toBe(true);
    expect(sampleAppSettings(testApp({ context: { gatewayCache: 'false' } })).gatewayCache).toBe(false);
  });

  test.each([
    ['compliance', 'hipaa', /context compliance: unknown value "hipaa"; allowed: standard, strict/],
    ['nag', 'none', /context nag: unknown value "none"; allowed: all, off/],
    ['gatewayCache', 'yes', /context gatewayCache: unknown value "yes"; allowed: true, false/],
  ])('-c %s=%s is refused, naming the allowed values', (name, value, message) => {
    expect(() => sampleAppSettings(testApp({ context: { [name]: value } }))).toThrow(message);
  });

  test('the settings reach the stacks: strict reserves concurrency, gatewayCache turns on the stage cache', () => {
    const app = testApp();
    const [catalog] = addSampleStacks(app, { compliance: 'strict', gatewayCache: true, nag: 'all' });
    const template = Template.fromStack(catalog);
    // The route handlers (CDK's own custom-resource provider is not the kit's to size).
    const routeFunctions = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => /^Api(Get|Put|Delete)\w+Function/.test(id));
    expect(routeFunctions.length).toBeGreaterThanOrEqual(5);
    for (const [, f] of routeFunctions) expect((f as { Properties: { ReservedConcurrentExecutions?: unknown } }).Properties.ReservedConcurrentExecutions).toEqual(expect.any(Number));
    template.hasResourceProperties('AWS::ApiGateway::Stage', { CacheClusterEnabled: true });

    const [standard] = addSampleStacks(testApp(), { compliance: 'standard', gatewayCache: false, nag: 'all' });
    const standardTemplate = Template.fromStack(standard);
    expect(Object.values(standardTemplate.findResources('AWS::Lambda::Function')).some((f) => (f as { Properties: Record<string, unknown> }).Properties.ReservedConcurrentExecutions !== undefined)).toBe(false);
    expect(Object.values(standardTemplate.findResources('AWS::ApiGateway::Stage')).every((s) => (s as { Properties: Record<string, unknown> }).Properties.CacheClusterEnabled !== true)).toBe(true);
  });
});
