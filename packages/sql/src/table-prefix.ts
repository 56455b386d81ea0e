// Tessera's tables beside an application's in one database (docs: packages/sqlite/README.md#one-transaction-with-your-application).
import {
  IdentifierNode,
  OperationNodeTransformer,
  type CreateIndexNode,
  type DropIndexNode,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type SchemableIdentifierNode,
  type UnknownRow,
} from 'kysely';
import type { Database } from './schema.js';

// A record over the schema's keys, so that a table added to `Database` and not here fails to compile.
const EVERY_TABLE: Record<keyof Database, true> = {
  catalog_versions: true,
  customers: true,
  subscriptions: true,
  usage: true,
  usage_distinct: true,
  events: true,
  event_keys: true,
  event_keys_state: true,
  reservations: true,
  idempotency: true,
  changes: true,
  invoices: true,
  promotional_grants: true,
  entitlement_overrides: true,
  credit_grants: true,
  credit_ledger: true,
  recharge_configs: true,
  provider_calls: true,
  entities: true,
  schema_migrations: true,
};

/** Every table Tessera creates: only these names are prefixed, so aliases and `excluded.x` are left alone. */
export const TABLES = Object.keys(EVERY_TABLE) as (keyof Database)[];

const TABLE_NAMES = new Set<string>(TABLES);

/** Longest prefix accepted; letters, digits and `_`, starting with a letter (a bare SQL identifier). */
export const TABLE_PREFIX_PATTERN = /^(?:[A-Za-z][A-Za-z0-9_]{0,29})?$/;

class PrefixTransformer extends OperationNodeTransformer {
  constructor(private readonly prefix: string) {
    super();
  }

  protected override transformSchemableIdentifier(node: SchemableIdentifierNode, queryId?: PluginTransformQueryArgs['queryId']): SchemableIdentifierNode {
    const t = super.transformSchemableIdentifier(node, queryId);
    if (!TABLE_NAMES.has(t.identifier.name)) return t;
    return { ...t, identifier: IdentifierNode.create(this.prefix + t.identifier.name) };
  }

  // Index names share the database's namespace with the application's: every index is Tessera's.
  protected override transformCreateIndex(node: CreateIndexNode, queryId?: PluginTransformQueryArgs['queryId']): CreateIndexNode {
    const t = super.transformCreateIndex(node, queryId);
    return { ...t, name: IdentifierNode.create(this.prefix + t.name.name) };
  }

  protected override transformDropIndex(node: DropIndexNode, queryId?: PluginTransformQueryArgs['queryId']): DropIndexNode {
    const t = super.transformDropIndex(node, queryId);
    return { ...t, name: { ...t.name, identifier: IdentifierNode.create(this.prefix + node.name.identifier.name) } };
  }
}

/**
 * A kysely plugin that writes every Tessera table and index name with `prefix` in front
 * (`usage` -> `tessera_usage`), so that every statement and migration, built once against the
 * unprefixed schema, runs on prefixed tables. The empty prefix changes nothing.
 */
export class TablePrefixPlugin implements KyselyPlugin {
  private readonly transformer: PrefixTransformer;

  constructor(readonly prefix: string) {
    this.transformer = new PrefixTransformer(prefix);
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.prefix === '' ? args.node : this.transformer.transformNode(args.node, args.queryId);
  }

  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(args.result);
  }
}
