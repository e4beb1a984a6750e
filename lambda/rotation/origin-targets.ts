/**
 * The two places the origin-verify value lives outside Secrets Manager: the regional web ACL's
 * allow rule (the values the origin accepts) and the CloudFront origin's custom header (the
 * value CloudFront sends).
 */
import { CloudFrontClient, GetDistributionConfigCommand, UpdateDistributionCommand } from '@aws-sdk/client-cloudfront';
import { WafClient, WafError } from './waf-client';

/** Attempts of a read-modify-write that lost a race (lock token / ETag changed meanwhile). */
const ATTEMPTS = 4;

/** The web ACL rule that allows requests carrying an accepted value of one header. */
export interface WebAclRuleRef {
  readonly name: string;
  readonly id: string;
  readonly scope: 'REGIONAL' | 'CLOUDFRONT';
  readonly ruleName: string;
  readonly headerName: string;
}

/** Fields of GetWebACL's WebACL that UpdateWebACL takes back (everything it would reset). */
const UPDATABLE_FIELDS = [
  'DefaultAction',
  'Description',
  'Rules',
  'VisibilityConfig',
  'DataProtectionConfig',
  'CustomResponseBodies',
  'CaptchaConfig',
  'ChallengeConfig',
  'TokenDomains',
  'AssociationConfig',
  'OnSourceDDoSProtectionConfig',
  'ApplicationConfig',
] as const;

type Json = Record<string, unknown>;

export class WebAclAllowRule {
  constructor(
    private readonly waf: WafClient,
    private readonly ref: WebAclRuleRef,
  ) {}

  /** The values the rule accepts now (its byte-match strings). */
  async acceptedValues(): Promise<string[]> {
    const { webAcl } = await this.read();
    return searchStrings(this.rule(webAcl).Statement as Json);
  }

  /** Makes the rule accept exactly `values` (in that order). */
  async accept(values: string[]): Promise<void> {
    await retryOnRace('WAFOptimisticLockException', async () => {
      const { webAcl, lockToken } = await this.read();
      const rules = (webAcl.Rules as Json[]).map((rule) =>
        rule.Name === this.ref.ruleName ? { ...rule, Statement: this.statement(values) } : rule,
      );
      this.rule(webAcl); // throws when the rule is gone
      const update: Json = { Name: this.ref.name, Scope: this.ref.scope, Id: this.ref.id, LockToken: lockToken };
      for (const field of UPDATABLE_FIELDS) {
        const value = webAcl[field];
        // WAF rejects an empty description; null means "not set" in GetWebACL answers.
        if (value !== undefined && value !== null && value !== '') update[field] = value;
      }
      update.Rules = rules;
      await this.waf.call('UpdateWebACL', update);
    });
  }

  private async read(): Promise<{ webAcl: Json; lockToken: string }> {
    const answer = await this.waf.call<{ WebACL: Json; LockToken: string }>('GetWebACL', {
      Name: this.ref.name,
      Scope: this.ref.scope,
      Id: this.ref.id,
    });
    return { webAcl: answer.WebACL, lockToken: answer.LockToken };
  }

  private rule(webAcl: Json): Json {
    const rule = (webAcl.Rules as Json[] | undefined)?.find((r) => r.Name === this.ref.ruleName);
    if (!rule) throw new Error(`web ACL ${this.ref.name} has no rule ${this.ref.ruleName}`);
    return rule;
  }

  private statement(values: string[]): Json {
    const matches = values.map((value) => ({
      ByteMatchStatement: {
        FieldToMatch: { SingleHeader: { Name: this.ref.headerName } },
        PositionalConstraint: 'EXACTLY',
        // A blob in WAF's JSON protocol: base64 on the wire.
        SearchString: Buffer.from(value, 'utf8').toString('base64'),
        TextTransformations: [{ Priority: 0, Type: 'NONE' }],
      },
    }));
    if (matches.length === 0) throw new Error('the allow rule must accept at least one value');
    return matches.length === 1 ? matches[0] : { OrStatement: { Statements: matches } };
  }
}

function searchStrings(statement: Json): string[] {
  if (statement.OrStatement) return ((statement.OrStatement as Json).Statements as Json[]).flatMap(searchStrings);
  const match = statement.ByteMatchStatement as Json | undefined;
  if (!match) return [];
  return [Buffer.from(String(match.SearchString), 'base64').toString('utf8')];
}

/** The custom header CloudFront adds to the API origin's requests. */
export class DistributionOriginHeader {
  constructor(
    private readonly cloudFront: CloudFrontClient,
    private readonly distributionId: string,
    private readonly headerName: string,
  ) {}

  /** The value CloudFront is configured to send (undefined when no origin has the header). */
  async sentValue(): Promise<string | undefined> {
    const { DistributionConfig } = await this.cloudFront.send(new GetDistributionConfigCommand({ Id: this.distributionId }));
    return this.headersOf(DistributionConfig?.Origins?.Items ?? [])[0]?.HeaderValue;
  }

  /** Configures every origin that carries the header to send `value`. */
  async send(value: string): Promise<void> {
    await retryOnRace('PreconditionFailed', async () => {
      const { DistributionConfig: config, ETag } = await this.cloudFront.send(new GetDistributionConfigCommand({ Id: this.distributionId }));
      if (!config) throw new Error(`distribution ${this.distributionId} has no configuration`);
      const headers = this.headersOf(config.Origins?.Items ?? []);
      if (headers.length === 0) throw new Error(`no origin of distribution ${this.distributionId} sends the ${this.headerName} header`);
      if (headers.every((h) => h.HeaderValue === value)) return;
      for (const header of headers) header.HeaderValue = value;
      await this.cloudFront.send(new UpdateDistributionCommand({ Id: this.distributionId, IfMatch: ETag, DistributionConfig: config }));
    });
  }

  private headersOf(origins: { CustomHeaders?: { Items?: { HeaderName?: string; HeaderValue?: string }[] } }[]) {
    const name = this.headerName.toLowerCase();
    return origins.flatMap((o) => o.CustomHeaders?.Items ?? []).filter((h) => h.HeaderName?.toLowerCase() === name);
  }
}

async function retryOnRace(errorName: string, attempt: () => Promise<void>): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      const name = error instanceof WafError ? error.type : (error as { name?: string }).name;
      if (name !== errorName || i >= ATTEMPTS) throw error;
    }
  }
}
