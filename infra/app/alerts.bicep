// Alerts as code. Log alerts query Application Insights (the desk's log lines carry counts,
// event types and keyed hashes, never personal data); the throttling alert reads Cosmos DB's
// platform metric. Every alert goes to one action group (e-mail when alertEmail is set).
param location string
param tags object
param namePrefix string
param appInsightsId string
param cosmosAccountId string
param alertEmail string = ''

@description('Log Analytics workspace holding the resource logs (Key Vault AuditEvent).')
param workspaceId string

@description('Object id of the app\'s identity: the only reader of secrets not alerted on.')
param appPrincipalId string

@description('Share of webhook calls answered 5xx (503: left for LINE to redeliver) that fires the alert.')
param webhookFailureRatio string = '0.05'

@description('Cosmos DB requests throttled (429) in 5 minutes that fire the alert.')
param cosmosThrottleThreshold int = 10

@description('Share of LINE monthly push quota, in percent, that fires the alert.')
param lineQuotaPercent int = 80

var emailReceivers = [
  {
    name: 'operators'
    emailAddress: alertEmail
    useCommonAlertSchema: true
  }
]

resource operators 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${namePrefix}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'deskops'
    enabled: true
    emailReceivers: empty(alertEmail) ? [] : emailReceivers
  }
}

// name, severity, how often, over what window, the query, and whether it fires when the
// query returns rows (GreaterThan 0) or when it returns none (LessThan 1).
var logRules = [
  {
    name: 'webhook-5xx'
    description: 'The LINE webhook answered 5xx (503: events left for redelivery) for more than the allowed share of calls.'
    severity: 1
    frequency: 'PT5M'
    window: 'PT15M'
    query: 'requests | where name endswith "/api/line/webhook" or operation_Name == "line_webhook" | summarize total = count(), failed = countif(toint(resultCode) >= 500) | where total >= 5 and todouble(failed) / total > ${webhookFailureRatio}'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'event-failed'
    description: 'Webhook events failed (store or LINE down): LINE redelivers them; look for the cause.'
    severity: 2
    frequency: 'PT5M'
    window: 'PT15M'
    query: 'traces | where message startswith "event failed"'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'purge-missing'
    description: 'No purge summary line for 26 hours: the daily purge of suspended users did not run.'
    severity: 2
    frequency: 'PT1H'
    window: 'PT26H'
    query: 'traces | where message startswith "timer purge_suspended examined="'
    operator: 'LessThan'
    threshold: 1
  }
  {
    name: 'line-quota'
    description: 'LINE monthly push quota above ${lineQuotaPercent} percent (housekeeping reads it every hour).'
    severity: 2
    frequency: 'PT1H'
    window: 'PT2H'
    query: 'traces | where message startswith "line quota " | extend percent = todouble(extract("percent=([0-9.]+)", 1, message)) | where percent > ${lineQuotaPercent}'
    operator: 'GreaterThan'
    threshold: 0
  }
]

resource logAlerts 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for rule in logRules: {
  name: 'alert-${namePrefix}-${rule.name}'
  location: location
  tags: tags
  properties: {
    displayName: 'desk: ${rule.name}'
    description: rule.description
    severity: rule.severity
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: rule.frequency
    windowSize: rule.window
    criteria: {
      allOf: [
        {
          query: rule.query
          timeAggregation: 'Count'
          operator: rule.operator
          threshold: rule.threshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        operators.id
      ]
    }
  }
}]

// Anyone but the app reading a secret (a person with Secrets Officer, a leaked credential):
// the vault's AuditEvent logs, in the workspace, name the caller's object id.
resource secretReads 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-${namePrefix}-secret-read'
  location: location
  tags: tags
  properties: {
    displayName: 'desk: secret-read'
    description: 'A Key Vault secret was read by someone other than the app\'s identity.'
    severity: 1
    enabled: true
    scopes: [
      workspaceId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: 'AzureDiagnostics | where ResourceProvider == "MICROSOFT.KEYVAULT" and OperationName == "SecretGet" | extend caller = coalesce(tostring(column_ifexists("identity_claim_oid_g", "")), tostring(column_ifexists("identity_claim_http_schemas_microsoft_com_identity_claims_objectidentifier_g", ""))) | where caller != "${appPrincipalId}"'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        operators.id
      ]
    }
  }
}

resource cosmosThrottling 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'alert-${namePrefix}-cosmos-429'
  location: 'global'
  tags: tags
  properties: {
    description: 'Cosmos DB throttled requests (429): the SDK retries them, but sustained throttling fails webhook events.'
    severity: 2
    enabled: true
    scopes: [
      cosmosAccountId
    ]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'throttled'
          metricNamespace: 'Microsoft.DocumentDB/databaseAccounts'
          metricName: 'TotalRequests'
          dimensions: [
            {
              name: 'StatusCode'
              operator: 'Include'
              values: [
                '429'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: cosmosThrottleThreshold
          timeAggregation: 'Count'
        }
      ]
    }
    autoMitigate: true
    actions: [
      {
        actionGroupId: operators.id
      }
    ]
  }
}
