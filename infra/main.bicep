// The desk on Azure: one resource group with the Function App (Flex Consumption), its
// identity, host storage, Cosmos DB, Key Vault, Log Analytics + Application Insights and alerts.
// Every resource is declared in this folder (no registry modules): see infra/README.md.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names and tags derive from it.')
param environmentName string

@minLength(1)
@description('Azure region of every resource (one with Flex Consumption, e.g. japaneast).')
param location string

@allowed([
  'prod'
  'sandbox'
])
@description('prod (the default): what a prefecture runs, Key Vault purge protection on. sandbox: a developer\'s, which can be deleted and its names reused.')
param environmentKind string = 'prod'

@minValue(30)
@maxValue(730)
@description('Days Log Analytics keeps resource logs (Key Vault, Cosmos DB, the Function App) and telemetry.')
param logRetentionDays int = 365

@description('Object id of the deployer (azd sets it): Key Vault Secrets Officer, so the postprovision hook can put the secrets in.')
param principalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
])
@description('Kind of principal principalId names.')
param principalType string = 'User'

@description('Instance memory of the Flex plan in MB (512, 2048 or 4096).')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@minValue(40)
@maxValue(1000)
@description('Most instances the Flex plan may scale out to (40 is the lowest allowed).')
param maximumInstanceCount int = 40

@minValue(0)
@maxValue(10)
@description('Always-ready instances for the http group: LINE allows 1-2 s per webhook call and a cold start takes longer. Billed continuously.')
param alwaysReadyHttpInstances int = 1

@minValue(1)
@maxValue(1000)
@description('HTTP requests one instance takes at once before Flex scales out.')
param httpPerInstanceConcurrency int = 16

@allowed([
  'serverless'
  'autoscale'
])
@description('Cosmos DB capacity: serverless (the desk scale) or provisioned autoscale.')
param cosmosCapacityMode string = 'serverless'

@minValue(1000)
@description('Autoscale maximum RU/s of the database (autoscale mode only).')
param cosmosAutoscaleMaxThroughput int = 1000

@description('Client id of the Microsoft Entra app registration that signs staff in (App Service authentication). See README "Deploy".')
param authClientId string

@description('Tenant of that app registration (defaults to the subscription tenant).')
param authTenantId string = tenant().tenantId

@description('Where the full operations policy is published (DESK_POLICY_URL).')
param deskPolicyUrl string = 'https://www.pref.chiba.lg.jp/'

@description('The operator\'s contact for users (DESK_CONTACT: post, phone). Required: the app refuses to start without it.')
param deskContact string

@description('Post crisis alerts to the incoming webhook stored in Key Vault as DESK-ALERT-WEBHOOK-URL (store the secret first).')
param deskAlertWebhook bool = false

@description('E-mail address that receives the alerts (empty: alerts fire without notifications).')
param alertEmail string = ''

var tags = {
  'azd-env-name': environmentName
}
var production = environmentKind == 'prod'
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var functionAppName = 'func-desk-${resourceToken}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-desk-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-desk-${resourceToken}'
    appInsightsName: 'appi-desk-${resourceToken}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
    retentionInDays: logRetentionDays
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'stdesk${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: 'app-package-${take(functionAppName, 32)}'
    appPrincipalId: identity.outputs.principalId
  }
}

module cosmos 'app/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    name: 'cosmos-desk-${resourceToken}'
    location: location
    tags: tags
    capacityMode: cosmosCapacityMode
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    appPrincipalId: identity.outputs.principalId
    workspaceId: monitoring.outputs.workspaceId
  }
}

module vault 'app/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-desk-${resourceToken}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
    purgeProtection: production
    workspaceId: monitoring.outputs.workspaceId
  }
}

module function 'app/function.bicep' = {
  name: 'function'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-desk-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    keyVaultUri: vault.outputs.uri
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    authClientId: authClientId
    authTenantId: authTenantId
    deskPolicyUrl: deskPolicyUrl
    deskAlertWebhook: deskAlertWebhook
    deskContact: deskContact
    workspaceId: monitoring.outputs.workspaceId
  }
}

module alerts 'app/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    namePrefix: 'desk-${resourceToken}'
    appInsightsId: monitoring.outputs.appInsightsId
    cosmosAccountId: cosmos.outputs.id
    alertEmail: alertEmail
    workspaceId: monitoring.outputs.workspaceId
    appPrincipalId: identity.outputs.principalId
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = function.outputs.name
output SERVICE_API_NAME string = function.outputs.name
output SERVICE_API_URI string = function.outputs.uri
output AZURE_KEY_VAULT_NAME string = vault.outputs.name
output AZURE_KEY_VAULT_ENDPOINT string = vault.outputs.uri
output AZURE_COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.appInsightsName
