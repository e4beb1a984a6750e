/**
 * Architecture picture of a synthesized stack: `npm run diagram [-- <template.json> [<out.svg>]]`
 * (defaults: cdk.out/CatalogStack.template.json, docs/architecture.svg).
 *
 * Everything is read from the CloudFormation template, so the picture shows what is deployed
 * and works for any stack: viewer → CloudFront → API Gateway → one box per route function (the
 * route key from its ROUTE_KEY variable) → the data stores each function may use (its role's
 * policies, and the cache endpoint or distribution id in its environment), and the purge paths
 * (table stream → stream functions → cache / CloudFront, failed batches → queue). Rendered with
 * @viz-js/viz (Graphviz compiled to WebAssembly): no system binary.
 */
import * as fs from 'fs';
import * as path from 'path';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A CloudFormation template, as far as the picture reads it. */
export interface CfnTemplate {
  readonly Description?: string;
  readonly Resources: Record<string, { readonly Type: string; readonly Properties?: Json }>;
}

export type NodeKind = 'viewer' | 'cdn' | 'waf' | 'api' | 'route' | 'function' | 'table' | 'stream' | 'cache' | 'queue';

export interface DiagramNode {
  readonly id: string;
  readonly kind: NodeKind;
  /** Lines of the label; the first is the name. */
  readonly label: string[];
  /** Placed inside the VPC box. */
  readonly inVpc?: boolean;
}

export interface DiagramEdge {
  readonly from: string;
  readonly to: string;
  readonly label?: string;
  /** `request`: serving a request; `purge`: keeping caches in sync with the table; `attach`: decoration. */
  readonly path: 'request' | 'purge' | 'attach';
}

export interface ArchitectureModel {
  readonly title: string;
  readonly nodes: DiagramNode[];
  readonly edges: DiagramEdge[];
}

const CACHE_TYPES = new Set(['AWS::ElastiCache::ServerlessCache', 'AWS::ElastiCache::ReplicationGroup', 'AWS::ElastiCache::CacheCluster']);
const TABLE_TYPES = new Set(['AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable']);

/**
 * Logical ids referenced anywhere in `value` (Ref, Fn::GetAtt, Fn::Sub). `skipAttribute` leaves
 * out references through matching attributes (e.g. a table's `StreamArn`).
 */
export function referencedIds(value: Json, out: Set<string> = new Set(), skipAttribute?: RegExp): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencedIds(item, out, skipAttribute);
  } else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string' && !inner.startsWith('AWS::')) out.add(inner);
      else if (key === 'Fn::GetAtt') {
        const [id, attribute] = Array.isArray(inner) ? [String(inner[0]), String(inner[1])] : String(inner).split(/\.(.*)/);
        if (!skipAttribute?.test(attribute ?? '')) out.add(id);
      } else if (key === 'Fn::Sub') {
        const text = Array.isArray(inner) ? inner[0] : inner;
        for (const match of String(text).matchAll(/\$\{([A-Za-z0-9]+)(?:\.([^}]*))?\}/g)) {
          if (!skipAttribute?.test(match[2] ?? '')) out.add(match[1]);
        }
        if (Array.isArray(inner)) referencedIds(inner[1], out, skipAttribute);
      } else referencedIds(inner, out, skipAttribute);
    }
  }
  return out;
}

/** A logical id without CDK's 8-hex-digit hash, for display. */
function displayName(logicalId: string): string {
  return logicalId.replace(/[0-9A-F]{8}$/, '') || logicalId;
}

/** What a function may do to each resource its role's policies name: resource id → actions. */
function policyActions(template: CfnTemplate, roleId: string | undefined): Map<string, Set<string>> {
  const actions = new Map<string, Set<string>>();
  if (!roleId) return actions;
  const statements: Json[] = [];
  const role = template.Resources[roleId];
  for (const policy of role?.Properties?.Policies ?? []) statements.push(...(policy.PolicyDocument?.Statement ?? []));
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    if (!referencedIds(resource.Properties?.Roles ?? []).has(roleId)) continue;
    statements.push(...(resource.Properties?.PolicyDocument?.Statement ?? []));
  }
  for (const statement of statements) {
    if (statement.Effect !== 'Allow') continue;
    // Reading a table's stream (stream event sources) is not using the table.
    for (const id of referencedIds(statement.Resource ?? [], new Set(), /Stream/)) {
      const set = actions.get(id) ?? new Set<string>();
      for (const action of [statement.Action].flat()) set.add(String(action));
      actions.set(id, set);
    }
  }
  return actions;
}

/** `read`, `write` or `read/write` from DynamoDB actions. */
function tableAccess(actions: Set<string>): string {
  const verbs = [...actions].filter((a) => a.startsWith('dynamodb:')).map((a) => a.slice('dynamodb:'.length));
  const reads = verbs.some((v) => /^(Get|BatchGet|Query|Scan|ConditionCheck)/.test(v) || v === '*');
  const writes = verbs.some((v) => /^(Put|Update|Delete|BatchWrite|PartiQL(Insert|Update|Delete))/.test(v) || v === '*');
  return reads && writes ? 'read/write' : writes ? 'write' : reads ? 'read' : '';
}

/** `edge 60 s · data 300 s` from a read route's variables (CacheableApi's names), or undefined. */
function cachingSummary(variables: Record<string, Json>): string | undefined {
  const parts: string[] = [];
  const cacheControl = typeof variables.ROUTE_CACHE_CONTROL === 'string' ? variables.ROUTE_CACHE_CONTROL : '';
  const sMaxAge = /^\s*public\b.*\bs-maxage=(\d+)/.exec(cacheControl)?.[1];
  if (sMaxAge) parts.push(`edge ${sMaxAge} s`);
  if (typeof variables.DATA_CACHE_TTL_SECONDS === 'string') parts.push(`data ${variables.DATA_CACHE_TTL_SECONDS} s`);
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

function cacheLabel(type: string, props: Json): string[] {
  const engine = String(props?.Engine ?? '').toLowerCase();
  if (type === 'AWS::ElastiCache::ServerlessCache') {
    return ['ElastiCache Serverless', `${engine || 'cache'}${props?.MajorEngineVersion ? ` ${props.MajorEngineVersion}` : ''}`];
  }
  if (type === 'AWS::ElastiCache::ReplicationGroup') {
    const nodes = props?.NumCacheClusters ?? (props?.NumNodeGroups ? `${props.NumNodeGroups} shards` : undefined);
    return ['ElastiCache replication group', [engine, props?.EngineVersion, nodes !== undefined ? `${nodes} nodes` : undefined].filter(Boolean).join(' ')];
  }
  return ['ElastiCache cluster', [engine, props?.NumCacheNodes ? `${props.NumCacheNodes} nodes` : undefined].filter(Boolean).join(' ')];
}

/** Nodes and edges of what the template deploys. */
export function architectureModel(template: CfnTemplate, title = 'Architecture'): ArchitectureModel {
  const resources = template.Resources ?? {};
  const nodes = new Map<string, DiagramNode>();
  const edges: DiagramEdge[] = [];
  const edgeKeys = new Set<string>();
  const addNode = (node: DiagramNode) => nodes.set(node.id, node);
  const addEdge = (edge: DiagramEdge) => {
    const key = `${edge.from}>${edge.to}>${edge.path}`;
    if (edgeKeys.has(key) || !nodes.has(edge.from) || !nodes.has(edge.to)) return;
    edgeKeys.add(key);
    edges.push(edge);
  };
  const ofType = (...types: string[]) => Object.entries(resources).filter(([, r]) => types.includes(r.Type));

  // Entry points.
  const distributions = ofType('AWS::CloudFront::Distribution');
  const apis = ofType('AWS::ApiGateway::RestApi', 'AWS::ApiGatewayV2::Api');
  if (distributions.length > 0 || apis.length > 0) addNode({ id: 'viewer', kind: 'viewer', label: ['Viewer'] });
  for (const [id, r] of distributions) {
    const behaviors = (r.Properties?.DistributionConfig?.CacheBehaviors ?? []).length + 1;
    addNode({ id, kind: 'cdn', label: ['CloudFront', `${displayName(id)} (${behaviors} behaviors)`] });
    addEdge({ from: 'viewer', to: id, path: 'request', label: 'HTTPS' });
  }
  const stageNames = new Map<string, string[]>();
  for (const [, r] of ofType('AWS::ApiGateway::Stage')) {
    const apiId = [...referencedIds(r.Properties?.RestApiId)][0];
    if (apiId) stageNames.set(apiId, [...(stageNames.get(apiId) ?? []), String(r.Properties?.StageName ?? '')]);
  }
  for (const [id, r] of apis) {
    const name = typeof r.Properties?.Name === 'string' ? r.Properties.Name : displayName(id);
    const stages = stageNames.get(id)?.filter(Boolean);
    addNode({ id, kind: 'api', label: ['API Gateway', `${name}${stages?.length ? ` (stage ${stages.join(', ')})` : ''}`] });
    const fronted = distributions.filter(([, d]) => referencedIds(d.Properties?.DistributionConfig?.Origins ?? []).has(id));
    for (const [cdnId] of fronted) addEdge({ from: cdnId, to: id, path: 'request', label: 'origin' });
    if (fronted.length === 0) addEdge({ from: 'viewer', to: id, path: 'request', label: 'HTTPS' });
  }
  for (const [id, r] of ofType('AWS::WAFv2::WebACLAssociation')) {
    const target = [...referencedIds(r.Properties?.ResourceArn)][0];
    const apiId = target && resources[target]?.Type === 'AWS::ApiGateway::Stage' ? [...referencedIds(resources[target].Properties?.RestApiId)][0] : target;
    if (apiId && nodes.has(apiId)) {
      addNode({ id, kind: 'waf', label: ['WAF web ACL'] });
      addEdge({ from: id, to: apiId, path: 'attach' });
    }
  }

  // Data stores.
  for (const [id, r] of ofType(...TABLE_TYPES)) {
    const stream = r.Properties?.StreamSpecification?.StreamViewType;
    addNode({ id, kind: 'table', label: ['DynamoDB table', typeof r.Properties?.TableName === 'string' ? r.Properties.TableName : displayName(id)] });
    if (stream) {
      addNode({ id: `${id}.stream`, kind: 'stream', label: ['Stream', stream] });
      addEdge({ from: id, to: `${id}.stream`, path: 'purge', label: 'changes' });
    }
  }
  for (const [id, r] of ofType(...CACHE_TYPES)) addNode({ id, kind: 'cache', label: cacheLabel(r.Type, r.Properties), inVpc: true });

  // Functions: a route function has ROUTE_KEY; a stream function has an event source mapping.
  // Others (custom-resource providers and the like) are CloudFormation plumbing: not drawn.
  const mappings = ofType('AWS::Lambda::EventSourceMapping');
  const integrations = new Map<string, string>(); // function id -> api id
  for (const [, r] of ofType('AWS::ApiGateway::Method')) {
    const apiId = [...referencedIds(r.Properties?.RestApiId)][0];
    for (const fnId of referencedIds(r.Properties?.Integration?.Uri ?? {})) if (apiId) integrations.set(fnId, apiId);
  }
  // Queues a function reads (a purge's request or retry queue) are drawn before the functions, so
  // that a function sending to another's queue (the data purge forwarding to the edge purge) links.
  const queueFeeds = new Map<string, Set<string>>(); // queue id -> functions it feeds
  for (const [, m] of mappings) {
    const source = [...referencedIds(m.Properties?.EventSourceArn)][0];
    if (!source || resources[source]?.Type !== 'AWS::SQS::Queue') continue;
    addNode({ id: source, kind: 'queue', label: ['SQS queue', displayName(source)] });
    const fed = queueFeeds.get(source) ?? new Set<string>();
    for (const fnId of referencedIds(m.Properties?.FunctionName)) fed.add(fnId);
    queueFeeds.set(source, fed);
  }
  for (const [id, r] of ofType('AWS::Lambda::Function')) {
    const props = r.Properties ?? {};
    const variables: Record<string, Json> = props.Environment?.Variables ?? {};
    const routeKey = typeof variables.ROUTE_KEY === 'string' ? variables.ROUTE_KEY : undefined;
    const fed = mappings.filter(([, m]) => referencedIds(m.Properties?.FunctionName).has(id));
    if (!routeKey && fed.length === 0 && !integrations.has(id)) continue;
    const size = [props.MemorySize ? `${props.MemorySize} MB` : undefined, (props.Architectures ?? [])[0]].filter(Boolean).join(' ');
    const caching = routeKey?.startsWith('GET ') ? cachingSummary(variables) : undefined;
    addNode({
      id,
      kind: routeKey || integrations.has(id) ? 'route' : 'function',
      label: [routeKey ?? displayName(id), `λ ${size}`.trim(), ...(caching ? [caching] : [])],
      inVpc: props.VpcConfig !== undefined,
    });
    const purging = fed.length > 0 && !routeKey;
    const apiId = integrations.get(id) ?? (routeKey && apis.length === 1 ? apis[0][0] : undefined);
    if (apiId) addEdge({ from: apiId, to: id, path: 'request' });

    for (const [, m] of fed) {
      const source = [...referencedIds(m.Properties?.EventSourceArn)][0];
      const from = source && nodes.has(`${source}.stream`) ? `${source}.stream` : source;
      if (from && !nodes.has(from) && resources[from]) addNode({ id: from, kind: 'queue', label: [resources[from].Type.split('::')[1], displayName(from)] });
      if (from) addEdge({ from, to: id, path: 'purge', label: m.Properties?.BatchSize ? `batches of ${m.Properties.BatchSize}` : undefined });
      const failures = [...referencedIds(m.Properties?.DestinationConfig?.OnFailure?.Destination ?? {})][0];
      if (failures && resources[failures]) {
        addNode({ id: failures, kind: 'queue', label: ['SQS queue', `${displayName(failures)}`] });
        addEdge({ from: id, to: failures, path: 'purge', label: 'failed batches' });
      }
    }

    // What the function reaches: its role's grants, and caches or distributions in its environment.
    const roleId = [...referencedIds(props.Role ?? {})][0];
    const grants = policyActions({ Resources: resources }, roleId);
    const envRefs = referencedIds(variables);
    const path = purging ? 'purge' : 'request';
    for (const [targetId, target] of Object.entries(resources)) {
      const granted = grants.get(targetId);
      if (TABLE_TYPES.has(target.Type) && granted) {
        addEdge({ from: id, to: targetId, path, label: tableAccess(granted) || undefined });
      } else if (CACHE_TYPES.has(target.Type) && (granted || envRefs.has(targetId))) {
        addEdge({ from: id, to: targetId, path, label: purging ? 'delete keys' : 'cache-aside' });
      } else if (target.Type === 'AWS::CloudFront::Distribution' && (envRefs.has(targetId) || granted?.has('cloudfront:CreateInvalidation'))) {
        addEdge({ from: id, to: targetId, path: 'purge', label: 'invalidate' });
      } else if (queueFeeds.has(targetId) && granted?.has('sqs:SendMessage')) {
        // Another function's queue: a hand-over (after its own purge); its own: a retry later.
        addEdge({ from: id, to: targetId, path: 'purge', label: queueFeeds.get(targetId)!.has(id) ? 'retry later' : 'then' });
      }
    }
  }

  return { title, nodes: [...nodes.values()], edges };
}

const STYLE: Record<NodeKind, { fill: string; stroke: string; shape: string }> = {
  viewer: { fill: '#ffffff', stroke: '#555555', shape: 'oval' },
  cdn: { fill: '#efe6fb', stroke: '#8c4fff', shape: 'box' },
  waf: { fill: '#fdecea', stroke: '#dd344c', shape: 'note' },
  api: { fill: '#fbe6f1', stroke: '#e7157b', shape: 'box' },
  route: { fill: '#fff1e0', stroke: '#ed7100', shape: 'box' },
  function: { fill: '#fff1e0', stroke: '#ed7100', shape: 'box' },
  table: { fill: '#e6effc', stroke: '#3b48cc', shape: 'cylinder' },
  stream: { fill: '#e6effc', stroke: '#3b48cc', shape: 'cds' },
  cache: { fill: '#fde9e6', stroke: '#c7131f', shape: 'cylinder' },
  queue: { fill: '#fbe6f1', stroke: '#e7157b', shape: 'box' },
};

const quote = (text: string) => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const dotId = (id: string) => quote(id);
const label = (lines: string[]) => quote(lines.join('\n')).replace(/\n/g, '\\n');

/** The model as a Graphviz DOT graph, left to right: viewer, edge, API, functions, data. */
export function toDot(model: ArchitectureModel): string {
  const out: string[] = [];
  out.push('digraph architecture {');
  out.push('  graph [rankdir=LR, newrank=true, nodesep=0.35, ranksep=0.9, fontname="Helvetica,Arial,sans-serif", fontsize=16, labelloc=t, pad=0.3,');
  out.push(`         label=${quote(`${model.title}\nsolid: request path    dashed: purge path (table stream → caches)`)}];`);
  out.push('  node [fontname="Helvetica,Arial,sans-serif", fontsize=11, style="rounded,filled", penwidth=1.4, margin="0.15,0.06"];');
  out.push('  edge [fontname="Helvetica,Arial,sans-serif", fontsize=9, color="#444444", fontcolor="#444444", arrowsize=0.7];');
  const nodeLine = (n: DiagramNode, indent: string) => {
    const s = STYLE[n.kind];
    const style = n.kind === 'viewer' ? 'filled' : s.shape === 'box' ? 'rounded,filled' : 'filled';
    return `${indent}${dotId(n.id)} [label=${label(n.label)}, shape=${s.shape}, style="${style}", fillcolor="${s.fill}", color="${s.stroke}"];`;
  };
  const vpcNodes = model.nodes.filter((n) => n.inVpc);
  for (const n of model.nodes.filter((x) => !x.inVpc)) out.push(nodeLine(n, '  '));
  if (vpcNodes.length > 0) {
    out.push('  subgraph cluster_vpc {');
    out.push('    label="VPC"; style="dashed,rounded"; color="#7aa116"; fontcolor="#7aa116"; fontsize=12;');
    for (const n of vpcNodes) out.push(nodeLine(n, '    '));
    out.push('  }');
  }
  // Route functions share a rank so they line up in one column.
  const routes = model.nodes.filter((n) => n.kind === 'route');
  if (routes.length > 1) out.push(`  { rank=same; ${routes.map((n) => dotId(n.id)).join('; ')}; }`);
  const kinds = new Map(model.nodes.map((n) => [n.id, n.kind]));
  for (const e of model.edges) {
    const attrs: string[] = [];
    if (e.label) attrs.push(`label=${quote(e.label)}`);
    if (e.path === 'purge') attrs.push('style=dashed', 'color="#d45b07"', 'fontcolor="#d45b07"');
    if (e.path === 'attach') attrs.push('style=dotted', 'arrowhead=none');
    // A purge that reaches back to the edge must not pull CloudFront to the right of the functions.
    if (e.path === 'purge' && kinds.get(e.to) === 'cdn') attrs.push('constraint=false');
    out.push(`  ${dotId(e.from)} -> ${dotId(e.to)}${attrs.length ? ` [${attrs.join(', ')}]` : ''};`);
  }
  out.push('}');
  return out.join('\n') + '\n';
}

/** Renders DOT to SVG with Graphviz compiled to WebAssembly. */
export async function renderSvg(dot: string): Promise<string> {
  const { instance } = require('@viz-js/viz') as typeof import('@viz-js/viz');
  const viz = await instance();
  return viz.renderString(dot, { format: 'svg' });
}

/** The SVG picture of a template. */
export async function diagramSvg(template: CfnTemplate, title?: string): Promise<string> {
  return renderSvg(toDot(architectureModel(template, title)));
}

/** CLI: `diagram [template] [out]`. Returns the path written. */
export async function main(argv: string[] = process.argv.slice(2), cwd = process.cwd()): Promise<string> {
  const [templateArg, outArg] = argv.filter((a) => !a.startsWith('--'));
  const templatePath = path.resolve(cwd, templateArg ?? path.join('cdk.out', 'CatalogStack.template.json'));
  const outPath = path.resolve(cwd, outArg ?? path.join('docs', 'architecture.svg'));
  if (!fs.existsSync(templatePath)) {
    throw new Error(`${templatePath} not found: synthesize first (npm run synth) or pass a template path`);
  }
  const template = JSON.parse(fs.readFileSync(templatePath, 'utf8')) as CfnTemplate;
  const stackName = path.basename(templatePath).replace(/\.template\.json$/, '');
  const model = architectureModel(template, `${stackName}: what is deployed`);
  const svg = await renderSvg(toDot(model));
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  fs.writeFileSync(outPath, svg);
  const count = (kind: NodeKind) => model.nodes.filter((n) => n.kind === kind).length;
  console.log(
    `${path.relative(cwd, outPath)}: ${count('route')} route functions, ${count('function')} stream functions, ` +
      `${count('cache')} caches, ${count('table')} tables, ${count('cdn')} distributions, ${model.edges.length} edges`,
  );
  return outPath;
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
