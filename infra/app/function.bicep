// The Function App on the Flex Consumption plan (FC1): Python 3.11, identity-based host
// storage, Key Vault references, Application Insights by identity, App Service authentication.
// Settings Flex refuses (FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION,
// WEBSITE_RUN_FROM_PACKAGE, content-share settings, WEBSITE_TIME_ZONE, TZ, alwaysOn,
// linuxFxVersion) are deliberately absent: the runtime is functionAppConfig.runtime.
param name string
param planName string
param location string
param tags object
param identityId string
param identityClientId string
param storageBlobEndpoint string
param deploymentContainerName string
param appInsightsConnectionString string
param cosmosEndpoint string
param cosmosDatabaseName string
param keyVaultUri string

@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@minValue(40)
param maximumInstanceCount int = 40

@minValue(0)
param alwaysReadyHttpInstances int = 1

@minValue(1)
param httpPerInstanceConcurrency int = 16

param authClientId string
param authTenantId string
param deskPolicyUrl string

@description('How users reach the operator (DESK_CONTACT): printed on every 開示 and told to users who ask for their data.')
param deskContact string

@description('Log Analytics workspace that receives the Function App\'s logs.')
param workspaceId string

@description('Post crisis alerts to the incoming webhook kept in Key Vault as DESK-ALERT-WEBHOOK-URL.')
param deskAlertWebhook bool = false

// Timers run in UTC on Flex (WEBSITE_TIME_ZONE is not supported): 03:00 JST is 18:00 UTC.
param housekeepingSchedule string = '0 17 * * * *'
param sessionSweepSchedule string = '0 5 * * * *'
param purgeSchedule string = '0 0 18 * * *'
@description('Retention timer (UTC): 04:00 Japan time')
param retentionSchedule string = '0 0 19 * * *'

// azd finds the service's resource by this tag.
var serviceTag = {
  'azd-service-name': 'api'
}
var siteTags = union(tags, serviceTag)

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: siteTags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertMode: 'Optional'
    // A site property: inside siteConfig it would be silently ignored.
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: [
          {
            name: 'http'
            instanceCount: alwaysReadyHttpInstances
          }
        ]
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// The whole collection is written at once: a setting not listed here is deleted.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    AZURE_CLIENT_ID: identityClientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    PYTHON_ENABLE_WORKER_EXTENSIONS: '1'
    PYTHON_THREADPOOL_THREAD_COUNT: '16'
    // The host refuses a larger body (413) before reading it into the worker: LINE's webhook
    // and the admin API never send more than 1 MB, which the app checks again.
    FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '2097152'
    OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID: identityClientId
    DESK_ENVIRONMENT: 'Production'
    LINE_CHANNEL_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/LINE-CHANNEL-SECRET/)'
    LINE_CHANNEL_ACCESS_TOKEN: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/LINE-CHANNEL-ACCESS-TOKEN/)'
    DESK_HASH_KEY: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/DESK-HASH-KEY/)'
    LINE_API_BASE_URL: 'https://api.line.me'
    LINE_TIMEOUT_SECONDS: '3'
    COSMOS_ENDPOINT: cosmosEndpoint
    COSMOS_DATABASE: cosmosDatabaseName
    DESK_POLICY_URL: deskPolicyUrl
    DESK_CONTACT: deskContact
    // A reference to a secret that does not exist would reach the app as its own text: only
    // when the deployer says the secret is there.
    DESK_ALERT_WEBHOOK_URL: deskAlertWebhook ? '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/DESK-ALERT-WEBHOOK-URL/)' : ''
    DESK_REQUIRE_APP_ROLES: 'true'
    HOUSEKEEPING_SCHEDULE: housekeepingSchedule
    SESSION_SWEEP_SCHEDULE: sessionSweepSchedule
    PURGE_SCHEDULE: purgeSchedule
    RETENTION_SCHEDULE: retentionSchedule
  }
}

// App Service authentication (Microsoft Entra ID). Anonymous requests pass through without a
// principal: the LINE webhook (LINE's signature is its check) and machines calling the admin
// API with a function key and a bearer token. Staff sign in at /.auth/login/aad; the app checks
// the app roles Desk.Expert and Desk.Admin (DESK_REQUIRE_APP_ROLES). The platform strips any
// client-sent X-MS-CLIENT-PRINCIPAL header and sets WEBSITE_AUTH_ENABLED=True. Sign-in uses the
// managed identity as a federated credential of the app registration: no client secret.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
      runtimeVersion: '~1'
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: {
      requireHttps: true
      forwardProxy: {
        convention: 'NoProxy'
      }
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          openIdIssuer: '${environment().authentication.loginEndpoint}${authTenantId}/v2.0'
          clientId: authClientId
          clientSecretSettingName: 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'
        }
        validation: {
          allowedAudiences: [
            'api://${authClientId}'
            authClientId
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: true
      }
    }
  }
}

resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

// Resource logs to the Log Analytics workspace (kept as long as the workspace keeps them).
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: site
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'FunctionAppLogs'
        enabled: true
      }
    ]
  }
}

output id string = site.id
output name string = site.name
output uri string = 'https://${site.properties.defaultHostName}'
