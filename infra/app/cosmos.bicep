// Cosmos DB (NoSQL): serverless by default, provisioned autoscale by parameter. Key auth is
// off (the app and people use Entra ID data-plane roles), so the app cannot create the
// database or containers: they are declared here, with the partition keys the app expects.
param name string
param location string
param tags object

@allowed([
  'serverless'
  'autoscale'
])
param capacityMode string = 'serverless'

@minValue(1000)
param autoscaleMaxThroughput int = 1000

param appPrincipalId string

@description('Log Analytics workspace that receives the data-plane and control-plane logs.')
param workspaceId string
param databaseName string = 'desk'

// Cosmos DB Built-in Data Contributor (data plane: read and write items, no account changes).
var dataContributor = '00000000-0000-0000-0000-000000000002'

var serverlessCapabilities = [
  {
    name: 'EnableServerless'
  }
]
var autoscaleOptions = {
  autoscaleSettings: {
    maxThroughput: autoscaleMaxThroughput
  }
}
var isServerless = capacityMode == 'serverless'

// Every query the app makes filters on equalities (always `type`, then fields) and orders by
// `id` (keyset paging): a composite index per combination serves it without a scan.
// tests/infra/test_bicep.py checks that each filter in `shared/` has its index here.
var deskComposites = [
  [
    {
      path: '/type'
      order: 'ascending'
    }
    {
      path: '/status'
      order: 'ascending'
    }
    {
      path: '/id'
      order: 'ascending'
    }
  ]
  [
    {
      path: '/type'
      order: 'ascending'
    }
    {
      path: '/status'
      order: 'ascending'
    }
    {
      path: '/urgent'
      order: 'ascending'
    }
    {
      path: '/id'
      order: 'ascending'
    }
  ]
  [
    {
      path: '/type'
      order: 'ascending'
    }
    {
      path: '/status'
      order: 'ascending'
    }
    {
      path: '/holder'
      order: 'ascending'
    }
    {
      path: '/id'
      order: 'ascending'
    }
  ]
  [
    {
      path: '/type'
      order: 'ascending'
    }
    {
      path: '/status'
      order: 'ascending'
    }
    {
      path: '/textErased'
      order: 'ascending'
    }
    {
      path: '/id'
      order: 'ascending'
    }
  ]
  [
    {
      path: '/type'
      order: 'ascending'
    }
    {
      path: '/userId'
      order: 'ascending'
    }
    {
      path: '/id'
      order: 'ascending'
    }
  ]
  [
    {
      path: '/type'
      order: 'ascending'
    }
    {
      path: '/userId'
      order: 'ascending'
    }
    {
      path: '/status'
      order: 'ascending'
    }
    {
      path: '/id'
      order: 'ascending'
    }
  ]
  [
    {
      path: '/type'
      order: 'ascending'
    }
    {
      path: '/reference'
      order: 'ascending'
    }
    {
      path: '/id'
      order: 'ascending'
    }
  ]
  [
    {
      path: '/type'
      order: 'ascending'
    }
    {
      path: '/urgent'
      order: 'ascending'
    }
    {
      path: '/id'
      order: 'ascending'
    }
  ]
  [
    {
      path: '/type'
      order: 'ascending'
    }
    {
      path: '/sessionId'
      order: 'ascending'
    }
    {
      path: '/id'
      order: 'ascending'
    }
  ]
  [
    {
      path: '/type'
      order: 'ascending'
    }
    {
      path: '/sent'
      order: 'ascending'
    }
    {
      path: '/id'
      order: 'ascending'
    }
  ]
  [
    {
      path: '/type'
      order: 'ascending'
    }
    {
      path: '/purged'
      order: 'ascending'
    }
    {
      path: '/id'
      order: 'ascending'
    }
  ]
  [
    {
      path: '/type'
      order: 'ascending'
    }
    {
      path: '/userKey'
      order: 'ascending'
    }
    {
      path: '/id'
      order: 'ascending'
    }
  ]
]
var userComposites = [
  [
    {
      path: '/type'
      order: 'ascending'
    }
    {
      path: '/sessionId'
      order: 'ascending'
    }
    {
      path: '/id'
      order: 'ascending'
    }
  ]
  [
    {
      path: '/type'
      order: 'ascending'
    }
    {
      path: '/sessionId'
      order: 'ascending'
    }
    {
      path: '/role'
      order: 'ascending'
    }
    {
      path: '/id'
      order: 'ascending'
    }
  ]
  [
    {
      path: '/type'
      order: 'ascending'
    }
    {
      path: '/role'
      order: 'ascending'
    }
    {
      path: '/id'
      order: 'ascending'
    }
  ]
  [
    {
      path: '/type'
      order: 'ascending'
    }
    {
      path: '/lineMessageId'
      order: 'ascending'
    }
    {
      path: '/id'
      order: 'ascending'
    }
  ]
]

// Message text and other long, never-queried fields stay out of the index: smaller writes
// (fewer RU) and no index over what users wrote. Queried fields (type, status, ids, dates)
// stay indexed through `/*`.
var excludedPaths = [
  {
    path: '/"_etag"/?'
  }
  {
    path: '/text/?'
  }
  {
    path: '/reason/?'
  }
  {
    path: '/details/*'
  }
  {
    path: '/deliveryDetail/?'
  }
  {
    path: '/statusNotice/*'
  }
  {
    path: '/message/?'
  }
  {
    path: '/textSha256/?'
  }
  {
    path: '/url/?'
  }
]

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    capabilities: isServerless ? serverlessCapabilities : []
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
    enableAutomaticFailover: false
    enableMultipleWriteLocations: false
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        tier: 'Continuous7Days'
      }
    }
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
    options: isServerless ? {} : autoscaleOptions
  }
}

// Everything one LINE user owns, partitioned by the user: a point read for their state, one
// logical partition to erase. TTL on with no default: only documents with `ttl` expire.
resource users 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: 'users'
  properties: {
    resource: {
      id: 'users'
      partitionKey: {
        paths: [
          '/userId'
        ]
        kind: 'Hash'
        version: 2
      }
      defaultTtl: -1
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/*'
          }
        ]
        excludedPaths: excludedPaths
        compositeIndexes: userComposites
      }
    }
  }
}

// Desk-wide records (sessions queue, policies, service status, flags, audit, statistics).
resource desk 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: 'desk'
  properties: {
    resource: {
      id: 'desk'
      partitionKey: {
        paths: [
          '/pk'
        ]
        kind: 'Hash'
        version: 2
      }
      defaultTtl: -1
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/*'
          }
        ]
        excludedPaths: excludedPaths
        compositeIndexes: deskComposites
      }
    }
  }
}

resource appDataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: account
  name: guid(account.id, appPrincipalId, dataContributor)
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${dataContributor}'
    principalId: appPrincipalId
    // The desk's database only, not the account (least privilege: another database on the
    // account stays out of the app's reach).
    scope: '${account.id}/dbs/${database.name}'
  }
}

// Resource logs to the Log Analytics workspace (kept as long as the workspace keeps them).
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: account
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'DataPlaneRequests'
        enabled: true
      }
      {
        category: 'ControlPlaneRequests'
        enabled: true
      }
    ]
  }
}

output id string = account.id
output name string = account.name
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
