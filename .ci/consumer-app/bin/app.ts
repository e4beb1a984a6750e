#!/usr/bin/env node
import * as cdk from 'aws-cdk-lib/core';
import { ConsumerStack } from '../lib/consumer-stack';

const app = new cdk.App();
// Environment-specific: the data caches' VPCs must synthesize without a context lookup.
new ConsumerStack(app, 'ConsumerStack', { env: { account: '123456789012', region: 'eu-west-1' } });
